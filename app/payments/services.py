"""Payment use cases: import a flow, take a payment at the desk, work the review queue, the anomaly lists and
the refunds, reverse a payment, register a bank credit. Each writes its events; none commits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app.core.access import Principal, scoped
from app.core.audit import Actor, record_event
from app.core.db import utcnow
from app.core.errors import Conflict, DomainError, NotFound
from app.enti.models import Ente
from app.payments.fdr_rest import (
    FdrRestClient,
    FdrRestError,
    FetchedFlow,
    PublishedFlow,
    flow_datetime,
    to_parsed_flow,
)
from app.payments.models import (
    Anomaly,
    BankCredit,
    NoticeNumber,
    Payment,
    PaymentFlow,
    PaymentLayout,
    Refund,
    ReviewItem,
)
from app.payments.parsing import (
    CANONICAL_LAYOUT,
    ROME,
    FlowRefused,
    LayoutSpec,
    ParsedFlow,
    detect_format,
    parse_fdr,
    parse_payments_file,
)
from app.payments.reconcile import (
    ReconcileResult,
    Share,
    allocate_payment,
    lock_ente,
    lock_positions,
    reconcile_flow,
    reverse_payments,
)
from app.positions.models import Position
from app.reports.formatting import cents_to_machine, format_eur

# --- layouts ------------------------------------------------------------------------------------------------

BUILTIN_LAYOUTS: dict[str, LayoutSpec] = {
    "canonico": CANONICAL_LAYOUT,
    "banca-csv": LayoutSpec(
        name="banca-csv",
        format="csv",
        separator=";",
        decimal=",",
        date_formats=("GG/MM/AAAA", "AAAA-MM-GG"),
        columns={
            "id_pagamento": "Riferimento operazione",
            "data_pagamento": "Data operazione",
            "data_valuta": "Data valuta",
            "importo": "Importo",
            "causale": "Causale",
            "codice_fiscale": "Codice fiscale ordinante",
        },
        options={"ignore_unknown_columns": True},
        channel="bonifico",
    ),
    "poste-bollettini": LayoutSpec(
        name="poste-bollettini",
        format="fixed",
        decimal="cents",
        date_formats=("AAAAMMGG",),
        columns=[
            {"field": "id_pagamento", "start": 2, "length": 16},
            {"field": "data_pagamento", "start": 18, "length": 8},
            {"field": "data_valuta", "start": 26, "length": 8},
            {"field": "importo", "start": 34, "length": 12},
            {"field": "codice_avviso", "start": 46, "length": 18},
            {"field": "codice_fiscale", "start": 64, "length": 16},
            {"field": "causale", "start": 80, "length": 60},
        ],
        options={
            "record_length": 140,
            "record_type": {"start": 1, "length": 1, "value": "D", "ignore": ["H", "T"]},
        },
        channel="bollettino postale",
    ),
}


def layout_spec(row: PaymentLayout) -> LayoutSpec:
    return LayoutSpec(
        name=row.name,
        format=row.format,
        encoding=row.encoding or "auto",
        separator=row.separator or ";",
        decimal=row.decimal_separator or "auto",
        date_formats=tuple(row.date_formats or ("AAAA-MM-GG", "GG/MM/AAAA")),
        columns=row.columns,
        options=dict(row.options or {}),
        channel=row.channel or "bonifico",
    )


def get_layout(session: Session, name: str | None) -> LayoutSpec:
    """A configured layout (table `payment_layouts`) by name, else a built-in one."""
    name = name or "canonico"
    row = session.scalars(
        sa.select(PaymentLayout).where(PaymentLayout.name == name, PaymentLayout.active.is_(True))
    ).first()
    if row is not None:
        return layout_spec(row)
    if name in BUILTIN_LAYOUTS:
        return BUILTIN_LAYOUTS[name]
    raise DomainError(f"Tracciato sconosciuto: {name}.")


def list_layout_names(session: Session) -> list[str]:
    names = set(BUILTIN_LAYOUTS) | set(
        session.scalars(sa.select(PaymentLayout.name).where(PaymentLayout.active.is_(True)))
    )
    return sorted(names, key=lambda n: (n != "canonico", n))


# --- import -------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class ImportSummary:
    flow_id: int
    payments: int
    matched: int
    unmatched: int
    duplicates: int
    total_cents: int
    review: int = 0
    replaced_flow_id: int | None = None
    reconcile: ReconcileResult | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """formats.md §5, exactly these keys."""
        return {
            "flow": self.flow_id,
            "payments": self.payments,
            "matched": self.matched,
            "unmatched": self.unmatched,
            "duplicates": self.duplicates,
            "total": cents_to_machine(self.total_cents),
        }


class DuplicateFlow(FlowRefused):
    status = 409


class WrongEnte(FlowRefused):
    status = 403


def parse_flow(
    session: Session,
    data: bytes,
    *,
    fmt: str | None = None,
    layout: str | None = None,
    file_name: str | None = None,
    today: dt.date | None = None,
) -> ParsedFlow:
    fmt = fmt or detect_format(data)
    if fmt == "fdr":
        return parse_fdr(data, today=today)
    if fmt != "csv":
        raise FlowRefused(f"Formato sconosciuto: {fmt} (ammessi: fdr, csv).")
    return parse_payments_file(data, get_layout(session, layout), file_name=file_name, today=today)


def _resolve_ente(
    session: Session, parsed: ParsedFlow, ente_code: str | None, principal: Principal | None
) -> Ente:
    if parsed.source == "pagopa":
        ente = session.scalars(sa.select(Ente).where(Ente.codice_fiscale == parsed.receiver_code)).first()
        if ente is None:
            raise FlowRefused(f"Ente ricevente sconosciuto: codice fiscale {parsed.receiver_code}.")
        if ente_code and ente.code != ente_code:
            raise WrongEnte(f"Il flusso è destinato all'ente {ente.code}, non a {ente_code}.")
    elif ente_code:
        ente = session.scalars(sa.select(Ente).where(Ente.code == ente_code)).first()
        if ente is None:
            raise FlowRefused(f"Ente sconosciuto: {ente_code}.")
    else:
        segs = {p.notice_number[1:3] for p in parsed.payments if p.notice_number}
        candidates = (
            list(session.scalars(sa.select(Ente).where(Ente.segregation_code.in_(segs)))) if segs else []
        )
        if principal is not None and len(principal.ente_ids) == 1:
            candidates = [e for e in candidates if e.id in principal.ente_ids] or list(
                session.scalars(sa.select(Ente).where(Ente.id.in_(principal.ente_ids)))
            )
        if len(candidates) != 1:
            every = list(session.scalars(sa.select(Ente)))
            candidates = every if len(every) == 1 else candidates
        if len(candidates) != 1:
            raise FlowRefused(
                "Impossibile stabilire l'ente del file dai codici avviso: indicare l'ente (--ente)."
            )
        ente = candidates[0]
    if principal is not None and ente.id not in principal.ente_ids:
        raise WrongEnte(f"Il flusso è dell'ente {ente.code}, fuori dalle competenze di chi lo invia.")
    return ente


def import_flow(
    session: Session,
    data: bytes,
    actor: Actor,
    *,
    fmt: str | None = None,
    layout: str | None = None,
    ente_code: str | None = None,
    file_name: str | None = None,
    principal: Principal | None = None,
    today: dt.date | None = None,
    method: str | None = None,
) -> ImportSummary:
    """Import and reconcile one flow (formats.md §2). Raises FlowRefused (422), DuplicateFlow (409) or
    WrongEnte (403): the caller then rolls back and nothing of the file is kept."""
    parsed = parse_flow(session, data, fmt=fmt, layout=layout, file_name=file_name, today=today)
    return import_parsed_flow(
        session, parsed, actor, ente_code=ente_code, file_name=file_name, principal=principal, method=method
    )


def import_parsed_flow(
    session: Session,
    parsed: ParsedFlow,
    actor: Actor,
    *,
    ente_code: str | None = None,
    file_name: str | None = None,
    principal: Principal | None = None,
    method: str | None = None,
) -> ImportSummary:
    """The storing and reconciling part of `import_flow`, for a flow already parsed (a file, or an FdR
    fetched over REST): duplicate and overwrite rules, payments, reconciliation. Same errors."""
    ente = _resolve_ente(session, parsed, ente_code, principal)
    lock_ente(session, ente.id)
    known = session.scalars(sa.select(PaymentFlow.id).where(PaymentFlow.file_sha256 == parsed.sha256)).first()
    if known is not None:
        raise DuplicateFlow(f"Flusso già importato (stesso contenuto, flusso n. {known}).", flow_id=known)
    replaced = None
    if parsed.source == "pagopa":
        current = session.scalars(
            sa.select(PaymentFlow).where(
                PaymentFlow.ente_id == ente.id,
                PaymentFlow.source == "pagopa",
                PaymentFlow.sender == parsed.sender,
                PaymentFlow.identifier == parsed.identifier,
                PaymentFlow.status == "accettato",
            )
        ).first()
        if current is not None:
            if parsed.flow_dt <= current.flow_dt:
                raise DuplicateFlow(
                    f"Flusso {parsed.identifier} del PSP {parsed.sender} già importato (n. {current.id}) con "
                    f"dataOraFlusso uguale o successiva: rifiutato come duplicato.",
                    flow_id=current.id,
                )
            replaced = current
    flow = PaymentFlow(
        ente_id=ente.id,
        source=parsed.source,
        layout=parsed.layout,
        identifier=parsed.identifier,
        sender=parsed.sender,
        sender_name=parsed.sender_name,
        flow_dt=parsed.flow_dt,
        regulation_ref=parsed.regulation_ref,
        regulation_date=parsed.regulation_date,
        bic=parsed.bic,
        schema_version=parsed.schema_version,
        file_name=(file_name or "")[:255] or None,
        file_sha256=parsed.sha256,
        declared_count=parsed.declared_count,
        declared_total_cents=parsed.declared_total_cents,
        computed_count=parsed.computed_count,
        computed_total_cents=parsed.computed_total_cents,
        created_by_id=actor.user_id,
        actor_label=actor.label[:120],
        status="accettato",
    )
    session.add(flow)
    session.flush()
    restored_flows: list[int] = []
    if replaced is not None:
        restored_flows = _supersede(session, replaced, flow, actor)
    duplicates = _store_payments(session, flow, parsed)
    flow.duplicates = len(duplicates)
    flow.report = {
        "encoding": parsed.encoding,
        "warnings": parsed.warnings[:500],
        "duplicates": duplicates[:500],
    }
    session.flush()
    result = reconcile_flow(session, flow.id, actor, method=method)
    for restored_flow_id in restored_flows:
        # a payment revoked by the superseded flow and not revoked again by the new one is due again
        reconcile_flow(session, restored_flow_id, actor, method=method)
    _check_bank_credit(session, flow)
    stored = parsed.computed_count - len(duplicates)
    matched = result.matched + result.revoked
    return ImportSummary(
        flow_id=flow.id,
        payments=stored,
        matched=matched,
        unmatched=stored - matched,
        duplicates=len(duplicates),
        total_cents=parsed.computed_total_cents,
        review=result.review,
        replaced_flow_id=replaced.id if replaced else None,
        reconcile=result,
        warnings=parsed.warnings,
    )


def queue_flow_import(
    session: Session,
    actor: Actor,
    principal: Principal,
    stored: Any,
    file_name: str | None,
    *,
    fmt: str | None = None,
    layout: str | None = None,
    ente_code: str | None = None,
    ente_id: int | None = None,
) -> Any:
    """A batch job (kind "pagamenti") importing and reconciling a stored flow file: the upload page and the
    API's asynchronous mode (`app.payments.tasks.run_flow_import` runs it). Returns the BatchJob."""
    from app.jobs.services import create_job

    return create_job(
        session,
        kind="pagamenti",
        task="app.payments.tasks.run_flow_import",
        actor=actor,
        ente_id=ente_id,
        file_name=(file_name or "flusso")[:255],
        file_path=stored.relative_path,
        file_sha256=stored.sha256,
        file_size=stored.size,
        params={
            "format": fmt or None,
            "layout": layout or None,
            "ente": ente_code or None,
            "ente_ids": sorted(principal.ente_ids),
        },
    )


