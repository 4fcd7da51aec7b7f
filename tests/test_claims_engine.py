"""The claims engine: specs validated at load (file, claim and field named), three-valued checks with
intervals, expected failures pinned to checks, and honest exit codes."""

import copy
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
    items_to_decide,
    load_spec,
    load_specs,
    pin_evidence,
    run_check,
    tier_of,
)
from ssb.config import ConfigError, load_profile
from ssb.estimate import N_BOOT, Est
from ssb.measures import MEASURES
from ssb.verdicts import check_rows, decided_line

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
    assert len(specs) == 19 and len({s.id for s in specs}) == 19
    assert all("paper" in s.expect and "cpu" in s.expect for s in specs)


@pytest.mark.skipif(not PAPER.is_file(), reason="the paper text (../shared/paper) is not beside this checkout")
def test_every_spec_quotes_the_paper_verbatim():
    import re

    text = re.sub(r"\s+", " ", PAPER.read_text())

    def found(quote: str) -> bool:  # "[...]" joins two passages, each quoted verbatim
        return all(re.sub(r"\s+", " ", part).strip() in text for part in quote.split("[...]"))

    missing = [s.id for s in load_specs(CLAIMS) if not found(s.quote)]
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
        # a tier that cannot decide the claim says why, instead of checks
        (("checks = [", 'undecided = "too small"\nchecks = ['), "give either 'checks' or 'undecided'"),
        (('checks = [{ quantity = "apt_1", op = ">", value = 0 }]', 'undecided = " "'), "field 'undecided' must be"),
        (('checks = [{ quantity = "apt_1", op = ">", value = 0 }]', "checks = []"), "say why in 'undecided'"),
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
        # a pin names its kind of reason and the evidence that kind needs
        (("value = 0 }", 'value = 0, xfail = "r" }'), "a pinned check needs field 'reason'"),
        (("value = 0 }", 'value = 0, reason = "luck", xfail = "r" }'), "needs field 'reason', one of scale"),
        (("value = 0 }", 'value = 0, reason = "sampling" }'), "field 'reason' belongs to a pinned check"),
        (("value = 0 }", 'value = 0, reason = "scale", xfail = "r" }'), "field 'knob'"),
        (
            ("value = 0 }", 'value = 0, reason = "scale", knob = "apt_1", paper_scale = 9, xfail = "r" }'),
            "field 'knob' names 'apt_1', which is not a curve",
        ),
        (
            ("value = 0 }", 'value = 0, reason = "scale", knob = "apt_vs_heads", xfail = "r" }'),
            "a scale reason needs field 'paper_scale'",
        ),
        (
            ("value = 0 }", 'value = 0, reason = "sampling", paper_scale = 9, xfail = "r" }'),
            "field 'paper_scale' goes with reason 'scale'",
        ),
        (("value = 0 }", 'value = 0, reason = "setup", xfail = "r" }'), "field 'evidence'"),
        (
            ("value = 0 }", 'value = 0, reason = "setup", evidence = ["nope"], xfail = "r" }'),
            "field 'evidence' names 'nope'",
        ),
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
        (Check("c", shape="decreasing"), False),  # rises from 4 to 8 nodes
        (Check("down", shape="decreasing"), True),
        (Check("up", shape="decreasing"), False),
        (Check("q", op="between", value=[1, 3]), True),
        (Check("q", op=">", value=2), False),
        (Check("q", op=">=", value=2), True),
        (Check("q", op="<", value=2), False),
        (Check("q", op="<=", value=2), True),
    ],
)
def test_exact_checks(check, holds):
    measured = {"c": CURVE, "up": {"1": 0.1, "2": 0.2, "10": 0.9}, "wobble": {"1": 0.1, "2": 0.09, "3": 0.2}, "q": 2}
    measured["down"] = {"1": 0.9, "2": 0.5, "10": 0.4}
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
    with pytest.raises(MeasureError, match="undeclared quantities: oops"):
        evaluate(spec, StandIn())


