"""Measures: what each claim reads from the cached experiments of a :class:`~ssb.pipeline.Pipeline`.

A measure is a function of the pipeline registered with :func:`measure`, which declares the experiments it
needs and every quantity it returns, each a ``scalar`` (an :class:`~ssb.estimate.Est` or a number), a
``curve`` (``{x: Est}``, checked by shape) or ``info`` (reported, never checked). A name may hold ``{n}``
for an integer (``apt_{n}``: ``apt_1``, ``apt_64``) or ``{g}`` for a head group (``1``, ``2``, ``4``,
``all``). The claims engine validates specs against these declarations when it loads them, so a new claim
touches its spec and its measure only.

Numbers that average node subsets, heads or hull subsets carry bootstrap replicates over those items
(:func:`ssb.estimate.means`); exact counts and single training runs carry none.

The measures live by the part of the paper they read: ``heads`` (§3), ``nodes`` (§4, §5), ``hull`` (§6),
``variants`` (§3, Appendix 3, §7), ``spontaneity`` (§3, §4: head identity across initial conditions);
``registry`` keeps their declarations, ``common`` what they share.
Importing this package registers them all.
"""

from __future__ import annotations

from . import heads, hull, nodes, selectivity, spontaneity, variants
from .registry import (
    ALL_BLOCK_SYSTEMS,
    CONTROLS,
    CURVE,
    EXPERIMENTS,
    FEWREL_SYSTEMS,
    INFO,
    MEASURES,
    METRICS,
    SCALAR,
    TOKEN_SYSTEMS,
    Measure,
    measure,
)
from .selectivity import probe_selectivity

__all__ = [
    "ALL_BLOCK_SYSTEMS",
    "CONTROLS",
    "CURVE",
    "EXPERIMENTS",
    "FEWREL_SYSTEMS",
    "INFO",
    "MEASURES",
    "METRICS",
    "SCALAR",
    "TOKEN_SYSTEMS",
    "Measure",
    "heads",
    "hull",
    "measure",
    "nodes",
    "probe_selectivity",
    "selectivity",
    "spontaneity",
    "variants",
]
