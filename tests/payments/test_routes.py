"""The screens: access, upload through the batch job, review queue actions with CSRF, anomalies, refunds,
desk payment and quietanza, reports and their exports, riversamento, the card's payments fragment."""

from __future__ import annotations

import html
import io
import re

import pytest
import sqlalchemy as sa
from lxml import etree

from app.extensions import db
from app.payments.models import Anomaly, Payment, Refund, ReviewItem, Riversamento
from tests.conftest import csrf_token
from tests.payments.support import ACTOR, csv_file, euro, fdr, open_positions, row


def _import(app, data: bytes, **kw):
    from app.payments.services import import_flow

    with app.app_context():
        summary = import_flow(db.session, data, ACTOR, **kw)
        db.session.commit()
        return summary


def _review_id(app, external_id: str) -> int:
    with app.app_context():
        return db.session.scalars(
            sa.select(ReviewItem.id).join(Payment).where(Payment.external_id == external_id)
        ).one()


@pytest.mark.parametrize(
    "path",
    [
        "/pagamenti/",
        "/pagamenti/anomalie",
        "/pagamenti/rimborsi",
        "/pagamenti/rendicontazione",
        "/pagamenti/rendicontazione/dettaglio",
    ],
)
@pytest.mark.parametrize(
    "persona,status",
    [("backoffice", 200), ("callcenter", 200), ("regione", 200), ("contribuente", 403), (None, 302)],
)
def test_read_pages_by_role(personas, path, persona, status) -> None:
    assert personas.client(persona).get(path).status_code == status


@pytest.mark.parametrize("path", ["/pagamenti/revisione", "/pagamenti/carica", "/pagamenti/tracciati"])
@pytest.mark.parametrize(
    "persona,status",
    [("admin", 200), ("backoffice", 200), ("sportello", 403), ("callcenter", 403), ("regione", 403)],
)
def test_operator_pages_by_role(personas, path, persona, status) -> None:
    assert personas.client(persona).get(path).status_code == status


def test_upload_queues_a_batch_job_that_imports_and_reconciles(app, personas, store) -> None:
    from app.jobs.models import BatchJob
    from app.payments.tasks import run_flow_import

    with app.app_context():
        (p,) = open_positions(db.session)
    client = personas.client("backoffice")
    data = {
        "csrf_token": csrf_token(client, "/pagamenti/carica"),
        "format": "",
        "layout": "canonico",
        "ente": "R01",
        "file": (io.BytesIO(csv_file(f"UP-1;2026-11-18;;{euro(p.due)};{p.notice};;;bonifico")), "up.csv"),
    }
    response = client.post("/pagamenti/carica", data=data, content_type="multipart/form-data")
    assert response.status_code == 302 and "/elaborazioni/" in response.headers["Location"]
    with app.app_context():
        job = db.session.scalars(sa.select(BatchJob).order_by(BatchJob.id.desc())).first()
        assert (job.kind, job.status, job.task) == (
            "pagamenti",
            "queued",
            "app.payments.tasks.run_flow_import",
        )
        result = run_flow_import(job.id)
        assert result["matched"] == 1 and result["status"] == "accettato"
        db.session.refresh(job)
        assert job.status == "done"
        # the same file again: the job fails with the reason, nothing kept
        again = personas.client("backoffice")
        data["csrf_token"] = csrf_token(again, "/pagamenti/carica")
        data["file"] = (
            io.BytesIO(csv_file(f"UP-1;2026-11-18;;{euro(p.due)};{p.notice};;;bonifico")),
            "up.csv",
        )
        again.post("/pagamenti/carica", data=data, content_type="multipart/form-data")
        second = db.session.scalars(sa.select(BatchJob).order_by(BatchJob.id.desc())).first()
        assert run_flow_import(second.id)["status"] == "rifiutato"
        db.session.refresh(second)
        assert second.status == "failed" and "già importato" in second.error_message
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Payment).where(Payment.external_id == "UP-1")
            )
            == 1
        )