# ---------------------------------------------------------------------------- controls
class StandIn:
    """What ``evaluate`` reads of a pipeline (``ssb.protocols.SeedRuns``), no more: a cpu profile naming
    ``controls`` for its specificity pass, one seed run, and ``model_dir`` (an external model's) or None. The
    measures are the tests' fakes, which read nothing of it."""

    def __init__(self, *controls: str, model_dir: Path | None = None, backbones: tuple[int, ...] = ()):
        specificity = SimpleNamespace(controls=controls)
        seeds = SimpleNamespace(over_backbones=bool(backbones), backbone=backbones)
        self.profile = SimpleNamespace(
            name="cpu", expect="cpu", specificity=specificity, seeds=seeds, backbone=SimpleNamespace(seed=0)
        )
        self.model_dir = model_dir
        self.n_seed_runs = 1
        self.backbone_seed = 0  # which backbone run this is (the fakes may read it)

    def seed_run(self, k: int) -> "StandIn":
        return self

    def backbone_run(self, seed: int) -> "StandIn":
        other = copy.copy(self)
        other.backbone_seed = seed
        return other

    def with_whole_curves(self) -> "StandIn":
        return self


def _items(values, rng_seed=0):
    """A mean over items with bootstrap replicates drawn as the measures draw them (one fixed stream)."""
    from ssb.estimate import means

    return means([{"m": v} for v in values], ["m"], np.random.default_rng(rng_seed))["m"]


SYSTEM_VALUES = {  # per-head values of a fake measure on each system: same heads, same resampling stream
    "reference": [0.30, 0.20, 0.25, 0.35, 0.22, 0.28],
    "symmetric": [0.31, 0.19, 0.26, 0.36, 0.21, 0.29],  # the reference's plus or minus 0.01 per head
    "random-init": [0.05, 0.02, 0.04, 0.03, 0.06, 0.01],
}


def _control_spec(tmp_path, control, op=">", monkeypatch=None):
    from ssb import measures

    def fn(pl, system="reference"):
        return {"apt_1": _items(SYSTEM_VALUES[system])}

    fake = measures.Measure("head-cooperation", ("heads",), {"apt_{g}": "scalar"}, fn, measures.TOKEN_SYSTEMS)
    monkeypatch.setitem(measures.MEASURES, "head-cooperation", fake)
    (tmp_path / "x.toml").write_text(
        GOOD.replace('op = ">", value = 0 }', f'op = "{op}", value = 0, control = "{control}" }}')
    )
    return load_spec(tmp_path / "x.toml")


PL = StandIn()


def _backbone_spec(tmp_path, monkeypatch, control=None):
    """A fake measure whose values move with the backbone run (each backbone's heads shifted by 0.5 per seed)."""
    from ssb import measures

    def fn(pl, system="reference"):
        return {"apt_1": _items([v + 0.5 * pl.backbone_seed for v in SYSTEM_VALUES[system]])}

    fake = measures.Measure("head-cooperation", ("heads",), {"apt_{g}": "scalar"}, fn, measures.TOKEN_SYSTEMS)
    monkeypatch.setitem(measures.MEASURES, "head-cooperation", fake)
    against = f', control = "{control}"' if control else ""
    (tmp_path / "x.toml").write_text(GOOD.replace("value = 0 }", f"value = 0{against} }}"))
    return load_spec(tmp_path / "x.toml")


def test_over_backbones_measures_every_backbone_and_widens_the_interval(tmp_path, monkeypatch):
    spec = _backbone_spec(tmp_path, monkeypatch)
    (one,) = evaluate(spec, StandIn()).checks
    verdict = evaluate(spec, StandIn(backbones=(1, 2)))
    (over,) = verdict.checks
    assert verdict.measured["over_backbones"] == [0, 1, 2]
    assert over.backbone_runs == 3 and over.seed_runs == 3
    assert over.per_seed == pytest.approx([one.value, one.value + 0.5, one.value + 1.0])
    assert over.value == pytest.approx(one.value + 0.5)  # the mean over the backbones
    # the outer level draws backbones: the interval spans much of the backbones' spread, far beyond one's
    assert over.interval[1] - over.interval[0] > 0.5 > 3 * (one.interval[1] - one.interval[0])
    assert "3 seed runs over 3 backbones" in over.describe()


