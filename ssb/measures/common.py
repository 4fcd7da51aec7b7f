"""What the measures share: bootstrap groups over a sweep's subsets, curves, a system's FewRel record."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import systems
from ..estimate import Est, exact, means
from ..head_identity import pairwise_identity
from ..metrics import jaccard_pairs
from ..protocols import Experiments
from .registry import METRICS


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)  # one fixed stream per measure call: identical intervals run to run


def _head_sets(pl: Experiments, system: str) -> list[set[int]]:
    """Each head's recognised tokens on ``system``, heads in index order; only each head alone is swept (the
    groups of heads would be swept anew under another probe seed)."""
    return [set(r) for r in pl.head_table(system, only=("1",))["1"]["recognised"]]


def _identity(sets: list[list[set[int]]]) -> tuple[Est, Est]:
    """Head identity over two or more runs' head sets (``ssb.head_identity.pairwise_identity``): J(same head)
    - J(other heads) per head, averaged over the pairs, with a bootstrap over the heads; and the share of heads
    the best one-to-one matching keeps at their index (exact)."""
    per_head, matches = pairwise_identity(sets)  # [n_heads], share
    return means([{"identity": float(v)} for v in per_head], ["identity"], _rng())["identity"], exact(matches)


def _group(summary: dict[str, Any], rng: np.random.Generator) -> dict[str, Est]:
    """Means of the metrics over a group's subsets, with paired bootstrap replicates."""
    return means(summary["per_subset"], METRICS, rng)


def _points(sweep: dict[str, Any]) -> list[str]:
    return sorted((k for k, v in sweep.items() if isinstance(v, dict) and "per_subset" in v), key=int)


def _sweep_curves(sweep: dict[str, Any], rng: np.random.Generator) -> dict[str, dict[str, Est]]:
    """``{x: {metric: Est}}`` for every node count of a sweep."""
    return {x: _group(sweep[x], rng) for x in _points(sweep)}


def _curve(groups: dict[str, dict[str, Est]], metric: str) -> dict[str, Est]:
    return {x: g[metric] for x, g in groups.items()}


def _fewrel_system(pl: Experiments, system: str) -> dict[str, Any]:
    """The part of a system's FewRel experiment the label claims read (``FewRelPath.result``): the fine-tuned
    backbone and its label head (reference), or the randomly initialised backbone with a label head trained
    on its features (random-init)."""
    path = systems.get(system).fewrel
    if path is None:
        raise systems.UnknownSystem(f"system {system!r} has no FewRel path")
    record = pl.fewrel(system)
    return record[path.result] if path.result else record


def _jaccard_mean(sets: list[set[int]]) -> float:
    pairs = jaccard_pairs(sets)
    return float(np.mean(pairs)) if pairs else 0.0


def _guess(n_pos: Est) -> Est:
    """The paper's random guess among the recognised classes: 1 / (average n_pos) ("1/3.7 ~ 0.27")."""
    return 1.0 / n_pos


def _cv(values: np.ndarray) -> float:
    """Standard deviation over mean (0 for a zero mean)."""
    mean = float(np.mean(values))
    return float(np.std(values) / mean) if mean else 0.0
