"""Compile a Typst template in a child process: ``python typst_render.py TEMPLATE [FONT_DIR...]``.

The ``sys.inputs.data`` JSON comes on stdin; the PDF goes to stdout; each compiler warning is a line of
JSON on stderr. Run as a script (by path, not ``-m``), it imports nothing from the application.

Why a child process: the typst package keeps its layout caches across compilations in the same process
(several hundred MB for a few thousand rows, retained for the next ten compilations), which a web worker
must not accumulate. The child returns all of it to the system when it exits.
"""

from __future__ import annotations

import json
import sys

import typst


def main(argv: list[str]) -> int:
    template, *font_paths = argv
    data = sys.stdin.buffer.read().decode("utf-8")
    pdf, warnings = typst.compile_with_warnings(template, sys_inputs={"data": data}, font_paths=font_paths)
    for warning in warnings:
        message = getattr(warning, "message", None) or str(warning)
        sys.stderr.write(json.dumps({"warning": message}) + "\n")
    sys.stdout.buffer.write(pdf)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
