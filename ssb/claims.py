"""The claims engine: load declarative specs (``claims/*.toml``), validate them, measure, and decide.

A spec names a *measure* (``ssb/measures.py``: it declares the quantities it produces, each a scalar or a
curve) and, per expectation tier (``smoke``, ``cpu``, ``paper``: a profile names its tier with
``expect = "..."``), a list of *checks*:

- ``{ quantity = "q", op = ">", value = 0.5 }`` with op in ``> >= < <=``, or ``op = "between"`` with
  ``value = [lo, hi]``; scalars only;
- ``{ quantity = "curve", shape = "increasing", rel_tolerance = r }``: every step rises, or falls by less
  than ``r`` times the value it falls from; ``shape = "decreasing"``: every step falls (no tolerance);
- ``{ quantity = "curve", shape = "dip-then-rise", tolerance = t }``: the minimum lies strictly inside,
  with the first and last points above it by more than ``t``;
- ``{ quantity = "curve", shape = "argmin-between", value = [lo, hi] }``: the x of the minimum.

Each check has a name (``name = "..."``, else ``quantity:op``) and may carry ``xfail = "reason"``: it is
expected not to hold at that tier, and the reason says why in the paper's terms (the numbers come from the
run). Every other check must hold. A pinned check names its kind of reason, ``reason = "scale" |
"sampling" | "setup" | "faithful-negative"``, and the evidence the kind needs (``REASONS`` below): the run
computes it, and a pin whose evidence contradicts its kind is ``MISPINNED`` (a failure).

**Verdicts are three-valued.** A check is evaluated on the measured value and on each bootstrap replicate
(:mod:`ssb.estimate`): it *holds* when the value and the whole 95 % interval satisfy it, *fails* when the
value and the whole interval violate it, and is *inconclusive* otherwise. A quantity with no replicates
(an exact count, a single training run) is decided by its value. A check that is not pinned as an
expected failure passes only if it holds; inconclusive counts as a failure. A pinned check is satisfied by
fails or inconclusive, and a pinned check that holds is an unexpected pass (strict).

A malformed spec raises :class:`SpecError` naming the file, the claim and the field; a quantity the
measure did not produce, or a curve too short for its shape, raises :class:`MeasureError` (never an
expected failure).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .estimate import Est, as_est, replicate_matrix
from .measures import CURVE, MEASURES, SCALAR, Measure
from .protocols import SeedRuns
from .reference import MissingReference
from .seeds import combine, combine_runs, per_seed_note, run_picks

OPS = {">": "gt", ">=": "ge", "<": "lt", "<=": "le", "between": "between"}
SHAPES = ("increasing", "decreasing", "dip-then-rise", "argmin-between")
TIERS = ("smoke", "cpu", "paper")
MIN_CURVE_POINTS = 3
# The kinds of reason a pinned check gives, and the evidence each must show in the run:
# - scale: a curve (``knob``) of the checked quantity along the knob it blames, which must move toward the
#   threshold and, extended in log(x) through its last two points, reach it by the knob's value in the
#   paper's setup (``paper_scale``); else the pin is a faithful negative, not scale;
# - sampling: an interval that straddles the threshold (an inconclusive verdict), and the engine's count of
#   the items that would decide at the observed spread;
# - setup: the measured quantities (``evidence``) that show the difference of setup it names;
# - faithful-negative: the check as measured (it fails, or is inconclusive, on the paper's own terms).
REASONS = ("scale", "sampling", "setup", "faithful-negative")
# experiments that need the profile's own variants (not --model's)
VARIANT_EXPERIMENTS = ("symmetric", "heads-no-dropout", "fewrel-no-dropout")


class SpecError(ValueError):
    """A claim spec is malformed: the message names the file, the claim and the field."""


class MeasureError(RuntimeError):
    """A check names a quantity that the run did not produce, or a curve too short for its shape."""


class TierError(ValueError):
    """A profile names no expectation tier the claims know."""


@dataclass(frozen=True)
class Check:
    quantity: str
    op: str | None = None
    shape: str | None = None
    value: Any = None
    tolerance: float = 0.0  # dip-then-rise: absolute
    rel_tolerance: float = 0.0  # increasing: fraction of the value a step may fall
    name: str = ""
    xfail: str | None = None
    # a control system (ssb/systems.py): the check is then on the paired difference reference - control
    control: str | None = None
    reason: str | None = None  # a pin's kind (REASONS): what its evidence is
    knob: str | None = None  # scale: the curve of the quantity along the knob the reason blames
    paper_scale: float | None = None  # scale: the knob's value in the paper's setup
    evidence: tuple[str, ...] = ()  # setup: the measured quantities that show the difference it names

    def __post_init__(self) -> None:
        if not self.name:
            suffix = f":vs-{self.control}" if self.control else ""
            object.__setattr__(self, "name", f"{self.quantity}:{OPS[self.op] if self.op else self.shape}{suffix}")

    def threshold(self) -> str:
        if self.control:
            return f"(reference − {self.control}) {self.op} {self.value:g}"
        if self.shape == "increasing":
            return "increasing" + (f" (each step may fall {self.rel_tolerance:.0%})" if self.rel_tolerance else "")
        if self.shape == "decreasing":
            return "decreasing"
        if self.shape == "dip-then-rise":
            return "dip then rise" + (f" (ends > min + {self.tolerance:g})" if self.tolerance else "")
        if self.shape == "argmin-between" or self.op == "between":
            what = "argmin in" if self.shape else "in"
            return f"{what} [{self.value[0]:g}, {self.value[1]:g}]"
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True)
class Expectation:
    checks: tuple[Check, ...]
    why: str = ""  # where the thresholds come from


@dataclass(frozen=True)
class Spec:
    id: str
    paper: str
    quote: str  # the sentence(s) of the paper the claim encodes, verbatim
    statement: str
    measure: str
    expect: dict[str, Expectation]
    path: Path

    @property
    def experiments(self) -> tuple[str, ...]:
        return MEASURES[self.measure].needs


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

    @property
    def outcome(self) -> str:
        """pass, FAIL, INCONCLUSIVE, xfail (expected), XPASS (a pinned check that holds), or MISPINNED (a
        pinned check whose evidence contradicts its kind of reason)."""
        if self.pin_problem:
            return "MISPINNED"
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
            ci += f" ({self.seed_runs} seed runs, {what} {', '.join(f'{v:.4g}' for v in self.per_seed)})"
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

    @property
    def ok(self) -> bool:
        return self.skipped is not None or all(c.ok for c in self.checks)

    @property
    def label(self) -> str:
        if self.skipped:
            return "skipped"
        outcomes = [c.outcome for c in self.checks]
        for bad in ("FAIL", "INCONCLUSIVE", "XPASS", "MISPINNED"):
            if bad in outcomes:
                return bad
        return "xfail" if "xfail" in outcomes else "holds"

    def result(self, name: str) -> CheckResult:
        return next(c for c in self.checks if c.check.name == name)


# ---------------------------------------------------------------------------- spec loading
def _require(data: dict, key: str, kind: type, where: str) -> Any:
    if key not in data:
        raise SpecError(f"{where}: missing field '{key}'")
    if not isinstance(data[key], kind) or isinstance(data[key], bool) and kind is not bool:
        raise SpecError(f"{where}: field '{key}' must be {kind.__name__}, got {data[key]!r}")
    return data[key]


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_from(entry: Any, where: str, measure: Measure) -> Check:
    if not isinstance(entry, dict):
        raise SpecError(f"{where} must be a table like {{ quantity = ..., op = ..., value = ... }}")
    unknown = set(entry) - {
        "quantity",
        "op",
        "shape",
        "value",
        "tolerance",
        "rel_tolerance",
        "name",
        "xfail",
        "control",
        "reason",
        "knob",
        "paper_scale",
        "evidence",
    }
    if unknown:
        raise SpecError(f"{where}: unknown key '{sorted(unknown)[0]}'")
    quantity = _require(entry, "quantity", str, where)
    kind = measure.kind(quantity)
    if kind is None:
        raise SpecError(
            f"{where}: field 'quantity' names {quantity!r}, which measure '{measure.name}' does not produce "
            f"(it produces: {', '.join(measure.checkable())})"
        )
    op, shape = entry.get("op"), entry.get("shape")
    if (op is None) == (shape is None):
        raise SpecError(f"{where}: give exactly one of 'op' or 'shape'")
    if op is not None and op not in OPS:
        raise SpecError(f"{where}: field 'op' must be one of {', '.join(OPS)}, got {op!r}")
    if shape is not None and shape not in SHAPES:
        raise SpecError(f"{where}: field 'shape' must be one of {', '.join(SHAPES)}, got {shape!r}")
    if op is not None and kind != SCALAR:
        raise SpecError(f"{where}: field 'op' needs a scalar, but {quantity!r} is a {kind}; use 'shape'")
    if shape is not None and kind != CURVE:
        raise SpecError(f"{where}: field 'shape' needs a curve, but {quantity!r} is a {kind}; use 'op'")
    value = entry.get("value")
    if op == "between" or shape == "argmin-between":
        if not (
            isinstance(value, list) and len(value) == 2 and all(_number(v) for v in value) and value[0] <= value[1]
        ):
            raise SpecError(f"{where}: field 'value' must be [low, high], two numbers with low <= high, got {value!r}")
    elif op is not None:
        if not _number(value):
            raise SpecError(f"{where}: field 'value' must be a number, got {value!r}")
    elif value is not None:
        raise SpecError(f"{where}: field 'value' has no meaning for shape {shape!r}")
    for key, allowed in (("tolerance", "dip-then-rise"), ("rel_tolerance", "increasing")):
        if key in entry:
            if shape != allowed:
                raise SpecError(f"{where}: field '{key}' applies to shape '{allowed}' only")
            if not _number(entry[key]) or entry[key] < 0:
                raise SpecError(f"{where}: field '{key}' must be a number >= 0, got {entry[key]!r}")
    name = entry.get("name", "")
    if not isinstance(name, str) or (name and not re.fullmatch(r"[A-Za-z0-9_.:<>=-]+", name)):
        raise SpecError(f"{where}: field 'name' must be a word (letters, digits, _ . : - < > =), got {name!r}")
    xfail = entry.get("xfail")
    if xfail is not None and not (isinstance(xfail, str) and xfail.strip()):
        raise SpecError(f"{where}: field 'xfail' must be a non-empty string: why the check is expected not to hold")
    control = entry.get("control")
    if control is not None:
        if control not in measure.systems:
            known = ", ".join(measure.systems) or "none"
            raise SpecError(
                f"{where}: field 'control' names {control!r}, a system measure '{measure.name}' cannot be taken "
                f"on (its controls: {known})"
            )
        if op is None or op == "between":
            raise SpecError(f"{where}: field 'control' needs a scalar check with op <, <=, > or >= on the difference")
    reason, knob, evidence = _reason_from(entry, where, measure, xfail, control, op)
    paper_scale = entry.get("paper_scale")
    return Check(
        quantity,
        op,
        shape,
        value,
        float(entry.get("tolerance", 0.0)),
        float(entry.get("rel_tolerance", 0.0)),
        name,
        xfail,
        control,
        reason,
        knob,
        None if paper_scale is None else float(paper_scale),
        evidence,
    )


def _reason_from(
    entry: dict, where: str, measure: Measure, xfail: str | None, control: str | None, op: str | None
) -> tuple[str | None, str | None, tuple[str, ...]]:
    """A pin's ``reason`` kind and the evidence fields its kind needs (see ``REASONS``)."""
    reason = entry.get("reason")
    if xfail is None:
        for key in ("reason", "knob", "paper_scale", "evidence"):
            if key in entry:
                raise SpecError(f"{where}: field '{key}' belongs to a pinned check (one with 'xfail')")
        return None, None, ()
    if reason not in REASONS:
        raise SpecError(
            f"{where}: a pinned check needs field 'reason', one of {', '.join(REASONS)} (what its evidence is), "
            f"got {reason!r}"
        )
    knob = entry.get("knob")
    if (reason == "scale") != (knob is not None):
        raise SpecError(f"{where}: field 'knob' (the quantity's curve along the blamed knob) goes with reason 'scale'")
    if knob is not None:
        if measure.kind(knob) != CURVE:
            raise SpecError(
                f"{where}: field 'knob' names {knob!r}, which is not a curve measure '{measure.name}' gives"
            )
        if control is not None or op is None:
            raise SpecError(f"{where}: a scale reason's knob applies to a scalar check without a control")
        scale = entry.get("paper_scale")
        if not (_number(scale) and scale > 0):
            raise SpecError(
                f"{where}: a scale reason needs field 'paper_scale', the knob's value in the paper's setup (a "
                f"number > 0), got {scale!r}"
            )
    elif "paper_scale" in entry:
        raise SpecError(f"{where}: field 'paper_scale' goes with reason 'scale'")
    evidence = entry.get("evidence", [])
    if (reason == "setup") != bool(evidence):
        raise SpecError(f"{where}: field 'evidence' (the quantities that show the difference) goes with reason 'setup'")
    if not (isinstance(evidence, list) and all(isinstance(q, str) for q in evidence)):
        raise SpecError(f"{where}: field 'evidence' must be a list of quantity names, got {evidence!r}")
    for q in evidence:
        if measure.kind(q) is None:
            raise SpecError(f"{where}: field 'evidence' names {q!r}, which measure '{measure.name}' does not produce")
    return reason, knob, tuple(evidence)


