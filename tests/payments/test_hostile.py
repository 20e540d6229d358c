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
