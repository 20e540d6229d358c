"""Use cases of the help desk: open a ticket, move it through its workflow, assign, comment, transfer to the
Regione's first-level desk, attach files (stored in the archive), queue the e-mails, check the SLA. Never
commits; e-mails are recorded here and sent by `tasks.send_mail` after the commit.

Workflow (R-D3/R-D4): nuovo -> in_carico -> in_attesa (pause) -> risolto (a solution is required) -> chiuso;
risolto/chiuso -> riaperto; nuovo/in_carico/riaperto -> trasferito (reason, e-mail to the Regione) ->
in_carico when the answer is recorded. Every change leaves a `TicketEvent` (the ticket's history), and on a
ticket naming a taxpayer an event on the taxpayer's timeline.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor, record_event
from app.core.errors import DomainError
from app.helpdesk import sla
from app.helpdesk.models import (
    CATEGORIES,
    CHANNELS,
    GROUPS,
    PAUSE_STATUSES,
    REQUESTER_KINDS,
    STATUSES,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketCounter,
    TicketEvent,
    TicketMail,
    TicketPause,
)

REFERENCE = re.compile(r"\bTT-(\d{4})-(\d{6})\b")
TRANSITIONS: dict[str, frozenset[str]] = {
    "nuovo": frozenset({"in_carico", "in_attesa", "risolto"}),
    "in_carico": frozenset({"in_attesa", "risolto"}),
    "in_attesa": frozenset({"in_carico", "risolto"}),
    "trasferito": frozenset({"in_carico", "risolto"}),
    "riaperto": frozenset({"in_carico", "in_attesa", "risolto"}),
    "risolto": frozenset({"chiuso", "riaperto"}),
    "chiuso": frozenset({"riaperto"}),
}
TRANSFERABLE = frozenset({"nuovo", "in_carico", "riaperto", "in_attesa"})
MAX_TEXT = 20_000


def next_reference(session: Session, year: int) -> str:
    """`TT-<year>-<6 digits>`: the year's counter row is created once (INSERT ... ON CONFLICT DO NOTHING) and
    moved with UPDATE ... RETURNING, whose row lock holds until the ticket commits: gap-free and unique under
    concurrent creation (app/archive/services.py next_protocol does the same)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    session.execute(insert(TicketCounter).values(year=year, last=0).on_conflict_do_nothing())
    last = session.execute(
        sa.update(TicketCounter)
        .where(TicketCounter.year == year)
        .values(last=TicketCounter.last + 1)
        .returning(TicketCounter.last)
    ).scalar_one()
    if last > 999_999:
        raise DomainError(f"Numerazione delle segnalazioni {year} esaurita (999.999).")
    return f"TT-{year}-{last:06d}"


def reference_in(text: str | None) -> str | None:
    found = REFERENCE.search(text or "")
    return found.group(0) if found else None


@dataclass(frozen=True, slots=True)
class NewTicket:
    ente_id: int
    channel: str
    urgency: str
    category: str
    subject: str
    description: str
    requester_kind: str
    requester_name: str
    requester_email: str | None = None
    requester_user_id: int | None = None
    taxpayer_id: int | None = None
    position_id: int | None = None
    document_id: int | None = None
    contact_id: int | None = None
    assigned_group: str | None = None
    assigned_user_id: int | None = None


def _check(data: NewTicket, session: Session, day: dt.date) -> None:
    if data.channel not in CHANNELS:
        raise DomainError(f"Canale non ammesso: {data.channel}.")
    if data.category not in CATEGORIES:
        raise DomainError(f"Categoria non ammessa: {data.category}.")
    if data.requester_kind not in REQUESTER_KINDS:
        raise DomainError(f"Tipo di richiedente non ammesso: {data.requester_kind}.")
    if data.assigned_group is not None and data.assigned_group not in GROUPS:
        raise DomainError(f"Gruppo non ammesso: {data.assigned_group}.")
    if sla.policy_for(session, data.urgency, day) is None:
        raise DomainError(f"Classe di urgenza non prevista dal contratto in vigore: {data.urgency}.")
    if not data.subject.strip():
        raise DomainError("Oggetto: obbligatorio.")
    if not data.description.strip():
        raise DomainError("Descrizione: obbligatoria.")
    if len(data.description) > MAX_TEXT:
        raise DomainError(f"Descrizione: al massimo {MAX_TEXT} caratteri.")


def _event(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    kind: str,
    now: dt.datetime,
    note: str = "",
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    detail: dict | None = None,
) -> TicketEvent:
    event = TicketEvent(
        ticket_id=ticket.id,
        kind=kind,
        occurred_dt=now,
        from_status=from_status,
        to_status=to_status,
        actor_user_id=actor.user_id,
        actor_label=actor.label[:200],
        note=note[:1000],
        detail=detail or {},
    )
    ticket.events.append(event)
    return event


