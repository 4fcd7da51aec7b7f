"""The claims' verdicts as rows and as a text table: one row per (claim, check), as the report, the README
and ``ssb claims`` show them."""

from __future__ import annotations

import json
from typing import Any

from .decision import Verdict
from .seeds import per_seed_note
from .specificity import specific, specific_line


def check_rows(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    """One JSON-ready row per (claim, check): value, interval, threshold, verdict, outcome, and the check's
    family-wise decision over all the checks of ``verdicts`` (``ssb.family``: Holm)."""
    from .family import decide

    results = [c for v in verdicts for c in v.checks]
    family = dict(zip(map(id, results), decide(results), strict=True))
    rows = []
    for v in verdicts:
        if v.undecided is not None:
            rows.append({"claim": v.spec.id, "check": None, "outcome": "undecided", "why": v.undecided})
        if v.skipped:
            rows.append({"claim": v.spec.id, "check": None, "outcome": "skipped", "why": v.skipped})
        for name, why in v.skipped_checks.items():
            rows.append({"claim": v.spec.id, "check": None, "outcome": "skipped", "why": f"{name}: {why}"})
        for c in v.checks:
            rows.append(
                {
                    "claim": v.spec.id,
                    "check": c.check.name,
                    "value": c.value,
                    "interval": list(c.interval) if c.interval else None,
                    "threshold": c.check.threshold(),
                    "verdict": c.verdict,
                    "outcome": c.outcome,
                    "detail": c.detail,
                    "why": c.check.xfail,
                    "reason": c.check.reason,
                    "evidence": c.evidence or None,
                    "pin_problem": c.pin_problem,
                    "control": c.check.control,
                    "reference_value": c.reference_value,
                    "control_value": c.control_value,
                    "n_items": c.n_items,
                    "seed_runs": c.seed_runs,
                    "backbone_runs": c.backbone_runs,
                    "per_seed": c.per_seed,
                    "family_verdict": family[id(c)].verdict,
                    "p_holds": family[id(c)].p_holds,
                    "p_fails": family[id(c)].p_fails,
                    "specific": specific(c, v.specificity),
                    "declared_specific": c.check.specific,
                    "specificity_problem": c.specificity_problem,
                }
            )
    return rows


def decided_line(verdicts: list[Verdict]) -> str:
    """How many claims the tier decides, and how many of those hold (every check, pins as pinned): "N of M
    claims decided at tier T; K of them hold" (the rest name why in their spec's ``undecided``)."""
    if not verdicts:
        return "no claims"
    tier = verdicts[0].tier
    decided = [v for v in verdicts if v.undecided is None and not v.skipped]
    holding = sum(v.label in ("holds", "xfail") for v in decided)
    line = f"{len(decided)} of {len(verdicts)} claims decided at tier {tier!r}; {holding} of them hold"
    numbers = paper_numbers([(c.check.name, c.verdict) for v in decided for c in v.checks])
    return "; ".join(part for part in (line, specific_line(verdicts), numbers) if part)


PAPER_NUMBER = ":paper"  # a check so named compares a number of the paper itself (a scale-free one, below `paper`)


def paper_numbers(checks: list[tuple[str, str]]) -> str:
    """``(check name, verdict)`` pairs -> "N of the paper's numbers decided: K hold, F fail, I inconclusive",
    over the checks named ``...:paper...`` (the paper's own numbers where they are scale-free); "" if none."""
    verdicts = [verdict for name, verdict in checks if PAPER_NUMBER in name]
    if not verdicts:
        return ""
    counts = {k: verdicts.count(k) for k in ("holds", "fails", "inconclusive")}
    return (
        f"{len(verdicts)} of the paper's numbers decided: {counts['holds']} hold, {counts['fails']} fail, "
        f"{counts['inconclusive']} inconclusive"
    )


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v:.3g}" for k, v in value.items())
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def verdict_table(verdicts: list[Verdict]) -> str:
    """A Markdown table, one row per check: claim, check, value, interval, threshold, verdict, outcome."""
    rows = [
        "| claim | check | value | 95 % interval | threshold | verdict | outcome | family-wise (Holm) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in check_rows(verdicts):
        if r["check"] is None:
            rows.append(f"| {r['claim']} | — | — | — | — | not measured | {r['outcome']}: {r['why']} | — |")
            continue
        ci = f"[{r['interval'][0]:.4g}, {r['interval'][1]:.4g}]" if r["interval"] else "none"
        if r["detail"]:
            ci += f" ({r['detail']})" if r["interval"] is None else " (margin)"
        value = _cell(r["value"])
        if r.get("per_seed"):
            value += per_seed_note(r["per_seed"], r["interval"], isinstance(r["value"], dict))
        if r.get("control"):
            value += f" ({_cell(r['reference_value'])} − {_cell(r['control_value'])})"
        rows.append(
            f"| {r['claim']} | `{r['check']}` | {value} | {ci} | {r['threshold']} | {r['verdict']} | {r['outcome']} "
            f"| {_family_cell(r)} |"
        )
    return "\n".join(rows)


def _family_cell(row: dict[str, Any]) -> str:
    """The family-wise verdict, marked where it differs from the per-check one."""
    family = row["family_verdict"]
    if family == "exact":
        return "exact"
    return family + (" (changed)" if family != row["verdict"] else "")


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON (arrays as lists, anything else unknown as its string)."""
    return json.loads(json.dumps(value, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))
