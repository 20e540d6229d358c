"""Reconciliation: match each payment of a flow to a debt and allocate it into the ledger.

Steps of `reconcile_flow` (one transaction; the caller commits):
1. take the ente's reconciliation lock (PostgreSQL advisory lock, exclusive: two reconciliations of the same
   ente never allocate at the same time; single-payment operations take it shared plus a row lock on their
   positions);
2. claim and match by notice number / IUV in ONE set-based UPDATE ... FROM notice_numbers: a compare-and-set
   on `status = 'da_riconciliare'`, so a payment is claimed by exactly one reconciliation;
3. allocate the claimed payments over the components due (ledger balance) in the entrata's `allocation_order`
   (default spese, interessi, sanzioni, capitale), payments of one position in date order, what is left over
   becoming a credit to refund. On PostgreSQL this is set-based SQL (window functions: the same waterfall as
   `app.engine.allocation.allocate`, which the tests prove on random cases); elsewhere, and for every
   single-payment operation, the engine itself is called;
4. write a negative "pagamento" movement per component, an `Allocation` row per movement, one
   "payment.allocated" event per payment, the position state (pagata / parzialmente_pagata, only along the
   transitions `app.engine.states` allows, with its row version), refunds and anomalies;
5. the payments left: codice fiscale + amount + causale heuristics put the best candidate position in the
   review queue; payments with no candidate are "senza debito" anomalies;
6. revocations (FdR outcome 3) reverse the allocations of the payment they revoke.
Never commit here.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import of_ente
from app.core.audit import Actor, record_event
from app.core.db import utcnow
from app.core.errors import DomainError
from app.engine.allocation import DebtPosition, allocate, apply_allocation
from app.engine.errors import AllocationError
from app.engine.money import cents as to_cents
from app.engine.money import from_cents
from app.engine.states import TRANSITIONS, check_transition
from app.enti.models import Entrata
from app.payments.models import (
    EXECUTED_OUTCOMES,
    Accrual,
    Allocation,
    Anomaly,
    NoticeNumber,
    Payment,
    PaymentFlow,
    Refund,
    ReviewItem,
)
from app.positions.models import Movement, Position
from app.reports.formatting import format_eur

# bandit B608 (`# nosec B608` below): the statements interpolate only the temp-table names this module
# generates and constants; every value is a bound parameter.
LOCK_NAMESPACE = 740_502
DEFAULT_ORDER = ("spese", "interessi", "sanzioni", "capitale")
WORK_MEM = "256MB"  # sorts and hashes of a large flow stay in memory (SET LOCAL: this transaction only)
BLOCKED_STATES = ("sospesa", "sgravata", "prescritta", "inesigibile")
# The transitions of app.engine.states a payment (or its reversal) may perform, by operation.
PAYMENT_PAIRS = frozenset(
    (t.from_state, t.to_state) for t in TRANSITIONS if t.operation in ("pagamento", "pagamento_parziale")
)
REVERSAL_PAIRS = frozenset(
    (t.from_state, t.to_state) for t in TRANSITIONS if t.operation == "storno_pagamento"
)


@dataclass(slots=True)
class ReconcileResult:
    matched: int = 0
    review: int = 0
    unmatched: int = 0
    revoked: int = 0
    allocated_cents: int = 0
    credit_cents: int = 0
    details: dict[str, Any] = field(default_factory=dict)


# --- plumbing ---------------------------------------------------------------------------------------------


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_ente(session: Session, ente_id: int, *, shared: bool = False) -> None:
    """The ente's reconciliation lock, held until the transaction ends (PostgreSQL; SQLite serialises
    writers by itself)."""
    if is_postgres(session):
        fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        session.execute(sa.text(f"SELECT {fn}(:ns, :key)"), {"ns": LOCK_NAMESPACE, "key": ente_id})


def lock_positions(session: Session, position_ids: Iterable[int]) -> None:
    ids = sorted(set(position_ids))
    if ids and is_postgres(session):
        session.execute(
            sa.select(Position.id).where(Position.id.in_(ids)).order_by(Position.id).with_for_update()
        )


def allocation_orders(
    session: Session, entrata_ids: Iterable[int], on: dt.date
) -> dict[int, tuple[str, ...]]:
    """The `allocation_order` parameter in force on `on` for each entrata (national, ente, entrata rows)."""
    from app.positions.quotes import engine_inputs

    orders: dict[int, tuple[str, ...]] = {}
    ids = sorted(set(entrata_ids))
    for entrata_id, ente_id in session.execute(
        sa.select(Entrata.id, Entrata.ente_id).where(Entrata.id.in_(ids))
    ):
        params, _ = engine_inputs(session, on, ente_id=ente_id, entrata_id=entrata_id)
        order = tuple(params.allocation_order or DEFAULT_ORDER)
        # interest and oneri di riscossione booked when a payment reaches the ledger balance (`book_accruals`)
        # are paid after what the order names, unless it names them
        order = order if "interessi" in order else (*order, "interessi")
        orders[entrata_id] = order if "oneri" in order else (*order, "oneri")
    return orders


def movement_ids(session: Session, count: int) -> list[int]:
    """Ids for `count` new ledger movements, reserved from the table's sequence (PostgreSQL)."""
    if count <= 0:
        return []
    return list(
        session.scalars(
            sa.text("SELECT nextval(pg_get_serial_sequence('movements', 'id')) FROM generate_series(1, :n)"),
            {"n": count},
        )
    )


