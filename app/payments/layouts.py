"""Payments tracciati (bank and postal layouts) as the editor shows them: a row per canonical field of the
payments CSV with where the file has it, the format's options as fields, the checks before saving, and the
preview of a sample file read with the layout being edited (nothing is written)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.carichi.layouts import columns_from_rows, option_fields, options_from_fields, rows_for
from app.payments.models import PaymentLayout
from app.payments.parsing import (
    CANONICAL_FIELDS,
    DATE_FORMATS,
    REQUIRED_FIELDS,
    FlowRefused,
    LayoutSpec,
    parse_payments_file,
)

ENCODINGS = {
    "auto": "Rilevata (UTF-8, UTF-8 con BOM, Windows-1252)",
    "utf-8": "UTF-8",
    "cp1252": "Windows-1252",
}
PREVIEW_ROWS = 10


def editor_data(row: PaymentLayout | None) -> dict[str, Any]:
    """The editor's fields of a layout row (a new one starts as a CSV with `;`)."""
    if row is None:
        return {
            "format": "csv",
            "encoding": "auto",
            "separator": ";",
            "decimal_separator": "auto",
            "date_formats": ["GG/MM/AAAA", "AAAA-MM-GG"],
            "channel": "bonifico",
            "active": True,
            "columns": rows_for(CANONICAL_FIELDS, {}),
        }
    options = row.options or {}
    return {
        "name": row.name,
        "description": row.description,
        "format": row.format,
        "encoding": row.encoding or "auto",
        "separator": row.separator or ";",
        "decimal_separator": row.decimal_separator or "auto",
        "date_formats": list(row.date_formats or ()),
        "channel": row.channel,
        "active": row.active,
        "ignore_unknown_columns": bool(options.get("ignore_unknown_columns")),
        "columns": rows_for(CANONICAL_FIELDS, row.columns),
        **option_fields(options),
    }


def row_values(
    data: dict[str, Any], rows: list[dict[str, Any]], kept_options: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The row's values from the editor's fields, with the reasons (Italian) why they cannot be used."""
    fmt = data["format"]
    columns, problems = columns_from_rows(fmt, rows)
    options = options_from_fields(fmt, kept_options, data)
    options.pop("ignore_unknown_columns", None)
    if fmt == "csv" and data.get("ignore_unknown_columns"):
        options["ignore_unknown_columns"] = True
    values = {
        "name": data["name"],
        "description": data.get("description") or "",
        "format": fmt,
        "encoding": data["encoding"],
        "separator": data["separator"],
        "decimal_separator": data["decimal_separator"],
        "date_formats": list(data["date_formats"] or ()),
        "columns": columns,
        "options": options,
        "channel": data["channel"],
        "active": bool(data.get("active")),
    }
    return values, problems + check(values)


def check(values: dict[str, Any]) -> list[str]:
    problems = []
    if any(d not in DATE_FORMATS for d in values["date_formats"]) or not values["date_formats"]:
        problems.append("Formati di data ammessi: " + ", ".join(DATE_FORMATS) + ".")
    columns = values["columns"]
    fields = [c["field"] for c in columns] if isinstance(columns, list) else list(columns)
    if not fields:
        problems.append("Indicare dove il file riporta almeno i campi obbligatori.")
    unknown = sorted(set(fields) - set(CANONICAL_FIELDS))
    if unknown:
        problems.append("Campi sconosciuti: " + ", ".join(unknown) + ".")
    missing = [f for f in REQUIRED_FIELDS if f not in fields]
    if missing:
        problems.append("Campi obbligatori non mappati: " + ", ".join(missing) + ".")
    if values["format"] == "fixed":
        length = values["options"].get("record_length")
        if not length:
            problems.append("Indicare la lunghezza del record.")
        spans = sorted((c["start"], c["start"] + c["length"] - 1, c["field"]) for c in columns)
        for start, end, name in spans:
            if length and end > length:
                problems.append(f"{name}: posizioni {start}-{end} fuori dal record di {length} caratteri.")
        for (_s1, e1, n1), (s2, _e2, n2) in zip(spans, spans[1:], strict=False):
            if s2 <= e1:
                problems.append(f"I campi {n1} e {n2} si sovrappongono (posizione {s2}).")
    else:
        names = [str(v).strip().lower() for v in columns.values()]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            problems.append("Colonne associate a più campi: " + ", ".join(repeated) + ".")
    return problems


def spec_of_values(values: dict[str, Any]) -> LayoutSpec:
    return LayoutSpec(
        name=values["name"] or "prova",
        format=values["format"],
        encoding=values["encoding"],
        separator=values["separator"],
        decimal=values["decimal_separator"],
        date_formats=tuple(values["date_formats"]),
        columns=values["columns"],
        options=dict(values["options"]),
        channel=values["channel"],
    )


def preview_sample(values: dict[str, Any], data: bytes, today: dt.date) -> dict[str, Any]:
    """The payments of a sample file as the layout being edited reads them (the first few), or why the
    file would be refused (every reason with its line)."""
    try:
        flow = parse_payments_file(data, spec_of_values(values), today=today)
    except FlowRefused as exc:
        return {"refused": exc.message, "errors": exc.errors[: PREVIEW_ROWS * 2]}
    return {
        "payments": flow.payments[:PREVIEW_ROWS],
        "count": len(flow.payments),
        "duplicates": flow.duplicates_in_file,
        "warnings": flow.warnings[:PREVIEW_ROWS],
        "encoding": flow.encoding,
    }
