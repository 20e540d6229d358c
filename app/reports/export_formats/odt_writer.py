"""ODT (OpenDocument text): the export as a report document — a title, the date it was made, the row count and
one table (header repeated on every page, amounts right-aligned in Italian, a "Totale" row) — written as text
into the zip like the ODS writer (no document tree, memory flat), landscape A4 with page numbers.

A text document is for reading and printing: past ``ODT_MAX_ROWS`` rows it is refused (ExportTooLarge, "usare
CSV, XLSX o ODS"), as the PDF is.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape  # nosec B406 (it writes XML, it parses nothing)

from app.reports.export_formats.ods_writer import paragraphs
from app.reports.export_formats.spec import ExportSpec, ExportTooLarge, Totals, iter_values, xml_safe_text
from app.reports.formatting import format_int, to_local_naive

MIMETYPE = "application/vnd.oasis.opendocument.text"
ODT_MAX_ROWS = 20_000  # ~500 pages; larger sets are data, not a document: CSV, XLSX or ODS
_CHUNK = 64 * 1024
_SPOOL_MAX = 16 * 1024 * 1024
_BATCH_ROWS = 500
_CM_PER_CHAR = 0.18
_PAGE_WIDTH_CM = 27.7  # A4 landscape less 1 cm margins

_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'office:version="1.3"'
)
_XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
_MANIFEST = (
    _XML_DECL
    + '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
    + ' manifest:version="1.3">'
    + f'<manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="{MIMETYPE}"/>'
    + "".join(
        f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/xml"/>'
        for name in ("content.xml", "styles.xml", "meta.xml")
    )
    + "</manifest:manifest>"
)
_STYLES = (
    _XML_DECL
    + f"<office:document-styles {_NS}><office:font-face-decls/><office:styles>"
    + '<style:default-style style:family="paragraph"><style:text-properties fo:language="it" fo:country="IT"'
    + ' fo:font-size="8pt"/></style:default-style>'
    + '<style:style style:name="Standard" style:family="paragraph"/>'
    + '<style:style style:name="Title" style:family="paragraph"><style:paragraph-properties'
    + ' fo:margin-bottom="0.2cm"/><style:text-properties fo:font-size="14pt" fo:font-weight="bold"/>'
    + "</style:style>"
    + "</office:styles><office:automatic-styles>"
    + '<style:page-layout style:name="pm1"><style:page-layout-properties fo:page-width="29.7cm"'
    + ' fo:page-height="21cm" style:print-orientation="landscape" fo:margin-top="1cm" fo:margin-bottom="1cm"'
    + ' fo:margin-left="1cm" fo:margin-right="1cm"/></style:page-layout>'
    + '<style:style style:name="Pfoot" style:family="paragraph"><style:paragraph-properties'
    + ' fo:text-align="end"/></style:style></office:automatic-styles>'
    + '<office:master-styles><style:master-page style:name="Standard" style:page-layout-name="pm1">'
    + '<style:footer><text:p text:style-name="Pfoot">Pagina <text:page-number>1</text:page-number> di '
    + "<text:page-count>1</text:page-count></text:p></style:footer></style:master-page>"
    + "</office:master-styles>"
    + "</office:document-styles>"
)
_AUTOMATIC = (
    '<style:style style:name="Pnum" style:family="paragraph" style:parent-style-name="Standard">'
    '<style:paragraph-properties fo:text-align="end"/></style:style>'
    '<style:style style:name="Phead" style:family="paragraph" style:parent-style-name="Standard">'
    '<style:text-properties fo:font-weight="bold"/></style:style>'
    '<style:style style:name="Pheadnum" style:family="paragraph" style:parent-style-name="Standard">'
    '<style:paragraph-properties fo:text-align="end"/><style:text-properties fo:font-weight="bold"/>'
    "</style:style>"
    '<style:style style:name="Chead" style:family="table-cell"><style:table-cell-properties'
    ' fo:background-color="#d9e2f3" fo:border-bottom="0.5pt solid #000000" fo:padding="0.05cm"/>'
    "</style:style>"
    '<style:style style:name="Cbody" style:family="table-cell"><style:table-cell-properties'
    ' fo:border-bottom="0.25pt solid #bfbfbf" fo:padding="0.05cm"/></style:style>'
    '<style:style style:name="Ctotal" style:family="table-cell"><style:table-cell-properties'
    ' fo:border-top="0.5pt solid #000000" fo:padding="0.05cm"/></style:style>'
)


def write_odt(
    rows: Iterable[Any],
    spec: ExportSpec,
    *,
    generated_at: datetime | None = None,
    max_rows: int = ODT_MAX_ROWS,
) -> Iterator[bytes]:
    """Stream ``rows`` as an ODT report; yields the file in 64 KiB chunks at the end.

    :raise ExportTooLarge: more than ``max_rows`` rows (on iteration, before any byte is yielded).
    """
    generated_at = generated_at or datetime.now(UTC)
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX) as spool:
        _build(spool, rows, spec, generated_at, max_rows)
        spool.seek(0)
        while chunk := spool.read(_CHUNK):
            yield chunk


def _build(target: Any, rows: Iterable[Any], spec: ExportSpec, generated_at: datetime, max_rows: int) -> None:
    stamp = to_local_naive(generated_at).timetuple()[:6]

    def entry(filename: str, compress: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(filename, date_time=stamp)
        info.compress_type = compress
        return info

    with zipfile.ZipFile(target, "w") as package:
        package.writestr(entry("mimetype", zipfile.ZIP_STORED), MIMETYPE)
        package.writestr(entry("META-INF/manifest.xml"), _MANIFEST)
        package.writestr(entry("styles.xml"), _STYLES)
        package.writestr(entry("meta.xml"), _meta(spec, generated_at))
        with package.open(entry("content.xml"), "w", force_zip64=True) as content:
            for piece in _content(rows, spec, generated_at, max_rows):
                content.write(piece.encode("utf-8"))


def _widths(spec: ExportSpec) -> list[float]:
    """Column widths in cm: the columns' character widths, scaled down to the page when wider."""
    wanted = [column.display_width * _CM_PER_CHAR for column in spec.columns]
    scale = min(1.0, _PAGE_WIDTH_CM / sum(wanted))
    return [width * scale for width in wanted]


