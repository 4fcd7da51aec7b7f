"""Heads (§3): each head alone, groups of heads, their hidden correlations and empty columns."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ..estimate import Est, exact, means, paired
from ..protocols import Experiments
from .common import _cv, _group, _head_sets, _identity, _jaccard_mean, _points, _rng
from .registry import TOKEN_SYSTEMS, measure

FREQUENT = 100  # §3: "For frequencies greater than 100 the heads recognized 8,428 tokens out of 9,386"
PAPER_VALID_PARAGRAPHS = 90_000  # the paper's validation set, which FREQUENT counts occurrences in


def frequent_threshold(n_valid_paragraphs: int) -> float:
    """The paper's "greater than 100" occurrences, scaled from its 90,000 validation paragraphs to ours."""
    return FREQUENT * n_valid_paragraphs / PAPER_VALID_PARAGRAPHS


@measure(
    needs=("heads",),
    scalars=(
        "n_pos_min",
        "n_pos_mean",
        "n_pos_mean_fraction",
        "apt_mean",
        "confidence_mean",
        "apt_over_guess",
        "apt_over_chance",
        "jaccard_mean",
        "union_recognised",
        "union_fraction",
        "frequent_coverage",
        "apt_spread",
        "confidence_spread",
        "special_target_share",
        "probe_seed_identity",
        "probe_seed_match_share",
    ),
    curves=("recognised_share_vs_frequency",),
    info=(
        "n_pos_per_head",
        "apt_per_head",
        "n_distinct_tokens",
        "vocab_size",
        "n_frequent_tokens",
        "frequent_threshold",
        "probe_seeds",
    ),
    systems=TOKEN_SYSTEMS,
)
def head_specialisation(pl: Experiments, system: str = "reference") -> dict[str, Any]:
    """Each head alone. The random guess is 1 / (average n_pos over heads), as the paper's arithmetic for
    nodes; ``apt_over_chance`` is the paper's own comparison, with 1 / V."""
    table = pl.head_table(system)
    heads = table["1"]
    g = _group(heads, _rng())
    sets = [set(r) for r in heads["recognised"]]
    union = set().union(*sets)
    counts = pl.valid_token_counts(system)
    threshold = frequent_threshold(pl.profile.probe.n_valid_paragraphs)
    frequent = {t for t, c in counts.items() if c > threshold}
    return {
        "n_pos_min": exact(min(h["n_pos"] for h in heads["per_subset"])),
        "n_pos_mean": g["n_pos"],
        "n_pos_mean_fraction": g["n_pos"] / max(table["n_distinct_tokens"], 1),
        "apt_mean": g["apt"],
        "confidence_mean": g["diagonal_confidence"],
        "apt_over_guess": g["apt"] * g["n_pos"],
        "apt_over_chance": g["apt"] * table["vocab_size"],
        "apt_spread": _spread(heads["per_subset"], "apt"),
        "confidence_spread": _spread(heads["per_subset"], "diagonal_confidence"),
        "jaccard_mean": exact(_jaccard_mean(sets)),
        "union_recognised": exact(len(union)),
        "union_fraction": exact(len(union) / max(table["n_distinct_tokens"], 1)),
        "frequent_coverage": exact(len(frequent & union) / len(frequent)) if frequent else None,
        "special_target_share": exact(_special_share(pl, system, counts)),
        **_probe_seed_identity(pl, system),
        "recognised_share_vs_frequency": _share_by_frequency(counts, union),
        "n_pos_per_head": [h["n_pos"] for h in heads["per_subset"]],
        "apt_per_head": [round(h["apt"], 4) for h in heads["per_subset"]],
        "n_distinct_tokens": table["n_distinct_tokens"],
        "vocab_size": table["vocab_size"],
        "n_frequent_tokens": len(frequent),
        "frequent_threshold": threshold,
    }


def _probe_seed_identity(pl: Experiments, system: str) -> dict[str, Any]:
    """Does the backbone fix which head recognises what? Across the token probes of the profile's probe seeds
    (``[seeds] probe``) on this system's one backbone: per head, J(same head) - J(other heads), averaged over
    the pairs of probes, with a bootstrap over the heads (``probe_seed_identity``), and the share of heads the
    best one-to-one matching keeps at their index. None with fewer than two probe seeds."""
    seeds = sorted(set(pl.profile.seeds.probe))
    if len(seeds) < 2:
        return {"probe_seed_identity": None, "probe_seed_match_share": None, "probe_seeds": seeds}
    identity, matches = _identity([_head_sets(pl.probe_seed_run(s), system) for s in seeds])
    return {"probe_seed_identity": identity, "probe_seed_match_share": matches, "probe_seeds": seeds}


