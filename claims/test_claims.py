"""One case per (claim, check): the engine measures the claim once, each case asserts its check.

A check holds when its value and its whole 95 % interval satisfy it; it fails when both violate it, and
is inconclusive otherwise (see ``ssb/claims.py``). An unpinned check must hold: fails and inconclusive are
test failures. A check pinned with ``xfail`` in the spec is an expected failure when it fails or is
inconclusive, and an unexpected pass (a test failure) when it holds; a pin whose evidence contradicts its kind
of reason (``reason``: scale, sampling, setup, faithful-negative) is mispinned, a test failure; so is a check
whose ``specific`` declaration the controls contradict (misdeclared, ``ssb/specificity.py``). A quantity
the run did not produce is an error.
"""

from __future__ import annotations

import pytest

from ssb.claims import evaluate, tier_of

from .conftest import VERDICTS


def test_claim(claim_check, pipeline):
    spec, name = claim_check
    if name is None:
        expectation = spec.expect.get(tier_of(pipeline.profile))
        if expectation is None:
            pytest.skip(f"{spec.id}: no expectation at this tier")
        VERDICTS[spec.id] = evaluate(spec, pipeline)  # measures nothing: it records the claim as undecided
        pytest.skip(f"{spec.id}: not decided at this tier: {expectation.undecided}")
    if spec.id not in VERDICTS:
        VERDICTS[spec.id] = evaluate(spec, pipeline)
    verdict = VERDICTS[spec.id]
    if verdict.skipped:
        pytest.skip(verdict.skipped)
    if name in verdict.skipped_checks:
        pytest.skip(f"{spec.id}/{name}: {verdict.skipped_checks[name]}")
    result = verdict.result(name)
    where = f"{spec.id} ({spec.paper}) {result.describe()}"
    if result.pin_problem:
        pytest.fail(f"mispinned: {where}; pinned as {result.check.reason}, but {result.pin_problem}")
    if result.specificity_problem:
        pytest.fail(f"misdeclared: {where}; {result.specificity_problem}")
    if result.check.xfail:
        if result.verdict == "holds":
            pytest.fail(f"unexpected pass: {where}; it was pinned as an expected failure: {result.check.xfail}")
        pytest.xfail(f"{where}. Expected: {result.check.xfail}")
    assert result.verdict == "holds", where
