"""The claims engine: load declarative specs (``claims/*.toml``), measure, and give verdicts.

A spec names a *measure* (a function below that reads one or more cached experiments of the
:class:`~ssb.experiments.Pipeline` and returns named numbers and curves) and, per profile, a list of
*checks* on those quantities. A check is one of

- ``{ quantity = "q", op = ">", value = 0.5 }`` with op in ``> >= < <= ==``, or
  ``{ quantity = "q", op = "between", value = [lo, hi] }``;
- ``{ quantity = "curve", shape = "increasing", tolerance = t }``: every step rises by more than ``-t``;
- ``{ quantity = "curve", shape = "dip-then-rise", tolerance = t }``: the minimum lies strictly inside,
  with the first and last points above it by more than ``t``;
- ``{ quantity = "curve", shape = "argmin-between", value = [lo, hi] }``: the x of the minimum.

A profile's expectation may carry ``xfail = "reason"``: the claim is known not to show there (the reason
gives the measured numbers); pytest then expects the failure strictly, so a claim that starts to hold is
noticed. A malformed spec raises :class:`SpecError` naming the file and the field.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .experiments import Pipeline
from .reference import MissingReference

OPS: dict[str, Callable[[float, Any], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "between": lambda a, b: b[0] <= a <= b[1],
}
SHAPES = ("increasing", "dip-then-rise", "argmin-between")
EXPERIMENTS = ("heads", "token-nodes", "token-nodes-within-head", "fewrel-finetuned", "fewrel-random",
               "symmetric", "heads-no-dropout", "depth")


class SpecError(ValueError):
    """A claim spec is malformed: the message names the file and the field."""


@dataclass(frozen=True)
class Check:
    quantity: str
    op: str | None = None
    shape: str | None = None
    value: Any = None
    tolerance: float = 0.0

    def describe(self) -> str:
        if self.shape:
            extra = f" {self.value}" if self.value is not None else ""
            tol = f" (tol {self.tolerance})" if self.tolerance else ""
            return f"{self.quantity} {self.shape}{extra}{tol}"
        return f"{self.quantity} {self.op} {self.value}"


@dataclass(frozen=True)
class Expectation:
    checks: tuple[Check, ...]
    why: str = ""  # justification of the tolerances
    xfail: str | None = None


@dataclass(frozen=True)
class Spec:
    id: str
    paper: str
    statement: str
    experiments: tuple[str, ...]
    measure: str
    expect: dict[str, Expectation]
    path: Path


@dataclass
class Verdict:
    spec: Spec
    profile: str
    passed: bool | None  # None: no expectation for this profile
    measured: dict[str, Any]
    failures: list[str] = field(default_factory=list)
    xfail: str | None = None
    skipped: str | None = None  # why the claim could not be measured (e.g. a backbone not yet committed)

    @property
    def label(self) -> str:
        if self.skipped:
            return "skipped"
        if self.passed is None:
            return "no expectation"
        if self.xfail:
            return "xfail (expected)" if not self.passed else "XPASS (unexpected)"
        return "pass" if self.passed else "FAIL"


# ---------------------------------------------------------------------------- spec loading
def _require(data: dict, key: str, kind: type, where: str) -> Any:
    if key not in data:
        raise SpecError(f"{where}: missing field '{key}'")
    if not isinstance(data[key], kind):
        raise SpecError(f"{where}: field '{key}' must be {kind.__name__}, got {data[key]!r}")
    return data[key]


def _check_from(entry: Any, where: str) -> Check:
    if not isinstance(entry, dict):
        raise SpecError(f"{where} must be a table like {{ quantity = ..., op = ..., value = ... }}")
    unknown = set(entry) - {"quantity", "op", "shape", "value", "tolerance"}
    if unknown:
        raise SpecError(f"{where}: unknown key '{sorted(unknown)[0]}'")
    quantity = _require(entry, "quantity", str, where)
    op, shape = entry.get("op"), entry.get("shape")
    if (op is None) == (shape is None):
        raise SpecError(f"{where}: give exactly one of 'op' or 'shape'")
    if op is not None and op not in OPS:
        raise SpecError(f"{where}: field 'op' must be one of {', '.join(OPS)}, got {op!r}")
    if shape is not None and shape not in SHAPES:
        raise SpecError(f"{where}: field 'shape' must be one of {', '.join(SHAPES)}, got {shape!r}")
    value = entry.get("value")
    needs_pair = op == "between" or shape == "argmin-between"
    if needs_pair and not (isinstance(value, list) and len(value) == 2):
        raise SpecError(f"{where}: field 'value' must be [low, high]")
    if op is not None and not needs_pair and not isinstance(value, (int, float)):
        raise SpecError(f"{where}: field 'value' must be a number")
    tolerance = entry.get("tolerance", 0.0)
    if not isinstance(tolerance, (int, float)) or isinstance(tolerance, bool):
        raise SpecError(f"{where}: field 'tolerance' must be a number")
    return Check(quantity, op, shape, value, float(tolerance))


def load_spec(path: Path) -> Spec:
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{path}: not valid TOML: {err}") from err
    where = str(path)
    unknown = set(data) - {"id", "paper", "statement", "experiments", "measure", "expect"}
    if unknown:
        raise SpecError(f"{where}: unknown field '{sorted(unknown)[0]}'")
    spec_id = _require(data, "id", str, where)
    experiments = _require(data, "experiments", list, where)
    for name in experiments:
        if name not in EXPERIMENTS:
            raise SpecError(f"{where}: field 'experiments' names unknown experiment {name!r} (known: {', '.join(EXPERIMENTS)})")
    measure = _require(data, "measure", str, where)
    if measure not in MEASURES:
        raise SpecError(f"{where}: field 'measure' names unknown measure {measure!r} (known: {', '.join(MEASURES)})")
    expect_table = _require(data, "expect", dict, where)
    expect = {}
    for profile, table in expect_table.items():
        w = f"{where}: field 'expect.{profile}'"
        if not isinstance(table, dict):
            raise SpecError(f"{w} must be a table")
        unknown = set(table) - {"checks", "why", "xfail"}
        if unknown:
            raise SpecError(f"{w}: unknown key '{sorted(unknown)[0]}'")
        checks = _require(table, "checks", list, w)
        if not checks:
            raise SpecError(f"{w}: field 'checks' is empty")
        xfail = table.get("xfail")
        if xfail is not None and not isinstance(xfail, str):
            raise SpecError(f"{w}: field 'xfail' must be a string (the reason, with the measured numbers)")
        expect[profile] = Expectation(
            checks=tuple(_check_from(c, f"{w}.checks[{i}]") for i, c in enumerate(checks)),
            why=str(table.get("why", "")), xfail=xfail,
        )
    return Spec(spec_id, _require(data, "paper", str, where), _require(data, "statement", str, where),
                tuple(experiments), measure, expect, path)


def load_specs(folder: Path) -> list[Spec]:
    specs = [load_spec(p) for p in sorted(folder.glob("*.toml"))]
    seen: dict[str, Path] = {}
    for spec in specs:
        if spec.id in seen:
            raise SpecError(f"{spec.path}: field 'id' {spec.id!r} is also used by {seen[spec.id]}")
        seen[spec.id] = spec.path
    return specs


# ---------------------------------------------------------------------------- checks
def _curve(measured: dict[str, Any], name: str) -> tuple[list[float], list[float]]:
    curve = measured[name]
    xs = sorted(curve, key=float)
    return [float(x) for x in xs], [float(curve[x]) for x in xs]


def run_check(check: Check, measured: dict[str, Any]) -> str | None:
    """None if the check holds, else a sentence saying how it failed."""
    if check.quantity not in measured:
        return f"{check.quantity}: not measured (measured: {', '.join(sorted(measured))})"
    if check.op is not None:
        value = measured[check.quantity]
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return f"{check.describe()}: measured nothing"
        return None if OPS[check.op](value, check.value) else f"{check.describe()}: measured {_fmt(value)}"
    xs, ys = _curve(measured, check.quantity)
    if check.shape == "increasing":
        drops = [(xs[i + 1], ys[i + 1] - ys[i]) for i in range(len(ys) - 1) if ys[i + 1] - ys[i] <= -check.tolerance]
        return None if not drops else f"{check.describe()}: falls at x = {', '.join(f'{x:g} ({d:+.4f})' for x, d in drops)}"
    i_min = int(np.argmin(ys))
    if check.shape == "argmin-between":
        lo, hi = check.value
        return None if lo <= xs[i_min] <= hi else f"{check.describe()}: minimum at x = {xs[i_min]:g}"
    # dip-then-rise
    inside = 0 < i_min < len(ys) - 1
    if inside and ys[0] - ys[i_min] > check.tolerance and ys[-1] - ys[i_min] > check.tolerance:
        return None
    return (f"{check.describe()}: minimum {ys[i_min]:.4f} at x = {xs[i_min]:g}, "
            f"first {ys[0]:.4f}, last {ys[-1]:.4f}")


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# ---------------------------------------------------------------------------- measures
def _mean_curve(sweep: dict[str, Any], metric: str) -> dict[str, float]:
    return {n: v[metric]["mean"] for n, v in sweep.items() if isinstance(v, dict) and metric in v}


def _jaccard_mean(sets: list[set[int]]) -> float:
    pairs = [len(a & b) / len(a | b) for a, b in itertools.combinations(sets, 2) if a | b]
    return float(np.mean(pairs)) if pairs else 0.0


def head_specialisation(pl: Pipeline) -> dict[str, Any]:
    table = pl.head_table()
    heads = table["1"]
    sets = [set(r) for r in heads["recognised"]]
    vocab = table["vocab_size"]
    return {
        "n_pos_per_head": [h["n_pos"] for h in heads["per_subset"]],
        "n_pos_min": heads["n_pos"]["min"],
        "n_pos_mean": heads["n_pos"]["mean"],
        "apt_mean": heads["apt"]["mean"],
        "apt_over_chance": heads["apt"]["mean"] * vocab,
        "confidence_mean": heads["diagonal_confidence"]["mean"],
        "jaccard_mean": _jaccard_mean(sets),
        "union_recognised": len(set().union(*sets)),
        "n_distinct_tokens": table["n_distinct_tokens"],
        "vocab_size": vocab,
    }


def head_cooperation(pl: Pipeline) -> dict[str, Any]:
    table = pl.head_table()
    groups = [g for g in ("1", "2", "4", "all") if g in table]
    index = {g: str(i) for i, g in enumerate(groups)}  # curves indexed 0, 1, 2, 3 for 1, 2, 4, all heads
    out: dict[str, Any] = {"groups": groups}
    for metric, name in (("n_pos", "n_pos"), ("apt", "apt"), ("diagonal_confidence", "confidence")):
        out[f"{name}_vs_heads"] = {index[g]: table[g][metric]["mean"] for g in groups}
        for g in groups:
            out[f"{name}_{g}"] = table[g][metric]["mean"]
    return out


def node_specialisation(pl: Pipeline) -> dict[str, Any]:
    """Single nodes and pairs; the random guess is the paper's, 1 / (average n_pos) ("1/3.7 ~ 0.27"),
    with the per-subset average of 1 / n_pos reported beside it."""
    sweep = pl.token_node_sweep()
    out: dict[str, Any] = {}
    for n in ("1", "2"):
        if n not in sweep:
            continue
        v = sweep[n]
        guess = 1.0 / max(v["n_pos"]["mean"], 1e-12)
        out.update({f"n_pos_{n}": v["n_pos"]["mean"], f"apt_{n}": v["apt"]["mean"], f"random_guess_{n}": guess,
                    f"random_guess_per_subset_{n}": v["random_guess"]["mean"],
                    f"apt_over_guess_{n}": v["apt"]["mean"] / guess,
                    f"confidence_{n}": v["diagonal_confidence"]["mean"]})
    return out


def _crossover(sweep: dict[str, Any]) -> dict[str, Any]:
    apt = _mean_curve(sweep, "apt")
    xs = sorted(apt, key=int)
    i_min = int(np.argmin([apt[x] for x in xs]))
    n_pos = _mean_curve(sweep, "n_pos")
    return {
        **{f"apt_{x}": apt[x] for x in xs},
        **{f"n_pos_{x}": n_pos[x] for x in xs},
        "apt_vs_nodes": apt,
        "random_guess_vs_nodes": _mean_curve(sweep, "random_guess"),
        "n_pos_vs_nodes": _mean_curve(sweep, "n_pos"),
        "argmin_nodes": int(xs[i_min]),
        "apt_min": apt[xs[i_min]],
        "apt_first": apt[xs[0]],
        "apt_last": apt[xs[-1]],
    }


def _confidence(sweep: dict[str, Any]) -> dict[str, Any]:
    conf = _mean_curve(sweep, "diagonal_confidence")
    xs = sorted(conf, key=int)
    return {"confidence_vs_nodes": conf, "confidence_first": conf[xs[0]], "confidence_last": conf[xs[-1]],
            "n_pos_vs_nodes": _mean_curve(sweep, "n_pos")}


def pretrain_crossover(pl: Pipeline) -> dict[str, Any]:
    return _crossover(pl.token_node_sweep())


def pretrain_confidence(pl: Pipeline) -> dict[str, Any]:
    return _confidence(pl.token_node_sweep())


def subset_origin(pl: Pipeline) -> dict[str, Any]:
    rnd, within = pl.token_node_sweep(), pl.token_node_sweep(within_head=True)
    counts = [n for n in within if isinstance(within[n], dict) and n in rnd]

    def rel(metric: str) -> float:
        return max(abs(within[n][metric]["mean"] - rnd[n][metric]["mean"]) / max(abs(rnd[n][metric]["mean"]), 1e-12)
                   for n in counts)

    return {"counts": counts, "n_pos_max_rel_diff": rel("n_pos"), "apt_max_rel_diff": rel("apt"),
            "apt_random": _mean_curve({n: rnd[n] for n in counts}, "apt"),
            "apt_within_head": _mean_curve({n: within[n] for n in counts}, "apt")}


def finetune_crossover(pl: Pipeline) -> dict[str, Any]:
    result = pl.fewrel("finetuned")
    return {**_crossover(result["nodes"]), "n_labels": result["n_labels"]}


def finetune_confidence(pl: Pipeline) -> dict[str, Any]:
    return _confidence(pl.fewrel("finetuned")["nodes"])


def hull_tightness(pl: Pipeline) -> dict[str, Any]:
    hull = pl.fewrel("finetuned")["hull"]
    out: dict[str, Any] = {}
    gaps = {}
    for n, v in hull.items():
        n_pos, bound = np.array(v["n_pos"]), np.array(v["bound"])
        if np.any(n_pos > bound):
            raise RuntimeError(f"{n} nodes: a subset recognises more labels than its hull bound allows: the bound is wrong")
        out[f"n_pos_{n}"], out[f"bound_{n}"] = float(n_pos.mean()), float(bound.mean())
        out[f"tightness_{n}"] = float(n_pos.sum() / bound.sum())
        gaps[n] = float((bound - n_pos).mean())
        out[f"gap_{n}"] = gaps[n]
    out["gap_vs_nodes"] = gaps
    return out


def hull_untrained(pl: Pipeline) -> dict[str, Any]:
    trained, random = pl.fewrel("finetuned"), pl.fewrel("random")
    out: dict[str, Any] = {}
    ratios = []
    for n in trained["hull"]:
        bt, br = np.mean(trained["hull"][n]["bound"]), np.mean(random["hull"][n]["bound"])
        out[f"bound_trained_{n}"], out[f"bound_random_{n}"] = float(bt), float(br)
        ratios.append(br / bt)
    predicted = _mean_curve(random["nodes"], "n_predicted")
    out.update({
        "bound_ratio_min": float(min(ratios)), "bound_ratio_max": float(max(ratios)),
        "random_n_predicted_vs_nodes": predicted,
        "random_n_predicted_max": float(max(predicted.values())),
        "random_n_predicted_mean": float(np.mean(list(predicted.values()))),
        "trained_n_predicted_vs_nodes": _mean_curve(trained["nodes"], "n_predicted"),
        "trained_n_predicted_max": float(max(_mean_curve(trained["nodes"], "n_predicted").values())),
        "random_trained_head_n_predicted_max": float(max(_mean_curve(random["trained_head"]["nodes"], "n_predicted").values())),
    })
    return out


def symmetric_collapse(pl: Pipeline) -> dict[str, Any]:
    """Spreads from the three short backbones; with ``symmetric_full_budget`` the accuracy and the union of
    recognised tokens come from the reference and the symmetric variant at the reference's budget (the
    short backbones' values are kept with a ``_short`` suffix)."""
    s = pl.symmetric()
    out = _symmetry_measures(s)
    if "full" in s:
        full = _symmetry_measures(s["full"])
        out = {**{k: v for k, v in out.items() if k.startswith("spread")},  # the deciding values first
               "spread_symmetric_full_budget": full["spread_symmetric"],
               **{k: v for k, v in full.items() if not k.startswith("spread") and v is not None},
               **{f"{k}_short": v for k, v in out.items() if not k.startswith("spread")}}
    return out


