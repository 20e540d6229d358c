"""Hostile inputs are refused and nothing of them is kept."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.payments.models import Payment, PaymentFlow
from app.payments.parsing import FlowRefused
from app.payments.services import import_flow
from tests.payments.support import ACTOR, SAMPLES, csv_file, fdr, open_positions, row

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<pay_i:FlussoRiversamento xmlns:pay_i="http://www.digitpa.gov.it/schemas/2011/Pagamenti/">
<pay_i:versioneOggetto>&xxe;</pay_i:versioneOggetto></pay_i:FlussoRiversamento>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<lolz>&lol9;</lolz>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">%remote;]><r/>"""


def nothing_kept(session) -> tuple[int, int]:
    return (
        session.scalar(sa.select(sa.func.count()).select_from(PaymentFlow)),
        session.scalar(sa.select(sa.func.count()).select_from(Payment)),
    )


@pytest.mark.parametrize(
    "data", [XXE, LAUGHS, PARAMETER_ENTITY], ids=["xxe", "billion-laughs", "param-entity"]
)
def test_xml_with_entities_is_refused(session, data) -> None:
    before = nothing_kept(session)
    with pytest.raises(FlowRefused, match="DOCTYPE"):
        import_flow(session, data, ACTOR)
    session.rollback()
    assert nothing_kept(session) == before


def test_doctype_hidden_after_a_long_prefix_is_refused_too(session) -> None:
    data = b"<?xml version='1.0'?>" + b" " * 70000 + LAUGHS.split(b"?>", 1)[1]
    with pytest.raises(FlowRefused):
        import_flow(session, data, ACTOR)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda x: x.replace(b"<pay_i:versioneOggetto>1.0<", b"<pay_i:versioneOggetto>9.9<"),
        lambda x: x.replace(
            b"<pay_i:codiceEsitoSingoloPagamento>0<", b"<pay_i:codiceEsitoSingoloPagamento>7<", 1
        ),
        lambda x: x.replace(b"<pay_i:singoloImportoPagato>156.00<", b"<pay_i:singoloImportoPagato>-156.00<"),
        lambda x: x.replace(b"<pay_i:singoloImportoPagato>156.00<", b"<pay_i:singoloImportoPagato>156.001<"),
        lambda x: x.replace(b"pay_i:identificativoFlusso>2026", b"pay_i:identificativoFlusso>2026 /../", 1),
        lambda x: x.replace(b"<pay_i:dataRegolamento>2026-11-19<", b"<pay_i:dataRegolamento>2026-02-30<"),
        lambda x: x.replace(b"</pay_i:FlussoRiversamento>", b"<extra/></pay_i:FlussoRiversamento>"),
        lambda x: x[: len(x) // 2],
    ],
    ids=[
        "version",
        "outcome-7",
        "negative",
        "three-decimals",
        "bad-identifier",
        "bad-date",
        "extra",
        "truncated",
    ],
)
def test_an_fdr_failing_the_xsd_is_refused(session, mutate) -> None:
    data = mutate((SAMPLES / "fdr_1_0_4.xml").read_bytes())
    assert data != (SAMPLES / "fdr_1_0_4.xml").read_bytes()
    before = nothing_kept(session)
    with pytest.raises(FlowRefused):
        import_flow(session, data, ACTOR)
    session.rollback()
    assert nothing_kept(session) == before


def test_outcome_3_is_refused_by_1_0_5_only_schema_but_accepted_as_1_0_4(session) -> None:
    from app.payments.parsing import fdr_schema, parse_fdr

    data = (SAMPLES / "fdr_1_0_4.xml").read_bytes()
    from lxml import etree

    assert not fdr_schema("1.0.5").validate(etree.fromstring(data).getroottree())
    assert parse_fdr(data).schema_version == "1.0.4"


@pytest.mark.parametrize("when", ["1999-12-31", "2099-01-01"])
def test_fdr_dates_out_of_range_are_refused(session, when) -> None:
    (p,) = open_positions(session)
    import datetime as dt

    day = dt.date.fromisoformat(when)
    with pytest.raises(FlowRefused, match="fuori intervallo"):
        import_flow(session, fdr([row(p.iuv, "IUR-DATE", 100, day=day)]), ACTOR)
    with pytest.raises(FlowRefused, match="fuori intervallo"):
        import_flow(session, fdr([row(p.iuv, "IUR-DATE", 100)], flow_dt=f"{when}T10:00:00"), ACTOR)