def test_flow_and_payment_pages_show_totals_allocations_and_export(app, personas) -> None:
    with app.app_context():
        (p,) = open_positions(db.session)
    summary = _import(app, fdr([row(p.iuv, "IUR-PAGE", p.due + 10)]))
    client = personas.client("backoffice")
    html = client.get(f"/pagamenti/flussi/{summary.flow_id}").get_data(as_text=True)
    assert "IUR-PAGE" in html and "Riconciliato" in html and "Importo diverso dall" in html
    with app.app_context():
        payment_id = db.session.scalars(sa.select(Payment.id).where(Payment.iur == "IUR-PAGE")).one()
    html = client.get(f"/pagamenti/{payment_id}").get_data(as_text=True)
    assert 'data-testid="payment-allocations"' in html and p.external_id in html and "eccedenza" in html
    for fmt in ("csv", "xlsx", "ods", "odt", "pdf", "xml"):
        response = client.get(f"/pagamenti/flussi/{summary.flow_id}/pagamenti.{fmt}")
        assert response.status_code == 200 and response.data
    csv_text = client.get(f"/pagamenti/flussi/{summary.flow_id}/pagamenti.csv").get_data(as_text=True)
    assert "IUR-PAGE" in csv_text
    assert personas.client("regione2").get(f"/pagamenti/flussi/{summary.flow_id}").status_code == 404


def test_review_queue_confirm_split_reject_need_csrf(app, personas) -> None:
    with app.app_context():
        a, b, c = open_positions(db.session, 3)
    lines = [
        f"RQ-{i};2026-11-18;;{euro(x.due)};;{x.codice_fiscale};Pagamento {x.external_id};bonifico"
        for i, x in enumerate((a, b, c))
    ]
    _import(app, csv_file(*lines), fmt="csv", ente_code="R01")
    client = personas.client("backoffice")
    html = client.get("/pagamenti/revisione").get_data(as_text=True)
    assert all(f"RQ-{i}" in html for i in range(3))
    first = _review_id(app, "RQ-0")
    assert client.post(f"/pagamenti/revisione/{first}/conferma", data={}).status_code == 400  # no CSRF token
    detail = f"/pagamenti/revisione/{first}"
    assert a.external_id in client.get(detail).get_data(as_text=True)
    response = client.post(
        f"{detail}/conferma",
        data={"csrf_token": csrf_token(client, detail), "posizione": str(a.id), "note": "ok"},
    )
    assert response.status_code == 302
    second = _review_id(app, "RQ-1")
    detail = f"/pagamenti/revisione/{second}"
    response = client.post(
        f"{detail}/ripartisci",
        data={
            "csrf_token": csrf_token(client, detail),
            f"quota_{b.id}": euro(b.due - 100),
            "altra": c.external_id,
            "altra_quota": "0,50",
        },
    )
    assert response.status_code == 302
    third = _review_id(app, "RQ-2")
    detail = f"/pagamenti/revisione/{third}"
    response = client.post(f"{detail}/respingi", data={"csrf_token": csrf_token(client, detail), "note": ""})
    assert response.status_code == 302  # refused: a reason is required
    response = client.post(
        f"{detail}/respingi",
        data={"csrf_token": csrf_token(client, detail), "note": "bonifico di un altro ente"},
    )
    with app.app_context():
        statuses = dict(
            db.session.execute(
                sa.select(ReviewItem.id, ReviewItem.status).where(ReviewItem.id.in_([first, second, third]))
            ).all()
        )
        assert statuses == {first: "confermata", second: "divisa", third: "respinta"}
        payment = db.session.scalars(sa.select(Payment).where(Payment.external_id == "RQ-1")).one()
        assert payment.credit_cents == b.due - (b.due - 100) - 50
    desk = personas.client("sportello")
    token = csrf_token(desk, "/pagamenti/sportello")
    assert desk.post(f"{detail}/respingi", data={"csrf_token": token, "note": "x"}).status_code == 403


def test_anomalies_close_and_refunds_done_with_who_and_when(app, personas) -> None:
    _import(app, csv_file("AN-1;2026-11-18;;10,00;;;sconosciuto;bonifico"), fmt="csv", ente_code="R01")
    client = personas.client("backoffice")
    html = client.get("/pagamenti/anomalie?tipo=senza_debito").get_data(as_text=True)
    assert "AN-1" in html
    with app.app_context():
        anomaly_id = db.session.scalars(
            sa.select(Anomaly.id).join(Payment).where(Payment.external_id == "AN-1")
        ).one()
    token = csrf_token(client, "/pagamenti/anomalie")
    client.post(
        f"/pagamenti/anomalie/{anomaly_id}/chiudi",
        data={"csrf_token": token, "note": "restituito all'ordinante"},
    )
    for fmt in ("csv", "xlsx", "ods", "odt", "pdf", "xml"):
        assert client.get(f"/pagamenti/anomalie/esporta.{fmt}?stato=").status_code == 200
    review = _review_id_for_unmatched(app, client)
    assert review
    with app.app_context():
        refund = db.session.scalars(
            sa.select(Refund).join(Payment).where(Payment.external_id == "AN-1")
        ).one()
        assert db.session.get(Anomaly, anomaly_id).status == "chiusa"
    client.post(
        f"/pagamenti/rimborsi/{refund.id}/eseguito",
        data={"csrf_token": csrf_token(client, "/pagamenti/rimborsi"), "reference": "CRO-99"},
    )
    with app.app_context():
        refund = db.session.get(Refund, refund.id)
        assert (refund.status, refund.reference, refund.refunded_label) == (
            "rimborsato",
            "CRO-99",
            "Bruno Back Office",
        )
    assert client.get("/pagamenti/rimborsi/esporta.xlsx?stato=tutti").status_code == 200