def _symmetry_measures(s: dict[str, Any]) -> dict[str, Any]:
    sad = s.get("symmetric-attention-dropout", {})
    return {
        "spread_symmetric": s["symmetric"]["head_spread"],
        "spread_symmetric_attention_dropout": sad.get("head_spread"),
        "spread_normal": s["reference"]["head_spread"],
        "mlm_accuracy_normal": s["reference"]["mlm_accuracy"],
        "mlm_accuracy_symmetric": s["symmetric"]["mlm_accuracy"],
        "mlm_accuracy_symmetric_attention_dropout": sad.get("mlm_accuracy"),
        "accuracy_ratio_symmetric": s["symmetric"]["mlm_accuracy"] / max(s["reference"]["mlm_accuracy"], 1e-12),
        "masked_accuracy_normal": s["reference"].get("masked_accuracy"),
        "masked_accuracy_symmetric": s["symmetric"].get("masked_accuracy"),
        # tokens recognised by at least one head (each head alone, block-L token probe of each backbone)
        "union_normal": s["reference"]["union_recognised"],
        "union_symmetric": s["symmetric"]["union_recognised"],
        "union_symmetric_attention_dropout": sad.get("union_recognised"),
        "union_ratio_symmetric": s["symmetric"]["union_recognised"] / max(s["reference"]["union_recognised"], 1),
        "n_pos_per_head_normal": s["reference"]["n_pos_per_head"],
        "n_pos_per_head_symmetric": s["symmetric"]["n_pos_per_head"],
        "distinct_head_sets_symmetric": s["symmetric"]["distinct_head_sets"],
        "steps": s["reference"]["steps"],
    }