@pytest.mark.parametrize(
    "line,reason",
    [
        ("X-1;2026-11-18;;-12,00;;;neg;bonifico", "negativo"),
        ("X-1;2026-11-18;;0,00;;;zero;bonifico", "nullo"),
        ("X-1;2026-11-18;;12,345;;;three decimals;bonifico", "ambiguo"),
        ("X-1;1899-01-01;;12,00;;;old;bonifico", "fuori intervallo"),
        ("X-1;2099-01-01;;12,00;;;future;bonifico", "fuori intervallo"),
        ("X-1;31/02/2026;;12,00;;;no such day;bonifico", "data non valida"),
        ("X-1;2026-11-18;;1e3;;;exponent;bonifico", "non valido"),
        ("X-1;2026-11-18;;12,00;;;too few fields", "campi"),
    ],
)
def test_a_csv_with_an_invalid_row_is_refused_whole(session, line, reason) -> None:
    (p,) = open_positions(session)
    good = f"GOOD-1;2026-11-18;;10,00;{p.notice};;ok;bonifico"
    before = nothing_kept(session)
    with pytest.raises(FlowRefused, match=reason) as info:
        import_flow(session, csv_file(good, line), ACTOR, fmt="csv", ente_code="R01")
    assert info.value.errors[0]["line"] == 3
    session.rollback()
    assert nothing_kept(session) == before


def test_binary_or_undecodable_files_are_refused(session) -> None:
    with pytest.raises(FlowRefused, match="non è un testo"):
        import_flow(session, b"PK\x03\x04\x00\x00binary", ACTOR, fmt="csv", ente_code="R01")
    with pytest.raises(FlowRefused, match="Riga 2"):
        import_flow(
            session,
            csv_file("A;2026-11-18;;1,00;;;caus\x81;x").replace(b"\xc2\x81", b"\x81"),
            ACTOR,
            fmt="csv",
            ente_code="R01",
        )


def test_unknown_columns_are_refused(session) -> None:
    data = b"id_pagamento;data_pagamento;importo;iban\nA;2026-11-18;1,00;IT00\n"
    with pytest.raises(FlowRefused, match="colonne sconosciute: iban"):
        import_flow(session, data, ACTOR, fmt="csv", ente_code="R01")


# --- issue 10 point 5: the payments CSV is read with the carichi import's reader, limits and encoding rules


def _ten_mb_line() -> bytes:
    """A valid first row, then a 10 MB line (line 3): the csv module's field limit gave a 500."""
    return csv_file("A-1;2026-11-18;;1,00;;;ok;bonifico") + b"X" * (10 * 1024 * 1024) + b"\n"


def _mixed_encodings() -> bytes:
    """Line 2 in UTF-8 ("città"), line 3 in Windows-1252 ("città" as E0): was stored as mojibake."""
    return csv_file(
        "M-1;2026-11-18;;1,00;;;città;bonifico"
    ) + "M-2;2026-11-18;;2,00;;;città;bonifico\n".encode("cp1252")


HOSTILE_CSV = {
    "ten-mb-line": (_ten_mb_line, 3, "La riga 3 supera la lunghezza massima consentita (65.536 byte)"),
    "mixed-encodings": (
        _mixed_encodings,
        3,
        "Codifica mista: la riga 2 è in UTF-8, la riga 3 in Windows-1252",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE_CSV))
def test_hostile_csv_is_refused_by_the_service_naming_the_line(session, case) -> None:
    build, line, message = HOSTILE_CSV[case]
    before = nothing_kept(session)
    with pytest.raises(FlowRefused) as info:
        import_flow(session, build(), ACTOR, fmt="csv", ente_code="R01")
    assert info.value.message.startswith(message)
    assert info.value.errors[0]["line"] == line
    session.rollback()
    assert nothing_kept(session) == before


@pytest.mark.parametrize("case", list(HOSTILE_CSV))
def test_hostile_csv_is_refused_by_the_cli(app, tmp_path, case) -> None:
    import json

    from app.extensions import db

    build, line, message = HOSTILE_CSV[case]
    path = tmp_path / "pagamenti.csv"
    path.write_bytes(build())
    with app.app_context():
        before = nothing_kept(db.session)
    result = app.test_cli_runner().invoke(
        args=["pagamenti", "import", str(path), "--format", "csv", "--ente", "R01"]
    )
    assert result.exit_code == 1, result.output
    body = json.loads(result.stderr.strip().splitlines()[-1])
    assert body["error"].startswith(message) and body["details"]["errors"][0]["line"] == line
    assert str(tmp_path) not in result.output
    with app.app_context():
        assert nothing_kept(db.session) == before


