"""A pin's text quotes no number the run does not give (ssb/pin_text.py): the numbers of a text, within the
rounding they are written with, against the run's; and the shipped pins against the committed cpu report."""

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssb.claims import Check, load_spec, run_check
from ssb.evaluation import pin_text_problem
from ssb.pin_text import numbers_in, quoted_numbers, unreproduced

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "results" / "cpu" / "report.json"


def test_numbers_are_read_with_their_rounding_and_references_are_not_numbers():
    quoted = quoted_numbers("Fig. 4B and Table 1, §3, #36: 0.215 of 2,600 inputs, 5 % at block6, 1e-05")
    assert [(q.text, q.value) for q in quoted] == [("0.215", 0.215), ("2,600", 2600.0), ("5 %", 0.05), ("1e-05", 1e-05)]
    assert [q.tolerance for q in quoted] == pytest.approx([0.0005, 50.0, 0.005, 0.5e-05])


def test_a_number_is_reproduced_only_within_its_rounding():
    assert unreproduced("a ratio of 1.22 and 213 tokens", [1.2206, 213.0]) == []
    assert unreproduced("a ratio of 1.22", [1.2306]) == ["1.22"]
    assert unreproduced("a fall of -0.125", [0.1251]) == []  # a signed difference and its size
    assert unreproduced("20 % of the inputs", [0.2]) == []
    assert unreproduced("no numbers at all, one or two in words", []) == []


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(min_value=1, max_value=4))
def test_a_value_written_at_any_precision_is_reproduced_by_itself_and_not_by_a_distant_one(x, decimals):
    text = f"measured {x:.{decimals}f} here"
    assert unreproduced(text, [x]) == []
    assert unreproduced(text, [abs(x) + 2 * 10.0**-decimals]) == [f"{x:.{decimals}f}"]


def test_numbers_are_gathered_from_nested_results():
    import numpy as np

    from ssb.estimate import Est

    spread = Est(0.25, np.linspace(0.1, 0.4, 1000), n_items=7)  # its value and interval, not its replicates
    found = numbers_in({"a": [1, {"2": 3.5}], "b": spread, "c": None, "d": True, "e": "x"})
    assert len(found) == 6 and {1.0, 2.0, 3.5, 0.25} <= set(found)


def test_a_pin_quoting_a_number_the_run_does_not_give_is_mispinned():
    check = Check("q", op=">", value=1.0, xfail="Faithful negative: q is 0.52 here", reason="faithful-negative")
    stale = run_check(check, {"q": 0.61})
    pin_text_problem(stale, {"q": 0.61}, profile={}, quote="")
    assert stale.outcome == "MISPINNED" and "0.52" in stale.pin_problem
    fresh = run_check(check, {"q": 0.52})
    pin_text_problem(fresh, {"q": 0.52}, profile={}, quote="")
    assert fresh.outcome == "xfail" and fresh.pin_problem is None


@pytest.mark.skipif(not REPORT.is_file(), reason="no committed cpu report")
def test_every_cpu_pin_quotes_only_numbers_the_committed_run_gives():
    report = json.loads(REPORT.read_text())
    claims = {c["id"]: c for c in report["claims"]}
    stale = []
    for row in report["checks"]:
        spec = load_spec(ROOT / "claims" / f"{row['claim']}.toml")
        check = next((c for c in spec.expect[report["tier"]].checks if c.name == row["check"]), None)
        if check is None or not check.xfail:
            continue
        own = [row.get(k) for k in ("value", "interval", "reference_value", "control_value", "evidence", "per_seed")]
        sources = numbers_in(claims[row["claim"]]["measured"]) + numbers_in(own) + numbers_in(report["profile"])
        sources += [q.value for q in quoted_numbers(spec.quote)]
        if missing := unreproduced(check.xfail, sources):
            stale.append(f"{row['claim']}/{row['check']}: {', '.join(missing)}")
    assert not stale, "pins quoting numbers the committed run does not give: " + "; ".join(stale)
