"""Node subsets (§4, Fig. 4): n random nodes, n nodes within one head, every single node; and how often
each token occurs among the validation positions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import aperture
from ..systems import CONTROL_NODE_COUNTS
from .common import token_sweep

if TYPE_CHECKING:
    from ..resolver import Resolver


def token_node_sweep(
    pl: Resolver, within_head: bool = False, name: str = "reference", counts: tuple[int, ...] | None = None
) -> dict[str, Any]:
    """Fig. 4: n random nodes (or n nodes within one head), ``n_subsets`` subsets per n, for every n in
    ``counts`` on system ``name``, with the tokens each subset recognises. Default counts: the profile's
    ``sweep.node_counts`` for the reference, and for a control in the specificity pass
    (``Resolver.with_whole_curves``: its whole curve decides a curve check's specificity); otherwise, for a
    control, the points its checks compare (``systems.CONTROL_NODE_COUNTS`` and all nodes), at a fraction of
    the cost of the whole curve. The subsets of a count are the same on every system; at a control's other
    points, ``[specificity] curve_subsets`` of them (the first), where it is set."""
    D, H, sw = pl.profile.backbone.hidden, pl.profile.backbone.n_heads, pl.profile.sweep
    checked = (*CONTROL_NODE_COUNTS, D)  # a control's points that its checks compare, on every seed run
    if counts is None:
        whole = name == "reference" or pl.whole_control_curves
        counts = sw.node_counts if whole else checked
    counts = [n for n in counts if not within_head or n <= D // H]
    fewer = pl.profile.specificity.curve_subsets if name != "reference" else 0

    def make(n: int) -> np.ndarray:  # one node is one node, within a head or not: every single node
        if within_head and n > 1:
            masks = aperture.nodes_within_head(D, H, n, sw.n_subsets, sw.seed)
        else:
            masks = aperture.node_sweep_subsets(D, n, sw.n_subsets, sw.seed)
        # a control's curve where only the specificity pass reads it: the first of the same subsets
        return masks[:fewer] if fewer and n > 1 and n not in checked else masks

    label = ("within-head" if within_head else "random") + ("" if name == "reference" else f":{name}")
    return token_sweep(pl, f"nodes:{label}", {str(n): make(n) for n in counts}, name=name, keep_recognised=True)


def subset_nodes(pl: Resolver, n: int) -> list[list[int]]:
    """The nodes of each random n-node subset of the node sweep, in the sweep's order."""
    sw = pl.profile.sweep
    return [
        np.flatnonzero(m).tolist()
        for m in aperture.node_sweep_subsets(pl.profile.backbone.hidden, n, sw.n_subsets, sw.seed)
    ]


def valid_token_counts(pl: Resolver, name: str = "reference") -> dict[int, int]:
    """How often each token occurs among the validation positions (each masked once)."""
    _, y, _ = pl.valid_features(pl.profile.probe.layer, name)
    ids, counts = np.unique(y, return_counts=True)
    return dict(zip(ids.tolist(), counts.tolist(), strict=True))


# The scale knob of the validation set: nested random fractions of the validation paragraphs (all of them
# last), read by the single heads and by one node, 12 nodes (the paper's crossover) and all nodes.
SCALE_FRACTIONS = (0.1, 0.25, 0.5, 1.0)
SCALE_NODE_COUNTS = (1, 12)


def scale_positions(pl: Resolver, name: str = "reference") -> dict[int, np.ndarray | None]:
    """``{n_paragraphs: positions}``: for each fraction ``f`` of ``SCALE_FRACTIONS``, the indices of the
    validation positions of the first ``f`` of one random order of the validation paragraphs (every token
    of a chosen paragraph), ``None`` for all of them."""
    paragraph = pl.valid_paragraphs(name)  # [n_positions]
    n = int(paragraph.max()) + 1  # the validation paragraphs read (a short corpus may hold fewer than asked)
    order = np.random.default_rng(pl.profile.sweep.seed).permutation(n)
    out: dict[int, np.ndarray | None] = {}
    for fraction in SCALE_FRACTIONS:
        k = max(1, round(fraction * n))
        out[k] = None if k == n else np.flatnonzero(np.isin(paragraph, order[:k]))
    return out


def validation_scale(pl: Resolver, name: str = "reference") -> dict[str, dict[str, Any]]:
    """``{n_paragraphs: {"heads": summary, "1": summary, ...}}``: each head alone and the node groups of
    ``SCALE_NODE_COUNTS`` and all nodes (those in ``sweep.node_counts``), on the positions of
    :func:`scale_positions`. The subsets are the head table's and the node sweep's; all the paragraphs read
    their cached groups back. A group not yet stored is predicted on every position once, and each fraction
    reads its slice of those predictions."""
    D, H, sw = pl.profile.backbone.hidden, pl.profile.backbone.n_heads, pl.profile.sweep
    counts = [c for c in (*SCALE_NODE_COUNTS, D) if c in sw.node_counts]
    out: dict[str, dict[str, Any]] = {}
    shared: dict[str, np.ndarray] = {}  # each group's predictions [n_subsets, n_positions], for this scale only
    for k, positions in scale_positions(pl, name).items():
        heads = token_sweep(
            pl,
            f"heads:{name}@{k}",
            {"1": aperture.each_head(D, H)},
            name=name,
            keep_recognised=True,
            positions=positions,
            shared=shared,
        )
        groups = {str(c): aperture.node_sweep_subsets(D, c, sw.n_subsets, sw.seed) for c in counts}
        nodes = token_sweep(
            pl, f"nodes:{name}@{k}", groups, name=name, keep_recognised=True, positions=positions, shared=shared
        )
        out[str(k)] = {"heads": heads["1"], **{g: nodes[g] for g in groups}}
    return out
