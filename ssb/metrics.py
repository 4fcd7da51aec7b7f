"""Metrics of a confusion matrix (the paper's §3): positive diagonal, APT, diagonal confidence.

- ``n_pos``: classes with a positive diagonal element (recognised at least once);
- ``apt``: accuracy per token, the mean over those classes of ``C[i,i] / row_i``;
- ``random_guess``: ``1 / n_pos``, the APT of guessing uniformly among the recognised classes;
- ``diagonal_confidence``: sum of the positive diagonal / sum of those classes' columns;
- ``n_predicted``: non-zero columns (classes ever predicted); ``accuracy``: trace / total;
- ``zero_diagonal_fraction``: the fraction of all inputs predicted as a class whose diagonal is zero (the
  elements of occupied columns with a zero diagonal; the paper: "less than a few percent");
- ``zero_diagonal_column_share``: the fraction of the occupied columns whose diagonal is zero (§4's
  "probability of finding a non-zero column with zero diagonal element", read as a share of columns).
An empty diagonal gives ``n_pos = 0`` and zeros for every ratio (no division by zero).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class DiagonalMetrics:
    n_pos: int
    apt: float
    random_guess: float
    diagonal_confidence: float
    n_predicted: int
    accuracy: float
    n_inputs: int
    zero_diagonal_fraction: float
    zero_diagonal_column_share: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def recognised(confusion: sp.spmatrix) -> np.ndarray:
    """Indices of the classes with a positive diagonal element."""
    return np.flatnonzero(np.asarray(confusion.diagonal()) > 0)


def diagonal_metrics(confusion: sp.spmatrix) -> DiagonalMetrics:
    C = sp.csr_matrix(confusion)
    diag = np.asarray(C.diagonal(), dtype=np.float64)
    rows = np.asarray(C.sum(axis=1)).ravel().astype(np.float64)
    cols = np.asarray(C.sum(axis=0)).ravel().astype(np.float64)
    pos = diag > 0
    n_pos = int(pos.sum())
    total = float(rows.sum())
    return DiagonalMetrics(
        n_pos=n_pos,
        apt=float((diag[pos] / rows[pos]).mean()) if n_pos else 0.0,
        random_guess=1.0 / n_pos if n_pos else 0.0,
        diagonal_confidence=float(diag[pos].sum() / cols[pos].sum()) if n_pos else 0.0,
        n_predicted=int((cols > 0).sum()),
        accuracy=float(diag.sum() / total) if total else 0.0,
        n_inputs=int(total),
        zero_diagonal_fraction=float(cols[~pos].sum() / total) if total else 0.0,
        zero_diagonal_column_share=float(((cols > 0) & ~pos).sum() / (cols > 0).sum()) if total else 0.0,
    )


def summarise(values) -> dict[str, float]:
    """Mean, standard deviation, min and max of a list of numbers (a curve's point with its spread)."""
    arr = np.asarray(list(values), dtype=np.float64)
    return {"mean": float(arr.mean()), "std": float(arr.std()), "min": float(arr.min()), "max": float(arr.max())}


def jaccard_pairs(sets: list[set[int]]) -> list[float]:
    """The overlap |A & B| / |A | B| of every pair of sets (pairs of two empty sets left out)."""
    return [len(a & b) / len(a | b) for a, b in itertools.combinations(sets, 2) if a | b]
