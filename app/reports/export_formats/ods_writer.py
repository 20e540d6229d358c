"""ODS (OpenDocument spreadsheet) written as text into the zip, row by row, with no document tree.

A DOM library (odfpy) holds every cell as an object: 1.7 GB for 100k rows. Here ``content.xml`` is written
through ``ZipFile.open(name, "w")`` in batches of rows, so memory stays flat. The package layout follows
ODF 1.3 part 2: ``mimetype`` first and stored (uncompressed, no extra field), then the manifest and the
other parts. As for XLSX, the zip is built in a spooled temporary file (``zipfile`` rewrites each local
header once the entry is complete, which needs a seekable file) and yielded in chunks at the end.

Cells carry typed values plus their Italian text: amounts ``office:value-type="currency"
office:currency="EUR" office:value="1234.56"`` with a ``1.234,56 €`` style, dates ``office:date-value``
with a ``dd/mm/yyyy`` style. The header row is bold, frozen, repeated on printed pages and filterable; the
"Totale" row holds ``SUM`` formulas with the exact sums as their cached values.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr  # nosec B406 (they write XML, they parse nothing)

from app.reports.export_formats.spec import (
    DISPLAY_FORMATTERS,
    TOTAL_LABEL,
    Column,
    ExportSpec,
    Totals,
    iter_values,
    sheet_name,
    xml_safe_text,
)
from app.reports.formatting import cents_to_machine, to_local_naive

MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
_CHUNK = 64 * 1024
_SPOOL_MAX = 16 * 1024 * 1024
_BATCH_ROWS = 500
_CM_PER_CHAR = 0.2  # column widths are given in characters, ODF wants a length

_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0" '
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
        for name in ("content.xml", "styles.xml", "meta.xml", "settings.xml")
    )
    + "</manifest:manifest>"
)

_STYLES = (
    _XML_DECL
    + f"<office:document-styles {_NS}>"
    + "<office:font-face-decls/><office:styles>"
    + '<style:default-style style:family="table-cell">'
    + '<style:text-properties fo:language="it" fo:country="IT"/>'
    + "</style:default-style>"
    + '<style:style style:name="Default" style:family="table-cell"/>'
    + "</office:styles>"
    + '<office:automatic-styles><style:page-layout style:name="pm1">'
    + '<style:page-layout-properties fo:page-width="29.7cm" fo:page-height="21cm"'
    + ' style:print-orientation="landscape"'
    + ' fo:margin-top="1cm" fo:margin-bottom="1cm" fo:margin-left="1cm" fo:margin-right="1cm"/>'
    + "</style:page-layout></office:automatic-styles>"
    + '<office:master-styles><style:master-page style:name="Default" style:page-layout-name="pm1">'
    + "<style:footer><text:p>Pagina <text:page-number>1</text:page-number> di "
    + "<text:page-count>1</text:page-count></text:p></style:footer>"
    + "</style:master-page></office:master-styles>"
    + "</office:document-styles>"
)

_ITALIAN = 'number:language="it" number:country="IT"'
# Data styles (how values are displayed) and the cell styles that use them.
_DATA_STYLES = (
    f'<number:number-style style:name="N_INT" {_ITALIAN}>'
    '<number:number number:decimal-places="0" number:min-decimal-places="0" number:min-integer-digits="1"'
    ' number:grouping="true"/></number:number-style>'
    f'<number:number-style style:name="N_YEAR" {_ITALIAN}>'
    '<number:number number:decimal-places="0" number:min-decimal-places="0" number:min-integer-digits="1"'
    ' number:grouping="false"/></number:number-style>'
    f'<number:currency-style style:name="N_EUR_POS" style:volatile="true" {_ITALIAN}>'
    '<number:number number:decimal-places="2" number:min-decimal-places="2" number:min-integer-digits="1"'
    ' number:grouping="true"/><number:text> </number:text>'
    f"<number:currency-symbol {_ITALIAN}>€</number:currency-symbol></number:currency-style>"
    f'<number:currency-style style:name="N_EUR" {_ITALIAN}><number:text>-</number:text>'
    '<number:number number:decimal-places="2" number:min-decimal-places="2" number:min-integer-digits="1"'
    ' number:grouping="true"/><number:text> </number:text>'
    f"<number:currency-symbol {_ITALIAN}>€</number:currency-symbol>"
    '<style:map style:condition="value()&gt;=0" style:apply-style-name="N_EUR_POS"/></number:currency-style>'
    f'<number:percentage-style style:name="N_PCT" {_ITALIAN}>'
    '<number:number number:decimal-places="2" number:min-decimal-places="2" number:min-integer-digits="1"/>'
    "<number:text>%</number:text></number:percentage-style>"
    f'<number:date-style style:name="N_DATE" {_ITALIAN}>'
    '<number:day number:style="long"/><number:text>/</number:text><number:month number:style="long"/>'
    '<number:text>/</number:text><number:year number:style="long"/></number:date-style>'
    f'<number:date-style style:name="N_DATETIME" {_ITALIAN}>'
    '<number:day number:style="long"/><number:text>/</number:text><number:month number:style="long"/>'
    '<number:text>/</number:text><number:year number:style="long"/><number:text> </number:text>'
    '<number:hours number:style="long"/><number:text>:</number:text><number:minutes number:style="long"/>'
    "</number:date-style>"
)
_DATA_STYLE_OF_KIND = {
    "int": "N_INT",
    "year": "N_YEAR",
    "money": "N_EUR",
    "percent": "N_PCT",
    "date": "N_DATE",
    "datetime": "N_DATETIME",
}
_BOLD = '<style:text-properties fo:font-weight="bold"/>'
_TOP_RULE = '<style:table-cell-properties fo:border-top="0.5pt solid #000000"/>'


def _cell_styles() -> str:
    styles = [
        '<style:style style:name="ce_header" style:family="table-cell" style:parent-style-name="Default">'
        '<style:table-cell-properties fo:background-color="#d9e2f3" fo:border-bottom="0.5pt solid #000000"'
        ' fo:wrap-option="wrap" style:vertical-align="top"/>' + _BOLD + "</style:style>",
        '<style:style style:name="ce_total_text" style:family="table-cell" style:parent-style-name="Default">'
        + _TOP_RULE
        + _BOLD
        + "</style:style>",
    ]
    for kind, data_style in _DATA_STYLE_OF_KIND.items():
        styles.append(
            f'<style:style style:name="ce_{kind}" style:family="table-cell" style:parent-style-name="Default"'
            f' style:data-style-name="{data_style}"/>'
        )
        styles.append(
            f'<style:style style:name="ce_total_{kind}" style:family="table-cell"'
            f' style:parent-style-name="Default" style:data-style-name="{data_style}">{_TOP_RULE}{_BOLD}'
            "</style:style>"
        )
    return "".join(styles)


def write_ods(
    rows: Iterable[Any], spec: ExportSpec, *, generated_at: datetime | None = None
) -> Iterator[bytes]:
    """Stream ``rows`` as an ODS spreadsheet with one sheet; yields the file in 64 KiB chunks at the end."""
    generated_at = generated_at or datetime.now(UTC)
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX) as spool:
        _build(spool, rows, spec, generated_at)
        spool.seek(0)
        while chunk := spool.read(_CHUNK):
            yield chunk


def _build(target: Any, rows: Iterable[Any], spec: ExportSpec, generated_at: datetime) -> None:
    stamp = to_local_naive(generated_at).timetuple()[:6]
    name = sheet_name(spec.title)

    def entry(filename: str, compress: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(filename, date_time=stamp)
        info.compress_type = compress
        return info

    with zipfile.ZipFile(target, "w") as package:
        package.writestr(entry("mimetype", zipfile.ZIP_STORED), MIMETYPE)
        package.writestr(entry("META-INF/manifest.xml"), _MANIFEST)
        package.writestr(entry("styles.xml"), _STYLES)
        package.writestr(entry("meta.xml"), _meta(spec, generated_at))
        package.writestr(entry("settings.xml"), _settings(name))
        with package.open(entry("content.xml"), "w", force_zip64=True) as content:
            for piece in _content(rows, spec, name):
                content.write(piece.encode("utf-8"))


def _content(rows: Iterable[Any], spec: ExportSpec, name: str) -> Iterator[str]:
    """content.xml as text pieces, one batch of rows at a time."""
    column_styles = "".join(
        f'<style:style style:name="co{i}" style:family="table-column"><style:table-column-properties'
        f' fo:break-before="auto" style:column-width="{column.display_width * _CM_PER_CHAR:.2f}cm"/>'
        "</style:style>"
        for i, column in enumerate(spec.columns)
    )
    yield (
        _XML_DECL
        + f"<office:document-content {_NS}><office:automatic-styles>"
        + column_styles
        + _DATA_STYLES
        + _cell_styles()
        + "</office:automatic-styles><office:body><office:spreadsheet>"
        + f"<table:table table:name={quoteattr(name)}>"
        + "".join(
            f'<table:table-column table:style-name="co{i}" table:default-cell-style-name="Default"/>'
            for i in range(len(spec.columns))
        )
        + "<table:table-header-rows><table:table-row>"
        + "".join(
            '<table:table-cell table:style-name="ce_header" office:value-type="string">'
            f"{paragraphs(c.header)}</table:table-cell>"
            for c in spec.columns
        )
        + "</table:table-row></table:table-header-rows>"
    )
    renderers = [_column_renderer(column) for column in spec.columns]
    totals = Totals(spec)
    batch: list[str] = []
    row_count = 0
    for values in iter_values(rows, spec):
        totals.add(values)
        row_count += 1
        batch.append("<table:table-row>")
        for render, value in zip(renderers, values, strict=True):
            batch.append("<table:table-cell/>" if value is None else render(value))
        batch.append("</table:table-row>")
        if row_count % _BATCH_ROWS == 0:
            yield "".join(batch)
            batch.clear()
    if totals.enabled:
        batch.append(_totals_row(spec, totals, row_count))
    last_cell = f"{_column_letter(len(spec.columns) - 1)}{row_count + 1}"
    sheet_ref = "'" + name.replace("'", "''") + "'"
    batch.append(
        "</table:table><table:database-ranges>"
        f'<table:database-range table:name="__Anonymous_Sheet_DB__0"'
        f" table:target-range-address={quoteattr(f'{sheet_ref}.A1:{sheet_ref}.{last_cell}')}"
        ' table:display-filter-buttons="true"/></table:database-ranges>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    yield "".join(batch)


def _totals_row(spec: ExportSpec, totals: Totals, row_count: int) -> str:
    cells = []
    for index, value in enumerate(totals.row()):
        kind = spec.columns[index].kind
        if index == totals.label_index:
            cells.append(
                '<table:table-cell table:style-name="ce_total_text" office:value-type="string">'
                f"<text:p>{TOTAL_LABEL}</text:p></table:table-cell>"
            )
        elif value is None:
            cells.append('<table:table-cell table:style-name="ce_total_text"/>')
        else:
            letter = _column_letter(index)
            formula = f' table:formula="of:=SUM([.{letter}2:.{letter}{row_count + 1}])"' if row_count else ""
            render = _cell_renderer(kind, f"ce_total_{kind}", formula)
            cells.append(render(value))
    return "<table:table-row>" + "".join(cells) + "</table:table-row>"


def _column_renderer(column: Column) -> Callable[[Any], str]:
    """The renderer of a column's cells: labels for coded text, years without grouping."""
    if column.labels is not None:
        return lambda code: _text_cell(column.display(code))
    if column.number_style == "year":
        return _cell_renderer("int", "ce_year", display=str)
    return _cell_renderer(column.kind, f"ce_{column.kind}")