def no_dropout(pl: Pipeline) -> dict[str, Any]:
    ref, nod = pl.head_table()["1"], pl.head_table("no-dropout")["1"]
    return {
        "n_pos_mean_dropout": ref["n_pos"]["mean"], "n_pos_mean_no_dropout": nod["n_pos"]["mean"],
        "apt_mean_dropout": ref["apt"]["mean"], "apt_mean_no_dropout": nod["apt"]["mean"],
        "n_pos_ratio": nod["n_pos"]["mean"] / max(ref["n_pos"]["mean"], 1e-12),
        "apt_ratio": nod["apt"]["mean"] / max(ref["apt"]["mean"], 1e-12),
        "n_pos_min_no_dropout": nod["n_pos"]["min"],
    }


def depth_prominence(pl: Pipeline) -> dict[str, Any]:
    from scipy.stats import spearmanr

    depth = pl.depth()
    curve = {layer: v["1"]["n_pos"]["mean"] for layer, v in depth.items()}
    layers = sorted(curve, key=int)
    rho = spearmanr([int(x) for x in layers], [curve[x] for x in layers]).statistic if len(layers) > 2 else 1.0
    return {"n_pos_per_head_vs_block": curve, "spearman": float(rho),
            "last_over_first": curve[layers[-1]] / max(curve[layers[0]], 1e-12)}


