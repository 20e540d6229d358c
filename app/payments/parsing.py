"""Reading payment flows: the pagoPA FdR XML (validated against the published XSD, versions 1.0.4 and 1.0.5)
and payment files (the canonical CSV of formats.md §2, or a bank/postal tracciato mapped onto it).

Everything here is pure: bytes in, a `ParsedFlow` out, or `FlowRefused` with every reason (line, column,
value). Nothing is written. A refused file leaves nothing behind.

Hostile input: XML with a DOCTYPE or entity declarations is refused before parsing (XXE, "billion laughs");
the parser runs with entity resolution, network and huge trees off anyway. Negative or zero amounts and dates
outside `MIN_DATE` .. today + 1 day refuse the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from app.core.errors import DomainError
from app.engine.notice import is_valid_notice
from app.reports.formatting import format_eur, format_int

NS = "http://www.digitpa.gov.it/schemas/2011/Pagamenti/"
XSD_DIR = Path(__file__).resolve().parent / "xsd"
# A flow is accepted when valid against either; `schema_version` lists every version it is valid against (the
# XML carries no schema version: "1.0.4" alone means it uses outcome 3, dropped in 1.0.5). The SANP 3.8.1
# revision of 1.0.4 is master 1.0.4 plus codes 4 and 8, so it accepts every valid master 1.0.4 flow too.
FDR_SCHEMAS = (
    ("1.0.5", "FlussoRiversamento_1_0_5.xsd"),
    ("1.0.4", "FlussoRiversamento_1_0_4_SANP-3.8.1.xsd"),
)
ROME = ZoneInfo("Europe/Rome")
MIN_DATE = dt.date(2000, 1, 1)
MAX_AMOUNT_CENTS = 99_999_999_999  # 999.999.999,99 euro, as the FdR XSD
MAX_REPORTED_ERRORS = 200

CANONICAL_FIELDS = (
    "id_pagamento",
    "data_pagamento",
    "data_valuta",
    "importo",
    "codice_avviso",
    "codice_fiscale",
    "causale",
    "canale",
)
REQUIRED_FIELDS = ("id_pagamento", "data_pagamento", "importo")
DATE_FORMATS = {
    "AAAA-MM-GG": "%Y-%m-%d",
    "GG/MM/AAAA": "%d/%m/%Y",
    "AAAAMMGG": "%Y%m%d",
    "GGMMAAAA": "%d%m%Y",
    "GG-MM-AAAA": "%d-%m-%Y",
}
_NOTICE_IN_TEXT = re.compile(r"(?<!\d)3\d{17}(?!\d)")
_AMOUNT_CHARS = re.compile(r"\d[\d.,]*")


class FlowRefused(DomainError):
    """The whole flow is refused; `errors` lists each reason with its line, column and value."""

    status = 422

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None, **details: Any) -> None:
        self.errors = errors or []
        super().__init__(message, errors=self.errors[:MAX_REPORTED_ERRORS], **details)


@dataclass(slots=True)
class ParsedPayment:
    row_number: int
    external_id: str
    amount_cents: int
    paid_date: dt.date
    value_date: dt.date | None = None
    iuv: str | None = None
    notice_number: str | None = None
    iur: str | None = None
    transfer_index: int | None = None
    outcome_code: str | None = None
    codice_fiscale: str | None = None
    causale: str | None = None
    channel: str = "pagopa"


@dataclass(slots=True)
class ParsedFlow:
    source: str  # pagopa | csv
    identifier: str
    sender: str
    flow_dt: dt.datetime
    sha256: str
    payments: list[ParsedPayment]
    layout: str | None = None
    sender_name: str | None = None
    regulation_ref: str | None = None
    regulation_date: dt.date | None = None
    bic: str | None = None
    schema_version: str | None = None
    receiver_code: str | None = None
    receiver_name: str | None = None
    declared_count: int | None = None
    declared_total_cents: int | None = None
    encoding: str | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    duplicates_in_file: list[dict[str, Any]] = field(default_factory=list)

    @property
    def computed_total_cents(self) -> int:
        return sum(p.amount_cents for p in self.payments) + sum(
            d["amount_cents"] for d in self.duplicates_in_file
        )

    @property
    def computed_count(self) -> int:
        return len(self.payments) + len(self.duplicates_in_file)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def detect_format(data: bytes) -> str:
    """`fdr` when the content is XML, else `csv`."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    return "fdr" if head.startswith(b"<") else "csv"