def _source_key(parsed: ParsedFlow, revocation: bool) -> str:
    if parsed.source == "pagopa":
        return "pagopa:revoca" if revocation else "pagopa"
    return f"csv:{parsed.layout}"


def _store_payments(session: Session, flow: PaymentFlow, parsed: ParsedFlow) -> list[dict[str, Any]]:
    """Insert the flow's payments; one already known (same key for its source) is a duplicate, not stored."""
    duplicates = list(parsed.duplicates_in_file)
    by_key: dict[str, list[Any]] = {}
    for p in parsed.payments:
        by_key.setdefault(_source_key(parsed, p.outcome_code == "3"), []).append(p)
    rows = []
    now = utcnow()
    for key, items in by_key.items():
        known: set[str] = set()
        ids = [p.external_id for p in items]
        for start in range(0, len(ids), 5000):
            known.update(
                session.scalars(
                    sa.select(Payment.external_id).where(
                        Payment.source_key == key,
                        Payment.external_id.in_(ids[start : start + 5000]),
                        Payment.status != "sostituito",
                    )
                )
            )
        for p in items:
            if p.external_id in known:
                duplicates.append(
                    {
                        "line": p.row_number,
                        "key": p.external_id,
                        "amount_cents": p.amount_cents,
                        "reason": "pagamento già registrato (stessa chiave per la stessa fonte)",
                    }
                )
                continue
            rows.append(
                {
                    "flow_id": flow.id,
                    "ente_id": flow.ente_id,
                    "source_key": key,
                    "external_id": p.external_id,
                    "row_number": p.row_number,
                    "iuv": p.iuv,
                    "notice_number": p.notice_number,
                    "iur": p.iur,
                    "transfer_index": p.transfer_index,
                    "outcome_code": p.outcome_code,
                    "codice_fiscale": p.codice_fiscale,
                    "causale": p.causale,
                    "channel": p.channel,
                    "amount_cents": p.amount_cents,
                    "paid_date": p.paid_date,
                    "value_date": p.value_date,
                    "status": "da_riconciliare",
                    "credit_cents": 0,
                    "created_dt": now,
                }
            )
    for start in range(0, len(rows), 5000):
        session.execute(sa.insert(Payment), rows[start : start + 5000])
    return duplicates


