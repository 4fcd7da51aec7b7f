"""Heads (§3, Table 1, Fig. 3): each head of a block alone, n heads together (1, 2, 4, all), all heads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import aperture
from .common import token_sweep

if TYPE_CHECKING:
    from ..resolver import Resolver


def head_table(pl: Resolver, name: str = "reference", layer: int | None = None) -> dict[str, Any]:
    """Table 1 and Fig. 3: each head, n heads together (1, 2, 4, all), with recognised tokens."""
    D, H = pl.profile.backbone.hidden, pl.profile.backbone.n_heads
    groups = {"1": aperture.each_head(D, H)}
    for n in (2, 4):
        if n < H:
            groups[str(n)] = aperture.n_heads_subsets(D, H, n, H, seed=pl.profile.sweep.seed)
    groups["all"] = np.ones((1, D), dtype=bool)
    return token_sweep(pl, f"heads:{name}", groups, layer, name, keep_recognised=True)
