"""The issue of many acts at once (a campaign's chunk): the same rows as `app.atti.services.issue_act`
(archive document with its two confirmed links, outbox row, `document.filed` event, `Act`, the fixing
movements of app/dynamics/fixing.py, `act.issued` event), written a table at a time instead of one act's
flushes at a time.

Every act is checked and rendered first (Typst, once per act; no write, so a refusal leaves nothing behind);
then the PDFs are stored and the rows inserted a table at a time, each one executemany of Core (no ORM object;
the ids of documents, acts and movements taken from their sequences first). Never commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.atti import rendering
from app.atti.events import issued_event_row
from app.atti.models import Act, ActType
from app.atti.services import (
    DOCUMENT_CHANNEL,
    DOCUMENT_TYPE,
    ActRefused,
    Prepared,
    _memo,
    act_data,
    check_position,
    position_notice_number,
    searchable_text,
    signatory,
)
from app.core.audit import Actor, event_row, record_events
from app.core.db import insert_rows, utcnow
from app.positions.models import Position


@dataclass(slots=True)
class Request:
    key: Any  # the caller's (a campaign item)
    position: Position
    protocol: str
    due: Any = None  # the amount due at the issue date, when the caller has it


@dataclass(slots=True)
class Outcome:
    key: Any
    act_id: int | None = None  # the issued act's id (its row written by Core: no ORM object)
    amount_cents: int | None = None  # the issued act's amount due
    refusal: str | None = None  # the Italian reason when refused


@dataclass(slots=True)
class _Rendered:
    request: Request
    prepared: Prepared
    notice_number: str | None
    data: dict[str, Any]
    pdf: bytes
    pages: int


def issue_many(
    session: Session,
    requests: list[Request],
    act_type: ActType,
    on: dt.date,
    actor: Actor,
    *,
    file_store: str,
    campaign_id: int | None,
    cache: dict[Any, Any],
    stopped: Callable[[], bool] | None = None,
    check_every: int = 20,
) -> list[Outcome]:
    """Issue the requests' acts; an outcome per request handled (`stopped()`, asked every `check_every`
    acts, ends the rendering early: the acts rendered so far are issued, the others get no outcome)."""
    outcomes: list[Outcome] = []
    ready: list[_Rendered] = []
    for n, request in enumerate(requests):
        if stopped is not None and n and n % check_every == 0 and stopped():
            break
        try:
            ready.append(_render(session, request, act_type, on, cache))
        except ActRefused as exc:
            outcomes.append(Outcome(request.key, refusal=exc.message))
    outcomes.extend(_write(session, ready, act_type, on, actor, file_store, campaign_id, cache))
    return outcomes


def _render(
    session: Session, request: Request, act_type: ActType, on: dt.date, cache: dict[Any, Any]
) -> _Rendered:
    position = request.position
    prepared = check_position(session, position, act_type, on, due=request.due, cache=cache)
    notice_number = (
        _memo(cache, ("avviso", position.id), lambda: position_notice_number(session, position, on))
        if act_type.with_payment
        else None
    )
    ente = position.ente
    data = act_data(
        ente=ente,
        entrata=position.entrata,
        position=position,
        taxpayer=position.taxpayer,
        act_type=act_type,
        protocol=request.protocol,
        on=on,
        notice_number=notice_number,
        lines=prepared.lines,
        total_cents=prepared.amount_cents,
        term=prepared.term,
        signature=_memo(cache, ("firma", ente.id, on), lambda: signatory(session, ente, on)),
    )
    try:
        rendered = rendering.render(prepared.template.source, data)
    except rendering.TemplateError as exc:
        raise ActRefused(exc.message_it) from None
    return _Rendered(request, prepared, notice_number, data, rendered.pdf, rendered.pages)


def _write(
    session: Session,
    ready: list[_Rendered],
    act_type: ActType,
    on: dt.date,
    actor: Actor,
    file_store: str,
    campaign_id: int | None,
    cache: dict[Any, Any],
) -> list[Outcome]:
    """The rows of the rendered acts, a table at a time as Core executemany INSERTs (the ids of documents
    and acts taken first: app/core/db.py `insert_rows`), no ORM object (the ORM's flush and its INSERT ...
    RETURNING of every row took ~7 ms an act; benchmarks/README.md, bench_acts)."""
    from app.archive import outgoing
    from app.archive import services as archive
    from app.archive.models import CHANNELS, Document, DocumentLink, SearchOutbox
    from app.dynamics.fixing import fix_amounts_many
    from app.jobs.files import store_bytes

    if not ready:
        return []
    now = utcnow()
    documents = []
    for r in ready:
        position = r.request.position
        ente = position.ente
        key = ("tipo_documento", ente.id)
        if key not in cache:
            cache[key] = archive.document_type(session, ente.id, DOCUMENT_TYPE)
        stored = store_bytes(file_store, r.pdf)
        values = outgoing.outgoing_values(
            ente=ente,
            type_id=cache[key].id,
            channel=DOCUMENT_CHANNEL,
            protocol=r.request.protocol,
            on=on,
            subject=f"{act_type.name} · posizione {position.external_id}",
            text=searchable_text(r.data),
            stored=stored,
            pages=r.pages,
            actor=actor,
        )
        documents.append({**values, "created_dt": now})
    document_ids = insert_rows(session, Document.__table__, documents, ids=True)
    channel = CHANNELS.get(DOCUMENT_CHANNEL, DOCUMENT_CHANNEL).lower()
    links, outbox, filed, acts = [], [], [], []
    for r, document, document_id in zip(ready, documents, document_ids, strict=True):
        position = r.request.position
        links.extend(outgoing.confirmed_link_rows(document_id, position.taxpayer_id, position.id, actor, now))
        outbox.append({"document_id": document_id, "op": "index", "created_dt": now})
        filed.append(  # as archive.record_filed writes it (the taxpayer is the document's only one)
            event_row(
                actor,
                "document.filed",
                f"Documento {document['protocol']} protocollato ({channel}): {document['file_name']}",
                taxpayer_id=position.taxpayer_id,
                ente_id=document["ente_id"],
                payload={"document": document_id, "protocol": document["protocol"]},
                occurred_dt=now,
            )
        )
        acts.append(
            {
                "ente_id": position.ente_id,
                "entrata_id": position.entrata_id,
                "position_id": position.id,
                "taxpayer_id": position.taxpayer_id,
                "act_type_id": act_type.id,
                "template_id": r.prepared.template.id,
                "campaign_id": campaign_id,
                "issue_date": on,
                "protocol": r.request.protocol,
                "protocol_date": on,
                "notice_number": r.notice_number,
                "amount_due_cents": r.prepared.amount_cents,
                "breakdown": {
                    "as_of": on.isoformat(),
                    "total_cents": r.prepared.amount_cents,
                    "lines": [dict(line) for line in r.prepared.lines],
                    "term_days": r.prepared.term,
                },
                "document_id": document_id,
                "pages": r.pages,
                "sha256": document["sha256"],
                "status": "emesso",
                "created_by_id": actor.user_id,
                "created_by_label": actor.label,
                "created_dt": now,
            }
        )
    insert_rows(session, DocumentLink.__table__, links)
    insert_rows(session, SearchOutbox.__table__, outbox)
    record_events(session, filed)
    act_ids = insert_rows(session, Act.__table__, acts, ids=True)
    archive.request_indexing(session)
    if act_type.with_payment:  # the figures the acts print become movements (issue 14), as issue_act does
        fix_amounts_many(
            session,
            [
                (
                    r.request.position,
                    r.prepared.due,
                    f"{act_type.name} prot. {r.request.protocol}",
                    {"act": i},
                )
                for r, i in zip(ready, act_ids, strict=True)
            ],
            on,
            actor,
        )
    issued = [
        issued_event_row(
            actor,
            act_type,
            r.request.position,
            act_id=act_id,
            protocol=r.request.protocol,
            document_id=document_id,
            notice_number=r.notice_number,
            prepared=r.prepared,
            campaign_id=campaign_id,
        )
        for r, act_id, document_id in zip(ready, act_ids, document_ids, strict=True)
    ]
    record_events(session, issued)
    return [
        Outcome(r.request.key, act_id=act_id, amount_cents=r.prepared.amount_cents)
        for r, act_id in zip(ready, act_ids, strict=True)
    ]
