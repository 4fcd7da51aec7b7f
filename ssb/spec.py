"""Claim specs: the one schema of ``claims/*.toml``, validated when loaded.

A spec names a *measure* (``ssb/measures/``: it declares the quantities it produces, each a scalar or a
curve) and, per expectation tier (``smoke``, ``regression``, ``cpu``, ``paper``: a profile names its tier
with ``expect = "..."``), a list of *checks*, or ``undecided = "why"`` where that tier's size cannot decide
the claim (shown and counted, never measured); ``ssb/claims.py`` says what each kind of check means and how it is
decided (``ssb/decision.py``). A malformed spec raises :class:`SpecError` naming the file, the claim and
the field; a key the schema does not have is refused, never ignored.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .measures import CURVE, MEASURES, SCALAR, Measure

OPS = {">": "gt", ">=": "ge", "<": "lt", "<=": "le", "between": "between"}
SHAPES = ("increasing", "decreasing", "dip-then-rise", "argmin-between")
TIERS = ("smoke", "regression", "cpu", "cpu-seeds", "paper")
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


class SpecError(ValueError):
    """A claim spec is malformed: the message names the file, the claim and the field."""


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
    # false: a control holds this absolute check too (the run's specificity rows say which): it is decided and
    # shown, and does not count toward a claim's holding specifically (ssb/specificity.py)
    specific: bool = True

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


CHECK_KEYS = frozenset(f.name for f in fields(Check))  # a check's table in a spec: Check's fields, nothing else


@dataclass(frozen=True)
class Expectation:
    checks: tuple[Check, ...]
    why: str = ""  # where the thresholds come from
    # why the claim cannot be decided at this tier (then it has no checks): shown, counted, never measured
    undecided: str = ""


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
    unknown = set(entry) - CHECK_KEYS
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
    specific = entry.get("specific", True)
    if not isinstance(specific, bool):
        raise SpecError(f"{where}: field 'specific' must be true or false, got {specific!r}")
    if control is not None and not specific:
        raise SpecError(
            f"{where}: field 'specific' = false on a check against a control, which is specific by construction"
        )
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
        specific,
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
        unknown = set(table) - {"checks", "why", "undecided"}
        if unknown:
            raise SpecError(f"{w}: unknown key '{sorted(unknown)[0]}'")
        if "undecided" in table:
            undecided = table["undecided"]
            if not (isinstance(undecided, str) and undecided.strip()):
                raise SpecError(f"{w}: field 'undecided' must be a non-empty string: why this tier cannot decide it")
            if "checks" in table:
                raise SpecError(f"{w}: give either 'checks' or 'undecided' (why the tier cannot decide it), not both")
            expect[tier] = Expectation(checks=(), why=str(table.get("why", "")), undecided=undecided.strip())
            continue
        checks = _require(table, "checks", list, w)
        if not checks:
            raise SpecError(
                f"{w}: field 'checks' is empty (if this tier cannot decide the claim, say why in 'undecided')"
            )
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
