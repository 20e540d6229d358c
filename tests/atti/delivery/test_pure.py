"""Pure parts of delivery: notification-date rules, address checks, the print batch ZIP and its manifest,
the outcome file reader, PEC receipt reading."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import pikepdf
import pytest
from lxml import etree

from app.atti.delivery.addresses import PostalAddress, address_problems
from app.atti.delivery.outcomes_file import OutcomesRefused, read_outcomes
from app.atti.delivery.pec import read_receipt
from app.atti.delivery.printflow import KIND_MESSAGE, MANIFEST_NS, PrintItem, build_batch, precheck
from app.engine.deadlines import notification_date, payment_term_end

D = dt.date
GOOD = PostalAddress("Via Roma 1", "00184", "Roma", "rm")


def pdf(pages: int) -> bytes:
    doc = pikepdf.Pdf.new()
    for _ in range(pages):
        doc.add_blank_page()
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# --- rules ------------------------------------------------------------------------------------------------


def test_notification_date_by_outcome() -> None:
    assert notification_date("notificato", D(2026, 12, 10)) == D(2026, 12, 10)
    assert notification_date("rifiutato", D(2026, 12, 11)) == D(2026, 12, 11)
    assert notification_date("pec_consegnata", D(2026, 12, 4)) == D(2026, 12, 4)
    assert notification_date("send_perfezionata", D(2026, 12, 14)) == D(2026, 12, 14)
    # compiuta giacenza: 10 days after the CAD was sent, whatever day the envelope came back
    assert notification_date(
        "compiuta_giacenza", D(2027, 1, 20), cad_date=D(2026, 12, 12), giacenza_days=10
    ) == D(2026, 12, 22)
    for failed in ("irreperibile", "trasferito", "deceduto"):
        assert notification_date(failed, D(2026, 12, 10)) is None
    with pytest.raises(ValueError, match="CAD"):
        notification_date("compiuta_giacenza", D(2026, 12, 10))
    with pytest.raises(ValueError, match="sconosciuto"):
        notification_date("boh", D(2026, 12, 10))


def test_payment_term_skips_sundays_and_holidays() -> None:
    assert payment_term_end(D(2026, 12, 10), 60, frozenset()) == D(2027, 2, 8)
    assert payment_term_end(D(2026, 12, 9), 60, frozenset()) == D(2027, 2, 8)  # 7/2/2027 is a Sunday
    assert payment_term_end(D(2026, 12, 8), 60, frozenset({D(2027, 2, 6)})) == D(2027, 2, 8)


# --- addresses --------------------------------------------------------------------------------------------


def test_address_problems_name_the_field() -> None:
    assert address_problems(GOOD) == []
    assert address_problems(PostalAddress("Località Piani snc", "38100", "Trento", "TN")) == []
    assert address_problems(None) == ["indirizzo: nessun indirizzo di residenza o sede legale in anagrafica"]
    bad = address_problems(PostalAddress("Via Roma", "0018", "", "XX"))
    assert bad == [
        "via: manca il numero civico (Via Roma)",
        "CAP: 0018 non è di 5 cifre",
        "comune: mancante",
        "provincia: sigla XX sconosciuta",
    ]
    assert address_problems(PostalAddress("Rue X 1", None, "Paris", None, "FR"))[0].startswith("paese")


# --- print batch --------------------------------------------------------------------------------------------


def test_precheck_then_batch_zip_with_manifest() -> None:
    items = [
        PrintItem(11, "R01-2026-0000011", "RSSMRA80A01H501U", "Mario Rossi", GOOD, pdf(2)),
        PrintItem(
            12,
            "R01-2026-0000012",
            "VRDLGU70B02F205X",
            "Luigi Verdi",
            PostalAddress("Via X", "", "M", ""),
            pdf(1),
        ),
        PrintItem(
            13,
            "R01-2026-0000013",
            "01234567890",
            "Alfa S.r.l.",
            PostalAddress("Corso Italia 5/B", "20122", "Milano", "MI"),
            pdf(3),
        ),
    ]
    good, bad = precheck(items)
    assert [i.act_id for i in good] == [11, 13]
    assert bad[0].act_id == 12 and "via: manca il numero civico (Via X)" in bad[0].problems
    built = build_batch("LOTTO-1", good, dt.datetime(2026, 12, 3, 9, 0))
    assert built.pages == 5
    with zipfile.ZipFile(io.BytesIO(built.zip_bytes)) as archive:
        assert sorted(archive.namelist()) == ["LOTTO-1.csv", "LOTTO-1.pdf", "LOTTO-1.xml"]
        with pikepdf.Pdf.open(io.BytesIO(archive.read("LOTTO-1.pdf"))) as merged:
            assert len(merged.pages) == 5
        rows = list(
            csv.DictReader(io.StringIO(archive.read("LOTTO-1.csv").decode("utf-8-sig")), delimiter=";")
        )
        xml = etree.fromstring(archive.read("LOTTO-1.xml"))
    assert [(r["id_atto"], r["pagine"], r["pagina_iniziale"], r["codice_raccomandata"]) for r in rows] == [
        ("11", "2", "1", "LOTTO-1-000001"),
        ("13", "3", "3", "LOTTO-1-000002"),
    ]
    assert (
        rows[0]["comune"] == "ROMA" and rows[0]["provincia"] == "RM" and rows[1]["via"] == "Corso Italia 5/B"
    )
    ns = {"s": MANIFEST_NS}
    assert xml.get("atti") == "2" and xml.get("pagine") == "5"
    assert xml.xpath("s:atto/s:protocollo/text()", namespaces=ns) == ["R01-2026-0000011", "R01-2026-0000013"]
    assert xml.xpath("s:atto[2]/s:indirizzo/s:cap/text()", namespaces=ns) == ["20122"]
    with pytest.raises(ValueError, match="atto 12"):
        build_batch("LOTTO-2", items, dt.datetime(2026, 12, 3))


# --- outcome files ------------------------------------------------------------------------------------------


def test_manifest_1_1_adds_postal_messages_and_keeps_an_act_row_as_in_1_0() -> None:
    items = [
        PrintItem(11, "R01-2026-0000011", "RSSMRA80A01H501U", "Mario Rossi", GOOD, pdf(2)),
        PrintItem(7, "R01-2026-0000020", "RSSMRA80A01H501U", "Mario Rossi", GOOD, pdf(1), KIND_MESSAGE),
    ]
    built = build_batch("LOTTO-3", items, dt.datetime(2026, 12, 3, 9, 0))
    with zipfile.ZipFile(io.BytesIO(built.zip_bytes)) as archive:
        lines = archive.read("LOTTO-3.csv").decode("utf-8-sig").split("\r\n")
        xml = etree.fromstring(archive.read("LOTTO-3.xml"))
    header = lines[0].split(";")
    assert header[:13] == [
        "sequenza",
        "codice_raccomandata",
        "id_atto",
        "protocollo",
        "codice_fiscale",
        "destinatario",
        "via",
        "cap",
        "comune",
        "provincia",
        "pagine",
        "pagina_iniziale",
        "sha256",
    ]
    assert header[13:] == ["tipo", "id_comunicazione"]
    act, letter = (line.split(";") for line in lines[1:3])
    assert act[:4] == ["1", "LOTTO-3-000001", "11", "R01-2026-0000011"] and act[13:] == ["atto", ""]
    assert letter[:4] == ["2", "LOTTO-3-000002", "", "R01-2026-0000020"] and letter[13:] == [
        "comunicazione",
        "7",
    ]
    assert letter[10:12] == ["1", "3"]
    ns = {"s": MANIFEST_NS}
    assert (xml.get("versione"), xml.get("atti"), xml.get("comunicazioni"), xml.get("pagine")) == (
        "1.1",
        "1",
        "1",
        "3",
    )
    assert xml.xpath("s:atto/s:id_atto/text()", namespaces=ns) == ["11"]
    assert xml.xpath("s:comunicazione/s:id_comunicazione/text()", namespaces=ns) == ["7"]
    assert xml.xpath("s:comunicazione/@sequenza", namespaces=ns) == ["2"]


def test_an_outcome_line_may_name_a_postal_message() -> None:
    (line,) = read_outcomes(b"id_comunicazione;esito;data_esito\n7;irreperibile;2026-12-10\n")
    assert (line.act_id, line.message_id, line.outcome) == (None, 7, "irreperibile")
    with pytest.raises(OutcomesRefused, match="riga 2, campo id_comunicazione: indicare l'atto o la"):
        read_outcomes(b"id_atto;id_comunicazione;esito;data_esito\n11;7;notificato;2026-12-10\n")


CSV_OK = (
    "id_atto;protocollo;esito;data_esito;data_cad;codice_raccomandata\r\n"
    "11;;notificato;2026-12-10;;LOTTO-1-000001\r\n"
    ";R01-2026-0000013;compiuta_giacenza;20/01/2027;12/12/2026;\r\n"
)


def test_csv_outcomes_are_read() -> None:
    first, second = read_outcomes(CSV_OK.encode())
    assert (first.line, first.act_id, first.outcome, first.event_date, first.barcode) == (
        2,
        11,
        "notificato",
        D(2026, 12, 10),
        "LOTTO-1-000001",
    )
    assert (second.line, second.act_id, second.protocol, second.cad_date) == (
        3,
        None,
        "R01-2026-0000013",
        D(2026, 12, 12),
    )


def test_xml_outcomes_are_read() -> None:
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<esiti xmlns="urn:esattoria:esiti:1">
  <esito><id_atto>11</id_atto><esito>irreperibile</esito><data_esito>2026-12-10</data_esito></esito>
  <esito>
    <protocollo>R01-2026-0000013</protocollo><esito>rifiutato</esito><data_esito>2026-12-11</data_esito>
  </esito>
</esiti>"""
    first, second = read_outcomes(data)
    assert (first.line, first.act_id, first.outcome) == (3, 11, "irreperibile")
    assert (second.line, second.protocol, second.outcome) == (4, "R01-2026-0000013", "rifiutato")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"id_atto;esito\r\n1;notificato\r\n", "riga 1, campo data_esito: colonna mancante"),
        (CSV_OK.replace("notificato", "smarrito").encode(), "riga 2, campo esito: 'smarrito' sconosciuto"),
        (CSV_OK.replace("2026-12-10", "31/02/2026").encode(), "riga 2, campo data_esito: data non valida"),
        (CSV_OK.replace("12/12/2026", "").encode(), "riga 3, campo data_cad: obbligatoria"),
        (CSV_OK.replace("11;;", "x;;").encode(), "riga 2, campo id_atto: non è un numero"),
        (b"id_atto;esito;data_esito\r\n", "riga 1, campo file: nessun esito"),
        (b"<esiti><esito><id_atto>1</id_atto><boh/></esito></esiti>", "campo boh: elemento sconosciuto"),
        (b"<!DOCTYPE x [<!ENTITY a SYSTEM 'file:///etc/passwd'>]><esiti>&a;</esiti>", "campo"),
        (b"<esiti><esito>", "XML non valido"),
    ],
)
def test_bad_outcome_files_are_refused_whole(data: bytes, expected: str) -> None:
    with pytest.raises(OutcomesRefused) as refused:
        read_outcomes(data)
    assert any(expected in str(e) for e in refused.value.errors), refused.value.errors


# --- PEC receipts -------------------------------------------------------------------------------------------


def test_pec_receipt_names_the_message_and_its_day() -> None:
    daticert = b"""<?xml version="1.0" encoding="UTF-8"?>
<postacert tipo="avvenuta-consegna" errore="nessuno">
<intestazione><mittente>a@pec.it</mittente></intestazione>
<dati><gestore-emittente>GESTORE</gestore-emittente><data zona="+0100"><giorno>04/12/2026</giorno>
<ora>10:11:12</ora></data><identificativo>opec1</identificativo><msgid>&lt;abc@esattoria&gt;</msgid></dati>
</postacert>"""
    info = read_receipt(
        "avvenuta-consegna", daticert, "CONSEGNA: Ingiunzione fiscale [Atto R01-2026-0000011]"
    )
    assert (info.msgid, info.day, info.protocol) == ("abc@esattoria", D(2026, 12, 4), "R01-2026-0000011")
    assert read_receipt("accettazione", b"<rotto", None).msgid is None
