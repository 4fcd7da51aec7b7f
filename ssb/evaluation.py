"""Evaluating a claim: its measure taken on every seed run of the profile (and on each control a check
names), combined, and each check of its expectation decided (``ssb/decision.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import systems
from .decision import CheckResult, MeasureError, Verdict, pin_evidence, point_values, run_check
from .estimate import as_est
from .measures import MEASURES
from .pin_text import numbers_in, quoted_numbers, unreproduced
from .protocols import SeedRuns
from .reference import MissingReference
from .seeds import combine, combine_runs, nested_picks
from .spec import Check, Spec, tier_of
from .specificity import controls_for, declaration_problem, specificity_rows

# experiments that need the profile's own variants (not --model's)
VARIANT_EXPERIMENTS = ("symmetric", "heads-no-dropout", "fewrel-no-dropout", "seed-backbones")


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
    expectation = spec.expect.get(tier)
    if expectation is not None and expectation.undecided:
        return Verdict(spec, tier, [], {}, undecided=expectation.undecided)
    variants = sorted(set(MEASURES[spec.measure].needs) & set(VARIANT_EXPERIMENTS))
    if pipeline.model_dir is not None and variants:
        return Verdict(
            spec,
            tier,
            [],
            {},
            skipped=f"{spec.id} compares the profile's own backbone variants ({', '.join(variants)}), "
            "which an external --model does not have",
        )
    # the seed runs (ssb/seeds.py) the claim is measured on: every run of [seeds] for the reference (its
    # controls measured on each run too), inside every backbone with [seeds] over_backbones; the one run asked
    # for when measuring the claim on a control
    n_runs = pipeline.n_seed_runs if system == "reference" else 1
    backbones = backbone_seeds(spec, pipeline, tier) if system == "reference" else (None,)
    if n_runs == 1 and backbones == (None,):
        resolvers = [pipeline]  # this resolver as it is (a seed run's own, when a control is measured on it)
    else:
        resolvers = [
            (pipeline if b is None else pipeline.backbone_run(b)).seed_run(k) for b in backbones for k in range(n_runs)
        ]
    picks = nested_picks(len(backbones), n_runs) if len(resolvers) > 1 else None
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
                checks[-1].seed_runs, checks[-1].backbone_runs = len(runs), len(backbones)
                checks[-1].per_seed = [e.margin if c.shape else e.value for e in each]
            if c.xfail:
                pin_evidence(checks[-1], measured)
            continue
        if pipeline.model_dir is not None:
            skipped[c.name] = (
                f"control {c.control!r} is a system of the profile's own backbone, which an external --model "
                "does not have"
            )
            continue
        if c.control not in controls:  # the control on every seed run, beside the reference's own
            controls[c.control] = [measure(spec, r, c.control) for r in resolvers]
        checks.append(run_control_check(c, runs, controls[c.control], picks))
        checks[-1].backbone_runs = len(backbones)
        if c.xfail:
            pin_evidence(checks[-1], measured)
    out = point_values(measured)
    if len(runs) > 1:
        out["per_seed_run"] = per_run
    if len(backbones) > 1:
        out["over_backbones"] = list(backbones)
    if controls:
        out["controls"] = {
            name: point_values(combine_runs(m, picks)[0] if picks is not None else m[0]) for name, m in controls.items()
        }
    for result in checks:
        if result.check.xfail:
            pin_text_problem(result, pipeline.profile, spec.quote)
    rows = []
    if system == "reference" and pipeline.model_dir is None:
        controls = controls_for(spec, pipeline.profile.specificity.controls)
        whole = pipeline.with_whole_curves()
        rows = specificity_rows(spec, checks, lambda name: measure(spec, whole, name), controls) if controls else []
        for result in checks:
            result.specificity_problem = declaration_problem(result, rows)
    return Verdict(spec, tier, checks, out, skipped_checks=skipped, specificity=rows)


def backbone_seeds(spec: Spec, pipeline: SeedRuns, tier: str) -> tuple[int | None, ...]:
    """The backbones a claim's seed runs sit in (``[seeds] over_backbones``): the profile's own
    (``backbone.seed``) and each of ``[seeds] backbone``, when every system the claim reads can be built from
    other initial conditions: the reference and what needs no pre-training of its own (random-init, the
    control-task and tied probes). A claim that reads a pre-trained variant (symmetric, no-dropout, the seed
    backbones themselves), a user's ``--model``, or a profile without the option: ``(None,)``, its own
    backbone."""
    seeds = pipeline.profile.seeds
    if not seeds.over_backbones or not seeds.backbone or pipeline.model_dir is not None:
        return (None,)
    if set(MEASURES[spec.measure].needs) & set(VARIANT_EXPERIMENTS):
        return (None,)
    expectation = spec.expect.get(tier)
    controls = {c.control for c in (expectation.checks if expectation else ()) if c.control}
    if not all(from_initial_conditions(systems.get(name)) for name in controls):
        return (None,)
    return (pipeline.profile.backbone.seed, *seeds.backbone)


def from_initial_conditions(system: systems.System) -> bool:
    """Whether a backbone run can build ``system`` from its own initial conditions: the reference's backbone
    (through any probe) or a never-trained one, not a variant pre-trained for the profile's backbone alone."""
    return system.backbone in (systems.RandomInit(), systems.Pretrained())  # a fixed seed is not re-initialised


def pin_text_problem(result: CheckResult, profile: Any, quote: str) -> None:
    """Mark a pin whose text quotes a number typed by hand (``ssb.pin_text``): every number in it must be a
    field of the profile, of the check itself (threshold, the paper's scale of its knob) or of the paper's
    sentence; the run's own numbers are printed beside the pin, never typed into it."""
    check = result.check
    sources = [*numbers_in(profile), *numbers_in([check.value, check.paper_scale, check.tolerance])]
    sources += [q.value for q in quoted_numbers(quote)]
    missing = unreproduced(check.xfail or "", sources)
    if missing and result.pin_problem is None:
        result.pin_problem = (
            f"its text quotes {', '.join(missing)}, a number typed by hand: a pin's text carries the argument, and "
            "the run prints its numbers beside it"
        )


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
