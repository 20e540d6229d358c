"""Delivery use cases: print batches, PEC, SEND, and the notification outcomes. Never commit here.

An outcome sets the act's notification date by the rule of its channel (app/engine/deadlines.py
`notification_date`: delivery date; compiuta giacenza = the `compiuta_giacenza` parameter's days after the
CAD;
PEC delivery receipt date; SEND perfection date), moves the position to the act type's state, starts the
payment term (the act type's term parameter) and restarts prescription (`prescription_date` with every
notified interrupting act of the position), and records an event. A failed outcome opens a work-list item
with its next step. Refusals are `OutcomeError` (Italian, naming the act).
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.atti.delivery import pec as pec_mod
from app.atti.delivery.addresses import PostalAddress, address_problems, normalized
from app.atti.delivery.models import OUTCOMES, ActDelivery, ActOutcome, PrintBatch
from app.atti.delivery.printflow import KIND_MESSAGE, PrintItem, Unfixable, build_batch, precheck
from app.atti.delivery.send import SendAddress, SendClient, SendDocument, SendNotification, SendRecipient
from app.atti.events import record_act_event
from app.atti.models import Act
from app.core.audit import Actor, record_event
from app.core.calendar import is_italian_holiday
from app.core.errors import DomainError
from app.engine.deadlines import notification_date, payment_term_end, prescription_date
from app.engine.errors import TransitionNotAllowed
from app.engine.params import engine_params_from_rows
from app.engine.states import check_transition
from app.enti.models import Ente
from app.enti.queries import in_force, parameter_rows
from app.jobs.files import path_of, store_stream
from app.taxpayers.models import Taxpayer

GIACENZA_PARAMETER = "compiuta_giacenza"
MAX_UPLOAD = 20 * 1024 * 1024  # an outcome file (the reader refuses larger ones too)
LEGAL_FACT_TYPE = "attestazione_send"
NEXT_STEP_OF: dict[str, str] = {
    "irreperibile": "nuovo_indirizzo",
    "trasferito": "nuovo_indirizzo",
    "deceduto": "eredi",
    "pec_mancata_consegna": "reinvio",
    "send_irreperibile": "deposito_casa_comunale",
}
CHANNEL_OF_OUTCOME: dict[str, str] = {
    "pec_consegnata": "pec",
    "pec_mancata_consegna": "pec",
    "send_perfezionata": "send",
    "send_irreperibile": "send",
}
RULE_SOURCES: dict[str, str] = {
    "notificato": "art. 7 L. 890/1982",
    "rifiutato": "art. 138 c. 2 c.p.c.; art. 7 L. 890/1982",
    "pec_consegnata": "art. 6 D.P.R. 68/2005; art. 60 c. 7 D.P.R. 600/1973",
    "send_perfezionata": "art. 26 c. 9 D.L. 76/2020",
}


class OutcomeError(DomainError):
    """An outcome that cannot be applied (Italian message)."""


def _fmt(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


# --- recipients -----------------------------------------------------------------------------------------


def recipient_name(taxpayer: Taxpayer) -> str:
    if taxpayer.kind == "PG":
        return taxpayer.company_name or taxpayer.codice_fiscale
    return " ".join(p for p in (taxpayer.given_name, taxpayer.surname) if p) or taxpayer.codice_fiscale


def postal_address(taxpayer: Taxpayer) -> PostalAddress | None:
    """The current domicilio, else the registered office / residence (the same order as the act's text)."""
    current = [a for a in taxpayer.addresses if a.valid_to_dt is None]
    order = {"domicilio": 0, "sede_legale": 1, "residenza": 2}
    current.sort(key=lambda a: order.get(a.kind, 9))
    if not current:
        return None
    a = current[0]
    return PostalAddress(a.street, a.cap, a.comune, a.provincia, a.country or "IT")


def digital_domicile(taxpayer: Taxpayer) -> str | None:
    """The taxpayer's current PEC (domicilio digitale), which takes precedence over the post."""
    found = [c.value for c in taxpayer.contacts if c.kind == "pec" and c.valid_to_dt is None and c.value]
    return found[-1] if found else None


def act_pdf(session: Session, act: Act, file_store: str) -> bytes:
    """The act's issued PDF (its archive document's stored file)."""
    from app.archive.models import Document

    document = session.get(Document, act.document_id)
    assert document is not None  # noqa: S101 - foreign key
    return path_of(file_store, document.file_path).read_bytes()


def acts_of_ente(session: Session, ente_id: int, act_ids: Sequence[int]) -> list[Act]:
    if not act_ids:
        return []
    found = {
        a.id: a
        for a in session.scalars(sa.select(Act).where(Act.ente_id == ente_id, Act.id.in_(list(act_ids))))
    }
    missing = [str(i) for i in act_ids if i not in found]
    if missing:
        raise OutcomeError(f"Atti non trovati per l'ente: {', '.join(missing[:10])}.")
    return [found[i] for i in act_ids]


def _sent(session: Session, act: Act, actor: Actor, delivery: ActDelivery, summary: str) -> None:
    session.add(delivery)
    act.status = "inviato"
    act.sent_date = delivery.sent_date
    act.channel = delivery.channel
    session.flush()
    record_act_event(
        session,
        actor,
        act,
        "act.sent",
        summary[:500],
        protocol=act.protocol,
        channel=delivery.channel,
        delivery=delivery.id,
    )


# --- print flow ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Precheck:
    items: list[PrintItem] = field(default_factory=list)
    unfixable: list[Unfixable] = field(default_factory=list)
    by_pec: list[Act] = field(default_factory=list)


def print_precheck(
    session: Session, acts: Sequence[Act], *, file_store: str | None = None, messages: Sequence[Any] = ()
) -> Precheck:
    """Which acts can go to the postal provider: not yet sent, no domicilio digitale (PEC goes first), a
    deliverable address; and which postal messages (`messages`, app/atti/delivery/letters.py): a deliverable
    address. `file_store` given: the items carry their PDFs (to build the batch)."""
    from app.atti.delivery import letters

    result = Precheck()
    candidates: list[PrintItem] = []
    for act in acts:
        taxpayer: Taxpayer = act.taxpayer
        if act.status != "emesso":
            result.unfixable.append(
                Unfixable(
                    act.id, act.protocol, recipient_name(taxpayer), (f"stato: atto {act.status_label}",)
                )
            )
            continue
        if digital_domicile(taxpayer):
            result.by_pec.append(act)
            continue
        candidates.append(
            PrintItem(
                act.id,
                act.protocol,
                taxpayer.codice_fiscale,
                recipient_name(taxpayer),
                postal_address(taxpayer),
                act_pdf(session, act, file_store) if file_store else b"",
            )
        )
    candidates.extend(letters.print_items(session, messages, file_store=file_store))
    good, bad = precheck(candidates)
    result.items = good
    result.unfixable.extend(bad)
    return result


def _batch_code(session: Session, ente: Ente, today: dt.date) -> str:
    prefix = f"{ente.code}-{today:%Y%m%d}-"
    count = session.scalar(
        sa.select(sa.func.count()).select_from(PrintBatch).where(PrintBatch.code.like(prefix + "%"))
    )
    return f"{prefix}{int(count or 0) + 1:03d}"


def create_print_batch(
    session: Session,
    ente: Ente,
    acts: Sequence[Act],
    actor: Actor,
    *,
    file_store: str,
    today: dt.date,
    now: dt.datetime,
    messages: Sequence[Any] = (),
) -> PrintBatch:
    """The batch of the deliverable acts and postal messages (ZIP in the file store), each act marked sent by
    post, each message `inviato`; the others listed in `excluded` with their reasons. OutcomeError when
    nothing can go."""
    from app.atti.delivery import letters

    check = print_precheck(session, acts, file_store=file_store, messages=messages)
    if not check.items:
        raise OutcomeError(
            "Nessun atto o comunicazione recapitabile per posta nel lotto: vedere la verifica degli "
            "indirizzi."
        )
    code = _batch_code(session, ente, today)
    built = build_batch(code, check.items, now)
    stored = store_stream(file_store, io.BytesIO(built.zip_bytes))
    excluded = [
        {
            ("message" if u.kind == KIND_MESSAGE else "act"): u.act_id,
            "protocol": u.protocol,
            "recipient": u.recipient,
            "problems": list(u.problems),
        }
        for u in check.unfixable
    ] + [
        {
            "act": a.id,
            "protocol": a.protocol,
            "recipient": recipient_name(a.taxpayer),
            "problems": ["domicilio digitale: inviare via PEC"],
        }
        for a in check.by_pec
    ]
    letter_rows = [r for r in built.rows if r.is_message]
    act_rows = [r for r in built.rows if not r.is_message]
    batch = PrintBatch(
        ente_id=ente.id,
        code=code,
        status="pronto",
        acts=len(act_rows),
        messages=len(letter_rows),
        pages=built.pages,
        file_path=stored.relative_path,
        sha256=stored.sha256,
        size_bytes=stored.size,
        excluded=excluded,
        created_by_id=actor.user_id,
        created_by_label=actor.label,
    )
    session.add(batch)
    session.flush()
    by_id = {a.id: a for a in acts}
    letters.mark_batched(session, messages, letter_rows, batch)
    for row in act_rows:
        act = by_id[row.act_id]
        delivery = ActDelivery(
            ente_id=ente.id,
            act_id=act.id,
            channel="posta",
            status="inviato",
            sent_date=today,
            recipient=normalized(row.address).one_line[:320],
            batch_id=batch.id,
            sequence=row.sequence,
            barcode=row.barcode,
        )
        _sent(session, act, actor, delivery, f"Atto prot. {act.protocol} nel lotto di stampa {code}")
    record_event(
        session,
        actor,
        "act.print_batch",
        f"Lotto di stampa {code}: {len(act_rows)} atti, {len(letter_rows)} comunicazioni, {built.pages} "
        f"pagine, {len(excluded)} esclusi",
        ente_id=ente.id,
        payload={
            "batch": batch.id,
            "code": code,
            "acts": [r.act_id for r in act_rows],
            "messages": [r.act_id for r in letter_rows],
            "excluded": excluded,
        },
    )
    return batch


# --- PEC ----------------------------------------------------------------------------------------------------


def send_act_by_pec(
    session: Session, act: Act, actor: Actor, *, smtp: Any, file_store: str, today: dt.date
) -> ActDelivery:
    """Send the act's PDF by PEC to the taxpayer's domicilio digitale (app/core/mailer.py, PEC_FROM); the
    delivery keeps the Message-ID the receipts will name. MailerError when the server refuses."""
    from app.core.mailer import send

    address = digital_domicile(act.taxpayer)
    if not address:
        raise OutcomeError(f"Atto prot. {act.protocol}: il contribuente non ha un domicilio digitale (PEC).")
    if act.status not in ("emesso", "non_notificato"):
        raise OutcomeError(f"Atto prot. {act.protocol}: già {act.status_label.lower()}.")
    body = (
        f"Si notifica, ai sensi dell'art. 60 c. 7 del D.P.R. 600/1973, l'atto allegato ({act.act_type.name}, "
        f"protocollo {act.protocol} del {_fmt(act.protocol_date)}).\n\n{act.ente.name}"
    )
    message = pec_mod.act_message(
        smtp,
        to=address,
        act_label=act.act_type.name,
        protocol=act.protocol,
        body=body,
        pdf_name=f"{act.protocol}.pdf",
        pdf=act_pdf(session, act, file_store),
    )
    message_id = send(smtp, message)
    delivery = ActDelivery(
        ente_id=act.ente_id,
        act_id=act.id,
        channel="pec",
        status="inviato",
        sent_date=today,
        recipient=address[:320],
        message_id=message_id.strip().strip("<>")[:500],
    )
    _sent(session, act, actor, delivery, f"Atto prot. {act.protocol} inviato via PEC a {address}")
    return delivery


def pec_receipt_filed(session: Session, ente: Ente, mail: Any, row: Any, actor: Actor) -> ActOutcome | None:
    """The archive's mailbox filed a PEC receipt: when it is about an act we sent (its Message-ID, else the
    protocol in the subject), the delivery receipt notifies the act, a non-delivery notice fails it, the
    acceptance marks the delivery accepted. Registered on `app.archive.mailbox.FILED_HOOKS`."""
    if getattr(mail, "kind", None) != "ricevuta_pec":
        return None
    daticert = next((p.data for p in mail.parts if p.role == "daticert"), None)
    info = pec_mod.read_receipt(mail.receipt_kind or "", daticert, mail.subject)
    query = sa.select(ActDelivery).where(ActDelivery.ente_id == ente.id, ActDelivery.channel == "pec")
    delivery = None
    if info.msgid:
        delivery = session.scalars(query.where(ActDelivery.message_id == info.msgid)).first()
    if delivery is None and info.protocol:
        delivery = session.scalars(
            query.join(Act, Act.id == ActDelivery.act_id)
            .where(Act.protocol == info.protocol)
            .order_by(ActDelivery.id.desc())
        ).first()
    if delivery is None:
        return None
    day = info.day or dt.date.today()
    act = session.get(Act, delivery.act_id)
    assert act is not None  # noqa: S101 - foreign key
    if info.kind == pec_mod.ACCEPTED:
        delivery.status = "accettato"
        return None
    if info.kind == pec_mod.DELIVERED:
        outcome = "pec_consegnata"
        delivery.status = "consegnato"
    elif info.kind in pec_mod.NOT_DELIVERED:
        outcome = "pec_mancata_consegna"
        delivery.status = "non_consegnato"
    else:
        return None
    if act.status == "notificato" or _duplicate(session, act.id, outcome, day):
        return None  # a receipt read twice changes nothing
    if outcome_problem(session, act, outcome, day, None):
        return None  # e.g. dated before the sending: the receipt stays filed, the act is not touched
    return apply_outcome(
        session,
        act,
        actor,
        outcome=outcome,
        event_date=day,
        source="pec",
        reference=f"Ricevuta PEC {row.protocol or ''} ({info.msgid or mail.message_id})"[:300],
        document_id=row.document_id,
        delivery=delivery,
    )


# --- SEND ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendSettings:
    taxonomy_code: str
    physical_type: str = "AR_REGISTERED_LETTER"
    fee_policy: str = "FLAT_RATE"


def send_setting(session: Session, act: Act) -> SendSettings:
    """The ente/entrata parameter `send` ({"taxonomy_code", "physical_type", "fee_policy"}: who signs the
    request decides the taxonomy, domain.md §7); without it the riscossore's code for coercive acts."""
    row = in_force(
        parameter_rows(session, ente_id=act.ente_id, entrata_id=act.entrata_id), "send", act.issue_date
    )
    value = (row or {}).get("value") or {}
    code = str(value.get("taxonomy_code") or ("030301P" if act.notice_number else "030302N"))
    return SendSettings(
        code,
        str(value.get("physical_type") or "AR_REGISTERED_LETTER"),
        str(value.get("fee_policy") or "FLAT_RATE"),
    )


def send_act_by_send(
    session: Session, act: Act, actor: Actor, client: SendClient, *, file_store: str, today: dt.date
) -> ActDelivery:
    """Send the act through SEND (documents pre-loaded with their SHA-256, the recipient with tax id, address
    and PEC, the pagoPA notice with the ente's CF); the delivery keeps SEND's request id (IUN on polling)."""
    if act.status not in ("emesso", "non_notificato"):
        raise OutcomeError(f"Atto prot. {act.protocol}: già {act.status_label.lower()}.")
    taxpayer: Taxpayer = act.taxpayer
    ente: Ente = act.ente
    address = postal_address(taxpayer)
    settings = send_setting(session, act)
    recipient = SendRecipient(
        kind="PG" if taxpayer.kind == "PG" else "PF",
        tax_id=taxpayer.codice_fiscale,
        denomination=recipient_name(taxpayer),
        address=SendAddress(address.street, address.cap, address.comune, address.provincia)
        if address and not address_problems(address)
        else None,
        pec=digital_domicile(taxpayer),
        notice_code=act.notice_number,
        creditor_tax_id=ente.codice_fiscale if act.notice_number else None,
    )
    notification = SendNotification(
        protocol=act.protocol,
        idempotence_token=f"atto-{act.id}-{today:%Y%m%d}",
        subject=f"{act.act_type.name} prot. {act.protocol}",
        sender_denomination=ente.name,
        sender_tax_id=ente.codice_fiscale,
        taxonomy_code=settings.taxonomy_code,
        recipients=(recipient,),
        physical_type=settings.physical_type,
        fee_policy=settings.fee_policy,
    )
    document = SendDocument(act.act_type.name, act_pdf(session, act, file_store))
    request_id = client.send(notification, [document])
    delivery = ActDelivery(
        ente_id=act.ente_id,
        act_id=act.id,
        channel="send",
        status="inviato",
        sent_date=today,
        recipient=taxpayer.codice_fiscale,
        send_request_id=request_id[:64],
    )
    _sent(session, act, actor, delivery, f"Atto prot. {act.protocol} inviato a SEND (richiesta {request_id})")
    return delivery


def poll_send(
    session: Session, delivery: ActDelivery, actor: Actor, client: SendClient, *, file_store: str
) -> ActOutcome | None:
    """Poll one SEND delivery: acceptance and IUN, then the perfection (or unreachability) date; on an
    outcome, the legal facts are downloaded and filed in the archive, the first linked to the outcome."""
    act = session.get(Act, delivery.act_id)
    assert act is not None  # noqa: S101 - foreign key
    if delivery.send_iun is None:
        status = client.request_status(delivery.send_request_id or "")
        if status.status == "REFUSED":
            delivery.status, delivery.error = "errore", "; ".join(status.errors)[:4000] or "rifiutata da SEND"
            return None
        if status.status != "ACCEPTED" or not status.iun:
            return None
        delivery.status, delivery.send_iun = "accettato", status.iun
    state = client.sent(delivery.send_iun)
    if state.perfection_date is not None:
        outcome, day = "send_perfezionata", state.perfection_date
    elif state.unreachable_date is not None:
        outcome, day = "send_irreperibile", state.unreachable_date
    else:
        return None
    if act.status == "notificato" or _duplicate(session, act.id, outcome, day):
        return None
    documents = _file_legal_facts(session, act, actor, client, delivery.send_iun, file_store=file_store)
    delivery.status = "consegnato" if outcome == "send_perfezionata" else "non_consegnato"
    return apply_outcome(
        session,
        act,
        actor,
        outcome=outcome,
        event_date=day,
        source="send",
        reference=f"SEND IUN {delivery.send_iun}",
        document_id=documents[0] if documents else None,
        delivery=delivery,
    )


def _file_legal_facts(
    session: Session, act: Act, actor: Actor, client: SendClient, iun: str, *, file_store: str
) -> list[int]:
    from app.archive.services import IncomingFile, file_documents

    ids: list[int] = []
    with tempfile.TemporaryDirectory(prefix="esattoria-send-") as tmp:
        for n, fact in enumerate(client.legal_facts(iun), start=1):
            got = client.download_legal_fact(iun, fact.key)
            if got is None:
                continue
            name, content = got
            path = Path(tmp) / f"fatto-{n}"
            path.write_bytes(content)
            (result,) = file_documents(
                session,
                [IncomingFile(name[:255], path)],
                act.ente,
                "web",
                LEGAL_FACT_TYPE,
                actor,
                file_store=file_store,
                mode="sync",
                sender="SEND - Piattaforma Notifiche",
                subject=f"Attestazione SEND {fact.category} IUN {iun} (atto prot. {act.protocol})"[:500],
                taxpayer_id=act.taxpayer_id,
            )
            if result.document is not None:
                ids.append(result.document)
    return ids


# --- outcomes -----------------------------------------------------------------------------------------------


def _duplicate(session: Session, act_id: int, outcome: str, day: dt.date) -> bool:
    return (
        session.scalar(
            sa.select(ActOutcome.id).where(
                ActOutcome.act_id == act_id, ActOutcome.outcome == outcome, ActOutcome.event_date == day
            )
        )
        is not None
    )


def outcome_problem(
    session: Session, act: Act, outcome: str, event_date: dt.date, cad_date: dt.date | None
) -> str | None:
    """Why this outcome cannot be applied to this act (Italian), or None."""
    if act.sent_date is None:
        return f"l'atto prot. {act.protocol} non risulta inviato"
    if event_date < act.sent_date:
        return f"data {_fmt(event_date)} anteriore all'invio dell'atto ({_fmt(act.sent_date)})"
    if cad_date is not None and cad_date < act.sent_date:
        return f"data della CAD {_fmt(cad_date)} anteriore all'invio dell'atto ({_fmt(act.sent_date)})"
    if event_date > dt.date.today() + dt.timedelta(days=1):
        return f"data {_fmt(event_date)} nel futuro"
    if act.status == "notificato":
        return (
            f"esito duplicato: l'atto prot. {act.protocol} è già notificato il {_fmt(act.notified_date)}"
            if (act.notified_date)
            else f"esito duplicato: l'atto prot. {act.protocol} è già notificato"
        )
    if _duplicate(session, act.id, outcome, event_date):
        label = OUTCOMES.get(outcome, outcome)
        return f"esito duplicato: {label} del {_fmt(event_date)} già registrato (atto prot. {act.protocol})"
    return None


def apply_outcome(
    session: Session,
    act: Act,
    actor: Actor,
    *,
    outcome: str,
    event_date: dt.date,
    source: str,
    cad_date: dt.date | None = None,
    reference: str | None = None,
    document_id: int | None = None,
    delivery: ActDelivery | None = None,
) -> ActOutcome:
    """Record one outcome and apply it (see the module's docstring). OutcomeError, nothing changed, when it
    cannot be applied."""
    problem = outcome_problem(session, act, outcome, event_date, cad_date)
    if problem:
        raise OutcomeError(problem[0].upper() + problem[1:] + ".")
    rows = parameter_rows(session, ente_id=act.ente_id, entrata_id=act.entrata_id)
    giacenza_days: int | None = None
    rule_source = RULE_SOURCES.get(outcome)
    if outcome == "compiuta_giacenza":
        row = in_force(rows, GIACENZA_PARAMETER, cad_date or event_date)
        if row is None:
            raise OutcomeError("Parametro «compiuta_giacenza» non in vigore alla data della CAD.")
        giacenza_days, rule_source = int(row["value"]["days"]), row["source"]
    notified = notification_date(outcome, event_date, cad_date=cad_date, giacenza_days=giacenza_days)
    channel = (
        CHANNEL_OF_OUTCOME.get(outcome) or (delivery.channel if delivery else None) or act.channel or "posta"
    )
    if delivery is None:
        delivery = session.scalars(
            sa.select(ActDelivery)
            .where(ActDelivery.act_id == act.id, ActDelivery.channel == channel)
            .order_by(ActDelivery.id.desc())
        ).first()
    record = ActOutcome(
        ente_id=act.ente_id,
        act_id=act.id,
        delivery_id=delivery.id if delivery else None,
        channel=channel,
        outcome=outcome,
        event_date=event_date,
        cad_date=cad_date,
        notified_date=notified,
        rule_source=rule_source,
        source=source,
        reference=reference,
        document_id=document_id,
        created_by_id=actor.user_id,
        created_by_label=actor.label,
    )
    act.notification_outcome = outcome
    position = act.position
    if notified is None:
        record.next_step = NEXT_STEP_OF.get(outcome, "reinvio")
        record.worklist_status = "aperto"
        act.status = "non_notificato"
        if delivery is not None:
            delivery.status = "non_consegnato"
        session.add(record)
        session.flush()
        record_act_event(
            session,
            actor,
            act,
            "act.not_notified",
            f"Atto prot. {act.protocol} non notificato: {record.outcome_label} ({_fmt(event_date)})",
            outcome=outcome,
            date=event_date.isoformat(),
            source=source,
            next_step=record.next_step,
            reference=reference,
        )
        return record
    act.status = "notificato"
    act.notified_date = notified
    act.channel = channel
    if delivery is not None and delivery.status != "consegnato":
        delivery.status = "consegnato"
    act_type = act.act_type
    previous_state = position.state
    target = act_type.target_state
    moved = None
    if target and target != position.state:
        try:
            check_transition(position.state, target)
            position.state = target
            moved = target
        except TransitionNotAllowed:
            moved = None  # e.g. a sollecito notified on a paid position: the state stays, the event says so
    if act_type.operation == "notifica" or position.notified_date is None:
        position.notified_date = notified
    from app.atti.services import term_days

    days = term_days(session, act_type, notified, ente_id=act.ente_id, entrata_id=act.entrata_id)
    if days is not None:
        record.payment_due_date = payment_term_end(notified, days, is_italian_holiday)
    prescription = None
    if act_type.interrupts_prescription:
        earlier = session.scalars(
            sa.select(Act.notified_date).where(
                Act.position_id == position.id,
                Act.id != act.id,
                Act.status == "notificato",
                Act.notified_date.is_not(None),
            )
        ).all()
        params = engine_params_from_rows(rows, notified)
        regime = params.prescription_regimes.get(position.entrata.prescription_regime)
        if regime is not None:
            prescription = prescription_date(
                regime, position.due_date, [*[d for d in earlier if d], notified], is_italian_holiday
            )
            record.prescription_date = prescription.date
    session.add(record)
    session.flush()
    record_act_event(
        session,
        actor,
        act,
        "act.notified",
        f"Atto prot. {act.protocol} notificato il {_fmt(notified)} ({record.outcome_label})",
        outcome=outcome,
        event_date=event_date.isoformat(),
        cad_date=cad_date.isoformat() if cad_date else None,
        notified_date=notified.isoformat(),
        rule_source=rule_source,
        channel=channel,
        source=source,
        reference=reference,
        payment_due_date=record.payment_due_date.isoformat() if record.payment_due_date else None,
        prescription_date=prescription.date.isoformat() if prescription else None,
        prescription_source=prescription.source if prescription else None,
        previous_state=previous_state,
        state=position.state if moved else previous_state,
    )
    if moved:
        record_event(
            session,
            actor,
            "position.state_changed",
            f"Posizione {position.external_id}: da «{previous_state}» a «{moved}» (notifica dell'atto "
            f"prot. {act.protocol})",
            taxpayer_id=act.taxpayer_id,
            position_id=position.id,
            ente_id=act.ente_id,
            payload={"from": previous_state, "to": moved, "act": act.id},
        )
    return record


def close_work_item(session: Session, outcome: ActOutcome, actor: Actor, note: str) -> None:
    """Mark a failed notification as worked (the next step done), with an event."""
    if outcome.worklist_status != "aperto":
        raise OutcomeError("Questo esito non è in lista di lavoro.")
    outcome.worklist_status = "chiuso"
    act = session.get(Act, outcome.act_id)
    assert act is not None  # noqa: S101 - foreign key
    record_act_event(
        session,
        actor,
        act,
        "act.not_notified",
        f"Lista di lavoro: esito {outcome.outcome_label} dell'atto prot. {act.protocol} lavorato: {note}"[
            :500
        ],
        outcome=outcome.id,
        next_step=outcome.next_step,
        note=note[:500],
    )
