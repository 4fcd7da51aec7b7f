"""Specificity (issue #36): is a check evidence of the paper's effect, or does a system without the effect pass
it too?

Every absolute check of a tier (one without a ``control``) is also decided on each control the profile names
in ``[specificity] controls`` that its claim's measure can be taken on (``Measure.systems``): the never-trained
``random-init`` backbone, the identical-heads ``symmetric`` one, ... Each control is measured once, at the
profile's own seeds, with the same measure and the same check. The rule (README, "Specificity"):

- a check is **specific** when every control fails it (an inconclusive control leaves it undetermined); a
  check decided on a paired difference against a control (``control = ...``) is specific by construction, as
  it is that re-expression;
- a check that a control also holds is not evidence: it is still decided and shown, but does not count; its
  spec says so (``specific = false``), and a run marks MISDECLARED (``declaration_problem``) a check a control
  holds that its spec does not declare, and a declaration that every control measured fails;
- a claim **holds specifically** when it holds (pins as pinned) and at least one of its specific checks holds.

Computing lives here (``specificity_rows``, from ``ssb.evaluation``'s measure and ``ssb.decision``'s check);
deciding what counts is ``specific`` and ``holds_specifically``; rendering is the report's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .config import ConfigError
from .decision import CheckResult, MeasureError, Verdict, run_check
from .measures import MEASURES
from .reference import MissingReference
from .spec import Spec
from .systems import UnknownSystem


@dataclass(frozen=True)
class SpecificityRow:
    claim: str
    check: str
    system: str  # the control the check was decided on
    value: Any  # its point value there (a number, or a curve {x: y}); None when it could not be measured
    interval: tuple[float, float] | None
    verdict: str  # holds | fails | inconclusive | not measured
    detail: str = ""  # why it could not be measured

    def to_json(self) -> dict[str, Any]:
        return {
            "claim": self.claim,
            "check": self.check,
            "system": self.system,
            "value": self.value,
            "interval": list(self.interval) if self.interval else None,
            "verdict": self.verdict,
            "detail": self.detail,
        }


def controls_for(spec: Spec, controls: tuple[str, ...]) -> list[str]:
    """The profile's specificity controls that ``spec``'s measure can be taken on, in the profile's order; a
    name that is no registered control of any measure is refused (the profile's field named)."""
    from .systems import SYSTEMS

    unknown = [c for c in controls if c not in SYSTEMS or c == "reference"]
    if unknown:
        raise ConfigError(
            f"field 'specificity.controls' names {', '.join(map(repr, unknown))}, not a control system "
            f"(registered: {', '.join(n for n in SYSTEMS if n != 'reference')})"
        )
    return [c for c in controls if c in MEASURES[spec.measure].systems]


def specificity_rows(
    spec: Spec, checks: list[CheckResult], measure_on: Callable[[str], dict[str, Any]], controls: list[str]
) -> list[SpecificityRow]:
    """Each absolute check of ``checks`` decided on each of ``controls``; ``measure_on(system)`` gives the
    claim's measured quantities on that system (``ssb.evaluation.measure``)."""
    absolute = [c.check for c in checks if c.check.control is None]
    rows: list[SpecificityRow] = []
    for system in controls if absolute else ():
        try:
            measured = measure_on(system)
        except (MeasureError, MissingReference, UnknownSystem) as err:  # the control cannot be built or measured
            rows += [SpecificityRow(spec.id, c.name, system, None, None, "not measured", str(err)) for c in absolute]
            continue
        for check in absolute:
            try:
                result = run_check(check, measured)
            except MeasureError as err:
                rows.append(SpecificityRow(spec.id, check.name, system, None, None, "not measured", str(err)))
                continue
            rows.append(SpecificityRow(spec.id, check.name, system, result.value, result.interval, result.verdict))
    return rows


def specific(result: CheckResult, rows: list[SpecificityRow]) -> bool | None:
    """True when every control measured fails the check (or it is a paired difference against one), False when
    one holds it or its spec declares it not specific, None when none holds it but one is inconclusive (not
    shown to fail) or none could be measured."""
    if result.check.control is not None:
        return True
    if not result.check.specific:
        return False
    return _shown(result, rows)


def _shown(result: CheckResult, rows: list[SpecificityRow]) -> bool | None:
    """What the controls' rows show of an absolute check: False when one holds it, True when every one measured
    fails it, None otherwise."""
    decided = [r for r in rows if r.check == result.check.name and r.verdict != "not measured"]
    if any(r.verdict == "holds" for r in decided):
        return False
    return True if decided and all(r.verdict == "fails" for r in decided) else None


def declaration_problem(result: CheckResult, rows: list[SpecificityRow]) -> str | None:
    """Why the run's rows contradict an absolute check's ``specific`` declaration, or None: a control holds it
    and its spec does not say so, or its spec says so and every control measured fails it. A check no control
    was decided on (none named, none measurable) contradicts nothing."""
    if result.check.control is not None:
        return None
    shown = _shown(result, rows)
    if result.check.specific and shown is False:
        holders = [r.system for r in rows if r.check == result.check.name and r.verdict == "holds"]
        return (
            f"{', '.join(holders)} holds it too, so it is no evidence of the effect: re-express it against that "
            "control (control = ...) or declare it not specific (specific = false)"
        )
    if not result.check.specific and shown is True:
        return "it is declared not specific (specific = false), but every control measured fails it"
    return None


def holds_specifically(verdict: Verdict) -> bool:
    """The claim holds (pins as pinned) and at least one specific check of it holds."""
    if verdict.label not in ("holds", "xfail"):
        return False
    return any(c.verdict == "holds" and specific(c, verdict.specificity) for c in verdict.checks)


def specific_line(verdicts: list[Verdict]) -> str:
    """ "N of M claims hold specifically" over the decided claims, and how many had no control to test with."""
    decided = [v for v in verdicts if v.undecided is None and not v.skipped]
    if not any(v.specificity for v in decided):
        return ""
    untested = [v for v in decided if not v.specificity and not any(c.check.control for c in v.checks)]
    line = f"{sum(holds_specifically(v) for v in decided)} of {len(decided)} claims hold specifically"
    return line + (f" ({len(untested)} have no control to test against)" if untested else "")
