"""FewRel relation classification in its official JSON format, with a deterministic per-relation split.

The official format maps a relation id to a list of instances
``{"tokens": [...], "h": [name, wikidata_id, [[token indices], ...]], "t": [...]}``.
Local files (``fewrel/*.json``, optionally ``.xz``) or the HF hub (``thunlp/few_rel``) are read.
Each relation is shuffled with ``split_seed`` and split into test and train instances. When a relation has
fewer instances than ``n_train_per_relation + n_test_per_relation`` (the local partial training file holds
~171 per relation), the split keeps the configured test fraction.
"""

from __future__ import annotations

import json
import lzma
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import FewRelConfig
from .common import DataError, local_file, open_text, reads_hub


@dataclass(frozen=True)
class RelationInstance:
    tokens: tuple[str, ...]
    head: tuple[int, ...]  # token indices of the head entity's first mention
    tail: tuple[int, ...]
    label: int

    def marked_text(self) -> str:
        """The sentence with typed-free punctuation entity markers: ``@ head @`` and ``# tail #``.

        Punctuation markers need no new vocabulary entries, so any BERT tokenizer can read them.
        """
        out: list[str] = []
        h0, h1, t0, t1 = self.head[0], self.head[-1], self.tail[0], self.tail[-1]
        for i, token in enumerate(self.tokens):
            if i == h0:
                out.append("@")
            if i == t0:
                out.append("#")
            out.append(token)
            if i == h1:
                out.append("@")
            if i == t1:
                out.append("#")
        return " ".join(out)


@dataclass(frozen=True)
class FewRelSplit:
    train: list[RelationInstance]
    test: list[RelationInstance]
    relations: list[str]  # label index -> relation id
    source: str


def _entity(value: Any, where: str, n_tokens: int) -> tuple[int, ...]:
    if not (isinstance(value, list) and len(value) == 3 and isinstance(value[2], list) and value[2]):
        raise DataError(f"{where} must be [name, id, [[token indices], ...]], got {str(value)[:80]}")
    mention = value[2][0]
    if not (isinstance(mention, list) and mention and all(isinstance(i, int) for i in mention)):
        raise DataError(f"{where}[2][0] must be a non-empty list of token indices")
    if min(mention) < 0 or max(mention) >= n_tokens:
        raise DataError(f"{where}[2][0] has an index outside the sentence's {n_tokens} tokens")
    return tuple(sorted(mention))


def parse_fewrel(data: Any, source: str) -> dict[str, list[tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...]]]]:
    """Validate parsed official-format JSON; errors name the file, the record and the field."""
    if not isinstance(data, dict) or not data:
        raise DataError(f"{source}: expected a JSON object mapping relation ids to lists of instances")
    out = {}
    for relation, instances in data.items():
        if not isinstance(instances, list):
            raise DataError(f"{source}: relation '{relation}' must map to a list of instances")
        parsed = []
        for i, record in enumerate(instances):
            where = f"{source}: relation '{relation}', record {i}"
            if not isinstance(record, dict):
                raise DataError(f"{where} is not an object")
            for name in ("tokens", "h", "t"):
                if name not in record:
                    raise DataError(f"{where}: missing field '{name}'")
            tokens = record["tokens"]
            if not (isinstance(tokens, list) and tokens and all(isinstance(t, str) for t in tokens)):
                raise DataError(f"{where}: field 'tokens' must be a non-empty list of strings")
            head = _entity(record["h"], f"{where}: field 'h'", len(tokens))
            tail = _entity(record["t"], f"{where}: field 't'", len(tokens))
            parsed.append((tuple(tokens), head, tail))
        out[relation] = parsed
    return out


def _read_local(path: Path) -> dict[str, Any]:
    try:
        with open_text(path) as handle:
            return json.load(handle)
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from err
    except (OSError, EOFError, UnicodeDecodeError, lzma.LZMAError) as err:
        raise DataError(f"{path}: cannot be read ({err})") from err


def read_hub(cfg: FewRelConfig) -> dict[str, Any]:
    """FewRel's training relations from the hub (``fewrel.hub_name``, split ``train_wiki``) in the official format."""
    try:
        import datasets

        rows = datasets.load_dataset(cfg.hub_name, split="train_wiki")
    except Exception as err:
        raise DataError(
            f"FewRel: could not load {cfg.hub_name} from the hub ({type(err).__name__}: {err}). Provide it "
            f"either (1) locally: set SSB_DATA_DIR (or --data-dir) to a folder holding '{cfg.path}' and "
            f'fewrel.source = "local", or (2) from the hub with network access.'
        ) from err
    data: dict[str, list[Any]] = {}
    for row in rows:

        def entity(e):
            return [e["text"], e["type"], e["indices"]]

        data.setdefault(row["relation"], []).append(
            {"tokens": row["tokens"], "h": entity(row["head"]), "t": entity(row["tail"])}
        )
    return data


def split_relation(n: int, n_train: int, n_test: int) -> tuple[int, int]:
    """How many (train, test) instances a relation of ``n`` gives; keeps the test fraction when short."""
    if n >= n_train + n_test:
        return n_train, n_test
    test = max(1, math.floor(n * n_test / (n_train + n_test)))
    return n - test, test


def load_fewrel(cfg: FewRelConfig, data_dir: Path | None) -> FewRelSplit:
    if reads_hub(cfg, data_dir):
        raw, source = read_hub(cfg), f"hub:{cfg.hub_name}"
    else:
        path = local_file(data_dir, cfg.path, what="FewRel", hub=cfg.hub_name)
        raw, source = _read_local(path), str(path)
    relations = parse_fewrel(raw, source)
    names = sorted(relations)
    short = [name for name in names if len(relations[name]) < 2]
    if short:
        listed = ", ".join(f"{name} ({len(relations[name])})" for name in short)
        if not cfg.drop_short_relations:
            raise DataError(
                f"{source}: relation(s) {listed} have fewer than 2 instances, too few for a train and a "
                f"test sentence; remove them or set fewrel.drop_short_relations = true"
            )
        warnings.warn(f"{source}: dropping relation(s) {listed}: fewer than 2 instances", stacklevel=2)
        names = [name for name in names if name not in short]
    if cfg.n_relations:
        if cfg.n_relations > len(names):
            raise DataError(f"{source}: fewrel.n_relations = {cfg.n_relations} but the file has {len(names)}")
        names = names[: cfg.n_relations]
    if len(names) < 2:  # one label: every prediction is right and every FewRel check holds trivially
        raise DataError(f"{source}: {len(names)} usable relation(s); FewRel needs at least 2 labels")
    train, test = [], []
    for label, name in enumerate(names):
        instances = relations[name]
        order = np.random.default_rng([cfg.split_seed, label]).permutation(len(instances))
        n_train, n_test = split_relation(len(instances), cfg.n_train_per_relation, cfg.n_test_per_relation)
        chosen = [RelationInstance(*instances[i], label=label) for i in order]
        test += chosen[:n_test]
        train += chosen[n_test : n_test + n_train]
    return FewRelSplit(train=train, test=test, relations=names, source=source)