def load_spec(path: Path) -> Spec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise SpecError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from err
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{path}: not valid TOML: {err}") from err
    spec_id = _require(data, "id", str, str(path))
    where = f"{path} (claim '{spec_id}')"
    unknown = set(data) - {"id", "paper", "quote", "statement", "measure", "expect"}
    if unknown:
        raise SpecError(f"{where}: unknown field '{sorted(unknown)[0]}'")
    measure_name = _require(data, "measure", str, where)
    if measure_name not in MEASURES:
        raise SpecError(
            f"{where}: field 'measure' names unknown measure {measure_name!r} (known: {', '.join(MEASURES)})"
        )
    measure = MEASURES[measure_name]
    quote = _require(data, "quote", str, where)
    if not quote.strip():
        raise SpecError(f"{where}: field 'quote' is empty: quote the sentence of the paper the claim encodes")
    expect_table = _require(data, "expect", dict, where)
    expect = {}
    for tier, table in expect_table.items():
        w = f"{where}: field 'expect.{tier}'"
        if tier not in TIERS:
            raise SpecError(f"{w}: unknown tier (known: {', '.join(TIERS)})")
        if not isinstance(table, dict):
            raise SpecError(f"{w} must be a table")
        unknown = set(table) - {"checks", "why"}
        if unknown:
            raise SpecError(f"{w}: unknown key '{sorted(unknown)[0]}'")
        checks = _require(table, "checks", list, w)
        if not checks:
            raise SpecError(f"{w}: field 'checks' is empty")
        parsed = tuple(_check_from(c, f"{w}.checks[{i}]", measure) for i, c in enumerate(checks))
        names = [c.name for c in parsed]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise SpecError(f"{w}: two checks are named {dup!r}; give one a 'name'")
        expect[tier] = Expectation(checks=parsed, why=str(table.get("why", "")))
    return Spec(
        spec_id,
        _require(data, "paper", str, where),
        quote,
        _require(data, "statement", str, where),
        measure_name,
        expect,
        path,
    )


