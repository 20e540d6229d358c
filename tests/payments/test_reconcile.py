"""Reconciliation: allocation order, partial payments, credits, anomalies, heuristics, both paths agree."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.payments.models import Allocation, Anomaly, Payment, Refund, ReviewItem
from app.payments.services import import_flow
from app.positions.models import Movement, Position
from app.positions.queries import balances
from tests.payments.conftest import check_invariants
from tests.payments.support import ACTOR, csv_file, euro, fdr, open_positions, row

ORDER = ("spese", "interessi", "sanzioni", "capitale")


def allocations(session, payment_iur: str) -> dict[str, int]:
    payment = session.scalars(sa.select(Payment).where(Payment.iur == payment_iur)).one()
    rows = session.scalars(sa.select(Allocation).where(Allocation.payment_id == payment.id)).all()
    return {a.component: a.amount_cents for a in rows}


@pytest.mark.parametrize("method", ["sql", "engine"])
def test_a_partial_payment_allocates_in_the_entrata_order(session, method) -> None:
    (p,) = open_positions(session, min_components=3)
    first_two = [c for c in ORDER if c in p.components][:2]
    amount = p.components[first_two[0]] + p.components[first_two[1]] // 2
    import_flow(session, fdr([row(p.iuv, "IUR-PART", amount)]), ACTOR, method=method)
    expected = {first_two[0]: p.components[first_two[0]], first_two[1]: p.components[first_two[1]] // 2}
    assert allocations(session, "IUR-PART") == {k: v for k, v in expected.items() if v}
    assert session.get(Position, p.id).state == "parzialmente_pagata"
    payments = session.scalars(
        sa.select(Movement).where(Movement.position_id == p.id, Movement.kind == "pagamento")
    ).all()
    assert sum(m.amount_cents for m in payments) == -amount
    assert all(m.value_date == dt.date(2026, 11, 20) for m in payments)


@pytest.mark.parametrize("method", ["sql", "engine"])
def test_an_entratas_own_allocation_order_wins_over_the_default(session, method) -> None:
    """An entrata whose regulation pays the capital first: a partial payment goes to capitale, not to spese
    (reconciliation using the default order everywhere would pass the test above, not this one)."""
    from app.enti.models import Parameter

    (p,) = open_positions(session, min_components=3)
    position = session.get(Position, p.id)
    own = ("capitale", "sanzioni", "interessi", "spese")
    session.add(
        Parameter(
            code="allocation_order",
            ente_id=position.ente_id,
            entrata_id=position.entrata_id,
            valid_from=dt.date(2000, 1, 1),
            valid_to=None,
            value={"order": list(own)},
            source="Regolamento regionale delle entrate, art. 12 (ordine di imputazione)",
            verified=True,
        )
    )
    session.flush()
    first_two = [c for c in own if c in p.components][:2]
    assert first_two != [c for c in ORDER if c in p.components][:2]  # the orders differ on this position
    amount = p.components[first_two[0]] + p.components[first_two[1]] // 2
    import_flow(session, fdr([row(p.iuv, "IUR-OWN", amount)]), ACTOR, method=method)
    expected = {first_two[0]: p.components[first_two[0]], first_two[1]: p.components[first_two[1]] // 2}
    assert allocations(session, "IUR-OWN") == {k: v for k, v in expected.items() if v}


@pytest.mark.parametrize("method", ["sql", "engine"])
def test_an_overpayment_becomes_a_credit_to_refund(session, method) -> None:
    (p,) = open_positions(session)
    summary = import_flow(session, fdr([row(p.iuv, "IUR-OVER", p.due + 1234)]), ACTOR, method=method)
    payment = session.scalars(sa.select(Payment).where(Payment.iur == "IUR-OVER")).one()
    assert (payment.status, payment.credit_cents) == ("riconciliato", 1234)
    assert sum(allocations(session, "IUR-OVER").values()) == p.due
    refund = session.scalars(sa.select(Refund).where(Refund.payment_id == payment.id)).one()
    assert (refund.amount_cents, refund.status) == (1234, "da_rimborsare")
    assert session.get(Position, p.id).state == "pagata"
    assert summary.reconcile.credit_cents == 1234
    kinds = set(session.scalars(sa.select(Anomaly.kind).where(Anomaly.payment_id == payment.id)))
    assert "importo_difforme" in kinds  # the notice said something else


@pytest.mark.parametrize("method", ["sql", "engine"])
def test_a_debt_paid_twice_is_an_anomaly_and_the_second_payment_a_refund(session, method) -> None:
    (p,) = open_positions(session)
    import_flow(
        session,
        fdr([row(p.iuv, "IUR-TWICE-A", p.due), row(p.iuv, "IUR-TWICE-B", p.due)]),
        ACTOR,
        method=method,
    )
    a = session.scalars(sa.select(Payment).where(Payment.iur == "IUR-TWICE-A")).one()
    b = session.scalars(sa.select(Payment).where(Payment.iur == "IUR-TWICE-B")).one()
    assert (a.credit_cents, b.credit_cents) == (0, p.due)
    assert session.scalars(sa.select(Anomaly.kind).where(Anomaly.payment_id == b.id)).all() == [
        "doppio_pagamento"
    ]


def test_payment_on_a_suspended_position_is_allocated_and_listed(session) -> None:
    (p,) = open_positions(session)
    position = session.get(Position, p.id)
    position.state = "sospesa"
    session.flush()
    import_flow(session, fdr([row(p.iuv, "IUR-SUSP", 100)]), ACTOR)
    assert (
        session.scalars(sa.select(Anomaly.kind).where(Anomaly.position_id == p.id)).all()
        == ["importo_difforme", "posizione_sospesa"]
        or "posizione_sospesa"
        in session.scalars(sa.select(Anomaly.kind).where(Anomaly.position_id == p.id)).all()
    )
    assert session.get(Position, p.id).state == "sospesa"  # sospesa -> parzialmente_pagata is not allowed


def test_the_sql_path_and_the_engine_agree(session) -> None:
    """Same payments on copies of the same debts: identical allocations, credits, states and anomalies."""
    positions = open_positions(session, 8, min_components=2)
    left, right = positions[:4], positions[4:]
    assert len(right) == 4

    def flow_rows(ps, tag):
        out = []
        for i, (p, lp) in enumerate(zip(ps, left, strict=True)):
            due = lp.due  # the amounts of the left debts, paid on both sides
            amounts = [due // 3, due - due // 3 + (500 if i % 2 else 0)] if i < 2 else [due + 7 * i, 99]
            out += [
                row(p.iuv, f"{tag}-{i}-{k}", a, day=dt.date(2026, 11, 10 + k))
                for k, a in enumerate(amounts)
                if a > 0
            ]
        return out

    # the right positions get the same debts as the left ones, so the two paths can be compared
    for lp, rp in zip(left, right, strict=True):
        for m in session.scalars(sa.select(Movement).where(Movement.position_id == rp.id)):
            session.add(
                Movement(
                    position_id=rp.id,
                    component=m.component,
                    kind="sgravio",
                    amount_cents=-m.amount_cents,
                    value_date=m.value_date,
                    source="test",
                )
            )
        for component, cents in lp.components.items():
            session.add(
                Movement(
                    position_id=rp.id,
                    component=component,
                    kind="carico",
                    amount_cents=cents,
                    value_date=dt.date(2026, 1, 1),
                    source="test",
                )
            )
        session.get(Position, rp.id).entrata_id = session.get(Position, lp.id).entrata_id
    session.flush()
    import_flow(session, fdr(flow_rows(left, "L"), identifier="2026-11-20PSPDEMO01-L"), ACTOR, method="sql")
    import_flow(
        session, fdr(flow_rows(right, "R"), identifier="2026-11-20PSPDEMO01-R"), ACTOR, method="engine"
    )

    def outcome(p, tag):
        pays = session.scalars(
            sa.select(Payment).where(Payment.iur.like(f"{tag}-%")).order_by(Payment.iur)
        ).all()
        mine = [x for x in pays if x.position_id == p.id]
        allocs = [
            sorted(
                (a.component, a.amount_cents)
                for a in session.scalars(sa.select(Allocation).where(Allocation.payment_id == x.id))
            )
            for x in mine
        ]
        anomalies = [
            sorted(session.scalars(sa.select(Anomaly.kind).where(Anomaly.payment_id == x.id))) for x in mine
        ]
        return (
            [(x.status, x.credit_cents) for x in mine],
            allocs,
            anomalies,
            session.get(Position, p.id).state,
            balances(session, [p.id])[p.id].due_cents,
        )

    for lp, rp in zip(left, right, strict=True):
        assert outcome(lp, "L") == outcome(rp, "R")


def test_heuristics_put_a_payment_with_codice_fiscale_and_causale_in_the_review_queue(session) -> None:
    (p,) = open_positions(session)
    data = csv_file(
        f"BON-1;2026-11-18;2026-11-19;{euro(p.due)};;{p.codice_fiscale};Pagamento {p.external_id};bonifico",
        "BON-2;2026-11-18;2026-11-19;12,00;;;versamento senza riferimenti;bonifico",
    )
    summary = import_flow(session, data, ACTOR, fmt="csv", ente_code="R01")
    assert (summary.payments, summary.matched, summary.unmatched, summary.review) == (2, 0, 2, 1)
    review = session.scalars(sa.select(ReviewItem).join(Payment).where(Payment.external_id == "BON-1")).one()
    assert review.suggested_position_id == p.id and review.score >= 80 and review.status == "aperta"
    unmatched = session.scalars(sa.select(Payment).where(Payment.external_id == "BON-2")).one()
    assert unmatched.status == "non_abbinato"
    assert session.scalars(sa.select(Anomaly.kind).where(Anomaly.payment_id == unmatched.id)).all() == [
        "senza_debito"
    ]


def test_a_codice_avviso_written_in_a_bank_causale_matches(session) -> None:
    (p,) = open_positions(session)
    spaced = " ".join(p.notice[i : i + 4] for i in range(0, 18, 4))
    data = csv_file(f"BON-AV;2026-11-18;;{euro(p.due)};;;Avviso pagoPA {spaced} bollo auto;bonifico")
    summary = import_flow(session, data, ACTOR, fmt="csv", ente_code="R01")
    assert summary.matched == 1 and session.get(Position, p.id).state == "pagata"


def test_the_invariant_check_catches_an_allocation_without_payment_amount(session) -> None:
    (p,) = open_positions(session)
    import_flow(session, fdr([row(p.iuv, "IUR-INV", 1000)]), ACTOR)
    check_invariants(session)
    payment = session.scalars(sa.select(Payment).where(Payment.iur == "IUR-INV")).one()
    session.execute(sa.update(Payment).where(Payment.id == payment.id).values(credit_cents=1))
    with pytest.raises(AssertionError, match="invariant violated"):
        check_invariants(session)
    session.rollback()


def test_among_several_positions_of_the_payer_the_best_scored_is_suggested_on_postgresql(session) -> None:
    """The ranking of candidates (score, then the earliest due date, then the id) in PostgreSQL, where the
    window functions run (the other test of several candidates runs on SQLite only)."""
    from collections import defaultdict

    from app.taxpayers.models import Taxpayer

    assert session.get_bind().dialect.name == "postgresql"
    by_payer = defaultdict(list)
    for p in open_positions(session, 200):
        by_payer[p.codice_fiscale].append(p)
    cf, mine = next((cf, ps) for cf, ps in by_payer.items() if len(ps) >= 2)
    taxpayer_id = session.scalars(sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == cf)).one()
    ente_id = session.get(Position, mine[0].id).ente_id
    ids = session.scalars(
        sa.select(Position.id).where(Position.taxpayer_id == taxpayer_id, Position.ente_id == ente_id)
    ).all()
    owing = [pid for pid, bal in balances(session, ids).items() if bal.due_cents > 0]
    assert len(owing) >= 2
    target = max(mine, key=lambda p: p.id)  # not the first by id nor (necessarily) by due date
    earliest = min(owing, key=lambda pid: (session.get(Position, pid).due_date, pid))
    data = csv_file(
        f"MULTI-1;2026-11-18;;{euro(target.due)};;{cf};Saldo {target.external_id};bonifico",
        f"MULTI-2;2026-11-18;;0,37;;{cf};versamento;bonifico",
    )
    summary = import_flow(session, data, ACTOR, fmt="csv", ente_code="R01", method="sql")
    assert summary.review == 2
    best = session.scalars(sa.select(ReviewItem).join(Payment).where(Payment.external_id == "MULTI-1")).one()
    assert best.suggested_position_id == target.id and best.score >= 80  # amount 50 (+ notice 40) + ref. 30
    assert best.reason.startswith(f"Codice fiscale del pagatore: {len(owing)} posizioni aperte")
    tie = session.scalars(sa.select(ReviewItem).join(Payment).where(Payment.external_id == "MULTI-2")).one()
    assert tie.suggested_position_id == earliest and tie.score == 0  # nothing tells them apart
