"""Seeds as an axis of every verdict: a claim measured once per seed run, its estimates combined.

A profile's ``[seeds]`` (``ssb.config.SeedsConfig``) lists the seed runs: run k re-draws the token probe and
FewRel label head (``probe.seed``), the node subsets (``sweep.seed``) and the FewRel split
(``fewrel.split_seed``) on the same committed backbones. Every claim is measured on every run, and so is
every system it reads: the reference, its variants (their own probes and label heads at the run's seeds)
and the controls a check compares it with (``ssb.evaluation.run_control_check`` forms the paired difference on
each run and combines the differences). What no seed touches (a backbone's head spread, its MLM accuracy)
comes out the same on every run and stays exact. Each run's estimates carry bootstrap replicates over that
run's items (``ssb.estimate``). They are combined by a two-level bootstrap: a replicate draws the runs with
replacement, then for each drawn run one of its item replicates (a different one each time a run is drawn
twice), and averages them; the point value is the mean over the runs. One draw of the runs serves every
quantity of a claim, so ratios and differences formed after combining stay paired. With few runs the run
level is coarse (two runs: both one, both the other, or one of each), which is what the data can say about
seed-to-seed spread.

With ``[seeds] over_backbones`` the runs sit inside backbones pre-trained from other initial conditions
(``backbone.seed``, then ``[seeds] backbone``): a claim is measured on every run of every backbone, and the
bootstrap gains an outer level (:func:`nested_picks`: backbones, then runs inside each, then items), so the
interval includes what the initial conditions change. A backbone's own numbers (untouched by the probe
seeds) then vary over the backbones and get an interval from them alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .estimate import N_BOOT, Est, as_est

RUN_OFFSET = 389  # the j-th draw of a run reads item replicate (b + j * RUN_OFFSET) mod N_BOOT


def run_picks(n_runs: int, seed: int = 0) -> np.ndarray:
    """``[N_BOOT, n_runs]``: the runs each replicate draws (with replacement), one fixed stream."""
    return np.random.default_rng([seed, n_runs, 7]).integers(0, n_runs, size=(N_BOOT, n_runs))


def nested_picks(n_backbones: int, n_runs: int, seed: int = 0) -> np.ndarray:
    """``[N_BOOT, n_backbones * n_runs]``: the runs each replicate draws when the seed runs sit inside
    backbones (``[seeds] over_backbones``; run ``(b, k)`` is index ``b * n_runs + k``): the backbones drawn with
    replacement, then within each drawn backbone its runs with replacement, so that the interval carries the
    spread between initial conditions as well as the seeds' inside one. For one backbone this is
    :func:`run_picks`."""
    if n_backbones == 1:
        return run_picks(n_runs, seed)
    rng = np.random.default_rng([seed, n_backbones, n_runs, 11])
    backbones = rng.integers(0, n_backbones, size=(N_BOOT, n_backbones))  # [N_BOOT, n_backbones]
    runs = rng.integers(0, n_runs, size=(N_BOOT, n_backbones, n_runs))  # [N_BOOT, n_backbones, n_runs]
    return (backbones[:, :, None] * n_runs + runs).reshape(N_BOOT, n_backbones * n_runs)


def combine(ests: Sequence[Est], picks: np.ndarray) -> Est:
    """The two-level bootstrap estimate of one quantity measured on every run (see the module doc)."""
    values = np.array([e.value for e in ests], dtype=np.float64)  # [n_runs]
    if all(e.reps is None for e in ests) and np.all(values == values[0]):  # untouched by the seeds: exact
        return Est(float(values[0]), None, sum(e.n_items for e in ests))
    reps = np.stack([e.reps if e.reps is not None else np.full(N_BOOT, e.value) for e in ests])  # [n_runs, N_BOOT]
    b = np.arange(N_BOOT)[:, None]  # [N_BOOT, 1]
    item = (b + RUN_OFFSET * np.arange(picks.shape[1])[None, :]) % N_BOOT  # [N_BOOT, n_runs]
    combined = reps[picks, item].mean(axis=1)  # [N_BOOT]
    return Est(float(values.mean()), combined, sum(e.n_items for e in ests))


def combine_runs(runs: Sequence[dict[str, Any]], picks: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(combined, per_run)``: every estimate (scalar or curve point) of the runs' measured dicts combined;
    what is not an estimate (info: lists, counts kept for the report) is run 0's. ``per_run``: each
    combined scalar's point value per run, and each curve's per-run points."""
    first = runs[0]
    combined: dict[str, Any] = {}
    per_run: dict[str, Any] = {}
    for q, v in first.items():
        others = [r.get(q) for r in runs]
        if isinstance(v, Est) and all(isinstance(o, Est) for o in others):
            combined[q] = combine(others, picks)
            per_run[q] = [o.value for o in others]
        elif isinstance(v, dict) and v and all(isinstance(o, dict) and o.keys() == v.keys() for o in others):
            points = {x: [as_est(o[x]) for o in others] for x in v}
            if all(p is not None for ps in points.values() for p in ps) and any(isinstance(p, Est) for p in v.values()):
                combined[q] = {x: combine(ps, picks) for x, ps in points.items()}
                per_run[q] = [{x: o[x].value if isinstance(o[x], Est) else o[x] for x in v} for o in others]
            else:
                combined[q] = v
        else:
            combined[q] = v
    return combined, per_run


def untouched(values: Sequence[float], interval: Any) -> bool:
    """Whether a check's seed runs all gave one exact value (no interval): what no seed touches, which
    ``combine`` keeps exact. Runs that merely coincide on an estimate with an interval are not."""
    return interval is None and len(set(values)) == 1


def per_seed_note(values: Sequence[float], interval: Any, curve: bool = False, digits: int = 4) -> str:
    """The per-run values a verdict table shows beside a check's value: each run's value (a curve's: its
    margin), or, for what no seed touches (``untouched``), that it is so."""
    if not curve and untouched(values, interval):
        return " (the same on every seed run: no seed touches it)"
    what = "margins" if curve else "values"
    return f" (seed runs' {what}: " + ", ".join(f"{v:.{digits}g}" for v in values) + ")"
