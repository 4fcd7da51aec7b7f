"""Head identity across backbones (ssb/head_identity.py): oracles on token sets whose answer is known."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ssb.head_identity import identity_matches, jaccard, jaccard_matrix, same_minus_other

token_sets = st.lists(st.frozensets(st.integers(0, 30), max_size=8), min_size=2, max_size=8)


def _disjoint(n: int) -> list[set[int]]:
    return [{3 * h, 3 * h + 1, 3 * h + 2} for h in range(n)]


@given(st.integers(2, 10), st.data())
def test_heads_that_keep_their_index_are_found_and_moved_heads_are_not(n, data):
    heads = _disjoint(n)
    assert identity_matches(heads, heads) == 1.0
    assert np.allclose(same_minus_other(heads, heads), 1.0)  # J 1 with itself, 0 with every other head
    shift = data.draw(st.integers(1, n - 1))  # a rotation moves every head
    moved = heads[shift:] + heads[:shift]
    assert identity_matches(heads, moved) == 0.0
    assert np.allclose(same_minus_other(heads, moved), -1.0 / (n - 1))


@given(token_sets, st.randoms(use_true_random=False))
def test_the_difference_is_symmetric_and_follows_a_relabelling_of_both(sets, random):
    a = [set(s) for s in sets]
    b = [set(s) for s in reversed(sets)]
    assert np.allclose(same_minus_other(a, b), same_minus_other(b, a))
    order = list(range(len(a)))
    random.shuffle(order)
    relabelled = same_minus_other([a[i] for i in order], [b[i] for i in order])
    assert np.allclose(relabelled, same_minus_other(a, b)[order])


@given(token_sets)
def test_the_matrix_is_jaccard_and_bounded(sets):
    m = jaccard_matrix([set(s) for s in sets], [set(s) for s in sets])
    assert m.shape == (len(sets), len(sets)) and ((0 <= m) & (m <= 1)).all()
    assert np.allclose(np.diag(m), [1.0 if s else 0.0 for s in sets]) and np.allclose(m, m.T)
    assert jaccard({1, 2}, {2, 3}) == 1 / 3


def test_silent_heads_are_not_found_again():
    silent = [set(), set(), {1, 2}]  # two heads that recognise nothing, in both backbones
    assert jaccard(set(), set()) == 0.0
    assert np.allclose(same_minus_other(silent, silent)[:2], 0.0)  # no evidence of identity either way


def test_one_head_is_refused():
    try:
        same_minus_other([{1}], [{1}])
    except ValueError as err:
        assert "at least 2" in str(err)
    else:
        raise AssertionError("one head has no other heads to compare with")
