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


def node_sweep_subsets(n_inputs: int, n: int, n_subsets: int, seed: int) -> np.ndarray:
    """The subsets of ``n`` nodes a node sweep evaluates: every single node for ``n = 1`` (cheap through
    :func:`single_node_argmax`), all nodes for ``n = n_inputs``, else ``n_subsets`` drawn at random."""
    if n == 1:
        return single_nodes(n_inputs)
    return random_nodes(n_inputs, n, 1 if n == n_inputs else n_subsets, seed)


def hull_subsets(n_inputs: int, n: int, n_subsets: int, seed: int) -> np.ndarray:
    """The subsets of ``n`` nodes a hull panel evaluates: every single node when ``n = 1`` and ``n_subsets``
    reaches ``n_inputs`` (the single-node hull and sweep are cheap), else ``n_subsets`` drawn at random."""
    if n == 1 and n_subsets >= n_inputs:
        return single_nodes(n_inputs)
    return random_nodes(n_inputs, n, n_subsets, seed)


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
    masked_w = first.weight.unsqueeze(0) * masks.to(X.device, X.dtype).unsqueeze(1)  # [s, width, n_inputs]
    width = first.weight.shape[0]
    product = (X @ masked_w.reshape(s * width, -1).T).view(n, s, width).transpose(0, 1)  # [s, n, width]
    if head.first is None:  # one layer with bias: these are the logits
        logits = product + head.out.bias if head.out.bias is not None else product
        return logits.argmax(dim=-1)
    hidden = head.act(product)  # [s, n, hidden]
    weight = head.out.weight  # [classes, hidden]; the token head has no bias
    best_val = torch.full((s, n), -torch.inf, dtype=hidden.dtype, device=X.device)
    best_idx = torch.zeros((s, n), dtype=torch.long, device=X.device)
    for start in range(0, weight.shape[0], label_chunk):
        logits = hidden @ weight[start : start + label_chunk].T  # [s, n, chunk]
        if head.out.bias is not None:
            logits += head.out.bias[start : start + label_chunk]
        val, idx = logits.max(dim=-1)
        better = val > best_val  # strict: an earlier chunk keeps a tie, as arg-max does
        best_val = torch.where(better, val, best_val)
        best_idx = torch.where(better, idx + start, best_idx)
    return best_idx


# sup |act'(x)| (GELU's largest slope is 1.1289, at x = sqrt 2) and sup |act''(x)| away from x = 0
# (GELU's is 2 phi(0) = 0.7979; ReLU is linear on either side of its kink at 0, the identity everywhere)
ACTIVATION_SLOPE = {"gelu": 1.13, "relu": 1.0, "identity": 1.0}
ACTIVATION_CURVATURE = {"gelu": 0.8, "relu": 0.0, "identity": 0.0}