# --- values ----------------------------------------------------------------------------------------------


def parse_amount(text: str, decimal: str = "auto") -> int:
    """Euro text to cents: `1234,56`, `1.234,56`, `1234.56`, `1,234.56` (`decimal` may fix `,` or `.`);
    in `cents` mode the digits are cents. ValueError (Italian) for anything else, for negative, zero or too
    large amounts, and for `1.234` (one separator followed by three digits: thousands or decimals?)."""
    value = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    if value.startswith("-") or value.endswith("-"):
        raise ValueError("importo negativo: un pagamento deve essere positivo")
    if decimal == "cents":
        if not value.isdigit():
            raise ValueError("importo in centesimi non numerico")
        cents = int(value)
    else:
        if not _AMOUNT_CHARS.fullmatch(value):
            raise ValueError("importo non valido (atteso ad esempio 1234,56 o 1234.56)")
        seps = [c for c in value if c in ".,"]
        units, fraction = value, ""
        if seps:
            last = value.rfind(seps[-1])
            tail = value[last + 1 :]
            if len(tail) in (1, 2):
                if decimal in (",", ".") and seps[-1] != decimal:
                    raise ValueError(
                        f"importo non valido: il separatore decimale del tracciato è «{decimal}»"
                    )
                units, fraction = value[:last], tail
            elif len(seps) == 1:
                raise ValueError("importo ambiguo: un solo separatore seguito da tre cifre")
        groups = re.split(r"[.,]", units)
        if len(groups) > 1 and (
            len(set(c for c in units if c in ".,")) > 1
            or not 1 <= len(groups[0]) <= 3
            or any(len(g) != 3 for g in groups[1:])
        ):
            raise ValueError("importo non valido: separatori delle migliaia errati")
        cents = int("".join(groups) or "0") * 100 + int((fraction + "00")[:2])
    if cents <= 0:
        raise ValueError("importo nullo o negativo: un pagamento deve essere positivo")
    if cents > MAX_AMOUNT_CENTS:
        raise ValueError("importo oltre 999.999.999,99 euro")
    return cents


def parse_date(
    text: str, formats: tuple[str, ...] = ("AAAA-MM-GG", "GG/MM/AAAA"), *, today: dt.date | None = None
) -> dt.date:
    value = (text or "").strip()
    for name in formats:
        try:
            day = dt.datetime.strptime(value, DATE_FORMATS[name]).date()
        except ValueError:
            continue
        check_date_range(day, today=today)
        return day
    raise ValueError(f"data non valida (formati ammessi: {', '.join(formats)})")


def check_date_range(day: dt.date, *, today: dt.date | None = None) -> None:
    today = today or dt.date.today()
    if day < MIN_DATE or day > today + dt.timedelta(days=1):
        raise ValueError(
            f"data fuori intervallo ({day.isoformat()}): ammesse dal {MIN_DATE:%d/%m/%Y} a domani"
        )


def notice_in_text(text: str | None) -> str | None:
    """The first valid aux-3 codice avviso written in a free text (a bank transfer's causale)."""
    for match in _NOTICE_IN_TEXT.finditer((text or "").replace(" ", "")):
        if is_valid_notice(match.group(0)):
            return match.group(0)
    return None


# --- text files ------------------------------------------------------------------------------------------


