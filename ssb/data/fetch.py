"""``ssb data fetch``: the hub's Wikipedia paragraphs and FewRel written once into a data folder, in the
layout a profile reads (its ``corpus.path`` and ``fewrel.path``), each file's sha256 recorded.

A researcher without this project's data folder runs it once with network access and then works offline
with ``SSB_DATA_DIR`` pointing at the folder. The reading code is the loaders' own (``wikipedia`` streams
``corpus.hub_name``/``hub_config`` and splits articles into paragraphs; ``fewrel.read_hub`` converts
``fewrel.hub_name``'s ``train_wiki`` split to the official JSON format), so what is fetched is what a profile
with ``source = "hub"`` would read. A file already in the folder is kept as it is (its sha256 is recorded):
nothing of the user's is replaced.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Profile
from .common import DataError

RECORD = "FETCHED.json"  # what each fetched file is: its source, sha256 (uncompressed), bytes and records


@dataclass(frozen=True)
class Fetched:
    path: str  # relative to the data folder
    source: str
    sha256: str  # of the uncompressed content, as the project's data README gives it
    bytes: int  # uncompressed
    records: int  # paragraphs, or FewRel instances
    kept: bool  # the file was there already and was left as it is


def _write_xz(path: Path, chunks: Iterable[str]) -> tuple[str, int]:
    """Write text chunks xz-compressed to ``path`` (atomically: a temporary file renamed into place); the
    sha256 and size of the uncompressed text."""
    digest, size = hashlib.sha256(), 0
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        with lzma.open(tmp, "wb", preset=3) as handle:
            for chunk in chunks:
                raw = chunk.encode("utf-8")
                digest.update(raw)
                size += len(raw)
                handle.write(raw)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return digest.hexdigest(), size


def _uncompressed_sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    opener = lzma.open if path.suffix == ".xz" else open
    with opener(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _fetch_one(
    target: Path, path: str, source: str, produce: Callable[[], tuple[list[str], int]], say: Callable[[str], None]
) -> Fetched:
    """``target/path`` written from ``produce()`` (its text chunks and record count), or kept if it is there."""
    file = target / path
    if file.is_file():
        say(f"[ssb] {file}: already there, kept")
        return Fetched(path, "kept", *_uncompressed_sha256(file), records=-1, kept=True)
    chunks, records = produce()
    return Fetched(path, source, *_write_xz(file, chunks), records=records, kept=False)


def fetch_data(
    target: Path, profile: Profile, say: Callable[[str], None] = print, n_paragraphs: int | None = None
) -> list[Fetched]:
    """Write ``profile``'s corpus and FewRel files from the hub into ``target`` (``n_paragraphs``: how many
    paragraphs to stream, default what the profile's hub path reads); returns what was written or kept and
    records it in ``target/FETCHED.json``."""
    from .fewrel import read_hub
    from .wikipedia import _hub_paragraphs, hub_paragraphs_needed

    corpus, fewrel = profile.corpus, profile.fewrel
    for name, path, wanted in (("corpus.path", corpus.path, ".jsonl.xz"), ("fewrel.path", fewrel.path, ".json.xz")):
        if not path.endswith(wanted):
            raise DataError(
                f"profile field '{name}' = '{path}': ssb data fetch writes {wanted} files, which its loader reads "
                f"by that name; point the field at a {wanted} path"
            )
    if target.exists() and not target.is_dir():
        raise DataError(f"--dir {target} is a file; the data folder is a folder")
    target.mkdir(parents=True, exist_ok=True)

    def paragraphs() -> tuple[list[str], int]:
        needed = n_paragraphs or hub_paragraphs_needed(corpus)
        say(f"[ssb] streaming {needed:,} paragraphs of {corpus.hub_name} ({corpus.hub_config}) into {corpus.path}")
        texts = _hub_paragraphs(corpus, needed)
        return [json.dumps({"text": t}) + "\n" for t in texts], len(texts)

    def relations() -> tuple[list[str], int]:
        say(f"[ssb] reading FewRel's train_wiki from {fewrel.hub_name} into {fewrel.path}")
        data = read_hub(fewrel)
        return [json.dumps(data)], sum(len(v) for v in data.values())

    out = [
        _fetch_one(target, corpus.path, f"hub:{corpus.hub_name}:{corpus.hub_config}", paragraphs, say),
        _fetch_one(target, fewrel.path, f"hub:{fewrel.hub_name}:train_wiki", relations, say),
    ]

    record_file = target / RECORD
    previous: dict[str, Any] = {}
    if record_file.is_file():
        try:
            previous = json.loads(record_file.read_text())
        except json.JSONDecodeError:
            previous = {}
    for item in out:
        if not item.kept or item.path not in previous:
            previous[item.path] = {k: v for k, v in item.__dict__.items() if k not in ("path", "kept")}
    record_file.write_text(json.dumps(previous, indent=1))
    return out