def load_specs(folder: Path) -> list[Spec]:
    """Every ``*.toml`` spec in ``folder``: a folder that is missing, a file, or holds no spec is a SpecError."""
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise SpecError(f"{folder}: the claims folder {what} (--claims names a folder of claim specs, *.toml)")
    paths = sorted(folder.glob("*.toml"))
    if not paths:
        raise SpecError(f"{folder}: the claims folder is empty (no *.toml claim specs in it)")
    specs = [load_spec(p) for p in paths]
    seen: dict[str, Path] = {}
    for spec in specs:
        if spec.id in seen:
            raise SpecError(f"{spec.path}: field 'id' {spec.id!r} is also used by {seen[spec.id]}")
        seen[spec.id] = spec.path
    return specs


def tier_of(profile: Any, specs: list[Spec] | None = None) -> str:
    """The expectation tier a profile's claims use (``expect`` in its TOML), or a one-line TierError."""
    tier = getattr(profile, "expect", "")
    if not tier:
        raise TierError(
            f"profile '{profile.name}' names no expectation tier: add `expect = \"cpu\"` (or smoke, paper) "
            f"to its TOML so that its claims check something"
        )
    if tier not in TIERS:
        raise TierError(f"profile '{profile.name}': expect = {tier!r} is not a tier (known: {', '.join(TIERS)})")
    if specs is not None and not any(tier in s.expect for s in specs):
        raise TierError(f"profile '{profile.name}': no claim has an expectation for tier {tier!r}")
    return tier