def _supersede(session: Session, old: PaymentFlow, new: PaymentFlow, actor: Actor) -> list[int]:
    """formats.md §2 overwrite: the old flow's allocations are reversed, the flow kept as 'sostituito'.

    A payment of an earlier flow that the old flow revoked (outcome 3) is no longer revoked: it goes back to
    'da_riconciliare' (with an event) and the caller reconciles it again after the new flow, which may revoke
    it once more. Returns the ids of the flows holding such payments."""
    revocation = aliased(Payment)  # a row with outcome 3, naming the payment it revokes
    withdrawn = session.execute(
        sa.select(Payment.id, Payment.flow_id, Payment.amount_cents, Payment.iur, Payment.position_id)
        .join(revocation, revocation.revokes_id == Payment.id)
        .where(
            revocation.flow_id == old.id,
            revocation.status == "revoca",
            Payment.flow_id != old.id,
            Payment.status == "revocato",
        )
    ).all()
    for payment_id, _flow_id, amount, iur, position_id in withdrawn:
        record_event(
            session,
            actor,
            "payment.revocation_withdrawn",
            f"Revoca ritirata: il flusso {old.identifier} è stato sostituito dal flusso n. {new.id};"
            f" pagamento di {format_eur(amount)} (IUR {iur}) di nuovo da riconciliare",
            position_id=position_id,
            ente_id=old.ente_id,
            payload={"payment_id": payment_id, "flow_id": old.id, "replaced_by": new.id},
        )
    if withdrawn:
        session.execute(
            sa.update(Payment)
            .where(Payment.id.in_([w.id for w in withdrawn]))
            .values(status="da_riconciliare", position_id=None, notice_id=None, credit_cents=0)
            .execution_options(synchronize_session=False)
        )
    ids = list(
        session.scalars(
            sa.select(Payment.id).where(Payment.flow_id == old.id, Payment.status != "sostituito")
        )
    )
    reverse_payments(
        session,
        ids,
        actor,
        new_status="sostituito",
        reason=f"flusso {old.identifier} sostituito da una versione successiva",
    )
    session.execute(
        sa.update(Anomaly)
        .where(Anomaly.flow_id == old.id, Anomaly.status == "aperta")
        .values(
            status="chiusa",
            resolved_dt=utcnow(),
            resolved_label=actor.label[:120],
            note=f"Flusso sostituito dal flusso n. {new.id}",
        )
        .execution_options(synchronize_session=False)
    )
    old.status = "sostituito"
    new.replaces_id = old.id
    session.flush()
    return sorted({w.flow_id for w in withdrawn})


