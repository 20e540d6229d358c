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
        "description": "CSV canonico della lista di carico (formats.md §1): separatore ; (o , rilevato), "
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
        "description": "XML conforme a schemas/lista_di_carico.xsd: radice <lista_di_carico>, un elemento "
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
        "description": "Variazioni anagrafiche dalla Regione (docs/formats/variazioni.md §1): "
        "indirizzo, PEC, "
        "data di decesso.",
        "columns": {f: f for f in FIELDS["anagrafica"]},
        "date_formats": ["AAAA-MM-GG", "GG/MM/AAAA"],
    },
    {
        "name": "variazioni-posizioni",
        "flow": "variazioni",
        "format": "csv",
        "description": "Sgravi, sospensioni e revoche di sospensione disposti dall'ente "
        "(docs/formats/variazioni.md "
        "§2).",
        "columns": {f: f for f in FIELDS["variazioni"]},
        "date_formats": ["AAAA-MM-GG", "GG/MM/AAAA"],
    },
)


def ensure_default_layouts(session: Session) -> int:
    """Create the default layouts that are missing (by name). Idempotent; returns how many were added."""
    existing = set(session.scalars(sa.select(ImportLayout.name)))
    added = 0
    for spec in DEFAULT_LAYOUTS:
        if spec["name"] in existing:
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
            return [
                *problems,
                "Per un tracciato a lunghezza fissa le colonne sono un elenco di "
                '{"field", "start", "length"}.',
            ]
        length = options.get("record_length")
        if not isinstance(length, int) or length <= 0:
            problems.append("Indicare options.record_length (lunghezza del record, intero positivo).")
            length = 10**6
        taken: list[tuple[int, int, str]] = []
        rtype = options.get("record_type")
        if rtype:
            try:
                taken.append(
                    (int(rtype["start"]), int(rtype["start"]) + int(rtype["length"]) - 1, "tipo_record")
                )
            except (KeyError, TypeError, ValueError):
                problems.append("options.record_type richiede start, length e value.")
        for item in columns:
            try:
                name, start, size = str(item["field"]), int(item["start"]), int(item["length"])
            except (KeyError, TypeError, ValueError):
                problems.append(f"Campo non valido nel tracciato: {item!r}")
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
            return [*problems, 'Le colonne sono un oggetto {"campo canonico": "nome nel file"}.']
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
            problems.append("Indicare options.row_tag (l'elemento che contiene una riga, es. posizione).")
    missing = sorted(REQUIRED_COLUMNS[flow] - OPTIONAL_IN_LAYOUT - mapped)
    if missing:
        problems.append("Campi obbligatori non mappati: " + ", ".join(missing))
    return problems