def _review_id_for_unmatched(app, client) -> int:
    """The unmatched payment goes to the queue by hand, then is rejected (a refund)."""
    with app.app_context():
        payment_id = db.session.scalars(sa.select(Payment.id).where(Payment.external_id == "AN-1")).one()
    response = client.post(
        f"/pagamenti/{payment_id}/revisione",
        data={"csrf_token": csrf_token(client, f"/pagamenti/{payment_id}")},
    )
    review_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    detail = f"/pagamenti/revisione/{review_id}"
    client.post(f"{detail}/respingi", data={"csrf_token": csrf_token(client, detail), "note": "non dovuto"})
    return review_id


def test_desk_payment_page_and_quietanza_pdf(app, personas) -> None:
    from app.positions.amounts import amounts_due_by_id, today_rome

    with app.app_context():
        (p,) = open_positions(db.session)
        p.due = amounts_due_by_id(db.session, [p.id], today_rome())[p.id].total_cents  # interest included
    from tests.payments.test_desk_idempotency import desk_form

    client = personas.client("sportello")
    page = "/pagamenti/sportello"
    response = client.post(
        page,
        data={
            **desk_form(client),
            "ente": "R01",
            "reference": p.notice,
            "amount": euro(p.due + 1),
            "channel": "contanti",
        },
    )
    assert "superiore al dovuto" in response.get_data(as_text=True)
    response = client.post(
        page,
        data={
            **desk_form(client),
            "ente": "R01",
            "reference": p.external_id,
            "amount": euro(p.due),
            "channel": "contanti",
        },
    )
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="receipt-link"' in html
    pdf_url = re.search(r'href="([^"]+quietanza\.pdf)"', html).group(1)
    pdf = client.get(pdf_url)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert personas.client("callcenter").get(page).status_code == 403


def test_report_groups_drills_down_and_exports_every_format(app, personas) -> None:
    with app.app_context():
        a, b = open_positions(db.session, 2)
    _import(app, fdr([row(a.iuv, "IUR-REP-1", a.due), row(b.iuv, "IUR-REP-2", 100)]))
    client = personas.client("regione")
    html = client.get(
        "/pagamenti/rendicontazione?dal=2026-11-20&al=2026-11-20&per=capitolo&per=componente"
    ).get_data(as_text=True)
    assert 'data-testid="report-rows"' in html and "E." in html
    total = re.search(r'data-testid="report-total"><strong>([^<]+)<', html).group(1)
    assert total.replace("\xa0", " ").strip() == _eur(a.due + 100)
    detail = client.get("/pagamenti/rendicontazione/dettaglio?dal=2026-11-20&al=2026-11-20").get_data(
        as_text=True
    )
    assert "IUR-REP-1" in detail and "IUR-REP-2" in detail
    for fmt in ("csv", "xlsx", "ods", "odt", "pdf", "xml"):
        for url in (
            f"/pagamenti/rendicontazione/esporta.{fmt}?per=ente&per=entrata&per=anno&per=canale&per=mese",
            f"/pagamenti/rendicontazione/dettaglio.{fmt}?dal=2026-11-20",
            f"/pagamenti/rendicontazione/non-attribuiti.{fmt}",
        ):
            response = client.get(url)
            assert response.status_code == 200 and response.data, url
    csv_text = client.get("/pagamenti/rendicontazione/dettaglio.csv?dal=2026-11-20&al=2026-11-20").get_data(
        as_text=True
    )
    assert "IUR-REP-1" in csv_text and "IUR-REP-2" in csv_text
    other = (
        personas.client("regione2")
        .get("/pagamenti/rendicontazione/dettaglio.csv?dal=2026-11-20")
        .get_data(as_text=True)
    )
    assert "IUR-REP-1" not in other  # another ente's staff sees none of it


def _eur(cents: int) -> str:
    from app.reports.formatting import format_eur

    return format_eur(cents)


