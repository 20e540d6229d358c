"""The state machine of each procedure, as data (like `app.engine.states`), and its pure rules.

`MACHINES[kind]` lists the states of a procedure kind and the transitions (from state, operation, to state);
everything not listed is refused by `check` with an Italian reason. Some refusals are a rule of law, not only
a state: `RULES` names the rule and its source for them (e.g. a fermo on a vehicle the debtor showed to be
strumentale). No database and no clock here (only the domain error type of app.core); amounts are `Decimal`
euros.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from types import MappingProxyType

from app.core.errors import DomainError

KINDS: Mapping[str, str] = MappingProxyType(
    {
        "fermo": "Fermo amministrativo",
        "ipoteca": "Ipoteca",
        "pignoramento": "Pignoramento presso terzi",
        "insinuazione": "Insinuazione al passivo",
    }
)

OPERATIONS: Mapping[str, str] = MappingProxyType(
    {
        "notifica_preavviso": "Notifica del preavviso",
        "dichiarazione_strumentale": "Dichiarazione di bene strumentale",
        "iscrizione": "Iscrizione",
        "richiesta_cancellazione": "Richiesta di cancellazione",
        "cancellazione": "Cancellazione eseguita",
        "notifica_terzo": "Notifica al terzo",
        "pagamento_terzo": "Pagamento del terzo",
        "dichiarazione_negativa": "Dichiarazione negativa del terzo",
        "deposito_domanda": "Deposito della domanda di ammissione",
        "esito": "Esito",
        "chiusura": "Chiusura",
        "annullamento": "Annullamento",
    }
)


@dataclass(frozen=True, slots=True)
class Machine:
    states: Mapping[str, str]
    initial: str
    transitions: tuple[tuple[str, str, str], ...]  # (from, operation, to)
    closed: frozenset[str]

    def target(self, state: str, operation: str) -> str | None:
        for from_state, op, to_state in self.transitions:
            if from_state == state and op == operation:
                return to_state
        return None

    def operations(self, state: str) -> list[str]:
        return [op for from_state, op, _ in self.transitions if from_state == state]


_FERMO_SOURCE = "D.Lgs. 33/2025, art. 187 (già art. 86 D.P.R. 602/1973)"
_IPOTECA_SOURCE = "D.P.R. 602/1973, art. 77"
_PIGNORAMENTO_SOURCE = "D.P.R. 602/1973, artt. 72-bis e 72-ter"

MACHINES: Mapping[str, Machine] = MappingProxyType(
    {
        "fermo": Machine(
            states=MappingProxyType(
                {
                    "preavviso": "Preavviso emesso",
                    "preavviso_notificato": "Preavviso notificato",
                    "esente": "Esente (bene strumentale)",
                    "iscritto": "Fermo iscritto",
                    "cancellazione_richiesta": "Cancellazione richiesta",
                    "cancellato": "Fermo cancellato",
                    "chiuso": "Chiuso",
                    "annullato": "Annullato",
                }
            ),
            initial="preavviso",
            transitions=(
                ("preavviso", "notifica_preavviso", "preavviso_notificato"),
                ("preavviso", "dichiarazione_strumentale", "esente"),
                ("preavviso_notificato", "dichiarazione_strumentale", "esente"),
                ("preavviso_notificato", "iscrizione", "iscritto"),
                ("preavviso", "chiusura", "chiuso"),  # paid within the 30 days: nothing to register
                ("preavviso_notificato", "chiusura", "chiuso"),
                ("iscritto", "richiesta_cancellazione", "cancellazione_richiesta"),
                ("cancellazione_richiesta", "cancellazione", "cancellato"),
                ("preavviso", "annullamento", "annullato"),
                ("preavviso_notificato", "annullamento", "annullato"),
                ("esente", "chiusura", "chiuso"),
            ),
            closed=frozenset({"cancellato", "chiuso", "annullato", "esente"}),
        ),
        "ipoteca": Machine(
            states=MappingProxyType(
                {
                    "comunicazione": "Comunicazione preventiva emessa",
                    "comunicazione_notificata": "Comunicazione preventiva notificata",
                    "iscritta": "Ipoteca iscritta",
                    "cancellazione_richiesta": "Cancellazione richiesta",
                    "cancellata": "Ipoteca cancellata",
                    "chiuso": "Chiuso",
                    "annullato": "Annullato",
                }
            ),
            initial="comunicazione",
            transitions=(
                ("comunicazione", "notifica_preavviso", "comunicazione_notificata"),
                ("comunicazione_notificata", "iscrizione", "iscritta"),
                ("comunicazione", "chiusura", "chiuso"),
                ("comunicazione_notificata", "chiusura", "chiuso"),
                ("iscritta", "richiesta_cancellazione", "cancellazione_richiesta"),
                ("cancellazione_richiesta", "cancellazione", "cancellata"),
                ("comunicazione", "annullamento", "annullato"),
                ("comunicazione_notificata", "annullamento", "annullato"),
            ),
            closed=frozenset({"cancellata", "chiuso", "annullato"}),
        ),
        "pignoramento": Machine(
            states=MappingProxyType(
                {
                    "atto_emesso": "Atto di pignoramento emesso",
                    "notificato": "Notificato al terzo",
                    "in_pagamento": "Pagamenti del terzo in corso",
                    "negativo": "Dichiarazione negativa del terzo",
                    "concluso": "Concluso",
                    "annullato": "Annullato",
                }
            ),
            initial="atto_emesso",
            transitions=(
                ("atto_emesso", "notifica_terzo", "notificato"),
                ("notificato", "pagamento_terzo", "in_pagamento"),
                ("in_pagamento", "pagamento_terzo", "in_pagamento"),
                ("notificato", "dichiarazione_negativa", "negativo"),
                ("notificato", "chiusura", "concluso"),
                ("in_pagamento", "chiusura", "concluso"),
                ("atto_emesso", "annullamento", "annullato"),
                ("notificato", "annullamento", "annullato"),
            ),
            closed=frozenset({"negativo", "concluso", "annullato"}),
        ),
        "insinuazione": Machine(
            states=MappingProxyType(
                {
                    "da_insinuare": "Da insinuare",
                    "insinuata": "Domanda depositata",
                    "ammessa": "Ammessa",
                    "ammessa_parzialmente": "Ammessa in parte",
                    "esclusa": "Esclusa",
                    "chiuso": "Chiuso",
                }
            ),
            initial="da_insinuare",
            transitions=(
                ("da_insinuare", "deposito_domanda", "insinuata"),
                ("insinuata", "esito", "ammessa"),
                ("insinuata", "esito", "ammessa_parzialmente"),
                ("insinuata", "esito", "esclusa"),
                ("da_insinuare", "chiusura", "chiuso"),
                ("ammessa", "chiusura", "chiuso"),
                ("ammessa_parzialmente", "chiusura", "chiuso"),
                ("esclusa", "chiusura", "chiuso"),
            ),
            closed=frozenset({"chiuso", "esclusa"}),
        ),
    }
)

# Refusals that are a rule of law: (kind, state, operation) -> the Italian reason naming the rule and source.
RULES: Mapping[tuple[str, str, str], str] = MappingProxyType(
    {
        ("fermo", "esente", "iscrizione"): (
            "Il fermo non può essere iscritto: il debitore ha dimostrato che il veicolo è strumentale "
            f"all'attività d'impresa o della professione ({_FERMO_SOURCE}, c. 2)."
        ),
        ("fermo", "preavviso", "iscrizione"): (
            "Il fermo non può essere iscritto prima della notifica del preavviso e del decorso dei 30 giorni "
            f"che esso concede per pagare ({_FERMO_SOURCE}, c. 2)."
        ),
        ("ipoteca", "comunicazione", "iscrizione"): (
            "L'ipoteca non può essere iscritta prima della notifica della comunicazione preventiva e del "
            f"decorso dei 30 giorni che essa concede per pagare ({_IPOTECA_SOURCE}, c. 2-bis)."
        ),
    }
)


class ProcedureRefused(DomainError):
    """A procedure operation refused: `message` names the rule (and its source) in Italian."""


def state_label(kind: str, state: str) -> str:
    machine = MACHINES.get(kind)
    return machine.states.get(state, state) if machine else state


def check(kind: str, state: str, operation: str, *, outcome: str | None = None) -> str:
    """The state `operation` moves a `kind` procedure in `state` to, or ProcedureRefused with the reason.
    `outcome` picks among several targets of one operation (the esito of an insinuazione)."""
    machine = MACHINES[kind]
    rule = RULES.get((kind, state, operation))
    if rule:
        raise ProcedureRefused(rule, state=state, operation=operation)
    targets = [to for from_state, op, to in machine.transitions if from_state == state and op == operation]
    if outcome is not None:
        targets = [t for t in targets if t == outcome]
    if not targets:
        allowed = ", ".join(OPERATIONS[op] for op in machine.operations(state)) or "nessuna"
        raise ProcedureRefused(
            f"«{OPERATIONS.get(operation, operation)}» non è consentita per un {KINDS[kind].lower()} nello "
            f"stato «{state_label(kind, state)}» (operazioni ammesse: {allowed}).",
            state=state,
            operation=operation,
        )
    return targets[0]


# --- pure rules ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WageBand:
    up_to: Decimal | None  # monthly net wage up to this amount (None: above the last band)
    numerator: int
    denominator: int

    @property
    def label(self) -> str:
        return f"{self.numerator}/{self.denominator}"


def wage_bands(value: Mapping[str, object]) -> list[WageBand]:
    """The bands of a `pignoramento_quote_stipendio` parameter row's value."""
    bands = []
    for band in value["bands"]:  # type: ignore[union-attr]
        up_to = band.get("up_to")  # type: ignore[union-attr]
        fraction = str(band["fraction"]).split("/")  # type: ignore[index]
        bands.append(
            WageBand(Decimal(str(up_to)) if up_to is not None else None, int(fraction[0]), int(fraction[1]))
        )
    return bands


def wage_limit(wage: Decimal, bands: Sequence[WageBand]) -> tuple[Decimal, WageBand]:
    """The most a wage of `wage` euro may be garnished per month (rounded down to the cent) and its band."""
    for band in bands:
        if band.up_to is None or wage <= band.up_to:
            limit = (wage * band.numerator / band.denominator).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
            return limit, band
    raise ValueError("nessuna fascia per lo stipendio")


def at_least(amount: Decimal, minimum: Decimal) -> bool:
    """Ipoteca: the credit must be at least the minimum (art. 77 c. 1-bis: "non inferiore")."""
    return amount >= minimum
