"""Notice numbers (codice avviso, formats.md §3): `3` + the ente's segregation code + a 13-digit IUV base from
a per-ente counter + check digits mod 93. Never reused: the counter only moves forward and the number is
unique.

- PostgreSQL: one sequence per ente (`notice_iuv_base_ente_<id>`, created on first use, NO CYCLE), and the
  numbers of a whole carico are written by one INSERT ... SELECT (check digits computed in SQL, the same rule
  as `app.engine.notice`, which the tests cross-check);
- other databases (SQLite, the embedded default): a counter row per ente (`notice_counters`) that reserves a
  block of bases at once (SQLite serialises writers), and the numbers built with the engine.

Every position gets one as soon as it is loaded (`assign_notice_numbers_for_carico`, called by the carichi
import; `assign_notice_numbers` for any positions); installments and acts get theirs through
`issue_notice_number`. The amount due at the notice's date is stored with it. Never commit here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.db import utcnow
from app.core.errors import DomainError
from app.engine.notice import notice_number as build_notice_number
from app.enti.models import Ente
from app.payments.models import NoticeCounter, NoticeNumber
from app.positions.models import Movement, Position

# bandit B608 (`# nosec B608` below): the sequence name is built from the ente's integer id.
MAX_BASE = 10**13 - 1
LOCK_NAMESPACE = 740_501  # pg_advisory_xact_lock(namespace, ente_id) while a sequence is created
CHUNK = 10_000


def sequence_name(ente_id: int) -> str:
    return f"notice_iuv_base_ente_{int(ente_id)}"


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def ensure_sequence(session: Session, ente_id: int) -> str:
    """The ente's IUV base sequence, created on first use (under an advisory lock: two first imports of the
    same ente at once do not both create it)."""
    name = sequence_name(ente_id)
    if session.scalar(sa.text("SELECT to_regclass(:n)"), {"n": name}) is None:
        session.execute(
            sa.text("SELECT pg_advisory_xact_lock(:ns, :key)"), {"ns": LOCK_NAMESPACE, "key": ente_id}
        )
        session.execute(
            sa.text(
                f"CREATE SEQUENCE IF NOT EXISTS {name} AS bigint MINVALUE 1 "
                f"MAXVALUE {MAX_BASE} START 1 NO CYCLE"
            )
        )
    return name


def reserve_bases(session: Session, ente_id: int, count: int) -> list[int]:
    """`count` fresh IUV bases of the ente, in increasing order."""
    if count <= 0:
        return []
    if _is_postgres(session):
        name = ensure_sequence(session, ente_id)
        return list(
            session.scalars(sa.text(f"SELECT nextval('{name}') FROM generate_series(1, :n)"), {"n": count})  # nosec B608
        )
    updated = session.execute(
        sa.update(NoticeCounter)
        .where(NoticeCounter.ente_id == ente_id)
        .values(last_base=NoticeCounter.last_base + count)
        .returning(NoticeCounter.last_base)
    ).scalar()
    if updated is None:
        session.add(NoticeCounter(ente_id=ente_id, last_base=count))
        session.flush()
        updated = count
    if updated > MAX_BASE:
        raise DomainError("Basi IUV esaurite per l'ente: impossibile emettere nuovi codici avviso.")
    return list(range(updated - count + 1, updated + 1))


def _segregation(session: Session, ente_id: int) -> str:
    code = session.scalar(sa.select(Ente.segregation_code).where(Ente.id == ente_id))
    if code is None or len(code) != 2 or not code.isdigit():
        raise DomainError(
            "L'ente non ha un codice di segregazione valido (2 cifre): impossibile emettere codici avviso.",
            ente_id=ente_id,
        )
    return code


def pg_check_digits_sql(base: str) -> str:
    """The check digits in PostgreSQL of the IUV base `base` (a SQL expression) for the segregation code bound
    as `:seg`: int("3" + segregation + base) mod 93 on bigint (16 digits < 2^63), two digits zero-padded."""
    return f"lpad(((3000000000000000 + CAST(:seg AS bigint) * 10000000000000 + {base}) % 93)::text, 2, '0')"


_PG_NOTICE_SQL = """
INSERT INTO notice_numbers (ente_id, position_id, item_kind, item_ref, iuv_base, notice_number, iuv,
                            amount_cents, issued_date, created_dt)
SELECT t.ente_id, t.id, 'posizione', '', t.base,
       '3' || :seg || lpad(t.base::text, 13, '0') || {check_digits},
       :seg || lpad(t.base::text, 13, '0') || {check_digits},
       greatest(coalesce(b.due, 0), 0), :issued, :now
FROM (SELECT p.id, p.ente_id, nextval(CAST(:seq AS regclass)) AS base
      FROM (SELECT p.id, p.ente_id FROM positions p
            WHERE {where} AND p.ente_id = :ente
              AND NOT EXISTS (SELECT 1 FROM notice_numbers n
                              WHERE n.position_id = p.id AND n.item_kind = 'posizione' AND n.item_ref = '')
            ORDER BY p.id) p) t
LEFT JOIN (SELECT m.position_id, sum(m.amount_cents) AS due FROM movements m
           JOIN positions p ON p.id = m.position_id
           WHERE {where} AND p.ente_id = :ente GROUP BY m.position_id) b ON b.position_id = t.id