# ---------------------------------------------------------------------------- checks
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


# ---------------------------------------------------------------------------- evaluation
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


def measure(spec: Spec, pipeline: SeedRuns, system: str = "reference") -> dict[str, Any]:
    """Run the spec's measure on ``system`` and check that it produced only what it declares."""
    m = MEASURES[spec.measure]
    measured = m.fn(pipeline) if system == "reference" else m.fn(pipeline, system=system)
    undeclared = [k for k in measured if m.kind(k) is None]
    if undeclared:
        raise MeasureError(f"measure '{m.name}' produced undeclared quantities: {', '.join(undeclared)}")
    return measured


def evaluate(spec: Spec, pipeline: SeedRuns, tier: str | None = None, system: str = "reference") -> Verdict:
    """Measure one claim and run every check of its expectation at ``tier`` (default: the profile's).

    ``system``: the system the claim is measured on (a control's name measures the claim on the control,
    which is how a test shows that a specificity check fails there). A check with a ``control`` measures
    the claim on that control too and is decided on the paired difference.

    A backbone that a committed-reference profile lacks, or a variant that an external ``--model`` does not
    have, gives a ``skipped`` verdict with the reason.
    """
    tier = tier or tier_of(pipeline.profile)
    variants = sorted(set(MEASURES[spec.measure].needs) & set(VARIANT_EXPERIMENTS))
    if getattr(pipeline, "model_dir", None) is not None and variants:
        return Verdict(
            spec,
            tier,
            [],
            {},
            skipped=f"{spec.id} compares the profile's own backbone variants ({', '.join(variants)}), "
            "which an external --model does not have",
        )
    # the seed runs (ssb/seeds.py) the claim is measured on: every run of [seeds] for the reference (its
    # controls measured on each run too), the one run asked for when measuring the claim on a control
    n_runs = getattr(pipeline, "n_seed_runs", 1) if system == "reference" else 1
    resolvers = [pipeline.seed_run(k) for k in range(n_runs)] if n_runs > 1 else [pipeline]
    picks = run_picks(n_runs) if n_runs > 1 else None
    try:
        runs = [measure(spec, r, system) for r in resolvers]
        measured, per_run = combine_runs(runs, picks) if picks is not None else (runs[0], {})
    except MissingReference as err:
        return Verdict(spec, tier, [], {}, skipped=str(err))
    expectation = spec.expect.get(tier)
    checks, controls, skipped = [], {}, {}
    for c in expectation.checks if expectation else ():
        if c.control is None:
            checks.append(run_check(c, measured))
            if len(runs) > 1:
                each = [run_check(c, r) for r in runs]
                checks[-1].seed_runs = len(runs)
                checks[-1].per_seed = [e.margin if c.shape else e.value for e in each]
            if c.xfail:
                pin_evidence(checks[-1], measured)
            continue
        if getattr(pipeline, "model_dir", None) is not None:
            skipped[c.name] = (
                f"control {c.control!r} is a system of the profile's own backbone, which an external --model "
                "does not have"
            )
            continue
        if c.control not in controls:  # the control on every seed run, beside the reference's own
            controls[c.control] = [measure(spec, r, c.control) for r in resolvers]
        checks.append(run_control_check(c, runs, controls[c.control], picks))
        if c.xfail:
            pin_evidence(checks[-1], measured)
    out = point_values(measured)
    if len(runs) > 1:
        out["per_seed_run"] = per_run
    if controls:
        out["controls"] = {
            name: point_values(combine_runs(m, picks)[0] if picks is not None else m[0]) for name, m in controls.items()
        }
    return Verdict(spec, tier, checks, out, skipped_checks=skipped)


