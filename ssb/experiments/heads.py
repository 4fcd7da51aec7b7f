"""Heads (§3, Table 1, Fig. 3): each head of a block alone, n heads together (1, 2, 4, all), all heads; and
per validation input, which of these predict its token (§3's hidden correlations)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import aperture, versions
from ..config import config_hash
from ..systems import CONTROL_HEAD_GROUPS
from .common import token_sweep

if TYPE_CHECKING:
    from ..resolver import Resolver


def head_table(
    pl: Resolver, name: str = "reference", layer: int | None = None, only: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """Table 1 and Fig. 3: each head, n heads together (1, 2, 4, all), with recognised tokens.

    The groups of 2 and 4 heads (Table 1's curve, head-cooperation) for the reference at the probe's block,
    and for a control in the specificity pass (``Resolver.with_whole_curves``): otherwise a control or another
    block is compared on each head and all heads (``systems.CONTROL_HEAD_GROUPS``), and its two n-heads
    groups would cost as much again as those two."""
    D, H = pl.profile.backbone.hidden, pl.profile.backbone.n_heads
    layer = layer or pl.profile.probe.layer
    groups = {"1": aperture.each_head(D, H)}
    for n in (2, 4):
        if n < H:
            groups[str(n)] = aperture.n_heads_subsets(D, H, n, H, seed=pl.profile.sweep.seed)
    groups["all"] = np.ones((1, D), dtype=bool)
    if layer != pl.profile.probe.layer or not (name == "reference" or pl.whole_control_curves):
        groups = {g: masks for g, masks in groups.items() if g in CONTROL_HEAD_GROUPS}
    if only is not None:  # a reader that needs some groups alone (each head, across probe seeds)
        groups = {g: masks for g, masks in groups.items() if g in only}
    return token_sweep(pl, f"heads:{name}", groups, layer, name, keep_recognised=True)


def head_correctness(pl: Resolver, name: str = "reference", layer: int | None = None) -> dict[str, int]:
    """§3's hidden correlations, per validation input (one masked position): is its token predicted with all
    heads kept, and by some head alone? Counts of the four cases, cached under the probe and the features."""
    layer = layer or pl.profile.probe.layer
    D, H = pl.profile.backbone.hidden, pl.profile.backbone.n_heads
    masks = np.concatenate([aperture.each_head(D, H), np.ones((1, D), dtype=bool)])  # [H + 1, D]: heads, all
    head, probe_key = pl.token_probe(layer, name)
    key = config_hash("head-correctness", versions.HEAD_CORRECTNESS, probe_key, pl.valid_features_key(name), layer)

    def compute() -> dict[str, int]:
        X, y, _ = pl.valid_features(layer, name)
        correct = pl.prediction_matrix(head, X, masks, "head correctness") == y  # [H + 1, n_positions]
        with_all, some_head = correct[-1], correct[:-1].any(axis=0)
        return {
            "n_positions": int(len(y)),
            "n_correct_all": int(with_all.sum()),
            "n_correct_some_head": int(some_head.sum()),
            "n_correct_all_no_head": int((with_all & ~some_head).sum()),  # only the heads' summed fields
            "n_correct_some_head_not_all": int((some_head & ~with_all).sum()),
        }

    return pl.cached_json("head-correctness", key, compute)


def head_confusion(pl: Resolver, head: int, n_tokens: int = 15, name: str = "reference") -> dict[str, Any]:
    """The confusion matrix of head ``head`` alone (every other node silenced), on the rows and columns of the
    ``n_tokens`` recognised tokens with the largest diagonal: ``{"tokens": ids, "counts": [[true x predicted]],
    "row_totals": each true token's occurrences, "other": predictions outside those tokens}`` (the object every
    quantity of a head is read from; the report draws it as a heatmap)."""
    from ..confusion import confusion_matrix

    layer = pl.profile.probe.layer
    D, H = pl.profile.backbone.hidden, pl.profile.backbone.n_heads
    probe, probe_key = pl.token_probe(layer, name)
    key = config_hash("head-confusion", versions.HEAD_CONFUSION, probe_key, pl.valid_features_key(name), head, n_tokens)

    def compute() -> dict[str, Any]:
        X, y, vocab = pl.valid_features(layer, name)
        mask = aperture.each_head(D, H)[head : head + 1]  # [1, D]
        pred = pl.prediction_matrix(probe, X, mask, f"confusion matrix of head{head}")[0]  # [n_positions]
        C = confusion_matrix(y, pred, vocab)  # [vocab, vocab] sparse
        diagonal = C.diagonal()
        tokens = [int(t) for t in np.argsort(-diagonal, kind="stable")[:n_tokens] if diagonal[t] > 0]
        block = C[tokens][:, tokens].toarray()  # [n, n]
        rows = np.asarray(C[tokens].sum(axis=1)).ravel()
        return {
            "head": head,
            "tokens": tokens,
            "counts": block.tolist(),
            "row_totals": rows.tolist(),
            "other": (rows - block.sum(axis=1)).tolist(),
        }

    return pl.cached_json("head-confusion", key, compute, what=f"confusion matrix of head{head} (block {layer})")
