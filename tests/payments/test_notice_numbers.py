"""Notice numbers (formats.md §3): check digits, per-ente sequence, uniqueness, amount at issue."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.engine.notice import check_digits, is_valid_notice, notice_number


def test_known_vector_aux3_segregation44() -> None:
    assert notice_number("44", "0123456789012") == "344012345678901286"
    assert check_digits("44", "0123456789012") == "86"


def test_every_seeded_position_has_a_valid_notice_with_its_ente_segregation_code(session) -> None:
    from app.enti.models import Ente
    from app.payments.models import NoticeNumber
    from app.positions.models import Position

    rows = session.execute(
        sa.select(
            Position.id,
            Ente.segregation_code,
            NoticeNumber.notice_number,
            NoticeNumber.iuv,
            NoticeNumber.amount_cents,
        )
        .join(Ente, Ente.id == Position.ente_id)
        .outerjoin(
            NoticeNumber,
            sa.and_(NoticeNumber.position_id == Position.id, NoticeNumber.item_kind == "posizione"),
        )
    ).all()
    assert rows
    for _pid, seg, number, iuv, amount in rows:
        assert number is not None and is_valid_notice(number)
        assert number[1:3] == seg and iuv == number[1:] and amount >= 0


def test_sql_check_digits_equal_the_engine_on_many_bases(session) -> None:
    """The set-based path computes check digits in SQL (the very expression it uses): compare with the engine
    on bases of every shape."""
    from app.payments.notices import pg_check_digits_sql

    bases = [0, 1, 92, 93, 12345, 9999999999999, 123456789012, 5000000000000] + list(range(1000, 1200))
    for seg in ("00", "01", "44", "99"):
        got = session.execute(
            sa.text(f"SELECT b, {pg_check_digits_sql('b')} FROM unnest(CAST(:bases AS bigint[])) AS b"),
            {"seg": seg, "bases": bases},
        ).all()
        for base, digits in got:
            assert digits == check_digits(seg, f"{base:013d}"), (seg, base)


def test_assign_for_a_new_carico_uses_the_ente_sequence_and_stores_the_amount(session) -> None:
    from app.carichi.models import Carico
    from app.enti.models import Ente
    from app.payments.models import NoticeNumber
    from app.payments.notices import assign_notice_numbers, assign_notice_numbers_for_carico, sequence_name
    from app.positions.models import Movement, Position

    ente = session.scalars(sa.select(Ente).where(Ente.code == "R02")).one()
    old = session.scalars(sa.select(Position).where(Position.ente_id == ente.id)).first()
    carico = Carico(
        ente_id=ente.id, entrata_id=old.entrata_id, reference="T-NOTICE", received_date=dt.date(2026, 11, 1)
    )
    session.add(carico)
    session.flush()
    new = []
    for i in range(5):
        p = Position(
            ente_id=ente.id,
            entrata_id=old.entrata_id,
            carico_id=carico.id,
            taxpayer_id=old.taxpayer_id,
            external_id=f"T-NOTICE-{i}",
            year=2024,
            due_date=dt.date(2025, 1, 31),
            state="caricata",
        )
        session.add(p)
        session.flush()
        session.add(
            Movement(
                position_id=p.id,
                component="capitale",
                kind="carico",
                amount_cents=10000 + i,
                value_date=dt.date(2026, 11, 1),
                source="test",
            )
        )
        new.append(p)
    before = session.scalar(sa.text(f"SELECT last_value FROM {sequence_name(ente.id)}"))
    assert assign_notice_numbers_for_carico(session, carico.id) == 5
    assert assign_notice_numbers_for_carico(session, carico.id) == 0  # idempotent
    assert assign_notice_numbers(session, [p.id for p in new]) == 0
    notices = session.scalars(
        sa.select(NoticeNumber)
        .where(NoticeNumber.position_id.in_([p.id for p in new]))
        .order_by(NoticeNumber.position_id)
    ).all()
    assert [n.amount_cents for n in notices] == [10000 + i for i in range(5)]
    assert [n.iuv_base for n in notices] == list(range(before + 1, before + 6))
    assert all(n.notice_number.startswith("302") and is_valid_notice(n.notice_number) for n in notices)


def test_installments_and_acts_get_numbers_through_the_same_service_never_reused(session) -> None:
    from app.enti.models import Ente
    from app.payments.models import NoticeNumber
    from app.payments.notices import issue_notice_number

    ente = session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
    a = issue_notice_number(
        session,
        ente_id=ente.id,
        amount_cents=20837,
        issued_on=dt.date(2026, 11, 26),
        item_kind="rata",
        item_ref="piano-1/1",
    )
    b = issue_notice_number(
        session,
        ente_id=ente.id,
        amount_cents=0,
        issued_on=dt.date(2026, 11, 26),
        item_kind="atto",
        item_ref="atto-7",
    )
    assert a.iuv_base < b.iuv_base and a.notice_number != b.notice_number
    session.delete(a)
    session.flush()
    c = issue_notice_number(
        session,
        ente_id=ente.id,
        amount_cents=1,
        issued_on=dt.date(2026, 11, 26),
        item_kind="rata",
        item_ref="piano-1/2",
    )
    assert c.iuv_base > b.iuv_base  # the counter only moves forward: a number is never issued twice
    session.add(
        NoticeNumber(
            ente_id=ente.id,
            item_kind="atto",
            item_ref="dup",
            iuv_base=c.iuv_base,
            notice_number=c.notice_number,
            iuv=c.iuv,
            amount_cents=1,
            issued_date=dt.date(2026, 11, 26),
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()