def test_riversamento_on_demand_csv_and_xml_valid_against_the_published_xsd(app, personas, store) -> None:
    from app.payments.riversamento import XSD_PATH

    with app.app_context():
        a, b = open_positions(db.session, 2)
    _import(app, fdr([row(a.iuv, "IUR-RIV-1", a.due), row(b.iuv, "IUR-RIV-2", 250)]))
    client = personas.client("backoffice")
    from app.payments.queries import today_rome

    today = today_rome().isoformat()
    response = client.post(
        "/pagamenti/riversamento",
        data={
            "csrf_token": csrf_token(client, "/pagamenti/riversamento"),
            "ente": "R01",
            "dal": today,
            "al": today,
        },
    )
    assert response.status_code == 302
    with app.app_context():
        row_ = db.session.scalars(sa.select(Riversamento).order_by(Riversamento.id.desc())).first()
        assert row_.xml_validated and row_.total_cents == a.due + 250
    xml = client.get(f"/pagamenti/riversamento/{row_.id}.xml").data
    schema = etree.XMLSchema(etree.parse(str(XSD_PATH)))
    doc = etree.fromstring(xml)
    assert schema.validate(doc.getroottree()), schema.error_log
    ns = {"r": "urn:esattoria:riversamento:1"}
    assert doc.findtext("r:testata/r:importoTotale", namespaces=ns) == f"{(a.due + 250) / 100:.2f}"
    csv_text = client.get(f"/pagamenti/riversamento/{row_.id}.csv").get_data(as_text=True)
    assert csv_text.startswith("ente;periodo_dal;periodo_al;id_movimento") and "IUR-RIV-2" in csv_text
    for fmt in ("csv", "xlsx", "ods", "odt", "pdf", "xml"):
        assert (
            client.get(f"/pagamenti/riversamento/riepilogo.{fmt}?ente=R01&dal={today}&al={today}").status_code
            == 200
        )
    assert personas.client("regione2").get(f"/pagamenti/riversamento/{row_.id}.csv").status_code == 404


