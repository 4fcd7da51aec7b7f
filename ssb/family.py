"""All checks together: family-wise decisions (Holm) beside the per-check verdicts.

Each check is decided on its own at 95 %: it holds when its whole two-sided interval lies on the passing side,
a one-sided test at 2.5 %. Over ~60 checks, one or two can be decided by chance. Here every check with
bootstrap replicates gets two one-sided p-values: ``p_holds`` (H0: the check does not hold) is the share of
replicates on the failing side, the same reading of the replicates as the per-check interval; ``p_fails`` (H0:
it does not fail) the share on the passing side. Where that share is 0, 1,000 replicates cannot resolve the
p-value (below 1/1000, and Holm's smallest threshold is 0.025 / m), so it comes from the normal approximation
to the margin m (how far the point value lies on the passing side) over the replicates' standard deviation s,
``P(Z > m / s)``, capped at 1/1000. Holm's step-down procedure at 2.5 % over the family of checks with
replicates then says which "holds" and which "fails" survive; the rest are inconclusive family-wise. Exact
checks (no replicates: counts, one run) have no sampling error to adjust and keep their verdict. The per-check
verdict still decides pytest and the exit status (README, "Verdicts").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from .estimate import N_BOOT

ALPHA = 0.025  # one-sided, as the per-check rule (a 95 % two-sided interval on one side of the threshold)


@dataclass(frozen=True)
class FamilyDecision:
    verdict: str  # holds | fails | inconclusive | exact (no replicates: the per-check verdict stands)
    p_holds: float | None
    p_fails: float | None


def p_values(margin: float, sd: float | None, failing_share: float | None, n_boot: int = N_BOOT):
    """One-sided p-values ``(does not hold, does not fail)`` of a check's margin, or None when exact."""
    if sd is None or failing_share is None or not np.isfinite(margin):
        return None
    floor = 1.0 / n_boot

    def tail(share: float, z: float) -> float:
        if share > 0:
            return share
        return 0.0 if sd == 0 else min(float(norm.sf(z)), floor)  # sd 0: every replicate is the point value

    z = margin / sd if sd else 0.0
    return tail(failing_share, z), tail(1.0 - failing_share, -z)


def holm(p: Sequence[float], alpha: float = ALPHA) -> np.ndarray:
    """Holm's step-down rejections ``[n]`` of the hypotheses with p-values ``p`` at family-wise ``alpha``."""
    p = np.asarray(p, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    reject = np.zeros(len(p), dtype=bool)
    for rank, i in enumerate(order):
        if p[i] > alpha / (len(p) - rank):
            break
        reject[i] = True
    return reject


def decide(results: Sequence) -> list[FamilyDecision]:
    """The family-wise decision of every :class:`~ssb.claims.CheckResult` (in order)."""
    pv = [p_values(r.margin, r.margin_sd, r.failing_share) for r in results]
    family = [i for i, v in enumerate(pv) if v is not None]
    holds = holm([pv[i][0] for i in family]) if family else np.zeros(0, dtype=bool)
    fails = holm([pv[i][1] for i in family]) if family else np.zeros(0, dtype=bool)
    out = [FamilyDecision("exact", None, None) for _ in results]
    for j, i in enumerate(family):
        verdict = "holds" if holds[j] else "fails" if fails[j] else "inconclusive"
        out[i] = FamilyDecision(verdict, pv[i][0], pv[i][1])
    return out


def changes(results: Sequence, decisions: Sequence[FamilyDecision]) -> list[tuple[object, str, str]]:
    """``(result, per-check verdict, family-wise verdict)`` where the two differ."""
    return [
        (r, r.verdict, d.verdict)
        for r, d in zip(results, decisions, strict=True)
        if d.verdict not in ("exact", r.verdict)
    ]
