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
    ``counts`` on system ``name``. Default counts: the profile's ``sweep.node_counts`` for the reference;
    for a control, the points its checks compare (``systems.CONTROL_NODE_COUNTS`` and all nodes), at a
    fraction of the cost of the whole curve. The subsets of a count are the same on every system."""
    D, H, sw = pl.profile.backbone.hidden, pl.profile.backbone.n_heads, pl.profile.sweep
    if counts is None:
        counts = sw.node_counts if name == "reference" else (*CONTROL_NODE_COUNTS, D)
    counts = [n for n in counts if not within_head or n <= D // H]

    def make(n: int) -> np.ndarray:  # one node is one node, within a head or not: every single node
        if within_head and n > 1:
            return aperture.nodes_within_head(D, H, n, sw.n_subsets, sw.seed)
        return aperture.node_sweep_subsets(D, n, sw.n_subsets, sw.seed)

    label = ("within-head" if within_head else "random") + ("" if name == "reference" else f":{name}")
    return token_sweep(pl, f"nodes:{label}", {str(n): make(n) for n in counts}, name=name)


def valid_token_counts(pl: Resolver, name: str = "reference") -> dict[int, int]:
    """How often each token occurs among the validation positions (each masked once)."""
    _, y, _ = pl.valid_features(pl.profile.probe.layer, name)
    ids, counts = np.unique(y, return_counts=True)
    return dict(zip(ids.tolist(), counts.tolist(), strict=True))