def _check_bank_credit(session: Session, flow: PaymentFlow) -> None:
    if not flow.regulation_ref:
        return
    credit = session.scalars(
        sa.select(BankCredit).where(
            BankCredit.ente_id == flow.ente_id, BankCredit.reference == flow.regulation_ref
        )
    ).first()
    if credit is not None:
        _compare_credit(session, credit, flow)


def _compare_credit(session: Session, credit: BankCredit, flow: PaymentFlow) -> None:
    credit.flow_id = flow.id
    expected = (
        flow.declared_total_cents if flow.declared_total_cents is not None else flow.computed_total_cents
    )
    if credit.amount_cents != expected:
        session.add(
            Anomaly(
                ente_id=flow.ente_id,
                kind="totale_accredito",
                flow_id=flow.id,
                amount_cents=credit.amount_cents,
                expected_cents=expected,
                detail=f"Accredito {credit.reference} del {credit.value_date:%d/%m/%Y}: "
                f"{format_eur(credit.amount_cents)} invece di {format_eur(expected)}",
            )
        )
    session.flush()


def register_bank_credit(
    session: Session,
    principal: Principal,
    actor: Actor,
    *,
    ente_id: int,
    value_date: dt.date,
    amount_cents: int,
    reference: str,
    causale: str | None = None,
) -> BankCredit:
    """A credit on the treasury account; compared with the flow it settles (TRN = identificativoUnivoco-
    Regolamento, or the flow identifier in the causale)."""
    if ente_id not in principal.ente_ids:
        raise NotFound("Ente non trovato.")
    if amount_cents <= 0:
        raise DomainError("L'importo dell'accredito deve essere positivo.")
    reference = reference.strip()
    if session.scalars(
        sa.select(BankCredit.id).where(BankCredit.ente_id == ente_id, BankCredit.reference == reference)
    ).first():
        raise Conflict(f"Accredito {reference} già registrato.")
    credit = BankCredit(
        ente_id=ente_id,
        value_date=value_date,
        amount_cents=amount_cents,
        reference=reference,
        causale=causale,
        created_by_id=actor.user_id,
    )
    session.add(credit)
    session.flush()
    flow = session.scalars(
        sa.select(PaymentFlow)
        .where(
            PaymentFlow.ente_id == ente_id,
            PaymentFlow.status == "accettato",
            sa.or_(
                PaymentFlow.regulation_ref == reference,
                sa.and_(
                    sa.literal(causale or "").contains(PaymentFlow.identifier), PaymentFlow.source == "pagopa"
                ),
            ),
        )
        .order_by(PaymentFlow.id.desc())
    ).first()
    if flow is not None:
        _compare_credit(session, credit, flow)
    return credit


# --- desk payments ------------------------------------------------------------------------------------------

DESK_CHANNELS = {"contanti": "Contanti", "pos": "Carta (POS)", "assegno": "Assegno circolare"}


def _desk_flow(session: Session, ente_id: int, actor: Actor, day: dt.date) -> PaymentFlow:
    start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=ROME).astimezone(dt.UTC)
    sender = f"operatore-{actor.user_id or 0}"
    identifier = f"SPORTELLO-{day:%Y%m%d}-{actor.user_id or 0}"
    flow = session.scalars(
        sa.select(PaymentFlow).where(
            PaymentFlow.ente_id == ente_id,
            PaymentFlow.source == "sportello",
            PaymentFlow.sender == sender,
            PaymentFlow.identifier == identifier,
        )
    ).first()
    if flow is None:
        flow = PaymentFlow(
            ente_id=ente_id,
            source="sportello",
            identifier=identifier,
            sender=sender,
            sender_name=actor.label[:140],
            flow_dt=start,
            regulation_date=day,
            declared_count=0,
            declared_total_cents=0,
            computed_count=0,
            computed_total_cents=0,
            created_by_id=actor.user_id,
            actor_label=actor.label[:120],
            status="accettato",
            report={},
        )
        session.add(flow)
        session.flush()
    return flow


