"""Hand-built XLSX files whose shared strings table inflates far beyond the archive (issue 10, point 8), and
a subprocess that reads one with `open_xlsx` and reports its peak memory growth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from app.carichi.validation import FIELDS

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006"
CONTENT_TYPES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="{PKG}/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"""  # noqa: E501
ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PKG}/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"""  # noqa: E501
WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="Foglio1" sheetId="1" r:id="rId1"/></sheets></workbook>"""  # noqa: E501
WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PKG}/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>"""  # noqa: E501
TEXT_BYTES = 1024


def big_text(n: int) -> str:
    """~1 KB: a number that changes every string, then repeated letters (the archive compresses it ~50x, under
    the ratio limit, as in the file of the report: 6.4 MB inflating to 614 MB)."""
    return f"{n:08x}" + "A" * (TEXT_BYTES - 8)


def write_xlsx(path: Path, *, big_strings: int, rows: int = 1, zip64: bool = True) -> Path:
    """Header (shared strings 0..k-1) + `rows` data rows whose `descrizione` is big string i (index k+i)."""
    fields = FIELDS["carico"]
    k = len(fields)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        column = fields.index("descrizione")
        sheet = [f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData><row r="1">']
        sheet += [f'<c t="s"><v>{i}</v></c>' for i in range(k)]
        sheet.append("</row>")
        for r in range(rows):
            big = f'<c t="s"><v>{k + r % max(big_strings, 1)}</v></c>'
            cells = "".join(big if i == column else "<c/>" for i in range(k))
            sheet.append(f'<row r="{r + 2}">{cells}</row>')
        sheet.append("</sheetData></worksheet>")
        archive.writestr("xl/worksheets/sheet1.xml", "".join(sheet))
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=zip64) as member:
            member.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode())
            member.write("".join(f"<si><t>{f}</t></si>" for f in fields).encode())
            batch: list[str] = []
            for n in range(big_strings):
                batch.append(f"<si><t>{big_text(n)}</t></si>")
                if len(batch) == 1000:
                    member.write("".join(batch).encode())
                    batch = []
            member.write(("".join(batch) + "</sst>").encode())
    return path


def declare_size(path: Path, member: str, size: int) -> None:
    """Rewrite the uncompressed size the central directory declares for `member` (no zip64 archives): a lying
    archive, whose member inflates beyond what its directory says."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_length = int.from_bytes(data[at + 28 : at + 30], "little")
        if data[at + 46 : at + 46 + name_length] == name:
            data[at + 24 : at + 28] = size.to_bytes(4, "little")
            path.write_bytes(bytes(data))
            return
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{member} not in the central directory")


READER = r"""
import json, resource, sys
from decimal import Decimal

import lxml.etree, openpyxl  # noqa: F401 - imported before the baseline
from app.carichi.layouts import LayoutSpec
from app.carichi.reading import FileRefused, open_xlsx
from app.carichi.validation import FIELDS

spec = LayoutSpec(
    id=None, name="canonico-xlsx", flow="carico", format="xlsx", encoding="auto", separator="auto",
    decimal="auto", date_formats=("AAAA-MM-GG",), columns={f: f for f in FIELDS["carico"]}, fixed=(),
    options={}, default_entrata=None, max_error_rate=Decimal(5), ignore_unknown_columns=False,
)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {"rows": 0, "message": None, "last": None}
try:
    opened, rows = open_xlsx(sys.argv[1], spec)
    for line, values, problems in rows:
        out["rows"] += 1
        out["last"] = values[FIELDS["carico"].index("descrizione")][:8]
except FileRefused as exc:
    out["message"] = exc.message
out["growth_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024
print(json.dumps(out))
"""


def read_in_subprocess(path: Path) -> dict:
    """Read `path` with open_xlsx in a fresh interpreter: rows read, refusal message, peak RSS growth (MB)."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", READER, str(path)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