def test_over_backbones_pairs_a_never_trained_control_per_backbone(tmp_path, monkeypatch):
    spec = _backbone_spec(tmp_path, monkeypatch, control="random-init")
    (result,) = evaluate(spec, StandIn(backbones=(1,))).checks
    diff = np.mean(SYSTEM_VALUES["reference"]) - np.mean(SYSTEM_VALUES["random-init"])
    assert result.backbone_runs == 2 and result.per_seed == pytest.approx([diff, diff])  # paired within each


def test_a_claim_reading_a_pretrained_variant_stays_on_its_own_backbone(tmp_path, monkeypatch):
    spec = _backbone_spec(tmp_path, monkeypatch, control="symmetric")
    verdict = evaluate(spec, StandIn(backbones=(1, 2)))
    (result,) = verdict.checks
    assert result.backbone_runs == 1 and result.per_seed is None and "over_backbones" not in verdict.measured


def test_a_control_check_is_decided_on_the_paired_difference(tmp_path, monkeypatch):
    verdict = evaluate(_control_spec(tmp_path, "random-init", monkeypatch=monkeypatch), PL)
    (result,) = verdict.checks
    assert result.check.name == "apt_1:gt:vs-random-init" and result.verdict == "holds"
    assert result.reference_value == pytest.approx(np.mean(SYSTEM_VALUES["reference"]))
    assert result.control_value == pytest.approx(np.mean(SYSTEM_VALUES["random-init"]))
    assert result.value == pytest.approx(result.reference_value - result.control_value)
    assert verdict.measured["controls"]["random-init"]["apt_1"] == pytest.approx(result.control_value)


def test_the_difference_is_paired_item_by_item(tmp_path, monkeypatch):
    """Symmetric differs from the reference by 0.01 on each head: paired (the same heads resampled together),
    the difference's interval lies within the per-head differences; resampled apart, it is several times wider."""
    verdict = evaluate(_control_spec(tmp_path, "symmetric", op="<", monkeypatch=monkeypatch), PL)
    (result,) = verdict.checks
    diff = np.array(SYSTEM_VALUES["reference"]) - np.array(SYSTEM_VALUES["symmetric"])
    assert result.value == pytest.approx(diff.mean())
    lo, hi = result.interval
    assert diff.min() <= lo <= hi <= diff.max()
    apart = (_items(SYSTEM_VALUES["reference"], 0) - _items(SYSTEM_VALUES["symmetric"], 1)).interval()
    assert apart[1] - apart[0] > 3 * (hi - lo)


def test_the_claim_measured_on_its_control_fails_its_specificity_check(tmp_path, monkeypatch):
    spec = _control_spec(tmp_path, "random-init", monkeypatch=monkeypatch)
    (result,) = evaluate(spec, PL, system="random-init").checks
    assert result.value == 0 and result.verdict == "fails"


def test_an_unknown_or_unusable_control_is_an_error_at_load(tmp_path, monkeypatch):
    _control_spec(tmp_path, "random-init", monkeypatch=monkeypatch)
    (tmp_path / "y.toml").write_text(GOOD.replace("value = 0 }", 'value = 0, control = "untrained" }'))
    with pytest.raises(SpecError, match=r"y.toml \(claim 'x'\).*field 'control' names 'untrained'.*random-init"):
        load_spec(tmp_path / "y.toml")
    (tmp_path / "z.toml").write_text(
        GOOD.replace('op = ">", value = 0 }', 'op = "between", value = [0, 1], control = "symmetric" }')
    )
    with pytest.raises(SpecError, match="field 'control' needs a scalar check"):
        load_spec(tmp_path / "z.toml")


def test_an_external_model_skips_control_checks_with_the_reason(tmp_path, monkeypatch):
    spec = _control_spec(tmp_path, "symmetric", monkeypatch=monkeypatch)
    verdict = evaluate(spec, StandIn(model_dir=Path("/m")))
    assert verdict.checks == [] and "external --model" in verdict.skipped_checks["apt_1:gt:vs-symmetric"]
    assert verdict.ok


def test_every_shipped_control_names_a_system_its_measure_runs_on():
    for spec in load_specs(CLAIMS):
        for expectation in spec.expect.values():
            for check in expectation.checks:
                if check.control:
                    assert check.control in MEASURES[spec.measure].systems


