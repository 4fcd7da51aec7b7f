"""One test per claim spec in this folder: the engine measures, the spec's checks decide.

A claim whose expectation for the profile carries ``xfail`` is expected to fail there (strictly: if it
starts to hold, the run says so). A claim with no expectation for the profile is skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ssb.claims import evaluate, load_specs

from .conftest import VERDICTS

SPECS = load_specs(Path(__file__).parent)


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_claim(spec, pipeline, request):
    expectation = spec.expect.get(pipeline.profile.name)
    if expectation is None:
        pytest.skip(f"{spec.id}: no expectation for profile '{pipeline.profile.name}'")
    if expectation.xfail:
        request.applymarker(pytest.mark.xfail(reason=expectation.xfail, strict=True))
    verdict = evaluate(spec, pipeline, skip_missing=True)
    VERDICTS.append(verdict)
    if verdict.skipped:
        pytest.skip(verdict.skipped)
    assert verdict.passed, f"{spec.id} ({spec.paper}): " + "; ".join(verdict.failures)
