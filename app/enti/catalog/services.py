"""Administration of enti and entrate (issue 15 point 7): create and edit, each change an event and a
RowVersion (the models are versioned). An entrata's rate table and regimes are chosen among those the
parameter tables define; its amount-due rule and allocation order are parameter rows (shown with it).
Services never commit."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import EVENT_KINDS, Actor, record_event
from app.core.errors import Conflict, DomainError
from app.enti.models import Ente, Entrata, Parameter, RateTable

EVENT_KINDS.update(
    {
        "ente.created": "Ente creato",
        "ente.updated": "Ente modificato",
        "entrata.created": "Entrata creata",
        "entrata.updated": "Entrata modificata",
    }
)
ENTE_FIELDS = ("name", "codice_fiscale", "segregation_code", "postal_account")
ENTRATA_FIELDS = ("name", "capitolo", "interest_rate_table", "prescription_regime", "installment_regime")
_CODE = re.compile(r"^[A-Z0-9_]{2,40}$")


def rate_table_choices(session: Session) -> list[tuple[str, str]]:
    return [(t.code, t.name) for t in session.scalars(sa.select(RateTable).order_by(RateTable.code))]


def _regimes(session: Session, prefix: str) -> list[str]:
    codes = session.scalars(
        sa.select(Parameter.code)
        .where(Parameter.code.like(f"{prefix}%"), Parameter.ente_id.is_(None))
        .distinct()
    )
    return sorted(code.removeprefix(prefix) for code in codes)


def prescription_choices(session: Session) -> list[tuple[str, str]]:
    return [(r, r) for r in _regimes(session, "prescription_")]


def installment_choices(session: Session) -> list[tuple[str, str]]:
    return [(r, r) for r in _regimes(session, "installment_regime_")]


def _check_ente(data: dict[str, Any]) -> None:
    if not re.fullmatch(r"[0-9]{11}", data.get("codice_fiscale") or ""):
        raise DomainError("Codice fiscale dell'ente: 11 cifre.", field="codice_fiscale")
    if not re.fullmatch(r"[0-9]{2}", data.get("segregation_code") or ""):
        raise DomainError("Codice di segregazione pagoPA: 2 cifre.", field="segregation_code")
    if data.get("postal_account") and not re.fullmatch(r"[0-9]{12}", data["postal_account"]):
        raise DomainError("Conto corrente postale: 12 cifre.", field="postal_account")


def _changes(obj: Any, data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    changed = {}
    for name in fields:
        value = data.get(name)
        value = value.strip() if isinstance(value, str) else value
        value = value or None if name in ("postal_account", "capitolo") else value
        if getattr(obj, name) != value:
            changed[name] = {"prima": getattr(obj, name), "dopo": value}
            setattr(obj, name, value)
    return changed


def create_ente(session: Session, actor: Actor, admin: Any, *, code: str, **data: Any) -> Ente:
    code = (code or "").strip().upper()
    if not _CODE.fullmatch(code):
        raise DomainError("Codice: da 2 a 40 tra lettere maiuscole, cifre e _.", field="code")
    _check_ente(data)
    if session.scalar(sa.select(Ente.id).where(Ente.code == code)):
        raise Conflict(f"Codice già in uso: {code}.", field="code")
    if session.scalar(sa.select(Ente.id).where(Ente.codice_fiscale == data["codice_fiscale"])):
        raise Conflict("Un ente con questo codice fiscale esiste già.", field="codice_fiscale")
    ente = Ente(
        code=code,
        name=data["name"].strip(),
        codice_fiscale=data["codice_fiscale"],
        segregation_code=data["segregation_code"],
        postal_account=data.get("postal_account") or None,
    )
    session.add(ente)
    session.flush()
    admin.enti.append(ente)  # who creates it administers it (other users get it from the users screen)
    record_event(
        session,
        actor,
        "ente.created",
        f"Ente {code} – {ente.name} creato",
        ente_id=ente.id,
        payload={"ente": code},
    )
    return ente


def update_ente(session: Session, actor: Actor, ente: Ente, **data: Any) -> dict[str, Any]:
    _check_ente(data)
    clash = session.scalar(
        sa.select(Ente.id).where(Ente.codice_fiscale == data["codice_fiscale"], Ente.id != ente.id)
    )
    if clash:
        raise Conflict("Un ente con questo codice fiscale esiste già.", field="codice_fiscale")
    changed = _changes(ente, data, ENTE_FIELDS)
    if changed:
        session.flush()
        record_event(
            session,
            actor,
            "ente.updated",
            f"Ente {ente.code} modificato: {', '.join(changed)}",
            ente_id=ente.id,
            payload={"ente": ente.code, "changes": _jsonable(changed)},
        )
    return changed


def _check_entrata(session: Session, data: dict[str, Any]) -> None:
    if data.get("interest_rate_table") not in dict(rate_table_choices(session)):
        raise DomainError("Tabella dei tassi: scegli una tabella esistente.", field="interest_rate_table")
    if data.get("prescription_regime") not in dict(prescription_choices(session)):
        raise DomainError("Prescrizione: scegli un regime dei parametri.", field="prescription_regime")
    if data.get("installment_regime") not in dict(installment_choices(session)):
        raise DomainError("Rateazione: scegli un regime dei parametri.", field="installment_regime")


def create_entrata(session: Session, actor: Actor, ente: Ente, *, code: str, **data: Any) -> Entrata:
    code = (code or "").strip().upper()
    if not _CODE.fullmatch(code):
        raise DomainError("Codice: da 2 a 40 tra lettere maiuscole, cifre e _.", field="code")
    _check_entrata(session, data)
    if session.scalar(sa.select(Entrata.id).where(Entrata.ente_id == ente.id, Entrata.code == code)):
        raise Conflict(f"L'ente {ente.code} ha già l'entrata {code}.", field="code")
    entrata = Entrata(
        ente_id=ente.id,
        code=code,
        name=data["name"].strip(),
        capitolo=(data.get("capitolo") or "").strip() or None,
        interest_rate_table=data["interest_rate_table"],
        prescription_regime=data["prescription_regime"],
        installment_regime=data["installment_regime"],
    )
    session.add(entrata)
    session.flush()
    record_event(
        session,
        actor,
        "entrata.created",
        f"Entrata {ente.code}/{code} – {entrata.name} creata",
        ente_id=ente.id,
        payload={"ente": ente.code, "entrata": code},
    )
    return entrata


def update_entrata(session: Session, actor: Actor, entrata: Entrata, **data: Any) -> dict[str, Any]:
    _check_entrata(session, data)
    changed = _changes(entrata, data, ENTRATA_FIELDS)
    if changed:
        session.flush()
        record_event(
            session,
            actor,
            "entrata.updated",
            f"Entrata {entrata.ente.code}/{entrata.code} modificata: {', '.join(changed)}",
            ente_id=entrata.ente_id,
            payload={"ente": entrata.ente.code, "entrata": entrata.code, "changes": _jsonable(changed)},
        )
    return changed


def entrata_rules(session: Session, entrata: Entrata) -> list[Parameter]:
    """The parameter rows of this entrata (amount-due rule, allocation order...), every period."""
    return list(
        session.scalars(
            sa.select(Parameter)
            .where(Parameter.entrata_id == entrata.id)
            .order_by(Parameter.code, Parameter.valid_from)
        )
    )


def _jsonable(changed: dict[str, Any]) -> dict[str, Any]:
    return {k: {s: (str(v) if v is not None else None) for s, v in d.items()} for k, d in changed.items()}