def run_control_check(
    check: Check,
    runs: list[dict[str, Any]],
    controls: list[dict[str, Any]],
    picks: np.ndarray | None = None,
) -> CheckResult:
    """A check on the paired difference (system - control) of one quantity, formed on each seed run and
    combined over the runs (``ssb.seeds.combine`` with ``picks``; one run: its own difference). Within a
    run the two estimates come from the same heads or node subsets resampled with the same indices, so
    their replicates pair item by item; over runs, the reference and its control of one run are paired."""
    refs, ctls = [], []
    for k, (measured, control) in enumerate(zip(runs, controls, strict=True)):
        for where, values in (("this system", measured), (f"control {check.control!r}", control)):
            if values.get(check.quantity) is None:
                run = f" (seed run {k})" if len(runs) > 1 else ""
                raise MeasureError(f"{check.name}: quantity {check.quantity!r} has no value on {where}{run}")
            if as_est(values[check.quantity]) is None:
                raise MeasureError(f"{check.name}: quantity {check.quantity!r} is not a number on {where}")
        refs.append(as_est(measured[check.quantity]))
        ctls.append(as_est(control[check.quantity]))
    diffs = [a - b for a, b in zip(refs, ctls, strict=True)]
    if len(diffs) == 1:
        diff, a, b = diffs[0], refs[0], ctls[0]
    else:
        diff, a, b = (combine(e, picks) for e in (diffs, refs, ctls))
    result = run_check(check, {check.quantity: diff})
    result.reference_value, result.control_value = a.value, b.value
    if len(diffs) > 1:
        result.seed_runs, result.per_seed = len(diffs), [d.value for d in diffs]
    return result


