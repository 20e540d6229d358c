"""inspect(): type by content, limits, bombs and encryption. Each hostile file is made by the test, and each
refusal carries an Italian reason that names what and the limit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest
import typst
from PIL import Image

from ocr import FileInfo, Limits, Refused, extract, inspect
from tests.ocr import hostile

ROOT = Path(__file__).resolve().parents[2]


def refusal(path: Path, limits: Limits = Limits()) -> str:
    with pytest.raises(Refused) as refused:
        inspect(path, limits)
    return refused.value.reason_it


def test_it_tells_each_accepted_kind_by_its_content(tmp_path: Path) -> None:
    born = tmp_path / "lettera.bin"  # names say nothing: the bytes decide
    born.write_bytes(typst.compile(b"= Lettera\nCodice fiscale RSSMRA80A01H501U."))
    Image.new("L", (100, 80), 255).save(png := tmp_path / "a.dat", "PNG")
    Image.new("RGB", (100, 80), "white").save(jpeg := tmp_path / "b.dat", "JPEG")
    frames = [Image.new("L", (100, 80), 255) for _ in range(3)]
    frames[0].save(tiff := tmp_path / "c.dat", "TIFF", save_all=True, append_images=frames[1:])
    (text := tmp_path / "d.dat").write_text(
        "Gentile ufficio,\nchiedo la rateazione. Perché? Così.\n", "utf-8"
    )
    (mail := tmp_path / "e.dat").write_bytes(
        b"Return-Path: <mario@example.it>\r\nFrom: Mario Rossi <mario@example.it>\r\n"
        b"To: protocollo@regione.example.it\r\nSubject: Istanza\r\n  di rateazione\r\n\r\nBuongiorno.\r\n"
    )
    assert inspect(born) == FileInfo(kind="pdf", mime_type="application/pdf", pages=1)
    assert inspect(png) == FileInfo(kind="image", mime_type="image/png", pages=1)
    assert inspect(jpeg) == FileInfo(kind="image", mime_type="image/jpeg", pages=1)
    assert inspect(tiff) == FileInfo(kind="image", mime_type="image/tiff", pages=3)
    assert inspect(text) == FileInfo(kind="text", mime_type="text/plain", pages=1)
    assert inspect(mail) == FileInfo(kind="email", mime_type="message/rfc822", pages=1)


def test_it_refuses_a_zip_renamed_pdf(tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(fake := tmp_path / "fattura.pdf", "w") as archive:
        archive.writestr("fattura.pdf", b"%PDF-1.7 inside a zip")
    assert refusal(fake) == (
        "Il contenuto del file è un archivio ZIP (o un documento Office/ODF), anche se il nome termina in"
        " .pdf: sono ammessi PDF, immagini PNG, JPEG o TIFF, testo UTF-8 ed e-mail (.eml)"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b"\x00\x01\x02binary\xff\xfe", "non è di un tipo riconosciuto", id="binary"),
        pytest.param("caffè".encode("latin-1") * 10, "non è di un tipo riconosciuto", id="latin-1-text"),
        pytest.param(b"GIF89a\x01\x00\x01\x00", "è un'immagine GIF", id="gif"),
        pytest.param(b"", "Il file è vuoto", id="empty"),
        pytest.param(b"%PDF-1.7\nnot a pdf at all\n", "Il PDF è danneggiato o illeggibile", id="broken-pdf"),
        pytest.param(b"\x89PNG\r\n\x1a\nbroken", "L'immagine è danneggiata o illeggibile", id="broken-png"),
    ],
)
def test_it_refuses_what_it_does_not_accept(tmp_path: Path, content: bytes, reason: str) -> None:
    (path := tmp_path / "x.txt").write_bytes(content)
    assert reason in refusal(path)


def test_it_refuses_a_file_over_the_size_limit(tmp_path: Path) -> None:
    (path := tmp_path / "lungo.txt").write_text("a" * 3 * 1024 * 1024, "utf-8")
    assert refusal(path, Limits(max_bytes=2 * 1024 * 1024)) == "Il file pesa 3,0 MB: il limite è 2,0 MB"


def test_it_refuses_a_png_decompression_bomb_from_its_header(tmp_path: Path) -> None:
    bomb = hostile.png_bomb(tmp_path / "bomba.png")  # 30000 x 30000, 1 bit: ~150 KB on disk
    assert bomb.stat().st_size < 200_000
    assert refusal(bomb) == (
        "L'immagine ha 900.000.000 pixel: il limite è 89.478.485 (possibile decompression bomb)"
    )


def test_it_refuses_an_image_over_its_own_pixel_limit_below_pillows(tmp_path: Path) -> None:
    # 10000 x 10000 is between Pillow's warning (89 Mpx) and its error (179 Mpx): our limit decides, and a
    # lower limit of the caller is honoured
    big = hostile.png_bomb(tmp_path / "grande.png", 10_000, 10_000)
    assert refusal(big) == (
        "L'immagine ha 100.000.000 pixel (10000 x 10000): il limite è 89.478.485"
        " (possibile decompression bomb)"
    )
    Image.new("L", (3000, 2000), 255).save(small := tmp_path / "piccola.png")
    assert "ha 6.000.000 pixel (3000 x 2000): il limite è 5.000.000" in refusal(
        small, Limits(max_pixels=5_000_000)
    )


def test_it_checks_every_frame_of_a_tiff(tmp_path: Path) -> None:
    frames = [Image.new("1", (100, 100), 1), Image.new("1", (3000, 3000), 1)]
    frames[0].save(tiff := tmp_path / "multi.tif", "TIFF", save_all=True, append_images=frames[1:])
    reason = refusal(tiff, Limits(max_pixels=1_000_000))
    assert reason.startswith("L'immagine (pagina 2) ha 9.000.000 pixel (3000 x 3000): il limite è 1.000.000")
    frames = [Image.new("1", (10, 10), 1) for _ in range(4)]
    frames[0].save(tiff, "TIFF", save_all=True, append_images=frames[1:])
    assert refusal(tiff, Limits(max_pages=3)) == "Il TIFF ha 4 pagine: il limite è 3"


def _inspect_in_a_child(path: Path) -> dict:
    """inspect() in a fresh interpreter: its answer, its time and its own peak memory."""
    script = (
        "import json, resource, sys, time\n"
        "import ocr\n"
        "start = time.perf_counter()\n"
        "try:\n"
        "    answer = repr(ocr.inspect(sys.argv[1])) if sys.argv[1] else 'baseline'\n"
        "except ocr.Refused as refused:\n"
        "    answer = refused.reason_it\n"
        "seconds = time.perf_counter() - start\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'answer': answer, 'seconds': seconds, 'rss_mb': rss}))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(path) if path.name else ""],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    return json.loads(run.stdout)


def test_a_pdf_of_100000_pages_is_refused_quickly_in_bounded_memory(tmp_path: Path) -> None:
    huge = hostile.pages_pdf(tmp_path / "centomila.pdf", 100_000)
    baseline = _inspect_in_a_child(Path(""))
    child = _inspect_in_a_child(huge)
    assert child["answer"] == "Il PDF ha 100.000 pagine: il limite è 500"
    assert child["seconds"] < 10  # ~1.4 s on the loaded 2-core machine
    assert child["rss_mb"] - baseline["rss_mb"] < 100  # ~10 MB over the interpreter with the imports


def test_a_pdf_with_too_many_objects_is_refused_before_any_parser_reads_it(tmp_path: Path) -> None:
    crowded = hostile.many_objects_pdf(tmp_path / "oggetti.pdf", 300_000)
    baseline = _inspect_in_a_child(Path(""))
    child = _inspect_in_a_child(crowded)
    assert child["answer"] == "Il PDF ha più di 200.000 oggetti: il limite è 200.000"
    assert child["seconds"] < 10
    assert child["rss_mb"] - baseline["rss_mb"] < 100


def test_a_recursive_page_tree_is_refused(tmp_path: Path) -> None:
    assert refusal(hostile.recursive_pdf(tmp_path / "ricorsivo.pdf")) == (
        "Il PDF ha un albero delle pagine ricorsivo (una pagina contiene se stessa)"
    )


def test_a_page_tree_fanning_out_to_a_hundred_million_pages_is_refused(tmp_path: Path) -> None:
    laughs = hostile.fan_out_pdf(tmp_path / "ventaglio.pdf")  # 10 ** 8 leaves in ~1.3 KB, /Count 1
    assert laughs.stat().st_size < 2000
    assert refusal(laughs) == "Il PDF ha più di 500 pagine: il limite è 500"


def test_a_pdf_within_the_limits_passes(tmp_path: Path) -> None:
    assert inspect(hostile.pages_pdf(tmp_path / "tre.pdf", 3)).pages == 3
    assert refusal(tmp_path / "tre.pdf", Limits(max_pages=2)) == "Il PDF ha 3 pagine: il limite è 2"


@pytest.mark.parametrize("user_password", ["segreta", ""], ids=["user-password", "owner-password-only"])
def test_an_encrypted_pdf_is_flagged_not_refused(tmp_path: Path, user_password: str) -> None:
    document = pikepdf.Pdf.new()
    document.add_blank_page()
    document.save(
        locked := tmp_path / "cifrato.pdf",
        encryption=pikepdf.Encryption(owner="proprietario", user=user_password, R=6),
    )
    info = inspect(locked)
    assert (info.kind, info.encrypted) == ("pdf", True)
    assert info.pages == (1 if user_password == "" else 0)  # unreadable without the password: not counted
    assert extract(locked).pages == [] and extract(locked).source == "none"  # stored and flagged, never read


def test_a_content_stream_that_inflates_past_256_mb_is_refused(tmp_path: Path) -> None:
    bomb = hostile.flate_bomb_pdf(tmp_path / "flusso.pdf")  # 300 MB of spaces in ~300 KB
    assert bomb.stat().st_size < 1_000_000
    baseline = _inspect_in_a_child(Path(""))
    child = _inspect_in_a_child(bomb)
    assert child["answer"] == (
        "Il PDF contiene un flusso compresso che decompresso supera 256 MB: il limite è 256 MB"
        " (possibile decompression bomb)"
    )
    assert child["rss_mb"] - baseline["rss_mb"] < 100  # inflated a megabyte at a time, kept nowhere


def test_an_image_inside_a_pdf_over_the_pixel_limit_is_refused(tmp_path: Path) -> None:
    bomb = hostile.image_bomb_pdf(tmp_path / "immagine.pdf")
    assert refusal(bomb) == (
        "Il PDF contiene un'immagine di 10.000.000.000 pixel (100000 x 100000): il limite è 89.478.485"
        " (possibile decompression bomb)"
    )


def test_an_email_file_over_the_attachment_limit_is_refused(tmp_path: Path) -> None:
    from email.message import EmailMessage

    def mail(attachments: int, *, forwarded: bool = False) -> Path:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.it", "b@example.it", "Allegati"
        message.set_content("Buongiorno.")
        for n in range(attachments):
            message.add_attachment(b"x", maintype="application", subtype="octet-stream", filename=f"{n}.bin")
        if forwarded:  # an attached message is one attachment, whatever it carries
            inner = EmailMessage()
            inner["From"], inner["Subject"] = "c@example.it", "Inoltrato"
            inner.set_content("Testo.")
            for n in range(10):
                inner.add_attachment(
                    b"y", maintype="application", subtype="octet-stream", filename=f"i{n}.bin"
                )
            message.add_attachment(inner)
        path = tmp_path / f"m{attachments}{forwarded}.eml"
        path.write_bytes(bytes(message))
        return path

    assert inspect(mail(3)).kind == "email"
    assert inspect(mail(3), Limits(max_email_attachments=4)).kind == "email"
    assert inspect(mail(3, forwarded=True), Limits(max_email_attachments=4)).kind == "email"
    assert refusal(mail(5), Limits(max_email_attachments=4)) == "Il messaggio ha 5 allegati: il limite è 4"
    assert refusal(mail(51)) == "Il messaggio ha 51 allegati: il limite è 50"
