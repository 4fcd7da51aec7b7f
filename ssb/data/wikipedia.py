"""Wikipedia paragraphs for MLM pre-training and token-probe evaluation.

Local formats, chosen by file name (optionally ``.xz``/``.gz`` compressed):
- ``*.jsonl``: JSON lines with a ``"text"`` field (``wikipedia/enwiki_paragraphs.jsonl.xz``);
- ``*.raw`` / ``*.tokens``: WikiText, one paragraph per line, `` = Heading = `` lines skipped;
- ``*.txt``: plain text, one paragraph per non-empty line.
Hub: ``wikimedia/wikipedia`` (config ``20231101.en``), articles split into paragraphs, first N taken.
"""

from __future__ import annotations

import functools
import json
import lzma
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import CorpusConfig
from .common import DataError, local_file, open_text, reads_hub

_WIKITEXT_HEADING = re.compile(r"^\s*=+ .* =+\s*$")


@dataclass(frozen=True)
class Paragraphs:
    train: list[str]
    valid: list[str]
    source: str  # the file or hub dataset they came from


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".xz", ".gz"):
        name = name.removesuffix(suffix)
    return name


def read_paragraphs(path: Path) -> list[str]:
    """Every paragraph of a local file, in file order.

    A process reads a file once: the paragraphs are kept for the file's path, inode, size, mtime and ctime (a
    file rewritten since is read again). Decompressing and parsing the 14.8 MB corpus takes 3-5 s on two cores,
    and the tokenizer's build, each resolver and each of a benchmark's stages asked for it anew."""
    path = Path(path)
    if not _stem(path).endswith((".jsonl", ".raw", ".tokens", ".txt")):
        raise DataError(f"{path}: unknown corpus format; use .jsonl, .raw, .tokens or .txt (optionally .xz/.gz)")
    try:
        stat = path.stat()
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err})") from err
    version = (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    return list(_read_once(str(path.resolve()), version))


@functools.lru_cache(maxsize=2)
def _read_once(path: str, version: tuple[int, int, int, int]) -> tuple[str, ...]:
    """The paragraphs of ``path`` as it was at ``version`` (inode, size, mtime, ctime); only the path is read."""
    return tuple(_read(Path(path)))


def _read(path: Path) -> list[str]:
    stem = _stem(path)
    out: list[str] = []
    try:
        with open_text(path) as handle:
            if stem.endswith(".jsonl"):
                for number, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError as err:
                        raise DataError(f"{path}: record {number} is not valid JSON ({err.msg})") from err
                    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                        raise DataError(f"{path}: record {number} has no string field 'text'")
                    out.append(record["text"].strip())
            else:
                wikitext = not stem.endswith(".txt")
                for line in handle:
                    text = line.strip()
                    if text and not (wikitext and _WIKITEXT_HEADING.match(line)):
                        out.append(text)
    except (OSError, EOFError, UnicodeDecodeError, lzma.LZMAError) as err:
        raise DataError(f"{path}: cannot be read ({err})") from err
    return out


def hub_paragraphs_needed(cfg: CorpusConfig) -> int:
    """Paragraphs streamed from the hub: twice what a profile selects (short ones are filtered out)."""
    return 2 * (cfg.n_train + cfg.n_valid)


def _hub_paragraphs(cfg: CorpusConfig, needed: int) -> list[str]:
    try:
        import datasets

        stream = datasets.load_dataset(cfg.hub_name, cfg.hub_config, split="train", streaming=True)
        out: list[str] = []
        for article in stream:
            out.extend(p.strip() for p in article["text"].split("\n") if p.strip())
            if len(out) >= needed:
                break
        return out
    except Exception as err:  # offline, or no such dataset
        raise DataError(
            f"corpus: could not load {cfg.hub_name}/{cfg.hub_config} from the hub ({type(err).__name__}: {err}). "
            f"Provide it either (1) locally: set SSB_DATA_DIR (or --data-dir) to a folder holding '{cfg.path}' "
            f'and corpus.source = "local", or (2) from the hub with network access.'
        ) from err


def select(paragraphs: list[str], cfg: CorpusConfig, source: str) -> Paragraphs:
    """Filter short paragraphs, shuffle with ``cfg.seed`` and take disjoint validation and train sets."""
    usable = [p for p in paragraphs if len(p.split()) >= cfg.min_words]
    if len(usable) < cfg.n_valid + 1:
        raise DataError(f"{source}: only {len(usable)} paragraphs of at least {cfg.min_words} words")
    order = np.random.default_rng(cfg.seed).permutation(len(usable))
    valid = [usable[i] for i in order[: cfg.n_valid]]
    train = [usable[i] for i in order[cfg.n_valid : cfg.n_valid + cfg.n_train]]
    return Paragraphs(train=train, valid=valid, source=source)


def load_paragraphs(cfg: CorpusConfig, data_dir: Path | None) -> Paragraphs:
    """Train and validation paragraphs as the profile's ``[corpus]`` section asks."""
    if reads_hub(cfg, data_dir):
        # stream a margin beyond what is needed, since short paragraphs are filtered out
        return select(_hub_paragraphs(cfg, hub_paragraphs_needed(cfg)), cfg, f"hub:{cfg.hub_name}")
    path = local_file(data_dir, cfg.path, what="Wikipedia corpus", hub=f"{cfg.hub_name}, {cfg.hub_config}")
    return select(read_paragraphs(path), cfg, str(path))
