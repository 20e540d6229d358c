"""A payment sent to one ente never brings along a taxpayer of another ente (issue 10, point 4).

The probe's finding, step by step: R02 receives a payment carrying the codice fiscale of Mario Rossi, a
taxpayer of R01 only; the payment has no debt at R02, an operator sends it to review and rejects it, and the
refund to do showed "Rossi Mario" to R02's Regione user on /pagamenti/rimborsi and in its export.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.demo.seed import MARIO_ROSSI_CF, SECOND_ENTE_CF
from app.extensions import db
from app.payments.models import Payment, Refund
from tests.conftest import csrf_token
from tests.payments.support import ACTOR, csv_file


def _import_r02(app, external_id: str, cf: str) -> Payment:
    from app.payments.services import import_flow

    line = f"{external_id};2026-11-18;;25,00;;{cf};TASSA AUTO 2024;bonifico"
    with app.app_context():
        import_flow(db.session, csv_file(line), ACTOR, fmt="csv", ente_code="R02")
        db.session.commit()
        return db.session.scalars(sa.select(Payment).where(Payment.external_id == external_id)).one()


def _reject_through_review(client, payment_id: int) -> None:
    """What the operator did: send the unmatched payment to the review queue, then reject it (a refund)."""
    response = client.post(
        f"/pagamenti/{payment_id}/revisione",
        data={"csrf_token": csrf_token(client, f"/pagamenti/{payment_id}")},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    detail = response.headers["Location"]
    response = client.post(
        f"{detail}/respingi", data={"csrf_token": csrf_token(client, detail), "note": "non dovuto a R02"}
    )
    assert response.status_code == 302


def _taxpayer_id(cf: str) -> int:
    from app.taxpayers.models import Taxpayer

    return db.session.scalars(sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == cf)).one()


def test_an_r02_payment_with_the_cf_of_an_r01_only_taxpayer_never_shows_him_to_r02(app, personas) -> None:
    payment = _import_r02(app, "XE-R02-1", MARIO_ROSSI_CF)
    assert payment.status == "non_abbinato"
    assert payment.taxpayer_id is None  # matched to a taxpayer only within the paying ente
    _reject_through_review(personas.client("backoffice"), payment.id)
    with app.app_context():
        refund = db.session.scalars(sa.select(Refund).where(Refund.payment_id == payment.id)).one()
        assert (refund.status, refund.taxpayer_id) == ("da_rimborsare", None)

    r2 = personas.client("regione2")
    page = r2.get("/pagamenti/rimborsi").get_data(as_text=True)
    assert "XE-R02-1" in page  # the refund is R02's and listed...
    assert "Rossi Mario" not in page and MARIO_ROSSI_CF not in page  # ...without the other ente's taxpayer
    for fmt in ("csv", "xml"):
        export = r2.get(f"/pagamenti/rimborsi/esporta.{fmt}").get_data(as_text=True)
        assert "XE-R02-1" in export and "Rossi Mario" not in export and MARIO_ROSSI_CF not in export, fmt


def test_a_taxpayer_of_the_paying_ente_is_still_attached(app) -> None:
    payment = _import_r02(app, "XE-R02-3", SECOND_ENTE_CF)
    with app.app_context():
        assert payment.taxpayer_id == _taxpayer_id(SECOND_ENTE_CF)


def test_a_refund_pointing_at_another_entes_taxpayer_shows_no_name_there(app, personas) -> None:
    """Rows written before the fix (or by any other path): the join to the taxpayer is scoped itself."""
    payment = _import_r02(app, "XE-R02-2", MARIO_ROSSI_CF)
    _reject_through_review(personas.client("backoffice"), payment.id)
    with app.app_context():
        db.session.execute(
            sa.update(Refund)
            .where(Refund.payment_id == payment.id)
            .values(taxpayer_id=_taxpayer_id(MARIO_ROSSI_CF))
        )
        db.session.commit()
    r2 = personas.client("regione2")
    for url in ("/pagamenti/rimborsi", "/pagamenti/rimborsi/esporta.csv"):
        body = r2.get(url).get_data(as_text=True)
        assert "XE-R02-2" in body and "Rossi Mario" not in body and MARIO_ROSSI_CF not in body, url
    # a user of both enti sees the taxpayer: the join hides only what is out of scope
    both = personas.client("backoffice").get("/pagamenti/rimborsi/esporta.csv").get_data(as_text=True)
    assert "Rossi Mario" in both and MARIO_ROSSI_CF in both