CPU_CONTROLS = {  # the controls each claim is decided against at the cpu tier (issue: controls on systems)
    "head-specialisation": {"symmetric", "random-init"},
    "head-cooperation": {"symmetric", "random-init"},
    "cooperation-beyond-sum": {"symmetric", "random-init"},
    "node-specialisation": {"random-init"},
    "pretrain-crossover": {"random-init"},
    "pretrain-confidence": {"random-init"},
    "few-empty-columns": {"random-init"},
    "finetune-crossover": {"random-init"},
    "finetune-confidence": {"random-init"},
    "fewrel-node-guess": {"random-init"},
}


def test_the_cpu_tier_names_each_claims_controls_and_only_there():
    for spec in load_specs(CLAIMS):
        for tier, expectation in spec.expect.items():
            controls = {c.control for c in expectation.checks if c.control}
            if tier == "cpu":
                assert controls == CPU_CONTROLS.get(spec.id, set()), spec.id
            elif tier != "regression":  # the regression tier decides against controls where the effect exists
                assert controls == set(), (spec.id, tier)


def test_an_undecided_claim_is_counted_and_measures_nothing(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text(GOOD.replace('checks = [{ quantity = "apt_1", op = ">", value = 0 }]', 'undecided = "too small"'))
    spec = load_spec(path)
    verdict = evaluate(spec, SimpleNamespace(), tier="cpu")  # a pipeline with nothing: measuring would raise
    assert verdict.label == "undecided" and verdict.undecided == "too small" and verdict.ok and not verdict.checks
    held = _verdict(Check("q", ">", value=0), 1.0)
    assert decided_line([verdict, held]) == "1 of 2 claims decided at tier 'cpu'; 1 of them hold"
    rows = check_rows([verdict])
    assert rows == [{"claim": "x", "check": None, "outcome": "undecided", "why": "too small"}]


def test_every_claim_is_decided_at_the_regression_tier_or_says_why():
    specs = load_specs(CLAIMS)
    for spec in specs:
        expectation = spec.expect["regression"]
        assert bool(expectation.undecided) != bool(expectation.checks), spec.id
    assert sum(not s.expect["regression"].undecided for s in specs) >= 12


def _pinned(reason, value, **fields):
    check = Check("q", op=">", value=1.0, xfail="a reason", reason=reason, **fields)
    result = run_check(check, {"q": value})
    return result


def test_a_scale_reason_shows_its_trend_and_where_it_would_reach_the_threshold():
    # margins -0.3 at x = 10 and -0.2 at x = 100: 0.1 per decade, so the threshold is reached at x = 10^4
    knob = {"10": 0.7, "100": 0.8}
    result = _pinned("scale", 0.8, knob="k", paper_scale=1e5)
    pin_evidence(result, {"q": 0.8, "k": knob})
    assert result.pin_problem is None and result.outcome == "xfail"
    assert result.evidence["along_knob"] == knob and result.evidence["threshold_reached_at"] == pytest.approx(1e4)
    short = _pinned("scale", 0.8, knob="k", paper_scale=1e3)  # the paper's setup lies before that
    pin_evidence(short, {"q": 0.8, "k": knob})
    assert short.outcome == "MISPINNED" and "beyond the paper's x = 1000" in short.pin_problem


def test_a_scale_reason_whose_trend_moves_away_is_a_faithful_negative():
    result = _pinned("scale", 0.6, knob="k", paper_scale=1e5)
    pin_evidence(result, {"q": 0.6, "k": {"10": 0.8, "100": 0.7, "1000": 0.6}})
    assert result.outcome == "MISPINNED" and "does not move toward the threshold" in result.pin_problem
    verdict = Verdict(SimpleNamespace(id="x"), "cpu", [result], {})
    assert verdict.label == "MISPINNED" and exit_code([verdict]) == 1


def test_a_sampling_reason_counts_the_items_that_would_decide():
    value = Est(1.05, np.random.default_rng(0).normal(1.05, 0.05, N_BOOT), n_items=20)
    result = _pinned("sampling", value)
    pin_evidence(result, {"q": value})
    assert result.verdict == "inconclusive" and result.pin_problem is None
    half = (result.margin_interval[1] - result.margin_interval[0]) / 2
    assert result.evidence["items"] == 20
    assert result.evidence["items_to_decide"] == int(np.ceil(20 * (half / 0.05) ** 2)) > 20
    assert items_to_decide(20, 0.0, (-1, 1)) is None


@pytest.mark.parametrize("value", [Est(0.5, np.full(N_BOOT, 0.5) + np.linspace(-0.1, 0.1, N_BOOT), 20), 0.5])
def test_a_sampling_reason_needs_an_interval_that_straddles(value):
    result = _pinned("sampling", value)  # decisively below 1, or exact: more items would not decide
    pin_evidence(result, {"q": value})
    assert result.outcome == "MISPINNED"


def test_a_setup_reason_shows_the_quantities_it_names():
    result = _pinned("setup", 0.5, evidence=("a", "b"))
    pin_evidence(result, {"q": 0.5, "a": Est(0.4), "b": 0.3})
    assert result.evidence["setup"] == {"a": 0.4, "b": 0.3} and result.outcome == "xfail"


def test_estimates_count_the_items_they_resample():
    from ssb.estimate import means

    est = means([{"m": float(i)} for i in range(7)], ("m",), np.random.default_rng(0))["m"]
    assert est.n_items == 7 and (est * 2).n_items == 7 and (est - Est(1.0)).n_items == 7


def test_a_sampling_reason_whose_point_value_fails_is_mispinned():
    # the interval straddles 1 (inconclusive), but the point value lies below it: not a question of sampling
    value = Est(0.98, np.random.default_rng(0).normal(0.98, 0.05, N_BOOT), n_items=20)
    result = _pinned("sampling", value)
    pin_evidence(result, {"q": value})
    assert result.verdict == "inconclusive" and result.point_holds is False
    assert result.outcome == "MISPINNED" and "failing side" in result.pin_problem


def test_the_papers_own_numbers_are_counted_by_their_checks_names():
    from ssb.verdicts import paper_numbers

    pairs = [("n_pos_1:paper", "holds"), ("apt_1:paper", "fails"), ("x:paper-ratio", "inconclusive"), ("y:gt", "fails")]
    assert paper_numbers(pairs) == "3 of the paper's numbers decided: 1 hold, 1 fail, 1 inconclusive"
    assert paper_numbers([("y:gt", "holds")]) == ""


# ---------------------------------------------------------------------------- specificity
def _absolute_spec(tmp_path, monkeypatch, value=0.1):
    _control_spec(tmp_path, "random-init", monkeypatch=monkeypatch)  # registers the fake measure
    (tmp_path / "y.toml").write_text(GOOD.replace('op = ">", value = 0 }', f'op = ">", value = {value} }}'))
    return load_spec(tmp_path / "y.toml")


def test_an_absolute_check_that_a_control_also_holds_is_not_specific(tmp_path, monkeypatch):
    from ssb.specificity import holds_specifically, specific, specific_line

    spec = _absolute_spec(tmp_path, monkeypatch)  # apt_1 > 0.1: the reference and symmetric hold it, random-init not
    verdict = evaluate(spec, StandIn("symmetric", "random-init"))
    (result,) = verdict.checks
    rows = {r.system: r for r in verdict.specificity}
    assert result.verdict == "holds" and rows["symmetric"].verdict == "holds" and rows["random-init"].verdict == "fails"
    assert specific(result, verdict.specificity) is False and not holds_specifically(verdict)
    assert specific_line([verdict]) == "0 of 1 claims hold specifically"
    only_random = evaluate(spec, StandIn("random-init"))
    assert specific(only_random.checks[0], only_random.specificity) is True and holds_specifically(only_random)
    assert evaluate(spec, StandIn()).specificity == []  # no controls named: no rows, nothing measured


def test_a_control_left_inconclusive_leaves_the_check_undetermined(tmp_path, monkeypatch):
    from ssb.specificity import holds_specifically, specific

    spec = _absolute_spec(tmp_path, monkeypatch, value=0.035)  # random-init's mean: its interval straddles it
    verdict = evaluate(spec, StandIn("random-init"))
    (row,) = verdict.specificity
    assert verdict.checks[0].verdict == "holds" and row.verdict == "inconclusive"
    assert specific(verdict.checks[0], verdict.specificity) is None and not holds_specifically(verdict)


def test_a_specificity_control_must_be_a_registered_system(tmp_path, monkeypatch):
    spec = _absolute_spec(tmp_path, monkeypatch)
    with pytest.raises(ConfigError, match="field 'specificity.controls' names 'nonsense'"):
        evaluate(spec, StandIn("nonsense"))


def _declared_spec(tmp_path, monkeypatch, value=0.1):
    """apt_1 > value declared not specific (``specific = false``)."""
    _absolute_spec(tmp_path, monkeypatch)  # registers the fake measure
    (tmp_path / "d.toml").write_text(
        GOOD.replace('op = ">", value = 0 }', f'op = ">", value = {value}, specific = false }}')
    )
    return load_spec(tmp_path / "d.toml")


def test_a_check_a_control_holds_must_be_declared_not_specific(tmp_path, monkeypatch):
    from ssb.claims import exit_code
    from ssb.specificity import specific

    undeclared = evaluate(_absolute_spec(tmp_path, monkeypatch), StandIn("symmetric", "random-init"))
    (result,) = undeclared.checks
    assert result.verdict == "holds" and result.outcome == "MISDECLARED" and undeclared.label == "MISDECLARED"
    assert "symmetric holds it too" in result.specificity_problem and exit_code([undeclared]) == 1
    declared = evaluate(_declared_spec(tmp_path, monkeypatch), StandIn("symmetric", "random-init"))
    (result,) = declared.checks
    assert result.outcome == "pass" and result.specificity_problem is None and declared.label == "holds"
    assert specific(result, declared.specificity) is False  # shown and decided, but it does not count


def test_a_declaration_every_control_fails_is_misdeclared(tmp_path, monkeypatch):
    from ssb.specificity import specific

    verdict = evaluate(_declared_spec(tmp_path, monkeypatch), StandIn("random-init"))  # random-init fails > 0.1
    (result,) = verdict.checks
    assert result.outcome == "MISDECLARED" and "every control measured fails it" in result.specificity_problem
    assert specific(result, verdict.specificity) is False  # a declaration never makes a check count
    inconclusive = evaluate(_declared_spec(tmp_path, monkeypatch, value=0.035), StandIn("random-init"))
    assert inconclusive.checks[0].outcome == "pass"  # a control left inconclusive contradicts nothing
    no_controls = evaluate(_declared_spec(tmp_path, monkeypatch), StandIn())
    assert no_controls.checks[0].outcome == "pass"  # nothing measured on a control: nothing to contradict


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('specific = "no"', "field 'specific' must be true or false"),
        ('specific = false, control = "symmetric"', "specific by construction"),
    ],
)
def test_a_malformed_specific_declaration_is_refused_at_load(tmp_path, monkeypatch, entry, message):
    _absolute_spec(tmp_path, monkeypatch)  # registers the fake measure (symmetric is among its systems)
    (tmp_path / "m.toml").write_text(GOOD.replace('op = ">", value = 0 }', f'op = ">", value = 0, {entry} }}'))
    with pytest.raises(SpecError, match=message):
        load_spec(tmp_path / "m.toml")