def decode_text(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """(text, encoding) with the rules, limits and messages of the carichi import (app/carichi/reading.py,
    formats.md: UTF-8, UTF-8 with BOM or Windows-1252, detected, never guessed silently): binary content,
    UTF-16/UTF-32, a line longer than `MAX_LINE_BYTES`, a byte that decodes in neither encoding and a file
    mixing UTF-8 and Windows-1252 lines are refused naming the line. The encoding found is reported on the
    flow."""
    from app.carichi.reading import FileRefused, scan_stream

    try:
        facts = scan_stream(
            io.BytesIO(data), encoding=encoding if encoding in ("utf-8", "cp1252") else "auto"
        )
    except FileRefused as exc:
        raise FlowRefused(
            exc.message,
            [{"line": exc.line, "column": None, "reason": exc.message, "value": None}],
        ) from None
    codec = facts.encoding or "utf-8"
    text = data[facts.bom :].decode(codec)
    return text, ("utf-8-bom" if facts.bom else codec)


@dataclass(frozen=True, slots=True)
class LayoutSpec:
    """A payments layout as plain values (a `PaymentLayout` row or a built-in one)."""

    name: str
    format: str = "csv"
    encoding: str = "auto"
    separator: str = ";"
    decimal: str = "auto"
    date_formats: tuple[str, ...] = ("AAAA-MM-GG", "GG/MM/AAAA")
    columns: Any = None  # csv: {field: header}; fixed: [{"field", "start", "length"}]
    options: dict[str, Any] = field(default_factory=dict)
    channel: str = "bonifico"

    @property
    def source_key(self) -> str:
        return f"csv:{self.name}"


CANONICAL_LAYOUT = LayoutSpec(name="canonico", columns={f: f for f in CANONICAL_FIELDS}, channel="bonifico")


def parse_payments_file(
    data: bytes,
    layout: LayoutSpec = CANONICAL_LAYOUT,
    *,
    file_name: str | None = None,
    today: dt.date | None = None,
) -> ParsedFlow:
    """A payments file read with `layout`. Any invalid row refuses the whole file (every reason listed)."""
    text, encoding = decode_text(data, layout.encoding)
    if layout.format == "fixed":
        records = list(_fixed_records(text, layout))
    else:
        records = list(_csv_records(text, layout))
    errors: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    payments: list[ParsedPayment] = []
    duplicates: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, values in records:
        payment = _payment_from_values(line, values, layout, errors, warnings, today)
        if payment is None:
            continue
        if payment.external_id in seen:
            duplicates.append(
                {
                    "line": line,
                    "key": payment.external_id,
                    "amount_cents": payment.amount_cents,
                    "reason": f"id_pagamento già presente alla riga {seen[payment.external_id]}",
                }
            )
            continue
        seen[payment.external_id] = line
        payments.append(payment)
    if errors:
        first = errors[0]
        raise FlowRefused(
            f"File rifiutato: {len(errors)} errori, il primo alla riga {first['line']} "
            f"({first['column']}: {first['reason']}). Nessun pagamento è stato registrato.",
            errors,
        )
    if not payments and not duplicates:
        raise FlowRefused("Il file non contiene pagamenti.")
    sha = sha256_of(data)
    return ParsedFlow(
        source="csv",
        layout=layout.name,
        identifier=(file_name or f"file-{sha[:12]}")[:100],
        sender=layout.name,
        flow_dt=dt.datetime.now(dt.UTC),
        sha256=sha,
        payments=payments,
        encoding=encoding,
        warnings=warnings,
        duplicates_in_file=duplicates,
    )


def _csv_records(text: str, layout: LayoutSpec) -> Any:
    separator = "\t" if layout.separator == "tab" else layout.separator
    if separator == "auto":
        first = text.split("\n", 1)[0]
        separator = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        header = next(reader)
    except StopIteration:
        raise FlowRefused("Il file è vuoto.") from None
    except csv.Error:
        raise FlowRefused(
            "Riga 1: intestazione CSV malformata (virgolette non chiuse o campo troppo lungo).",
            [{"line": 1, "column": None, "reason": "intestazione CSV malformata", "value": None}],
        ) from None
    header = [h.strip() for h in header]
    columns: dict[str, str] = dict(layout.columns or {})
    by_header = {h.lower(): i for i, h in enumerate(header)}
    wanted = {f: h.strip().lower() for f, h in columns.items()}
    missing = [f for f in REQUIRED_FIELDS if f not in wanted or wanted[f] not in by_header]
    if missing:
        raise FlowRefused(
            "Intestazione non valida: mancano le colonne "
            + ", ".join(columns.get(f, f) for f in missing)
            + f" (tracciato «{layout.name}»).",
            [
                {
                    "line": 1,
                    "column": columns.get(f, f),
                    "reason": "colonna obbligatoria mancante",
                    "value": None,
                }
                for f in missing
            ],
        )
    known = set(wanted.values())
    unknown = [h for h in header if h.lower() not in known]
    if unknown and not layout.options.get("ignore_unknown_columns"):
        raise FlowRefused(
            "Intestazione non valida: colonne sconosciute: " + ", ".join(unknown) + ".",
            [{"line": 1, "column": h, "reason": "colonna sconosciuta", "value": None} for h in unknown],
        )
    index = {f: by_header[h] for f, h in wanted.items() if h in by_header}
    while True:
        number = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            # a quoted field left open, or longer than the csv module allows: the rest cannot be trusted
            yield number, {"__error__": "riga CSV malformata: virgolette non chiuse o campo troppo lungo"}
            return
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield number, {"__error__": f"{len(row)} campi invece di {len(header)}"}
            continue
        yield number, {f: row[i] for f, i in index.items()}


def _fixed_records(text: str, layout: LayoutSpec) -> Any:
    fields = layout.columns or []
    options = layout.options or {}
    rtype = options.get("record_type")
    length = int(options.get("record_length") or 0)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if rtype:
            kind = line[int(rtype["start"]) - 1 : int(rtype["start"]) - 1 + int(rtype["length"])]
            if kind in rtype.get("ignore", []):
                continue
            if kind != rtype["value"]:
                yield number, {"__error__": f"tipo record «{kind}» non previsto"}
                continue
        if length and len(line) != length:
            yield number, {"__error__": f"record di {len(line)} caratteri invece di {length}"}
            continue
        yield (
            number,
            {f["field"]: line[int(f["start"]) - 1 : int(f["start"]) - 1 + int(f["length"])] for f in fields},
        )


def _payment_from_values(
    line: int,
    values: dict[str, str],
    layout: LayoutSpec,
    errors: list[dict[str, Any]],
    warnings: list[dict[str, Any]],
    today: dt.date | None,
) -> ParsedPayment | None:
    if "__error__" in values:
        errors.append({"line": line, "column": None, "reason": values["__error__"], "value": None})
        return None
    before = len(errors)

    def fail(column: str, reason: str) -> None:
        errors.append(
            {"line": line, "column": column, "reason": reason, "value": (values.get(column) or "")[:200]}
        )

    def text(name: str) -> str:
        return (values.get(name) or "").strip()

    external_id = text("id_pagamento")
    if not external_id:
        fail("id_pagamento", "obbligatorio")
    elif len(external_id) > 80:
        fail("id_pagamento", "più di 80 caratteri")
    amount = paid = value = None
    try:
        amount = parse_amount(text("importo"), layout.decimal)
    except ValueError as exc:
        fail("importo", str(exc))
    try:
        paid = parse_date(text("data_pagamento"), layout.date_formats, today=today)
    except ValueError as exc:
        fail("data_pagamento", str(exc))
    if text("data_valuta") and text("data_valuta").strip("0"):
        try:
            value = parse_date(
                text("data_valuta"),
                layout.date_formats,
                today=today + dt.timedelta(days=10) if today else dt.date.today() + dt.timedelta(days=10),
            )
        except ValueError as exc:
            fail("data_valuta", str(exc))
    if len(errors) > before:
        return None
    assert amount is not None and paid is not None
    causale = text("causale")[:300] or None
    notice = text("codice_avviso").replace(" ", "") or None
    if notice is not None and not is_valid_notice(notice):
        warnings.append(
            {
                "line": line,
                "column": "codice_avviso",
                "value": notice,
                "reason": "codice avviso non valido (18 cifre, cifra ausiliaria 3, check digit): ignorato",
            }
        )
        notice = None
    if notice is None and causale:
        notice = notice_in_text(causale)
    cf = text("codice_fiscale").upper().replace(" ", "") or None
    if cf is not None:
        from app.taxpayers.identifiers import InvalidIdentifier, validate_codice_fiscale

        try:
            cf = validate_codice_fiscale(cf)
        except InvalidIdentifier as exc:
            warnings.append(
                {"line": line, "column": "codice_fiscale", "value": cf, "reason": f"{exc}: ignorato"}
            )
            cf = None
    channel = (text("canale") or layout.channel)[:30]
    return ParsedPayment(
        row_number=line,
        external_id=external_id,
        amount_cents=amount,
        paid_date=paid,
        value_date=value or paid,
        iuv=notice[1:] if notice else None,
        notice_number=notice,
        codice_fiscale=cf,
        causale=causale,
        channel=channel,
    )


# --- pagoPA FdR ------------------------------------------------------------------------------------------

_HOSTILE = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity", b"<xi:include", b"XInclude")


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


@cache
def fdr_schema(version: str) -> etree.XMLSchema:
    name = dict(FDR_SCHEMAS)[version]
    return etree.XMLSchema(etree.parse(str(XSD_DIR / name), _safe_parser()))


def parse_fdr(data: bytes, *, today: dt.date | None = None) -> ParsedFlow:
    """A pagoPA Flusso di Rendicontazione, validated against the XSD (1.0.5, else 1.0.4), with its declared
    totals checked against the rows (formats.md §2)."""
    head = data[:65536]
    if any(marker in head for marker in _HOSTILE) or b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise FlowRefused(
            "XML rifiutato: dichiarazioni DOCTYPE/ENTITY non ammesse in un flusso di rendicontazione."
        )
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if hasattr(exc, "lineno") else None
        raise FlowRefused(
            f"XML non valido (riga {line}): {exc.msg}",
            [{"line": line, "column": None, "reason": exc.msg, "value": None}],
        ) from None
    doc = root.getroottree()
    if doc.docinfo.doctype or doc.docinfo.internalDTD is not None:
        raise FlowRefused("XML rifiutato: DTD non ammesse.")
    versions = []
    problems: list[dict[str, Any]] = []
    for name, _ in FDR_SCHEMAS:
        schema = fdr_schema(name)
        if schema.validate(doc):
            versions.append(name)
        elif not problems:
            problems = [
                {"line": e.line, "column": None, "reason": e.message, "value": None} for e in schema.error_log
            ][:MAX_REPORTED_ERRORS]
    if not versions:
        first = problems[0] if problems else {"line": None, "reason": "documento non conforme"}
        raise FlowRefused(
            f"Il flusso non è conforme allo schema FlussoRiversamento 1.0.4/1.0.5 (riga "
            f"{first['line']}: {first['reason']}).",
            problems,
        )
    version = ",".join(sorted(versions))

    def one(parent: Any, path: str) -> str | None:
        found = parent.find(path, {"p": NS})
        return found.text.strip() if found is not None and found.text is not None else None

    errors: list[dict[str, Any]] = []
    flow_dt_text = one(root, "p:dataOraFlusso") or ""
    try:
        flow_dt = dt.datetime.fromisoformat(flow_dt_text.replace("Z", "+00:00"))
        if flow_dt.tzinfo is None:
            flow_dt = flow_dt.replace(tzinfo=ROME)
        flow_dt = flow_dt.astimezone(dt.UTC)
        check_date_range(flow_dt.astimezone(ROME).date(), today=today)
    except ValueError as exc:
        errors.append({"line": None, "column": "dataOraFlusso", "reason": str(exc), "value": flow_dt_text})
        flow_dt = dt.datetime.now(dt.UTC)
    regulation_date = _xml_date(one(root, "p:dataRegolamento"), "dataRegolamento", None, errors, today)
    payments: list[ParsedPayment] = []
    for element in root.iterfind("p:datiSingoliPagamenti", {"p": NS}):
        line = element.sourceline
        iuv, iur = (
            one(element, "p:identificativoUnivocoVersamento"),
            one(element, "p:identificativoUnivocoRiscossione"),
        )
        index_text = one(element, "p:indiceDatiSingoloPagamento")
        index = int(index_text) if index_text else None
        amount = int(Decimal(one(element, "p:singoloImportoPagato") or "0") * 100)
        outcome = one(element, "p:codiceEsitoSingoloPagamento") or ""
        outcome_date = _xml_date(
            one(element, "p:dataEsitoSingoloPagamento"), "dataEsitoSingoloPagamento", line, errors, today
        )
        notice = notice_of_iuv(iuv)
        key = payment_key(iur or "", index)
        payments.append(
            ParsedPayment(
                row_number=line or 0,
                external_id=key,
                amount_cents=amount,
                paid_date=outcome_date or dt.date.today(),
                value_date=regulation_date,
                iuv=iuv,
                notice_number=notice,
                iur=iur,
                transfer_index=index,
                outcome_code=outcome,
                channel="pagopa",
            )
        )
    declared_count = int(Decimal(one(root, "p:numeroTotalePagamenti") or "0"))
    declared_total = int(Decimal(one(root, "p:importoTotalePagamenti") or "0") * 100)
    computed_total = sum(p.amount_cents for p in payments)
    if declared_count != len(payments) or declared_total != computed_total:
        errors.append(
            {
                "line": None,
                "column": "numeroTotalePagamenti/importoTotalePagamenti",
                "reason": f"totali dichiarati ({_count_it(declared_count)}, {format_eur(declared_total)}) "
                f"diversi dalle righe ({_count_it(len(payments))}, {format_eur(computed_total)})",
                "value": None,
            }
        )
    unique, duplicates = split_repeated_iur(payments, "riga")
    if errors:
        first = errors[0]
        raise FlowRefused(f"Flusso rifiutato: {first['column']}: {first['reason']}.", errors)
    sender = (
        one(root, "p:istitutoMittente/p:identificativoUnivocoMittente/p:codiceIdentificativoUnivoco") or ""
    )
    sender_type = one(root, "p:istitutoMittente/p:identificativoUnivocoMittente/p:tipoIdentificativoUnivoco")
    return ParsedFlow(
        source="pagopa",
        identifier=one(root, "p:identificativoFlusso") or "",
        sender=sender,
        sender_name=one(root, "p:istitutoMittente/p:denominazioneMittente") or f"{sender_type}:{sender}",
        flow_dt=flow_dt,
        sha256=sha256_of(data),
        payments=unique,
        duplicates_in_file=duplicates,
        regulation_ref=one(root, "p:identificativoUnivocoRegolamento"),
        regulation_date=regulation_date,
        bic=one(root, "p:codiceBicBancaDiRiversamento"),
        schema_version=version,
        receiver_code=one(
            root, "p:istitutoRicevente/p:identificativoUnivocoRicevente/p:codiceIdentificativoUnivoco"
        ),
        receiver_name=one(root, "p:istitutoRicevente/p:denominazioneRicevente"),
        declared_count=declared_count,
        declared_total_cents=declared_total,
        encoding="xml",
    )


def _xml_date(
    text: str | None, column: str, line: int | None, errors: list[dict[str, Any]], today: dt.date | None
) -> dt.date | None:
    try:
        day = dt.date.fromisoformat((text or "")[:10])
        check_date_range(day, today=today)
        return day
    except ValueError as exc:
        errors.append({"line": line, "column": column, "reason": str(exc), "value": text})
        return None


def split_repeated_iur(
    payments: list[ParsedPayment], unit: str
) -> tuple[list[ParsedPayment], list[dict[str, Any]]]:
    """The payments of one flow without the repeats of a key (IUR key, revocation or not), and the repeats as
    duplicate rows naming the first occurrence (`unit`: "riga" of a file, "pagamento" of an FdR REST flow)."""
    unique: list[ParsedPayment] = []
    duplicates: list[dict[str, Any]] = []
    first: dict[tuple[str, bool], int] = {}
    for p in payments:
        key = (p.external_id, p.outcome_code == "3")
        if key in first:
            duplicates.append(
                {
                    "line": p.row_number,
                    "key": p.external_id,
                    "amount_cents": p.amount_cents,
                    "reason": f"IUR ripetuto nel flusso ({unit} {first[key]})",
                }
            )
            continue
        first[key] = p.row_number
        unique.append(p)
    return unique, duplicates


def notice_of_iuv(iuv: str | None) -> str | None:
    """The codice avviso of a pagoPA IUV (aux digit 3, formats.md §3) when the IUV is valid, else None."""
    if iuv and len(iuv) == 17 and iuv.isdigit() and is_valid_notice("3" + iuv):
        return "3" + iuv
    return None


def payment_key(iur: str, transfer_index: int | None) -> str:
    """The key of a pagoPA payment among its source's: the IUR, plus "#index" for the 2nd-5th transfer of the
    same receipt. File and FdR REST use it alike, so a payment seen by both is one payment."""
    return f"{iur}#{transfer_index}" if transfer_index is not None and transfer_index > 1 else iur


def _count_it(count: int) -> str:
    """"1 pagamento", "1.234 pagamenti": Italian digits and the right plural."""
    return f"{format_int(count)} {'pagamento' if count == 1 else 'pagamenti'}"
