"""The hull bound: Qhull and the LP agree, sampled winners are attainable, invariances hold."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ssb.hull import attainable_labels

# integer coordinates make ties and coplanar sets common and exact; floats cover the generic case
ints = st.integers(-4, 4).map(float)
floats = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=32).map(lambda v: round(v, 3))


@st.composite
def heads(draw, elements=None):
    n_labels = draw(st.integers(1, 14))
    k = draw(st.integers(1, 4))
    el = elements if elements is not None else draw(st.sampled_from([ints, floats]))
    W = draw(arrays(np.float64, (n_labels, k), elements=el))
    b = draw(arrays(np.float64, (n_labels,), elements=el))
    return W, b


@given(heads())
def test_hull_and_lp_agree(head):
    W, b = head
    assert attainable_labels(W, b, "hull").tolist() == attainable_labels(W, b, "lp").tolist()


@given(heads(), st.integers(0, 2**32 - 1))
def test_sampled_winners_are_attainable(head, seed):
    W, b = head
    x = np.random.default_rng(seed).normal(size=(300, W.shape[1])) * 10
    winners = set(np.argmax(x @ W.T + b, axis=1).tolist())
    # a sampled x that ties two distinct points has probability zero; ties of duplicates pick the first
    assert winners <= set(attainable_labels(W, b).tolist())


@given(heads(elements=ints), st.floats(-5, 5), st.floats(0.1, 10))
def test_invariant_under_bias_shift_and_scaling(head, shift, scale):
    W, b = head
    base = attainable_labels(W, b).tolist()
    assert attainable_labels(W, b + shift).tolist() == base
    assert attainable_labels(W * scale, b * scale).tolist() == base


def test_degenerate_cases_are_exact():
    # k = 1: lines w x + b; the middle line through the others' crossing never wins alone
    assert attainable_labels([[1.0], [0.0], [-1.0]], [0.0, 0.0, 0.0]).tolist() == [0, 2]
    assert attainable_labels([[1.0], [0.0], [-1.0]], [0.0, 1.0, 0.0]).tolist() == [0, 1, 2]
    # duplicates: only the first copy counts
    assert attainable_labels([[1.0], [1.0], [-1.0]], [0.0, 0.0, 0.0]).tolist() == [0, 2]
    # fewer points than k + 2, and a single label
    assert attainable_labels([[1.0, 2.0], [3.0, 1.0]], [0.0, 0.0]).tolist() == [0, 1]
    assert attainable_labels([[0.5, 0.5]], [1.0]).tolist() == [0]
    # same weights: only the largest bias wins
    assert attainable_labels([[1.0, 1.0]] * 3, [0.0, 2.0, 1.0]).tolist() == [1]
    # coplanar points in 3-D (k = 2): all on a plane, the square's corners win, the centre does not
    W = [[0, 0], [1, 0], [0, 1], [1, 1], [0.5, 0.5]]
    assert attainable_labels(W, [0, 0, 0, 0, 0]).tolist() == [0, 1, 2, 3]
    assert attainable_labels(W, [0, 0, 0, 0, 1]).tolist() == [0, 1, 2, 3, 4]


def test_bad_arguments():
    with pytest.raises(ValueError, match="method"):
        attainable_labels([[1.0]], [0.0], method="magic")
    with pytest.raises(ValueError, match="n_labels"):
        attainable_labels([[1.0], [2.0]], [0.0])


@given(heads(elements=floats))
def test_single_node_has_few_winners_when_lines(head):
    W, b = head
    assume(W.shape[1] == 1)
    # a convex piecewise-linear upper envelope: the winners sorted by slope are the attainable labels
    labels = attainable_labels(W, b)
    slopes = W[labels, 0]
    assert np.all(np.diff(np.sort(slopes)) > 0)  # at most one attainable label per distinct slope