def _timeline(session: Session, ticket: Ticket, actor: Actor, kind: str, summary: str) -> None:
    """The taxpayer's timeline hears of the ticket (R-C4)."""
    if ticket.taxpayer_id is not None:
        record_event(
            session,
            actor,
            kind,
            f"{ticket.reference}: {summary}"[:500],
            taxpayer_id=ticket.taxpayer_id,
            position_id=ticket.position_id,
            ente_id=ticket.ente_id,
            payload={"ticket": ticket.id, "reference": ticket.reference},
        )


def open_ticket(session: Session, data: NewTicket, actor: Actor, *, now: dt.datetime) -> Ticket:
    """A new ticket with its reference number, the SLA clocks started."""
    day = now.astimezone(sla.clock.ROME).date()
    _check(data, session, day)
    ticket = Ticket(
        reference=next_reference(session, day.year),
        ente_id=data.ente_id,
        channel=data.channel,
        urgency=data.urgency,
        category=data.category,
        subject=data.subject.strip()[:200],
        description=data.description.strip(),
        status="nuovo",
        requester_kind=data.requester_kind,
        requester_name=data.requester_name.strip()[:200] or "—",
        requester_email=(data.requester_email or "").strip()[:200] or None,
        requester_user_id=data.requester_user_id,
        taxpayer_id=data.taxpayer_id,
        position_id=data.position_id,
        document_id=data.document_id,
        contact_id=data.contact_id,
        assigned_group=data.assigned_group,
        assigned_user_id=data.assigned_user_id,
        opened_dt=now,
        created_dt=now,
        created_by_id=actor.user_id,
        reopen_count=0,
    )
    session.add(ticket)
    session.flush()
    _event(session, ticket, actor, "opened", now, f"Canale: {CHANNELS[ticket.channel]}", to_status="nuovo")
    sla.refresh(session, ticket, now)
    _timeline(session, ticket, actor, "ticket.opened", ticket.subject)
    return ticket


def _pause(ticket: Ticket, status: str, now: dt.datetime) -> None:
    ticket.pauses.append(TicketPause(status=status, started_dt=now))


def _resume(ticket: Ticket, now: dt.datetime) -> None:
    for pause in ticket.pauses:
        if pause.ended_dt is None:
            pause.ended_dt = now


def _move(session: Session, ticket: Ticket, to: str, actor: Actor, now: dt.datetime, note: str = "") -> None:
    before = ticket.status
    was_paused, paused = before in PAUSE_STATUSES, to in PAUSE_STATUSES
    if was_paused and not paused:
        _resume(ticket, now)
    elif was_paused and paused:
        _resume(ticket, now)
        _pause(ticket, to, now)
    elif paused:
        _pause(ticket, to, now)
    ticket.status = to
    if to == "in_carico" and ticket.first_response_dt is None:
        ticket.first_response_dt = now
    _event(session, ticket, actor, "status", now, note, from_status=before, to_status=to)
    sla.refresh(session, ticket, now)
    _timeline(session, ticket, actor, "ticket.updated", f"{STATUSES[before]} → {STATUSES[to]}")


def change_status(
    session: Session,
    ticket: Ticket,
    to: str,
    actor: Actor,
    *,
    now: dt.datetime,
    note: str = "",
    solution: str | None = None,
) -> None:
    """One step of the workflow; DomainError (Italian) for a step the workflow does not allow."""
    if to not in STATUSES:
        raise DomainError(f"Stato sconosciuto: {to}.")
    if to == "trasferito":
        raise DomainError("Il trasferimento al primo livello richiede un motivo: usare «Trasferisci».")
    if to not in TRANSITIONS.get(ticket.status, frozenset()):
        raise DomainError(f"Da «{STATUSES[ticket.status]}» non si può passare a «{STATUSES[to]}».")
    if to == "risolto":
        text = (solution or "").strip()
        if not text:
            raise DomainError("Soluzione adottata: obbligatoria per risolvere la segnalazione.")
        ticket.solution = text[:MAX_TEXT]
        ticket.resolved_dt = now
        if ticket.first_response_dt is None:
            ticket.first_response_dt = now
    if to == "chiuso":
        ticket.closed_dt = now
    if to == "riaperto":
        ticket.reopen_count = (ticket.reopen_count or 0) + 1
        ticket.resolved_dt = None
        ticket.closed_dt = None
        ticket.resolution_minutes = None
    _move(session, ticket, to, actor, now, note.strip()[:1000])


