"""The claims engine: specs validated at load (file, claim and field named), three-valued checks with
intervals, expected failures pinned to checks, and honest exit codes."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from ssb.claims import (
    Check,
    MeasureError,
    SpecError,
    TierError,
    Verdict,
    evaluate,
    exit_code,
    load_spec,
    load_specs,
    run_check,
    tier_of,
)
from ssb.config import ConfigError, load_profile
from ssb.estimate import N_BOOT, Est
from ssb.measures import MEASURES

CLAIMS = Path(__file__).resolve().parent.parent / "claims"
PAPER = Path(__file__).resolve().parents[2] / "shared" / "paper" / "rosner2026-single-nodal-ssb.txt"
GOOD = """id = "x"
paper = "§1"
quote = "q"
statement = "s"
measure = "head-cooperation"
[expect.cpu]
checks = [{ quantity = "apt_1", op = ">", value = 0 }]
"""


def test_the_shipped_specs_load():
    specs = load_specs(CLAIMS)
    assert len(specs) == 16 and len({s.id for s in specs}) == 16
    assert all("paper" in s.expect and "cpu" in s.expect for s in specs)


@pytest.mark.skipif(not PAPER.is_file(), reason="the paper text (../shared/paper) is not beside this checkout")
def test_every_spec_quotes_the_paper_verbatim():
    import re

    text = re.sub(r"\s+", " ", PAPER.read_text())
    missing = [s.id for s in load_specs(CLAIMS) if re.sub(r"\s+", " ", s.quote) not in text]
    assert not missing, f"quotes not found verbatim in the paper: {missing}"


@pytest.mark.parametrize(
    "change, message",
    [
        (('id = "x"\n', ""), "missing field 'id'"),
        (('quote = "q"\n', ""), "missing field 'quote'"),
        (('measure = "head-cooperation"', 'measure = "nope"'), "field 'measure' names unknown measure 'nope'"),
        (('op = ">"', 'op = "~"'), "field 'op' must be one of"),
        (('op = ">", value = 0', 'shape = "wiggly"'), "field 'shape' must be one of"),
        (('op = ">", value = 0', 'op = "between", value = 3'), "field 'value' must be [low, high]"),
        (('op = ">", value = 0', 'op = "between", value = ["1", "9"]'), "field 'value' must be [low, high]"),
        (('op = ">", value = 0', 'op = "between", value = [9, 1]'), "low <= high"),
        (("value = 0", 'value = "0"'), "field 'value' must be a number"),
        (("value = 0", "value = true"), "field 'value' must be a number"),
        (('op = ">", value = 0', 'op = ">", shape = "increasing"'), "exactly one of 'op' or 'shape'"),
        (("checks = [", "chex = 1\nchecks = ["), "expect.cpu': unknown key 'chex'"),
        (('statement = "s"', 'statement = "s"\ncolour = 1'), "unknown field 'colour'"),
        (("[expect.cpu]", "[expect.cpu\n"), "not valid TOML"),
        (("[expect.cpu]", "[expect.gpu]"), "unknown tier"),
        # a typo'd quantity is an error at load, also inside an expected failure
        (
            ('quantity = "apt_1", op = ">", value = 0', 'quantity = "apt_one", op = ">", value = 0, xfail = "r"'),
            "names 'apt_one', which measure 'head-cooperation' does not produce",
        ),
        # an op on a curve, a shape on a scalar
        (
            ('quantity = "apt_1"', 'quantity = "apt_vs_heads"'),
            "field 'op' needs a scalar, but 'apt_vs_heads' is a curve",
        ),
        (
            ('quantity = "apt_1", op = ">", value = 0', 'quantity = "apt_1", shape = "increasing"'),
            "field 'shape' needs a curve, but 'apt_1' is a scalar",
        ),
        (
            ('op = ">", value = 0', 'op = ">", value = 0, tolerance = 0.1'),
            "'tolerance' applies to shape 'dip-then-rise'",
        ),
        (("value = 0 }", 'value = 0, xfail = "" }'), "field 'xfail' must be a non-empty string"),
        (
            ("value = 0 }", 'value = 0 }, { quantity = "apt_1", op = ">", value = 1 }'),
            "two checks are named 'apt_1:gt'",
        ),
    ],
)
def test_malformed_specs_name_file_claim_and_field(tmp_path, change, message):
    path = tmp_path / "bad-claim.toml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert "bad-claim.toml" in str(err.value) and message in str(err.value)
    if "missing field 'id'" not in message and "not valid TOML" not in message:
        assert "claim 'x'" in str(err.value)


def test_duplicate_ids(tmp_path):
    (tmp_path / "a.toml").write_text(GOOD)
    (tmp_path / "b.toml").write_text(GOOD)
    with pytest.raises(SpecError, match="also used by"):
        load_specs(tmp_path)


def test_measures_declare_patterns():
    m = MEASURES["head-cooperation"]
    assert m.kind("apt_all") == "scalar" and m.kind("apt_4") == "scalar" and m.kind("apt_vs_heads") == "curve"
    assert m.kind("apt_x") is None and m.kind("heads_per_group") == "info"


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
        (Check("wobble", shape="increasing", rel_tolerance=0.2), True),  # falls 10 % of 0.1
        (Check("wobble", shape="increasing", rel_tolerance=0.05), False),
        (Check("q", op="between", value=[1, 3]), True),
        (Check("q", op=">", value=2), False),
        (Check("q", op=">=", value=2), True),
        (Check("q", op="<", value=2), False),
        (Check("q", op="<=", value=2), True),
    ],
)
def test_exact_checks(check, holds):
    measured = {"c": CURVE, "up": {"1": 0.1, "2": 0.2, "10": 0.9}, "wobble": {"1": 0.1, "2": 0.09, "3": 0.2}, "q": 2}
    result = run_check(check, measured)
    assert result.verdict == ("holds" if holds else "fails") and result.interval is None


def test_curve_points_are_ordered_numerically():
    # "10" sorts before "2" as text; the checks must read 1, 2, 10
    assert run_check(Check("c", shape="increasing"), {"c": {"10": 3.0, "2": 2.0, "1": 1.0}}).verdict == "holds"


def _noisy(value, sd, seed=0):
    return Est(value, np.random.default_rng(seed).normal(value, sd, N_BOOT))


@pytest.mark.parametrize(
    "value, sd, verdict",
    [(1.5, 0.1, "holds"), (1.02, 0.1, "inconclusive"), (0.98, 0.1, "inconclusive"), (0.5, 0.1, "fails")],
)
def test_three_valued_verdicts(value, sd, verdict):
    result = run_check(Check("q", op=">", value=1.0), {"q": _noisy(value, sd)})
    assert result.verdict == verdict
    lo, hi = result.interval
    assert lo < value < hi and hi - lo == pytest.approx(2 * 1.96 * sd, rel=0.15)


def test_shape_verdicts_use_the_replicates():
    clear = {"1": _noisy(0.1, 0.001, 1), "2": _noisy(0.2, 0.001, 2), "3": _noisy(0.3, 0.001, 3)}
    flat = {"1": _noisy(0.1, 0.02, 1), "2": _noisy(0.11, 0.02, 2), "3": _noisy(0.12, 0.02, 3)}
    assert run_check(Check("c", shape="increasing"), {"c": clear}).verdict == "holds"
    assert run_check(Check("c", shape="increasing"), {"c": flat}).verdict == "inconclusive"


def test_a_one_point_curve_cannot_pass_a_shape_check():
    with pytest.raises(MeasureError, match="needs at least 3 points"):
        run_check(Check("c", shape="increasing"), {"c": {"1": 0.5}})
    with pytest.raises(MeasureError, match="needs at least 3 points"):
        run_check(Check("c", shape="dip-then-rise"), {"c": {}})


def test_an_unmeasured_quantity_is_an_error_even_when_pinned():
    with pytest.raises(MeasureError, match="was not measured"):
        run_check(Check("missing", op=">", value=0, xfail="expected"), {"q": 1.0})
    with pytest.raises(MeasureError, match="'q' has no value in this run"):  # e.g. no frequent token to cover
        run_check(Check("q", op=">", value=0), {"q": None})


def _verdict(check, value):
    spec = SimpleNamespace(id="x")
    return Verdict(spec, "cpu", [run_check(check, {"q": value})], {})


def test_pinned_checks_are_strict():
    pinned = Check("q", op=">", value=1.0, xfail="a reason")
    assert _verdict(pinned, 0.5).checks[0].outcome == "xfail" and exit_code([_verdict(pinned, 0.5)]) == 0
    assert _verdict(pinned, _noisy(1.02, 0.1)).checks[0].outcome == "xfail"  # inconclusive satisfies a pin
    passing = _verdict(pinned, 2.0)
    assert passing.checks[0].outcome == "XPASS" and passing.label == "XPASS" and exit_code([passing]) == 1


def test_unpinned_failures_and_inconclusive_give_a_nonzero_exit():
    check = Check("q", op=">", value=1.0)
    assert exit_code([_verdict(check, 2.0)]) == 0
    assert exit_code([_verdict(check, 0.5)]) == 1
    inconclusive = _verdict(check, _noisy(1.02, 0.1))
    assert inconclusive.label == "INCONCLUSIVE" and exit_code([inconclusive]) == 1


def test_a_profile_without_a_tier_is_refused(tmp_path):
    mine = tmp_path / "my.toml"
    mine.write_text('name = "my"\n[probe]\nlayer = 5\n')
    with pytest.raises(TierError, match="names no expectation tier"):
        tier_of(load_profile(mine))
    mine.write_text('name = "my"\nexpect = "gpu"\n')
    with pytest.raises(TierError, match="not a tier"):
        tier_of(load_profile(mine))
    mine.write_text('name = "my"\nexpect = "cpu"\n')
    assert tier_of(load_profile(mine), load_specs(CLAIMS)) == "cpu"
    mine.write_text('name = "my"\nexpect = 3\n')
    with pytest.raises(ConfigError, match="my.toml: field 'expect' must be a string"):
        load_profile(mine)


def test_the_cli_refuses_a_profile_without_a_tier(tmp_path, capsys):
    from ssb.cli import main

    mine = tmp_path / "my.toml"
    mine.write_text('name = "my"\n')
    assert main(["claims", "--profile", str(mine), "--claims", str(CLAIMS), "--cache-dir", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "names no expectation tier" in err


def test_a_measure_that_returns_undeclared_quantities_is_an_error(tmp_path, monkeypatch):
    from ssb import measures

    (tmp_path / "x.toml").write_text(GOOD)
    spec = load_spec(tmp_path / "x.toml")
    fake = measures.Measure("head-cooperation", ("heads",), {"apt_{g}": "scalar"}, lambda pl: {"apt_1": 1.0, "oops": 2})
    monkeypatch.setitem(measures.MEASURES, "head-cooperation", fake)
    pl = SimpleNamespace(profile=SimpleNamespace(name="cpu", expect="cpu"), model_dir=None)
    with pytest.raises(MeasureError, match="undeclared quantities: oops"):
        evaluate(spec, pl)
