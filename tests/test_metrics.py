"""Confusion matrices and their metrics: exact values on small cases, invariants under hypothesis."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from ssb.confusion import confusion_matrix
from ssb.metrics import diagonal_metrics, recognised


@st.composite
def label_pairs(draw, max_classes=12, max_n=80):
    n_classes = draw(st.integers(1, max_classes))
    n = draw(st.integers(0, max_n))
    labels = st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n)
    return n_classes, np.array(draw(labels), dtype=int), np.array(draw(labels), dtype=int)


def test_small_example_by_hand():
    # true: 0 0 0 1 1 2 ; pred: 0 0 1 1 0 0
    C = confusion_matrix([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 0, 0], 4)
    assert C.toarray().tolist() == [[2, 1, 0, 0], [1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    m = diagonal_metrics(C)
    assert m.n_pos == 2 and m.n_predicted == 2 and m.n_inputs == 6
    assert m.apt == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert m.random_guess == pytest.approx(0.5)
    assert m.diagonal_confidence == pytest.approx((2 + 1) / (4 + 2))
    assert m.accuracy == pytest.approx(3 / 6)
    assert recognised(C).tolist() == [0, 1]


def test_empty_diagonal_is_defined():
    m = diagonal_metrics(confusion_matrix([0, 1], [1, 0], 3))
    assert (m.n_pos, m.apt, m.random_guess, m.diagonal_confidence, m.accuracy) == (0, 0.0, 0.0, 0.0, 0.0)
    empty = diagonal_metrics(confusion_matrix([], [], 3))
    assert empty.n_inputs == 0 and empty.accuracy == 0.0


def test_large_vocabulary_stays_sparse():
    rng = np.random.default_rng(0)
    n, V = 1_000_000, 30_522
    y = rng.integers(0, V, n)
    C = confusion_matrix(y, np.where(rng.random(n) < 0.3, y, rng.integers(0, 50, n)), V)
    assert sp.issparse(C) and C.shape == (V, V) and C.sum() == n
    assert C.data.nbytes + C.indices.nbytes + C.indptr.nbytes < 64 * 2**20


def test_bad_labels_raise():
    with pytest.raises(ValueError, match="outside"):
        confusion_matrix([0, 5], [0, 1], 3)
    with pytest.raises(ValueError, match="y_true has 2 labels, y_pred 1"):
        confusion_matrix([0, 1], [0], 3)


@given(label_pairs())
def test_invariants(data):
    n_classes, y, p = data
    C = confusion_matrix(y, p, n_classes)
    assert C.sum() == len(y)
    m = diagonal_metrics(C)
    assert m.n_pos <= m.n_predicted <= n_classes
    assert 0.0 <= m.diagonal_confidence <= 1.0 and 0.0 <= m.apt <= 1.0 and 0.0 <= m.accuracy <= 1.0
    if m.n_pos:
        assert m.random_guess == pytest.approx(1 / m.n_pos)
        assert m.diagonal_confidence > 0 and m.apt > 0


@given(label_pairs(), st.randoms(use_true_random=False))
def test_common_permutation_leaves_metrics_alone(data, rnd):
    n_classes, y, p = data
    perm = np.array(rnd.sample(range(n_classes), n_classes))
    before = diagonal_metrics(confusion_matrix(y, p, n_classes))
    after = diagonal_metrics(confusion_matrix(perm[y], perm[p], n_classes))
    for field in ("n_pos", "n_predicted", "n_inputs"):
        assert getattr(before, field) == getattr(after, field)
    for field in ("apt", "random_guess", "diagonal_confidence", "accuracy"):
        assert getattr(before, field) == pytest.approx(getattr(after, field))
