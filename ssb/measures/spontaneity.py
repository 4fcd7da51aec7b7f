"""Spontaneity (§3, §4): across backbones pre-trained from other initial conditions (``[seeds] backbone``),
does head *h* recognise what head *h* of another backbone does? And, as the control that must show identity,
two probes of one backbone (``probe.seed`` and ``probe.seed + 1``) on the same heads.

Per head, J(same index) minus its mean J with the other indices (``ssb.head_identity.same_minus_other``),
averaged over the pairs of backbones, with a bootstrap over the heads; the share of heads that the best
one-to-one matching (Hungarian) keeps at their index; the per-head statistics, sorted, of each backbone.
With ``[seeds] data_order``: the same between the reference and its initialisation trained on other orders
of the paragraphs (``order_*``), and its gap to the two-probes control (> 0: the order alone moves heads).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import systems
from ..config import ConfigError
from ..estimate import exact, means
from ..head_identity import pairwise_identity
from ..protocols import Experiments
from .common import _head_sets, _rng
from .registry import measure


@measure(
    needs=("heads", "seed-backbones"),
    scalars=(
        "same_minus_other",
        "probe_same_minus_other",
        "identity_gap",
        "identity_match_share",
        "probe_identity_match_share",
        "match_gap",
        "sorted_n_pos_spread",
        "order_same_minus_other",
        "order_match_share",
        "order_identity_gap",
    ),
    info=("backbone_seeds", "data_order_seeds", "chance_match_share", "sorted_n_pos", "empty_heads"),
)
def spontaneous_breaking(pl: Experiments) -> dict[str, Any]:
    seeds = pl.profile.seeds.backbone
    if not seeds:
        raise ConfigError(
            f"profile '{pl.profile.name}': field 'seeds.backbone' is empty; the spontaneous-breaking claim needs other "
            "initial conditions of the reference's recipe ([seeds] backbone = [1, 2], say)"
        )
    names = ["reference", *(systems.init_seed(s).name for s in seeds)]
    sets = [_head_sets(pl, name) for name in names]
    same_other, matches = pairwise_identity(sets)  # across initial conditions
    other_probe = _head_sets(pl.probe_seed_run(pl.profile.probe.seed + 1), "reference")
    probe_same_other, probe_matches = pairwise_identity([sets[0], other_probe])  # the control: one backbone, two probes
    # §4's "probably also following the selected order of the training inputs": the reference against the same
    # initialisation trained on other orders of the paragraphs ([seeds] data_order), averaged over the orders
    orders = pl.profile.seeds.data_order
    order_sets = [_head_sets(pl, systems.data_order(s).name) for s in orders]
    order_same_other = [pairwise_identity([sets[0], o]) for o in order_sets]  # [(per head, share)] per order
    order_per_head = np.mean([o[0] for o in order_same_other], axis=0) if orders else np.zeros(len(sets[0]))
    # per head, over the same heads: the paired bootstrap of each and of the gaps (control - across seeds, orders)
    rows = [
        {"seeds": float(s), "probes": float(p), "gap": float(p - s), "orders": float(o), "order_gap": float(p - o)}
        for s, p, o in zip(same_other, probe_same_other, order_per_head, strict=True)
    ]
    est = means(rows, ["seeds", "probes", "gap", "orders", "order_gap"], _rng())
    # the per-head statistics, sorted, of each backbone: the heads' statistics agree though their order does not
    sorted_n_pos = [sorted(len(s) for s in head_sets) for head_sets in sets]  # [n_backbones][n_heads]
    columns = np.array(sorted_n_pos, dtype=np.float64)  # [n_backbones, n_heads]
    spread = float(np.mean((columns.max(axis=0) - columns.min(axis=0)) / np.maximum(columns.mean(axis=0), 1e-12)))
    return {
        "same_minus_other": est["seeds"],
        "probe_same_minus_other": est["probes"],
        "identity_gap": est["gap"],
        "identity_match_share": exact(matches),
        "probe_identity_match_share": exact(probe_matches),
        "match_gap": exact(probe_matches - matches),
        "sorted_n_pos_spread": exact(spread),
        "order_same_minus_other": est["orders"] if orders else None,
        "order_match_share": exact(float(np.mean([o[1] for o in order_same_other]))) if orders else None,
        "order_identity_gap": est["order_gap"] if orders else None,
        "backbone_seeds": [pl.profile.backbone.seed, *seeds],
        "data_order_seeds": list(orders),
        "chance_match_share": 1.0 / len(sets[0]),
        "sorted_n_pos": sorted_n_pos,
        "empty_heads": sum(not s for head_sets in [*sets, other_probe] for s in head_sets),
    }
