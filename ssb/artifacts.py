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
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``path`` through a temporary file beside it and a rename: readers see the old or the new text,
    never a part (a full disk leaves the old file as it was)."""
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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


def stored_key(folder: Path) -> str:
    """The key an entry was stored under (its manifest's; the folder's name may be re-keyed by its code)."""
    return json.loads((folder / MANIFEST).read_text())["meta"].get("key", folder.name)


# a file verified by this process is not hashed again while its stat is unchanged, if it was last written or
# changed this long before the verification: a later write then gives it another mtime and ctime even on a coarse
# file-system clock
SETTLED_NS = 2_000_000_000


def verify(folder: Path, verified: set[tuple] | None = None) -> str | None:
    """None if every file matches the manifest, else a sentence saying what is wrong.

    ``verified``: the files this process has already found matching (path, device, inode, size, mtime, ctime,
    sha256), which are not hashed again while they stand (a run reads an entry many times: a warm cpu run hashed
    1.9 GB in 1,164 calls for 258 files); a file verified here joins it once settled (``SETTLED_NS``)."""
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
        started_ns = time.time_ns()
        stat = path.stat()
        if stat.st_size != entry["bytes"]:
            return f"{path}: {stat.st_size} bytes, manifest says {entry['bytes']}"
        # ctime too: a copy that keeps the mtime (cp -p, rsync -a, touch -r) still changes it
        seen = (str(path), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, entry["sha256"])
        if verified is not None and seen in verified:
            continue
        if file_sha256(path) != entry["sha256"]:
            return f"{path}: sha256 differs from the manifest"
        if verified is not None and max(stat.st_mtime_ns, stat.st_ctime_ns) < started_ns - SETTLED_NS:
            verified.add(seen)
    return None


def notice(message: str) -> None:
    """One line of ssb's own on stderr (``[ssb] ...``): what a run found and did about it, with no source line."""
    print(f"[ssb] {message}", file=sys.stderr, flush=True)


class LockTimeout(RuntimeError):
    """Another process held an artifact's lock longer than the run was willing to wait."""


def _holder(path: Path) -> str:
    """Who holds the lock at ``path``, as its holder wrote it: ``pid N on HOST since TIME``."""
    try:
        info = json.loads(path.read_text() or "{}")
        return f"pid {info['pid']} on {info['host']} since {info['since']}"
    except (OSError, ValueError, KeyError):
        return "another process (it has not said which)"