MEASURES: dict[str, Callable[[Pipeline], dict[str, Any]]] = {
    f.__name__.replace("_", "-"): f
    for f in (head_specialisation, head_cooperation, node_specialisation, pretrain_crossover, pretrain_confidence,
              subset_origin, finetune_crossover, finetune_confidence, hull_tightness, hull_untrained,
              symmetric_collapse, no_dropout, depth_prominence)
}


# ---------------------------------------------------------------------------- evaluation
def evaluate(spec: Spec, pipeline: Pipeline, skip_missing: bool = False) -> Verdict:
    """Measure and check one claim. With ``skip_missing``, a backbone that a committed-reference profile
    lacks gives a ``skipped`` verdict with the reason instead of raising :class:`MissingReference`."""
    profile = pipeline.profile.name
    try:
        measured = MEASURES[spec.measure](pipeline)
    except MissingReference as err:
        if not skip_missing:
            raise
        return Verdict(spec, profile, None, {}, [str(err)], skipped=str(err))
    expectation = spec.expect.get(profile)
    if expectation is None:
        return Verdict(spec, profile, None, measured)
    failures = [f for c in expectation.checks if (f := run_check(c, measured)) is not None]
    return Verdict(spec, profile, not failures, measured, failures, expectation.xfail)


def _short(measured: dict[str, Any], limit: int = 6) -> str:
    scalars = [(k, v) for k, v in measured.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return ", ".join(f"{k}={_fmt(float(v)) if isinstance(v, float) else v}" for k, v in scalars[:limit])


def verdict_table(verdicts: list[Verdict]) -> str:
    """A Markdown table: claim, paper reference, verdict, measured numbers, failed checks."""
    rows = ["| claim | paper | verdict | measured | failed checks |", "|---|---|---|---|---|"]
    for v in verdicts:
        rows.append(f"| {v.spec.id} | {v.spec.paper} | {v.label} | {_short(v.measured)} | {'; '.join(v.failures)} |")
    return "\n".join(rows)