@torch.no_grad()
def single_node_argmax(
    head: nn.Module, X: torch.Tensor, node: int, *, grid: int = 64, label_chunk: int = 4096
) -> torch.Tensor:
    """Predictions ``[n]`` of ``head`` on ``X`` ``[n, n_inputs]`` with every input but ``node`` silenced.

    Equal to ``masked_argmax`` under the one-node mask, but the head runs on a few hundred values instead
    of all ``n``: with one node left, the logits are a function ``f(t)`` of that node's value ``t`` alone.
    The head is evaluated at a grid over the sorted distinct values. Between two evaluated values ``a < b``
    with the same winner ``w``, every value keeps ``w`` when no class ``c`` can catch up. With
    ``g_c = f_w - f_c = sum_k D_ck act(t w_1[k])`` (``D_ck = W_out[w,k] - W_out[c,k]``), either bound
    certifies the interval:
    ``min g_c >= (g_c(a) + g_c(b) - L_c (b - a)) / 2`` with ``L_c = sup|act'| sum_k |D_ck| |w_1[k]|``, or
    ``min g_c >= min(g_c(a), g_c(b)) - M_c (b - a)^2 / 8`` with ``M_c = sup|act''| sum_k |D_ck| w_1[k]^2``
    (the error of linear interpolation; for ReLU only on intervals that do not straddle its kink at 0).
    Other intervals are bisected until certified or empty. The result is exact, up to float rounding at
    near-ties. With at most ``8 * grid`` distinct values the head runs on all of them instead: the grid, its
    bisections and the bounds cost a few hundred evaluations' worth whatever ``m`` is (MiniLM's 384 -> 30,522
    head on 250 values: 0.25 s a node by the bounds, 0.09 s on every value; on 850 values the two were even).
    """
    activation = getattr(head, "activation", "")
    slope, curvature = ACTIVATION_SLOPE.get(activation), ACTIVATION_CURVATURE.get(activation)
    values, inverse = torch.unique(X[:, node], sorted=True, return_inverse=True)  # [m], [n]
    m = len(values)
    device = X.device
    if slope is None or m <= 8 * grid:
        mask = torch.zeros((1, X.shape[1]), dtype=torch.bool, device=device)
        mask[0, node] = True
        return masked_argmax(head, values.unsqueeze(1) * mask.to(X.dtype), mask, label_chunk)[0][inverse]
    if head.first is not None:
        w1 = head.first.weight[:, node]  # [width]
        out_w = head.out.weight  # [classes, width]
    else:  # one layer: the node's column of the output weights
        w1 = torch.ones(1, dtype=X.dtype, device=device)
        out_w = head.out.weight[:, node : node + 1]  # [classes, 1]
    bias = head.out.bias

    def logits(idx: torch.Tensor) -> torch.Tensor:  # [k] value indices -> [k, classes]
        t = values[idx].unsqueeze(1)
        hidden = head.act(t * w1) if head.first is not None else t * w1  # [k, width]
        out = hidden @ out_w.T
        return out + bias if bias is not None else out

    constants: dict[int, torch.Tensor] = {}  # winner -> (L_c, M_c) for every class c, [2, classes]
    scaled: list[torch.Tensor] = []  # the output weights scaled by |w_1| and by w_1^2, [2, classes, width]
    factors = torch.tensor([[slope], [curvature]], dtype=X.dtype, device=device)  # [2, 1]

    def bound(w: int) -> torch.Tensor:
        # sum_k |D_ck| |w_1[k]| is the L1 distance between rows c and w of W_out scaled by |w_1| (and by w_1^2
        # for M_c): cdist takes it without a [classes, width] difference per winner (6x faster at 30,522 x 384)
        if w not in constants:
            if not scaled:
                scaled.append(torch.stack([out_w * w1.abs(), out_w * w1.square()]))
            distance = torch.cdist(scaled[0], scaled[0][:, w : w + 1], p=1)[..., 0]  # [2, classes]
            constants[w] = factors * distance
        return constants[w]

    winners = torch.full((m,), -1, dtype=torch.long, device=device)
    rows: dict[int, torch.Tensor] = {}  # logits [classes] of evaluated values that bound an open interval

    def evaluate(idx: list[int]) -> None:
        idx_t = torch.tensor(idx, dtype=torch.long, device=device)
        for c0 in range(0, len(idx), 256):
            block = logits(idx_t[c0 : c0 + 256])
            winners[idx_t[c0 : c0 + 256]] = block.argmax(dim=-1)
            rows.update(zip(idx[c0 : c0 + 256], block, strict=True))

    points = sorted(set(np.linspace(0, m - 1, grid).round().astype(int).tolist()))
    evaluate(points)
    intervals = torch.tensor(list(itertools.pairwise(points)), dtype=torch.long, device=device).reshape(-1, 2)
    while len(intervals):
        intervals = intervals[intervals[:, 1] - intervals[:, 0] > 1]  # no value strictly inside: done
        a, b = intervals[:, 0], intervals[:, 1]
        same = winners[a] == winners[b]
        certified = torch.zeros(len(intervals), dtype=torch.bool, device=device)
        for c0 in range(0, int(same.sum()), 256):  # certify intervals whose two ends agree, a block at a time
            pick = torch.nonzero(same).flatten()[c0 : c0 + 256]
            w = winners[a[pick]]
            f_a = torch.stack([rows[int(i)] for i in a[pick]])  # [p, classes]
            f_b = torch.stack([rows[int(i)] for i in b[pick]])
            LM = torch.stack([bound(int(c)) for c in w])  # [p, 2, classes]
            g_a, g_b = f_a.gather(1, w[:, None]) - f_a, f_b.gather(1, w[:, None]) - f_b  # [p, classes]
            t_a, t_b = values[a[pick]], values[b[pick]]
            span = (t_b - t_a)[:, None]
            low = (g_a + g_b - LM[:, 0] * span) / 2
            smooth = (t_a >= 0) | (t_b <= 0) if activation == "relu" else torch.ones_like(t_a, dtype=torch.bool)
            second = torch.minimum(g_a, g_b) - LM[:, 1] * span.square() / 8
            low = torch.where(smooth[:, None], torch.maximum(low, second), low)
            low.scatter_(1, w[:, None], torch.inf)
            tol = 1e-5 * (1.0 + f_a.abs().amax(1) + f_b.abs().amax(1))
            certified[pick] = (low > tol[:, None]).all(dim=1)
        for i in torch.nonzero(certified).flatten().tolist():
            winners[int(a[i]) + 1 : int(b[i])] = winners[a[i]]
        intervals = intervals[~certified]
        mid = (intervals[:, 0] + intervals[:, 1]) // 2
        if len(mid):
            evaluate(mid.tolist())
        intervals = torch.cat([torch.stack([intervals[:, 0], mid], 1), torch.stack([mid, intervals[:, 1]], 1)])
        needed = set(intervals.flatten().tolist())
        rows = {i: r for i, r in rows.items() if i in needed}
    return winners[inverse]


