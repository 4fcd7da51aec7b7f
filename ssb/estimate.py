"""Point estimates with bootstrap replicates: the margins behind the claims' verdicts.

An :class:`Est` is a measured number with ``N_BOOT`` bootstrap replicates of it (or none, for an exact
count or a single run). Measures build them from what a number averages (the node subsets of a sweep,
the heads of a block, the subsets of a hull panel) with :func:`means`, which resamples the items once and
takes every metric's mean over the same resample, so that ratios of metrics of one group (APT over the
random guess) carry paired replicates. Arithmetic on ``Est`` applies to the point value and to every
replicate alike; the claims engine evaluates a check on each replicate to get its interval.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

N_BOOT = 1000  # bootstrap replicates
LEVEL = 0.95  # two-sided percentile interval


@dataclass(frozen=True, eq=False)
class Est:
    value: float
    reps: np.ndarray | None = None  # [N_BOOT] replicates; None: exact, or a single run with no spread
    n_items: int = 1  # how many items the replicates resample (the most of any operand's)

    def interval(self, level: float = LEVEL) -> tuple[float, float] | None:
        """The percentile interval of the replicates, or None when there are none."""
        if self.reps is None:
            return None
        tail = 100 * (1 - level) / 2
        lo, hi = np.nanpercentile(self.reps, [tail, 100 - tail])
        return float(lo), float(hi)

    def _apply(self, other: Any, fn: Callable[[Any, Any], Any]) -> Est:
        o = other if isinstance(other, Est) else Est(float(other))
        value = float(fn(self.value, o.value))
        if self.reps is None and o.reps is None:
            return Est(value)
        a = self.reps if self.reps is not None else np.full(N_BOOT, self.value)
        b = o.reps if o.reps is not None else np.full(N_BOOT, o.value)
        with np.errstate(divide="ignore", invalid="ignore"):
            return Est(value, fn(a, b).astype(np.float64), max(self.n_items, o.n_items))

    def __add__(self, other):
        return self._apply(other, operator.add)

    def __sub__(self, other):
        return self._apply(other, operator.sub)

    def __mul__(self, other):
        return self._apply(other, operator.mul)

    def __truediv__(self, other):
        return self._apply(other, _safe_div)

    def __radd__(self, other):
        return Est(float(other))._apply(self, operator.add)

    def __rsub__(self, other):
        return Est(float(other))._apply(self, operator.sub)

    def __rmul__(self, other):
        return Est(float(other))._apply(self, operator.mul)

    def __rtruediv__(self, other):
        return Est(float(other))._apply(self, _safe_div)

    def __repr__(self) -> str:
        ci = self.interval()
        return f"Est({self.value:.4g}" + (f", [{ci[0]:.4g}, {ci[1]:.4g}])" if ci else ")")


def _safe_div(a: Any, b: Any) -> Any:
    """a / b with 0 where b is 0 (an empty group has no ratio)."""
    if isinstance(b, np.ndarray):
        return np.where(b != 0, a / np.where(b != 0, b, 1), 0.0)
    return a / b if b else 0.0


def exact(value: float) -> Est:
    return Est(float(value))


def as_est(value: Any) -> Est | None:
    """An estimate as it is, a number as an exact one (``exact``); None for anything else (a list, a
    string, a bool), which no interval describes."""
    if isinstance(value, Est):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        return Est(float(value))
    return None


def means(rows: Sequence[dict[str, float]], metrics: Iterable[str], rng: np.random.Generator) -> dict[str, Est]:
    """Mean of each metric over ``rows`` (one dict per item), with paired bootstrap replicates.

    One resample of the items serves every metric. A single item has no spread: its estimates are exact.
    """
    metrics = list(metrics)
    table = np.array([[float(r[m]) for m in metrics] for r in rows], dtype=np.float64)  # [n_items, n_metrics]
    if len(table) == 0:
        raise ValueError("no items to average")
    point = table.mean(axis=0)
    if len(table) == 1:
        return {m: Est(float(point[j])) for j, m in enumerate(metrics)}
    idx = rng.integers(0, len(table), size=(N_BOOT, len(table)))  # [N_BOOT, n_items]
    reps = table[idx].mean(axis=1)  # [N_BOOT, n_metrics]
    return {m: Est(float(point[j]), reps[:, j], len(table)) for j, m in enumerate(metrics)}


def paired(
    arrays: dict[str, Sequence[float]], rng: np.random.Generator, stat: Callable[[dict[str, np.ndarray]], float]
) -> Est:
    """``stat`` of equally long arrays (items in the same order), resampling the items jointly."""
    data = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    n = len(next(iter(data.values())))
    value = float(stat(data))
    if n == 1:
        return Est(value)
    idx = rng.integers(0, n, size=(N_BOOT, n))
    reps = np.array([stat({k: v[i] for k, v in data.items()}) for i in idx], dtype=np.float64)
    return Est(value, reps, n)


def absolute(est: Est) -> Est:
    """``|est|``, replicate by replicate."""
    reps = None if est.reps is None else np.abs(est.reps)
    return Est(abs(est.value), reps, est.n_items)


def minimum(values: Sequence[Est]) -> Est:
    """The smallest point value, with the replicates' minimum; its items are those of the smallest one."""
    pick = values[int(np.argmin([v.value for v in values]))]
    return dataclasses.replace(_reduce(values, np.min), n_items=pick.n_items)


def maximum(values: Sequence[Est]) -> Est:
    """The largest point value, with the replicates' maximum; its items are those of the largest one."""
    pick = values[int(np.argmax([v.value for v in values]))]
    return dataclasses.replace(_reduce(values, np.max), n_items=pick.n_items)


def average(values: Sequence[Est]) -> Est:
    return _reduce(values, np.mean)


def _reduce(values: Sequence[Est], fn: Callable[..., Any]) -> Est:
    value = float(fn([v.value for v in values]))
    if all(v.reps is None for v in values):
        return Est(value)
    stacked = np.stack([v.reps if v.reps is not None else np.full(N_BOOT, v.value) for v in values])  # [k, N_BOOT]
    return Est(value, fn(stacked, axis=0), max(v.n_items for v in values))


def replicate_matrix(points: Sequence[Est]) -> np.ndarray | None:
    """``[N_BOOT, n_points]`` replicates of a curve's points (exact points repeat), or None if all exact."""
    if all(p.reps is None for p in points):
        return None
    return np.stack([p.reps if p.reps is not None else np.full(N_BOOT, p.value) for p in points], axis=1)