def insert_movements(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ledger movements, returning their ids in the order of `rows`."""
    if not rows:
        return []
    if is_postgres(session):
        ids = movement_ids(session, len(rows))
        session.execute(sa.insert(Movement), [{**row, "id": mid} for row, mid in zip(rows, ids, strict=True)])
        return ids
    return [
        session.execute(sa.insert(Movement).values(**row).returning(Movement.id)).scalar_one() for row in rows
    ]


@dataclass(frozen=True, slots=True)
class Reaching:
    """A payment about to be allocated to a position: what `book_accruals` needs of it."""

    payment_id: int
    ente_id: int
    position_id: int
    amount_cents: int
    day: dt.date  # the payment's date: the value date of its allocation


def book_accruals(
    session: Session,
    items: Sequence[Reaching],
    actor: Actor,
    *,
    booked_dt: dt.datetime | None = None,
) -> tuple[dict[tuple[int, int], Any], dict[tuple[int, int], int]]:
    """Before allocating: book, for each payment that reaches the ledger balance of its position at its date,
    the interest accrued and the oneri computed up to that date (`app.positions.amounts`, the one amount
    due: the same rule as the desk), as ledger movements with the payment's date as value date, each linked
    to its payment (`Accrual`: a reversal of the payment reverses them). The amounts due are computed in one
    batch per date, the movements and links inserted by two executemany.

    Returns, by (payment id, position id): the amount due of the position at the payment's date before
    booking (`amounts.Due`: what a notice asked for that day) and the cents booked (the payment's
    "payment.allocated" event says them)."""
    from sqlalchemy.orm import joinedload

    from app.positions.amounts import accrual_lines, accrual_source, amounts_due

    dues: dict[tuple[int, int], Any] = {}
    accrued: dict[tuple[int, int], int] = defaultdict(int)
    if not items:
        return dues, accrued
    positions = {
        p.id: p
        for p in session.scalars(
            sa.select(Position)
            .where(Position.id.in_({i.position_id for i in items}))
            .options(joinedload(Position.entrata))
        )
    }
    by_day: dict[dt.date, list[Reaching]] = defaultdict(list)
    for item in items:
        by_day[item.day].append(item)
    now = booked_dt or utcnow()
    rows: list[dict[str, Any]] = []
    owners: list[Reaching] = []
    for day, batch in sorted(by_day.items()):
        day_dues = amounts_due(session, [positions[pid] for pid in {i.position_id for i in batch}], day)
        for item in batch:
            key = (item.payment_id, item.position_id)
            due = dues[key] = day_dues[item.position_id]
            for component, kind, cents in accrual_lines(due, item.amount_cents):
                rows.append(
                    {
                        "position_id": item.position_id,
                        "component": component,
                        "kind": kind,
                        "amount_cents": cents,
                        "value_date": day,
                        "booked_dt": now,
                        "user_id": actor.user_id,
                        "source": accrual_source(kind, day, f"pagamento n. {item.payment_id}"),
                    }
                )
                owners.append(item)
                accrued[key] += cents
    ids = insert_movements(session, rows)
    if ids:
        session.execute(
            sa.insert(Accrual),
            [
                {
                    "payment_id": item.payment_id,
                    "ente_id": item.ente_id,
                    "position_id": item.position_id,
                    "movement_id": mid,
                    "booked_dt": now,
                }
                for item, mid in zip(owners, ids, strict=True)
            ],
        )
    return dues, accrued


def notice_expected(notice: NoticeNumber | None, due: Any) -> int | None:
    """What the notice asked for on the payment's day: for a position's own notice, the amount due of that
    day (interest included, as the notice shows it); for an installment's or an act's, its stored amount."""
    if notice is None:
        return None
    if notice.item_kind == "posizione" and notice.item_ref == "" and due is not None and due.error is None:
        return max(int(due.total_cents), 0)
    return int(notice.amount_cents)


def target_state(
    from_state: str,
    due_after_cents: int,
    paid_after_cents: int,
    previous_state: str | None = None,
    *,
    reversal: bool = False,
) -> str | None:
    """The state a position moves to after a payment (or a reversal) changed its balance; None: it stays.
    Only the transitions `app.engine.states` lists for the operation "pagamento"/"pagamento_parziale" (or
    "storno_pagamento") are taken, checked again with `check_transition`."""
    if due_after_cents <= 0:
        wanted = "pagata"
    elif paid_after_cents > 0:
        wanted = "parzialmente_pagata"
    else:
        wanted = previous_state or "notificata"
    if wanted == from_state or (from_state, wanted) not in (REVERSAL_PAIRS if reversal else PAYMENT_PAIRS):
        return None
    check_transition(from_state, wanted)
    return wanted


# --- entry point --------------------------------------------------------------------------------------------


def reconcile_flow(
    session: Session,
    flow_id: int,
    actor: Actor,
    *,
    method: str | None = None,
    order_on: dt.date | None = None,
) -> ReconcileResult:
    """Reconcile every payment of the flow still `da_riconciliare` (see the module docstring)."""
    flow = session.get(PaymentFlow, flow_id)
    if flow is None:
        raise DomainError("Flusso non trovato.")
    session.flush()
    lock_ente(session, flow.ente_id)
    method = method or ("sql" if is_postgres(session) else "engine")
    on = (
        order_on
        or flow.regulation_date
        or session.scalar(sa.select(sa.func.max(Payment.paid_date)).where(Payment.flow_id == flow_id))
        or dt.date.today()
    )
    result = ReconcileResult()
    if method == "sql":
        _match_allocate_sql(session, flow, actor, on, result)
    else:
        _match_allocate_engine(session, flow, actor, on, result)
    _heuristics(session, flow, result)
    _revocations(session, flow, actor, result)
    from app.plans.allocation import sync_flow

    sync_flow(session, flow.id, actor)  # installments of stored plans (app/plans)
    session.expire_all()
    return result


def _claim_by_iuv(flow: PaymentFlow) -> sa.Update:
    return (
        sa.update(Payment)
        .where(
            Payment.flow_id == flow.id,
            Payment.status == "da_riconciliare",
            sa.or_(Payment.outcome_code.is_(None), Payment.outcome_code.in_(EXECUTED_OUTCOMES)),
            NoticeNumber.ente_id == Payment.ente_id,
            NoticeNumber.iuv == Payment.iuv,
            NoticeNumber.position_id.is_not(None),
        )
        .values(
            status="riconciliato",
            position_id=NoticeNumber.position_id,
            notice_id=NoticeNumber.id,
            match_method="iuv",
        )
        .execution_options(synchronize_session=False)
    )


# --- PostgreSQL: set-based ----------------------------------------------------------------------------------


def _match_allocate_sql(
    session: Session, flow: PaymentFlow, actor: Actor, on: dt.date, result: ReconcileResult
) -> None:
    tag = uuid.uuid4().hex[:10]
    t = {
        name: f"rc_{name}_{tag}"
        for name in ("claim", "due", "ord", "ranked", "alloc", "pay", "state", "exp", "acc")
    }
    now = utcnow()
    timings: dict[str, float] = result.details.setdefault("timings", {})

    def x(stmt: Any, params: Any = None) -> Any:
        """session.execute, timing each kind of statement (the benchmark reports where the time goes)."""
        started = time.perf_counter()
        out = session.execute(stmt) if params is None else session.execute(stmt, params)
        key = re.sub(r"_[0-9a-f]{10}\b", "", " ".join(str(stmt).split()[:4])).lower()
        timings[key] = timings.get(key, 0.0) + time.perf_counter() - started
        return out

    x(sa.text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    x(
        sa.text(f"""CREATE TEMP TABLE {t["claim"]} AS WITH u AS (
        UPDATE payments p SET status = 'riconciliato', position_id = n.position_id, notice_id = n.id,
                              match_method = 'iuv'
        FROM notice_numbers n
        WHERE p.flow_id = :flow AND p.status = 'da_riconciliare'
          AND (p.outcome_code IS NULL OR p.outcome_code IN ('0', '4', '8', '9'))
          AND n.ente_id = p.ente_id AND n.iuv = p.iuv AND n.position_id IS NOT NULL
        RETURNING p.id, p.position_id, p.notice_id, p.amount_cents, p.paid_date)
        SELECT * FROM u"""),  # nosec B608
        {"flow": flow.id},
    )
    x(sa.text(f"ANALYZE {t['claim']}"))
    result.matched = x(sa.text(f"SELECT count(*) FROM {t['claim']}")).scalar_one()  # nosec B608
    if not result.matched:
        _drop(session, t)
        return
    x(sa.text(f"CREATE INDEX ON {t['claim']} (position_id)"))
    # A position paid more than once in this flow: its payments go one at a time through the engine (after
    # the set-based part), each booking what accrued up to its date with the ones before it in the ledger.
    one_by_one = list(
        x(
            sa.text(f"""DELETE FROM {t["claim"]} WHERE position_id IN (
            SELECT position_id FROM {t["claim"]} GROUP BY position_id HAVING count(*) > 1)
            RETURNING id""")  # nosec B608
        ).scalars()
    )
    _accrue_sql(session, flow, actor, t, now, x, timings)
    if len(one_by_one) == result.matched:
        _drop(session, t)
        _allocate_one_by_one(session, flow, actor, on, one_by_one, result)
        return
    x(
        sa.text(f"""CREATE TEMP TABLE {t["due"]} AS
        SELECT m.position_id, m.component, sum(m.amount_cents)::bigint AS due
        FROM movements m WHERE m.position_id IN (SELECT position_id FROM {t["claim"]})
        GROUP BY m.position_id, m.component""")  # nosec B608
    )
    x(sa.text(f"ANALYZE {t['due']}"))
    entrate = list(
        session.scalars(
            sa.text(
                f"SELECT DISTINCT p.entrata_id FROM positions p JOIN {t['claim']} c ON c.position_id = p.id"  # nosec B608
            )
        )
    )
    orders = allocation_orders(session, entrate, on)
    x(sa.text(f"CREATE TEMP TABLE {t['ord']} (entrata_id int, component varchar(12), rank int)"))
    x(
        sa.text(f"INSERT INTO {t['ord']} VALUES (:e, :c, :r)"),  # nosec B608
        [{"e": e, "c": c, "r": i} for e, order in orders.items() for i, c in enumerate(order)],
    )

    # Positions owing a component the order does not name: the engine refuses them; so do we (review).
    stuck = list(
        session.scalars(
            sa.text(f"""
        SELECT DISTINCT c.id FROM {t["claim"]} c JOIN positions p ON p.id = c.position_id
        JOIN {t["due"]} d ON d.position_id = c.position_id AND d.due > 0
        LEFT JOIN {t["ord"]} o ON o.entrata_id = p.entrata_id AND o.component = d.component
        WHERE o.component IS NULL""")  # nosec B608
        )
    )
    if stuck:
        x(sa.text(f"DELETE FROM {t['claim']} WHERE id = ANY(:ids)"), {"ids": stuck})  # nosec B608
        _to_review_for_order(session, flow, stuck)
        result.matched -= len(stuck)

    x(
        sa.text(f"""CREATE TEMP TABLE {t["ranked"]} AS
        SELECT d.position_id, d.component, d.due, o.rank
        FROM {t["due"]} d JOIN positions p ON p.id = d.position_id
        JOIN {t["ord"]} o ON o.entrata_id = p.entrata_id AND o.component = d.component
        WHERE d.due > 0""")  # nosec B608
    )
    x(sa.text(f"ANALYZE {t['ranked']}"))
    x(
        sa.text(
            f"CREATE TEMP TABLE {t['alloc']} AS "
            f"SELECT w.*, nextval(pg_get_serial_sequence('movements', 'id')) AS movement_id "
            f"FROM ({WATERFALL_SQL.format(claim=t['claim'], ranked=t['ranked'])}) w"  # nosec B608
        )
    )
    x(
        sa.text(f"""CREATE TEMP TABLE {t["pay"]} AS
        SELECT c.id, c.position_id, c.notice_id, c.amount_cents, c.paid_date,
               coalesce(a.allocated, 0)::bigint AS allocated,
               (c.amount_cents - coalesce(a.allocated, 0))::bigint AS credit
        FROM {t["claim"]} c LEFT JOIN (SELECT payment_id, sum(amount) AS allocated FROM {t["alloc"]}
                                       GROUP BY payment_id) a ON a.payment_id = c.id""")  # nosec B608
    )
    x(sa.text(f"ANALYZE {t['pay']}"))
    params = {
        "now": now,
        "user": actor.user_id,
        "label": actor.label[:120],
        "ente": flow.ente_id,
        "flow": flow.id,
        "src": f"flusso {flow.identifier}"[:150],
    }
    x(
        sa.text(f"""INSERT INTO movements (id, position_id, component, kind, amount_cents, value_date,
                                          booked_dt,
                                          source, user_id)
        SELECT a.movement_id, a.position_id, a.component, 'pagamento', -a.amount, a.paid_date, :now,
               'pagamento n. ' || a.payment_id || ' (' || :src || ')', :user
        FROM {t["alloc"]} a ORDER BY a.movement_id"""),  # nosec B608
        params,
    )
    x(
        sa.text(f"""INSERT INTO payment_allocations (payment_id, ente_id, position_id, component,
                                                    amount_cents,
                                                    movement_id, booked_dt)
        SELECT a.payment_id, :ente, a.position_id, a.component, a.amount, a.movement_id, :now
        FROM {t["alloc"]} a ORDER BY a.movement_id"""),  # nosec B608
        params,
    )
    x(
        sa.text(
            f"UPDATE payments p SET credit_cents = y.credit FROM {t['pay']} y "
            f"WHERE p.id = y.id AND y.credit > 0"  # nosec B608
        )
    )
    totals = x(sa.text(f"SELECT coalesce(sum(allocated), 0), coalesce(sum(credit), 0) FROM {t['pay']}")).one()  # nosec B608
    result.allocated_cents, result.credit_cents = int(totals[0]), int(totals[1])

    # Refunds and anomalies.
    x(
        sa.text(f"""INSERT INTO payment_refunds (ente_id, payment_id, taxpayer_id, amount_cents, reason,
                                                status,
                                                created_dt)
        SELECT :ente, y.id, p.taxpayer_id, y.credit,
               CASE WHEN y.allocated = 0 THEN 'Pagamento di un debito già estinto'
                    ELSE 'Eccedenza rispetto al dovuto' END, 'da_rimborsare', :now
        FROM {t["pay"]} y JOIN positions p ON p.id = y.position_id WHERE y.credit > 0"""),  # nosec B608
        params,
    )
    x(
        sa.text(f"""INSERT INTO payment_anomalies (ente_id, kind, status, flow_id, payment_id, position_id,
                                                  amount_cents, expected_cents, detail, created_dt)
        SELECT :ente, 'doppio_pagamento', 'aperta', :flow, y.id, y.position_id, y.amount_cents, 0,
               'La posizione non aveva più nulla da pagare: l''intero importo è da rimborsare', :now
        FROM {t["pay"]} y WHERE y.allocated = 0"""),  # nosec B608
        params,
    )
    x(
        sa.text(f"""INSERT INTO payment_anomalies (ente_id, kind, status, flow_id, payment_id, position_id,
                                                  amount_cents, expected_cents, detail, created_dt)
        SELECT :ente, 'importo_difforme', 'aperta', :flow, y.id, y.position_id, y.amount_cents,
               coalesce(e.expected, n.amount_cents),
               'Avviso ' || n.notice_number, :now
        FROM {t["pay"]} y JOIN notice_numbers n ON n.id = y.notice_id
        LEFT JOIN {t["exp"]} e ON e.payment_id = y.id
        WHERE coalesce(e.expected, n.amount_cents) <> y.amount_cents AND y.allocated > 0"""),  # nosec B608
        params,
    )
    x(
        sa.text(f"""INSERT INTO payment_anomalies (ente_id, kind, status, flow_id, payment_id, position_id,
                                                  amount_cents, expected_cents, detail, created_dt)
        SELECT :ente, 'posizione_sospesa', 'aperta', :flow, y.id, y.position_id, y.amount_cents, NULL,
               'Stato della posizione: ' || p.state, :now
        FROM {t["pay"]} y JOIN positions p ON p.id = y.position_id WHERE p.state = ANY(:blocked)"""),  # nosec B608
        {**params, "blocked": list(BLOCKED_STATES)},
    )

    # Position states, with their row versions (the history the card shows "as it was").
    pairs = ", ".join(f"('{a}', '{b}')" for a, b in sorted(PAYMENT_PAIRS))
    x(
        sa.text(f"""CREATE TEMP TABLE {t["state"]} AS SELECT * FROM (
        SELECT p.id, p.state AS from_state,
               CASE WHEN d.due - a.allocated <= 0 THEN 'pagata' ELSE 'parzialmente_pagata' END AS to_state
        FROM (SELECT position_id, sum(allocated) AS allocated FROM {t["pay"]} GROUP BY position_id
              HAVING sum(allocated) > 0) a
        JOIN (SELECT position_id, sum(due) AS due FROM {t["ranked"]} GROUP BY position_id) d
          ON d.position_id = a.position_id
        JOIN positions p ON p.id = a.position_id) s
        WHERE (s.from_state, s.to_state) IN ({pairs})""")  # nosec B608
    )
    x(
        sa.text(f"""INSERT INTO row_versions (table_name, row_id, operation, changed_dt, changed_by_id,
                                             before,
                                             changed)
        SELECT 'positions', p.id, 'update', :now, :user, to_jsonb(p), '["state"]'::jsonb
        FROM positions p JOIN {t["state"]} s ON s.id = p.id"""),  # nosec B608
        params,
    )
    x(sa.text(f"UPDATE positions p SET state = s.to_state FROM {t['state']} s WHERE p.id = s.id"))  # nosec B608
    x(
        sa.text(f"""INSERT INTO events (kind, occurred_dt, ente_id, taxpayer_id, position_id, actor_user_id,
                                       actor_label, summary, payload)
        SELECT 'payment.allocated', :now, :ente, p.taxpayer_id, p.id, :user, :label,
               'Pagamento di ' || CASE WHEN y.allocated > 0 THEN {_sql_eur("y.allocated")}
                                       ELSE {_sql_eur("y.amount_cents")} END || ' imputato' ||
               CASE WHEN y.credit > 0 THEN ' (eccedenza ' || {_sql_eur("y.credit")} || ' da rimborsare)'
                    ELSE '' END,
               jsonb_build_object('payment_id', y.id, 'flow_id', :flow, 'cents', y.allocated,
                                  'credit_cents', y.credit, 'accrued_cents', coalesce(ac.cents, 0),
                                  'from_state', s.from_state, 'to_state', s.to_state)
        FROM {t["pay"]} y JOIN positions p ON p.id = y.position_id
        LEFT JOIN {t["state"]} s ON s.id = y.position_id
        LEFT JOIN {t["acc"]} ac ON ac.payment_id = y.id"""),  # nosec B608
        params,
    )
    _drop(session, t)
    if one_by_one:
        _allocate_one_by_one(session, flow, actor, on, one_by_one, result)


def _accrue_sql(
    session: Session,
    flow: PaymentFlow,
    actor: Actor,
    t: dict[str, str],
    now: dt.datetime,
    x: Any,
    timings: dict[str, float],
) -> None:
    """The claimed payments that reach their position's ledger balance at their date book the interest and
    oneri accrued up to it (`book_accruals`: the amounts due in one Python batch, the movements by one
    executemany) before the SQL allocation reads the ledger. Fills {exp} (payment, what its position's own
    notice asked for that day) and {acc} (payment, cents booked)."""
    claims = x(
        sa.text(f"""SELECT c.id, c.position_id, c.amount_cents, c.paid_date, n.item_kind, n.item_ref
        FROM {t["claim"]} c JOIN notice_numbers n ON n.id = c.notice_id""")  # nosec B608
    ).all()
    items = [Reaching(c.id, flow.ente_id, c.position_id, int(c.amount_cents), c.paid_date) for c in claims]
    started = time.perf_counter()
    dues, accrued = book_accruals(session, items, actor, booked_dt=now)
    timings["book accruals"] = timings.get("book accruals", 0.0) + time.perf_counter() - started
    x(sa.text(f"CREATE TEMP TABLE {t['exp']} (payment_id bigint PRIMARY KEY, expected bigint)"))
    x(sa.text(f"CREATE TEMP TABLE {t['acc']} (payment_id bigint PRIMARY KEY, cents bigint)"))
    expected = [
        {"p": c.id, "e": max(int(dues[c.id, c.position_id].total_cents), 0)}
        for c in claims
        if c.item_kind == "posizione"
        and c.item_ref == ""
        and (c.id, c.position_id) in dues
        and dues[c.id, c.position_id].error is None
    ]
    if expected:
        x(sa.text(f"INSERT INTO {t['exp']} VALUES (:p, :e)"), expected)  # nosec B608
    if accrued:
        x(
            sa.text(f"INSERT INTO {t['acc']} VALUES (:p, :c)"),  # nosec B608
            [{"p": pid, "c": cents} for (pid, _pos), cents in accrued.items()],
        )


# The waterfall, set-based: payment k of a position (date order) takes from component i (allocation order)
# what lies between the payments before it and the payments up to it, clamped to [0, due_i]. The same result
# as calling app.engine.allocation.allocate for each payment in turn (tests/payments/test_properties.py).
# {claim}: (id, position_id, amount_cents, paid_date); {ranked}: (position_id, component, due > 0, rank).
WATERFALL_SQL = """
    WITH pay AS (
        SELECT c.id AS payment_id, c.position_id, c.amount_cents, c.paid_date,
               coalesce(sum(c.amount_cents) OVER (PARTITION BY c.position_id ORDER BY c.paid_date, c.id
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
        FROM {claim} c),
    wf AS (
        SELECT r.position_id, r.component, r.due, r.rank,
               coalesce(sum(r.due) OVER (PARTITION BY r.position_id ORDER BY r.rank
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS cum_before
        FROM {ranked} r)
    SELECT x.* FROM (
        SELECT pay.payment_id, pay.position_id, pay.paid_date, wf.component, wf.rank,
               least(greatest(pay.before + pay.amount_cents - wf.cum_before, 0), wf.due)
               - least(greatest(pay.before - wf.cum_before, 0), wf.due) AS amount
        FROM pay JOIN wf ON wf.position_id = pay.position_id) x
    WHERE x.amount > 0"""


def _sql_eur(expr: str) -> str:
    """Cents as Italian euro text in SQL: 123456 -> '1.234,56 €'."""
    return (
        f"(regexp_replace(({expr} / 100)::text, '(\\d)(?=(\\d{{3}})+$)', '\\1.', 'g') || ',' || "
        f"lpad(({expr} % 100)::text, 2, '0') || ' €')"
    )


def _drop(session: Session, tables: dict[str, str]) -> None:
    session.execute(sa.text("DROP TABLE IF EXISTS " + ", ".join(tables.values())))


# --- the engine, one payment at a time (SQLite; single operations everywhere) -------------------------------


@dataclass(slots=True)
class Share:
    position_id: int
    amount_cents: int | None = None  # None: as much as the position owes (the rest is credit)


def _debt_positions(session: Session, position_ids: Sequence[int]) -> dict[int, DebtPosition]:
    from app.positions.queries import balances

    positions = {p.id: p for p in session.scalars(sa.select(Position).where(Position.id.in_(position_ids)))}
    result = {}
    for pid, bal in balances(session, position_ids).items():
        comps = {c.component: from_cents(c.due_cents) for c in bal.rows() if c.due_cents > 0}
        result[pid] = DebtPosition(key=str(pid), due_date=positions[pid].due_date, components=comps)
    return result


def allocate_payment(
    session: Session,
    payment: Payment,
    shares: Sequence[Share],
    actor: Actor,
    *,
    method: str,
    on: dt.date | None = None,
    notice: NoticeNumber | None = None,
    lock: bool = True,
    booked_dt: dt.datetime | None = None,
    accrue: bool = True,
) -> tuple[int, int]:
    """Allocate one payment over `shares` through the engine; returns (allocated, credit) in cents.
    `booked_dt` is when the movements are booked (now by default; the demo books its past payments then).

    First (`accrue`), a share that reaches its position's ledger balance books the interest and oneri
    accrued up to the payment's date (`book_accruals`), so a payment of the amount due settles the position.

    Each share goes to its position in the entrata's order; a share's amount above what the position owes, and
    what the shares leave of the payment, become a credit to refund."""
    position_ids = [s.position_id for s in shares]
    positions = {p.id: p for p in session.scalars(sa.select(Position).where(Position.id.in_(position_ids)))}
    if len(positions) != len(set(position_ids)) or any(
        p.ente_id != payment.ente_id for p in positions.values()
    ):
        raise DomainError("Posizione non trovata per l'ente del pagamento.")
    if lock:
        lock_ente(session, payment.ente_id, shared=True)
        lock_positions(session, position_ids)
    requested = sum(s.amount_cents or 0 for s in shares)
    if requested > payment.amount_cents or any((s.amount_cents or 0) < 0 for s in shares):
        raise DomainError("Le quote superano l'importo del pagamento o sono negative.")
    dues: dict[tuple[int, int], Any] = {}
    accrued: dict[tuple[int, int], int] = {}
    if accrue:  # interest and oneri up to the payment's date, when the share reaches the ledger balance
        rest = payment.amount_cents - requested
        items = [
            Reaching(
                payment.id,
                payment.ente_id,
                s.position_id,
                s.amount_cents if s.amount_cents is not None else rest,
                payment.paid_date,
            )
            for s in shares
        ]
        dues, accrued = book_accruals(session, items, actor, booked_dt=booked_dt)
    debts = _debt_positions(session, position_ids)
    day = on or payment.paid_date
    orders = allocation_orders(session, {p.entrata_id for p in positions.values()}, day)
    remaining = payment.amount_cents
    allocated_by_position: dict[int, int] = defaultdict(int)
    before_due = {pid: to_cents(d.total_due) for pid, d in debts.items()}
    movement_rows: list[dict[str, Any]] = []
    lines: list[tuple[int, str, int]] = []
    for share in shares:
        amount = min(share.amount_cents if share.amount_cents is not None else remaining, remaining)
        if amount <= 0:
            continue
        debt = debts[share.position_id]
        order = orders[positions[share.position_id].entrata_id]
        try:
            result = allocate(from_cents(amount), [debt], order, position_key=debt.key)
        except AllocationError as exc:
            raise DomainError(exc.message_it) from None
        debts[share.position_id] = apply_allocation([debt], result)[0]
        for line in result.lines:
            cents = to_cents(line.amount)
            lines.append((share.position_id, line.component, cents))
            allocated_by_position[share.position_id] += cents
            movement_rows.append(
                {
                    "position_id": share.position_id,
                    "component": line.component,
                    "kind": "pagamento",
                    "amount_cents": -cents,
                    "value_date": payment.paid_date,
                    "booked_dt": booked_dt or utcnow(),
                    "user_id": actor.user_id,
                    "source": f"pagamento n. {payment.id} ({payment.channel})"[:200],
                }
            )
        remaining -= to_cents(result.amount) - to_cents(result.credit)
    ids = insert_movements(session, movement_rows)
    now = booked_dt or utcnow()
    if lines:
        session.execute(
            sa.insert(Allocation),
            [
                {
                    "payment_id": payment.id,
                    "ente_id": payment.ente_id,
                    "position_id": pid,
                    "component": comp,
                    "amount_cents": cents,
                    "movement_id": mid,
                    "booked_dt": now,
                }
                for (pid, comp, cents), mid in zip(lines, ids, strict=True)
            ],
        )
    allocated = sum(allocated_by_position.values())
    credit = payment.amount_cents - allocated
    main = shares[0].position_id
    payment.status = "riconciliato"
    payment.position_id = main
    payment.match_method = method
    payment.credit_cents = credit
    if notice is not None:
        payment.notice_id = notice.id
    for pid, position in positions.items():
        paid_now = allocated_by_position.get(pid, 0)
        due_after = before_due[pid] - paid_now
        from_state = position.state
        to = target_state(from_state, due_after, 1) if paid_now else None
        if to:
            position.state = to
        if position.state in BLOCKED_STATES or from_state in BLOCKED_STATES:
            _anomaly(
                session,
                payment,
                "posizione_sospesa",
                position_id=pid,
                detail=f"Stato della posizione: {from_state}",
            )
        if paid_now or pid == main:
            summary = f"Pagamento di {format_eur(paid_now or payment.amount_cents)} imputato"
            if accrued.get((payment.id, pid)):
                summary += f" (interessi e oneri al {payment.paid_date:%d/%m/%Y} registrati: "
                summary += f"{format_eur(accrued[payment.id, pid])})"
            if pid == main and credit:
                summary += f" (eccedenza {format_eur(credit)} da rimborsare)"
            record_event(
                session,
                actor,
                "payment.allocated",
                summary,
                taxpayer_id=position.taxpayer_id,
                position_id=pid,
                ente_id=payment.ente_id,
                payload={
                    "payment_id": payment.id,
                    "flow_id": payment.flow_id,
                    "cents": paid_now,
                    "credit_cents": credit if pid == main else 0,
                    "accrued_cents": accrued.get((payment.id, pid), 0),
                    "from_state": from_state,
                    "to_state": to,
                },
            )
    if credit > 0:
        main_position = positions[main]
        session.add(
            Refund(
                ente_id=payment.ente_id,
                payment_id=payment.id,
                taxpayer_id=main_position.taxpayer_id,
                amount_cents=credit,
                status="da_rimborsare",
                reason="Pagamento di un debito già estinto"
                if allocated == 0
                else "Eccedenza rispetto al dovuto",
            )
        )
        if allocated == 0:
            _anomaly(
                session,
                payment,
                "doppio_pagamento",
                position_id=main,
                expected=0,
                detail="La posizione non aveva più nulla da pagare: l'intero importo è da rimborsare",
            )
    # a pagoPA payment that differs from what its notice asked for that day is an anomaly; at the desk the
    # amount is the operator's
    expected = notice_expected(notice, dues.get((payment.id, notice.position_id or 0)) if notice else None)
    if notice is not None and expected != payment.amount_cents and allocated > 0 and method != "sportello":
        _anomaly(
            session,
            payment,
            "importo_difforme",
            position_id=notice.position_id,
            expected=expected,
            detail=f"Avviso {notice.notice_number}",
        )
    session.flush()
    return allocated, credit


def _anomaly(
    session: Session,
    payment: Payment,
    kind: str,
    *,
    position_id: int | None = None,
    expected: int | None = None,
    detail: str = "",
) -> None:
    session.add(
        Anomaly(
            ente_id=payment.ente_id,
            kind=kind,
            status="aperta",
            flow_id=payment.flow_id,
            payment_id=payment.id,
            position_id=position_id,
            amount_cents=payment.amount_cents,
            expected_cents=expected,
            detail=detail[:500],
        )
    )


def _match_allocate_engine(
    session: Session, flow: PaymentFlow, actor: Actor, on: dt.date, result: ReconcileResult
) -> None:
    claimed = session.execute(_claim_by_iuv(flow).returning(Payment.id)).scalars().all()
    result.matched = len(claimed)
    if claimed:
        _allocate_one_by_one(session, flow, actor, on, list(claimed), result)


def _allocate_one_by_one(
    session: Session,
    flow: PaymentFlow,
    actor: Actor,
    on: dt.date,
    claimed: list[int],
    result: ReconcileResult,
) -> None:
    """Claimed payments allocated one at a time by `allocate_payment`, in date order (then id)."""
    payments = list(
        session.scalars(
            sa.select(Payment).where(Payment.id.in_(claimed)).order_by(Payment.paid_date, Payment.id)
        )
    )
    notices = {
        n.id: n
        for n in session.scalars(
            sa.select(NoticeNumber).where(NoticeNumber.id.in_({p.notice_id for p in payments}))
        )
    }
    for payment in payments:
        try:
            with session.begin_nested():
                allocated, credit = allocate_payment(
                    session,
                    payment,
                    [Share(payment.position_id)],
                    actor,
                    method="iuv",
                    on=on,
                    notice=notices[payment.notice_id],
                    lock=False,
                )
        except DomainError:
            session.expire(payment)
            _to_review_for_order(session, flow, [payment.id])
            result.matched -= 1
            continue
        result.allocated_cents += allocated
        result.credit_cents += credit


def _to_review_for_order(session: Session, flow: PaymentFlow, payment_ids: list[int]) -> None:
    """Payments on positions owing a component outside the allocation order: to an operator."""
    session.execute(
        sa.update(Payment)
        .where(Payment.id.in_(payment_ids))
        .values(status="in_revisione", match_method=None)
        .execution_options(synchronize_session=False)
    )
    for pid, position_id, amount in session.execute(
        sa.select(Payment.id, Payment.position_id, Payment.amount_cents).where(Payment.id.in_(payment_ids))
    ):
        session.add(
            ReviewItem(
                ente_id=flow.ente_id,
                payment_id=pid,
                suggested_position_id=position_id,
                score=100,
                reason="Codice avviso riconosciuto, ma la posizione ha componenti fuori "
                "dall'ordine di imputazione dell'entrata",
            )
        )
        session.add(
            Anomaly(
                ente_id=flow.ente_id,
                kind="ordine_imputazione",
                flow_id=flow.id,
                payment_id=pid,
                position_id=position_id,
                amount_cents=amount,
                detail="Completare il parametro allocation_order dell'entrata",
            )
        )


# --- heuristics: codice fiscale + amount + causale -> review queue -----------------------------------------


def _heuristics(session: Session, flow: PaymentFlow, result: ReconcileResult) -> None:
    """Set-based on every database: resolve the payer by codice fiscale (or partita IVA) among the taxpayers
    of the paying ente only (a taxpayer of another ente stays unknown here: attaching it would show that
    ente's data, the name first, to this one), score the payer's open positions of the ente, and queue the
    best one for an operator; no candidate -> senza debito."""
    pending = (
        Payment.flow_id == flow.id,
        Payment.status == "da_riconciliare",
        sa.or_(Payment.outcome_code.is_(None), Payment.outcome_code.in_(EXECUTED_OUTCOMES)),
    )
    from app.taxpayers.models import Taxpayer

    for column in (Taxpayer.codice_fiscale, Taxpayer.partita_iva):
        session.execute(
            sa.update(Payment)
            .where(
                *pending,
                Payment.codice_fiscale.is_not(None),
                Payment.taxpayer_id.is_(None),
                column == Payment.codice_fiscale,
                of_ente(Taxpayer, Payment.ente_id),
            )
            .values(taxpayer_id=Taxpayer.id)
            .execution_options(synchronize_session=False)
        )
    payer_positions = (
        sa.select(Position.id)
        .join(
            Payment, sa.and_(Payment.taxpayer_id == Position.taxpayer_id, Payment.ente_id == Position.ente_id)
        )
        .where(*pending)
    )
    due = (
        sa.select(Movement.position_id, sa.func.sum(Movement.amount_cents).label("due"))
        .where(Movement.position_id.in_(payer_positions))
        .group_by(Movement.position_id)
        .subquery()
    )
    notice = sa.orm.aliased(NoticeNumber)
    causale = sa.func.upper(sa.func.coalesce(Payment.causale, ""))

    def mentions(value: Any) -> Any:
        return sa.and_(
            value.is_not(None), sa.func.length(value) >= 4, causale.like("%" + sa.func.upper(value) + "%")
        )

    score = (
        sa.case((due.c.due == Payment.amount_cents, 50), else_=0)
        + sa.case((notice.amount_cents == Payment.amount_cents, 40), else_=0)
        + sa.case((mentions(Position.external_id), 30), else_=0)
        + sa.case((mentions(Position.reference), 30), else_=0)
        + sa.case((mentions(notice.notice_number), 30), else_=0)
        + sa.case((causale.like("%" + sa.cast(Position.year, sa.String) + "%"), 5), else_=0)
    )
    scored = (
        sa.select(
            Payment.id.label("payment_id"),
            Position.id.label("position_id"),
            score.label("score"),
            Position.due_date,
            due.c.due,
        )
        .join(
            Position,
            sa.and_(Position.taxpayer_id == Payment.taxpayer_id, Position.ente_id == Payment.ente_id),
        )
        .join(due, due.c.position_id == Position.id)
        .outerjoin(
            notice,
            sa.and_(
                notice.position_id == Position.id, notice.item_kind == "posizione", notice.item_ref == ""
            ),
        )
        .where(*pending, due.c.due > 0)
        .subquery()
    )
    ranked = sa.select(
        scored,
        sa.func.row_number()
        .over(
            partition_by=scored.c.payment_id,
            order_by=(scored.c.score.desc(), scored.c.due_date, scored.c.position_id),
        )
        .label("rn"),
        sa.func.count().over(partition_by=scored.c.payment_id).label("candidates"),
    ).subquery()
    best = sa.select(ranked).where(ranked.c.rn == 1)
    rows = session.execute(best).all()
    now = utcnow()
    if rows:
        session.execute(
            sa.insert(ReviewItem),
            [
                {
                    "ente_id": flow.ente_id,
                    "payment_id": r.payment_id,
                    "suggested_position_id": r.position_id,
                    "score": int(r.score) + (20 if r.candidates == 1 else 0),
                    "status": "aperta",
                    "created_dt": now,
                    "reason": _reason(int(r.score), int(r.candidates)),
                }
                for r in rows
            ],
        )
        session.execute(
            sa.update(Payment)
            .where(Payment.id.in_([r.payment_id for r in rows]))
            .values(status="in_revisione")
            .execution_options(synchronize_session=False)
        )
    result.review = len(rows)
    unmatched = session.execute(
        sa.update(Payment)
        .where(*pending)
        .values(status="non_abbinato")
        .returning(Payment.id, Payment.amount_cents)
        .execution_options(synchronize_session=False)
    ).all()
    result.unmatched = len(unmatched)
    if unmatched:
        session.execute(
            sa.insert(Anomaly),
            [
                {
                    "ente_id": flow.ente_id,
                    "kind": "senza_debito",
                    "status": "aperta",
                    "flow_id": flow.id,
                    "payment_id": pid,
                    "amount_cents": amount,
                    "created_dt": now,
                    "detail": "Nessuna posizione trovata per codice avviso, codice fiscale o causale",
                }
                for pid, amount in unmatched
            ],
        )


def _reason(score: int, candidates: int) -> str:
    return (
        f"Codice fiscale del pagatore: {candidates} "
        f"{'posizione aperta' if candidates == 1 else 'posizioni aperte'} "
        f"dell'ente; punteggio {score} (importo uguale al dovuto 50, all'avviso 40, riferimento nella "
        f"causale 30, anno 5, unica candidata 20)"
    )


# --- revocations and reversals ------------------------------------------------------------------------------


def _revocations(session: Session, flow: PaymentFlow, actor: Actor, result: ReconcileResult) -> None:
    rows = list(
        session.scalars(
            sa.select(Payment).where(
                Payment.flow_id == flow.id, Payment.status == "da_riconciliare", Payment.outcome_code == "3"
            )
        )
    )
    for row in rows:
        original = session.scalars(
            sa.select(Payment).where(
                Payment.ente_id == row.ente_id,
                Payment.source_key == "pagopa",
                Payment.external_id == row.external_id,
                Payment.status.not_in(("sostituito", "revoca")),
            )
        ).first()
        row.status = "revoca"
        if original is not None and original.status in ("revocato", "stornato"):
            row.revokes_id = original.id  # already taken back (e.g. the revocation repeated by an overwrite)
            result.revoked += 1
            continue
        if original is None:
            session.add(
                Anomaly(
                    ente_id=row.ente_id,
                    kind="revoca_senza_pagamento",
                    flow_id=flow.id,
                    payment_id=row.id,
                    amount_cents=row.amount_cents,
                    detail=f"IUR {row.iur}, IUV {row.iuv}: nessun pagamento da revocare",
                )
            )
            continue
        row.revokes_id = original.id
        reverse_payments(
            session,
            [original.id],
            actor,
            new_status="revocato",
            reason=f"revoca pagoPA (flusso {flow.identifier})",
        )
        result.revoked += 1
    session.flush()


def reverse_payments(
    session: Session,
    payment_ids: Sequence[int],
    actor: Actor,
    *,
    new_status: str,
    reason: str,
    on: dt.date | None = None,
) -> int:
    """Take back every allocation of the payments with reversing movements (the ledger trigger checks each one
    negates what it reverses), restore the positions' states, cancel open refunds and reviews. Returns the
    number of allocations reversed."""
    ids = list(payment_ids)
    if not ids:
        return 0
    session.flush()
    reversed_ids = sa.select(Allocation.reverses_id).where(Allocation.reverses_id.is_not(None))
    open_allocations = session.execute(
        sa.select(
            Allocation.id,
            Allocation.payment_id,
            Allocation.position_id,
            Allocation.component,
            Allocation.amount_cents,
            Allocation.movement_id,
            Allocation.ente_id,
            Movement.value_date,
        )
        .join(Movement, Movement.id == Allocation.movement_id)
        .where(
            Allocation.payment_id.in_(ids), Allocation.amount_cents > 0, Allocation.id.not_in(reversed_ids)
        )
        .order_by(Allocation.id)
    ).all()
    reversed_accruals = sa.select(Accrual.reverses_id).where(Accrual.reverses_id.is_not(None))
    open_accruals = session.execute(
        sa.select(
            Accrual.id,
            Accrual.payment_id,
            Accrual.ente_id,
            Movement.id.label("movement_id"),
            Movement.position_id,
            Movement.component,
            Movement.kind,
            Movement.amount_cents,
            Movement.value_date,
            Movement.source,
        )
        .join(Movement, Movement.id == Accrual.movement_id)
        .where(
            Accrual.payment_id.in_(ids), Accrual.reverses_id.is_(None), Accrual.id.not_in(reversed_accruals)
        )
        .order_by(Accrual.id)
    ).all()
    lock_positions(
        session, {a.position_id for a in open_allocations} | {a.position_id for a in open_accruals}
    )
    now = utcnow()
    # The reversal takes the value date of what it reverses (unless told otherwise): the ledger at every
    # date is then as if the payment had not been made, and so is the amount due.
    rows = [
        {
            "position_id": a.position_id,
            "component": a.component,
            "kind": "pagamento",
            "amount_cents": a.amount_cents,
            "value_date": on or a.value_date,
            "booked_dt": now,
            "user_id": actor.user_id,
            "reverses_id": a.movement_id,
            "source": f"storno pagamento n. {a.payment_id}: {reason}"[:200],
        }
        for a in open_allocations
    ]
    new_ids = insert_movements(session, rows)
    if open_allocations:
        session.execute(
            sa.insert(Allocation),
            [
                {
                    "payment_id": a.payment_id,
                    "ente_id": a.ente_id,
                    "position_id": a.position_id,
                    "component": a.component,
                    "amount_cents": -a.amount_cents,
                    "movement_id": mid,
                    "reverses_id": a.id,
                    "booked_dt": now,
                }
                for a, mid in zip(open_allocations, new_ids, strict=True)
            ],
        )
    # What the payments booked when they reached the ledger balance (interest, oneri) is taken back too, at
    # its own value date: the engine then accrues again from where it did before.
    accrual_ids = insert_movements(
        session,
        [
            {
                "position_id": a.position_id,
                "component": a.component,
                "kind": a.kind,
                "amount_cents": -a.amount_cents,
                "value_date": a.value_date,
                "booked_dt": now,
                "user_id": actor.user_id,
                "reverses_id": a.movement_id,
                "source": f"storno ({reason}) di: {a.source}"[:200],
            }
            for a in open_accruals
        ],
    )
    if open_accruals:
        session.execute(
            sa.insert(Accrual),
            [
                {
                    "payment_id": a.payment_id,
                    "ente_id": a.ente_id,
                    "position_id": a.position_id,
                    "movement_id": mid,
                    "reverses_id": a.id,
                    "booked_dt": now,
                }
                for a, mid in zip(open_accruals, accrual_ids, strict=True)
            ],
        )
    session.execute(
        sa.update(Payment)
        .where(Payment.id.in_(ids))
        .values(status=new_status, credit_cents=0)
        .execution_options(synchronize_session=False)
    )
    # A surplus already paid back to the payer: the refund stays what it was (money did leave), and an
    # anomaly on the payment's position says how much to recover and from which transfer.
    refunded = session.execute(
        sa.select(
            Refund.payment_id,
            Refund.ente_id,
            Refund.amount_cents,
            Refund.reference,
            Payment.position_id,
            Payment.flow_id,
        )
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.payment_id.in_(ids), Refund.status == "rimborsato")
    ).all()
    for pid, ente_id, amount, reference, position_id, flow_id in refunded:
        session.add(
            Anomaly(
                ente_id=ente_id,
                kind="rimborso_eseguito",
                payment_id=pid,
                position_id=position_id,
                flow_id=flow_id,
                amount_cents=amount,
                detail=(
                    f"Pagamento {new_status} dopo il rimborso di {format_eur(amount)} già eseguito"
                    f"{f' (rif. {reference})' if reference else ''}: la somma è da recuperare"
                )[:500],
            )
        )
    session.execute(
        sa.update(Refund)
        .where(Refund.payment_id.in_(ids), Refund.status == "da_rimborsare")
        .values(status="annullato", note=f"Annullato: pagamento {new_status}")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        sa.update(ReviewItem)
        .where(ReviewItem.payment_id.in_(ids), ReviewItem.status == "aperta")
        .values(
            status="respinta",
            resolved_dt=now,
            resolved_label=actor.label[:120],
            note=f"Pagamento {new_status}",
        )
        .execution_options(synchronize_session=False)
    )
    by_position: dict[int, int] = defaultdict(int)
    for a in open_allocations:
        by_position[a.position_id] += a.amount_cents
    _restore_states(session, by_position, actor, reason, ids)
    session.flush()
    return len(open_allocations)


def _restore_states(
    session: Session, reversed_by_position: dict[int, int], actor: Actor, reason: str, payment_ids: list[int]
) -> None:
    from app.positions.queries import balances

    if not reversed_by_position:
        return
    pids = sorted(reversed_by_position)
    bals = balances(session, pids)
    for position in session.scalars(sa.select(Position).where(Position.id.in_(pids))):
        bal = bals[position.id]
        previous = _state_before_payments(session, position)
        to = target_state(position.state, bal.due_cents, bal.paid_cents, previous, reversal=True)
        from_state = position.state
        if to:
            position.state = to
        record_event(
            session,
            actor,
            "payment.reversed",
            f"Storno di {format_eur(reversed_by_position[position.id])}: {reason}"[:500],
            taxpayer_id=position.taxpayer_id,
            position_id=position.id,
            ente_id=position.ente_id,
            payload={
                "payment_ids": payment_ids,
                "cents": reversed_by_position[position.id],
                "from_state": from_state,
                "to_state": to,
            },
        )


def _state_before_payments(session: Session, position: Position) -> str:
    """The state the position had before its first payment (from the first payment.allocated event)."""
    from app.core.audit import Event

    payload = session.scalars(
        sa.select(Event.payload)
        .where(Event.position_id == position.id, Event.kind == "payment.allocated")
        .order_by(Event.id)
    ).first()
    state = (payload or {}).get("from_state") if isinstance(payload, dict) else None
    if state and state not in ("pagata", "parzialmente_pagata"):
        return str(state)
    return "notificata" if position.notified_date else "caricata"
