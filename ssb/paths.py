"""Where data and artifacts live: ``--data-dir`` / ``SSB_DATA_DIR`` and ``SSB_CACHE_DIR``. No path is baked in."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir(explicit: str | Path | None = None) -> Path | None:
    """The local data folder: the explicit argument, else ``SSB_DATA_DIR``, else None (hub only)."""
    value = explicit if explicit is not None else os.environ.get("SSB_DATA_DIR")
    return Path(value).expanduser().resolve() if value else None


def cache_dir(explicit: str | Path | None = None) -> Path:
    """The artifact store: the explicit argument, else ``SSB_CACHE_DIR``, else the user's cache folder; a
    path that is a file is refused (ConfigError) before anything is built."""
    value = explicit if explicit is not None else os.environ.get("SSB_CACHE_DIR")
    if value:
        root = Path(value).expanduser().resolve()
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ssb"
    if root.exists() and not root.is_dir():
        from .config import ConfigError

        raise ConfigError(f"--cache-dir / SSB_CACHE_DIR {root} is a file; the artifact store is a folder")
    return root
