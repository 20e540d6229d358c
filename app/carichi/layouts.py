"""Tracciati (import layouts): the default rows, their checks, and the plain `LayoutSpec` the readers use.

A layout row says how one kind of file maps onto the canonical fields of its flow (`validation.FIELDS`):
column headers (CSV, XLSX), element names (XML) or 1-based positions (fixed-width records), plus how values
are written (separator, decimal mark, date formats, encoding) and the error-rate limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.carichi.models import ImportLayout
from app.carichi.validation import (
    DATE_FORMATS,
    DECIMAL_MODES,
    FIELDS,
    OPTIONAL_IN_LAYOUT,
    REQUIRED_COLUMNS,
    Formats,
)

ENCODINGS = {
    "auto": "Rilevata (UTF-8, UTF-8 con BOM, Windows-1252)",
    "utf-8": "UTF-8",
    "cp1252": "Windows-1252",
}
SEPARATORS = {
    "auto": "Rilevato (; oppure ,)",
    ";": "Punto e virgola (;)",
    ",": "Virgola (,)",
    "|": "Barra (|)",
    "tab": "Tabulazione",
}
DEFAULT_MAX_ERROR_RATE = Decimal("5")
CANONICAL = "canonico"

RUOLO_290 = (
    ("id_posizione", 2, 20),
    ("codice_fiscale", 22, 16),
    ("tipo_soggetto", 38, 2),
    ("cognome", 40, 24),
    ("nome", 64, 20),
    ("ragione_sociale", 84, 40),
    ("data_nascita", 124, 8),
    ("comune_nascita", 132, 20),
    ("indirizzo", 152, 30),
    ("cap", 182, 5),
    ("comune", 187, 20),
    ("provincia", 207, 2),
    ("anno_riferimento", 209, 4),
    ("codice_entrata", 213, 10),
    ("riferimento", 223, 10),
    ("capitale", 233, 10),
    ("sanzioni", 243, 10),
    ("interessi", 253, 10),
    ("spese", 263, 10),
    ("data_scadenza", 273, 8),
    ("data_notifica", 281, 8),
)
RUOLO_290_DESCRIPTION = (
    "Record a lunghezza fissa di 290 caratteri, una riga per record (stile ruolo tradizionale). "
    "Posizione 1: tipo record (D = dettaglio; H = testata e T = coda sono ignorati). "
    + "; ".join(f"{start}-{start + length - 1}: {name}" for name, start, length in RUOLO_290)
    + "; 289-290: riempimento. Importi in centesimi senza separatori (0000012345 = 123,45 euro), allineati a "
    "destra con zeri; date AAAAMMGG (00000000 o spazi = assente); testi allineati a sinistra con spazi."
)

DEFAULT_LAYOUTS: tuple[dict[str, Any], ...] = (
    {
        "name": CANONICAL,
        "flow": "carico",
        "format": "csv",
        "description": "CSV canonico della lista di carico: separatore ; (o , rilevato), "
        "intestazione con i nomi dei campi in qualsiasi ordine, importi con , o . decimale, date "
        "AAAA-MM-GG o GG/MM/AAAA, codifica UTF-8 (anche con BOM) o Windows-1252.",
        "columns": {f: f for f in FIELDS["carico"]},
        "date_formats": ["AAAA-MM-GG", "GG/MM/AAAA"],
    },
    {
        "name": "canonico-xlsx",
        "flow": "carico",
        "format": "xlsx",
        "description": "Foglio Excel con l'intestazione del CSV canonico nella prima riga del primo foglio.",
        "columns": {f: f for f in FIELDS["carico"]},
        "date_formats": ["AAAA-MM-GG", "GG/MM/AAAA"],
    },
    {
        "name": "canonico-xml",
        "flow": "carico",
        "format": "xml",
        "description": "XML della lista di carico (schema XSD pubblicato con l'applicazione): radice "
        "<lista_di_carico>, un elemento "
        "<posizione> per debito con un elemento figlio per campo (nomi del CSV canonico).",
        "columns": {f: f for f in FIELDS["carico"]},
        "date_formats": ["AAAA-MM-GG", "GG/MM/AAAA"],
        "options": {
            "row_tag": "posizione",
            "root_tag": "lista_di_carico",
            "xsd": "schemas/lista_di_carico.xsd",
        },
    },
    {
        "name": "ruolo-290",
        "flow": "carico",
        "format": "fixed",
        "description": RUOLO_290_DESCRIPTION,
        "columns": [{"field": f, "start": s, "length": n} for f, s, n in RUOLO_290],
        "decimal_separator": "cents",
        "date_formats": ["AAAAMMGG"],
        "options": {
            "record_length": 290,
            "record_type": {"start": 1, "length": 1, "value": "D", "ignore": ["H", "T"]},
        },
    },
    {
        "name": "variazioni-anagrafiche",
        "flow": "anagrafica",
        "format": "csv",
        "description": "Variazioni anagrafiche dalla Regione: indirizzo, PEC, data di decesso.",
        "columns": {f: f for f in FIELDS["anagrafica"]},
        "date_formats": ["AAAA-MM-GG", "GG/MM/AAAA"],
    },
    {
        "name": "variazioni-posizioni",
        "flow": "variazioni",
        "format": "csv",
        "description": "Sgravi, sospensioni e revoche di sospensione disposti dall'ente.",
        "columns": {f: f for f in FIELDS["variazioni"]},
        "date_formats": ["AAAA-MM-GG", "GG/MM/AAAA"],
    },
)


# What earlier versions wrote into the default rows' descriptions: paths of the repository, which are no
# description for an operator. A row still holding one of these gets the current text (a versioned edit).
LEGACY_DESCRIPTIONS = {
    "canonico": ("formats.md §1",),
    "canonico-xml": ("schemas/lista_di_carico.xsd",),
    "variazioni-anagrafiche": ("docs/formats/variazioni.md",),
    "variazioni-posizioni": ("docs/formats/variazioni.md",),
}


def ensure_default_layouts(session: Session) -> int:
    """Create the default layouts that are missing (by name), refresh the descriptions left by earlier
    versions. Idempotent; returns how many rows were added or refreshed."""
    existing = {row.name: row for row in session.scalars(sa.select(ImportLayout))}
    added = 0
    for spec in DEFAULT_LAYOUTS:
        row = existing.get(spec["name"])
        if row is not None:
            if any(old in (row.description or "") for old in LEGACY_DESCRIPTIONS.get(row.name, ())):
                row.description = spec["description"]
                added += 1
            continue
        session.add(
            ImportLayout(
                name=spec["name"],
                flow=spec["flow"],
                format=spec["format"],
                description=spec["description"],
                columns=spec["columns"],
                date_formats=spec.get("date_formats", ["AAAA-MM-GG", "GG/MM/AAAA"]),
                options=spec.get("options", {}),
                encoding="auto",
                separator="auto",
                decimal_separator=spec.get("decimal_separator", "auto"),
                max_error_rate=DEFAULT_MAX_ERROR_RATE,
                ignore_unknown_columns=False,
                active=True,
            )
        )
        added += 1
    if added:
        session.flush()
    return added


@dataclass(frozen=True, slots=True)
class FixedField:
    field: str
    start: int  # 1-based
    length: int

    @property
    def label(self) -> str:
        return f"{self.field} (pos. {self.start}-{self.start + self.length - 1})"


@dataclass(frozen=True, slots=True)
class LayoutSpec:
    """A layout row as plain values (what readers, workers and previews need)."""

    id: int | None
    name: str
    flow: str
    format: str
    encoding: str
    separator: str
    decimal: str
    date_formats: tuple[str, ...]
    columns: dict[str, str]  # csv/xlsx/xml: canonical field -> name in the file
    fixed: tuple[FixedField, ...]
    options: dict[str, Any]
    default_entrata: str | None
    max_error_rate: Decimal
    ignore_unknown_columns: bool

    @classmethod
    def of(cls, row: ImportLayout) -> LayoutSpec:
        fixed: tuple[FixedField, ...] = ()
        columns: dict[str, str] = {}
        if row.format == "fixed":
            fixed = tuple(
                FixedField(c["field"], int(c["start"]), int(c["length"])) for c in row.columns or []
            )
        else:
            columns = {str(k): str(v) for k, v in (row.columns or {}).items()}
        return cls(
            id=row.id,
            name=row.name,
            flow=row.flow,
            format=row.format,
            encoding=row.encoding or "auto",
            separator=row.separator or "auto",
            decimal=row.decimal_separator or "auto",
            date_formats=tuple(row.date_formats or ("AAAA-MM-GG", "GG/MM/AAAA")),
            columns=columns,
            fixed=fixed,
            options=dict(row.options or {}),
            default_entrata=row.default_entrata,
            max_error_rate=Decimal(row.max_error_rate if row.max_error_rate is not None else 5),
            ignore_unknown_columns=bool(row.ignore_unknown_columns),
        )

    @property
    def formats(self) -> Formats:
        return Formats(date_formats=self.date_formats, decimal=self.decimal)

    @property
    def mapped_fields(self) -> frozenset[str]:
        if self.format == "fixed":
            return frozenset(f.field for f in self.fixed)
        return frozenset(self.columns)


# --- the editor's rows and fields <-> the row's `columns` and `options` ------------------------------------

OPTION_FIELDS = ("record_length", "record_type", "sheet", "row_tag", "root_tag")


def mapping_rows(flow: str, columns: Any) -> list[dict[str, Any]]:
    """One row per canonical field of the flow: where the layout's `columns` find it (name or positions)."""
    return rows_for(FIELDS.get(flow, ()), columns)


