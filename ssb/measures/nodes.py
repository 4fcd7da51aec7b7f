"""Nodes (§4, §5): single nodes and random node subsets, on the token probe and on FewRel's label head."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..estimate import absolute, average, maximum, means
from ..protocols import Experiments
from .common import _curve, _fewrel_system, _guess, _points, _rng, _sweep_curves
from .registry import FEWREL_SYSTEMS, TOKEN_SYSTEMS, MeasureError, measure

NODE_GUESS = dict(
    scalars=(
        "n_pos_{n}",
        "apt_{n}",
        "random_guess_{n}",
        "apt_over_guess_{n}",
        "apt_over_subset_guess_{n}",
        "confidence_{n}",
    ),
    info=("random_guess_per_subset_{n}",),
)


@measure(needs=("token-nodes",), **NODE_GUESS, systems=TOKEN_SYSTEMS)
def node_specialisation(pl: Experiments, system: str = "reference") -> dict[str, Any]:
    """Single nodes and pairs against two random guesses: the paper's arithmetic, 1 / (average n_pos)
    ("1/3.7 ~ 0.27": ``apt_over_guess``), and each subset's own, the average of 1 / n_pos
    (``apt_over_subset_guess``), which is the larger by Jensen's inequality and so the stricter."""
    return _node_guess(pl.token_node_sweep(name=system), ("1", "2"))


