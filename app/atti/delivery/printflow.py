"""The print flow for the postal provider: one ZIP per batch with the acts' PDFs merged into one file (in
manifest order) and a manifest in CSV and XML (docs/formats/stampa.md). Pure: takes small dataclasses and
bytes, returns bytes; the service stores the ZIP in the file store.

Each act gets a raccomandata barcode placeholder `<batch code>-<sequence, 6 digits>`: the provider prints
its own barcode and sends it back in the outcome flow with our placeholder (column `codice_raccomandata`).

An item is an act (`kind` "atto") or a postal message's letter (`kind` "comunicazione", app/crm/messages):
`item_id` is the act's id or the message's. Manifest 1.1 adds, after the columns of 1.0, `tipo` and
`id_comunicazione` (CSV) and the `<comunicazione>` element (XML); an act's row is the same as in 1.0.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

import pikepdf
from lxml import etree

from app.atti.delivery.addresses import PostalAddress, address_problems, normalized

MANIFEST_VERSION = "1.1"
MANIFEST_NS = "urn:esattoria:stampa:1"  # 1.1 only adds (columns, an element): the namespace stays
KIND_ACT = "atto"
KIND_MESSAGE = "comunicazione"
CSV_COLUMNS = (
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
    "tipo",
    "id_comunicazione",
)


@dataclass(frozen=True, slots=True)
class PrintItem:
    act_id: int  # the act's id, or the message's when kind is "comunicazione"
    protocol: str
    codice_fiscale: str
    recipient: str
    address: PostalAddress | None
    pdf: bytes
    kind: str = KIND_ACT


@dataclass(frozen=True, slots=True)
class Unfixable:
    act_id: int  # as PrintItem's
    protocol: str
    recipient: str
    problems: tuple[str, ...]
    kind: str = KIND_ACT


@dataclass(frozen=True, slots=True)
class ManifestRow:
    sequence: int
    barcode: str
    act_id: int  # as PrintItem's
    protocol: str
    codice_fiscale: str
    recipient: str
    address: PostalAddress
    pages: int
    first_page: int
    sha256: str
    kind: str = KIND_ACT

    @property
    def is_message(self) -> bool:
        return self.kind == KIND_MESSAGE


@dataclass(frozen=True, slots=True)
class PrintBatchFile:
    zip_bytes: bytes
    rows: tuple[ManifestRow, ...]
    pages: int


def precheck(items: Sequence[PrintItem]) -> tuple[list[PrintItem], list[Unfixable]]:
    """The items the provider can deliver, and those it cannot (every reason given), before sending."""
    good: list[PrintItem] = []
    bad: list[Unfixable] = []
    for item in items:
        problems = address_problems(item.address)
        if problems:
            bad.append(Unfixable(item.act_id, item.protocol, item.recipient, tuple(problems), item.kind))
        else:
            good.append(item)
    return good, bad


def barcode(batch_code: str, sequence: int) -> str:
    return f"{batch_code}-{sequence:06d}"


def _csv(rows: Sequence[ManifestRow]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.sequence,
                r.barcode,
                "" if r.is_message else r.act_id,
                r.protocol,
                r.codice_fiscale,
                r.recipient,
                r.address.street,
                r.address.cap or "",
                r.address.comune,
                r.address.provincia or "",
                r.pages,
                r.first_page,
                r.sha256,
                r.kind,
                r.act_id if r.is_message else "",
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def _xml(batch_code: str, created: dt.datetime, rows: Sequence[ManifestRow], pdf_name: str) -> bytes:
    root = etree.Element(f"{{{MANIFEST_NS}}}lotto", nsmap={None: MANIFEST_NS})
    root.set("versione", MANIFEST_VERSION)
    root.set("codice", batch_code)
    root.set("creato", created.isoformat(timespec="seconds"))
    root.set("atti", str(sum(not r.is_message for r in rows)))
    root.set("comunicazioni", str(sum(r.is_message for r in rows)))
    root.set("pagine", str(sum(r.pages for r in rows)))
    root.set("file_pdf", pdf_name)
    for r in rows:
        item = etree.SubElement(root, f"{{{MANIFEST_NS}}}{r.kind}")
        item.set("sequenza", str(r.sequence))
        for tag, value in (
            ("codice_raccomandata", r.barcode),
            ("id_comunicazione" if r.is_message else "id_atto", str(r.act_id)),
            ("protocollo", r.protocol),
            ("codice_fiscale", r.codice_fiscale),
            ("destinatario", r.recipient),
        ):
            etree.SubElement(item, f"{{{MANIFEST_NS}}}{tag}").text = value
        address = etree.SubElement(item, f"{{{MANIFEST_NS}}}indirizzo")
        for tag, value in (
            ("via", r.address.street),
            ("cap", r.address.cap or ""),
            ("comune", r.address.comune),
            ("provincia", r.address.provincia or ""),
        ):
            etree.SubElement(address, f"{{{MANIFEST_NS}}}{tag}").text = value
        pages = etree.SubElement(item, f"{{{MANIFEST_NS}}}pagine")
        pages.set("prima", str(r.first_page))
        pages.text = str(r.pages)
        etree.SubElement(item, f"{{{MANIFEST_NS}}}sha256").text = r.sha256
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def build_batch(batch_code: str, items: Sequence[PrintItem], created: dt.datetime) -> PrintBatchFile:
    """The ZIP of a batch of deliverable items (call `precheck` first): `<code>.pdf` (every act, in order),
    `<code>.csv` and `<code>.xml` (the manifest). Acts and postal messages alike. ValueError when an item's
    address is not deliverable or its PDF is unreadable (nothing is built)."""
    merged = pikepdf.Pdf.new()
    rows: list[ManifestRow] = []
    next_page = 1
    for sequence, item in enumerate(items, start=1):
        if address_problems(item.address):
            raise ValueError(f"{item.kind} {item.act_id}: indirizzo non recapitabile")
        assert item.address is not None  # noqa: S101 - checked just above
        try:
            with pikepdf.Pdf.open(io.BytesIO(item.pdf)) as source:
                pages = len(source.pages)
                merged.pages.extend(source.pages)
        except pikepdf.PdfError as exc:
            raise ValueError(f"{item.kind} {item.act_id}: PDF non leggibile ({exc})") from None
        rows.append(
            ManifestRow(
                sequence=sequence,
                barcode=barcode(batch_code, sequence),
                act_id=item.act_id,
                protocol=item.protocol,
                codice_fiscale=item.codice_fiscale,
                recipient=item.recipient,
                address=normalized(item.address),
                pages=pages,
                first_page=next_page,
                sha256=hashlib.sha256(item.pdf).hexdigest(),
                kind=item.kind,
            )
        )
        next_page += pages
    pdf_out = io.BytesIO()
    merged.save(pdf_out)
    merged.close()
    pdf_name = f"{batch_code}.pdf"
    buffer = io.BytesIO()
    stamp = created.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in (
            (pdf_name, pdf_out.getvalue()),
            (f"{batch_code}.csv", _csv(rows)),
            (f"{batch_code}.xml", _xml(batch_code, created, rows, pdf_name)),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data)  # type: ignore[arg-type]
    return PrintBatchFile(zip_bytes=buffer.getvalue(), rows=tuple(rows), pages=next_page - 1)
