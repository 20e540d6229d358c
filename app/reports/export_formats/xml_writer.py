"""XML: the machine format for other systems, written with lxml's incremental writer (``etree.xmlfile``).

The shape is published as ``templates/exports/export.xsd``::

    <export version="1" title="Posizioni aperte" generated_at="2025-06-30T12:00:00+00:00">
      <columns>
        <column key="taxpayer_name" kind="text" header="Contribuente"/>
        <column key="amount" kind="money" header="Importo"/>
      </columns>
      <rows>
        <row><text name="taxpayer_name">Mario Rossi</text><money name="amount">1234.56</money></row>
      </rows>
      <totals><money name="amount">1234.56</money></totals>
    </export>

Each value is an element named after its column's kind, so the schema types it (``money`` is a decimal with
exactly two decimals, ``date`` an ``xs:date``...); ``name`` points at the column key. A ``None`` value
has no element. Values are machine text: ``1234.56``, ``2025-06-30``, ISO 8601 datetimes, fractions for
percentages. ``totals`` is present only when the spec asks for totals. Characters XML 1.0 cannot carry
(control characters) are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from app.reports.export_formats.spec import MACHINE_FORMATTERS, ExportSpec, Totals, iter_values, xml_safe_text

XSD_PATH = Path(__file__).resolve().parents[3] / "templates" / "exports" / "export.xsd"
XML_VERSION = "1"
_BATCH_ROWS = 1000


class _Sink:
    """A write-only file that keeps what lxml writes until the generator hands it on."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self._parts.append(bytes(data))

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def write_xml(
    rows: Iterable[Any], spec: ExportSpec, *, generated_at: datetime | None = None
) -> Iterator[bytes]:
    """Stream ``rows`` as XML bytes in the shape of ``export.xsd`` (see the module docstring)."""
    generated_at = generated_at or datetime.now(UTC)
    kinds = [column.kind for column in spec.columns]
    keys = list(spec.keys)
    formatters = [MACHINE_FORMATTERS[kind] for kind in kinds]
    totals = Totals(spec)
    sink = _Sink()
    with etree.xmlfile(sink, encoding="utf-8") as xf:
        xf.write_declaration()
        attributes = {
            "version": XML_VERSION,
            "title": xml_safe_text(spec.title),
            "generated_at": generated_at.isoformat(timespec="seconds"),
        }
        with xf.element("export", attributes):
            xf.write("\n")
            columns = etree.Element("columns")
            for column in spec.columns:
                etree.SubElement(
                    columns, "column", key=column.key, kind=column.kind, header=xml_safe_text(column.header)
                )
            xf.write(columns, pretty_print=True)
            with xf.element("rows"):
                xf.write("\n")
                for count, values in enumerate(iter_values(rows, spec), start=1):
                    totals.add(values)
                    row = etree.Element("row")
                    for kind, key, fmt, value in zip(kinds, keys, formatters, values, strict=True):
                        if value is not None:
                            field = etree.SubElement(row, kind, name=key)
                            field.text = xml_safe_text(value) if kind == "text" else fmt(value)
                    xf.write(row, pretty_print=True)
                    if count % _BATCH_ROWS == 0:
                        xf.flush()
                        yield sink.drain()
            xf.write("\n")
            if totals.enabled:
                element = etree.Element("totals")
                for index, value in totals.sums.items():
                    field = etree.SubElement(element, kinds[index], name=keys[index])
                    field.text = formatters[index](value)
                xf.write(element, pretty_print=True)
    yield sink.drain()