@dataclass(frozen=True)
class Chunks:
    """How much of the sweep one masked product holds: ``subset_batch`` subsets x ``position_chunk``
    positions x ``label_chunk`` classes of logits. The defaults are the CPU's fastest, measured by
    ``benchmarks/chunks.py`` on two cores at the ``cpu`` profile's shapes: 0.22 s a subset of the token head,
    against 0.30 s at 8 x 2,048 x 4,096 (an 8 MB block of logits stays in the cache while its arg-max is
    taken); the label head's cost (about 1 ms a subset) hardly depends on them."""

    subset_batch: int = 1
    position_chunk: int = 2048
    label_chunk: int = 1024


def product_bytes(chunks: Chunks, n_inputs: int, width: int, n_classes: int) -> int:
    """An upper bound on the bytes :func:`masked_argmax` holds at once (fp32): the masked weights
    ``[s, width, n_inputs]``, the first layer's product and its activation (and a contiguous copy)
    ``3 x [s, p, width]``, one chunk of logits ``[s, p, c]``, and the running max, arg-max and their
    temporaries (``40`` bytes per subset and position)."""
    s, p, c = chunks.subset_batch, chunks.position_chunk, min(chunks.label_chunk, n_classes)
    return 4 * s * width * n_inputs + s * p * (12 * width + 4 * c + 40)


