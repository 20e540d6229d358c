"""formats.md §6, line by line: `esattoria archivio import` and `esattoria archivio search`.

Each test quotes the sentence of formats.md it checks. The database is shared by the whole test session, so
every document here carries a tag of its own (its content, and the words searched for, are unique to it).
"""

from __future__ import annotations

import hashlib
import random
import string
from typing import Any

import pytest
import sqlalchemy as sa

from tests.archive.support import debtor_of, grouped, typst_pdf

# "prints one JSON list with an object per file: {"file": "name", "document": id, "protocol": "...",
#  "sha256": "...", "pages": n, "text_source": ..., "ocr_confidence": ..., "proposed_links": [...],
#  "status": ..., "error": "Italian reason, only when refused"}"
KEYS = ["file", "document", "protocol", "sha256", "pages", "text_source", "ocr_confidence", "proposed_links"]
KEYS += ["status"]
TEXT_SOURCES = {"text_layer", "ocr", "none"}
STATUSES = {"indexed", "duplicate", "refused"}
SEARCH_KEYS = {"total", "hits"}
HIT_KEYS = {"document", "protocol", "score", "highlight", "taxpayers"}


def _tag() -> str:
    """Letters only (a word the stemmer keeps whole), unique to the test, and read back by OCR as written: no
    letter Tesseract confuses with another or with a digit (i/l/1, o/0, s/5, z/2, b/8, g/q, rn/m, vv/w)."""
    return "".join(random.choice("acdefhkptuxy") for _ in range(8))  # noqa: S311 (not a secret)


def _check_object(item: dict[str, Any]) -> None:
    """The shape every object of `archivio import` has, whatever its status."""
    refused = item["status"] == "refused"
    assert list(item) == KEYS + (["error"] if refused else []), item
    assert item["status"] in STATUSES
    assert isinstance(item["file"], str) and len(item["sha256"]) == 64
    if refused:
        assert isinstance(item["error"], str) and item["error"]
        assert item["document"] is None and item["protocol"] is None and item["proposed_links"] == []
        return
    assert isinstance(item["document"], int) and isinstance(item["pages"], int)
    assert item["pages"] >= 1 or item["text_source"] == "none"  # an encrypted PDF is not opened: 0
    ente, year, number = item["protocol"].split("-")
    assert ente.isalnum() and len(year) == 4 and len(number) == 7 and number.isdigit()
    assert item["text_source"] in TEXT_SOURCES
    confidence = item["ocr_confidence"]
    assert confidence is None or (isinstance(confidence, int | float) and 0 <= confidence <= 100)
    for link in item["proposed_links"]:
        assert link in ({"kind": "taxpayer", "codice_fiscale": link.get("codice_fiscale")},) or link == {
            "kind": "position",
            "notice_number": link.get("notice_number"),
        }


def _taxpayer(session, ente_code: str, codice_fiscale: str, **names: str) -> int:  # type: ignore[no-untyped-def]
    """A taxpayer of that ente, committed (the command runs in its own application context)."""
    from app.core.audit import Actor
    from app.enti.models import Ente
    from app.taxpayers.services import TaxpayerData, register_taxpayer

    ente_id = session.scalars(sa.select(Ente.id).where(Ente.code == ente_code)).one()
    taxpayer = register_taxpayer(
        session,
        Actor.system("test"),
        TaxpayerData(codice_fiscale=codice_fiscale, **names),
        source="test",
        ente_id=ente_id,
    )
    session.commit()
    return taxpayer.id


def _omocodic_cf() -> tuple[str, str]:
    """A fresh codice fiscale and its omocodic form (the municipality's last digit as a letter, 1 -> M)."""
    from stdnum.it import codicefiscale

    surname = "".join(random.choice("BCDFGLMNPRSTVZ") for _ in range(6))  # noqa: S311
    body = f"{surname}80A01H501"
    omo = f"{surname}80A01H50M"
    return body + codicefiscale.calc_check_digit(body), omo + codicefiscale.calc_check_digit(omo)


def _partita_iva() -> str:
    from stdnum import luhn  # the partita IVA's check digit (stdnum.it.iva)

    body = "".join(random.choice(string.digits) for _ in range(7)) + "001"  # noqa: S311
    body = str(random.randint(1, 9)) + body[1:]  # noqa: S311
    return body + luhn.calc_check_digit(body)


