"""The hull bound (§6) on FewRel's label head, of the fine-tuned and the untrained backbone."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..estimate import maximum, minimum, paired
from ..protocols import Experiments
from .common import _cv, _fewrel_system, _rng
from .registry import FEWREL_SYSTEMS, measure


def _hull_panel(panel: dict[str, Any]) -> None:
    n_pos, bound = np.array(panel["n_pos"]), np.array(panel["bound"])
    if np.any(n_pos > bound):
        raise RuntimeError("a subset recognises more labels than its hull bound allows: the bound is wrong")


@measure(
    needs=("fewrel-finetuned",),
    scalars=("tightness_{n}", "gap_{n}", "gap_cv_{n}", "n_pos_{n}", "bound_{n}"),
    curves=("gap_vs_nodes",),
    systems=FEWREL_SYSTEMS,
)
def hull_tightness(pl: Experiments, system: str = "reference") -> dict[str, Any]:
    """Recognised labels over the hull bound (summed over a panel's subsets), and the mean gap; on a control,
    its label head's (random-init: the head trained on the never-trained backbone's features)."""
    rng, out, gaps = _rng(), {}, {}
    for n, panel in _fewrel_system(pl, system)["hull"].items():
        _hull_panel(panel)
        data = {"n_pos": panel["n_pos"], "bound": panel["bound"]}
        out[f"tightness_{n}"] = paired(data, rng, lambda d: d["n_pos"].sum() / d["bound"].sum())
        gaps[n] = paired(data, rng, lambda d: (d["bound"] - d["n_pos"]).mean())
        out[f"gap_{n}"] = gaps[n]
        out[f"n_pos_{n}"] = paired(data, rng, lambda d: d["n_pos"].mean())
        out[f"bound_{n}"] = paired(data, rng, lambda d: d["bound"].mean())
        # "the variance among different subsets of nodes was small": the gap's spread relative to its mean
        out[f"gap_cv_{n}"] = paired(data, rng, lambda d: _cv(d["bound"] - d["n_pos"]))
    out["gap_vs_nodes"] = gaps
    return out


@measure(
    needs=("fewrel-finetuned", "fewrel-random"),
    scalars=(
        "bound_ratio_{n}",
        "bound_ratio_min",
        "bound_ratio_max",
        "random_n_predicted_{n}",
        "random_n_predicted_max",
        "random_n_predicted_range",
        "trained_n_predicted_{n}",
        "trained_over_random_predicted_{n}",
        "trained_over_random_predicted_min",
    ),
    info=("bound_trained_{n}", "bound_random_{n}", "untrained_head_bound_ratio_{n}", "untrained_head_n_predicted_{n}"),
)
def hull_untrained(pl: Experiments) -> dict[str, Any]:
    """The random system is the randomly initialised backbone with a label head trained on its features
    (the paper compares the *classifier head's* bound on both backbones). The hull panels of both systems
    use the same node subsets, so they are resampled jointly. The head at initialisation is reported
    (``untrained_head_*``). Beside the bounds: how many labels each system predicts per panel, their
    ratio (the paper's "main difference"), and the spread of the random system's across the panels'
    sizes ("independent of the size of the input nodes")."""
    rng = _rng()
    trained, random = pl.fewrel("reference"), pl.fewrel("random-init")
    out: dict[str, Any] = {}
    ratios, predicted, contrast = [], [], []
    for n, t in trained["hull"].items():
        r, u = random["trained_head"]["hull"][n], random["hull"][n]
        _hull_panel(t)
        _hull_panel(r)
        data = {
            "t": t["bound"],
            "r": r["bound"],
            "u": u["bound"],
            "pr": r["n_predicted"],
            "pt": t["n_predicted"],
            "pu": u["n_predicted"],
        }
        ratio = paired(data, rng, lambda d: d["r"].mean() / d["t"].mean())
        ratios.append(ratio)
        out[f"bound_ratio_{n}"] = ratio
        out[f"random_n_predicted_{n}"] = paired(data, rng, lambda d: d["pr"].mean())
        predicted.append(out[f"random_n_predicted_{n}"])
        out[f"trained_n_predicted_{n}"] = paired(data, rng, lambda d: d["pt"].mean())
        out[f"trained_over_random_predicted_{n}"] = paired(data, rng, lambda d: d["pt"].mean() / d["pr"].mean())
        contrast.append(out[f"trained_over_random_predicted_{n}"])
        out[f"bound_trained_{n}"], out[f"bound_random_{n}"] = float(np.mean(t["bound"])), float(np.mean(r["bound"]))
        out[f"untrained_head_bound_ratio_{n}"] = float(np.mean(u["bound"]) / np.mean(t["bound"]))
        out[f"untrained_head_n_predicted_{n}"] = float(np.mean(u["n_predicted"]))
    out.update(
        {
            "bound_ratio_min": minimum(ratios),
            "bound_ratio_max": maximum(ratios),
            "random_n_predicted_max": maximum(predicted),
            "random_n_predicted_range": maximum(predicted) - minimum(predicted),  # across the panels' sizes
            "trained_over_random_predicted_min": minimum(contrast),
        }
    )
    return out