def register_desk_payment(
    session: Session,
    principal: Principal,
    actor: Actor,
    *,
    position_id: int,
    amount_cents: int,
    channel: str,
    paid_date: dt.date | None = None,
    payer_name: str | None = None,
    booked_dt: dt.datetime | None = None,
    idempotency_key: str | None = None,
    channels: dict[str, str] | None = None,
) -> Payment:
    """A payment taken at the sportello for one position, allocated at once; returns it with its receipt
    number (the quietanza is printed from it).

    The cap is the amount due at the payment date (`amounts.amount_due`: interest and oneri included); a
    payment that reaches the ledger balance first books the accrued interest and oneri
    (`reconcile.book_accruals`, as every allocation does), so a payoff of exactly the amount due leaves
    nothing owed. A lower amount is a partial payment, the operator's decision (no anomaly).

    `idempotency_key` (the desk form's, made when the form was shown): if a payment was already registered
    with it, nothing is written and `DeskFormReplayed` names that payment (same position, amount and channel)
    or `DeskFormReused` says the form was used for another one. Checked again under the position's lock, so
    a double click waits for the first request and finds its payment; the partial unique index
    `uq_payments_idempotency_key` settles any other race."""
    from app.positions.amounts import amount_due
    from app.positions.queries import get_position

    position = get_position(session, principal, position_id)
    if position is None:
        raise NotFound("Posizione non trovata.")
    if channel not in (channels or DESK_CHANNELS):  # `channels`: another slice's (a third party's bonifico)
        raise DomainError("Mezzo di pagamento non ammesso allo sportello.")
    if amount_cents <= 0:
        raise DomainError("L'importo deve essere positivo.")
    day = paid_date or dt.datetime.now(ROME).date()
    lock_ente(session, position.ente_id, shared=True)
    lock_positions(session, [position.id])
    _check_desk_replay(session, principal, idempotency_key, position.id, amount_cents, channel)
    due = amount_due(session, position, day).total_cents
    if amount_cents > due:
        raise DomainError(f"Importo superiore al dovuto della posizione ({format_eur(due)}).")
    flow = _desk_flow(session, position.ente_id, actor, day)
    taxpayer = position.taxpayer
    payment = Payment(
        flow_id=flow.id,
        ente_id=position.ente_id,
        source_key="sportello",
        external_id=f"tmp-{uuid.uuid4().hex}",
        channel=channel,
        amount_cents=amount_cents,
        paid_date=day,
        value_date=day,
        status="da_riconciliare",
        taxpayer_id=taxpayer.id,
        codice_fiscale=taxpayer.codice_fiscale,
        payer_name=(payer_name or taxpayer.display_name)[:200],
        causale=f"{position.description or ''} {position.external_id}".strip()[:300],
        recorded_by_id=actor.user_id,
        credit_cents=0,
        idempotency_key=idempotency_key,
    )
    try:
        with session.begin_nested():
            session.add(payment)
            session.flush()
    except sa.exc.IntegrityError:
        if idempotency_key is None:
            raise
        _check_desk_replay(
            session, principal, idempotency_key, position.id, amount_cents, channel, after_conflict=True
        )
        raise
    ente = session.get(Ente, position.ente_id)
    assert ente is not None
    receipt = f"{ente.code}-{day.year}-{payment.id:08d}"
    payment.external_id = receipt
    payment.receipt_number = receipt
    notice = session.scalars(
        sa.select(NoticeNumber).where(
            NoticeNumber.position_id == position.id, NoticeNumber.item_kind == "posizione"
        )
    ).first()
    if notice is not None:
        payment.notice_number, payment.iuv = notice.notice_number, notice.iuv
    # allocate_payment books the accrued interest and oneri first when the amount reaches the ledger balance
    allocate_payment(
        session, payment, [Share(position.id)], actor, method="sportello", notice=notice, lock=False,
        booked_dt=booked_dt,
    )
    flow.computed_count += 1
    flow.computed_total_cents += amount_cents
    flow.declared_count = flow.computed_count
    flow.declared_total_cents = flow.computed_total_cents
    session.flush()
    from app.plans.allocation import sync_positions

    sync_positions(session, [position.id], actor)  # the oldest unpaid installment of a stored plan
    return payment


class DeskFormReplayed(Conflict):
    """The desk form was posted again: its payment is already registered (show that one's quietanza)."""

    def __init__(self, payment: Payment) -> None:
        super().__init__(f"Pagamento già registrato con questo modulo: quietanza n. {payment.receipt_number}")
        self.payment_id, self.receipt_number = payment.id, payment.receipt_number


class DeskFormReused(Conflict):
    """The desk form that registered one payment came back with other data (e.g. after the Back button)."""


def _check_desk_replay(
    session: Session,
    principal: Principal,
    key: str | None,
    position_id: int,
    amount_cents: int,
    channel: str,
    *,
    after_conflict: bool = False,
) -> None:
    if key is None:
        return
    done = session.scalars(
        scoped(sa.select(Payment).where(Payment.idempotency_key == key), Payment, principal)
    ).first()
    if done is None:
        if after_conflict:  # the key is taken by a payment this user may not see
            raise Conflict("Modulo non valido: ricarica la pagina e riprova.")
        return
    if (done.position_id, done.amount_cents, done.channel) == (position_id, amount_cents, channel):
        raise DeskFormReplayed(done)
    raise DeskFormReused(
        f"Questo modulo ha già registrato la quietanza n. {done.receipt_number}: controlla i dati e "
        "premi di nuovo il pulsante per registrare un altro pagamento."
    )


# --- review queue -------------------------------------------------------------------------------------------


def _review(session: Session, principal: Principal, review_id: int) -> ReviewItem:
    review = session.scalars(
        scoped(sa.select(ReviewItem).where(ReviewItem.id == review_id), ReviewItem, principal)
    ).first()
    if review is None:
        raise NotFound("Elemento della coda di revisione non trovato.")
    if review.status != "aperta":
        raise Conflict("Questo pagamento è già stato esaminato.")
    return review


