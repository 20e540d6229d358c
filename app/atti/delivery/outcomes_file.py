"""The outcome flow of the postal provider (docs/formats/stampa.md §3), CSV or XML, read into lines.

Pure: bytes in, `OutcomeLine`s out, or `OutcomesRefused` listing every error with its line and field (the
whole file is refused; the service then checks each line against the database: unknown act, date before
sending, duplicate outcome, again refusing the whole file).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from lxml import etree

OUTCOME_NS = "urn:esattoria:esiti:1"
MAX_BYTES = 20 * 1024 * 1024
MAX_ERRORS = 50
# Provider outcome codes (esito) and their Italian labels.
POSTAL_OUTCOMES: dict[str, str] = {
    "notificato": "Notificato (consegnato)",
    "compiuta_giacenza": "Compiuta giacenza",
    "irreperibile": "Destinatario irreperibile",
    "trasferito": "Destinatario trasferito",
    "deceduto": "Destinatario deceduto",
    "rifiutato": "Rifiutato dal destinatario",
}
CSV_COLUMNS = (
    "id_atto",
    "protocollo",
    "esito",
    "data_esito",
    "data_cad",
    "codice_raccomandata",
    "id_comunicazione",
)
WHICH = ("id_atto", "protocollo", "id_comunicazione")  # at least one names the act or the postal message
REQUIRED_COLUMNS = ("esito", "data_esito")


@dataclass(frozen=True, slots=True)
class OutcomeLine:
    line: int
    act_id: int | None
    protocol: str | None
    outcome: str
    event_date: dt.date
    cad_date: dt.date | None
    barcode: str | None
    message_id: int | None = None  # a postal message (app/crm/messages) instead of an act


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"riga {self.line}, campo {self.field}: {self.message}"


class OutcomesRefused(Exception):
    """The file is refused whole; `errors` says where and why (Italian)."""

    def __init__(self, errors: list[LineError]) -> None:
        super().__init__("; ".join(str(e) for e in errors[:5]))
        self.errors = errors


def _date(value: str) -> dt.date:
    value = value.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    raise ValueError(f"data non valida: {value[:20]!r} (AAAA-MM-GG o GG/MM/AAAA)")


def _line(n: int, fields: dict[str, str], errors: list[LineError]) -> OutcomeLine | None:
    before = len(errors)
    protocol = (fields.get("protocollo") or "").strip() or None
    ids: dict[str, int | None] = {}
    for name in ("id_atto", "id_comunicazione"):
        text = (fields.get(name) or "").strip()
        ids[name] = None
        if text:
            if text.isdigit() and len(text) <= 12:
                ids[name] = int(text)
            else:
                errors.append(LineError(n, name, f"non è un numero: {text[:20]!r}"))
    act_id, message_id = ids["id_atto"], ids["id_comunicazione"]
    named = [name for name in ("id_atto", "id_comunicazione") if (fields.get(name) or "").strip()]
    if not named and protocol is None:
        errors.append(
            LineError(n, "id_atto", "manca l'atto: indicare id_atto, id_comunicazione o protocollo")
        )
    if len(named) == 2:
        errors.append(LineError(n, "id_comunicazione", "indicare l'atto o la comunicazione, non entrambi"))
    if protocol is not None and len(protocol) > 40:
        errors.append(LineError(n, "protocollo", "più di 40 caratteri"))
    outcome = (fields.get("esito") or "").strip().lower()
    if outcome not in POSTAL_OUTCOMES:
        errors.append(
            LineError(n, "esito", f"{outcome[:30]!r} sconosciuto (ammessi: {', '.join(POSTAL_OUTCOMES)})")
        )
    dates: dict[str, dt.date | None] = {}
    for name in ("data_esito", "data_cad"):
        raw = (fields.get(name) or "").strip()
        dates[name] = None
        if not raw:
            if name == "data_esito":
                errors.append(LineError(n, name, "mancante"))
            continue
        try:
            dates[name] = _date(raw)
        except ValueError as exc:
            errors.append(LineError(n, name, str(exc)))
    if outcome == "compiuta_giacenza" and not (fields.get("data_cad") or "").strip():
        errors.append(LineError(n, "data_cad", "obbligatoria per la compiuta giacenza"))
    cad, event = dates["data_cad"], dates["data_esito"]
    if cad is not None and event is not None and cad > event:
        errors.append(LineError(n, "data_cad", "successiva alla data dell'esito"))
    barcode = (fields.get("codice_raccomandata") or "").strip()[:60] or None
    if len(errors) > before or event is None:
        return None
    return OutcomeLine(n, act_id, protocol, outcome, event, cad, barcode, message_id)


def _read_csv(data: bytes, errors: list[LineError]) -> list[OutcomeLine]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OutcomesRefused([LineError(1, "file", f"non è testo UTF-8 (byte {exc.start})")]) from None
    if "\x00" in text:
        raise OutcomesRefused([LineError(1, "file", "contiene caratteri nulli: non è un CSV")])
    sample = text.split("\n", 1)[0]
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if not any(name in header for name in WHICH):
        missing.insert(0, "id_atto o protocollo")
    if missing:
        raise OutcomesRefused([LineError(1, c, "colonna mancante nell'intestazione") for c in missing])
    lines: list[OutcomeLine] = []
    for n, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            errors.append(LineError(n, "riga", f"{len(row)} campi invece di {len(header)}"))
            continue
        row = row + [""] * (len(header) - len(row))  # trailing empty fields may be left out
        found = _line(n, dict(zip(header, row, strict=True)), errors)
        if found is not None:
            lines.append(found)
        if len(errors) >= MAX_ERRORS:
            break
    return lines


def _read_xml(data: bytes, errors: list[LineError]) -> list[OutcomeLine]:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )
    try:
        root = etree.fromstring(data, parser=parser)  # noqa: S320 - entities, DTD and network disabled
    except etree.XMLSyntaxError as exc:
        raise OutcomesRefused([LineError(exc.lineno or 1, "file", f"XML non valido: {exc.msg}")]) from None
    if etree.QName(root).localname != "esiti" or etree.QName(root).namespace not in (OUTCOME_NS, None):
        raise OutcomesRefused(
            [LineError(root.sourceline or 1, "esiti", "l'elemento radice deve essere <esiti>")]
        )
    lines: list[OutcomeLine] = []
    for element in root:
        if not isinstance(element.tag, str):
            continue
        n = element.sourceline or 0
        if etree.QName(element).localname != "esito":
            errors.append(LineError(n, etree.QName(element).localname, "elemento inatteso (atteso <esito>)"))
            continue
        fields: dict[str, str] = {}
        for child in element:
            if isinstance(child.tag, str):
                name = etree.QName(child).localname
                if name not in CSV_COLUMNS:
                    errors.append(LineError(child.sourceline or n, name, "elemento sconosciuto"))
                    continue
                fields[name] = child.text or ""
        found = _line(n, fields, errors)
        if found is not None:
            lines.append(found)
        if len(errors) >= MAX_ERRORS:
            break
    return lines


def read_outcomes(data: bytes) -> list[OutcomeLine]:
    """The lines of a CSV or XML outcome file (XML when it starts with `<`); OutcomesRefused with every
    error, nothing returned, when any line is wrong or no line is there."""
    if len(data) > MAX_BYTES:
        raise OutcomesRefused([LineError(1, "file", f"più di {MAX_BYTES // (1024 * 1024)} MB")])
    errors: list[LineError] = []
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    lines = _read_xml(data, errors) if stripped.startswith(b"<") else _read_csv(data, errors)
    if errors:
        raise OutcomesRefused(errors)
    if not lines:
        raise OutcomesRefused([LineError(1, "file", "nessun esito nel file")])
    return lines