""".replace("{check_digits}", pg_check_digits_sql("t.base"))  # nosec B608: our own SQL fragments, values bound


def assign_notice_numbers_for_carico(
    session: Session, carico_id: int, *, issued_on: dt.date | None = None
) -> int:
    """Give every position of the carico that has none its notice number (set-based). Returns how many."""
    issued_on = issued_on or dt.date.today()
    if not _is_postgres(session):
        ids = list(session.scalars(sa.select(Position.id).where(Position.carico_id == carico_id)))
        return assign_notice_numbers(session, ids, issued_on=issued_on)
    session.flush()
    # The carico's positions and movements were usually inserted by this very transaction: without fresh
    # statistics the planner guesses 200 positions and may join the 1M due amounts by a nested loop (hours).
    # ANALYZE samples a fixed number of rows (cheap on any size) and sees this transaction's own rows.
    session.execute(sa.text("ANALYZE positions"))
    session.execute(sa.text("ANALYZE movements"))
    created = 0
    enti = session.scalars(sa.select(Position.ente_id).where(Position.carico_id == carico_id).distinct())
    for ente_id in list(enti):
        seq = ensure_sequence(session, ente_id)
        result = session.execute(
            sa.text(_PG_NOTICE_SQL.format(where="p.carico_id = :carico")),
            {
                "carico": carico_id,
                "ente": ente_id,
                "seg": _segregation(session, ente_id),
                "seq": seq,
                "issued": issued_on,
                "now": utcnow(),
            },
        )
        created += result.rowcount
    return created


def assign_notice_numbers(
    session: Session, position_ids: Iterable[int], *, issued_on: dt.date | None = None
) -> int:
    """Give each of `position_ids` that has none its notice number. Returns how many were created."""
    issued_on = issued_on or dt.date.today()
    ids = sorted(set(position_ids))
    if not ids:
        return 0
    session.flush()
    created = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if _is_postgres(session):
            created += _assign_pg(session, chunk, issued_on)
        else:
            created += _assign_portable(session, chunk, issued_on)
    return created


def _assign_pg(session: Session, ids: list[int], issued_on: dt.date) -> int:
    created = 0
    enti = session.scalars(sa.select(Position.ente_id).where(Position.id.in_(ids)).distinct())
    for ente_id in list(enti):
        seq = ensure_sequence(session, ente_id)
        stmt = sa.text(_PG_NOTICE_SQL.format(where="p.id = ANY(:ids)"))
        created += session.execute(
            stmt,
            {
                "ids": ids,
                "ente": ente_id,
                "seg": _segregation(session, ente_id),
                "seq": seq,
                "issued": issued_on,
                "now": utcnow(),
            },
        ).rowcount
    return created


def _assign_portable(session: Session, ids: list[int], issued_on: dt.date) -> int:
    have = set(
        session.scalars(
            sa.select(NoticeNumber.position_id).where(
                NoticeNumber.position_id.in_(ids),
                NoticeNumber.item_kind == "posizione",
                NoticeNumber.item_ref == "",
            )
        )
    )
    todo = session.execute(
        sa.select(Position.id, Position.ente_id).where(Position.id.in_(ids)).order_by(Position.id)
    ).all()
    todo = [(pid, ente_id) for pid, ente_id in todo if pid not in have]
    due = dict(
        session.execute(
            sa.select(Movement.position_id, sa.func.sum(Movement.amount_cents))
            .where(Movement.position_id.in_([pid for pid, _ in todo]))
            .group_by(Movement.position_id)
        ).all()
    )
    by_ente: dict[int, list[int]] = {}
    for pid, ente_id in todo:
        by_ente.setdefault(ente_id, []).append(pid)
    rows = []
    now = utcnow()
    for ente_id, pids in by_ente.items():
        seg = _segregation(session, ente_id)
        for pid, base in zip(pids, reserve_bases(session, ente_id, len(pids)), strict=True):
            number = build_notice_number(seg, base)
            rows.append(
                {
                    "ente_id": ente_id,
                    "position_id": pid,
                    "item_kind": "posizione",
                    "item_ref": "",
                    "iuv_base": base,
                    "notice_number": number,
                    "iuv": number[1:],
                    "amount_cents": max(int(due.get(pid) or 0), 0),
                    "issued_date": issued_on,
                    "created_dt": now,
                }
            )
    if rows:
        session.execute(sa.insert(NoticeNumber), rows)
    return len(rows)


def issue_notice_number(
    session: Session,
    *,
    ente_id: int,
    amount_cents: int,
    issued_on: dt.date,
    item_kind: str,
    item_ref: str,
    position_id: int | None = None,
) -> NoticeNumber:
    """One notice number for an installment (`rata`) or an act (`atto`), or a position."""
    if item_kind not in ("posizione", "rata", "atto"):
        raise ValueError(f"unknown item kind {item_kind!r}")
    if amount_cents < 0:
        raise DomainError("L'importo di un avviso non può essere negativo.")
    seg = _segregation(session, ente_id)
    (base,) = reserve_bases(session, ente_id, 1)
    number = build_notice_number(seg, base)
    notice = NoticeNumber(
        ente_id=ente_id,
        position_id=position_id,
        item_kind=item_kind,
        item_ref=item_ref,
        iuv_base=base,
        notice_number=number,
        iuv=number[1:],
        amount_cents=amount_cents,
        issued_date=issued_on,
    )
    session.add(notice)
    session.flush()
    return notice


def notice_numbers_of_positions(session: Session, position_ids: Iterable[int]) -> dict[int, list[str]]:
    """The notice numbers of each position still to pay (the position's own first, then installments and
    acts; a cancelled one, e.g. an installment a proroga replaced, is left out)."""
    ids = list(position_ids)
    result: dict[int, list[str]] = {pid: [] for pid in ids}
    if not ids:
        return result
    rows = session.execute(
        sa.select(NoticeNumber.position_id, NoticeNumber.notice_number)
        .where(NoticeNumber.position_id.in_(ids), NoticeNumber.cancelled_date.is_(None))
        .order_by(NoticeNumber.position_id, NoticeNumber.item_kind != "posizione", NoticeNumber.id)
    )
    for pid, number in rows:
        result.setdefault(pid, []).append(number)
    return result
