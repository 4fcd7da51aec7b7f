"""The probe's control (the report's probe-selectivity section; no claim reads it)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..estimate import Est, exact, means
from ..protocols import Experiments
from .common import _rng


def probe_selectivity(pl: Experiments, control: str = "control-task") -> dict[str, dict[str, Est]]:
    """Selectivity of the token probe (Hewitt & Liang 2019): the reference's probe against the same recipe
    trained on the control task, on the same features, heads and validation positions. ``{quantity:
    {"reference", "control", "selectivity"}}``; per-head means carry paired replicates over the heads.

    Not a claim: the control labels are a function of the masked token (a coarsening of the real task), so
    the control is no harder to learn and a selectivity at or below zero says nothing against the backbone.
    The report shows the numbers beside the majority-label baseline of each task, which says how much
    easier the coarsened task is."""
    rows: dict[str, dict[str, Est]] = {}
    for role, system in (("reference", "reference"), ("control", control)):
        table = pl.head_table(system)
        every, heads = table["all"]["per_subset"][0], _group_fields(table["1"], ("accuracy", "n_pos"))
        _, y, _ = pl.valid_features(pl.profile.probe.layer, system)
        values = {
            "accuracy_all": exact(every["accuracy"]),
            "n_pos_all": exact(every["n_pos"]),
            "accuracy_per_head": heads["accuracy"],
            "n_pos_per_head": heads["n_pos"],
            "majority_accuracy": exact(np.bincount(y).max() / len(y)),
            "n_distinct_targets": exact(len(np.unique(y))),
        }
        for quantity, est in values.items():
            rows.setdefault(quantity, {})[role] = est
    for row in rows.values():
        row["selectivity"] = row["reference"] - row["control"]
    return rows


def _group_fields(summary: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Est]:
    """Means of ``fields`` over a group's subsets, resampled by the measures' fixed stream (paired)."""
    return means(summary["per_subset"], fields, _rng())
