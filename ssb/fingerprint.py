"""Content fingerprints for cache keys: data files, model weights and external checkpoints.

A key that hashes only configs returns stale results when a data file or a backbone's weights change under
the same config. These digests join the keys of everything downstream. A file's sha256 is computed once and
remembered by (path, size, mtime) in ``<store>/sha256-cache.json``, so a warm run hashes nothing new.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .artifacts import MANIFEST, file_sha256


def file_digest(path: Path, cache_root: Path | None = None) -> str:
    """sha256 of a file, remembered by (resolved path, size, mtime_ns) under ``cache_root``."""
    path = Path(path).resolve()
    stat = path.stat()
    entry = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
    cache_file = cache_root / "sha256-cache.json" if cache_root is not None else None
    cache: dict[str, str] = {}
    if cache_file is not None and cache_file.is_file():
        try:
            cache = json.loads(cache_file.read_text())
        except (json.JSONDecodeError, OSError):
            cache = {}  # a damaged cache is only a lost speed-up
    if entry in cache:
        return cache[entry]
    digest = file_sha256(path)
    if cache_file is not None:
        cache[entry] = digest
        try:
            cache_root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=cache_root, prefix=".sha256-cache.")
            with os.fdopen(fd, "w") as handle:
                json.dump(cache, handle)
            os.replace(tmp, cache_file)  # atomic: concurrent runs never read half a file
        except OSError:
            pass  # a read-only store still works, it only hashes again next time
    return digest


def data_digest(section: Any, data_dir: Path | None, cache_root: Path | None = None) -> str:
    """What a ``[corpus]`` or ``[fewrel]`` section reads: the local file's sha256, or the hub dataset's name."""
    from .data import local_file
    from .data.common import reads_hub

    if reads_hub(section, data_dir):
        return f"hub:{section.hub_name}:{getattr(section, 'hub_config', '')}"
    path = local_file(data_dir, section.path, what=f"data file of [{type(section).__name__}]", hub=section.hub_name)
    return file_digest(path, cache_root)


def weights_digest(folder: Path, cache_root: Path | None = None) -> str:
    """sha256 of a model folder's ``model.safetensors``: from its verified manifest when it has one."""
    manifest = folder / MANIFEST
    if manifest.is_file():
        files = json.loads(manifest.read_text()).get("files", {})
        if "model.safetensors" in files:
            return files["model.safetensors"]["sha256"]
    return file_digest(folder / "model.safetensors", cache_root)


def checkpoint_digest(folder: Path, cache_root: Path | None = None) -> str:
    """An external checkpoint's config, tokenizer and weights, all of which decide what it computes."""
    names = ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")
    parts = {name: file_digest(folder / name, cache_root) for name in names if (folder / name).is_file()}
    weights = sorted(folder.glob("*.safetensors"))
    parts.update({w.name: file_digest(w, cache_root) for w in weights})
    return json.dumps(parts, sort_keys=True)
