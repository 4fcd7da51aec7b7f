"""What the token experiments share: a sweep of node subsets through a system's token probe, and the
summary of a group of subsets (mean, spread and the per-subset values the measures resample)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .. import aperture, versions
from ..config import config_hash

if TYPE_CHECKING:
    from ..resolver import Resolver

METRIC_FIELDS = (
    "n_pos",
    "apt",
    "random_guess",
    "diagonal_confidence",
    "n_predicted",
    "accuracy",
    "zero_diagonal_fraction",
    "zero_diagonal_column_share",
)


def results_summary(results: list[aperture.SubsetResult]) -> dict[str, Any]:
    """Mean/std/min/max of every metric over a group of subsets, and the per-subset values."""
    from ..metrics import summarise

    return {
        "n_subsets": len(results),
        **{name: summarise(getattr(r.metrics, name) for r in results) for name in METRIC_FIELDS},
        "per_subset": [r.metrics.as_dict() for r in results],
    }


def token_sweep(
    pl: Resolver,
    label: str,
    masks_by_group: dict[str, np.ndarray],
    layer: int | None = None,
    name: str = "reference",
    keep_recognised: bool = False,
    positions: np.ndarray | None = None,
    shared: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Subsets of the block-``layer`` nodes of system ``name`` through its token probe, on the validation
    features (one masked token at a time): per group, every metric over its subsets (and, with
    ``keep_recognised``, the tokens each subset recognises).

    Each group is cached on its own, under the probe, the validation features and the group's masks, so
    that an experiment asking for a group another one has computed (one node, say) reads it back.
    ``positions``: indices of the validation positions to read (default all), a scale knob. ``shared``: a dict
    that the calls of one scale pass along (``nodes.validation_scale``): a group to compute is then predicted
    on every position once, kept there under the probe, the features and its masks, and each call reads its
    positions' slice of it (a position's prediction does not depend on which others are read)."""
    layer = layer or pl.profile.probe.layer
    head, probe_key = pl.token_probe(layer, name)
    valid_key = pl.valid_features_key(name)
    out: dict[str, Any] = {}
    for group, masks in masks_by_group.items():
        masks_hash = hashlib.sha256(masks.tobytes()).hexdigest()
        key = config_hash(
            "token-sweep",
            versions.SWEEP,
            probe_key,
            valid_key,
            masks_hash,
            masks.shape,
            keep_recognised,
            *(() if positions is None else (hashlib.sha256(positions.tobytes()).hexdigest(),)),
        )

        what = f"sweep {label} (block {layer}), {group}"
        seeds = f"probe seed {pl.profile.probe.seed}, subset seed {pl.profile.sweep.seed}"

        def compute(
            group: str = group, masks: np.ndarray = masks, what: str = what, masks_hash: str = masks_hash
        ) -> dict[str, Any]:
            X, y, vocab = pl.valid_features(layer, name)
            if shared is not None:  # every position's predictions once, each call its slice
                every = f"{probe_key}:{valid_key}:{masks_hash}:{masks.shape}"
                if every not in shared:
                    shared[every] = pl.prediction_matrix(head, X, masks, what)  # [n_subsets, n_positions]
                pred = shared[every] if positions is None else shared[every][:, positions]
                y = y if positions is None else y[positions]
                results = [aperture.subset_result(y, p, int(m.sum()), vocab) for p, m in zip(pred, masks, strict=True)]
            else:
                if positions is not None:
                    X, y = X[torch.from_numpy(positions).to(X.device)], y[positions]
                results = pl.sweep(head, X, y, masks, vocab, what)
            summary = results_summary(results)
            if keep_recognised:
                summary["recognised"] = [r.recognised.tolist() for r in results]
            meta = {"vocab_size": vocab, "n_positions": int(len(y)), "n_distinct_tokens": int(len(np.unique(y)))}
            return {"meta": meta, "summary": summary}

        cached = pl.cached_json("token-sweep", key, compute, what=f"{what}, {seeds}")
        out.update(cached["meta"])
        out[group] = cached["summary"]
    return out
