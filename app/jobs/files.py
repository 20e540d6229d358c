"""The content-addressed file store of uploads (architecture.md: files by SHA-256 path, integrity re-checked).

A file lives at `<FILE_STORE>/<sha[0:2]>/<sha[2:4]>/<sha>`: the same content is stored once, a path can never
be overwritten with other content, and a reader re-computes the digest to prove the file is unchanged.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

BLOCK = 1 << 20
# Columns holding a path of this store carry this key in their `info` (see `app.jobs.services.purge_files`).
STORED_FILE = "stored_file"
_STORED_NAME = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}")
# Derived files cached next to the originals (the archive's first-page thumbnails): they go with them.
_DERIVED_NAME = re.compile(r"thumbs/[0-9a-f]{2}/([0-9a-f]{64})-[0-9]{1,5}\.png")


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    relative_path: str
    size: int


def store_stream(root: str | Path, stream: BinaryIO) -> StoredFile:
    """Copy `stream` into the store (hashing as it goes) and return where it is."""
    root = Path(root)
    incoming = root / "tmp"
    incoming.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(dir=incoming, delete=False) as out:
        try:
            for block in iter(lambda: stream.read(BLOCK), b""):
                digest.update(block)
                out.write(block)
                size += len(block)
        except BaseException:
            out.close()
            os.unlink(out.name)
            raise
    sha = digest.hexdigest()
    relative = f"{sha[:2]}/{sha[2:4]}/{sha}"
    final = root / relative
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        os.unlink(out.name)
    else:
        os.chmod(out.name, 0o640)
        os.replace(out.name, final)
    return StoredFile(sha, relative, size)


def store_bytes(root: str | Path, data: bytes) -> StoredFile:
    """`store_stream` of content already in memory (an act's PDF): hashed first, written only when new."""
    sha = hashlib.sha256(data).hexdigest()
    relative = f"{sha[:2]}/{sha[2:4]}/{sha}"
    final = Path(root) / relative
    if not final.exists():
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = final.with_name(f"{sha}.{os.getpid()}.tmp")
        partial.write_bytes(data)
        os.chmod(partial, 0o640)
        os.replace(partial, final)
    return StoredFile(sha, relative, len(data))


def store_path(root: str | Path, source: str | Path) -> StoredFile:
    with open(source, "rb") as stream:
        return store_stream(root, stream)


def path_of(root: str | Path, relative: str) -> Path:
    """The absolute path of a stored file; refuses anything outside the store."""
    base = Path(root).resolve()
    path = (base / relative).resolve()
    if base not in path.parents:
        raise ValueError(f"path outside the file store: {relative!r}")
    return path


def copy_out(root: str | Path, relative: str, target: str | Path) -> None:
    """Copy a stored file out of the store (e.g. to a path given on the command line)."""
    shutil.copyfile(path_of(root, relative), target)


def stored_files(root: str | Path) -> Iterator[tuple[str, float]]:
    """Every file of the store as (relative path, modification time); partial uploads of `tmp/` and derived
    files (thumbnails) included."""
    base = Path(root)
    if not base.is_dir():
        return
    for path in base.rglob("*"):
        if path.is_file():
            relative = path.relative_to(base).as_posix()
            named = _STORED_NAME.fullmatch(relative) or _DERIVED_NAME.fullmatch(relative)
            if named or relative.startswith("tmp/"):
                yield relative, path.stat().st_mtime


def derived_from(relative: str) -> str | None:
    """The stored original a cached derivative (a thumbnail) was made from, or None for any other file."""
    found = _DERIVED_NAME.fullmatch(relative)
    if found is None:
        return None
    sha = found.group(1)
    return f"{sha[:2]}/{sha[2:4]}/{sha}"


def remove(root: str | Path, relative: str) -> None:
    path_of(root, relative).unlink(missing_ok=True)