def plan_chunks(n_inputs: int, width: int, n_classes: int, memory_bytes: int, subset_batch: int = 32) -> Chunks:
    """The largest chunks whose :func:`product_bytes` stays within ``memory_bytes``: on a GPU, whole label
    sets (up to 32,768 classes) and as many positions as fit, in multiples of 256 (at least 256)."""
    label_chunk = min(n_classes, 32_768)
    while True:
        per_position = subset_batch * (12 * width + 4 * label_chunk + 40)
        room = memory_bytes - 4 * subset_batch * width * n_inputs
        position_chunk = (room // per_position) // 256 * 256
        if position_chunk >= 256 or subset_batch == 1:
            return Chunks(subset_batch, max(position_chunk, 256), label_chunk)
        subset_batch //= 2


def iter_predictions(
    head: nn.Module,
    X: torch.Tensor,
    masks: np.ndarray,
    *,
    chunks: Chunks = Chunks(),
    shortcut: bool | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(subset index, predictions [n_positions])`` for every mask, a batch of subsets at a time.

    ``head`` and ``X`` sit on one device; predictions come back to the CPU. Single-node masks take
    :func:`single_node_argmax` when ``shortcut`` (default: on the CPU, where it saves most of the work; on a
    GPU its many small steps cost more than the batched products it avoids), the rest batched masked
    products of ``chunks``' sizes. A mask that occurs more than once (whole heads drawn at random, say) is
    evaluated once and its predictions yielded for each of its rows.
    """
    masks = np.asarray(masks, dtype=bool)
    _, first, inverse = np.unique(masks, axis=0, return_index=True, return_inverse=True)
    if len(first) < len(masks):
        inverse = inverse.reshape(-1)
        distinct = np.sort(first)  # the first row of each distinct mask, in the masks' order
        for i, pred in iter_predictions(head, X, masks[distinct], chunks=chunks, shortcut=shortcut):
            for row in np.flatnonzero(inverse == inverse[distinct[i]]):
                yield int(row), pred
        return
    shortcut = X.device.type == "cpu" if shortcut is None else shortcut
    single = masks.sum(axis=1) == 1 if shortcut else np.zeros(len(masks), dtype=bool)
    for row in np.flatnonzero(single):
        node = int(np.flatnonzero(masks[row])[0])
        yield int(row), single_node_argmax(head, X, node, label_chunk=chunks.label_chunk).cpu().numpy()
    rest = np.flatnonzero(~single)
    masks_t = torch.as_tensor(masks[rest]).to(X.device)
    for s0 in range(0, len(masks_t), chunks.subset_batch):
        batch = masks_t[s0 : s0 + chunks.subset_batch]
        preds = torch.cat(
            [
                masked_argmax(head, X[p0 : p0 + chunks.position_chunk], batch, chunks.label_chunk)
                for p0 in range(0, X.shape[0], chunks.position_chunk)
            ],
            dim=1,
        ).cpu()  # [s, n_positions]
        for row, pred in enumerate(preds.numpy()):
            yield int(rest[s0 + row]), pred


@dataclass(frozen=True)
class SubsetResult:
    n_nodes: int
    metrics: DiagonalMetrics
    recognised: np.ndarray  # class indices with a positive diagonal


def evaluate_subsets(
    head: nn.Module,
    X: torch.Tensor,
    y: np.ndarray,
    masks: np.ndarray,
    n_classes: int,
    *,
    chunks: Chunks = Chunks(),
    shortcut: bool | None = None,
    desc: str | None = None,
) -> list[SubsetResult]:
    """The confusion-matrix metrics of every subset, in the masks' order; confusions are built one at a time
    and dropped. ``desc``: a progress bar of that label, one step per subset."""
    from tqdm.auto import tqdm

    y = np.asarray(y)
    out: list[SubsetResult | None] = [None] * len(masks)  # in the masks' order
    predictions = iter_predictions(head, X, masks, chunks=chunks, shortcut=shortcut)
    for row, pred in tqdm(predictions, total=len(masks), desc=desc, disable=desc is None, mininterval=2.0):
        out[row] = subset_result(y, pred, int(masks[row].sum()), n_classes)
    return out


def subset_result(y: np.ndarray, pred: np.ndarray, n_nodes: int, n_classes: int) -> SubsetResult:
    """One subset's confusion-matrix metrics from its predictions ``pred`` against the targets ``y`` (both
    ``[n_positions]``); the confusion is built and dropped."""
    confusion = confusion_matrix(y, pred, n_classes)
    return SubsetResult(n_nodes, diagonal_metrics(confusion), recognised(confusion))
