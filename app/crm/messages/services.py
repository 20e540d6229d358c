"""Use cases of outgoing messages. Services flush, never commit; the sending itself runs in an RQ job
(`tasks.send_message`) queued after the caller's commit.

`queue_message` (the entry point for every slice) in steps:
1. a message with the same dedup key already exists: it is returned, nothing else happens (idempotent);
2. the channel: the one asked for, else the taxpayer's preference (`choose_channel`);
3. the recipient (the taxpayer's contact in force for that channel; the codice fiscale for App IO) and the
   consent; when either is missing the message is stored as `rifiutato` with the Italian reason, and not sent;
4. the text: the template in force (ente, entrata or all, purpose, channel) filled from the card;
5. the row `in_coda`, its attachments, the `message.queued` event, and the sending job after commit.

Posta (app/crm/messages/postal.py) is the fallback: last in DEFAULT_ORDER, so a message whose channel is left
to the taxpayer's preference goes by post only when no digital channel can be used (or when the taxpayer
prefers it); a rule sends by post only if the ente lists `posta` among its channels. It needs no consent (as
PEC and App IO, only a recorded refusal stops it) but a deliverable address, checked as the print pre-check
does. Its step 5 files the letter (PDF, protocol) instead of queueing a job: a print batch sends it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.core.audit import Actor, record_event
from app.core.db import utcnow
from app.core.errors import DomainError
from app.crm.messages import postal, rendering
from app.crm.messages.channels import channel_for
from app.crm.messages.models import (
    CHANNELS,
    PURPOSES,
    Consent,
    Message,
    MessageAttachment,
    MessageRule,
    MessageTemplate,
)
from app.enti.models import Ente
from app.positions.models import Position
from app.reports.formatting import format_date_it, format_eur
from app.taxpayers.models import Taxpayer

# channel None and no preference: the first that works; posta, last, is the fallback
DEFAULT_ORDER = ("app_io", "email", "pec", "sms", "posta")
CONTACT_KIND = {"email": "email", "pec": "pec", "sms": "cellulare"}
# E-mail and SMS need the taxpayer's consent. PEC is the digital domicile and App IO's consent is the
# citizen's own setting in the app (checked at send time): both are refused only after a recorded refusal.
NEEDS_CONSENT = frozenset({"email", "sms"})
NO_CONSENT = {
    "email": "Il contribuente non ha dato il consenso alle e-mail",
    "sms": "Il contribuente non ha dato il consenso agli SMS",
    "pec": "Il contribuente ha negato il consenso ai messaggi via PEC",
    "app_io": "Il contribuente ha negato il consenso ai messaggi App IO",
    "posta": "Il contribuente ha negato il consenso alle comunicazioni per posta",
}
NOT_REMINDED = frozenset({"pagata", "sgravata", "inesigibile", "prescritta", "sospesa"})
RETRY_INTERVALS = (60, 300, 1800)  # seconds between attempts (MESSAGES_RETRY_INTERVALS overrides)


@dataclass(frozen=True, slots=True)
class PositionFacts:
    """What a message says of a position besides the row: its amount due today and its notice number."""

    due_cents: int
    notice_number: str | None
    due_date: dt.date | None = None  # an installment's (app/plans), instead of the position's


def position_facts(session: Session, positions: Sequence[Position], on: dt.date) -> dict[int, PositionFacts]:
    """The facts of many positions in a few queries (the amount due is app.positions.amounts')."""
    from app.payments.notices import notice_numbers_of_positions
    from app.positions.amounts import amounts_due

    dues = amounts_due(session, positions, on)
    numbers = notice_numbers_of_positions(session, [p.id for p in positions])
    return {p.id: PositionFacts(dues[p.id].total_cents, (numbers.get(p.id) or [None])[0]) for p in positions}


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    """A file already in the store (app.jobs.files) to attach."""

    filename: str
    mime_type: str
    file_path: str
    size: int


def today() -> dt.date:
    from app.positions.amounts import today_rome

    return today_rome()


# --- consents and recipients -----------------------------------------------------------------------------


def open_consents(session: Session, taxpayer_id: int) -> dict[str, Consent]:
    rows = session.scalars(
        sa.select(Consent).where(Consent.taxpayer_id == taxpayer_id, Consent.valid_to_dt.is_(None))
    )
    return {row.channel: row for row in rows}


def recipient_for(taxpayer: Taxpayer, channel: str) -> str | None:
    """The taxpayer's address for `channel` in force now (the latest one), or None."""
    if channel == "app_io":
        return taxpayer.codice_fiscale if taxpayer.kind == "PF" else None
    if channel == "posta":
        return postal.recipient_line(taxpayer)
    kind = CONTACT_KIND[channel]
    current = [c for c in taxpayer.contacts if c.kind == kind and c.valid_to_dt is None]
    current.sort(key=lambda c: c.valid_from_dt, reverse=True)
    return current[0].value.strip() if current else None


def refusal(taxpayer: Taxpayer, channel: str, consents: Mapping[str, Consent]) -> str | None:
    """Why `channel` cannot be used for this taxpayer (Italian), or None."""
    consent = consents.get(channel)
    if consent is not None and not consent.granted:
        return NO_CONSENT[channel]
    if channel in NEEDS_CONSENT and consent is None:
        return NO_CONSENT[channel]
    recipient = recipient_for(taxpayer, channel)
    if channel == "app_io" and recipient is None:
        return "App IO è disponibile solo per le persone fisiche"
    if channel == "posta":
        return postal.address_refusal(taxpayer)
    return channel_for(channel, current_app.config).check(recipient)


def choose_channel(session: Session, taxpayer: Taxpayer, order: Sequence[str] = DEFAULT_ORDER,
                   consents: Mapping[str, Consent] | None = None) -> str:
    """The preferred channel when it can be used, else the first of `order` that can; else the first of
    `order` (the message is then refused, saying why)."""
    if consents is None:
        consents = open_consents(session, taxpayer.id)
    preferred = [c.channel for c in consents.values() if c.granted and c.preferred and c.channel in order]
    for channel in [*preferred, *order]:
        if refusal(taxpayer, channel, consents) is None:
            return channel
    return order[0]


def record_consent(
    session: Session,
    taxpayer: Taxpayer,
    *,
    channel: str,
    granted: bool,
    source: str,
    actor: Actor,
    preferred: bool = False,
) -> Consent:
    """A new version of the consent for `channel` (the open one is closed); one preferred channel at most."""
    if channel not in CHANNELS:
        raise DomainError(f"Canale non valido: {channel}.")
    if not source.strip():
        raise DomainError("Indicare la fonte del consenso.")
    now = utcnow()
    consents = open_consents(session, taxpayer.id)
    old = consents.get(channel)
    if old is not None:
        old.valid_to_dt = now
    if preferred and granted:
        for other in consents.values():
            if other.channel != channel and other.preferred:
                other.valid_to_dt = now
                session.add(Consent(taxpayer_id=taxpayer.id, channel=other.channel, granted=other.granted,
                                    preferred=False, valid_from_dt=now, source=other.source,
                                    recorded_by_id=actor.user_id))
    consent = Consent(taxpayer_id=taxpayer.id, channel=channel, granted=granted,
                      preferred=bool(preferred and granted), valid_from_dt=now, source=source.strip(),
                      recorded_by_id=actor.user_id)
    session.add(consent)
    verb = "dato" if granted else "negato"
    summary = f"Consenso {verb} per {CHANNELS[channel]}" + (" (preferito)" if consent.preferred else "")
    record_event(session, actor, "consent.changed", summary,
                 taxpayer_id=taxpayer.id, payload={"channel": channel, "granted": granted, "source": source})
    session.flush()
    return consent


def update_consents(
    session: Session,
    taxpayer: Taxpayer,
    *,
    granted: set[str],
    preferred: str | None,
    source: str,
    actor: Actor,
) -> list[str]:
    """The consents as a whole form gives them (a channel listed is granted, one not listed refused, one
    preferred): a new version only for the channels that change; the Italian names of those changed."""
    if preferred is not None and preferred not in granted:
        raise DomainError("Il canale preferito deve avere il consenso.")
    current = open_consents(session, taxpayer.id)
    changed = []
    for channel in CHANNELS:
        want, prefer = channel in granted, channel == preferred
        now = current.get(channel)
        if now is not None and now.granted == want and bool(now.preferred) == prefer:
            continue
        if now is None and not want and channel not in NEEDS_CONSENT:
            continue  # no refusal recorded for a channel that needs no consent, unless asked
        record_consent(session, taxpayer, channel=channel, granted=want, source=source, actor=actor,
                       preferred=prefer)
        current = open_consents(session, taxpayer.id)
        changed.append(CHANNELS[channel])
    return changed


# --- templates -------------------------------------------------------------------------------------------


def find_template(
    session: Session, *, ente_id: int, entrata_id: int | None, purpose: str, channel: str, on: dt.date
) -> MessageTemplate | None:
    """The version in force on `on`: the entrata's own before the ente's template for every entrata."""
    stmt = (
        sa.select(MessageTemplate)
        .where(
            MessageTemplate.ente_id == ente_id,
            MessageTemplate.purpose == purpose,
            MessageTemplate.channel == channel,
            MessageTemplate.valid_from <= on,
            sa.or_(MessageTemplate.valid_to.is_(None), MessageTemplate.valid_to > on),
            sa.or_(MessageTemplate.entrata_id.is_(None), MessageTemplate.entrata_id == entrata_id),
        )
        .order_by(MessageTemplate.entrata_id.is_(None), MessageTemplate.version.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def ensure_default_templates(session: Session, ente_id: int, on: dt.date | None = None) -> int:
    """Version 1 of every default template (purpose x channel, every entrata) the ente does not have yet."""
    have = set(
        session.execute(
            sa.select(MessageTemplate.purpose, MessageTemplate.channel).where(
                MessageTemplate.ente_id == ente_id, MessageTemplate.entrata_id.is_(None)
            )
        ).tuples()
    )
    added = 0
    for purpose in PURPOSES:
        for channel in CHANNELS:
            if (purpose, channel) in have:
                continue
            subject, body = rendering.default_text(purpose, channel)
            session.add(MessageTemplate(ente_id=ente_id, entrata_id=None, purpose=purpose, channel=channel,
                                        version=1, subject=subject, body=body,
                                        valid_from=dt.date(2000, 1, 1)))
            added += 1
    if added:
        session.flush()
    return added


def save_template(
    session: Session,
    *,
    ente_id: int,
    entrata_id: int | None,
    purpose: str,
    channel: str,
    subject: str,
    body: str,
    actor: Actor,
    valid_from: dt.date,
) -> MessageTemplate:
    """A new version from `valid_from`: the version in force is closed the day before, never edited."""
    if purpose not in PURPOSES or channel not in CHANNELS:
        raise DomainError("Finalità o canale non validi.")
    if not subject.strip() or not body.strip():
        raise DomainError("Oggetto e testo sono obbligatori.")
    rendering.render(subject, body, rendering.SAMPLE_CONTEXT)  # syntax and placeholders, on the sample
    current = session.scalars(
        sa.select(MessageTemplate)
        .where(MessageTemplate.ente_id == ente_id, MessageTemplate.purpose == purpose,
               MessageTemplate.channel == channel,
               MessageTemplate.entrata_id.is_(None) if entrata_id is None
               else MessageTemplate.entrata_id == entrata_id)
        .order_by(MessageTemplate.version.desc())
        .with_for_update()
    ).all()
    for row in current:
        if row.valid_to is None or row.valid_to > valid_from:
            if row.valid_from >= valid_from:
                raise DomainError(
                    f"La versione {row.version} vale già dal {format_date_it(row.valid_from)}: "
                    "scegliere una data di validità successiva."
                )
            row.valid_to = valid_from
    template = MessageTemplate(
        ente_id=ente_id, entrata_id=entrata_id, purpose=purpose, channel=channel,
        version=(current[0].version + 1) if current else 1, subject=subject.strip(), body=body.strip(),
        valid_from=valid_from, created_by_id=actor.user_id,
    )
    session.add(template)
    session.flush()
    return template


# --- the context of a message: the card's data --------------------------------------------------------------


def message_context(
    session: Session,
    *,
    taxpayer: Taxpayer,
    ente: Ente,
    position: Position | None,
    extra: Mapping[str, Any] | None,
    on: dt.date,
    facts: PositionFacts | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The placeholders of the templates, and the channel payload (App IO: payment_data, due_date).
    `facts`: the position's amount due and notice number already read (a rules run reads them in bulk)."""
    from app.payments.notices import notice_numbers_of_positions
    from app.positions.amounts import amount_due

    context: dict[str, Any] = {
        "contribuente": {
            "nome": taxpayer.display_name,
            "codice_fiscale": taxpayer.codice_fiscale,
            "cognome": taxpayer.surname or "",
            "nome_proprio": taxpayer.given_name or "",
            "ragione_sociale": taxpayer.company_name or "",
        },
        "ente": {"nome": ente.name, "codice": ente.code},
        "oggi": format_date_it(on),
    }
    payload: dict[str, Any] = {}
    if position is not None:
        if facts is None:
            facts = PositionFacts(
                amount_due(session, position, on).total_cents,
                (notice_numbers_of_positions(session, [position.id]).get(position.id) or [None])[0],
            )
        due_cents = facts.due_cents
        numbers = [facts.notice_number] if facts.notice_number else []
        context["posizione"] = {
            "id_posizione": position.external_id,
            "numero_avviso": numbers[0] if numbers else "",
            "scadenza": format_date_it(facts.due_date or position.due_date),
            "descrizione": position.description or "",
            "anno": position.year,
            "entrata": position.entrata.name,
            "riferimento": position.reference or "",
        }
        context["importo_dovuto"] = format_eur(due_cents)
        payload["due_date"] = (facts.due_date or position.due_date).isoformat()
        if numbers and due_cents > 0:
            payload["payment_data"] = {"amount": due_cents, "notice_number": numbers[0]}
    context.update(extra or {})
    return context, payload


def preview(
    session: Session, *, taxpayer: Taxpayer, ente: Ente, purpose: str, channel: str,
    position: Position | None = None, context: Mapping[str, Any] | None = None,
) -> rendering.Rendered:
    on = today()
    ensure_default_templates(session, ente.id)
    template = find_template(session, ente_id=ente.id, entrata_id=position.entrata_id if position else None,
                             purpose=purpose, channel=channel, on=on)
    if template is None:
        raise DomainError("Nessun modello in vigore per questa finalità e questo canale.")
    values, _ = message_context(session, taxpayer=taxpayer, ente=ente, position=position, extra=context,
                                on=on)
    # placeholders the card cannot fill here (no position chosen, no appointment) show the sample's values
    sample = {k: v for k, v in rendering.SAMPLE_CONTEXT.items() if k not in values}
    return rendering.render(template.subject, template.body, {**sample, **values})


# --- queueing -----------------------------------------------------------------------------------------------


def _ref(item: Any) -> AttachmentRef:
    if isinstance(item, AttachmentRef):
        return item
    if isinstance(item, Mapping):
        return AttachmentRef(str(item["filename"]), str(item["mime_type"]), str(item["file_path"]),
                             int(item.get("size") or 0))
    # an object of the store: an archive Document (file_name, size_bytes) or anything with filename/size
    name = getattr(item, "filename", None) or getattr(item, "file_name", None)
    size = getattr(item, "size", None) or getattr(item, "size_bytes", None) or 0
    if not name:
        raise DomainError("Allegato senza nome del file.")
    return AttachmentRef(str(name), item.mime_type, item.file_path, int(size))


def retry_intervals() -> list[int]:
    configured = current_app.config.get("MESSAGES_RETRY_INTERVALS")
    return [int(s) for s in (configured if configured is not None else RETRY_INTERVALS)]


def queue_message(
    session: Session,
    *,
    taxpayer: Taxpayer,
    ente: Ente,
    purpose: str,
    channel: str | None = None,
    context: Mapping[str, Any] | None = None,
    actor: Actor,
    dedup_key: str | None = None,
    attachments: Iterable[Any] = (),
    position: Position | None = None,
    channels: Sequence[str] | None = None,
    facts: PositionFacts | None = None,
) -> Message:
    """Queue one message to `taxpayer` for `ente` (see the module docstring). `channel` None: the taxpayer's
    preference among `channels` (default: every channel). `context` adds placeholders (e.g.
    `{"appuntamento": {"data": ..., "ora": ..., "sportello": ...}}`); `position` fills `posizione` and
    `importo_dovuto`. `dedup_key`: the same key twice queues one message (rules, retries of the caller).
    `attachments`: files of the store, as `AttachmentRef`, mappings with the same keys, or objects such as an
    archive `Document` (file_name, mime_type, file_path, size_bytes).
    A message that cannot be sent (no consent, no recipient) is returned with status `rifiutato` and its
    `reason`; a template error raises DomainError and nothing is kept."""
    if purpose not in PURPOSES:
        raise DomainError(f"Finalità non valida: {purpose}.")
    if channel is not None and channel not in CHANNELS:
        raise DomainError(f"Canale non valido: {channel}.")
    if dedup_key:
        existing = session.scalars(sa.select(Message).where(Message.dedup_key == dedup_key)).first()
        if existing is not None:
            return existing
    on = today()
    consents = open_consents(session, taxpayer.id)
    chosen = channel or choose_channel(session, taxpayer, tuple(channels or DEFAULT_ORDER), consents)
    reason = refusal(taxpayer, chosen, consents)
    ensure_default_templates(session, ente.id)
    template = find_template(session, ente_id=ente.id, entrata_id=position.entrata_id if position else None,
                             purpose=purpose, channel=chosen, on=on)
    if template is None:
        raise DomainError(f"Nessun modello in vigore per «{PURPOSES[purpose]}» via {CHANNELS[chosen]}.")
    values, payload = message_context(session, taxpayer=taxpayer, ente=ente, position=position,
                                      extra=context, on=on, facts=facts)
    text = rendering.render(template.subject, template.body, values)
    letter = None
    if chosen == "posta" and not reason:  # the letter (PDF, protocol) first: a DomainError keeps nothing
        letter = postal.file_letter(session, ente=ente, taxpayer=taxpayer, position=position,
                                    subject=text.subject[:200], body=text.body, actor=actor,
                                    file_store=current_app.config["FILE_STORE"], on=on)
        payload = {**payload, **letter.payload()}
    message = Message(
        ente_id=ente.id, taxpayer_id=taxpayer.id, position_id=position.id if position else None,
        channel=chosen, recipient=recipient_for(taxpayer, chosen), template_id=template.id, purpose=purpose,
        subject=text.subject[:200], body=text.body, payload=payload,
        status="rifiutato" if reason else "in_coda", reason=reason, attempts=0,
        dedup_key=dedup_key or f"manuale:{uuid.uuid4().hex}", created_by_id=actor.user_id,
        actor_label=actor.label[:120], created_dt=utcnow(),
    )
    if reason:
        message.failed_dt = message.created_dt
    if letter is not None:
        message.document_id = letter.document.id
        message.attachments.append(MessageAttachment(
            filename=letter.document.file_name, mime_type="application/pdf",
            file_path=letter.document.file_path, size=letter.document.size_bytes))
    session.add(message)
    for item in attachments:
        ref = _ref(item)
        message.attachments.append(MessageAttachment(filename=ref.filename, mime_type=ref.mime_type,
                                                     file_path=ref.file_path, size=ref.size))
    session.flush()
    label = f"{PURPOSES[purpose]} via {CHANNELS[chosen]}"
    common = {"taxpayer_id": taxpayer.id, "ente_id": ente.id,
              "position_id": position.id if position else None}
    if reason:
        record_event(session, actor, "message.refused", f"{label} non inviato: {reason}",
                     payload={"message_id": message.id, "reason": reason}, **common)
        return message
    if letter is not None:  # no job: the next print batch takes it (app/atti/delivery/letters.py)
        record_event(session, actor, "message.queued",
                     f"{label} in coda per il lotto di stampa (lettera prot. {letter.protocol})",
                     payload={"message_id": message.id, "protocol": letter.protocol,
                              "document_id": letter.document.id}, **common)
        return message
    record_event(session, actor, "message.queued", f"{label} in coda",
                 payload={"message_id": message.id}, **common)
    enqueue_send(session, message)
    return message


def enqueue_send(session: Session, message: Message) -> None:
    from rq import Retry

    from app.core.jobs import enqueue_after_commit
    from app.crm.messages.tasks import send_message

    intervals = retry_intervals()
    kwargs: dict[str, Any] = {}
    if intervals:
        kwargs["retry"] = Retry(max=len(intervals), interval=intervals)
    enqueue_after_commit(session, send_message, message.id, queue_name="default",
                         job_id=f"messaggio-{message.id}-{message.attempts}", **kwargs)


def resend(session: Session, message: Message, actor: Actor) -> Message:
    """A failed message queued again by an operator (same row, new attempts)."""
    if message.status != "fallito":
        raise DomainError("Si può rinviare solo un messaggio non riuscito.")
    if message.channel == "posta":
        raise DomainError("Una lettera non recapitata non si rinvia: correggere l'indirizzo in anagrafica e "
                          "inviare un nuovo messaggio (l'indirizzo è stampato sulla lettera).")
    message.status, message.reason = "in_coda", None
    record_event(session, actor, "message.queued", f"{message.purpose_label} via {message.channel_label} "
                 "di nuovo in coda", taxpayer_id=message.taxpayer_id, ente_id=message.ente_id,
                 position_id=message.position_id, payload={"message_id": message.id})
    session.flush()
    enqueue_send(session, message)
    return message


# --- the outcome of an attempt (called by the sending job) --------------------------------------------------

SYSTEM = Actor.system("messaggi")


def _event(session: Session, message: Message, kind: str, summary: str, **payload: Any) -> None:
    record_event(session, SYSTEM, kind, summary, taxpayer_id=message.taxpayer_id, ente_id=message.ente_id,
                 position_id=message.position_id, payload={"message_id": message.id, **payload})


def mark_sent(session: Session, message: Message, provider_id: str, **extra: Any) -> None:
    """`extra`: more of the event's payload (posta: the print batch and the sequence)."""
    now = utcnow()
    message.status, message.provider_id, message.sent_dt, message.reason = "inviato", provider_id, now, None
    _event(session, message, "message.sent",
           f"{message.purpose_label} inviato via {message.channel_label} a {message.recipient}",
           provider_id=provider_id, attempts=message.attempts, **extra)


def mark_delivered(session: Session, message: Message, **extra: Any) -> None:
    message.status, message.delivered_dt = "consegnato", utcnow()
    _event(session, message, "message.delivered",
           f"{message.purpose_label} consegnato via {message.channel_label}", provider_id=message.provider_id,
           **extra)


def mark_failed(session: Session, message: Message, reason: str, **extra: Any) -> None:
    message.status, message.reason, message.failed_dt = "fallito", reason[:500], utcnow()
    _event(session, message, "message.failed",
           f"{message.purpose_label} via {message.channel_label} non riuscito: {reason}"[:500],
           reason=reason[:500], attempts=message.attempts, **extra)


def mark_refused(session: Session, message: Message, reason: str) -> None:
    message.status, message.reason, message.failed_dt = "rifiutato", reason[:500], utcnow()
    _event(session, message, "message.refused",
           f"{message.purpose_label} via {message.channel_label} non inviato: {reason}"[:500],
           reason=reason[:500])


# --- rules: automatic reminders -----------------------------------------------------------------------------


@dataclass(slots=True)
class RulesRun:
    day: dt.date
    rules: int = 0
    queued: int = 0
    refused: int = 0
    already: int = 0
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"data": self.day.isoformat(), "regole": self.rules, "in_coda": self.queued,
                "rifiutati": self.refused, "gia_presenti": self.already, "errori": self.errors}


def rule_dedup_key(rule: MessageRule, position: Position) -> str:
    return f"regola:{rule.id}:posizione:{position.id}:{position.due_date.isoformat()}"


def run_rules(session: Session, on: dt.date, actor: Actor) -> RulesRun:
    """For each active rule, the positions of its ente (and entrata) due on `on + days_before`, not closed,
    get one message each. The dedup key (rule, position, due date) makes a rerun queue nothing twice.

    A position in a stored plan is reminded of its installments instead (`app.plans.reminders`: each unpaid
    installment due on that day, its amount and its own notice number), never of its original due date."""
    from sqlalchemy.orm import selectinload

    run = RulesRun(day=on)
    rules = list(session.scalars(sa.select(MessageRule).where(MessageRule.active.is_(True))
                                 .order_by(MessageRule.id)))
    for rule in rules:
        run.rules += 1
        target = on + dt.timedelta(days=rule.days_before)
        stmt = (
            sa.select(Position)
            .where(Position.ente_id == rule.ente_id, Position.due_date == target,
                   Position.state.not_in(sorted(NOT_REMINDED)))
            .options(selectinload(Position.entrata))
            .order_by(Position.id)
        )
        if rule.entrata_id is not None:
            stmt = stmt.where(Position.entrata_id == rule.entrata_id)
        keys_done = set(session.scalars(sa.select(Message.dedup_key).where(
            Message.dedup_key.like(f"regola:{rule.id}:posizione:%:{target.isoformat()}"))))
        todo = [p for p in session.scalars(stmt.where(Position.state != "in_rateazione"))
                if rule_dedup_key(rule, p) not in keys_done]
        run.already += len(keys_done)
        for start in range(0, len(todo), RULES_CHUNK):
            chunk = todo[start:start + RULES_CHUNK]
            _queue_reminders(session, rule, chunk, actor, run)
        _queue_installment_reminders(session, rule, target, keys_done, actor, run)
    return run


def _queue_installment_reminders(session: Session, rule: MessageRule, target: dt.date, keys_done: set[str],
                                 actor: Actor, run: RulesRun) -> None:
    """The stored plans' installments due on `target` (one message each, on the position carrying its
    notice; the same dedup key shape as a position's, with the installment's due date)."""
    from app.plans.reminders import installments_due

    due = installments_due(session, ente_id=rule.ente_id, entrata_id=rule.entrata_id, on=target)
    key = f"regola:{rule.id}:posizione:{{}}:{target.isoformat()}"
    due = [d for d in due if key.format(d.position_id) not in keys_done]
    if not due:
        return
    positions = {p.id: p for p in session.scalars(sa.select(Position).where(
        Position.id.in_({d.position_id for d in due})))}
    taxpayers = {t.id: t for t in session.scalars(sa.select(Taxpayer).where(
        Taxpayer.id.in_({p.taxpayer_id for p in positions.values()})))}
    for item in due:
        position = positions[item.position_id]
        try:
            message = queue_message(
                session, taxpayer=taxpayers[position.taxpayer_id], ente=rule.ente, purpose=rule.purpose,
                actor=actor, dedup_key=key.format(position.id),
                position=position, channels=list(rule.channels) or list(DEFAULT_ORDER),
                facts=PositionFacts(item.due_cents, item.notice_number, item.due_date),
            )
        except DomainError as exc:
            run.errors.append(f"Piano {item.plan_id} rata {item.number}: {exc.message}")
            continue
        if message.status == "rifiutato":
            run.refused += 1
        else:
            run.queued += 1


RULES_CHUNK = 500


def _queue_reminders(session: Session, rule: MessageRule, positions: list[Position], actor: Actor,
                     run: RulesRun) -> None:
    """One message per position; amounts due, notice numbers and taxpayers read in bulk first."""
    from sqlalchemy.orm import selectinload

    facts = position_facts(session, positions, today())
    taxpayers = {t.id: t for t in session.scalars(
        sa.select(Taxpayer).where(Taxpayer.id.in_({p.taxpayer_id for p in positions}))
        .options(selectinload(Taxpayer.contacts)))}
    for position in positions:
        try:  # a DomainError (no template, a bad placeholder) comes before the message row is added
            message = queue_message(
                session, taxpayer=taxpayers[position.taxpayer_id], ente=rule.ente, purpose=rule.purpose,
                actor=actor, dedup_key=rule_dedup_key(rule, position), position=position,
                channels=list(rule.channels) or list(DEFAULT_ORDER), facts=facts[position.id],
            )
        except DomainError as exc:
            run.errors.append(f"Posizione {position.external_id}: {exc.message}")
            continue
        if message.status == "rifiutato":
            run.refused += 1
        else:
            run.queued += 1


def save_rule(
    session: Session, *, ente_id: int, entrata_id: int | None, purpose: str, channels: Sequence[str],
    days_before: int, active: bool = True, rule: MessageRule | None = None,
) -> MessageRule:
    if purpose not in PURPOSES:
        raise DomainError("Finalità non valida.")
    bad = [c for c in channels if c not in CHANNELS]
    if bad or not channels:
        raise DomainError("Indicare almeno un canale valido.")
    if not 0 <= days_before <= 365:
        raise DomainError("Giorni di anticipo: da 0 a 365.")
    if rule is None:
        rule = MessageRule(ente_id=ente_id)
        session.add(rule)
    rule.entrata_id, rule.purpose, rule.channels = entrata_id, purpose, list(channels)
    rule.days_before, rule.active = days_before, active
    session.flush()
    return rule


def set_rule_active(session: Session, rule: MessageRule, active: bool) -> MessageRule:
    """Switch a rule on or off (the previous state stays in the row history)."""
    rule.active = active
    session.flush()
    return rule