@pytest.mark.parametrize("case", list(HOSTILE_CSV))
def test_hostile_csv_is_refused_by_the_api(app, client, case) -> None:
    import io

    from app.extensions import db
    from tests.payments.test_cli_api import _token

    build, line, message = HOSTILE_CSV[case]
    token = _token(app, "R01")
    with app.app_context():
        before = nothing_kept(db.session)
    response = client.post(
        "/api/v1/payment-flows",
        data={"file": (io.BytesIO(build()), "pagamenti.csv"), "format": "csv"},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["error"].startswith(message) and body["details"]["errors"][0]["line"] == line
    with app.app_context():
        assert nothing_kept(db.session) == before


@pytest.mark.parametrize("case", list(HOSTILE_CSV))
def test_hostile_csv_uploaded_on_the_page_fails_its_job_naming_the_line(app, personas, store, case) -> None:
    import io

    from app.extensions import db
    from app.jobs.models import BatchJob, BatchJobError
    from app.payments.tasks import run_flow_import
    from tests.conftest import csrf_token

    build, line, message = HOSTILE_CSV[case]
    client = personas.client("backoffice")
    with app.app_context():
        before = nothing_kept(db.session)
    response = client.post(
        "/pagamenti/carica",
        data={
            "csrf_token": csrf_token(client, "/pagamenti/carica"),
            "format": "csv",
            "layout": "canonico",
            "ente": "R01",
            "file": (io.BytesIO(build()), "pagamenti.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        job = db.session.scalars(sa.select(BatchJob).order_by(BatchJob.id.desc())).first()
        result = run_flow_import(job.id)
        assert result["status"] == "rifiutato" and result["message"].startswith(message)
        db.session.refresh(job)
        assert job.status == "failed" and job.error_message.startswith(message)
        lines = db.session.scalars(sa.select(BatchJobError.line).where(BatchJobError.batch_job_id == job.id))
        assert list(lines) == [line]
        assert nothing_kept(db.session) == before
    page = client.get(f"/elaborazioni/{job.id}").get_data(as_text=True)
    assert "Riga" in page or "riga" in page
    assert str(store) not in page


def test_a_quoted_field_longer_than_the_csv_limit_is_refused_naming_its_line(session) -> None:
    """Lines under the line limit, but one quoted field spanning them beyond the csv module's 128 KB."""
    field = "\n".join(["Y" * 60_000] * 3)
    data = csv_file("Q-1;2026-11-18;;1,00;;;ok;bonifico") + f'Q-2;2026-11-18;;1,00;;;"{field}";x\n'.encode()
    with pytest.raises(FlowRefused, match="riga CSV malformata") as info:
        import_flow(session, data, ACTOR, fmt="csv", ente_code="R01")
    assert info.value.errors[0]["line"] == 3


@pytest.mark.parametrize(
    ("bom", "name"),
    [
        (b"\xff\xfe\x00\x00", "UTF-32 (little endian)"),
        (b"\x00\x00\xfe\xff", "UTF-32 (big endian)"),
        (b"\xff\xfe", "UTF-16 (little endian)"),
        (b"\xfe\xff", "UTF-16 (big endian)"),
    ],
)
def test_utf16_and_utf32_files_are_refused_with_their_own_name(session, bom, name) -> None:
    codec = {"UTF-32 (l": "utf-32-le", "UTF-32 (b": "utf-32-be", "UTF-16 (l": "utf-16-le"}.get(
        name[:9], "utf-16-be"
    )
    data = bom + csv_file("U-1;2026-11-18;;1,00;;;ok;bonifico").decode().encode(codec)
    with pytest.raises(FlowRefused) as info:
        import_flow(session, data, ACTOR, fmt="csv", ente_code="R01")
    assert f"un testo {name}, non supportato" in info.value.message


def test_an_upload_over_the_limit_answers_413_with_its_own_italian_page(app, personas, monkeypatch) -> None:
    import io

    from tests.conftest import csrf_token

    client = personas.client("backoffice")
    token = csrf_token(client, "/pagamenti/carica")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    response = client.post(
        "/pagamenti/carica",
        data={
            "csrf_token": token,
            "format": "csv",
            "layout": "canonico",
            "ente": "R01",
            "file": (io.BytesIO(b"x" * (2 * 1024 * 1024)), "grande.csv"),
        },
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "Errore 413" in page and "Errore 400" not in page
    assert "File troppo grande" in page and "limite di caricamento di 1 MB" in page


def test_the_api_answers_413_in_json_naming_the_limit(app, client, monkeypatch) -> None:
    import io

    from tests.payments.test_cli_api import _token

    token = _token(app, "R01")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    response = client.post(
        "/api/v1/payment-flows",
        data={"file": (io.BytesIO(b"x" * (2 * 1024 * 1024)), "grande.csv")},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    body = response.get_json()
    assert "limite di caricamento di 1 MB" in body["error"] and body["details"]["max_bytes"] == 1024 * 1024
