"""Content-addressed artifact store: ``root/<kind>/<key>/`` with a manifest of sha256 hashes.

The key is the config hash of everything upstream of the artifact, so a second run with the same config
reuses it. An entry whose files no longer match their manifest (a truncated or edited file) is detected,
removed and rebuilt. Entries are built in a temporary folder of their own under a per-key lock and renamed
into place, so an interrupted build never leaves a half-written entry behind and two runs sharing a store
build each entry once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Hash every file under ``folder`` (but the manifest) and write ``manifest.json``."""
    files = {
        str(p.relative_to(folder)): {"sha256": file_sha256(p), "bytes": p.stat().st_size}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    manifest = {"files": files, "meta": meta or {}, "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def verify(folder: Path) -> str | None:
    """None if every file matches the manifest, else a sentence saying what is wrong."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return f"{folder}: no {MANIFEST}"
    try:
        manifest = json.loads(manifest_path.read_text())
        files = manifest["files"]
    except (json.JSONDecodeError, KeyError) as err:
        return f"{manifest_path}: unreadable manifest ({err})"
    for name, entry in files.items():
        path = folder / name
        if not path.is_file():
            return f"{path}: missing"
        if path.stat().st_size != entry["bytes"]:
            return f"{path}: {path.stat().st_size} bytes, manifest says {entry['bytes']}"
        if file_sha256(path) != entry["sha256"]:
            return f"{path}: sha256 differs from the manifest"
    return None


@contextlib.contextmanager
def _key_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (released by the OS if the process dies)."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class ArtifactStore:
    """``root`` is written; ``fallback`` (e.g. the committed reference store) is only read."""

    root: Path
    fallback: ArtifactStore | None = None
    read_only: bool = False  # a damaged entry is then ignored (with a warning), never removed

    def path(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    def work_dir(self, kind: str, key: str) -> Path:
        """A persistent scratch folder for a build in progress (training checkpoints live here)."""
        path = self.root / kind / f"{key}.partial"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def lookup(self, kind: str, key: str) -> Path | None:
        """The entry's folder if it exists and verifies; a corrupted entry is removed (with a warning)."""
        folder = self.path(kind, key)

        def fallback():
            return self.fallback.lookup(kind, key) if self.fallback is not None else None

        if not folder.exists():
            return fallback()
        problem = verify(folder)
        if problem is None:
            return folder
        if self.read_only:
            warnings.warn(f"committed artifact {kind}/{key} is damaged and is ignored: {problem}", stacklevel=2)
            return fallback()
        warnings.warn(f"artifact {kind}/{key} is corrupted and will be rebuilt: {problem}", stacklevel=2)
        shutil.rmtree(folder)
        return None

    def build(
        self, kind: str, key: str, builder: Callable[[Path], dict[str, Any] | None], *, force: bool = False
    ) -> tuple[Path, bool]:
        """Return ``(folder, reused)``: the verified entry, or one made by ``builder(tmp_folder)``.

        ``builder`` writes its files into the folder it is given and may return metadata for the manifest.
        Safe under concurrency: a build holds a lock on the key (a second process waits, then reuses the
        entry), writes into a temporary folder of its own and renames it into place; temporaries left by a
        killed build are swept while the lock is held.
        """
        if not force and (found := self.lookup(kind, key)) is not None:
            return found, True
        target = self.path(kind, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with _key_lock(target.with_name(f"{key}.lock")):
            if not force and (found := self.lookup(kind, key)) is not None:
                return found, True  # another process built it while this one waited
            for stale in target.parent.glob(f"{key}.tmp*"):
                shutil.rmtree(stale, ignore_errors=True)
            tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{key}.tmp-"))
            try:
                meta = builder(tmp) or {}
                write_manifest(tmp, {"kind": kind, "key": key, **meta})
                if target.exists():
                    shutil.rmtree(target)
                tmp.rename(target)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            shutil.rmtree(target.with_name(f"{key}.partial"), ignore_errors=True)
        return target, False

    def meta(self, kind: str, key: str) -> dict[str, Any]:
        folder = self.lookup(kind, key)
        if folder is None:
            raise KeyError(f"no artifact {kind}/{key}")
        return json.loads((folder / MANIFEST).read_text())["meta"]
