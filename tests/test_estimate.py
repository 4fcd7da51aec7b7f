"""Bootstrap estimates: paired replicates, arithmetic on replicates, and exact values."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssb.estimate import N_BOOT, Est, absolute, average, exact, maximum, means, minimum, paired


def test_means_pair_the_metrics():
    rows = [{"a": float(i), "b": 2.0 * i} for i in range(10)]
    est = means(rows, ("a", "b"), np.random.default_rng(0))
    assert est["a"].value == pytest.approx(4.5) and est["b"].value == pytest.approx(9.0)
    # one resample serves both metrics, so b / a is exactly 2 in every replicate
    assert np.allclose((est["b"] / est["a"]).reps, 2.0)


def test_a_single_item_is_exact():
    est = means([{"a": 3.0}], ("a",), np.random.default_rng(0))
    assert est["a"].reps is None and est["a"].interval() is None


@given(st.lists(st.floats(-100, 100), min_size=2, max_size=30))
def test_interval_contains_the_spread_of_means(values):
    est = means([{"a": v} for v in values], ("a",), np.random.default_rng(1))
    lo, hi = est["a"].interval()
    assert min(values) - 1e-9 <= lo <= hi <= max(values) + 1e-9


def test_arithmetic_mixes_exact_and_sampled():
    e = Est(2.0, np.full(N_BOOT, 2.0))
    assert (e * 3).value == 6.0 and np.all((e * 3).reps == 6.0)
    assert (1.0 / e).value == 0.5 and (exact(4) - e).value == 2.0
    assert (e / 0).value == 0.0  # an empty group has no ratio, not an exception
    assert maximum([exact(1), e]).value == 2.0 and average([exact(1), e]).value == 1.5


def test_paired_resamples_items_jointly():
    est = paired(
        {"x": [1, 2, 3, 4], "y": [2, 4, 6, 8]}, np.random.default_rng(0), lambda d: d["y"].sum() / d["x"].sum()
    )
    assert est.value == 2.0 and np.allclose(est.reps, 2.0)


def test_the_extreme_of_several_estimates_counts_the_items_of_the_one_it_picks():
    few, many = Est(3.0, np.full(N_BOOT, 3.0), n_items=20), Est(1.0, np.full(N_BOOT, 1.0), n_items=192)
    assert maximum([few, many]).n_items == 20 and minimum([few, many]).n_items == 192


def test_absolute_keeps_replicates_and_items():
    est = Est(-0.5, np.linspace(-1.0, 0.2, N_BOOT), n_items=9)
    flipped = absolute(est)
    assert flipped.value == 0.5 and flipped.n_items == 9 and (flipped.reps >= 0).all()
    assert np.array_equal(flipped.reps, np.abs(est.reps)) and absolute(Est(-2.0)).reps is None
