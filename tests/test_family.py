"""Family-wise decisions (Holm) over all checks: the step-down rule, the p-values, and what it changes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssb.claims import Check, CheckResult
from ssb.family import ALPHA, changes, decide, holm, p_values


def test_holm_steps_down_and_stops_at_the_first_survivor():
    # m = 3: thresholds 0.025/3, 0.025/2, 0.025
    assert holm([0.001, 0.01, 0.03]).tolist() == [True, True, False]
    assert holm([0.02, 0.001]).tolist() == [True, True]  # sorted: 0.001 <= 0.0125, then 0.02 <= 0.025
    assert holm([0.013, 0.013, 0.001]).tolist() == [False, False, True]  # 0.013 > 0.025/2 stops the rest


@given(st.lists(st.floats(0, 1), min_size=1, max_size=60))
def test_holm_lies_between_bonferroni_and_no_adjustment(p):
    p = np.array(p)
    reject = holm(p)
    assert np.all(reject[p <= ALPHA / len(p)])  # every Bonferroni rejection
    assert not np.any(reject[p > ALPHA])  # no more than without adjustment


def test_p_values_read_the_replicates_and_resolve_beyond_them_by_the_normal_tail():
    assert p_values(0.5, 0.2, 0.03) == (0.03, pytest.approx(0.97))
    p_holds, p_fails = p_values(1.0, 0.2, 0.0)  # no replicate fails: z = 5, far beyond 1/1000
    assert p_holds == pytest.approx(2.87e-7, rel=0.01) and p_fails == 1.0
    assert p_values(0.01, 0.2, 0.0)[0] == pytest.approx(1e-3)  # capped: the replicates bound it
    assert p_values(0.3, None, None) is None  # exact
    assert p_values(0.3, 0.0, 0.0) == (0.0, 1.0)  # every replicate at the point value


def _result(name, margin, sd, failing_share, verdict):
    return CheckResult(Check(name, op=">", value=0), margin, None, verdict, margin=margin, margin_sd=sd,
                       failing_share=failing_share)  # fmt: skip


def test_marginal_verdicts_turn_inconclusive_in_a_large_family():
    marginal = [_result(f"m{i}", 0.1, 0.05, 0.02, "holds") for i in range(40)]  # each holds at 2.5 %
    strong = [_result("s", 1.0, 0.1, 0.0, "holds"), _result("f", -1.0, 0.1, 1.0, "fails")]
    exact = [_result("e", 2.0, None, None, "holds")]
    results = marginal + strong + exact
    decisions = decide(results)
    assert [d.verdict for d in decisions[:40]] == ["inconclusive"] * 40
    assert [d.verdict for d in decisions[40:]] == ["holds", "fails", "exact"]
    assert len(changes(results, decisions)) == 40
    alone = decide([marginal[0], strong[0]])  # a family of two: 0.02 <= 0.025 / 1 once the strong one is out
    assert alone[0].verdict == "holds"


def test_the_report_lists_the_verdicts_holm_changes():
    from ssb.report_tables import family_lines

    rows = [
        {"claim": "a", "check": "x:gt", "verdict": "holds", "family_verdict": "inconclusive", "p_holds": 0.02},
        {"claim": "a", "check": "y:gt", "verdict": "holds", "family_verdict": "holds", "p_holds": 1e-6},
        {"claim": "b", "check": "n:gt", "verdict": "holds", "family_verdict": "exact", "p_holds": None},
    ]
    (line,) = family_lines({"checks": rows})
    assert "over the 2 checks with intervals (1 exact checks keep their verdict) changes 1 verdict:" in line
    assert "`a/x:gt` holds → inconclusive (p = 0.02)" in line and "y:gt" not in line
    assert family_lines({"checks": rows[1:]})[0].count("changes 0 verdicts") == 1
