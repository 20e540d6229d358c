"""The writers stream: 200,000 rows, generated lazily, go through CSV and XLSX with a flat memory profile.

Each format runs in its own Python process (both at once), which reports its peak resident memory
(``ru_maxrss``) before and after the big export. A child process measures real memory, C allocations
included (zlib, lxml), without tracemalloc's slowdown and without the noise of what the test session
has already allocated.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROWS = 200_000
MAX_GROWTH_MB = 50
PROJECT_ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, resource, sys
from datetime import date, timedelta
from app.reports.exports import Column, ExportSpec, write_export

fmt, count = sys.argv[1], int(sys.argv[2])
spec = ExportSpec(
    "Memoria",
    [
        Column("code", "Codice"),
        Column("name", "Contribuente"),
        Column("amount", "Importo", "money"),
        Column("due", "Scadenza", "date"),
    ],
    "memoria",
    totals=["amount"],
)

def rows(n):
    for i in range(n):
        yield {
            "code": f"POS-{i:08d}",
            "name": f"Contribuente àèìòù n. {i} ; \\"virgolette\\" <&>",
            "amount": i * 1237 - 500_000,
            "due": date(2025, 1, 1) + timedelta(days=i % 1000),
        }

def export(n):
    size = 0
    for chunk in write_export(rows(n), spec, fmt):
        size += len(chunk)
    return size

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

export(2_000)  # warm up: imports, caches, first temporary files
baseline = peak_mb()
size = export(count)
print(json.dumps({"baseline_mb": baseline, "peak_mb": peak_mb(), "bytes": size}))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="resource.getrusage is POSIX only")
def test_csv_and_xlsx_stream_200k_rows_in_flat_memory():
    children = {
        fmt: subprocess.Popen(
            [sys.executable, "-c", CHILD, fmt, str(ROWS)],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for fmt in ("csv", "xlsx")
    }
    results = {}
    for fmt, child in children.items():
        stdout, stderr = child.communicate(timeout=240)
        assert child.returncode == 0, stderr.decode()
        results[fmt] = json.loads(stdout)
    for fmt, result in results.items():
        growth = result["peak_mb"] - result["baseline_mb"]
        assert growth < MAX_GROWTH_MB, (
            f"{fmt}: peak memory grew by {growth:.1f} MB over {ROWS} rows: {result}"
        )
    assert results["csv"]["bytes"] > ROWS * 80, "the CSV holds every row"
    assert results["xlsx"]["bytes"] > 1_000_000, "the XLSX holds every row"