def assign(
    session: Session,
    ticket: Ticket,
    group: str | None,
    user_id: int | None,
    actor: Actor,
    *,
    now: dt.datetime,
    user_label: str | None = None,
) -> None:
    if group is not None and group not in GROUPS:
        raise DomainError(f"Gruppo non ammesso: {group}.")
    ticket.assigned_group = group
    ticket.assigned_user_id = user_id
    note = f"Gruppo: {GROUPS.get(group or '', '—')}; operatore: {user_label or '—'}"
    _event(session, ticket, actor, "assigned", now, note, detail={"group": group, "user": user_id})


def reply_subject(ticket: Ticket) -> str:
    return f"[{ticket.reference}] {ticket.subject}"[:300]


def queue_mail(
    session: Session, ticket: Ticket, purpose: str, recipient: str, subject: str, body: str
) -> TicketMail:
    """The e-mail recorded first; `tasks.send_mail` sends it after the commit (retries, then failed)."""
    from app.core.jobs import enqueue_after_commit
    from app.helpdesk import tasks

    mail = TicketMail(
        ticket_id=ticket.id,
        purpose=purpose,
        recipient=recipient[:200],
        subject=subject[:300],
        body=body,
        status="queued",
        attempts=0,
    )
    session.add(mail)
    session.flush()
    enqueue_after_commit(session, tasks.send_mail, mail.id, retry=tasks.RETRY)
    return mail


def add_comment(
    session: Session,
    ticket: Ticket,
    body: str,
    actor: Actor,
    *,
    now: dt.datetime,
    internal: bool = False,
    from_requester: bool = False,
    mail_message_id: str | None = None,
) -> TicketComment:
    """A comment. A public answer of the desk is the first response when none was given yet, and goes to
    the requester by e-mail (reference in the subject); a requester's message on a resolved ticket reopens
    it."""
    text = body.strip()
    if not text:
        raise DomainError("Testo del commento: obbligatorio.")
    if len(text) > MAX_TEXT:
        raise DomainError(f"Testo del commento: al massimo {MAX_TEXT} caratteri.")
    if internal and from_requester:
        raise DomainError("Un richiedente non scrive note interne.")
    comment = TicketComment(
        internal=internal,
        body=text,
        author_user_id=actor.user_id,
        author_label=actor.label[:200],
        from_requester=from_requester,
        mail_message_id=mail_message_id,
        created_dt=now,
    )
    ticket.comments.append(comment)
    session.flush()
    kind = "mail_in" if mail_message_id else "comment"
    what = (
        "Nota interna"
        if internal
        else ("Messaggio del richiedente" if from_requester else "Risposta pubblica")
    )
    _event(session, ticket, actor, kind, now, f"{what}: {text[:200]}", detail={"comment": comment.id})
    if not internal and not from_requester:
        if ticket.first_response_dt is None:
            ticket.first_response_dt = now
            sla.refresh(session, ticket, now)
        if ticket.requester_email:
            queue_mail(
                session,
                ticket,
                "reply",
                ticket.requester_email,
                reply_subject(ticket),
                f"{text}\n\n--\nSegnalazione {ticket.reference}: per rispondere, lasciare il riferimento "
                f"{ticket.reference} nell'oggetto del messaggio.",
            )
    if from_requester and ticket.status in ("risolto", "chiuso"):
        change_status(session, ticket, "riaperto", actor, now=now, note="Nuovo messaggio del richiedente")
    return comment


def transfer(
    session: Session,
    ticket: Ticket,
    reason: str,
    actor: Actor,
    *,
    now: dt.datetime,
    recipient: str | None,
) -> TicketMail | None:
    """Not within the Gestore's competence: to the Regione's first-level desk (status `trasferito`, the clock
    paused), with the reason, by e-mail to `recipient` (HELPDESK_TRANSFER_TO)."""
    text = reason.strip()
    if not text:
        raise DomainError("Motivo del trasferimento: obbligatorio.")
    if ticket.status not in TRANSFERABLE:
        raise DomainError(f"Una segnalazione «{STATUSES[ticket.status]}» non si trasferisce.")
    ticket.transfer_reason = text[:MAX_TEXT]
    ticket.transfer_answer = None
    _move(session, ticket, "trasferito", actor, now, text[:1000])
    _event(session, ticket, actor, "transferred", now, text[:1000], detail={"to": recipient})
    if not recipient:
        return None
    return queue_mail(
        session,
        ticket,
        "transfer",
        recipient,
        f"Trasferimento {reply_subject(ticket)}",
        f"La segnalazione {ticket.reference} non è di competenza del Gestore ed è trasferita all'help desk "
        f"di primo livello della Regione.\n\nMotivo: {text}\n\nOggetto: {ticket.subject}\n"
        f"Richiedente: {ticket.requester_name}\n\n{ticket.description}\n\n--\nPer rispondere, lasciare il "
        f"riferimento {ticket.reference} nell'oggetto del messaggio.",
    )


