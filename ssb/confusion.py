"""Sparse confusion matrices: ``C[i, j]`` counts inputs of true class ``i`` predicted as ``j``.

Built with ``scipy.sparse`` from (true, predicted) pairs, so a 30,522-token vocabulary never allocates a
dense V x V matrix: memory grows with the number of distinct (true, predicted) pairs only.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def confusion_matrix(y_true, y_pred, n_classes: int) -> sp.csr_matrix:
    """``[n_classes, n_classes]`` CSR matrix of int64 counts from two equal-length label arrays."""
    y_true = np.asarray(y_true, dtype=np.int64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels, y_pred {y_pred.size}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"{name} has labels outside 0..{n_classes - 1}")
    counts = np.ones(y_true.size, dtype=np.int64)
    matrix = sp.coo_matrix((counts, (y_true, y_pred)), shape=(n_classes, n_classes)).tocsr()
    matrix.sum_duplicates()
    return matrix
