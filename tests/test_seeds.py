"""Seed runs: the profile section, each run's seeds, and the two-level bootstrap that combines the runs."""

import numpy as np
import pytest

from ssb.claims import Check, MeasureError
from ssb.config import ConfigError, load_profile, profile_from_dict, seed_run
from ssb.estimate import N_BOOT, Est, as_est
from ssb.evaluation import run_control_check
from ssb.seeds import combine, combine_runs, nested_picks, per_seed_note, run_picks, untouched


def test_a_seed_run_sets_the_probe_subset_and_split_seeds():
    cpu = load_profile("cpu")
    assert cpu.seeds.n_runs == 3
    two = seed_run(cpu, 2)
    assert (two.probe.seed, two.sweep.seed, two.fewrel.split_seed) == (2, 2, 0)  # one FewRel split for all
    assert seed_run(cpu, 0) == cpu.replace()  # run 0 is the profile's own seeds
    assert load_profile("smoke").seeds.n_runs == 1
    with pytest.raises(ConfigError, match="seed run 3"):
        seed_run(cpu, 3)


def test_run_0_takes_the_first_listed_seeds_not_the_base_ones(tmp_path):
    """#34: with lists that start elsewhere than the base seeds, run 0 ran subset seed 0 and FewRel split 0."""
    from ssb.artifacts import ArtifactStore
    from ssb.pipeline import Pipeline

    profile = load_profile("smoke").replace(seeds={"probe": [], "subsets": [3, 4, 5], "fewrel_split": [1]})
    pl = Pipeline(profile, ArtifactStore(tmp_path / "store"), None, progress=False)
    runs = [pl.seed_run(k).profile for k in range(pl.n_seed_runs)]
    assert [(r.sweep.seed, r.fewrel.split_seed, r.probe.seed) for r in runs] == [(3, 1, 0), (4, 1, 0), (5, 1, 0)]
    assert pl.seed_run(0) is pl and pl.seed_run(1).seed_run(1) is pl.seed_run(1)


