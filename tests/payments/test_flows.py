"""pagoPA FdR flows: both XSD versions, totals, duplicates, overwrite, revocations (formats.md §2)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.payments.models import Allocation, Anomaly, Payment, PaymentFlow
from app.payments.parsing import FlowRefused, parse_fdr
from app.payments.services import DuplicateFlow, import_flow
from app.positions.models import Movement, Position
from tests.payments.support import ACTOR, SAMPLES, fdr, open_positions, row


def counts(session) -> tuple[int, ...]:
    return tuple(
        session.scalar(sa.select(sa.func.count()).select_from(t))
        for t in (PaymentFlow, Payment, Allocation, Movement, Anomaly)
    )


def test_sample_1_0_4_with_a_revocation_is_valid_and_imported(session) -> None:
    data = (SAMPLES / "fdr_1_0_4.xml").read_bytes()
    parsed = parse_fdr(data)
    assert parsed.schema_version == "1.0.4"  # outcome 3 exists only in 1.0.4
    assert [p.outcome_code for p in parsed.payments] == ["0", "0", "9", "0", "3"]
    assert parsed.declared_total_cents == 15600 + 4250 + 30999 + 7000 + 2500
    summary = import_flow(session, data, ACTOR, file_name="fdr_1_0_4.xml")
    assert summary.payments == 5 and summary.duplicates == 0 and summary.total_cents == 60349
    flow = session.get(PaymentFlow, summary.flow_id)
    assert (flow.identifier, flow.sender, flow.schema_version) == (
        "2026-11-19BPPIITRRXXX-S000000042",
        "BPPIITRRXXX",
        "1.0.4",
    )
    kinds = set(session.scalars(sa.select(Anomaly.kind).where(Anomaly.flow_id == flow.id)))
    assert "revoca_senza_pagamento" in kinds and "senza_debito" in kinds  # unknown IUR revoked; unknown IUV
    assert summary.matched == 3 and summary.unmatched == 2


def test_sample_1_0_5_with_stand_in_outcomes_is_valid_and_imported(session) -> None:
    data = (SAMPLES / "fdr_1_0_5.xml").read_bytes()
    parsed = parse_fdr(data)
    assert "1.0.5" in parsed.schema_version.split(",")
    assert [p.outcome_code for p in parsed.payments] == ["0", "4", "8", "9"]
    assert parsed.flow_dt == dt.datetime(2026, 11, 20, 20, 30, tzinfo=dt.UTC)
    assert parsed.payments[3].external_id == "UNCRITMM-20261120-0004#2"  # transfer 2 of the same receipt
    summary = import_flow(session, data, ACTOR)
    assert summary.as_json() == {
        "flow": summary.flow_id,
        "payments": 4,
        "matched": 4,
        "unmatched": 0,
        "duplicates": 0,
        "total": "677.99",
    }


@pytest.mark.parametrize("declared", [{"declared_count": 3}, {"declared_total_cents": 10001}])
def test_declared_totals_different_from_the_rows_refuse_the_flow(session, declared) -> None:
    (p,) = open_positions(session)
    before = counts(session)
    data = fdr([row(p.iuv, "IUR-TOT-1", 5000), row(p.iuv, "IUR-TOT-2", 5000)], **declared)
    with pytest.raises(FlowRefused, match="totali dichiarati"):
        import_flow(session, data, ACTOR)
    session.rollback()
    assert counts(session) == before


def test_the_same_flow_twice_changes_nothing(session) -> None:
    (p,) = open_positions(session)
    data = fdr([row(p.iuv, "IUR-TWICE-1", p.due)])
    first = import_flow(session, data, ACTOR)
    session.commit()
    after_first = counts(session)
    with pytest.raises(DuplicateFlow):
        import_flow(session, data, ACTOR)
    session.rollback()
    # the same flow id + PSP and the same dataOraFlusso, even with other bytes (other indentation): duplicate
    with pytest.raises(DuplicateFlow, match="duplicato"):
        import_flow(session, data.replace(b"\n", b"\r\n"), ACTOR)
    session.rollback()
    assert counts(session) == after_first
    assert session.get(Position, p.id).state == "pagata"
    assert first.matched == 1


def test_an_earlier_data_ora_flusso_is_a_duplicate(session) -> None:
    (p,) = open_positions(session)
    import_flow(session, fdr([row(p.iuv, "IUR-EARLY-1", 1000)], flow_dt="2026-11-20T10:00:00"), ACTOR)
    with pytest.raises(DuplicateFlow):
        import_flow(session, fdr([row(p.iuv, "IUR-EARLY-1", 2000)], flow_dt="2026-11-20T09:59:59"), ACTOR)


def test_overwrite_with_a_later_data_ora_flusso_reverses_the_old_allocations_and_applies_the_new(
    session,
) -> None:
    a, b = open_positions(session, 2)
    old = import_flow(
        session,
        fdr([row(a.iuv, "IUR-OW-1", a.due), row(b.iuv, "IUR-OW-2", 1000)], flow_dt="2026-11-20T10:00:00"),
        ACTOR,
    )
    assert session.get(Position, a.id).state == "pagata"
    new = import_flow(
        session,
        fdr([row(a.iuv, "IUR-OW-1", 500), row(b.iuv, "IUR-OW-2", b.due)], flow_dt="2026-11-21T08:00:00"),
        ACTOR,
    )
    assert new.replaced_flow_id == old.flow_id and new.duplicates == 0 and new.matched == 2
    old_flow, new_flow = session.get(PaymentFlow, old.flow_id), session.get(PaymentFlow, new.flow_id)
    assert (old_flow.status, new_flow.status, new_flow.replaces_id) == (
        "sostituito",
        "accettato",
        old_flow.id,
    )
    old_payments = session.scalars(sa.select(Payment).where(Payment.flow_id == old.flow_id)).all()
    assert {p.status for p in old_payments} == {"sostituito"}
    for payment in old_payments:  # every old allocation has its reversal: net zero, both kept in the history
        rows = session.scalars(sa.select(Allocation).where(Allocation.payment_id == payment.id)).all()
        assert sum(r.amount_cents for r in rows) == 0 and any(r.reverses_id for r in rows)
    assert session.get(Position, a.id).state == "parzialmente_pagata"
    assert session.get(Position, b.id).state == "pagata"
    from app.positions.queries import balances

    assert balances(session, [a.id])[a.id].due_cents == a.ledger - 500


def test_the_same_iur_in_two_flows_is_a_duplicate_not_a_second_payment(session) -> None:
    (p,) = open_positions(session)
    import_flow(
        session, fdr([row(p.iuv, "IUR-SAME", 1000)], identifier="2026-11-20PSPDEMO01-0000000001"), ACTOR
    )
    second = import_flow(
        session,
        fdr(
            [row(p.iuv, "IUR-SAME", 1000), row(p.iuv, "IUR-OTHER", 700)],
            identifier="2026-11-20PSPDEMO01-0000000002",
        ),
        ACTOR,
    )
    assert (second.payments, second.duplicates, second.matched) == (1, 1, 1)
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Payment).where(Payment.iur == "IUR-SAME")) == 1
    )
    from app.positions.queries import balances

    assert balances(session, [p.id])[p.id].due_cents == p.ledger - 1700


def test_a_revoked_payment_reverses_its_allocation(session) -> None:
    (p,) = open_positions(session)
    import_flow(
        session, fdr([row(p.iuv, "IUR-REV", p.due)], identifier="2026-11-20PSPDEMO01-0000000010"), ACTOR
    )
    assert session.get(Position, p.id).state == "pagata"
    summary = import_flow(
        session,
        fdr([row(p.iuv, "IUR-REV", p.due, outcome="3")], identifier="2026-11-21PSPDEMO01-0000000011"),
        ACTOR,
    )
    assert summary.matched == 1 and summary.duplicates == 0
    original = session.scalars(
        sa.select(Payment).where(Payment.iur == "IUR-REV", Payment.outcome_code == "0")
    ).one()
    revocation = session.scalars(
        sa.select(Payment).where(Payment.iur == "IUR-REV", Payment.outcome_code == "3")
    ).one()
    assert (original.status, revocation.status, revocation.revokes_id) == ("revocato", "revoca", original.id)
    from app.positions.queries import balances

    assert balances(session, [p.id])[p.id].due_cents == p.ledger
    assert session.get(Position, p.id).state == p.state  # back to the state before the payment
    reversals = session.scalars(
        sa.select(Movement).where(Movement.position_id == p.id, Movement.reverses_id.is_not(None))
    ).all()
    assert sum(m.amount_cents for m in reversals if m.kind == "pagamento") == p.due
    # the interest and oneri the payment booked (it paid the notice of its day) are taken back too
    assert sum(m.amount_cents for m in reversals if m.kind != "pagamento") == p.ledger - p.due < 0


def test_a_flow_for_an_unknown_ente_is_refused(session) -> None:
    with pytest.raises(FlowRefused, match="Ente ricevente sconosciuto"):
        import_flow(session, fdr([row("01000000000000001", "X", 100)], receiver_cf="12345678901"), ACTOR)


def test_an_overwrite_repeating_a_revocation_does_not_report_it_again(session) -> None:
    (p,) = open_positions(session)
    import_flow(
        session, fdr([row(p.iuv, "IUR-RR", p.due)], identifier="2026-11-20PSPDEMO01-0000000020"), ACTOR
    )
    revocation = fdr(
        [row(p.iuv, "IUR-RR", p.due, outcome="3")],
        identifier="2026-11-21PSPDEMO01-0000000021",
        flow_dt="2026-11-21T10:00:00",
    )
    import_flow(session, revocation, ACTOR)
    again = import_flow(
        session,
        fdr(
            [row(p.iuv, "IUR-RR", p.due, outcome="3")],
            identifier="2026-11-21PSPDEMO01-0000000021",
            flow_dt="2026-11-21T11:00:00",
        ),
        ACTOR,
    )
    assert again.replaced_flow_id is not None and again.matched == 1
    kinds = session.scalars(sa.select(Anomaly.kind).where(Anomaly.kind == "revoca_senza_pagamento")).all()
    assert kinds == []
    from app.positions.queries import balances

    assert balances(session, [p.id])[p.id].due_cents == p.ledger


def test_an_overwrite_dropping_a_revocation_makes_the_payment_due_again(session) -> None:
    (p,) = open_positions(session)
    import_flow(
        session, fdr([row(p.iuv, "IUR-WD", p.due)], identifier="2026-11-20PSPDEMO01-0000000030"), ACTOR
    )
    import_flow(
        session,
        fdr(
            [row(p.iuv, "IUR-WD", p.due, outcome="3")],
            identifier="2026-11-21PSPDEMO01-0000000031",
            flow_dt="2026-11-21T10:00:00",
        ),
        ACTOR,
    )
    original = session.scalars(
        sa.select(Payment).where(Payment.iur == "IUR-WD", Payment.outcome_code == "0")
    ).one()
    assert original.status == "revocato" and session.get(Position, p.id).state == p.state
    other = open_positions(session, 2)[-1]
    again = import_flow(
        session,
        fdr(
            [row(other.iuv, "IUR-WD-2", 1000)],
            identifier="2026-11-21PSPDEMO01-0000000031",
            flow_dt="2026-11-21T11:00:00",
        ),
        ACTOR,
    )
    assert again.replaced_flow_id is not None
    session.expire_all()
    original = session.get(Payment, original.id)
    assert (original.status, original.position_id) == ("riconciliato", p.id)
    from app.positions.queries import balances

    assert balances(session, [p.id])[p.id].due_cents == 0
    assert session.get(Position, p.id).state == "pagata"
    from app.core.audit import Event

    withdrawn = session.scalars(
        sa.select(Event).where(Event.kind == "payment.revocation_withdrawn", Event.position_id == p.id)
    ).all()
    assert len(withdrawn) == 1 and withdrawn[0].payload["payment_id"] == original.id


def test_an_overwrite_repeating_a_revocation_keeps_the_payment_revoked(session) -> None:
    (p,) = open_positions(session)
    import_flow(
        session, fdr([row(p.iuv, "IUR-KR", p.due)], identifier="2026-11-20PSPDEMO01-0000000040"), ACTOR
    )
    for hour in ("10", "11"):
        import_flow(
            session,
            fdr(
                [row(p.iuv, "IUR-KR", p.due, outcome="3")],
                identifier="2026-11-21PSPDEMO01-0000000041",
                flow_dt=f"2026-11-21T{hour}:00:00",
            ),
            ACTOR,
        )
    original = session.scalars(
        sa.select(Payment).where(Payment.iur == "IUR-KR", Payment.outcome_code == "0")
    ).one()
    assert original.status == "revocato"
    from app.positions.queries import balances

    assert balances(session, [p.id])[p.id].due_cents == p.ledger


def test_the_xsd_copies_are_the_published_ones() -> None:
    """app/payments/xsd holds byte-identical copies of ../shared/data/pagopa (domain.md §6.4)."""

    from app.payments.parsing import XSD_DIR
    from tests.payments.support import shared_file

    shared = shared_file("data/pagopa")
    for name in (
        "FlussoRiversamento_1_0_4.xsd",
        "FlussoRiversamento_1_0_4_SANP-3.8.1.xsd",
        "FlussoRiversamento_1_0_5.xsd",
    ):
        assert (XSD_DIR / name).read_bytes() == (shared / name).read_bytes(), name