def _special_share(pl: Experiments, system: str, counts: dict[int, int]) -> float:
    """The share of the validation positions whose target is a special token ([CLS], [SEP], [PAD], ...): the
    paper masks the paragraphs' own tokens one at a time, so a correct protocol gives 0."""
    from ..tokenizer import load_tokenizer

    special = set(load_tokenizer(pl.backbone(system)[0]).all_special_ids)
    return sum(c for t, c in counts.items() if t in special) / max(sum(counts.values()), 1)


def _spread(rows: list[dict[str, Any]], metric: str) -> Est:
    """§3's "fluctuates slightly among heads": the metric's standard deviation over its mean across the
    heads, resampling the heads."""
    return paired({"x": [r[metric] for r in rows]}, _rng(), lambda d: _cv(d["x"]))


FREQUENCY_BANDS = (1, 2, 6, 21, 101)  # lower edges: 1, 2-5, 6-20, 21-100, > 100 occurrences


def _share_by_frequency(counts: dict[int, int], recognised: set[int]) -> dict[str, Est]:
    """§3's "most of the unrecognized tokens were those with low frequencies": the share of the validation
    tokens some head recognises, per band of how often they occur (x: the band's lower edge; bands with no
    token left out)."""
    edges = (*FREQUENCY_BANDS, float("inf"))
    out = {}
    for lo, hi in itertools.pairwise(edges):
        band = [t for t, c in counts.items() if lo <= c < hi]
        if band:
            out[str(lo)] = exact(sum(t in recognised for t in band) / len(band))
    return out


def _head_groups(table: dict[str, Any]) -> list[str]:
    return [g for g in ("1", "2", "4", "all") if g in table]


@measure(
    needs=("heads",),
    curves=("n_pos_vs_heads", "apt_vs_heads", "confidence_vs_heads"),
    scalars=(
        "n_pos_{g}",
        "n_pos_fraction_{g}",
        "apt_{g}",
        "confidence_{g}",
        "n_pos_all_over_1",
        "apt_all_over_1",
        "confidence_all_over_1",
    ),
    info=("heads_per_group",),
    systems=TOKEN_SYSTEMS,
)
def head_cooperation(pl: Experiments, system: str = "reference") -> dict[str, Any]:
    """Table 1: n heads together (1, 2, 4, all), curves indexed by the number of heads."""
    table, rng = pl.head_table(system), _rng()
    n_heads = pl.profile.backbone.n_heads
    groups = {g: _group(table[g], rng) for g in _head_groups(table)}
    x = {g: str(n_heads if g == "all" else int(g)) for g in groups}
    out: dict[str, Any] = {"heads_per_group": {g: int(x[g]) for g in groups}}
    for metric, name in (("n_pos", "n_pos"), ("apt", "apt"), ("diagonal_confidence", "confidence")):
        out[f"{name}_vs_heads"] = {x[g]: groups[g][metric] for g in groups}
        out.update({f"{name}_{g}": groups[g][metric] for g in groups})
    distinct = max(table["n_distinct_tokens"], 1)  # Table 1's counts as shares of the distinct validation tokens
    out.update({f"n_pos_fraction_{g}": groups[g]["n_pos"] / distinct for g in groups})
    # Table 1's rise from one head to all of them, as ratios (scale-free: the paper's 6.6, 8.5 and 3.5)
    for name in ("n_pos", "apt", "confidence"):
        out[f"{name}_all_over_1"] = out[f"{name}_all"] / out[f"{name}_1"]
    return out


@measure(
    needs=("heads",),
    scalars=("jointly_correct_share",),
    info=("n_positions", "n_correct_all", "n_correct_some_head", "n_correct_all_no_head", "accuracy_from_joint"),
    systems=TOKEN_SYSTEMS,
)
def hidden_correlations(pl: Experiments, system: str = "reference") -> dict[str, Any]:
    """§3: of the validation inputs predicted correctly with all heads kept, the share that no head predicts
    correctly alone (the summed output fields decide against every head's own decision); bootstrap over
    those inputs. ``accuracy_from_joint``: what those inputs add to the all-heads accuracy."""
    c = pl.head_correctness(system)
    k, n = c["n_correct_all_no_head"], c["n_correct_all"]
    rows = [{"joint": 1.0}] * k + [{"joint": 0.0}] * (n - k)
    share = means(rows, ["joint"], _rng())["joint"] if rows else exact(0.0)
    return {
        "jointly_correct_share": share,
        **{q: c[q] for q in ("n_positions", "n_correct_all", "n_correct_some_head", "n_correct_all_no_head")},
        "accuracy_from_joint": round(k / max(c["n_positions"], 1), 5),
    }


