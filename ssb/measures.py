"""Measures: what each claim reads from the cached experiments of a :class:`~ssb.pipeline.Pipeline`.

A measure is a function of the pipeline registered with :func:`measure`, which declares the experiments it
needs and every quantity it returns, each a ``scalar`` (an :class:`~ssb.estimate.Est` or a number), a
``curve`` (``{x: Est}``, checked by shape) or ``info`` (reported, never checked). A name may hold ``{n}``
for an integer (``apt_{n}``: ``apt_1``, ``apt_64``) or ``{g}`` for a head group (``1``, ``2``, ``4``,
``all``). The claims engine validates specs against these declarations when it loads them, so a new claim
touches its spec and its measure only.

Numbers that average node subsets, heads or hull subsets carry bootstrap replicates over those items
(:func:`ssb.estimate.means`); exact counts and single training runs carry none.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import systems
from .estimate import Est, absolute, average, exact, maximum, means, minimum, paired
from .metrics import jaccard_pairs
from .protocols import Experiments

SCALAR, CURVE, INFO = "scalar", "curve", "info"
EXPERIMENTS = (
    "heads",
    "token-nodes",
    "token-nodes-within-head",
    "fewrel-finetuned",
    "fewrel-random",
    "symmetric",
    "heads-no-dropout",
    "fewrel-no-dropout",
    "depth",
    "validation-scale",
)
METRICS = ("n_pos", "apt", "random_guess", "diagonal_confidence", "n_predicted", "zero_diagonal_fraction")
_WILDCARDS = {"{n}": r"\d+", "{g}": r"(?:\d+|all)"}


# The controls a measure can be taken on besides the reference, by the side of the systems it reads
# (``ssb/systems.py``): a spec's check may name one as its control (``control = "symmetric"``) and is then
# decided on the paired difference reference - control. Read from the registry when asked, so a control
# registered after import is one at once.
TOKEN_SYSTEMS, FEWREL_SYSTEMS = "tokens", "fewrel"
CONTROLS = {TOKEN_SYSTEMS: systems.token_controls, FEWREL_SYSTEMS: systems.fewrel_controls}


@dataclass(frozen=True)
class Measure:
    name: str
    needs: tuple[str, ...]
    outputs: dict[str, str]  # quantity (may hold {n} / {g}) -> scalar | curve | info
    fn: Callable[..., dict[str, Any]]  # fn(pipeline, system="reference")
    controls: str = ""  # TOKEN_SYSTEMS or FEWREL_SYSTEMS: the registered controls of that side ("": none)

    @property
    def systems(self) -> tuple[str, ...]:
        """The controls it can be measured on (the registry's, now)."""
        return CONTROLS[self.controls]() if self.controls else ()

    def kind(self, quantity: str) -> str | None:
        """The declared kind of ``quantity``, or None if this measure does not produce it."""
        if quantity in self.outputs:
            return self.outputs[quantity]
        for pattern, kind in self.outputs.items():
            if "{" in pattern:
                regex = re.escape(pattern)
                for wildcard, sub in _WILDCARDS.items():
                    regex = regex.replace(re.escape(wildcard), sub)
                if re.fullmatch(regex, quantity):
                    return kind
        return None

    def checkable(self) -> list[str]:
        return [q for q, k in self.outputs.items() if k != INFO]


MEASURES: dict[str, Measure] = {}


def measure(
    needs: tuple[str, ...],
    scalars: tuple[str, ...] = (),
    curves: tuple[str, ...] = (),
    info: tuple[str, ...] = (),
    systems: str = "",
) -> Callable[[Callable], Callable]:
    """Register a measure under its function's name (``head_specialisation`` -> ``head-specialisation``).
    ``systems``: TOKEN_SYSTEMS or FEWREL_SYSTEMS, whose controls it can also be measured on (its function
    then takes ``system=``)."""
    unknown = set(needs) - set(EXPERIMENTS)
    if unknown:
        raise ValueError(f"unknown experiments {sorted(unknown)}")
    if systems and systems not in CONTROLS:
        raise ValueError(f"systems must be one of {', '.join(CONTROLS)}, got {systems!r}")

    def register(fn: Callable) -> Callable:
        name = fn.__name__.replace("_", "-")
        outputs = {**{q: SCALAR for q in scalars}, **{q: CURVE for q in curves}, **{q: INFO for q in info}}
        MEASURES[name] = Measure(name, tuple(needs), outputs, fn, systems)
        return fn

    return register


# ---------------------------------------------------------------------------- helpers
def _rng() -> np.random.Generator:
    return np.random.default_rng(0)  # one fixed stream per measure call: identical intervals run to run


def _group(summary: dict[str, Any], rng: np.random.Generator) -> dict[str, Est]:
    """Means of the metrics over a group's subsets, with paired bootstrap replicates."""
    return means(summary["per_subset"], METRICS, rng)


def _points(sweep: dict[str, Any]) -> list[str]:
    return sorted((k for k, v in sweep.items() if isinstance(v, dict) and "per_subset" in v), key=int)


def _sweep_curves(sweep: dict[str, Any], rng: np.random.Generator) -> dict[str, dict[str, Est]]:
    """``{x: {metric: Est}}`` for every node count of a sweep."""
    return {x: _group(sweep[x], rng) for x in _points(sweep)}


def _curve(groups: dict[str, dict[str, Est]], metric: str) -> dict[str, Est]:
    return {x: g[metric] for x, g in groups.items()}


def _fewrel_system(pl: Experiments, system: str) -> dict[str, Any]:
    """The part of a system's FewRel experiment the label claims read (``FewRelPath.result``): the fine-tuned
    backbone and its label head (reference), or the randomly initialised backbone with a label head trained
    on its features (random-init)."""
    path = systems.get(system).fewrel
    if path is None:
        raise systems.UnknownSystem(f"system {system!r} has no FewRel path")
    record = pl.fewrel(system)
    return record[path.result] if path.result else record


def _jaccard_mean(sets: list[set[int]]) -> float:
    pairs = jaccard_pairs(sets)
    return float(np.mean(pairs)) if pairs else 0.0


def _guess(n_pos: Est) -> Est:
    """The paper's random guess among the recognised classes: 1 / (average n_pos) ("1/3.7 ~ 0.27")."""
    return 1.0 / n_pos


# ---------------------------------------------------------------------------- heads (§3)
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
    ),
    curves=("recognised_share_vs_frequency",),
    info=(
        "n_pos_per_head",
        "apt_per_head",
        "n_distinct_tokens",
        "vocab_size",
        "n_frequent_tokens",
        "frequent_threshold",
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
        "recognised_share_vs_frequency": _share_by_frequency(counts, union),
        "n_pos_per_head": [h["n_pos"] for h in heads["per_subset"]],
        "apt_per_head": [round(h["apt"], 4) for h in heads["per_subset"]],
        "n_distinct_tokens": table["n_distinct_tokens"],
        "vocab_size": table["vocab_size"],
        "n_frequent_tokens": len(frequent),
        "frequent_threshold": threshold,
    }


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
    scalars=("n_pos_{g}", "n_pos_fraction_{g}", "apt_{g}", "confidence_{g}"),
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
    (2 and 4, the reference's) against the union and the sum of what their nodes recognise alone, paired
    over the subsets, with the tokens a subset recognises that none of its nodes does alone."""
    table = pl.head_table(system)
    union = set().union(*(set(r) for r in table["1"]["recognised"]))
    n_all = table["all"]["per_subset"][0]["n_pos"]
    out: dict[str, Any] = {
        "all_over_union": exact(n_all / max(len(union), 1)),
        "n_pos_all": exact(n_all),
        "union_single_heads": exact(len(union)),
        "n_pos_per_head": [h["n_pos"] for h in table["1"]["per_subset"]],
    }
    if system != "reference":
        return out
    sweep = pl.token_node_sweep()
    single = [set(r) for r in sweep["1"]["recognised"]]  # node i's tokens alone, i = 0 .. hidden - 1
    for n in (c for c in ("2", "4") if c in sweep):
        together = [set(r) for r in sweep[n]["recognised"]]
        alone = [[single[i] for i in nodes] for nodes in pl.subset_nodes(int(n))]
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
    for k, panel in pl.validation_scale(system).items():
        for g, summary in panel.items():
            for q, est in means(summary["per_subset"], EMPTY_COLUMNS, _rng()).items():
                out.setdefault(f"{q}_{g}_vs_paragraphs", {})[k] = est
    return out


EMPTY_COLUMNS = ("zero_diagonal_fraction", "zero_diagonal_column_share")  # §3's reading (inputs), §4's (columns)


# ---------------------------------------------------------------------------- nodes (§4, §5)
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
)
def subset_origin(pl: Experiments) -> dict[str, Any]:
    """Signed relative difference (within one head - at random) / at random, per subset size from 2 nodes
    to one head (one node is the same either way), its mean over the sizes and its largest size in absolute
    value; each arm is resampled over its own subsets."""
    rng = _rng()
    rnd, within = pl.token_node_sweep(), pl.token_node_sweep(within_head=True)
    counts = [n for n in _points(within) if n in rnd and n != "1"]
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


# ---------------------------------------------------------------------------- hull (§6)
def _cv(values: np.ndarray) -> float:
    """Standard deviation over mean (0 for a zero mean)."""
    mean = float(np.mean(values))
    return float(np.std(values) / mean) if mean else 0.0


def _hull_panel(panel: dict[str, Any]) -> None:
    n_pos, bound = np.array(panel["n_pos"]), np.array(panel["bound"])
    if np.any(n_pos > bound):
        raise RuntimeError("a subset recognises more labels than its hull bound allows: the bound is wrong")


@measure(
    needs=("fewrel-finetuned",),
    scalars=("tightness_{n}", "gap_{n}", "gap_cv_{n}", "n_pos_{n}", "bound_{n}"),
    curves=("gap_vs_nodes",),
)
def hull_tightness(pl: Experiments) -> dict[str, Any]:
    """Recognised labels over the hull bound (summed over a panel's subsets), and the mean gap."""
    rng, out, gaps = _rng(), {}, {}
    for n, panel in pl.fewrel("reference")["hull"].items():
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


# ---------------------------------------------------------------------------- variants (§3, appendix, §7)
def _learned_ratio(symmetric: float | None, normal: float | None, floor: float) -> Est | None:
    """What the symmetric model learned above the unigram floor, as a share of what the normal one learned."""
    if symmetric is None or normal is None or normal <= floor:
        return None
    return exact((symmetric - floor) / (normal - floor))


@measure(
    needs=("symmetric",),
    scalars=(
        "spread_symmetric",
        "spread_symmetric_attention_dropout",
        "accuracy_ratio_symmetric",
        "learned_ratio_symmetric",
        "union_ratio_symmetric",
    ),
    info=(
        "unigram_masked_accuracy",
        "spread_normal",
        "mlm_accuracy_normal",
        "mlm_accuracy_symmetric",
        "masked_accuracy_normal",
        "masked_accuracy_symmetric",
        "masked_accuracy_ratio_symmetric",
        "union_normal",
        "union_symmetric",
        "n_pos_per_head_normal",
        "n_pos_per_head_symmetric",
        "distinct_head_sets_symmetric",
        "steps",
        "steps_attention_dropout",
        "budget",
    ),
)
def symmetric_collapse(pl: Experiments) -> dict[str, Any]:
    """Identical heads (spread), their breaking by attention dropout, and what the collapse costs: MLM
    accuracy and the union of tokens the heads recognise, symmetric against normal at one budget. Single
    training runs: no intervals."""
    s = pl.symmetric()
    pair = s.get("full", s)  # the reference's budget when the profile compares there, else the short budget
    ref, sym, sad = pair["reference"], pair["symmetric"], s["symmetric-attention-dropout"]
    floor = s["unigram_masked_accuracy"]

    def ratio(a, b):
        return None if a is None or not b else exact(a / b)

    return {
        "spread_symmetric": exact(sym["head_spread"]),
        "spread_symmetric_attention_dropout": exact(sad["head_spread"]),
        "accuracy_ratio_symmetric": ratio(sym["mlm_accuracy"], ref["mlm_accuracy"]),
        "learned_ratio_symmetric": _learned_ratio(sym["masked_accuracy"], ref["masked_accuracy"], floor),
        "unigram_masked_accuracy": floor,
        "union_ratio_symmetric": exact(sym["union_recognised"] / max(ref["union_recognised"], 1)),
        "spread_normal": ref["head_spread"],
        "mlm_accuracy_normal": ref["mlm_accuracy"],
        "mlm_accuracy_symmetric": sym["mlm_accuracy"],
        "masked_accuracy_normal": ref["masked_accuracy"],
        "masked_accuracy_symmetric": sym["masked_accuracy"],
        "masked_accuracy_ratio_symmetric": (
            sym["masked_accuracy"] / ref["masked_accuracy"]
            if sym["masked_accuracy"] and ref["masked_accuracy"]
            else None
        ),
        "union_normal": ref["union_recognised"],
        "union_symmetric": sym["union_recognised"],
        "n_pos_per_head_normal": ref["n_pos_per_head"],
        "n_pos_per_head_symmetric": sym["n_pos_per_head"],
        "distinct_head_sets_symmetric": sym["distinct_head_sets"],
        "steps": ref["steps"],
        "steps_attention_dropout": sad["steps"],
        "budget": "full" if "full" in s else "short",
    }


@measure(
    needs=("heads", "heads-no-dropout", "token-nodes", "fewrel-finetuned", "fewrel-no-dropout"),
    scalars=(
        "n_pos_ratio",
        "apt_ratio",
        "n_pos_1_ratio",
        "apt_1_ratio",
        "n_pos_min_no_dropout",
        "fewrel_accuracy_ratio",
        "fewrel_apt_1_ratio",
        "fewrel_n_pos_1_ratio",
    ),
    info=(
        "fewrel_accuracy_dropout",
        "fewrel_accuracy_no_dropout",
        "fewrel_apt_1_dropout",
        "fewrel_apt_1_no_dropout",
        "fewrel_n_pos_1_dropout",
        "fewrel_n_pos_1_no_dropout",
        "n_pos_mean_dropout",
        "n_pos_mean_no_dropout",
        "apt_mean_dropout",
        "apt_mean_no_dropout",
        "n_pos_1_dropout",
        "n_pos_1_no_dropout",
        "apt_1_dropout",
        "apt_1_no_dropout",
        "mlm_accuracy_dropout",
        "mlm_accuracy_no_dropout",
    ),
)
def no_dropout(pl: Experiments) -> dict[str, Any]:
    """No-dropout against the reference: each head alone, and every single node (each arm resampled over
    its own heads or nodes); on FewRel ("classification"), each backbone fine-tuned: the label head's
    accuracy with all nodes (one test split: exact) and every single node's APT and recognised labels."""
    rng = _rng()
    heads_nod = pl.head_table("no-dropout")["1"]
    ref, nod = _group(pl.head_table()["1"], rng), _group(heads_nod, rng)
    node_ref = _group(pl.token_node_sweep(counts=(1,))["1"], rng)
    node_nod = _group(pl.token_node_sweep(name="no-dropout", counts=(1,))["1"], rng)
    return {
        "n_pos_ratio": nod["n_pos"] / ref["n_pos"],
        "apt_ratio": nod["apt"] / ref["apt"],
        "n_pos_1_ratio": node_nod["n_pos"] / node_ref["n_pos"],
        "apt_1_ratio": node_nod["apt"] / node_ref["apt"],
        "n_pos_min_no_dropout": exact(min(h["n_pos"] for h in heads_nod["per_subset"])),
        "n_pos_mean_dropout": ref["n_pos"].value,
        "n_pos_mean_no_dropout": nod["n_pos"].value,
        "apt_mean_dropout": ref["apt"].value,
        "apt_mean_no_dropout": nod["apt"].value,
        "n_pos_1_dropout": node_ref["n_pos"].value,
        "n_pos_1_no_dropout": node_nod["n_pos"].value,
        "apt_1_dropout": node_ref["apt"].value,
        "apt_1_no_dropout": node_nod["apt"].value,
        "mlm_accuracy_dropout": _mlm_accuracy(pl, "reference"),
        "mlm_accuracy_no_dropout": _mlm_accuracy(pl, "no-dropout"),
        **_fewrel_no_dropout(pl, rng),
    }


def _fewrel_no_dropout(pl: Experiments, rng: np.random.Generator) -> dict[str, Any]:
    """Appendix 3's classification part: the no-dropout backbone fine-tuned on FewRel against the reference."""
    ref, nod = pl.fewrel("reference")["nodes"], pl.fewrel("no-dropout")["nodes"]
    whole = str(pl.profile.backbone.hidden)
    acc = {k: sweep[whole]["per_subset"][0]["accuracy"] for k, sweep in (("dropout", ref), ("no_dropout", nod))}
    one_ref, one_nod = _group(ref["1"], rng), _group(nod["1"], rng)
    return {
        "fewrel_accuracy_ratio": exact(acc["no_dropout"] / acc["dropout"]) if acc["dropout"] else None,
        "fewrel_apt_1_ratio": one_nod["apt"] / one_ref["apt"],
        "fewrel_n_pos_1_ratio": one_nod["n_pos"] / one_ref["n_pos"],
        **{f"fewrel_accuracy_{k}": v for k, v in acc.items()},
        "fewrel_apt_1_dropout": one_ref["apt"].value,
        "fewrel_apt_1_no_dropout": one_nod["apt"].value,
        "fewrel_n_pos_1_dropout": one_ref["n_pos"].value,
        "fewrel_n_pos_1_no_dropout": one_nod["n_pos"].value,
    }


def _mlm_accuracy(pl: Experiments, name: str) -> float | None:
    """A backbone's held-out MLM accuracy at the end of its pre-training, from its training record."""
    folder, _ = pl.backbone(name)
    return json.loads((folder / "record.json").read_text())["final_eval"].get("eval_mlm_accuracy")


@measure(
    needs=("depth",),
    curves=("n_pos_per_head_vs_block",),
    scalars=("last_over_first",),
    info=("apt_per_head_vs_block", "n_pos_all_heads_vs_block", "union_vs_block", "jaccard_vs_block"),
)
def depth_prominence(pl: Experiments) -> dict[str, Any]:
    """Per block: n_pos per head (the reading checked), APT per head, all heads' n_pos, the union of the
    heads' recognised tokens and their mean pairwise overlap (Jaccard)."""
    rng = _rng()
    depth = pl.depth()
    blocks = sorted(depth, key=int)
    groups = {b: _group(depth[b]["1"], rng) for b in blocks}
    n_pos = {b: groups[b]["n_pos"] for b in blocks}
    sets = {b: [set(r) for r in depth[b]["1"]["recognised"]] for b in blocks}
    return {
        "n_pos_per_head_vs_block": n_pos,
        "last_over_first": n_pos[blocks[-1]] / n_pos[blocks[0]],
        "apt_per_head_vs_block": {b: groups[b]["apt"].value for b in blocks},
        "n_pos_all_heads_vs_block": {b: depth[b]["all"]["per_subset"][0]["n_pos"] for b in blocks},
        "union_vs_block": {b: len(set().union(*sets[b])) for b in blocks},
        "jaccard_vs_block": {b: round(_jaccard_mean(sets[b]), 4) for b in blocks},
    }


# ---------------------------------------------------------------------------- the probe's control (report only)
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