def rows_for(fields: tuple[str, ...], columns: Any) -> list[dict[str, Any]]:
    """One editor row per field: its name in the file (`columns` a dict) or its positions (a list)."""
    items = columns if isinstance(columns, list) else []
    fixed = {str(c.get("field")): c for c in items if isinstance(c, dict)}
    named = columns if isinstance(columns, dict) else {}
    return [
        {
            "field": name,
            "source": named.get(name, ""),
            "start": fixed.get(name, {}).get("start"),
            "length": fixed.get(name, {}).get("length"),
        }
        for name in fields
    ]


def columns_from_rows(format: str, rows: list[dict[str, Any]]) -> tuple[Any, list[str]]:
    """The `columns` of a layout from the editor's rows (rows left empty are fields the file lacks)."""
    problems: list[str] = []
    if format == "fixed":
        fixed = []
        for row in rows:
            start, length = row.get("start"), row.get("length")
            if start is None and length is None:
                continue
            if start is None or length is None:
                problems.append(f"{row['field']}: indicare sia l'inizio sia la lunghezza.")
                continue
            fixed.append({"field": row["field"], "start": int(start), "length": int(length)})
        return fixed, problems
    return {
        row["field"]: str(row["source"]).strip() for row in rows if str(row.get("source") or "").strip()
    }, []