def _content(rows: Iterable[Any], spec: ExportSpec, generated_at: datetime, max_rows: int) -> Iterator[str]:
    widths = _widths(spec)
    column_styles = "".join(
        f'<style:style style:name="co{i}" style:family="table-column"><style:table-column-properties'
        f' style:column-width="{width:.2f}cm"/></style:style>'
        for i, width in enumerate(widths)
    )
    table_style = (
        '<style:style style:name="T1" style:family="table"><style:table-properties'
        f' style:width="{sum(widths):.2f}cm" table:align="left"/></style:style>'
    )
    when = to_local_naive(generated_at)
    header_cells = "".join(
        f'<table:table-cell table:style-name="Chead" office:value-type="string">'
        f'<text:p text:style-name="{"Pheadnum" if column.is_numeric else "Phead"}">'
        f"{escape(xml_safe_text(column.header))}</text:p></table:table-cell>"
        for column in spec.columns
    )
    yield (
        _XML_DECL
        + f"<office:document-content {_NS}><office:automatic-styles>{table_style}{column_styles}{_AUTOMATIC}"
        + "</office:automatic-styles><office:body><office:text>"
        + f'<text:p text:style-name="Title">{escape(xml_safe_text(spec.title))}</text:p>'
        + f"<text:p>Prodotto il {when:%d/%m/%Y} alle {when:%H:%M}</text:p><text:p/>"
        + '<table:table table:name="Dati" table:style-name="T1">'
        + "".join(f'<table:table-column table:style-name="co{i}"/>' for i in range(len(widths)))
        + f"<table:table-header-rows><table:table-row>{header_cells}</table:table-row>"
        + "</table:table-header-rows>"
    )
    columns = spec.columns
    totals = Totals(spec)
    batch: list[str] = []
    count = 0
    for values in iter_values(rows, spec):
        count += 1
        if count > max_rows:
            raise ExportTooLarge("ODT", max_rows, hint="usare CSV, XLSX o ODS")
        totals.add(values)
        batch.append("<table:table-row>")
        for column, value in zip(columns, values, strict=True):
            batch.append(_cell("Cbody", "" if value is None else column.display(value), column.is_numeric))
        batch.append("</table:table-row>")
        if count % _BATCH_ROWS == 0:
            yield "".join(batch)
            batch.clear()
    if totals.enabled:
        batch.append("<table:table-row>")
        for index, value in enumerate(totals.row()):
            column = columns[index]
            text = "" if value is None else (value if index == totals.label_index else column.display(value))
            batch.append(
                _cell("Ctotal", str(text), column.is_numeric and index != totals.label_index, bold=True)
            )
        batch.append("</table:table-row>")
    batch.append("</table:table>")
    batch.append(f"<text:p/><text:p>{format_int(count)} {'riga' if count == 1 else 'righe'}.</text:p>")
    batch.append("</office:text></office:body></office:document-content>")
    yield "".join(batch)


def _cell(style: str, text: str, numeric: bool, bold: bool = False) -> str:
    paragraph_style = ("Pheadnum" if numeric else "Phead") if bold else ("Pnum" if numeric else "Standard")
    body = paragraphs(text).replace("<text:p>", f'<text:p text:style-name="{paragraph_style}">')
    return (
        f'<table:table-cell table:style-name="{style}" office:value-type="string">{body}</table:table-cell>'
    )


def _meta(spec: ExportSpec, generated_at: datetime) -> str:
    created = generated_at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    return (
        _XML_DECL
        + f"<office:document-meta {_NS}><office:meta><meta:generator>Esattoria</meta:generator>"
        + f"<dc:title>{escape(xml_safe_text(spec.title))}</dc:title>"
        + f"<meta:creation-date>{created}</meta:creation-date></office:meta></office:document-meta>"
    )
