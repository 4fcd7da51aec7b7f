"""Shared fixtures: small data files written by the tests themselves (no dependence on ../shared)."""

from __future__ import annotations

import json
import lzma
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=60, deadline=None)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci")

WORDS = (
    "the cat sat on a mat while the dog ran in the park and a bird sang over the old house near "
    "river city of london paris is capital france england river thames seine flows through"
).split()


def _sentence(rng, n):
    return " ".join(WORDS[int(i)] for i in rng.integers(0, len(WORDS), n))


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """A data folder in the layout of ../shared/data: Wikipedia JSON lines (xz) and FewRel JSON (xz)."""
    import numpy as np

    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    (root / "wikipedia").mkdir()
    with lzma.open(root / "wikipedia" / "enwiki_paragraphs.jsonl.xz", "wt") as handle:
        for i in range(500):
            handle.write(
                json.dumps({"doc_id": str(i), "title": "t", "text": _sentence(rng, int(rng.integers(6, 40)))}) + "\n"
            )
    fewrel = {}
    for r in range(8):
        instances = []
        for _ in range(40):
            n = int(rng.integers(8, 20))
            tokens = _sentence(rng, n).split()
            h, t = sorted(rng.choice(n, 2, replace=False).tolist())
            tokens[h] = f"rel{r}"  # make the label learnable
            instances.append({"tokens": tokens, "h": ["x", "Q1", [[h]]], "t": ["y", "Q2", [[t]]]})
        fewrel[f"P{100 + r}"] = instances
    (root / "fewrel").mkdir()
    with lzma.open(root / "fewrel" / "train_wiki_partial_from_wiki80.json.xz", "wt") as handle:
        json.dump(fewrel, handle)
    return root


@pytest.fixture()
def committed_probe(tmp_path):
    """``(committed, user, entry)``: a read-only committed store holding one token probe (key
    ``0123456789abcdef``), a user's store that reads it as its fallback, and the entry's folder."""
    from ssb.artifacts import ArtifactStore, write_manifest

    committed = ArtifactStore(tmp_path / "committed", read_only=True)
    entry = committed.path("token-probe", "0123456789abcdef")
    entry.mkdir(parents=True)
    (entry / "head.safetensors").write_bytes(b"weights")
    write_manifest(entry)
    return committed, ArtifactStore(tmp_path / "user", fallback=committed), entry
