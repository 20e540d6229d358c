"""Typst rendering of acts: the layout prelude (templates/atti/layout.typ) + the template's text (a database
row) + the pagoPA notice pages (templates/atti/notice.typ), with the data as JSON and the QR codes (segno) and
Poste data matrix (zxing-cpp) as SVG inputs (the project's pattern: app/payments/receipts.py).

A compiled template is kept per process (`typst.Compiler` reused: about 9 ms a page instead of 22 ms).
A template that does not compile raises `TemplateError` with Typst's message and the line of the template's
own text."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.positions.notice_view import qr_payload, qr_svg

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "atti"
LAYOUT = (TEMPLATES / "layout.typ").read_text(encoding="utf-8")
NOTICE = (TEMPLATES / "notice.typ").read_text(encoding="utf-8")
PRELUDE_LINES = LAYOUT.count("\n") + 1  # the template's text starts on this line + 1 of the whole source


class TemplateError(Exception):
    """The template's text does not compile: Typst's message and the line of the text (1-based) when known."""

    def __init__(self, message: str, line: int | None) -> None:
        self.message = message
        self.line = line
        super().__init__(self.message_it)

    @property
    def message_it(self) -> str:
        where = f" (riga {self.line})" if self.line else ""
        return f"Il modello non si compila{where}: {self.message}"


def full_source(text: str) -> str:
    return f"{LAYOUT}\n{text}\n{NOTICE}"


_COMPILERS: OrderedDict[str, Any] = OrderedDict()


def _font_paths() -> list[str]:
    from app.reports.export_formats.pdf_writer import FONT_DIRS

    return [str(p) for p in FONT_DIRS]


def _compiler(text: str) -> Any:
    import typst

    compiler = _COMPILERS.get(text)
    if compiler is None:
        # a Compiler made from bytes compiles once only (typst 0.15: "file not found" the second time): the
        # source goes to a file named by its hash, in a private temporary folder
        compiler = typst.Compiler(str(_source_file(text)), font_paths=_font_paths())
        _COMPILERS[text] = compiler
        while len(_COMPILERS) > 32:
            _COMPILERS.popitem(last=False)
    else:
        _COMPILERS.move_to_end(text)
    return compiler


def _source_file(text: str) -> Path:
    source = full_source(text).encode("utf-8")
    folder = Path(tempfile.gettempdir()) / f"esattoria-atti-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{hashlib.sha256(source).hexdigest()}.typ"
    if not path.exists():
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(source)
        os.replace(partial, path)
    return path


_LINE = re.compile(r"\.typ:(\d+):\d+")


def _error_line(exc: Exception, text: str) -> int | None:
    """The line of the template's text an error points at (the prelude's lines subtracted), if Typst says
    (its diagnostic reads `file.typ:<line>:<column>`)."""
    for part in (getattr(exc, "diagnostic", None), str(exc), *(getattr(exc, "trace", None) or [])):
        match = _LINE.search(str(part or ""))
        if match:
            line = int(match.group(1)) - PRELUDE_LINES
            return line if 1 <= line <= text.count("\n") + 1 else None
    return None


@dataclass(frozen=True, slots=True)
class Rendered:
    pdf: bytes
    pages: int


def sys_inputs(data: dict[str, Any]) -> dict[str, str]:
    """The Typst inputs of an act: its data as JSON, one QR per notice, a data matrix per notice with a postal
    account."""
    inputs = {"data": json.dumps(data, ensure_ascii=False)}
    for i, notice in enumerate(data.get("notices", [])):
        inputs[f"qr{i}"] = qr_svg(notice["qr_payload"])
        if notice.get("datamatrix"):
            inputs[f"dm{i}"] = datamatrix_svg(notice["datamatrix"])
    return inputs


def datamatrix_svg(payload: str) -> str:
    import zxingcpp

    barcode = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.DataMatrix)
    return str(barcode.to_svg())


def render(text: str, data: dict[str, Any]) -> Rendered:
    """The act's PDF (bytes) from the template's text and the act's data; TemplateError when it fails."""
    import typst

    try:
        pdf = _compiler(text).compile(sys_inputs=sys_inputs(data))
    except typst.TypstError as exc:
        _COMPILERS.pop(text, None)
        raise TemplateError(getattr(exc, "message", None) or str(exc), _error_line(exc, text)) from None
    return Rendered(pdf=pdf, pages=pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") or 1)


def check(text: str, data: dict[str, Any]) -> None:
    """Compile `text` on `data` (a sample position): TemplateError when it fails."""
    render(text, data)


def pagopa_qr(notice_number: str, ente_cf: str, cents: int) -> str:
    return qr_payload(notice_number, ente_cf, cents)


def poste_datamatrix(notice_number: str, postal_account: str, cents: int, ente_cf: str, debtor_cf: str,
                     debtor_name: str, causale: str) -> str:
    """The Poste data matrix of the Bollettino Postale PA (domain.md §6.3, as PagoPA's generator writes
    it)."""
    return ("codfase=NBPA;" + "18" + notice_number.zfill(18) + "12" + postal_account.zfill(12)
            + "10" + str(int(cents)).zfill(10) + "3" + "896" + "1P1"
            + ente_cf.ljust(11)[:11] + debtor_cf.ljust(16)[:16] + debtor_name.ljust(40)[:40]
            + causale.ljust(110)[:110] + " " * 12 + "A")
