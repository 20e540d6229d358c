"""The batch quote service answers, for every position, exactly what the stored-position quote answers."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

AS_OF_DATES = (dt.date(2026, 3, 1), dt.date(2025, 6, 30), dt.date(2026, 1, 15))


def _everyone(session):
    from app.core.access import Principal
    from app.enti.models import Ente

    return Principal(role="admin", ente_ids=frozenset(session.scalars(sa.select(Ente.id))))


def _expected(session, principal, as_of: dt.date) -> dict[int, str]:
    from app.positions.models import Position
    from app.positions.quotes import quote_position

    ids = session.scalars(sa.select(Position.id).order_by(Position.id))
    return {pid: quote_position(session, principal, pid, as_of)["total_due"] for pid in ids}


def _add_ledger_cases(session) -> list[int]:
    """Movements the seed lacks: several payments (one date split over components, a refund), an abatement,
    accrued interest, a movement after as_of, an 'oneri' movement (not a quoted component)."""
    from app.positions.models import Movement, Position

    positions = session.scalars(sa.select(Position).order_by(Position.id).limit(3)).all()
    lines = [
        (positions[0], "spese", "pagamento", -100, dt.date(2024, 5, 2)),
        (positions[0], "capitale", "pagamento", -5000, dt.date(2024, 5, 2)),
        (positions[0], "capitale", "pagamento", -2500, dt.date(2025, 2, 10)),
        (positions[0], "capitale", "rimborso", 700, dt.date(2025, 2, 10)),
        (positions[0], "capitale", "pagamento", -900, dt.date(2027, 1, 1)),  # after every as_of
        (positions[1], "sanzioni", "sgravio", -1000, dt.date(2024, 1, 1)),
        (positions[1], "interessi", "interessi", 321, dt.date(2025, 1, 1)),
        (positions[1], "oneri", "oneri", 4500, dt.date(2025, 1, 1)),
        (positions[2], "capitale", "pagamento", -1, dt.date(2023, 12, 31)),
        (positions[2], "capitale", "rimborso", 1, dt.date(2023, 12, 31)),  # nets to nothing paid that day
    ]
    for position, component, kind, cents, day in lines:
        session.add(Movement(position_id=position.id, component=component, kind=kind, amount_cents=cents,
                             value_date=day, source="test"))
    session.flush()
    return [p.id for p in positions]


def test_batch_equals_quote_position_for_every_seeded_position(session) -> None:
    from app.positions.batch_quotes import batch_quotes

    _add_ledger_cases(session)
    principal = _everyone(session)
    for as_of in AS_OF_DATES:
        expected = _expected(session, principal, as_of)
        assert len(expected) > 40
        in_process = list(batch_quotes(session, principal, as_of, workers=0, chunk=7))
        assert in_process == sorted(expected.items())
    # two worker processes, chunks smaller than the data (several in flight), on the last date
    assert list(batch_quotes(session, principal, as_of, workers=2, chunk=16)) == sorted(expected.items())


def test_batch_is_scoped_to_the_principal(session) -> None:
    from app.core.access import Principal
    from app.enti.models import Ente
    from app.positions.batch_quotes import batch_quotes
    from app.positions.models import Position

    r01 = session.scalars(sa.select(Ente.id).where(Ente.code == "R01")).one()
    principal = Principal(role="regione", ente_ids=frozenset({r01}))
    as_of = dt.date(2026, 3, 1)
    got = dict(batch_quotes(session, principal, as_of, workers=0))
    assert set(got) == set(session.scalars(sa.select(Position.id).where(Position.ente_id == r01)))
    everything = _expected(session, _everyone(session), as_of)
    assert got == {pid: total for pid, total in everything.items() if pid in got}
    assert list(batch_quotes(session, Principal(role="regione", ente_ids=frozenset()), as_of)) == []


def test_a_position_the_engine_refuses_is_reported(session) -> None:
    from app.positions.batch_quotes import BatchQuoteError, batch_quotes
    from app.positions.models import Position

    first = session.scalars(sa.select(Position).order_by(Position.id)).first()
    old = Position(ente_id=first.ente_id, entrata_id=first.entrata_id, taxpayer_id=first.taxpayer_id,
                   external_id="TEST-1900", year=1900, due_date=dt.date(1900, 1, 1))  # no legal rate in 1900
    session.add(old)
    session.flush()
    principal = _everyone(session)
    refused: list[tuple[int, int, str]] = []
    got = dict(batch_quotes(session, principal, dt.date(2026, 3, 1), workers=0,
                            on_error=lambda pid, status, message: refused.append((pid, status, message))))
    assert old.id not in got and len(got) > 40
    assert refused == [(old.id, 422, "Tabella dei tassi 'legale': nessun tasso in vigore il 02/01/1900")]
    with pytest.raises(BatchQuoteError) as error:
        list(batch_quotes(session, principal, dt.date(2026, 3, 1), workers=2, chunk=10))
    assert error.value.position_id == old.id and error.value.status == 422