# Why not the filelock package (issue #35, weighed 2026-12-07 against filelock 4.3.2's source): it gives the
# flock, timeout, polling and re-locking of a deleted file, but no holder identity and no removal on Unix, so
# the holder's pid/host/time, the waiting notice, LockTimeout and ``remove`` would stay ours; the port would
# replace ~20 lines of fcntl with a dependency pinned nowhere, whose internals differ between the versions
# installed here (4.0.8 on the package mirror, 4.3.2 in the environment).
@contextlib.contextmanager
def key_lock(
    path: Path, timeout_s: float = 3_600.0, poll_s: float = 0.5, what: str = "", remove: bool = False
) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (released by the OS if the process dies). The holder writes
    its pid, host and start time into the file; a process that has to wait says who it waits for (on
    stderr), and after ``timeout_s`` gives up with :class:`LockTimeout`, leaving the holder's work alone.
    ``remove``: the holder deletes the file before it lets go, and a process that then holds the lock of a
    file no longer at ``path`` takes it again on the new one (so no lock file is left behind and no two
    processes ever hold the lock of ``path`` at once)."""
    deadline = time.monotonic() + timeout_s
    while True:
        with _locked(path, deadline, timeout_s, poll_s, what) as handle:
            if remove and not _is_current(handle, path):
                continue  # its holder removed the file while this process waited on it: lock the new one
            try:
                yield
            finally:
                if remove:
                    with contextlib.suppress(OSError):
                        path.unlink()
            return


def _is_current(handle, path: Path) -> bool:
    """The open lock file is still the file at ``path``."""
    try:
        return os.fstat(handle.fileno()).st_ino == path.stat().st_ino
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def _locked(path: Path, deadline: float, timeout_s: float, poll_s: float, what: str) -> Iterator[Any]:
    """``path`` opened and flock-ed (waiting until ``deadline``, ``timeout_s`` after the wait began), the
    holder's pid, host and time written."""
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(path)
            print(
                f"[ssb] waiting for {what or path.name}: being built by {holder} (lock {path}; "
                f"giving up after {timeout_s:g} s)",
                file=sys.stderr,
                flush=True,
            )
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeout(
                            f"gave up after {timeout_s:g} s waiting for {what or path.name}, which {holder} is "
                            f"building (lock {path}); its work is untouched: run again once it has finished, "
                            f"or raise runtime.lock_timeout_s / --lock-timeout"
                        ) from None
                    time.sleep(poll_s)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(
                json.dumps(
                    {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%dT%H:%M:%S")}
                )
            )
            handle.flush()
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class ArtifactStore:
    """``root`` is written; ``fallback`` (e.g. the committed reference store) is only read."""

    root: Path
    fallback: ArtifactStore | None = None
    read_only: bool = False  # a damaged entry is then ignored (with a notice), never removed
    lock_timeout_s: float = 3_600.0  # how long a build waits for another process building the same key
    said: set[str] = field(default_factory=set, compare=False, repr=False)  # notices given once a store
    verified: set[tuple] = field(default_factory=set, compare=False, repr=False)  # files verified (verify)

    def _say_once(self, topic: str, message: str) -> None:
        if topic not in self.said:
            self.said.add(topic)
            notice(message)

    def entry_key(self, kind: str, key: str) -> str:
        """The folder name of ``kind/key``: ``key`` while the code that builds ``kind`` is as recorded
        (``ssb/codekeys.py``), else ``key`` joined with what changed, so other code never reads this entry."""
        from .codekeys import code_tag

        tag = code_tag(kind)
        if tag is None:
            return key
        from .config import config_hash

        return config_hash(key, "code", tag)

    def path(self, kind: str, key: str) -> Path:
        return self.root / kind / self.entry_key(kind, key)

    def work_dir(self, kind: str, key: str) -> Path:
        """A persistent scratch folder for a build in progress (training checkpoints live here)."""
        path = self.root / kind / f"{self.entry_key(kind, key)}.partial"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def lookup(self, kind: str, key: str) -> Path | None:
        """The entry's folder if it exists and verifies; a corrupted entry is removed (with a notice)."""
        folder = self.path(kind, key)

        def fallback():
            return self.fallback.lookup(kind, key) if self.fallback is not None else None

        if not folder.exists():
            if self.read_only and folder.name != key and (folder.parent / key).is_dir():
                why = "the code that builds them differs from ssb/codekeys.json (python -m ssb.codekeys says what)"
                self._say_once(kind, f"committed {kind} entries are not used here: {why}; they are rebuilt")
            return fallback()
        problem = verify(folder, self.verified)
        if problem is None:
            return folder
        if self.read_only:
            notice(f"committed artifact {kind}/{key} is damaged and is ignored: {problem}")
            return fallback()
        notice(f"artifact {kind}/{key} is corrupted and will be rebuilt: {problem}")
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
        from .codekeys import code_tag

        if not force and (found := self.lookup(kind, key)) is not None:
            return found, True
        target = self.path(kind, key)
        entry = target.name  # the key, or the key re-keyed by the code that builds it
        target.parent.mkdir(parents=True, exist_ok=True)
        with key_lock(target.with_name(f"{entry}.lock"), self.lock_timeout_s, what=f"{kind}/{entry}"):
            if not force and (found := self.lookup(kind, key)) is not None:
                return found, True  # another process built it while this one waited
            for stale in target.parent.glob(f"{entry}.tmp*"):
                shutil.rmtree(stale, ignore_errors=True)
            tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{entry}.tmp-"))
            try:
                started = time.monotonic()
                meta = builder(tmp) or {}
                # how long the build took (what it waited for built inside included): the cold run's costs
                meta = {"kind": kind, "key": key, **meta, "build_s": round(time.monotonic() - started, 2)}
                if entry != key:  # built by code other than the recorded (ssb/codekeys.py): say so
                    meta["code"] = json.loads(code_tag(kind))
                write_manifest(tmp, meta)
                if target.exists():
                    shutil.rmtree(target)
                tmp.rename(target)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            shutil.rmtree(target.with_name(f"{entry}.partial"), ignore_errors=True)
        return target, False

    def meta(self, kind: str, key: str) -> dict[str, Any]:
        folder = self.lookup(kind, key)
        if folder is None:
            raise KeyError(f"no artifact {kind}/{key}")
        return json.loads((folder / MANIFEST).read_text())["meta"]
