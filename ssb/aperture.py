"""The aperture: a trained head seen through a subset of its input nodes, all others silenced (zeroed).

A node subset is a boolean mask over the head's ``n_inputs`` nodes. Subsets are evaluated many at a time
as batched masked matrix products over cached features: zeroing inputs is zeroing the first layer's
columns, so a batch of ``s`` masks makes one product ``[n, n_inputs] @ [n_inputs, s * hidden]``; the
logits are produced in chunks of labels with the arg-max fused, so the full ``[n_positions, n_classes]``
block is never materialised. Each subset's predictions are streamed out and turned into a confusion matrix by the
caller, so memory does not grow with the number of subsets. The backbone never runs here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .confusion import confusion_matrix
from .metrics import DiagonalMetrics, diagonal_metrics, recognised


# ---------------------------------------------------------------- subsets (boolean masks [n_subsets, n_inputs])
def masks_from_indices(subsets: list[list[int]] | np.ndarray, n_inputs: int) -> np.ndarray:
    masks = np.zeros((len(subsets), n_inputs), dtype=bool)
    for row, nodes in enumerate(subsets):
        masks[row, list(nodes)] = True
    return masks


def single_nodes(n_inputs: int) -> np.ndarray:
    """Every single node: ``[n_inputs, n_inputs]``."""
    return np.eye(n_inputs, dtype=bool)


def head_nodes(n_inputs: int, n_heads: int, heads: tuple[int, ...]) -> list[int]:
    d = n_inputs // n_heads
    return [h * d + i for h in heads for i in range(d)]


def each_head(n_inputs: int, n_heads: int) -> np.ndarray:
    """One mask per head: its ``n_inputs / n_heads`` consecutive nodes."""
    return masks_from_indices([head_nodes(n_inputs, n_heads, (h,)) for h in range(n_heads)], n_inputs)


def n_heads_subsets(n_inputs: int, n_heads: int, n: int, n_subsets: int, seed: int) -> np.ndarray:
    """Masks of ``n`` heads together: every combination if there are at most ``n_subsets``, else a sample."""
    combos = list(itertools.combinations(range(n_heads), n))
    if len(combos) > n_subsets:
        pick = np.random.default_rng([seed, n]).choice(len(combos), size=n_subsets, replace=False)
        combos = [combos[i] for i in sorted(pick)]
    return masks_from_indices([head_nodes(n_inputs, n_heads, c) for c in combos], n_inputs)


def random_nodes(n_inputs: int, n: int, n_subsets: int, seed: int) -> np.ndarray:
    """``n_subsets`` masks of ``n`` nodes drawn at random from all inputs (seeded)."""
    rng = np.random.default_rng([seed, n, 1])
    return masks_from_indices([rng.choice(n_inputs, size=n, replace=False) for _ in range(n_subsets)], n_inputs)


def nodes_within_head(n_inputs: int, n_heads: int, n: int, n_subsets: int, seed: int) -> np.ndarray:
    """``n_subsets`` masks of ``n`` nodes drawn within one randomly chosen head each (seeded)."""
    d = n_inputs // n_heads
    if n > d:
        raise ValueError(f"{n} nodes do not fit within one head of {d}")
    rng = np.random.default_rng([seed, n, 2])
    subsets = []
    for _ in range(n_subsets):
        head = int(rng.integers(n_heads))
        subsets.append(head * d + rng.choice(d, size=n, replace=False))
    return masks_from_indices(subsets, n_inputs)


# ---------------------------------------------------------------- masked predictions
@torch.no_grad()
def masked_argmax(head: nn.Module, X: torch.Tensor, masks: torch.Tensor, label_chunk: int = 4096) -> torch.Tensor:
    """Predictions ``[s, n]`` of ``head`` on features ``X`` ``[n, n_inputs]`` under masks ``[s, n_inputs]``.

    Equal to ``head(X * mask).argmax(-1)`` for each mask (the first index on ties), without ever holding
    more than ``[s, n, label_chunk]`` logits.
    """
    s, n = masks.shape[0], X.shape[0]
    # Silencing inputs is masking the first layer's columns: (X * m) @ W.T == X @ (W * m).T, so all s
    # subsets share one [n, n_inputs] @ [n_inputs, s * width] product.
    first = head.first if head.first is not None else head.out
    masked_w = first.weight.unsqueeze(0) * masks.to(X.dtype).unsqueeze(1)  # [s, width, n_inputs]
    width = first.weight.shape[0]
    product = (X @ masked_w.reshape(s * width, -1).T).view(n, s, width).transpose(0, 1)  # [s, n, width]
    if head.first is None:  # one layer with bias: these are the logits
        logits = product + head.out.bias if head.out.bias is not None else product
        return logits.argmax(dim=-1)
    hidden = head.act(product)  # [s, n, hidden]
    weight = head.out.weight  # [classes, hidden]; the token head has no bias
    best_val = torch.full((s, n), -torch.inf, dtype=hidden.dtype)
    best_idx = torch.zeros((s, n), dtype=torch.long)
    for start in range(0, weight.shape[0], label_chunk):
        logits = hidden @ weight[start : start + label_chunk].T  # [s, n, chunk]
        if head.out.bias is not None:
            logits += head.out.bias[start : start + label_chunk]
        val, idx = logits.max(dim=-1)
        better = val > best_val  # strict: an earlier chunk keeps a tie, as arg-max does
        best_val = torch.where(better, val, best_val)
        best_idx = torch.where(better, idx + start, best_idx)
    return best_idx


def iter_predictions(head: nn.Module, X: torch.Tensor, masks: np.ndarray, *, subset_batch: int = 8,
                     position_chunk: int = 2048, label_chunk: int = 4096) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(subset index, predictions [n_positions])`` for every mask, a batch of subsets at a time."""
    masks_t = torch.as_tensor(np.asarray(masks, dtype=bool))
    for s0 in range(0, len(masks_t), subset_batch):
        batch = masks_t[s0 : s0 + subset_batch]
        preds = torch.cat(
            [masked_argmax(head, X[p0 : p0 + position_chunk], batch, label_chunk)
             for p0 in range(0, X.shape[0], position_chunk)],
            dim=1,
        )  # [s, n_positions]
        for row, pred in enumerate(preds.numpy()):
            yield s0 + row, pred


@dataclass(frozen=True)
class SubsetResult:
    n_nodes: int
    metrics: DiagonalMetrics
    recognised: np.ndarray  # class indices with a positive diagonal


def evaluate_subsets(head: nn.Module, X: torch.Tensor, y: np.ndarray, masks: np.ndarray, n_classes: int,
                     **chunks: int) -> list[SubsetResult]:
    """The confusion-matrix metrics of every subset; confusions are built one at a time and dropped."""
    y = np.asarray(y)
    out = []
    for row, pred in iter_predictions(head, X, masks, **chunks):
        confusion = confusion_matrix(y, pred, n_classes)
        out.append(SubsetResult(int(masks[row].sum()), diagonal_metrics(confusion), recognised(confusion)))
    return out
