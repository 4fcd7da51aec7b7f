"""Shared by the loaders: the data error, compressed text files, and local files with a two-way hint."""

from __future__ import annotations

import gzip
import lzma
from pathlib import Path
from typing import IO


class DataError(RuntimeError):
    """Data is missing or malformed: the message names the file, the record and the field."""


def open_text(path: Path) -> IO[str]:
    """Open a text file, transparently decompressing ``.xz`` and ``.gz``."""
    if path.suffix == ".xz":
        return lzma.open(path, "rt", encoding="utf-8")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def local_file(data_dir: Path | None, relative: str, *, what: str, hub: str) -> Path:
    """The local file, or a DataError that names both ways to provide the data."""
    if data_dir is not None:
        path = data_dir / relative
        if path.is_file():
            return path
        where = f"{path} does not exist"
    else:
        where = "no data directory is set"
    raise DataError(
        f"{what}: {where}. Provide it either (1) locally: set SSB_DATA_DIR (or pass --data-dir) to a folder "
        f"holding '{relative}', or (2) from the Hugging Face hub ({hub}): set source = \"hub\" in the "
        f"profile and run with network access."
    )
