"""Where data and artifacts live: ``--data-dir`` / ``SSB_DATA_DIR`` and ``SSB_CACHE_DIR``. No path is baked in."""

from __future__ import annotations

import os
import re
from pathlib import Path


def data_dir(explicit: str | Path | None = None) -> Path | None:
    """The local data folder: the explicit argument, else ``SSB_DATA_DIR``, else None (hub only)."""
    value = explicit if explicit is not None else os.environ.get("SSB_DATA_DIR")
    return Path(value).expanduser().resolve() if value else None


def cache_root(explicit: str | Path | None = None) -> Path:
    """Where the artifact store is (the explicit argument, ``SSB_CACHE_DIR`` or the user's cache folder),
    without looking at it."""
    value = explicit if explicit is not None else os.environ.get("SSB_CACHE_DIR")
    if value:
        return Path(value).expanduser().resolve()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ssb"


def cache_dir(explicit: str | Path | None = None) -> Path:
    """The artifact store: the explicit argument, else ``SSB_CACHE_DIR``, else the user's cache folder; a
    path that is a file is refused (ConfigError) before anything is built."""
    root = cache_root(explicit)
    from .config import ConfigError

    if root.exists() and not root.is_dir():
        raise ConfigError(f"--cache-dir / SSB_CACHE_DIR {root} is a file; the artifact store is a folder")
    if foreign := foreign_entries(root):
        shown = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
        raise ConfigError(
            f"--cache-dir / SSB_CACHE_DIR {root} holds {shown}, which are not an ssb artifact store's; the store "
            f"writes and removes entries in its folder: name a new or empty folder, or an earlier store"
        )
    return root


STORE_KEY = re.compile(r"[0-9a-f]{16}([.-].*)?")  # an entry, or its .lock / .partial / .tmp-* siblings
STORE_FILES = ("sha256-cache.json",)


def foreign_entries(root: Path) -> list[str]:
    """What in ``root`` is not an artifact store's: a store holds kind folders of keyed entries (and their
    locks, partial builds and temporaries), ``sha256-cache.json`` and hidden temporaries."""
    if not root.is_dir():
        return []
    foreign = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or (entry.is_file() and entry.name in STORE_FILES):
            continue
        if not entry.is_dir() or any(
            not (child.name.startswith(".") or STORE_KEY.fullmatch(child.name)) for child in entry.iterdir()
        ):
            foreign.append(entry.name)
    return foreign


def refuse_other_files(out: Path, keeps: tuple[str, ...], what: str, error: type[Exception]) -> Path:
    """``out``, unless it is a file or a folder holding anything but the files ``keeps`` of an earlier ``what``
    (an analysis, a comparison): those are replaced, nothing else is ever touched; else ``error`` in one line."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise error(f"--out {out} is a file; {what} is written into a folder")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in keeps or not p.is_file())
        if foreign:
            raise error(
                f"--out {out} holds {', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}, which are not an "
                f"earlier {what.split(' ', 1)[1]}'s ({', '.join(keeps)}): name a new or empty folder"
            )
    return out