@pytest.mark.parametrize(
    "seeds, words",
    [
        ({"probe": [0, 1], "subsets": [0, 1, 2]}, "field 'seeds.probe' must hold 1 seed or one per seed run (3)"),
        ({"probe": [-1]}, "field 'seeds.probe' must hold seeds >= 0"),
        ({"probes": [0]}, "unknown key 'probes'"),
        ({"backbone": [1, 1]}, "field 'seeds.backbone' must hold distinct seeds >= 0"),
        ({"backbone": [-1]}, "field 'seeds.backbone' must hold distinct seeds >= 0"),
        ({"backbone": [0, 1]}, "field 'seeds.backbone' lists 0, the profile's own backbone.seed"),
        ({"data_order": [2, 2]}, "field 'seeds.data_order' must hold distinct seeds >= 0"),
        ({"over_backbones": True}, "field 'seeds.over_backbones' needs other initial conditions"),
        ({"over_backbones": 1, "backbone": [1]}, "seeds.over_backbones"),
    ],
)
def test_bad_seeds_name_the_field(seeds, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        profile_from_dict({"name": "x", "seeds": seeds}, "x.toml")


def test_two_exact_runs_combine_into_their_mean_and_span_both():
    picks = run_picks(2)
    est = combine([Est(1.0), Est(3.0)], picks)
    assert est.value == 2.0 and est.n_items == 2
    shares = {v: np.mean(est.reps == v) for v in (1.0, 2.0, 3.0)}
    assert shares[1.0] == pytest.approx(0.25, abs=0.05) and shares[2.0] == pytest.approx(0.5, abs=0.05)
    assert est.interval() == (1.0, 3.0)  # the seed variation is inside the interval


def test_the_interval_holds_the_item_spread_within_a_run_and_the_spread_between_runs():
    rng = np.random.default_rng(1)
    a = Est(1.0, rng.normal(1.0, 0.05, N_BOOT), 20)
    b = Est(1.5, rng.normal(1.5, 0.05, N_BOOT), 20)
    lo, hi = combine([a, b], run_picks(2)).interval()
    assert lo < 1.0 and hi > 1.5  # wider than either run's own interval, which misses the other run
    assert not (a.interval()[0] <= 1.5 <= a.interval()[1])
    same = combine([a, a], run_picks(2))
    assert same.interval()[1] - same.interval()[0] < 1.1 * (a.interval()[1] - a.interval()[0])  # no seed spread


def test_runs_combine_scalars_and_curves_and_keep_run_zeros_info():
    r0 = {"x": Est(1.0), "curve": {"1": Est(0.1), "2": Est(0.2)}, "info": [1, 2], "n": 3}
    r1 = {"x": Est(2.0), "curve": {"1": Est(0.3), "2": Est(0.4)}, "info": [9], "n": 4}
    combined, per_run = combine_runs([r0, r1], run_picks(2))
    assert combined["x"].value == 1.5 and combined["curve"]["2"].value == pytest.approx(0.3)
    assert combined["info"] == [1, 2] and combined["n"] == 3  # not an estimate: run 0's
    assert per_run == {"x": [1.0, 2.0], "curve": [{"1": 0.1, "2": 0.2}, {"1": 0.3, "2": 0.4}]}
    # one draw of the runs serves every quantity: a replicate that drew run 1 twice has both at run 1
    both_one = np.all(run_picks(2) == 1, axis=1)
    assert np.all(combined["x"].reps[both_one] == 2.0) and np.allclose(combined["curve"]["1"].reps[both_one], 0.3)


def test_the_outer_level_draws_backbones_then_runs_inside_them():
    picks = nested_picks(3, 2)  # run (b, k) is index 2 b + k
    assert picks.shape == (N_BOOT, 6) and picks.min() == 0 and picks.max() == 5
    blocks = picks.reshape(N_BOOT, 3, 2) // 2  # [N_BOOT, drawn backbone, its drawn runs]: one backbone a block
    assert np.all(blocks == blocks[:, :, :1])
    drawn = picks.reshape(N_BOOT, 3, 2)[:, :, 0] // 2
    assert {tuple(sorted(set(row))) for row in drawn} >= {(0,), (1,), (2,), (0, 1, 2)}  # with replacement
    assert np.array_equal(nested_picks(1, 3), run_picks(3))  # one backbone: the runs' own draw, unchanged
    # a backbone's own numbers (exact on each of its runs) get an interval from the backbones alone
    spread = combine([Est(0.4), Est(0.4), Est(0.5), Est(0.5), Est(0.9), Est(0.9)], picks)
    assert spread.value == pytest.approx(0.6) and spread.interval()[0] < 0.5 < 0.7 < spread.interval()[1]


def test_what_no_seed_touches_stays_exact():
    picks = run_picks(3)
    same = combine([Est(0.5), Est(0.5), Est(0.5)], picks)  # e.g. a backbone's head spread on every run
    assert same.value == 0.5 and same.reps is None and same.interval() is None
    apart = combine([Est(0.5), Est(0.5), Est(0.6)], picks)
    assert apart.reps is not None and apart.interval() == pytest.approx((0.5, 0.6))


def test_a_control_check_combines_each_runs_paired_difference():
    rng = np.random.default_rng(3)
    noise = [rng.normal(0, 0.01, N_BOOT) for _ in range(2)]
    # within a run the reference and its control share item replicates (the same heads resampled alike)
    refs = [{"q": Est(1.0, 1.0 + noise[0], 12)}, {"q": Est(1.2, 1.2 + noise[1], 12)}]
    ctls = [{"q": Est(0.9, 0.9 + noise[0], 12)}, {"q": Est(0.8, 0.8 + noise[1], 12)}]
    check = Check("q", op=">", value=0.0, control="random-init")
    result = run_control_check(check, refs, ctls, run_picks(2))
    assert result.value == pytest.approx(0.25) and result.per_seed == pytest.approx([0.1, 0.4])
    assert result.seed_runs == 2 and (result.reference_value, result.control_value) == pytest.approx((1.1, 0.85))
    lo, hi = result.interval
    assert lo == pytest.approx(0.1, abs=1e-6) and hi == pytest.approx(0.4, abs=1e-6)  # paired: the item noise cancels
    assert result.verdict == "holds"
    single = run_control_check(check, refs[:1], ctls[:1])
    assert single.value == pytest.approx(0.1) and single.per_seed is None
    with pytest.raises(MeasureError, match=r"no value on control 'random-init' \(seed run 1\)"):
        run_control_check(check, refs, [ctls[0], {}], run_picks(2))
    with pytest.raises(MeasureError, match=r"q:gt:vs-random-init: quantity 'q' is not a number on this system"):
        run_control_check(check, [{"q": [1, 2]}], ctls[:1])


def test_only_numbers_and_estimates_are_estimates():
    est = Est(0.5, np.zeros(N_BOOT), 3)
    assert as_est(est) is est
    assert as_est(3).value == 3.0 and as_est(np.float32(2.5)).value == 2.5 and as_est(np.int64(4)).reps is None
    assert all(as_est(v) is None for v in (True, np.bool_(False), [1.0], "1", None, {"a": 1.0}))


def test_the_tables_say_when_no_seed_touches_a_check():
    assert per_seed_note([0.5, 0.5, 0.5], None) == " (the same on every seed run: no seed touches it)"
    assert per_seed_note([0.5, 0.25], None) == " (seed runs' values: 0.5, 0.25)"
    assert per_seed_note([0.1, 0.1], None, curve=True, digits=3) == " (seed runs' margins: 0.1, 0.1)"  # margins
    # runs that coincide on an estimate with an interval are shown as they are, not as untouched
    assert per_seed_note([19.0, 19.0], (18.0, 20.0)) == " (seed runs' values: 19, 19)"
    assert untouched([0.5, 0.5], None) and not untouched([19.0, 19.0], (18.0, 20.0))


def test_another_probe_of_the_same_backbones(tmp_path):
    from ssb.artifacts import ArtifactStore
    from ssb.pipeline import Pipeline
    from ssb.systems import init_seed

    profile = load_profile("smoke").replace(seeds={"probe": [5, 6]})
    pl = Pipeline(profile, ArtifactStore(tmp_path / "store"), None, progress=False)
    assert pl.profile.probe.seed == 5 and pl.probe_seed_run(5) is pl
    other = pl.probe_seed_run(9)
    assert other.profile.probe.seed == 9 and other is pl.probe_seed_run(9)  # the listed seeds do not override it
    assert other.profile.replace(probe={"seed": 5}) == pl.profile  # nothing else differs
    assert init_seed(3).backbone.seed == 3