def _close_review(review: ReviewItem, actor: Actor, status: str, note: str | None) -> None:
    review.status = status
    review.resolved_by_id = actor.user_id
    review.resolved_label = actor.label[:120]
    review.resolved_dt = utcnow()
    review.note = (note or "")[:500] or None


def _scoped_positions(session: Session, principal: Principal, ids: list[int]) -> None:
    found = set(
        session.scalars(scoped(sa.select(Position.id).where(Position.id.in_(ids)), Position, principal))
    )
    if found != set(ids):
        raise NotFound("Posizione non trovata.")


def confirm_review(
    session: Session,
    principal: Principal,
    actor: Actor,
    review_id: int,
    *,
    position_id: int | None = None,
    note: str | None = None,
) -> Payment:
    """Allocate the payment to the suggested (or chosen) position."""
    review = _review(session, principal, review_id)
    target = position_id or review.suggested_position_id
    if target is None:
        raise DomainError("Indicare la posizione a cui imputare il pagamento.")
    _scoped_positions(session, principal, [target])
    payment = _claim_for_operator(session, review.payment_id)
    allocate_payment(session, payment, [Share(target)], actor, method="operatore")
    _close_review(review, actor, "confermata", note)
    _close_anomalies(session, payment.id, actor, "Pagamento imputato dall'operatore")
    session.flush()
    return payment


def split_review(
    session: Session,
    principal: Principal,
    actor: Actor,
    review_id: int,
    parts: list[tuple[int, int]],
    *,
    note: str | None = None,
) -> Payment:
    """Allocate the payment over several positions: `parts` = [(position_id, cents)]; the rest is credit."""
    review = _review(session, principal, review_id)
    parts = [(pid, cents) for pid, cents in parts if cents]
    if not parts:
        raise DomainError("Indicare almeno una quota.")
    if len({pid for pid, _ in parts}) != len(parts):
        raise DomainError("Ogni posizione può comparire una sola volta.")
    _scoped_positions(session, principal, [pid for pid, _ in parts])
    payment = _claim_for_operator(session, review.payment_id)
    if sum(c for _, c in parts) > payment.amount_cents or any(c < 0 for _, c in parts):
        raise DomainError(f"Le quote superano l'importo del pagamento ({format_eur(payment.amount_cents)}).")
    allocate_payment(session, payment, [Share(pid, cents) for pid, cents in parts], actor, method="operatore")
    _close_review(review, actor, "divisa", note)
    _close_anomalies(session, payment.id, actor, "Pagamento ripartito dall'operatore")
    session.flush()
    return payment


def reject_review(
    session: Session, principal: Principal, actor: Actor, review_id: int, *, note: str | None = None
) -> Payment:
    """Not a payment of any debt here: the whole amount goes back to the payer (a refund to do)."""
    review = _review(session, principal, review_id)
    payment = _claim_for_operator(session, review.payment_id)
    payment.status = "respinto"
    payment.credit_cents = payment.amount_cents
    session.add(
        Refund(
            ente_id=payment.ente_id,
            payment_id=payment.id,
            taxpayer_id=payment.taxpayer_id,
            amount_cents=payment.amount_cents,
            status="da_rimborsare",
            reason="Pagamento respinto in revisione: nessun debito corrispondente",
        )
    )
    _close_review(review, actor, "respinta", note)
    _close_anomalies(session, payment.id, actor, "Pagamento respinto: importo da rimborsare")
    session.flush()
    return payment