def options_from_fields(format: str, kept: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The `options` of a layout: those the editor shows (for the chosen format) plus any other key it had."""
    options = {k: v for k, v in kept.items() if k not in OPTION_FIELDS}
    if format == "fixed":
        if values.get("record_length"):
            options["record_length"] = int(values["record_length"])
        if values.get("record_type_value"):
            ignore = [x.strip() for x in str(values.get("record_type_ignore") or "").split(",") if x.strip()]
            options["record_type"] = {
                "start": int(values.get("record_type_start") or 1),
                "length": int(values.get("record_type_length") or len(values["record_type_value"])),
                "value": str(values["record_type_value"]).strip(),
                **({"ignore": ignore} if ignore else {}),
            }
    elif format == "xlsx" and values.get("sheet"):
        options["sheet"] = str(values["sheet"]).strip()
    elif format == "xml":
        for key in ("row_tag", "root_tag"):
            if values.get(key):
                options[key] = str(values[key]).strip()
    return options


def option_fields(options: dict[str, Any]) -> dict[str, Any]:
    """The editor's fields of `options` (the inverse of `options_from_fields`)."""
    rtype = options.get("record_type") or {}
    return {
        "record_length": options.get("record_length"),
        "record_type_start": rtype.get("start"),
        "record_type_length": rtype.get("length"),
        "record_type_value": rtype.get("value"),
        "record_type_ignore": ", ".join(str(x) for x in rtype.get("ignore", ())),
        "sheet": options.get("sheet"),
        "row_tag": options.get("row_tag"),
        "root_tag": options.get("root_tag"),
    }


LAYOUT_ATTRIBUTES = (
    "name",
    "description",
    "flow",
    "format",
    "encoding",
    "separator",
    "decimal_separator",
    "date_formats",
    "max_error_rate",
    "ignore_unknown_columns",
    "active",
)


def layout_values(
    data: dict[str, Any], rows: list[dict[str, Any]], kept_options: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """A layout row's values from the editor's fields and mapping rows, with the reasons (Italian) why they
    cannot be used (empty when they can)."""
    columns, problems = columns_from_rows(data["format"], rows)
    options = options_from_fields(data["format"], kept_options, data)
    problems += check_layout(
        flow=data["flow"],
        format=data["format"],
        columns=columns,
        options=options,
        date_formats=data["date_formats"],
        decimal=data["decimal_separator"],
        encoding=data["encoding"],
        separator=data["separator"],
        max_error_rate=data["max_error_rate"],
    )
    values = {name: data[name] for name in LAYOUT_ATTRIBUTES}
    values["description"] = values["description"] or ""
    values["default_entrata"] = (data.get("default_entrata") or "").upper() or None
    values["columns"], values["options"] = columns, options
    return values, problems


def check_layout(
    *,
    flow: str,
    format: str,
    columns: Any,
    options: dict[str, Any],
    date_formats: list[str],
    decimal: str,
    encoding: str,
    separator: str,
    max_error_rate: Decimal | None,
) -> list[str]:
    """Italian reasons why a layout cannot be saved (empty when it is fine)."""
    problems: list[str] = []
    fields = FIELDS.get(flow)
    if fields is None:
        return [f"Flusso sconosciuto: {flow}"]
    if format not in ("csv", "fixed", "xlsx", "xml"):
        problems.append(f"Formato sconosciuto: {format}")
    if encoding not in ENCODINGS:
        problems.append(f"Codifica non ammessa: {encoding}")
    if separator not in SEPARATORS:
        problems.append(f"Separatore non ammesso: {separator}")
    if decimal not in DECIMAL_MODES:
        problems.append(f"Separatore decimale non ammesso: {decimal}")
    if not date_formats or any(f not in DATE_FORMATS for f in date_formats):
        problems.append("Formati di data ammessi: " + ", ".join(DATE_FORMATS))
    if max_error_rate is None or not Decimal(0) <= max_error_rate <= Decimal(100):
        problems.append("Il tasso massimo di errore deve essere tra 0 e 100.")
    mapped: set[str] = set()
    if format == "fixed":
        if not isinstance(columns, list) or not columns:
            return [*problems, "Indicare inizio e lunghezza di almeno un campo."]
        length = options.get("record_length")
        if not isinstance(length, int) or length <= 0:
            problems.append("Indicare la lunghezza del record (intero positivo).")
            length = 10**6
        taken: list[tuple[int, int, str]] = []
        rtype = options.get("record_type")
        if rtype:
            try:
                taken.append(
                    (int(rtype["start"]), int(rtype["start"]) + int(rtype["length"]) - 1, "tipo_record")
                )
            except (KeyError, TypeError, ValueError):
                problems.append("Il tipo record richiede inizio, lunghezza e valore.")
        for item in columns:
            try:
                name, start, size = str(item["field"]), int(item["start"]), int(item["length"])
            except (KeyError, TypeError, ValueError):
                problems.append(f"Campo non valido nel tracciato: {item}")
                continue
            if name not in fields:
                problems.append(f"Campo sconosciuto: {name}")
            if name in mapped:
                problems.append(f"Campo ripetuto: {name}")
            mapped.add(name)
            if start < 1 or size < 1 or start + size - 1 > length:
                problems.append(
                    f"{name}: posizioni {start}-{start + size - 1} fuori dal record di {length} caratteri"
                )
            taken.append((start, start + size - 1, name))
        taken.sort()
        for (_s1, e1, n1), (s2, _e2, n2) in zip(taken, taken[1:], strict=False):
            if s2 <= e1:
                problems.append(f"I campi {n1} e {n2} si sovrappongono (posizione {s2})")
    else:
        if not isinstance(columns, dict) or not columns:
            return [*problems, "Indicare il nome nel file di almeno un campo."]
        names: set[str] = set()
        for name, source in columns.items():
            if name not in fields:
                problems.append(f"Campo sconosciuto: {name}")
            if not isinstance(source, str) or not source.strip():
                problems.append(f"{name}: nome della colonna mancante")
                continue
            if source.strip().lower() in names:
                problems.append(f"Colonna «{source}» associata a più campi")
            names.add(source.strip().lower())
            mapped.add(name)
        if format == "xml" and not options.get("row_tag"):
            problems.append("Indicare l'elemento di una riga (es. posizione).")
    missing = sorted(REQUIRED_COLUMNS[flow] - OPTIONAL_IN_LAYOUT - mapped)
    if missing:
        problems.append("Campi obbligatori non mappati: " + ", ".join(missing))
    return problems