def record_transfer_answer(
    session: Session, ticket: Ticket, answer: str, actor: Actor, *, now: dt.datetime
) -> None:
    """The first-level desk's answer: recorded, and the ticket back in the Gestore's hands (clock resumes)."""
    text = answer.strip()
    if not text:
        raise DomainError("Risposta del primo livello: obbligatoria.")
    if ticket.status != "trasferito":
        raise DomainError("La segnalazione non è trasferita.")
    ticket.transfer_answer = text[:MAX_TEXT]
    _event(session, ticket, actor, "transfer_answer", now, text[:1000])
    _move(session, ticket, "in_carico", actor, now, "Risposta del primo livello registrata")


def attach_file(
    session: Session,
    ticket: Ticket,
    path: Path,
    name: str,
    actor: Actor,
    *,
    now: dt.datetime,
    file_store: str,
    channel: str = "web",
) -> TicketAttachment:
    """The file filed in the archive (protocol number, content-addressed original, OCR) and linked."""
    from app.archive.services import IncomingFile, file_documents
    from app.enti.models import Ente

    ente = session.get(Ente, ticket.ente_id)
    assert ente is not None  # noqa: S101 - a ticket always has its ente (foreign key)
    (result,) = file_documents(
        session,
        [IncomingFile(name[:255], path)],
        ente,
        channel,
        None,
        actor,
        file_store=file_store,
        mode="sync",
        received_date=now.astimezone(sla.clock.ROME).date(),
        subject=f"Allegato alla segnalazione {ticket.reference}"[:500],
        taxpayer_id=ticket.taxpayer_id,
    )
    if result.document is None:
        raise DomainError(f"{name}: {result.error or 'file non accettato'}.")
    existing = next((a for a in ticket.attachments if a.document_id == result.document), None)
    if existing is not None:
        return existing
    attachment = TicketAttachment(document_id=result.document, file_name=name[:255], created_dt=now)
    ticket.attachments.append(attachment)
    _event(
        session,
        ticket,
        actor,
        "attachment",
        now,
        f"{name} (protocollo {result.protocol})",
        detail={"document": result.document},
    )
    return attachment


def check_sla(session: Session, now: dt.datetime, *, alert_to: str | None) -> dict[str, int]:
    """Every open ticket's clocks at `now`: a warning e-mail before a breach (to the assignee, else
    `alert_to`), the breach recorded with the minutes late. Idempotent: each is recorded once."""
    from app.auth.models import User

    open_ids = session.scalars(
        sa.select(Ticket.id)
        .where(
            sa.or_(
                Ticket.status.in_(("nuovo", "in_carico", "riaperto", "in_attesa", "trasferito")),
                Ticket.first_response_dt.is_(None),
            )
        )
        .order_by(Ticket.id)
    ).all()
    counts = {"checked": 0, "warnings": 0, "breaches": 0}
    system = Actor.system("controllo SLA")
    for ticket_id in open_ids:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            continue
        counts["checked"] += 1
        warnings, breaches = sla.refresh(session, ticket, now)
        for name in breaches:
            late = getattr(ticket, f"{name}_late_minutes")
            label = "presa in carico" if name == "response" else "risoluzione"
            _event(
                session,
                ticket,
                system,
                "sla_breach",
                now,
                f"Tempo di {label} superato di {late} minuti lavorativi",
                detail={"clock": name, "minutes_late": late},
            )
            counts["breaches"] += 1
        for name in warnings:
            label = "presa in carico" if name == "response" else "risoluzione"
            due = ticket.response_due_dt if name == "response" else ticket.resolution_due_dt
            _event(
                session,
                ticket,
                system,
                "sla_warning",
                now,
                f"Scadenza di {label} vicina",
                detail={"clock": name},
            )
            counts["warnings"] += 1
            assignee = session.get(User, ticket.assigned_user_id) if ticket.assigned_user_id else None
            recipient = (assignee.email if assignee is not None else None) or alert_to
            if recipient:
                when = due.astimezone(sla.clock.ROME).strftime("%d/%m/%Y %H:%M") if due else "—"
                queue_mail(
                    session,
                    ticket,
                    "sla_warning",
                    recipient,
                    f"Preavviso SLA {reply_subject(ticket)}",
                    f"La segnalazione {ticket.reference} ({ticket.urgency}) deve ricevere la {label} entro "
                    f"il {when}.",
                )
    return counts


def note_article(
    session: Session, ticket: Ticket, article_id: int, actor: Actor, *, now: dt.datetime
) -> None:
    """The ticket's history records that its solution became a knowledge-base article."""
    _event(session, ticket, actor, "article", now, f"Articolo {article_id}", detail={"article": article_id})