# --- import -------------------------------------------------------------------------------------------------


def test_import_prints_one_object_per_file_in_order_with_every_key(app, session, cli, tmp_path) -> None:
    """ "stores each file, extracts its text and indexes it before returning ... one JSON list with an object
    per file"; text_source "text_layer"|"ocr"|"none", ocr_confidence 0-100 or null."""
    import pikepdf

    from tests.ocr.pages import text_image

    tag = _tag()
    born = typst_pdf(tmp_path / "nativo.pdf", f"Lettera nativa digitale {tag}.")
    scan = tmp_path / "scansione.png"
    text_image(["Lettera scansionata", f"riferimento {tag}"]).save(scan, dpi=(300, 300))
    locked = tmp_path / "cifrato.pdf"
    with pikepdf.Pdf.new() as pdf:
        pdf.add_blank_page()
        pdf.docinfo["/Title"] = tag
        pdf.save(locked, encryption=pikepdf.Encryption(owner="o", user="u", R=6))

    code, out = cli(
        "archivio", "import", str(born), str(scan), str(locked), "--ente", "R01", "--canale", "posta"
    )
    assert code == 0  # "Exit 0 when no file was refused"
    assert [o["file"] for o in out] == ["nativo.pdf", "scansione.png", "cifrato.pdf"]
    for item, path in zip(out, (born, scan, locked), strict=True):
        _check_object(item)
        assert item["status"] == "indexed"
        assert item["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    text_layer, ocr, none = out
    assert (text_layer["text_source"], text_layer["ocr_confidence"]) == ("text_layer", None)
    assert ocr["text_source"] == "ocr" and 0 <= ocr["ocr_confidence"] <= 100
    assert (none["text_source"], none["ocr_confidence"]) == ("none", None)
    # "indexes it before returning": searchable at once, no job to wait for
    code, found = cli("archivio", "search", tag, "--ente", "R01")
    assert code == 0 and found["total"] >= 2
    assert {text_layer["document"], ocr["document"]} <= {h["document"] for h in found["hits"]}


def test_the_same_content_again_is_a_duplicate_of_that_ente_only(app, session, cli, tmp_path) -> None:
    """ "The same content again for the same ente is not stored twice: "status": "duplicate" with the
    existing document's id.\""""
    pdf = typst_pdf(tmp_path / "originale.pdf", f"Ricorso {_tag()}.")
    copy = tmp_path / "copia.pdf"
    copy.write_bytes(pdf.read_bytes())
    code, (first,) = cli("archivio", "import", str(pdf), "--ente", "R01")
    assert code == 0 and first["status"] == "indexed"
    code, (again,) = cli("archivio", "import", str(copy), "--ente", "R01")
    assert code == 0
    _check_object(again)
    assert again["status"] == "duplicate" and "error" not in again
    assert (again["file"], again["document"], again["protocol"], again["sha256"]) == (
        "copia.pdf",
        first["document"],
        first["protocol"],
        first["sha256"],
    )
    # another ente holding the same content files a document of its own
    code, (other,) = cli("archivio", "import", str(copy), "--ente", "R02")
    assert code == 0 and other["status"] == "indexed" and other["document"] != first["document"]
    assert other["protocol"].startswith("R02-")


def test_a_refused_file_keeps_nothing_and_the_others_of_the_call_are_kept(
    app, session, cli, tmp_path, store
) -> None:
    """ "A file refused (content not what its name says, bomb, over the limits) keeps nothing; the other
    files of the call are kept. Exit 0 when no file was refused, 1 otherwise.\""""
    from app.archive.models import Document

    good = typst_pdf(tmp_path / "buona.pdf", f"Istanza {_tag()}.")
    fake = tmp_path / "finto.pdf"
    fake.write_bytes(b"PK\x03\x04" + bytes(200))  # a ZIP's signature under a .pdf name
    also_good = typst_pdf(tmp_path / "altra.pdf", f"Delega {_tag()}.")
    code, out = cli("archivio", "import", str(good), str(fake), str(also_good), "--ente", "R01")
    assert code == 1
    for item in out:
        _check_object(item)
    assert [o["status"] for o in out] == ["indexed", "refused", "indexed"]
    refused = out[1]
    assert refused["file"] == "finto.pdf" and "archivio ZIP" in refused["error"]
    assert refused["error"].startswith("Il contenuto del file")  # an Italian sentence
    assert session.scalar(sa.select(sa.func.count()).where(Document.sha256 == refused["sha256"])) == 0
    assert not list(store.rglob(refused["sha256"]))
    assert {
        session.get(Document, out[0]["document"]).file_name,
        session.get(Document, out[2]["document"]).file_name,
    } == {
        "buona.pdf",
        "altra.pdf",
    }


def test_proposed_links_codice_fiscale_partita_iva_omocodia_and_notice_numbers(
    app, session, cli, tmp_path
) -> None:
    """ "proposed_links lists every codice fiscale / partita IVA (checksum-valid, omocodia accepted) and every
    notice number (18 digits, valid check digits; also printed in groups of 4 separated by spaces, as on the
    avviso) found in the text that matches a taxpayer or position of that ente.\""""
    plain_cf, omocodic_cf = _omocodic_cf()
    omocodic_id = _taxpayer(session, "R01", omocodic_cf, surname="Omocodico", given_name="Mario")
    piva = _partita_iva()
    _taxpayer(session, "R01", piva, company_name=f"Ditta {_tag()} srl")
    debtor = debtor_of(session, "R01")
    other = debtor_of(session, "R02")
    assert omocodic_id
    text = (
        f"Il sottoscritto, codice fiscale {omocodic_cf} (omocodico), per conto della ditta con partita IVA "
        f"{piva}, in merito all'avviso {grouped(debtor.notice_number)} e al codice fiscale "
        f"{debtor.codice_fiscale}. Cita anche {other.codice_fiscale} e l'avviso {other.notice_number}, di un "
        f"altro ente, {plain_cf} che non è in archivio e RSSMRA80A01H501X (carattere di controllo errato). "
        f"Rif. {_tag()}."
    )
    code, (item,) = cli(
        "archivio", "import", str(typst_pdf(tmp_path / "collegamenti.pdf", text)), "--ente", "R01"
    )
    assert code == 0
    _check_object(item)
    assert sorted(item["proposed_links"], key=str) == sorted(
        [
            {"kind": "taxpayer", "codice_fiscale": omocodic_cf},
            {"kind": "taxpayer", "codice_fiscale": piva},  # a company: its codice fiscale is its partita IVA
            {"kind": "taxpayer", "codice_fiscale": debtor.codice_fiscale},
            {"kind": "position", "notice_number": debtor.notice_number},  # printed in groups of 4, found
        ],
        key=str,
    )

    # the notice number written as 18 digits in a row is found too
    code, (item,) = cli(
        "archivio",
        "import",
        str(typst_pdf(tmp_path / "avviso.pdf", f"Avviso numero {debtor.notice_number}. Rif. {_tag()}.")),
        "--ente",
        "R01",
    )
    assert item["proposed_links"] == [{"kind": "position", "notice_number": debtor.notice_number}]


def test_an_unknown_ente_or_document_type_is_an_error_not_a_refusal(app, session, cli, tmp_path) -> None:
    pdf = typst_pdf(tmp_path / "lettera.pdf", f"Lettera {_tag()}.")
    runner = app.test_cli_runner()
    unknown_ente = runner.invoke(args=["archivio", "import", str(pdf), "--ente", "ZZ9"])
    assert unknown_ente.exit_code == 2 and "ente sconosciuto: ZZ9" in unknown_ente.output
    unknown_type = runner.invoke(args=["archivio", "import", str(pdf), "--ente", "R01", "--tipo", "nessuno"])
    assert unknown_type.exit_code == 2 and "Tipo di documento sconosciuto: nessuno." in unknown_type.stderr
    bad_channel = runner.invoke(args=["archivio", "import", str(pdf), "--ente", "R01", "--canale", "fax"])
    assert bad_channel.exit_code == 2


# --- search -------------------------------------------------------------------------------------------------


@pytest.fixture
def corpus(app, session, cli, tmp_path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Three R01 letters and two R02 letters naming a word made for this test, in two inflections."""
    stem = _tag()
    debtor = debtor_of(session, "R01")
    out: dict[str, Any] = {"word": f"{stem}etta", "plural": f"{stem}ette", "debtor": debtor}
    r01 = [
        typst_pdf(tmp_path / "a.pdf", f"Chiedo la {stem}etta. Codice fiscale {debtor.codice_fiscale}."),
        typst_pdf(tmp_path / "b.pdf", f"Allego due {stem}ette firmate."),
        typst_pdf(tmp_path / "c.pdf", f"Una {stem}etta ancora, e ancora una {stem}etta."),
    ]
    r02 = [
        typst_pdf(tmp_path / "d.pdf", f"Per la Regione Seconda: {stem}ette.", ente="Regione Seconda"),
        typst_pdf(tmp_path / "e.pdf", f"Regione Seconda, {stem}etta.", ente="Regione Seconda"),
    ]
    code, out["r01"] = cli("archivio", "import", *map(str, r01), "--ente", "R01")
    assert code == 0
    code, out["r02"] = cli("archivio", "import", *map(str, r02), "--ente", "R02")
    assert code == 0
    return out


def test_search_prints_total_and_hits_with_every_key(app, cli, corpus) -> None:
    """ "prints {"total": n, "hits": [{"document": id, "protocol": "...", "score": x, "highlight": "...
    <em>word</em> ...", "taxpayers": ["codice fiscale", ...]}]}\""""
    code, found = cli("archivio", "search", corpus["word"], "--ente", "R01")
    assert code == 0
    assert set(found) == SEARCH_KEYS
    assert found["total"] == 3 == len(found["hits"])  # a plural or another inflection finds the word
    mine = {o["document"]: o for o in corpus["r01"]}
    for hit in found["hits"]:
        assert set(hit) == HIT_KEYS
        assert hit["document"] in mine and hit["protocol"] == mine[hit["document"]]["protocol"]
        assert isinstance(hit["score"], float)
        assert "<em>" in hit["highlight"] and "</em>" in hit["highlight"]
        assert isinstance(hit["taxpayers"], list)
    by_id = {h["document"]: h for h in found["hits"]}
    first = corpus["r01"][0]["document"]
    assert by_id[first]["taxpayers"] == [corpus["debtor"].codice_fiscale]
    assert f"<em>{corpus['plural']}</em>" in by_id[corpus["r01"][1]["document"]]["highlight"]
    scores = [h["score"] for h in found["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_another_entes_documents_never_appear_not_even_in_total(app, cli, corpus) -> None:
    """ "Another ente's documents never appear, not even in total.\""""
    _, r01 = cli("archivio", "search", corpus["plural"], "--ente", "R01")
    _, r02 = cli("archivio", "search", corpus["plural"], "--ente", "R02")
    assert r01["total"] == 3 and r02["total"] == 2
    assert {h["document"] for h in r02["hits"]} == {o["document"] for o in corpus["r02"]}
    assert not {h["document"] for h in r01["hits"]} & {h["document"] for h in r02["hits"]}


def test_search_limit_and_codice_fiscale_filter(app, cli, corpus) -> None:
    """`[--cf CODICE_FISCALE] [--limit N]`: the limit cuts the hits, never the total; --cf keeps the
    documents linked to that taxpayer."""
    _, limited = cli("archivio", "search", corpus["word"], "--ente", "R01", "--limit", "1")
    assert limited["total"] == 3 and len(limited["hits"]) == 1
    debtor = corpus["debtor"]
    _, by_cf = cli("archivio", "search", corpus["word"], "--ente", "R01", "--cf", debtor.codice_fiscale)
    assert by_cf["total"] == 1 and [h["document"] for h in by_cf["hits"]] == [corpus["r01"][0]["document"]]
    _, nobody = cli("archivio", "search", corpus["word"], "--ente", "R02", "--cf", debtor.codice_fiscale)
    assert nobody == {"total": 0, "hits": []}
    _, nothing = cli("archivio", "search", f"{_tag()}zzz", "--ente", "R01")
    assert nothing == {"total": 0, "hits": []}
