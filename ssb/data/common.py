"""Shared by the loaders: the data error, compressed text files, local files with a two-way hint, and when
the hub stands in for a missing data folder."""

from __future__ import annotations

import gzip
import lzma
import os
from pathlib import Path
from typing import IO, Any


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


def hub_offline() -> bool:
    """The Hugging Face hub is switched off here (``HF_HUB_OFFLINE``)."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover - installed with transformers
        return True
    return bool(constants.HF_HUB_OFFLINE)


def reads_hub(section: Any, data_dir: Path | None) -> bool:
    """A ``[corpus]`` or ``[fewrel]`` section reads the hub: it says so, or no data folder is set and the hub
    is not switched off (a user with network and no data folder needs no TOML edit; ``ssb data fetch`` writes
    the local layout once instead)."""
    return section.source == "hub" or (data_dir is None and not hub_offline())
