"""Four eyes on the legal numbers: a new period proposed on screen takes effect only when a second
administrator approves it; the proposer cannot approve; a rejection needs a reason; each step an event and the
proposal's history; the approved value changes a stored position's quote from its validity date only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from tests.conftest import csrf_token, new_api_token, user_by_name
from tests.enti.test_parameters import NEW_LEGALE, PAGE, _legale, _new_period

APPROVE = "/amministrazione/parametri/proposte/approva"
REJECT = "/amministrazione/parametri/proposte/respingi"


def _pending(app):
    from app.enti.models import ParameterProposal
    from app.extensions import db

    with app.app_context():
        return db.session.scalars(
            sa.select(ParameterProposal).where(ParameterProposal.status == "pending")
        ).one()


def _decide(client, url: str, proposal_id: int, **extra: str):
    data = {"proposal_id": str(proposal_id), "csrf_token": csrf_token(client, PAGE), **extra}
    return client.post(url, data=data, follow_redirects=True)


def test_the_proposer_cannot_approve_and_nothing_takes_effect(app, personas, second_admin) -> None:
    from app.core.audit import Event
    from app.extensions import db

    admin = personas.client("admin")
    assert _new_period(admin, "legale", **NEW_LEGALE).status_code == 302
    proposal = _pending(app)
    page = admin.get(PAGE).get_data(as_text=True)
    assert f'data-testid="proposal-{proposal.id}"' in page
    assert "Serve l&#39;approvazione di un altro amministratore" in page or "Serve l'approvazione" in page
    response = _decide(admin, APPROVE, proposal.id)
    assert "Chi ha proposto il valore non può approvarlo" in response.get_data(as_text=True)
    with app.app_context():
        assert _pending(app).id == proposal.id
        assert _legale(db.session, dt.date(2026, 1, 1)).valid_to is None
        assert db.session.scalar(sa.select(sa.func.count()).where(Event.kind == "parameter.approved")) == 0
    # the second administrator sees the button and approves
    other = personas.client("admin2")
    assert f'name="proposal_id" value="{proposal.id}"><button class="btn btn-primary' in other.get(
        PAGE
    ).get_data(as_text=True)
    assert "Proposta approvata" in _decide(other, APPROVE, proposal.id).get_data(as_text=True)
    with app.app_context():
        from app.core.history import RowVersion
        from app.enti.models import ParameterProposal

        done = db.session.get(ParameterProposal, proposal.id)
        new = _legale(db.session, dt.date(2027, 1, 1))
        assert (done.status, done.decided_by_id, done.applied_row_id) == ("approved", second_admin, new.id)
        assert new.rate == Decimal("3.5")
        assert _legale(db.session, dt.date(2026, 1, 1)).valid_to == dt.date(2026, 12, 31)
        event = db.session.scalars(sa.select(Event).where(Event.kind == "parameter.approved")).one()
        assert event.actor_user_id == second_admin
        assert event.payload["proposed_by"] == user_by_name("admin").id
        version = db.session.scalars(
            sa.select(RowVersion).where(
                RowVersion.table_name == "parameter_proposals", RowVersion.row_id == proposal.id
            )
        ).one()
        assert version.before["status"] == "pending"
    # decided once: a second approval is refused
    assert "già stata decisa" in _decide(other, APPROVE, proposal.id).get_data(as_text=True)


def test_a_rejection_needs_a_reason_and_changes_nothing(app, personas, second_admin) -> None:
    from app.core.audit import Event
    from app.extensions import db

    assert _new_period(personas.client("admin"), "legale", **NEW_LEGALE).status_code == 302
    proposal = _pending(app)
    other = personas.client("admin2")
    assert "Motivo: indica perché" in _decide(other, REJECT, proposal.id, reason="").get_data(as_text=True)
    assert "Proposta respinta" in _decide(
        other, REJECT, proposal.id, reason="Tasso non ancora pubblicato in G.U."
    ).get_data(as_text=True)
    with app.app_context():
        from app.enti.models import ParameterProposal

        done = db.session.get(ParameterProposal, proposal.id)
        assert (done.status, done.decision_note) == ("rejected", "Tasso non ancora pubblicato in G.U.")
        assert _legale(db.session, dt.date(2026, 1, 1)).valid_to is None
        kinds = set(db.session.scalars(sa.select(Event.kind).where(Event.kind.like("parameter.%"))))
        assert {"parameter.proposed", "parameter.rejected"} <= kinds and "parameter.added" not in kinds


def test_only_one_pending_proposal_per_value_and_a_refused_one_is_not_recorded(
    app, personas, second_admin
) -> None:
    from app.enti.models import ParameterProposal
    from app.extensions import db

    admin = personas.client("admin")
    bad = _new_period(admin, "legale", **{**NEW_LEGALE, "valid_from": "2025-06-01"})
    assert bad.status_code == 200 and "deve essere successivo" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ParameterProposal.id))) == 0
    assert _new_period(admin, "legale", **NEW_LEGALE).status_code == 302
    again = _new_period(personas.client("admin2"), "legale", **{**NEW_LEGALE, "valid_from": "2027-02-01"})
    assert "già una proposta in attesa" in again.get_data(as_text=True)


def test_an_approved_rate_changes_the_stored_quote_from_its_validity_date_only(
    app, personas, client, second_admin
) -> None:
    """A parameter edited on screen changes the quotes from its validity date only (issue 15)."""
    from tests.api.test_engine_api import _mario_position

    position_id = _mario_position(app)
    token = new_api_token(app, "positions:read", name="R01")

    def quote(as_of: str) -> dict:
        response = client.get(
            f"/api/v1/positions/{position_id}/quote?as_of={as_of}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
        return response.json

    before = {day: quote(day) for day in ("2026-12-31", "2027-06-30")}
    assert Decimal(before["2027-06-30"]["interest"]["amount"]) > 0
    assert _new_period(personas.client("admin"), "legale", **NEW_LEGALE).status_code == 302
    assert quote("2027-06-30") == before["2027-06-30"]  # a proposal changes nothing
    _decide(personas.client("admin2"), APPROVE, _pending(app).id)
    after = {day: quote(day) for day in ("2026-12-31", "2027-06-30")}
    assert after["2026-12-31"] == before["2026-12-31"]  # before the validity date: the same quote
    segments = after["2027-06-30"]["interest"]["segments"]
    assert segments[-1]["from"] == "2027-01-01" and segments[-1]["rate"] == "3.50"
    late_before, late_after = before["2027-06-30"], after["2027-06-30"]
    assert Decimal(late_after["interest"]["amount"]) > Decimal(late_before["interest"]["amount"])
    assert Decimal(after["2027-06-30"]["total_due"]) > Decimal(before["2027-06-30"]["total_due"])