def test_the_committed_cpu_report_agrees_with_the_declarations():
    """The run's rule (``ssb.specificity.declaration_problem``) on the committed cpu report against the specs as
    they are now: no absolute check that a control holds is undeclared, and no check declared ``specific =
    false`` is failed by every control measured (a control left inconclusive contradicts nothing)."""
    import json

    report = json.loads((CLAIMS.parent / "results" / "cpu" / "report.json").read_text())
    verdicts: dict[tuple[str, str], list[str]] = {}
    for r in report["specificity"]:
        if r["verdict"] != "not measured":
            verdicts.setdefault((r["claim"], r["check"]), []).append(r["verdict"])
    expectations = [(spec.id, spec.expect.get("cpu")) for spec in load_specs(CLAIMS)]
    declared = {(sid, c.name) for sid, e in expectations if e for c in e.checks if c.control is None and not c.specific}
    held = {k for k, v in verdicts.items() if "holds" in v}
    failed_by_all = {k for k, v in verdicts.items() if v and all(x == "fails" for x in v)}
    assert held <= declared, f"held by a control, undeclared: {sorted(held - declared)}"
    assert not declared & failed_by_all, f"declared, failed by every control: {sorted(declared & failed_by_all)}"
    assert declared, "no declaration read: the test would check nothing"