def check_rows(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    """One JSON-ready row per (claim, check): value, interval, threshold, verdict, outcome, and the check's
    family-wise decision over all the checks of ``verdicts`` (``ssb.family``: Holm)."""
    from .family import decide

    results = [c for v in verdicts for c in v.checks]
    family = dict(zip(map(id, results), decide(results), strict=True))
    rows = []
    for v in verdicts:
        if v.skipped:
            rows.append({"claim": v.spec.id, "check": None, "outcome": "skipped", "why": v.skipped})
        for name, why in v.skipped_checks.items():
            rows.append({"claim": v.spec.id, "check": None, "outcome": "skipped", "why": f"{name}: {why}"})
        for c in v.checks:
            rows.append(
                {
                    "claim": v.spec.id,
                    "check": c.check.name,
                    "value": c.value,
                    "interval": list(c.interval) if c.interval else None,
                    "threshold": c.check.threshold(),
                    "verdict": c.verdict,
                    "outcome": c.outcome,
                    "detail": c.detail,
                    "why": c.check.xfail,
                    "reason": c.check.reason,
                    "evidence": c.evidence or None,
                    "pin_problem": c.pin_problem,
                    "control": c.check.control,
                    "reference_value": c.reference_value,
                    "control_value": c.control_value,
                    "n_items": c.n_items,
                    "seed_runs": c.seed_runs,
                    "per_seed": c.per_seed,
                    "family_verdict": family[id(c)].verdict,
                    "p_holds": family[id(c)].p_holds,
                    "p_fails": family[id(c)].p_fails,
                }
            )
    return rows


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v:.3g}" for k, v in value.items())
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def verdict_table(verdicts: list[Verdict]) -> str:
    """A Markdown table, one row per check: claim, check, value, interval, threshold, verdict, outcome."""
    rows = [
        "| claim | check | value | 95 % interval | threshold | verdict | outcome | family-wise (Holm) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in check_rows(verdicts):
        if r["check"] is None:
            rows.append(f"| {r['claim']} | — | — | — | — | not measured | skipped: {r['why']} | — |")
            continue
        ci = f"[{r['interval'][0]:.4g}, {r['interval'][1]:.4g}]" if r["interval"] else "none"
        if r["detail"]:
            ci += f" ({r['detail']})" if r["interval"] is None else " (margin)"
        value = _cell(r["value"])
        if r.get("per_seed"):
            value += per_seed_note(r["per_seed"], r["interval"], isinstance(r["value"], dict))
        if r.get("control"):
            value += f" ({_cell(r['reference_value'])} − {_cell(r['control_value'])})"
        rows.append(
            f"| {r['claim']} | `{r['check']}` | {value} | {ci} | {r['threshold']} | {r['verdict']} | {r['outcome']} "
            f"| {_family_cell(r)} |"
        )
    return "\n".join(rows)


def _family_cell(row: dict[str, Any]) -> str:
    """The family-wise verdict, marked where it differs from the per-check one."""
    family = row["family_verdict"]
    if family == "exact":
        return "exact"
    return family + (" (changed)" if family != row["verdict"] else "")


def exit_code(verdicts: list[Verdict]) -> int:
    """0 when every check is as expected (holds, or a pinned failure that did not hold), else 1."""
    return 0 if all(v.ok for v in verdicts) else 1


__all__ = [
    "Check",
    "CheckResult",
    "Expectation",
    "MeasureError",
    "Spec",
    "SpecError",
    "TierError",
    "Verdict",
    "check_rows",
    "evaluate",
    "exit_code",
    "items_to_decide",
    "load_spec",
    "load_specs",
    "pin_evidence",
    "run_check",
    "tier_of",
    "verdict_table",
]
