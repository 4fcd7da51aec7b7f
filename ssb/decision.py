"""Deciding a check: three-valued verdicts on a value and its bootstrap replicates, margins, and the
evidence behind a pinned (expected) failure. Pure functions of what a measure returned; the rules are
``ssb/claims.py``'s docstring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .estimate import Est, replicate_matrix
from .measures.registry import MeasureError
from .spec import MIN_CURVE_POINTS, Check, Spec


@dataclass
class CheckResult:
    check: Check
    value: Any  # the point value: a number, or a curve {x: y}
    interval: tuple[float, float] | None  # of the quantity (scalars) or of the margin (shapes)
    verdict: str  # holds | fails | inconclusive
    detail: str = ""
    reference_value: Any = None  # with a control: the reference's value and the control's (value is the difference)
    control_value: Any = None
    n_items: int = 1  # the items the interval resamples (heads, node subsets, ...)
    margin: float = 0.0  # how far the point value lies on the passing side of the threshold (< 0: failing side)
    margin_interval: tuple[float, float] | None = None
    evidence: dict[str, Any] = field(default_factory=dict)  # a pin's evidence, computed in the run
    pin_problem: str | None = None  # the evidence contradicts the pin's kind of reason
    margin_sd: float | None = None  # the bootstrap replicates' standard deviation of the margin (None: exact)
    failing_share: float | None = None  # the share of replicates on the failing side of the threshold
    seed_runs: int = 1  # the seed runs its value and interval combine (``ssb.seeds``)
    per_seed: list[Any] | None = None  # each run's value (a scalar) or margin (a shape), with seed_runs > 1
    backbone_runs: int = 1  # the backbones the seed runs sit in (``[seeds] over_backbones``)
    point_holds: bool | None = None  # the point value lies on the passing side of the threshold
    # the run's specificity rows contradict the check's ``specific`` declaration (``ssb.specificity``)
    specificity_problem: str | None = None

    @property
    def outcome(self) -> str:
        """pass, FAIL, INCONCLUSIVE, xfail (expected), XPASS (a pinned check that holds), MISPINNED (a
        pinned check whose evidence contradicts its kind of reason) or MISDECLARED (the controls contradict its
        spec's ``specific``: a control holds an undeclared check, or every control fails a declared one)."""
        if self.pin_problem:
            return "MISPINNED"
        if self.specificity_problem:
            return "MISDECLARED"
        if self.check.xfail:
            return "XPASS" if self.verdict == "holds" else "xfail"
        return {"holds": "pass", "fails": "FAIL", "inconclusive": "INCONCLUSIVE"}[self.verdict]

    @property
    def ok(self) -> bool:
        return self.outcome in ("pass", "xfail")

    def describe(self) -> str:
        value = _fmt_value(self.value)
        ci = f" [{self.interval[0]:.4g}, {self.interval[1]:.4g}]" if self.interval else " (no interval)"
        if self.check.control:
            ref, ctl = _fmt_value(self.reference_value), _fmt_value(self.control_value)
            ci += f" (reference {ref}, {self.check.control} {ctl})"
        if self.per_seed:
            what = "margins" if self.check.shape else "values"
            over = f" over {self.backbone_runs} backbones" if self.backbone_runs > 1 else ""
            ci += f" ({self.seed_runs} seed runs{over}, {what} {', '.join(f'{v:.4g}' for v in self.per_seed)})"
        return f"{self.check.name}: {value}{ci} vs {self.check.threshold()}: {self.verdict}" + (
            f" ({self.detail})" if self.detail else ""
        )


@dataclass
class Verdict:
    spec: Spec
    tier: str
    checks: list[CheckResult]
    measured: dict[str, Any]  # point values of every quantity (JSON-ready)
    skipped: str | None = None  # why the claim could not be measured (e.g. a backbone not committed)
    skipped_checks: dict[str, str] = field(default_factory=dict)  # check name -> why it was not run
    undecided: str | None = None  # why the tier cannot decide the claim (its spec says so; nothing measured)
    specificity: list[Any] = field(default_factory=list)  # ``ssb.specificity.SpecificityRow``: checks on controls

    @property
    def ok(self) -> bool:
        return self.skipped is not None or self.undecided is not None or all(c.ok for c in self.checks)

    @property
    def label(self) -> str:
        if self.undecided is not None:
            return "undecided"
        if self.skipped:
            return "skipped"
        outcomes = [c.outcome for c in self.checks]
        for bad in ("FAIL", "INCONCLUSIVE", "XPASS", "MISPINNED", "MISDECLARED"):
            if bad in outcomes:
                return bad
        return "xfail" if "xfail" in outcomes else "holds"

    def result(self, name: str) -> CheckResult:
        return next(c for c in self.checks if c.check.name == name)


def _curve_points(quantity: str, curve: Any) -> tuple[list[float], list[Est]]:
    if not isinstance(curve, dict):
        raise MeasureError(f"{quantity}: a curve was expected, the measure gave {type(curve).__name__}")
    xs = sorted(curve, key=float)
    return [float(x) for x in xs], [curve[x] if isinstance(curve[x], Est) else Est(float(curve[x])) for x in xs]


def _margin(check: Check, x: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, bool, np.ndarray]:
    """``(margin, strict, argmin)`` of a shape check on curves ``ys`` ``[k, n_points]``: it holds where
    ``margin > 0`` (strict) or ``>= 0``."""
    i_min = ys.argmin(axis=1)  # [k]
    if check.shape == "increasing":
        steps = ys[:, 1:] - ys[:, :-1] + check.rel_tolerance * np.abs(ys[:, :-1])  # [k, n_points - 1]
        return steps.min(axis=1), True, i_min
    if check.shape == "decreasing":
        return (ys[:, :-1] - ys[:, 1:]).min(axis=1), True, i_min  # the smallest fall: > 0 at every step
    if check.shape == "argmin-between":
        lo, hi = check.value
        return np.minimum(x[i_min] - lo, hi - x[i_min]), False, i_min
    y_min = ys.min(axis=1)
    return np.minimum(ys[:, 0] - y_min, ys[:, -1] - y_min) - check.tolerance, True, i_min  # dip-then-rise


def _scalar_margin(check: Check, v: np.ndarray) -> tuple[np.ndarray, bool]:
    if check.op == "between":
        return np.minimum(v - check.value[0], check.value[1] - v), False
    sign = 1.0 if check.op in (">", ">=") else -1.0
    return sign * (v - check.value), check.op in (">", "<")


def run_check(check: Check, measured: dict[str, Any], level: float = 0.95) -> CheckResult:
    """Evaluate one check on the point value and the bootstrap replicates; see the module doc."""
    if check.quantity not in measured:
        raise MeasureError(
            f"{check.name}: quantity {check.quantity!r} was not measured in this run "
            f"(measured: {', '.join(sorted(measured))})"
        )
    if measured[check.quantity] is None:
        raise MeasureError(
            f"{check.name}: quantity {check.quantity!r} has no value in this run: its measure found nothing "
            f"to compute it from (too little data for it at this profile?)"
        )
    q = measured[check.quantity]
    if check.op is not None:
        est = q if isinstance(q, Est) else Est(float(q))
        if not np.isfinite(est.value):
            raise MeasureError(f"{check.name}: {check.quantity} is {est.value}")
        point, strict = _scalar_margin(check, np.array([est.value]))
        reps = None if est.reps is None else _scalar_margin(check, est.reps)[0]
        interval, detail, value, n_items = est.interval(level), "", est.value, est.n_items
    else:
        x, points = _curve_points(check.quantity, q)
        if len(points) < MIN_CURVE_POINTS:
            raise MeasureError(
                f"{check.name}: shape '{check.shape}' needs at least {MIN_CURVE_POINTS} points, "
                f"{check.quantity} has {len(points)}"
            )
        xa = np.array(x)
        point, strict, i_min = _margin(check, xa, np.array([[p.value for p in points]]))
        matrix = replicate_matrix(points)
        reps = None if matrix is None else _margin(check, xa, matrix)[0]
        value = {f"{xi:g}": p.value for xi, p in zip(x, points, strict=True)}
        interval = None
        if reps is not None:
            tail = 100 * (1 - level) / 2
            interval = tuple(float(v) for v in np.percentile(reps, [tail, 100 - tail]))
        detail = f"margin {point[0]:+.4g}; minimum at x = {x[int(i_min[0])]:g}"
        n_items = max(p.n_items for p in points)
    passes = (lambda m: m > 0) if strict else (lambda m: m >= 0)
    point_ok = bool(passes(point[0]))
    if reps is None:
        verdict = "holds" if point_ok else "fails"
    else:
        tail = 100 * (1 - level) / 2
        lo, hi = np.percentile(reps, [tail, 100 - tail])
        verdict = "holds" if point_ok and passes(lo) else "fails" if not point_ok and not passes(hi) else "inconclusive"
    margin = float(point[0])
    margin_interval = None if reps is None else tuple(float(v) for v in np.percentile(reps, [tail, 100 - tail]))
    margin_sd = None if reps is None else float(np.nanstd(reps))
    failing_share = None if reps is None else float(np.mean(~passes(reps)))
    return CheckResult(
        check,
        value,
        interval,
        verdict,
        detail,
        n_items=n_items,
        margin=margin,
        margin_interval=margin_interval,
        margin_sd=margin_sd,
        failing_share=failing_share,
        point_holds=point_ok,
    )


def pin_evidence(result: CheckResult, measured: dict[str, Any]) -> None:
    """Fill a pinned check's evidence from the run (see ``REASONS``), and say where it contradicts the pin."""
    check, margin, lo_hi = result.check, result.margin, result.margin_interval
    if check.reason == "scale":
        if check.knob not in measured:
            raise MeasureError(f"{check.name}: its scale knob {check.knob!r} was not measured in this run")
        x, points = _curve_points(check.knob, measured[check.knob])
        if len(points) < 2:
            raise MeasureError(f"{check.name}: its scale knob {check.knob!r} has {len(points)} point; a trend needs 2")
        margins = _scalar_margin(check, np.array([p.value for p in points]))[0]
        trend = scale_trend(check.knob, x, [p.value for p in points], margins)
        result.evidence.update(trend, paper_scale=check.paper_scale)
        reached = trend.get("threshold_reached_at")
        if margins[-1] <= margins[0]:
            result.pin_problem = (
                f"its scale trend along {check.knob} does not move toward the threshold (margin {margins[0]:+.4g} at "
                f"x = {x[0]:g}, {margins[-1]:+.4g} at x = {x[-1]:g}): a faithful negative, not a question of scale"
            )
        elif reached is None or reached > check.paper_scale:
            where = "never" if reached is None else f"only at x = {reached:.3g}"
            result.pin_problem = (
                f"its scale trend along {check.knob}, extended through its last two points, reaches the threshold "
                f"{where}, beyond the paper's x = {check.paper_scale:g}: the scale the reason blames does not "
                "explain it (a faithful negative)"
            )
    elif check.reason == "sampling":
        if lo_hi is None:
            result.pin_problem = "a sampling reason needs an interval, and this quantity has none (an exact value)"
        elif result.verdict == "fails":
            result.pin_problem = (
                f"its whole interval lies beyond the threshold (margin {margin:+.4g} "
                f"[{lo_hi[0]:+.4g}, {lo_hi[1]:+.4g}]): more items would not change the verdict, so the reason is "
                "not sampling"
            )
        elif result.point_holds is False:
            result.pin_problem = (
                f"its point value lies on the failing side of the threshold (margin {margin:+.4g}): more items "
                "would at best confirm a failure, so the reason is not sampling"
            )
        else:
            result.evidence["items"] = result.n_items
            result.evidence["items_to_decide"] = items_to_decide(result.n_items, margin, lo_hi)
    elif check.reason == "setup":
        result.evidence["setup"] = {q: point_values({q: measured.get(q)})[q] for q in check.evidence}


def items_to_decide(n_items: int, margin: float, interval: tuple[float, float]) -> int | None:
    """How many items would put the whole interval on the side of the threshold the point value lies on, at
    the observed spread (an interval's half-width shrinks as 1 / sqrt(items)); None if the margin is 0."""
    half = (interval[1] - interval[0]) / 2
    if margin == 0:
        return None
    return int(np.ceil(n_items * (half / abs(margin)) ** 2))


def scale_trend(knob: str, x: list[float], values: list[float], margins: np.ndarray) -> dict[str, Any]:
    """A scale reason's evidence: the quantity along the knob and, when the last two points move toward the
    threshold, where a line through them in log(x) would reach it."""
    out: dict[str, Any] = {"knob": knob, "along_knob": {f"{xi:g}": v for xi, v in zip(x, values, strict=True)}}
    m0, m1 = float(margins[-2]), float(margins[-1])
    if m1 < 0 < m1 - m0 and x[-1] > x[-2] > 0:
        slope = (m1 - m0) / np.log(x[-1] / x[-2])  # margin per e-fold of the knob
        out["threshold_reached_at"] = float(x[-1] * np.exp(-m1 / slope))
    return out


def _fmt_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v:.4g}" for k, v in value.items()) + "}"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def exit_code(verdicts: list[Verdict]) -> int:
    """0 when every check is as expected (holds, or a pinned failure that did not hold), else 1."""
    return 0 if all(v.ok for v in verdicts) else 1


def point_values(measured: dict[str, Any]) -> dict[str, Any]:
    """The measured quantities with every estimate reduced to its point value (JSON-ready)."""

    def point(v: Any) -> Any:
        if isinstance(v, Est):
            return v.value
        if isinstance(v, dict):
            return {k: point(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [point(x) for x in v]
        return v

    return {k: point(v) for k, v in measured.items()}