def _node_guess(sweep: dict[str, Any], counts: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    groups = _sweep_curves({n: sweep[n] for n in counts if n in sweep}, _rng())
    for n, g in groups.items():
        guess = _guess(g["n_pos"])
        out.update(
            {
                f"n_pos_{n}": g["n_pos"],
                f"apt_{n}": g["apt"],
                f"random_guess_{n}": guess,
                f"apt_over_guess_{n}": g["apt"] * g["n_pos"],
                f"apt_over_subset_guess_{n}": g["apt"] / g["random_guess"],
                f"confidence_{n}": g["diagonal_confidence"],
                f"random_guess_per_subset_{n}": g["random_guess"].value,
            }
        )
    return out


def _crossover(sweep: dict[str, Any]) -> dict[str, Any]:
    groups = _sweep_curves(sweep, _rng())
    apt = _curve(groups, "apt")
    xs = list(apt)
    i_min = int(np.argmin([apt[x].value for x in xs]))
    return {
        **{f"apt_{x}": apt[x] for x in xs},
        **{f"n_pos_{x}": groups[x]["n_pos"] for x in xs},
        "apt_vs_nodes": apt,
        "random_guess_vs_nodes": {x: _guess(groups[x]["n_pos"]) for x in xs},
        "n_pos_vs_nodes": _curve(groups, "n_pos"),
        "argmin_nodes": int(xs[i_min]),
    }


CROSSOVER = dict(
    scalars=("apt_{n}", "n_pos_{n}"),
    curves=("apt_vs_nodes", "random_guess_vs_nodes", "n_pos_vs_nodes"),
    info=("argmin_nodes",),
)


@measure(needs=("token-nodes",), **CROSSOVER, systems=TOKEN_SYSTEMS)
def pretrain_crossover(pl: Experiments, system: str = "reference") -> dict[str, Any]:
    return _crossover(pl.token_node_sweep(name=system))


def _confidence(sweep: dict[str, Any]) -> dict[str, Any]:
    conf = _curve(_sweep_curves(sweep, _rng()), "diagonal_confidence")
    xs = list(conf)
    return {"confidence_vs_nodes": conf, "confidence_first": conf[xs[0]], "confidence_last": conf[xs[-1]]}


CONFIDENCE = dict(curves=("confidence_vs_nodes",), scalars=("confidence_first", "confidence_last"))


@measure(needs=("token-nodes",), **CONFIDENCE, systems=TOKEN_SYSTEMS)
def pretrain_confidence(pl: Experiments, system: str = "reference") -> dict[str, Any]:
    return _confidence(pl.token_node_sweep(name=system))


@measure(
    needs=("token-nodes",),
    curves=("n_pos_vs_nodes", "diagonal_sum_vs_nodes", "column_sum_vs_nodes"),
    systems=TOKEN_SYSTEMS,
)
def diagonal_sums(pl: Experiments, system: str = "reference") -> dict[str, Any]:
    """§4, per node count: the recognised tokens (n_pos), the sum of the positive diagonal and the sum of
    those tokens' columns, both sums as shares of the validation inputs (the counts over a constant): the
    diagonal sum is the accuracy, the column sum the share of inputs predicted as a recognised token
    (1 - the zero-diagonal fraction). One resample of the subsets serves all three."""
    sweep, rng = pl.token_node_sweep(name=system), _rng()
    out: dict[str, Any] = {q: {} for q in ("n_pos_vs_nodes", "diagonal_sum_vs_nodes", "column_sum_vs_nodes")}
    for x in _points(sweep):
        g = means(sweep[x]["per_subset"], ("n_pos", "accuracy", "zero_diagonal_fraction"), rng)
        out["n_pos_vs_nodes"][x] = g["n_pos"]
        out["diagonal_sum_vs_nodes"][x] = g["accuracy"]
        out["column_sum_vs_nodes"][x] = 1 - g["zero_diagonal_fraction"]
    return out


@measure(
    needs=("token-nodes", "token-nodes-within-head"),
    scalars=("apt_mean_rel_diff", "n_pos_mean_rel_diff", "apt_max_abs_rel_diff", "n_pos_max_abs_rel_diff"),
    curves=("apt_rel_diff_vs_nodes", "n_pos_rel_diff_vs_nodes"),
    info=("counts", "apt_within_higher", "apt_random", "apt_within_head"),
    systems=TOKEN_SYSTEMS,
)
def subset_origin(pl: Experiments, system: str = "reference") -> dict[str, Any]:
    """Signed relative difference (within one head - at random) / at random, per subset size from 2 nodes
    to one head (one node is the same either way), its mean over the sizes and its largest size in absolute
    value; each arm is resampled over its own subsets. On a control (the specificity pass), both arms at the
    control's subsets of its whole curves."""
    rng = _rng()
    rnd, within = pl.token_node_sweep(name=system), pl.token_node_sweep(within_head=True, name=system)
    counts = [n for n in _points(within) if n in rnd and n != "1"]
    D, H = pl.profile.backbone.hidden, pl.profile.backbone.n_heads
    sizes = [str(n) for n in pl.profile.sweep.node_counts if 1 < n <= D // H]  # 2 nodes to one head
    if counts != sizes:  # a control swept at its checks' points only: its mean would cover fewer sizes
        raise MeasureError(
            f"subset-origin on {system!r}: its sweeps have the sizes {counts}, the claim compares {sizes}; a control "
            "is measured on its whole curves (the specificity pass), not as a paired check"
        )
    r = _sweep_curves({n: rnd[n] for n in counts}, rng)
    w = _sweep_curves({n: within[n] for n in counts}, rng)
    out: dict[str, Any] = {"counts": [int(n) for n in counts]}
    for metric in ("apt", "n_pos"):
        diff = {n: (w[n][metric] - r[n][metric]) / r[n][metric] for n in counts}
        out[f"{metric}_rel_diff_vs_nodes"] = diff
        out[f"{metric}_mean_rel_diff"] = average(list(diff.values()))
        out[f"{metric}_max_abs_rel_diff"] = maximum([absolute(d) for d in diff.values()])  # signs cannot cancel
    out["apt_within_higher"] = sum(w[n]["apt"].value > r[n]["apt"].value for n in counts)
    out["apt_random"] = {n: r[n]["apt"].value for n in counts}
    out["apt_within_head"] = {n: w[n]["apt"].value for n in counts}
    return out


@measure(
    needs=("fewrel-finetuned",), **{**CROSSOVER, "info": ("argmin_nodes", "n_labels", "n_test")}, systems=FEWREL_SYSTEMS
)
def finetune_crossover(pl: Experiments, system: str = "reference") -> dict[str, Any]:
    fewrel = pl.fewrel("reference")
    return {
        **_crossover(_fewrel_system(pl, system)["nodes"]),
        "n_labels": fewrel["n_labels"],
        "n_test": fewrel["n_test"],
    }


@measure(
    needs=("fewrel-finetuned",),
    curves=CONFIDENCE["curves"],
    scalars=(*CONFIDENCE["scalars"], "zero_diagonal_fraction_{n}"),
    systems=FEWREL_SYSTEMS,
)
def finetune_confidence(pl: Experiments, system: str = "reference") -> dict[str, Any]:
    """Fig. 5C, and §5's "almost all inputs predict one of the diagonal labels": the share of the test
    inputs predicted as a label with a zero diagonal, per number of nodes."""
    nodes = _fewrel_system(pl, system)["nodes"]
    out = _confidence(nodes)
    for x in _points(nodes):
        fraction = means(nodes[x]["per_subset"], ("zero_diagonal_fraction",), _rng())["zero_diagonal_fraction"]
        out[f"zero_diagonal_fraction_{x}"] = fraction
    return out


@measure(needs=("fewrel-finetuned",), **NODE_GUESS, systems=FEWREL_SYSTEMS)
def fewrel_node_guess(pl: Experiments, system: str = "reference") -> dict[str, Any]:
    """§5: a single node's (and a pair's) FewRel accuracy over its recognised labels against 1 / n_pos."""
    return _node_guess(_fewrel_system(pl, system)["nodes"], ("1", "2"))
