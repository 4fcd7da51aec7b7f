"""Seed runs: the profile section, each run's seeds, and the two-level bootstrap that combines the runs."""

import numpy as np
import pytest

from ssb.config import ConfigError, load_profile, profile_from_dict, seed_run
from ssb.estimate import N_BOOT, Est
from ssb.seeds import combine, combine_runs, run_picks, seeded


def test_a_seed_run_sets_the_probe_subset_and_split_seeds():
    cpu = load_profile("cpu")
    assert cpu.seeds.n_runs == 3
    two = seed_run(cpu, 2)
    assert (two.probe.seed, two.sweep.seed, two.fewrel.split_seed) == (2, 2, 0)  # one FewRel split for all
    assert seed_run(cpu, 0) == cpu.replace()  # run 0 is the profile's own seeds
    assert load_profile("smoke").seeds.n_runs == 1
    with pytest.raises(ConfigError, match="seed run 3"):
        seed_run(cpu, 3)


@pytest.mark.parametrize(
    "seeds, words",
    [
        ({"probe": [0, 1], "subsets": [0, 1, 2]}, "field 'seeds.probe' must hold 1 seed or one per seed run (3)"),
        ({"probe": [-1]}, "field 'seeds.probe' must hold seeds >= 0"),
        ({"probes": [0]}, "unknown key 'probes'"),
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


def test_only_measures_of_the_reference_probe_sweeps_and_fewrel_heads_are_seeded():
    assert seeded(("heads", "token-nodes")) and seeded(("fewrel-finetuned", "fewrel-random"))
    assert not seeded(("heads", "heads-no-dropout")) and not seeded(("depth",)) and not seeded(())