def _claim_for_operator(session: Session, payment_id: int) -> Payment:
    """Compare-and-set: only a payment still waiting can be matched by an operator (two operators at once:
    the second one gets a conflict)."""
    changed = session.execute(
        sa.update(Payment)
        .where(Payment.id == payment_id, Payment.status.in_(("in_revisione", "non_abbinato")))
        .values(status="da_riconciliare")
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict("Il pagamento è già stato abbinato o non è più in attesa.")
    payment = session.get(Payment, payment_id, populate_existing=True)
    assert payment is not None
    return payment


def open_review(session: Session, principal: Principal, actor: Actor, payment_id: int) -> ReviewItem:
    """Put an unmatched payment ("senza debito") in the review queue, to be matched by hand."""
    payment = session.scalars(
        scoped(sa.select(Payment).where(Payment.id == payment_id), Payment, principal)
    ).first()
    if payment is None:
        raise NotFound("Pagamento non trovato.")
    existing = session.scalars(
        sa.select(ReviewItem).where(ReviewItem.payment_id == payment.id, ReviewItem.status == "aperta")
    ).first()
    if existing is not None:
        return existing
    if payment.status != "non_abbinato":
        raise Conflict("Solo un pagamento non abbinato può essere messo in revisione.")
    payment.status = "in_revisione"
    review = ReviewItem(
        ente_id=payment.ente_id,
        payment_id=payment.id,
        score=0,
        reason=f"Abbinamento manuale richiesto da {actor.label}"[:300],
        status="aperta",
    )
    session.add(review)
    session.flush()
    return review


def _close_anomalies(session: Session, payment_id: int, actor: Actor, note: str) -> None:
    session.execute(
        sa.update(Anomaly)
        .where(
            Anomaly.payment_id == payment_id,
            Anomaly.status == "aperta",
            Anomaly.kind.in_(("senza_debito", "ordine_imputazione")),
        )
        .values(
            status="chiusa",
            resolved_by_id=actor.user_id,
            resolved_label=actor.label[:120],
            resolved_dt=utcnow(),
            note=note,
        )
        .execution_options(synchronize_session=False)
    )


# --- anomalies, refunds, reversals --------------------------------------------------------------------------


def close_anomaly(
    session: Session, principal: Principal, actor: Actor, anomaly_id: int, *, note: str
) -> Anomaly:
    anomaly = session.scalars(
        scoped(sa.select(Anomaly).where(Anomaly.id == anomaly_id), Anomaly, principal)
    ).first()
    if anomaly is None:
        raise NotFound("Anomalia non trovata.")
    if anomaly.status != "aperta":
        raise Conflict("Anomalia già chiusa.")
    if not note.strip():
        raise DomainError("Indicare come è stata risolta l'anomalia.")
    anomaly.status = "chiusa"
    anomaly.resolved_by_id = actor.user_id
    anomaly.resolved_label = actor.label[:120]
    anomaly.resolved_dt = utcnow()
    anomaly.note = note.strip()[:500]
    session.flush()
    return anomaly


def mark_refunded(
    session: Session,
    principal: Principal,
    actor: Actor,
    refund_id: int,
    *,
    reference: str,
    note: str | None = None,
) -> Refund:
    """da_rimborsare -> rimborsato, with who, when and the reference of the transfer."""
    refund = session.scalars(
        scoped(sa.select(Refund).where(Refund.id == refund_id), Refund, principal)
    ).first()
    if refund is None:
        raise NotFound("Rimborso non trovato.")
    changed = session.execute(
        sa.update(Refund)
        .where(Refund.id == refund.id, Refund.status == "da_rimborsare")
        .values(
            status="rimborsato",
            refunded_dt=utcnow(),
            refunded_by_id=actor.user_id,
            refunded_label=actor.label[:120],
            reference=reference.strip()[:100],
            note=(note or "")[:500] or None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict("Il rimborso non è più da eseguire.")
    session.refresh(refund)
    record_event(
        session,
        actor,
        "payment.refunded",
        f"Rimborso di {format_eur(refund.amount_cents)} eseguito (rif. {refund.reference})",
        taxpayer_id=refund.taxpayer_id,
        ente_id=refund.ente_id,
        payload={"refund_id": refund.id, "payment_id": refund.payment_id, "cents": refund.amount_cents},
    )
    session.flush()
    return refund


def reverse_payment(
    session: Session, principal: Principal, actor: Actor, payment_id: int, *, reason: str
) -> Payment:
    """Storno by an operator: reversing movements for every allocation, states restored."""
    payment = session.scalars(
        scoped(sa.select(Payment).where(Payment.id == payment_id), Payment, principal)
    ).first()
    if payment is None:
        raise NotFound("Pagamento non trovato.")
    if payment.status != "riconciliato":
        raise Conflict("Si può stornare solo un pagamento riconciliato.")
    if not reason.strip():
        raise DomainError("Indicare il motivo dello storno.")
    lock_ente(session, payment.ente_id, shared=True)
    reverse_payments(session, [payment.id], actor, new_status="stornato", reason=reason.strip())
    session.refresh(payment)
    if payment.position_id is not None:
        from app.plans.allocation import sync_positions

        sync_positions(session, [payment.position_id], actor)  # the installment it paid is unpaid again
    return payment


# --- pagoPA FdR REST ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class FdrFetchOutcome:
    """What happened to one published revision: imported | duplicate | refused | error."""

    identifier: str
    psp: str
    revision: int
    status: str
    message: str
    flow_id: int | None = None
    summary: ImportSummary | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "identifier": self.identifier,
            "psp": self.psp,
            "revision": self.revision,
            "status": self.status,
            "message": self.message,
            "flow_id": self.flow_id,
        }
        if self.summary is not None:
            data["summary"] = self.summary.as_json()
        return data


def fdr_revision_label(fdr: str, revision: int, psp_id: str) -> str:
    """The `file_name` of a flow imported over FdR REST: names the revision, so it is never fetched twice."""
    return f"FdR REST {fdr} rev. {revision} PSP {psp_id}"[:255]


def fetch_fdr_flows(
    session: Session,
    ente: Ente,
    actor: Actor,
    client: FdrRestClient,
    *,
    published_after: dt.date | dt.datetime | None = None,
    today: dt.date | None = None,
    method: str | None = None,
) -> list[FdrFetchOutcome]:
    """Fetch the flows pagoPA published for `ente` over FdR REST and import the new ones exactly as files.

    1. List the published flows: organizationId = the ente's codice fiscale, `publishedGt` = `published_after`
       (a day means its 00:00 in Italy; omitted: the service's default, the start of the previous month).
       An error here raises `FdrRestError` and nothing is done.
    2. For each (fdr, PSP, revision), in order of publication:
       a. already imported when a flow of the ente carries this revision's label: `duplicate`, nothing is
          fetched;
       b. fetch the flow; when an accepted flow with the same identifier and PSP has the same or a later
          date (`fdrDate`, the XML's dataOraFlusso): `duplicate`, its payments are not downloaded;
       c. fetch its payments and map them (`fdr_rest.to_parsed_flow`): totals, amounts, dates;
       d. `import_parsed_flow` in a savepoint of its own: same-hash duplicates, overwrite of an earlier
          revision, revocations and reconciliation behave as for a file. A refusal rolls back this flow only.
       An HTTP error or a timeout on one flow makes it `error` (nothing of it kept); the others go on.
    Never commits: the caller commits the whole run."""
    since: dt.datetime | None = None
    if isinstance(published_after, dt.datetime):
        since = published_after
    elif isinstance(published_after, dt.date):
        since = dt.datetime.combine(published_after, dt.time(0, 0), tzinfo=ROME)
    organization_id = ente.codice_fiscale
    listed = client.list_published(organization_id, published_gt=since)
    order = sorted(
        listed,
        key=lambda f: (f.published or dt.datetime.min.replace(tzinfo=dt.UTC), f.fdr, f.psp_id, f.revision),
    )
    return [
        _fetch_fdr_revision(session, ente, actor, client, item, today=today, method=method) for item in order
    ]


def _fetch_fdr_revision(
    session: Session,
    ente: Ente,
    actor: Actor,
    client: FdrRestClient,
    item: PublishedFlow,
    *,
    today: dt.date | None,
    method: str | None,
) -> FdrFetchOutcome:
    def outcome(status: str, message: str, flow_id: int | None = None) -> FdrFetchOutcome:
        return FdrFetchOutcome(item.fdr, item.psp_id, item.revision, status, message, flow_id)

    label = fdr_revision_label(item.fdr, item.revision, item.psp_id)
    seen = session.scalars(
        sa.select(PaymentFlow.id).where(
            PaymentFlow.ente_id == ente.id, PaymentFlow.source == "pagopa", PaymentFlow.file_name == label
        )
    ).first()
    if seen is not None:
        return outcome("duplicate", f"Revisione {item.revision} già importata (flusso n. {seen}).", seen)
    try:
        flow_json = client.get_flow(ente.codice_fiscale, item.fdr, item.revision, item.psp_id)
    except FdrRestError as exc:
        return outcome("error", exc.message)
    try:
        flow_dt: dt.datetime | None = flow_datetime(flow_json)
    except ValueError:
        flow_dt = None  # to_parsed_flow refuses it with the reason
    current = session.scalars(
        sa.select(PaymentFlow).where(
            PaymentFlow.ente_id == ente.id,
            PaymentFlow.source == "pagopa",
            PaymentFlow.sender == item.psp_id,
            PaymentFlow.identifier == item.fdr,
            PaymentFlow.status == "accettato",
        )
    ).first()
    if current is not None and flow_dt is not None and flow_dt <= current.flow_dt:
        return outcome(
            "duplicate",
            f"Flusso {item.fdr} del PSP {item.psp_id} già importato (n. {current.id}) con data uguale o "
            "successiva: revisione non importata.",
            current.id,
        )
    try:
        payments = client.get_payments(ente.codice_fiscale, item.fdr, item.revision, item.psp_id)
    except FdrRestError as exc:
        return outcome("error", exc.message)
    fetched = FetchedFlow(organization_id=ente.codice_fiscale, flow=flow_json, payments=payments)
    try:
        parsed = to_parsed_flow(fetched, expected=item, today=today)
        with session.begin_nested():
            summary = import_parsed_flow(
                session, parsed, actor, ente_code=ente.code, file_name=label, method=method
            )
            flow = session.get(PaymentFlow, summary.flow_id)
            assert flow is not None
            flow.report = {
                **(flow.report or {}),
                "fdr_rest": {
                    "revision": item.revision,
                    "psp": item.psp_id,
                    "published": flow_json.get("published"),
                    "sender_id": (flow_json.get("sender") or {}).get("id"),
                },
            }
            session.flush()
    except DuplicateFlow as exc:
        return outcome("duplicate", exc.message, exc.details.get("flow_id"))
    except FlowRefused as exc:
        return outcome("refused", exc.message)
    result = outcome(
        "imported",
        f"Importato: {summary.payments} pagamenti ({summary.matched} riconciliati, {summary.duplicates} "
        f"duplicati), totale {format_eur(summary.total_cents)}"
        + (f"; sostituisce il flusso n. {summary.replaced_flow_id}" if summary.replaced_flow_id else "")
        + ".",
        summary.flow_id,
    )
    result.summary = summary
    return result


def fdr_fetch_summary(ente_code: str, outcomes: list[FdrFetchOutcome]) -> dict[str, Any]:
    """The JSON summary of one ente's FdR fetch (the command line prints it, the batch job stores it)."""
    statuses = [o.status for o in outcomes]
    return {
        "ente": ente_code,
        "flows": [o.as_json() for o in outcomes],
        "imported": statuses.count("imported"),
        "duplicates": statuses.count("duplicate"),
        "refused": statuses.count("refused"),
        "errors": statuses.count("error"),
    }


def queue_fdr_fetch(
    session: Session, actor: Actor, ente: Ente, *, published_after: dt.date | None = None
) -> Any:
    """A batch job (kind "fdr") fetching the ente's published FdR flows now (`tasks.run_fdr_fetch`): the
    button of the payments page, beside the daily job. Returns the BatchJob."""
    from app.jobs.services import create_job

    return create_job(
        session,
        kind="fdr",
        task="app.payments.tasks.run_fdr_fetch",
        actor=actor,
        ente_id=ente.id,
        file_name=f"pubblicati dal {published_after:%d/%m/%Y}" if published_after else None,
        params={"ente_id": ente.id, "dal": published_after.isoformat() if published_after else None},
    )
