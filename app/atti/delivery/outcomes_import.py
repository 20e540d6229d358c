"""The provider's outcome file (docs/formats/stampa.md §3) applied whole or not at all: every line is read
(app/atti/delivery/outcomes_file.py) and checked against the database first (unknown act or postal message,
date before sending, duplicate outcome in the file or already recorded); any error refuses the whole file with
line and field. Acts take their outcome through `services.apply_outcome`, postal messages through
app/atti/delivery/letters.py. Never commit here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.atti.delivery import letters
from app.atti.delivery.outcomes_file import LineError, OutcomeLine, OutcomesRefused, read_outcomes
from app.atti.delivery.services import OutcomeError, apply_outcome, outcome_problem
from app.atti.models import Act
from app.core.audit import Actor
from app.engine.deadlines import FAILED_OUTCOMES
from app.enti.models import Ente


@dataclass(slots=True)
class ImportSummary:
    file: str
    lines: int = 0
    notified: int = 0
    failed: int = 0
    outcomes: list[int] = field(default_factory=list)
    delivered: int = 0  # postal messages (app/atti/delivery/letters.py)
    undelivered: int = 0
    messages: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "lines": self.lines,
            "notified": self.notified,
            "failed": self.failed,
            "outcomes": self.outcomes,
            "delivered": self.delivered,
            "undelivered": self.undelivered,
            "messages": self.messages,
        }


def _resolve(session: Session, ente: Ente | None, line: OutcomeLine, errors: list[LineError]) -> Act | None:
    query = sa.select(Act) if ente is None else sa.select(Act).where(Act.ente_id == ente.id)
    whose = "" if ente is None else f" per l'ente {ente.code}"
    if line.act_id is not None:
        act = session.scalars(query.where(Act.id == line.act_id)).first()
        if act is None:
            errors.append(LineError(line.line, "id_atto", f"atto {line.act_id} sconosciuto{whose}"))
            return None
        if line.protocol and act.protocol != line.protocol:
            errors.append(
                LineError(
                    line.line, "protocollo", f"{line.protocol} non è il protocollo dell'atto {line.act_id}"
                )
            )
            return None
        return act
    act = session.scalars(query.where(Act.protocol == line.protocol)).first()
    if act is None:
        errors.append(LineError(line.line, "protocollo", f"atto {line.protocol} sconosciuto{whose}"))
    return act


def _protocol_of_act(session: Session, ente: Ente | None, protocol: str | None) -> bool:
    query = sa.select(Act.id).where(Act.protocol == protocol)
    if ente is not None:
        query = query.where(Act.ente_id == ente.id)
    return session.scalar(query.limit(1)) is not None


def import_outcomes(
    session: Session, ente: Ente | None, data: bytes, file_name: str, actor: Actor
) -> ImportSummary:
    """Import a provider outcome file (docs/formats/stampa.md §3): every line checked first (unknown act, date
    before sending, duplicate outcome in the file or already recorded); any error refuses the whole file
    (OutcomesRefused with line and field), nothing applied. `ente` None (command line): any ente's acts.
    A line naming a postal message (`id_comunicazione`, or a letter's protocol) is checked and applied by
    app/atti/delivery/letters.py in the same way (delivered or failed with the reason)."""
    lines = read_outcomes(data)
    errors: list[LineError] = []
    resolved: list[tuple[OutcomeLine, Act]] = []
    postal: list[tuple[OutcomeLine, Any]] = []
    seen: dict[int, int] = {}
    seen_messages: dict[int, int] = {}
    for line in lines:
        message = None
        if line.message_id is not None:
            message = letters.resolve(session, ente, line, errors)
            if message is None:
                continue
        elif line.act_id is None and not _protocol_of_act(session, ente, line.protocol):
            message = letters.resolve(session, ente, line, errors)  # a letter's protocol, else unknown
        if message is not None:
            if message.id in seen_messages:
                errors.append(
                    LineError(
                        line.line,
                        "id_comunicazione",
                        f"esito duplicato: la comunicazione {message.id} è già alla riga "
                        f"{seen_messages[message.id]}",
                    )
                )
                continue
            seen_messages[message.id] = line.line
            found = letters.outcome_problem(message, line.outcome, line.event_date)
            if found:
                errors.append(LineError(line.line, *found))
                continue
            postal.append((line, message))
            continue
        act = _resolve(session, ente, line, errors)
        if act is None:
            continue
        if act.id in seen:
            errors.append(
                LineError(
                    line.line,
                    "id_atto",
                    f"esito duplicato: l'atto prot. {act.protocol} è già alla riga {seen[act.id]}",
                )
            )
            continue
        seen[act.id] = line.line
        problem = outcome_problem(session, act, line.outcome, line.event_date, line.cad_date)
        if problem:
            field_name = (
                "data_cad" if "CAD" in problem else ("esito" if "duplicato" in problem else "data_esito")
            )
            errors.append(LineError(line.line, field_name, problem))
            continue
        resolved.append((line, act))
    if errors:
        raise OutcomesRefused(errors)
    summary = ImportSummary(file=file_name, lines=len(lines))
    with session.begin_nested():
        for line, act in resolved:
            try:
                record = apply_outcome(
                    session,
                    act,
                    actor,
                    outcome=line.outcome,
                    event_date=line.event_date,
                    source="flusso",
                    cad_date=line.cad_date,
                    reference=f"{file_name[:200]}, riga {line.line}",
                )
            except OutcomeError as exc:
                raise OutcomesRefused([LineError(line.line, "esito", str(exc))]) from None
            summary.outcomes.append(record.id)
            if line.outcome in FAILED_OUTCOMES:
                summary.failed += 1
            else:
                summary.notified += 1
        for line, message in postal:
            delivered = letters.apply_outcome(session, message, line, f"{file_name[:200]}, riga {line.line}")
            summary.messages.append(message.id)
            if delivered:
                summary.delivered += 1
            else:
                summary.undelivered += 1
    return summary
