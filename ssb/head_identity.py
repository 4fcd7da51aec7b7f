"""Head identity across training runs: does head *h* of one backbone recognise what head *h* of another does?

§3 says which tokens a head focuses on follows "the random initial conditions of the weights and the biases of
each one of the heads". Then, across backbones trained from different initial conditions, head *h*'s token set
overlaps head *h* of the other backbone no more than it overlaps any other head of it (the index carries no
identity), while two probes of one backbone (the same initial conditions) find each head's set again.

Pure functions of token sets (one set of token ids per head, heads in index order):

- :func:`jaccard_matrix`: ``[n_heads, n_heads]``, the Jaccard index of head *i* of A with head *j* of B;
- :func:`same_minus_other`: per head, its Jaccard with the same index minus its mean Jaccard with the other
  indices (the paired difference that the claim's band and its bootstrap over heads read);
- :func:`identity_matches`: the share of heads that the best one-to-one matching (Hungarian, maximal total
  Jaccard) pairs with the same index;
- :func:`pairwise_identity`: both of the above over every pair of several backbones' (or probes') head sets.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment


def jaccard(a: set[int], b: set[int]) -> float:
    """|a ∩ b| / |a ∪ b|; 0 for two empty sets: heads that recognise nothing share no evidence of identity
    (counting them as identical would make two silent heads look like one head found again)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def jaccard_matrix(a: Sequence[set[int]], b: Sequence[set[int]]) -> np.ndarray:
    """``[len(a), len(b)]``: entry ``[i, j]`` is the Jaccard index of ``a[i]`` and ``b[j]``."""
    return np.array([[jaccard(x, y) for y in b] for x in a], dtype=np.float64)


def same_minus_other(a: Sequence[set[int]], b: Sequence[set[int]]) -> np.ndarray:
    """``[n_heads]``: per head *h*, J(a[h], b[h]) minus the mean of J(a[h], b[g]) over g != h, averaged with
    the same taken from b's side (the difference is symmetric in A and B)."""
    if len(a) != len(b) or len(a) < 2:
        raise ValueError(f"two backbones of the same heads (at least 2) are needed, got {len(a)} and {len(b)}")
    m = jaccard_matrix(a, b)  # [n, n]
    n = len(a)
    same = np.diag(m)  # [n]
    other_rows = (m.sum(axis=1) - same) / (n - 1)  # [n]: a[h] against b's other heads
    other_cols = (m.sum(axis=0) - same) / (n - 1)  # [n]: b[h] against a's other heads
    return same - (other_rows + other_cols) / 2


def identity_matches(a: Sequence[set[int]], b: Sequence[set[int]]) -> float:
    """Share of heads that the one-to-one matching of maximal total Jaccard pairs with the same index. Ties
    are broken towards the identity (a matching that keeps indices is found when it is among the best), so
    a share below 1 means that the best matching moves heads."""
    m = jaccard_matrix(a, b)
    n = len(a)
    rows, cols = linear_sum_assignment(m + np.eye(n) * 1e-9, maximize=True)  # [n], [n]
    return float(np.mean(rows == cols))


def pairwise_identity(sets: Sequence[Sequence[set[int]]]) -> tuple[np.ndarray, float]:
    """Over every pair of at least two runs' head sets (``sets[k][h]``: run *k*'s head *h*): same-minus-other
    per head ``[n_heads]``, averaged over the pairs, and the mean share of heads the best matching keeps at
    their index."""
    if len(sets) < 2:
        raise ValueError(f"head identity compares at least two runs' head sets, got {len(sets)}")
    pairs = list(itertools.combinations(sets, 2))
    per_head = np.mean([same_minus_other(a, b) for a, b in pairs], axis=0)  # [n_heads]
    return per_head, float(np.mean([identity_matches(a, b) for a, b in pairs]))