def _cell_renderer(
    kind: str, style: str, extra: str = "", display: Callable[[Any], str] | None = None
) -> Callable[[Any], str]:
    """A function that renders one value of ``kind`` as a table cell with its typed value and Italian text."""
    if kind == "text":
        return _text_cell
    value_attributes = _VALUE_ATTRIBUTES[kind]
    display = display or DISPLAY_FORMATTERS[kind]
    opening = f'<table:table-cell table:style-name="{style}"{extra} office:value-type='

    def render(value: Any) -> str:
        return f"{opening}{value_attributes(value)}><text:p>{display(value)}</text:p></table:table-cell>"

    return render


def _text_cell(value: str) -> str:
    return f'<table:table-cell office:value-type="string">{paragraphs(value)}</table:table-cell>'


_VALUE_ATTRIBUTES: dict[str, Callable[[Any], str]] = {
    "int": lambda value: f'"float" office:value="{value}"',
    "money": lambda cents: f'"currency" office:currency="EUR" office:value="{cents_to_machine(cents)}"',
    "percent": lambda value: f'"percentage" office:value="{value:f}"',
    "date": lambda value: f'"date" office:date-value="{value.isoformat()}"',
    "datetime": lambda value: (
        f'"date" office:date-value="{to_local_naive(value).isoformat(timespec="seconds")}"'
    ),
}