@measure(
    needs=("heads", "token-nodes"),
    scalars=("all_over_union", "n_pos_all", "union_single_heads", "nodes_over_union_{n}", "nodes_over_sum_{n}"),
    info=("n_pos_per_head", "jointly_only_{n}", "jointly_only_tokens_{n}"),
    systems=TOKEN_SYSTEMS,
)
def cooperation_beyond_sum(pl: Experiments, system: str = "reference") -> dict[str, Any]:
    """All heads together against the union of what the heads recognise one at a time; and n random nodes
    (2 and 4, where the system's sweep has them) against the union and the sum of what their nodes recognise
    alone, paired over the subsets, with the tokens a subset recognises that none of its nodes does alone."""
    table = pl.head_table(system)
    union = set().union(*(set(r) for r in table["1"]["recognised"]))
    n_all = table["all"]["per_subset"][0]["n_pos"]
    out: dict[str, Any] = {
        "all_over_union": exact(n_all / max(len(union), 1)),
        "n_pos_all": exact(n_all),
        "union_single_heads": exact(len(union)),
        "n_pos_per_head": [h["n_pos"] for h in table["1"]["per_subset"]],
    }
    sweep = pl.token_node_sweep(name=system)  # a control's: 2 nodes, and 4 in the specificity pass
    single = [set(r) for r in sweep["1"]["recognised"]]  # node i's tokens alone, i = 0 .. hidden - 1
    for n in (c for c in ("2", "4") if c in sweep):
        together = [set(r) for r in sweep[n]["recognised"]]
        subsets = pl.subset_nodes(int(n))[: len(together)]  # a control's curve may keep the first subsets only
        alone = [[single[i] for i in nodes] for nodes in subsets]
        unions = [set().union(*sets) for sets in alone]
        data = {
            "pos": [len(t) for t in together],
            "union": [len(u) for u in unions],
            "sum": [sum(len(x) for x in sets) for sets in alone],
        }
        out[f"nodes_over_union_{n}"] = paired(data, _rng(), lambda d: d["pos"].mean() / max(d["union"].mean(), 1e-12))
        out[f"nodes_over_sum_{n}"] = paired(data, _rng(), lambda d: d["pos"].mean() / max(d["sum"].mean(), 1e-12))
        jointly = [t - u for t, u in zip(together, unions, strict=True)]
        out[f"jointly_only_{n}"] = float(np.mean([len(j) for j in jointly]))
        out[f"jointly_only_tokens_{n}"] = sorted(set().union(*jointly))
    return out


@measure(
    needs=("heads", "token-nodes", "validation-scale"),
    scalars=(
        "zero_diagonal_fraction_heads",
        "zero_diagonal_fraction_{n}",
        "zero_diagonal_column_share_heads",
        "zero_diagonal_column_share_{n}",
    ),
    curves=(
        "zero_diagonal_fraction_heads_vs_paragraphs",
        "zero_diagonal_fraction_{n}_vs_paragraphs",
        "zero_diagonal_column_share_heads_vs_paragraphs",
        "zero_diagonal_column_share_{n}_vs_paragraphs",
    ),
    systems=TOKEN_SYSTEMS,
)
def few_empty_columns(pl: Experiments, system: str = "reference") -> dict[str, Any]:
    """The share of inputs predicted as a class with a zero diagonal (and, §4's other reading, the share of
    occupied columns with a zero diagonal): each head alone, and n random nodes. Along the number of
    validation paragraphs read (``*_vs_paragraphs``, the reference's), the scale knob a reason on the
    validation set's size blames."""
    out: dict[str, Any] = {}
    sweep = pl.token_node_sweep(name=system)
    for g, summary in ({"heads": pl.head_table(system)["1"]} | {x: sweep[x] for x in _points(sweep)}).items():
        out.update({f"{q}_{g}": est for q, est in means(summary["per_subset"], EMPTY_COLUMNS, _rng()).items()})
    if system != "reference":  # a control is compared at the full validation set only
        return out
    out.update(scale_curves(pl.validation_scale(system)))
    return out


EMPTY_COLUMNS = ("zero_diagonal_fraction", "zero_diagonal_column_share")  # §3's reading (inputs), §4's (columns)


def scale_curves(scale: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The empty-column quantities along the paragraphs read, ``{"<quantity>_<group>_vs_paragraphs": {paragraphs:
    estimate}}``, from the panels of ``validation_scale`` (the claims run's, or scripts/validation_scale.py's)."""
    out: dict[str, dict[str, Any]] = {}
    for k, panel in scale.items():
        for g, summary in panel.items():
            for q, est in means(summary["per_subset"], EMPTY_COLUMNS, _rng()).items():
                out.setdefault(f"{q}_{g}_vs_paragraphs", {})[k] = est
    return out
