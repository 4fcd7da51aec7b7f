"""The claims engine: load declarative specs (``claims/*.toml``), validate them, measure, and decide.

A spec names a *measure* (``ssb/measures/``: it declares the quantities it produces, each a scalar or a
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
computes it, and a pin whose evidence contradicts its kind is ``MISPINNED`` (a failure); a check whose
``specific`` declaration the controls contradict is ``MISDECLARED`` (a failure, ``ssb/specificity.py``).

**Verdicts are three-valued.** A check is evaluated on the measured value and on each bootstrap replicate
(:mod:`ssb.estimate`): it *holds* when the value and the whole 95 % interval satisfy it, *fails* when the
value and the whole interval violate it, and is *inconclusive* otherwise. A quantity with no replicates
(an exact count, a single training run) is decided by its value. A check that is not pinned as an
expected failure passes only if it holds; inconclusive counts as a failure. A pinned check is satisfied by
fails or inconclusive, and a pinned check that holds is an unexpected pass (strict).

A malformed spec raises :class:`SpecError` naming the file, the claim and the field; a quantity the
measure did not produce, or a curve too short for its shape, raises :class:`MeasureError` (never an
expected failure).

The engine is four rooms: the schema (``ssb/spec.py``), the decision (``ssb/decision.py``), the evaluation
(``ssb/evaluation.py``: runs, seeds, controls) and the tables (``ssb/verdicts.py``); this module is their
one name.
"""

from __future__ import annotations

from .decision import (
    CheckResult,
    MeasureError,
    Verdict,
    exit_code,
    items_to_decide,
    pin_evidence,
    run_check,
)
from .evaluation import evaluate
from .spec import (
    Check,
    Expectation,
    Spec,
    SpecError,
    TierError,
    load_spec,
    load_specs,
    tier_of,
)
from .verdicts import check_rows, verdict_table

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