_SPACE_RUN = re.compile(r" {2,}|^ | $|\t")


def paragraphs(text: str) -> str:
    """Text as ODF paragraphs: one ``text:p`` per line, with spaces and tabs kept (ODF collapses them)."""
    text = xml_safe_text(text).replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        f"<text:p>{_SPACE_RUN.sub(_space_element, escape(line))}</text:p>" for line in text.split("\n")
    )


def _space_element(match: re.Match[str]) -> str:
    run = match.group()
    if run == "\t":
        return "<text:tab/>"
    if match.start() == 0 or match.end() == len(match.string):
        return f'<text:s text:c="{len(run)}"/>'
    return f' <text:s text:c="{len(run) - 1}"/>'


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _meta(spec: ExportSpec, generated_at: datetime) -> str:
    created = generated_at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    return (
        _XML_DECL
        + f"<office:document-meta {_NS}><office:meta>"
        + "<meta:generator>Esattoria</meta:generator>"
        + f"<dc:title>{escape(xml_safe_text(spec.title))}</dc:title>"
        + f"<meta:creation-date>{created}</meta:creation-date>"
        + "</office:meta></office:document-meta>"
    )


def _settings(name: str) -> str:
    """View settings that freeze the header row of the sheet."""

    def item(key: str, kind: str, value: str) -> str:
        return f'<config:config-item config:name="{key}" config:type="{kind}">{value}</config:config-item>'

    return (
        _XML_DECL
        + f"<office:document-settings {_NS}><office:settings>"
        + '<config:config-item-set config:name="ooo:view-settings">'
        + '<config:config-item-map-indexed config:name="Views"><config:config-item-map-entry>'
        + item("ViewId", "string", "view1")
        + '<config:config-item-map-named config:name="Tables">'
        + f"<config:config-item-map-entry config:name={quoteattr(name)}>"
        + item("VerticalSplitMode", "short", "2")
        + item("VerticalSplitPosition", "int", "1")
        + item("ActiveSplitRange", "short", "2")
        + item("PositionTop", "int", "0")
        + item("PositionBottom", "int", "1")
        + "</config:config-item-map-entry></config:config-item-map-named>"
        + item("ActiveTable", "string", escape(name))
        + "</config:config-item-map-entry></config:config-item-map-indexed>"
        + "</config:config-item-set></office:settings></office:document-settings>"
    )
