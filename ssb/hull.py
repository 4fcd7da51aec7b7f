"""Which labels a few input nodes can make win at all (the paper's §6 upper bound).

For a subset of k nodes, label j is the point ``p_j = (W[j, S], b[j])`` in R^(k+1) and its logit for an
input x is ``<(x, 1), p_j>``. Label j is *attainable* when some real x makes it the unique arg-max:
exactly when ``p_j`` is a vertex of the convex hull exposed by a normal with a positive last component,
i.e. a vertex of an upward-facing facet. Of several identical points only the first (the one arg-max
picks on a tie) is counted.

- ``method="hull"``: Qhull (``scipy.spatial.ConvexHull``) and the vertices of facets whose outward normal
  points up the bias axis; degenerate sets (fewer than k + 2 distinct points, or points in a lower-
  dimensional affine subspace) fall back to the LP, so the answer stays exact.
- ``method="lp"``: per label, one HiGHS LP (``scipy.optimize.linprog``) maximising the margin
  ``t <= (W_j - W_i) x + b_j - b_i`` over x, with t capped at 1; attainable iff the optimum is positive.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog
from scipy.spatial import ConvexHull, QhullError

_TOL = 1e-9


def _unique_first(points: np.ndarray) -> np.ndarray:
    """Indices of the first occurrence of each distinct row, in increasing order."""
    _, first = np.unique(points, axis=0, return_index=True)
    return np.sort(first)


def _lp_attainable(points: np.ndarray) -> np.ndarray:
    """Mask over the rows of ``points`` ([n, k+1], distinct) that can be the unique arg-max."""
    n, k1 = points.shape
    if n == 1:
        return np.ones(1, dtype=bool)
    W, b = points[:, :-1], points[:, -1]
    scale = max(1.0, float(np.abs(points).max()))
    out = np.zeros(n, dtype=bool)
    # variables: x (k free), t (<= 1); maximise t  <=>  minimise -t
    cost = np.zeros(k1)
    cost[-1] = -1.0
    bounds = [(None, None)] * (k1 - 1) + [(None, 1.0)]
    for j in range(n):
        others = np.arange(n) != j
        # t - (W_j - W_i) x <= b_j - b_i
        A = np.hstack([-(W[j] - W[others]), np.ones((n - 1, 1))])
        rhs = b[j] - b[others]
        res = linprog(cost, A_ub=A, b_ub=rhs, bounds=bounds, method="highs")
        out[j] = res.status == 0 and -res.fun > _TOL * scale
    return out


def _hull_attainable(points: np.ndarray) -> np.ndarray | None:
    """Mask as in ``_lp_attainable`` from Qhull, or None when the set is degenerate for Qhull."""
    n, k1 = points.shape
    if n < k1 + 1:
        return None
    centred = points - points.mean(axis=0)
    if np.linalg.matrix_rank(centred, tol=1e-10 * max(1.0, float(np.abs(points).max()))) < k1:
        return None
    try:
        hull = ConvexHull(points)
    except QhullError:
        return None
    upward = hull.equations[:, -2] > _TOL  # equations: [normal (k+1), offset]; outward normals
    out = np.zeros(n, dtype=bool)
    out[np.unique(hull.simplices[upward])] = True
    return out


def attainable_labels(W, b, method: str = "hull") -> np.ndarray:
    """Sorted indices of the labels that are the unique arg-max of ``W x + b`` for some real x.

    ``W``: ``[n_labels, k]`` (the head's weights from the k chosen nodes), ``b``: ``[n_labels]``.
    """
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if W.ndim == 1:
        W = W[:, None]
    if W.ndim != 2 or b.shape != (W.shape[0],):
        raise ValueError(f"W must be [n_labels, k] and b [n_labels]; got {W.shape} and {b.shape}")
    if method not in ("hull", "lp"):
        raise ValueError(f"method must be 'hull' or 'lp', got {method!r}")
    points = np.hstack([W, b[:, None]])
    keep = _unique_first(points)
    distinct = points[keep]
    mask = _hull_attainable(distinct) if method == "hull" else None
    if mask is None:
        mask = _lp_attainable(distinct)
    return keep[mask]
