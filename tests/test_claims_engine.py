"""The claims engine: spec validation names file and field; checks decide as documented."""

from pathlib import Path

import pytest

from ssb.claims import Check, SpecError, load_spec, load_specs, run_check

CLAIMS = Path(__file__).resolve().parent.parent / "claims"
GOOD = '''id = "x"
paper = "§1"
statement = "s"
experiments = ["heads"]
measure = "head-cooperation"
[expect.cpu]
checks = [{ quantity = "apt_1", op = ">", value = 0 }]
'''


def test_the_shipped_specs_load():
    specs = load_specs(CLAIMS)
    assert len(specs) == 13 and len({s.id for s in specs}) == 13
    assert all("paper" in s.expect and "cpu" in s.expect for s in specs)


@pytest.mark.parametrize(
    "change, message",
    [
        (("id = \"x\"\n", ""), "missing field 'id'"),
        (("measure = \"head-cooperation\"", "measure = \"nope\""), "field 'measure' names unknown measure 'nope'"),
        (("experiments = [\"heads\"]", "experiments = [\"hedz\"]"), "unknown experiment 'hedz'"),
        (("op = \">\"", "op = \"~\""), "field 'op' must be one of"),
        (("op = \">\", value = 0", "shape = \"wiggly\""), "field 'shape' must be one of"),
        (("op = \">\", value = 0", "op = \"between\", value = 3"), "field 'value' must be [low, high]"),
        (("op = \">\", value = 0", "op = \">\", shape = \"increasing\""), "exactly one of 'op' or 'shape'"),
        (("checks = [", "chex = 1\nchecks = ["), "expect.cpu': unknown key 'chex'"),
        (("statement = \"s\"", "statement = \"s\"\ncolour = 1"), "unknown field 'colour'"),
        (("[expect.cpu]", "[expect.cpu\n"), "not valid TOML"),
    ],
)
def test_malformed_specs_name_file_and_field(tmp_path, change, message):
    path = tmp_path / "bad-claim.toml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert "bad-claim.toml" in str(err.value) and message in str(err.value)


def test_duplicate_ids(tmp_path):
    (tmp_path / "a.toml").write_text(GOOD)
    (tmp_path / "b.toml").write_text(GOOD)
    with pytest.raises(SpecError, match="also used by"):
        load_specs(tmp_path)


CURVE = {"1": 0.6, "2": 0.4, "4": 0.3, "8": 0.35, "16": 0.5}


@pytest.mark.parametrize(
    "check, holds",
    [
        (Check("c", shape="dip-then-rise"), True),
        (Check("c", shape="dip-then-rise", tolerance=0.25), False),  # last is only 0.2 above the minimum
        (Check("c", shape="argmin-between", value=[2, 4]), True),
        (Check("c", shape="argmin-between", value=[8, 16]), False),
        (Check("c", shape="increasing"), False),
        (Check("up", shape="increasing"), True),
        (Check("up", shape="increasing", tolerance=0.0), True),
        (Check("wobble", shape="increasing", tolerance=0.02), True),
        (Check("wobble", shape="increasing", tolerance=0.005), False),
        (Check("q", op="between", value=[1, 3]), True),
        (Check("q", op=">", value=2), False),
        (Check("missing", op=">", value=0), False),
    ],
)
def test_checks(check, holds):
    measured = {"c": CURVE, "up": {"1": 0.1, "2": 0.2, "10": 0.9}, "wobble": {"1": 0.1, "2": 0.09, "3": 0.2}, "q": 2}
    assert (run_check(check, measured) is None) == holds


def test_curve_points_are_ordered_numerically():
    # "10" sorts before "2" as text; the checks must read 1, 2, 10
    assert run_check(Check("c", shape="increasing"), {"c": {"10": 3.0, "2": 2.0, "1": 1.0}}) is None
