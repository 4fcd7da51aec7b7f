"""A pin's text quotes no number typed by hand (ssb/pin_text.py): the numbers of a text, within the rounding
they are written with, against the profile's, the check's own and the paper's sentence; every shipped pin."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssb.claims import Check, load_spec, run_check
from ssb.config import load_profile
from ssb.evaluation import pin_text_problem
from ssb.pin_text import numbers_in, quoted_numbers, unreproduced

ROOT = Path(__file__).resolve().parent.parent


def test_numbers_are_read_with_their_rounding_and_references_are_not_numbers():
    text = "Fig. 4B and Table 1, §3, #36, Eq. (2), BERT-6: 0.215 of 2,600 inputs, 5 % at block6, 1e-05, -0.1, 1.5x, .5"
    quoted = quoted_numbers(text)
    assert [(q.text, q.value) for q in quoted] == [
        ("0.215", 0.215), ("2,600", 2600.0), ("5 %", 0.05), ("1e-05", 1e-05), ("-0.1", -0.1), ("1.5x", 1.5),
        (".5", 0.5),
    ]  # fmt: skip
    assert [q.tolerance for q in quoted] == pytest.approx([0.0005, 0.5, 0.005, 0.5e-05, 0.05, 0.05, 0.05])


def test_a_number_is_reproduced_only_within_its_rounding():
    assert unreproduced("a ratio of 1.22 and 213 tokens", [1.2206, 213.0]) == []
    assert unreproduced("a ratio of 1.22", [1.2306]) == ["1.22"]
    assert unreproduced("a fall of -0.125", [0.1251]) == []  # a signed difference and its size
    assert unreproduced("20 % of the inputs", [0.2]) == []
    assert unreproduced("about 2,600 paragraphs", [2613.0]) == ["2,600"]  # a rounded count is typed by hand too
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


def test_a_pin_quoting_a_number_typed_by_hand_is_mispinned():
    check = Check("q", op=">", value=1.0, xfail="Faithful negative: q is 0.52 here", reason="faithful-negative")
    typed = run_check(check, {"q": 0.52})  # even where the run happens to give it
    pin_text_problem(typed, profile={}, quote="")
    assert typed.outcome == "MISPINNED" and "0.52" in typed.pin_problem and "typed by hand" in typed.pin_problem
    argued = Check("q", op=">", value=1.0, xfail="Faithful negative: q stays below 1 here", reason="faithful-negative")
    plain = run_check(argued, {"q": 0.52})
    pin_text_problem(plain, profile={}, quote="")
    assert plain.outcome == "xfail" and plain.pin_problem is None


TIER_PROFILES = {"smoke": "smoke", "regression": "regression", "cpu": "cpu", "cpu-seeds": "cpu-seeds", "paper": "paper"}


def test_every_shipped_pin_quotes_only_the_profiles_the_checks_and_the_papers_numbers():
    stale = []
    for path in sorted((ROOT / "claims").glob("*.toml")):
        spec = load_spec(path)
        for tier, expectation in spec.expect.items():
            profile = load_profile(TIER_PROFILES[tier])
            for check in expectation.checks:
                if not check.xfail:
                    continue
                sources = numbers_in(profile) + numbers_in([check.value, check.paper_scale, check.tolerance])
                sources += [q.value for q in quoted_numbers(spec.quote)]
                if missing := unreproduced(check.xfail, sources):
                    stale.append(f"{spec.id} [{tier}] {check.name}: {', '.join(missing)}")
    assert not stale, "pins quoting numbers typed by hand: " + "; ".join(stale)