def test_card_fragment_shows_payments_and_logs_the_read(app, personas) -> None:
    from app.core.audit import AccessLog
    from app.taxpayers.models import Taxpayer

    with app.app_context():
        (p,) = open_positions(db.session)
        taxpayer_id = db.session.scalars(
            sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == p.codice_fiscale)
        ).one()
    _import(app, fdr([row(p.iuv, "IUR-CARD", 1000)]))
    client = personas.client("callcenter")
    card = client.get(f"/contribuenti/{taxpayer_id}").get_data(as_text=True)
    assert f'hx-get="/pagamenti/contribuenti/{taxpayer_id}"' in card
    fragment = client.get(f"/pagamenti/contribuenti/{taxpayer_id}", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "IUR-CARD" in html and p.external_id in html
    with app.app_context():
        logged = db.session.scalars(
            sa.select(AccessLog).where(
                AccessLog.action == "card_payments", AccessLog.taxpayer_id == taxpayer_id
            )
        ).all()
        assert logged
    assert personas.client("regione2").get(f"/pagamenti/contribuenti/{taxpayer_id}").status_code in (403, 404)


def _layout_rows(mapping: dict) -> dict[str, str]:
    """The editor's rows as posted: field -> column header, or field -> (start, length)."""
    from app.payments.parsing import CANONICAL_FIELDS

    data = {}
    for i, name in enumerate(CANONICAL_FIELDS):
        data[f"columns-{i}-field"] = name
        where = mapping.get(name)
        if isinstance(where, tuple):
            data[f"columns-{i}-start"], data[f"columns-{i}-length"] = str(where[0]), str(where[1])
        elif where:
            data[f"columns-{i}-source"] = where
    return data


def _layout_form(client, url: str, mapping: dict, **fields: str) -> dict:
    return {
        "csrf_token": csrf_token(client, url),
        "name": "banca-y",
        "format": "csv",
        "encoding": "auto",
        "separator": ";",
        "decimal_separator": ",",
        "date_formats": ["GG/MM/AAAA"],
        "channel": "bonifico",
        "active": "y",
        **_layout_rows(mapping),
        **fields,
    }


def test_layouts_page_lists_builtin_and_admin_adds_and_edits_one(app, personas) -> None:
    from app.payments.models import PaymentLayout

    client = personas.client("admin")
    page = client.get("/pagamenti/tracciati").get_data(as_text=True)
    assert "poste-bollettini" in page and "{&#34;" not in page and '{"field"' not in page  # no JSON shown
    new = "/pagamenti/tracciati/nuovo"
    form = client.get(new).get_data(as_text=True)
    assert 'name="columns-0-field" type="hidden" value="id_pagamento"' in form and "(JSON)" not in form
    bad = client.post(new, data=_layout_form(client, new, {"id_pagamento": "ID"}))
    assert bad.status_code == 200
    assert "Campi obbligatori non mappati: data_pagamento, importo" in bad.get_data(as_text=True)
    mapping = {"id_pagamento": "ID", "data_pagamento": "DATA", "importo": "IMPORTO"}
    response = client.post(new, data=_layout_form(client, new, mapping))
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalars(sa.select(PaymentLayout).where(PaymentLayout.name == "banca-y")).one()
        assert row.columns == mapping and row.date_formats == ["GG/MM/AAAA"] and row.options == {}
        layout_id = row.id
    assert "banca-y" in client.get("/pagamenti/tracciati").get_data(as_text=True)
    edit = f"/pagamenti/tracciati/{layout_id}"
    assert re.search(r'name="columns-3-source" [^>]*value="IMPORTO"', client.get(edit).get_data(as_text=True))
    saved = client.post(
        edit, data=_layout_form(client, edit, {**mapping, "causale": "CAUSALE"}, ignore_unknown_columns="y")
    )
    assert saved.status_code == 302
    with app.app_context():
        row = db.session.get(PaymentLayout, layout_id)
        assert row.columns["causale"] == "CAUSALE" and row.options == {"ignore_unknown_columns": True}
    assert personas.client("backoffice").get(edit).status_code == 403
    assert personas.client("backoffice").get("/pagamenti/tracciati").status_code == 200


def test_a_payments_layout_previews_a_sample_file_before_it_is_saved(app, personas) -> None:
    from app.payments.models import PaymentLayout

    client = personas.client("admin")
    new = "/pagamenti/tracciati/nuovo"
    mapping = {"id_pagamento": "ID", "data_pagamento": "DATA", "importo": "IMPORTO"}
    sample = b"ID;DATA;IMPORTO\nP-1;18/11/2026;1.234,56\nP-2;19/11/2026;10,00\n"
    data = _layout_form(client, new, mapping, anteprima="1")
    data["sample"] = (io.BytesIO(sample), "banca.csv")
    response = client.post(new, data=data, content_type="multipart/form-data", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.startswith('<div id="layout-preview"'), html[:300]
    assert "2 pagamenti letti" in html and "P-1" in html and "1.234,56" in html and "18/11/2026" in html
    # the same sample with the wrong date format: refused, with the line
    data = _layout_form(client, new, mapping, anteprima="1", date_formats="AAAA-MM-GG")
    data["sample"] = (io.BytesIO(sample), "banca.csv")
    html = client.post(
        new, data=data, content_type="multipart/form-data", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "sarebbe rifiutato" in html and "Riga 2" in html
    with app.app_context():
        stmt = sa.select(PaymentLayout).where(PaymentLayout.name == "banca-y")
        assert db.session.scalars(stmt).first() is None


def test_closing_an_anomaly_never_redirects_to_another_site(app, personas) -> None:
    _import(app, csv_file("REDIR-1;2026-11-18;;10,00;;;x;bonifico"), fmt="csv", ente_code="R01")
    with app.app_context():
        anomaly_id = db.session.scalars(
            sa.select(Anomaly.id).join(Payment).where(Payment.external_id == "REDIR-1")
        ).one()
    client = personas.client("backoffice")
    response = client.post(
        f"/pagamenti/anomalie/{anomaly_id}/chiudi",
        data={
            "csrf_token": csrf_token(client, "/pagamenti/anomalie"),
            "note": "ok",
            "next": "https://evil.example/x",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/pagamenti/anomalie"


def test_a_numeric_reference_typed_by_hand_is_a_reference_not_an_internal_id(app, personas) -> None:
    with app.app_context():
        (p,) = open_positions(db.session)
    _import(
        app,
        csv_file(f"NUM-1;2026-11-18;;{euro(p.due)};;{p.codice_fiscale};x;bonifico"),
        fmt="csv",
        ente_code="R01",
    )
    review = _review_id(app, "NUM-1")
    client = personas.client("backoffice")
    detail = f"/pagamenti/revisione/{review}"
    response = client.post(
        f"{detail}/conferma",
        data={"csrf_token": csrf_token(client, detail), "altra": str(p.id)},
        follow_redirects=True,
    )
    assert f"Nessuna posizione dell'ente con riferimento «{p.id}»" in html.unescape(
        response.get_data(as_text=True)
    )
    response = client.post(
        f"{detail}/conferma", data={"csrf_token": csrf_token(client, detail), "altra": p.notice}
    )
    assert response.status_code == 302
    with app.app_context():
        assert (
            db.session.scalars(sa.select(Payment.position_id).where(Payment.external_id == "NUM-1")).one()
            == p.id
        )
