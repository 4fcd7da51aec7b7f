"""scripts/validation_scale.py: the cpu run's two-point trend, read where the one-off run measured."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ssb.decision import scale_trend

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "validation_scale.py"
spec = importlib.util.spec_from_file_location("validation_scale", SCRIPT)
validation_scale = importlib.util.module_from_spec(spec)
spec.loader.exec_module(validation_scale)


def test_the_trend_is_the_line_in_log_paragraphs_through_the_last_two_points():
    curve = {"25": 0.9, "125": 0.4, "250": 0.3}  # the first point is not on the line: only the last two count
    assert validation_scale.predicted({"q": curve}, "q", 250) == pytest.approx(0.3)
    assert validation_scale.predicted({"q": curve}, "q", 500) == pytest.approx(0.2)
    assert validation_scale.predicted({"q": curve}, "q", 2000) == pytest.approx(0.0)
    assert validation_scale.predicted({"q": {"250": 0.3}}, "q", 2000) is None  # one point: no trend
    assert validation_scale.predicted({}, "q", 2000) is None


@given(
    y0=st.floats(0.2, 0.9), drop=st.floats(0.01, 0.15), threshold=st.floats(0.0, 0.1), x1=st.sampled_from([250, 500])
)
def test_the_trend_meets_the_threshold_where_the_claims_engine_says_it_does(y0, drop, threshold, x1):
    """The predicted value at the engine's ``threshold_reached_at`` (``decision.scale_trend``) is the threshold."""
    y1 = y0 - drop
    assume(y1 > threshold)
    margins = [threshold - y0, threshold - y1]  # a `<` check: the margin is threshold - value
    reached = scale_trend("q", [x1 / 2, x1], [y0, y1], np.array(margins))
    at = reached["threshold_reached_at"]
    guess = validation_scale.predicted({"q": {str(x1 // 2): y0, str(x1): y1}}, "q", at)
    assert math.isclose(guess, threshold, abs_tol=1e-9)


def test_where_a_lt_check_reaches_its_threshold_by_the_scale_pins_rule():
    from ssb.spec import Check

    check = Check("q", op="<", value=0.05)
    falling = {"q_vs_paragraphs": {"125": 0.4, "250": 0.3}}  # -0.1 a doubling: 0.05 at 250 * 2**2.5 (3 digits kept)
    out = validation_scale.threshold_reached(check, falling, {"q_vs_paragraphs": {"1000": 0.2, "2000": 0.1}})
    assert out["from_cpu_run"] == pytest.approx(250 * 2**2.5, rel=5e-3)
    assert out["from_this_run"] == pytest.approx(2000 * 2**0.5, rel=5e-3)  # 0.1 a doubling, from 0.1 to 0.05
    assert out["through"] == "1000 and 2000 paragraphs"
    rising = {"q_vs_paragraphs": {"1000": 0.1, "2000": 0.2}}  # away from the threshold: never
    assert validation_scale.threshold_reached(check, falling, rising)["from_this_run"] is None
    bent = {"q_vs_paragraphs": {"200": 0.1, "1000": 0.3, "2000": 0.2}}  # falls at the end, not from the start
    assert validation_scale.threshold_reached(check, falling, bent)["from_this_run"] is None
    paired = Check("q", op="<", value=0.0, control="random-init")  # a paired difference: not a scale reading
    assert validation_scale.threshold_reached(paired, falling, falling) is None
    assert validation_scale.threshold_reached(Check("q", op=">", value=0.05), falling, falling) is None
