"""The states of a debt position and the allowed transitions, as data.

`TRANSITIONS` maps (from, to) to the operation that performs it; everything not listed is refused by
`check_transition`. Terminal states: sgravata, prescritta (inesigibile may be revoked when new assets
appear, pagata may be reopened when a payment is reversed, e.g. a pagoPA flow overwritten by the PSP).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from app.engine.errors import TransitionNotAllowed, UnknownState

STATES: Mapping[str, str] = MappingProxyType(
    {
        "caricata": "Caricata",
        "notificata": "Notificata",
        "scaduta": "Scaduta",
        "in_rateazione": "In rateazione",
        "sospesa": "Sospesa",
        "in_procedura": "In procedura",
        "pagata": "Pagata",
        "parzialmente_pagata": "Parzialmente pagata",
        "sgravata": "Sgravata",
        "inesigibile": "Inesigibile",
        "prescritta": "Prescritta",
    }
)

OPERATIONS: Mapping[str, str] = MappingProxyType(
    {
        "notifica": "Notifica dell'atto",
        "scadenza_termine": "Scadenza del termine di pagamento",
        "pagamento": "Pagamento a saldo",
        "pagamento_parziale": "Pagamento parziale",
        "rateazione": "Concessione della rateazione",
        "decadenza": "Decadenza dalla rateazione",
        "sospensione": "Sospensione",
        "revoca_sospensione": "Revoca della sospensione",
        "avvio_procedura": "Avvio di una procedura cautelare o esecutiva",
        "sgravio": "Sgravio totale",
        "dichiarazione_inesigibilita": "Dichiarazione di inesigibilità",
        "revoca_inesigibilita": "Revoca dell'inesigibilità",
        "prescrizione": "Prescrizione",
        "storno_pagamento": "Storno di un pagamento",
        "annullamento_rateazione": "Annullamento della rateazione prima di ogni pagamento",
    }
)


@dataclass(frozen=True, slots=True)
class Transition:
    from_state: str
    to_state: str
    operation: str


def _t(from_state: str, operation: str, *targets: str) -> list[Transition]:
    return [Transition(from_state, to, operation) for to in targets]


_OPEN = ("caricata", "notificata", "scaduta", "parzialmente_pagata", "in_rateazione", "in_procedura")

TRANSITIONS: tuple[Transition, ...] = tuple(
    _t("caricata", "notifica", "notificata")
    + _t("caricata", "pagamento", "pagata")
    + _t("caricata", "pagamento_parziale", "parzialmente_pagata")
    + _t("caricata", "sospensione", "sospesa")
    + _t("caricata", "sgravio", "sgravata")
    + _t("caricata", "prescrizione", "prescritta")
    + _t("notificata", "scadenza_termine", "scaduta")
    + _t("notificata", "pagamento", "pagata")
    + _t("notificata", "pagamento_parziale", "parzialmente_pagata")
    + _t("notificata", "rateazione", "in_rateazione")
    + _t("notificata", "sospensione", "sospesa")
    + _t("notificata", "sgravio", "sgravata")
    + _t("notificata", "prescrizione", "prescritta")
    + _t("scaduta", "avvio_procedura", "in_procedura")
    + _t("scaduta", "rateazione", "in_rateazione")
    + _t("scaduta", "pagamento", "pagata")
    + _t("scaduta", "pagamento_parziale", "parzialmente_pagata")
    + _t("scaduta", "sospensione", "sospesa")
    + _t("scaduta", "sgravio", "sgravata")
    + _t("scaduta", "dichiarazione_inesigibilita", "inesigibile")
    + _t("scaduta", "prescrizione", "prescritta")
    + _t("parzialmente_pagata", "pagamento", "pagata")
    + _t("parzialmente_pagata", "rateazione", "in_rateazione")
    + _t("parzialmente_pagata", "avvio_procedura", "in_procedura")
    + _t("parzialmente_pagata", "sospensione", "sospesa")
    + _t("parzialmente_pagata", "sgravio", "sgravata")
    + _t("parzialmente_pagata", "dichiarazione_inesigibilita", "inesigibile")
    + _t("parzialmente_pagata", "prescrizione", "prescritta")
    # its only payments reversed (e.g. a pagoPA flow overwritten by the PSP): back where it was before them
    + _t("parzialmente_pagata", "storno_pagamento", "caricata", "notificata", "scaduta")
    + _t("in_rateazione", "pagamento", "pagata")
    + _t("in_rateazione", "decadenza", "scaduta")
    + _t("in_rateazione", "sospensione", "sospesa")
    + _t("in_rateazione", "sgravio", "sgravata")
    # a plan annulled before any payment: back to the state it began from (scaduta: the decadenza's pair)
    + _t("in_rateazione", "annullamento_rateazione", "notificata", "parzialmente_pagata")
    + _t("in_procedura", "pagamento", "pagata")
    + _t("in_procedura", "pagamento_parziale", "parzialmente_pagata")
    + _t("in_procedura", "rateazione", "in_rateazione")
    + _t("in_procedura", "sospensione", "sospesa")
    + _t("in_procedura", "sgravio", "sgravata")
    + _t("in_procedura", "dichiarazione_inesigibilita", "inesigibile")
    + _t("in_procedura", "prescrizione", "prescritta")
    # the revocation resumes the state the position had when suspended: any open one, "caricata" included
    # (a suspension ordered before the notice, e.g. on a self-protection request, must be revocable too)
    + _t("sospesa", "revoca_sospensione", *_OPEN)
    + _t("sospesa", "pagamento", "pagata")
    + _t("sospesa", "sgravio", "sgravata")
    + _t("pagata", "storno_pagamento", *_OPEN)
    + _t("inesigibile", "revoca_inesigibilita", "scaduta")
    + _t("inesigibile", "prescrizione", "prescritta")
)

_BY_PAIR: Mapping[tuple[str, str], Transition] = MappingProxyType(
    {(t.from_state, t.to_state): t for t in TRANSITIONS}
)
assert len(_BY_PAIR) == len(TRANSITIONS), "stati: transizione duplicata"
assert all(t.from_state in STATES and t.to_state in STATES and t.operation in OPERATIONS for t in TRANSITIONS)


def _known(state: str) -> None:
    if state not in STATES:
        raise UnknownState(state, list(STATES))


def allowed_targets(from_state: str) -> tuple[str, ...]:
    """The states reachable from `from_state`, in the order of `STATES`."""
    _known(from_state)
    targets = {t.to_state for t in TRANSITIONS if t.from_state == from_state}
    return tuple(s for s in STATES if s in targets)


def check_transition(from_state: str, to_state: str) -> Transition:
    """The transition from `from_state` to `to_state`, or TransitionNotAllowed listing the allowed targets."""
    _known(from_state)
    _known(to_state)
    transition = _BY_PAIR.get((from_state, to_state))
    if transition is None:
        raise TransitionNotAllowed(from_state, to_state, allowed_targets(from_state), dict(STATES))
    return transition


def is_terminal(state: str) -> bool:
    return not allowed_targets(state)
