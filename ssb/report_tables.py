"""The report's tables and paragraphs, each rendered from a run's serialised result (``report.json``'s payload)
or a check's result: the claim table, Table 1 beside the paper's, the probe's selectivity, the seed runs'
spread, the power, head identity, the family-wise paragraph and the time budget. Pure functions of data."""

from __future__ import annotations

from typing import Any

import numpy as np

from .seeds import per_seed_note, untouched

PAPER_TABLE1 = {
    "1": (3507, 0.043, 0.176),
    "2": (9867, 0.093, 0.286),
    "4": (18061, 0.209, 0.455),
    "all": (23188, 0.365, 0.614),
}


def table1(data: dict[str, Any]) -> str:
    """The Table 1 analogue (``run_result.table1``) beside the paper's numbers."""
    rows = [
        "| heads | tokens with positive diagonal | APT | diagonal confidence | paper (tokens / APT / confidence) |",
        "|---|---|---|---|---|",
    ]
    for g, v in data["groups"].items():
        paper = "{:,} / {} / {}".format(*PAPER_TABLE1[g])
        heads = g if g != "all" else f"all ({data['n_heads']})"
        rows.append(f"| {heads} | {v['n_pos']:.1f} | {v['apt']:.3f} | {v['diagonal_confidence']:.3f} | {paper} |")
    return "\n".join(rows)


SELECTIVITY_ROWS = {
    "accuracy_all": "accuracy, all nodes",
    "n_pos_all": "labels with positive diagonal, all nodes",
    "accuracy_per_head": "accuracy, one head (mean of the heads)",
    "n_pos_per_head": "labels with positive diagonal, one head (mean)",
    "majority_accuracy": "accuracy of always predicting the most frequent label",
    "n_distinct_targets": "distinct labels among the validation targets",
}


def evidence_lines(result) -> list[str]:
    """What the run measured for a pinned check's kind of reason (``ssb.spec.REASONS``), one line each."""
    ev, lines = result.evidence, []
    if result.pin_problem:
        lines.append(f"**mispinned**: {result.pin_problem}")
    if "along_knob" in ev:
        trend = ", ".join(f"{x}: {y:.4g}" for x, y in ev["along_knob"].items())
        reach = ev.get("threshold_reached_at")
        lines.append(
            f"scale: `{ev['knob']}` = {trend}; the paper's setup at x = {ev['paper_scale']:g}"
            + (f"; the trend reaches the threshold at x = {reach:.3g}" if reach else "")
        )
    if "items_to_decide" in ev:
        need = ev["items_to_decide"]
        lines.append(
            f"sampling: margin {result.margin:+.4g} over {ev['items']} items; "
            + (f"about {need:,} items would decide at this spread" if need else "a zero margin: no count decides")
        )
    if "setup" in ev:
        lines.append("setup: " + ", ".join(f"{q} = {_short_value(v)}" for q, v in ev["setup"].items()))
    if result.check.reason == "faithful-negative" and not lines:
        lines.append(
            f"faithful negative: margin {result.margin:+.4g}"
            + (
                f" [{result.margin_interval[0]:+.4g}, {result.margin_interval[1]:+.4g}]"
                if result.margin_interval
                else " (exact)"
            )
        )
    return lines


def selectivity_table(rows: dict[str, dict[str, Any]]) -> str:
    """The reference's probe against the control-task probe (``measures.probe_selectivity``)."""

    def cell(est: dict[str, Any]) -> str:  # {"value", "interval"} (``run_result.est_json``)
        ci = est["interval"]
        return f"{est['value']:.4g}" + (f" [{ci[0]:.4g}, {ci[1]:.4g}]" if ci else "")

    lines = [
        "The same probe recipe trained on a control task (Hewitt & Liang 2019) on the reference's features: each "
        "token type's label re-drawn once from the distribution of the training targets. Selectivity is the "
        "reference's value minus the control's, with a 95 % interval paired over the heads. The control's labels "
        "are a function of the masked token, so its task is a coarsening of the real one, no harder to learn: "
        "the random-init backbone, not this probe, is the control of the token claims.",
        "",
        "| quantity | reference | control task | selectivity |",
        "|---|---|---|---|",
    ]
    for quantity, row in rows.items():
        lines.append(
            f"| {SELECTIVITY_ROWS.get(quantity, quantity)} | {cell(row['reference'])} | {cell(row['control'])} | "
            f"{cell(row['selectivity'])} |"
        )
    return "\n".join(lines)


def results_table(payload: dict[str, Any]) -> str:
    """One row per check of a ``report.json`` payload (its claim, with the claim's verdict, on the claim's first
    row): value, 95 % interval, what it is compared with, threshold and outcome. The report and the README's
    results table are both made by this function."""
    rows = [
        "| claim (verdict) | paper | check | value [95 % interval] | threshold | outcome |",
        "|---|---|---|---|---|---|",
    ]
    for claim in payload["claims"]:
        first = f"**{claim['id']}** ({'skipped' if claim.get('skipped') else claim['verdict']})"
        if claim.get("skipped") or claim.get("undecided"):
            why = claim.get("skipped") or f"not decided at this tier: {claim['undecided']}"
            rows.append(f"| {first} | {claim['paper']} | — | {why} | | |")
            continue
        lead = [first, claim["paper"]]
        for c in (r for r in payload["checks"] if r["claim"] == claim["id"]):
            if c["check"] is None:  # a check that was not run (a control an external --model lacks)
                rows.append(f"| {' | '.join(lead)} | — | skipped: {c['why']} | | |")
                lead = ["", ""]
                continue
            ci = (
                f" [{c['interval'][0]:.3g}, {c['interval'][1]:.3g}]"
                if c["interval"] and not isinstance(c["value"], dict)
                else ""
            )
            against = ""
            if c.get("per_seed"):
                against = per_seed_note(c["per_seed"], c["interval"], isinstance(c["value"], dict), digits=3)
            if c.get("control"):
                against = f" (reference {_short_value(c['reference_value'])}, {c['control']} "
                against += f"{_short_value(c['control_value'])})"
            outcome = f"**{c['outcome']}**" + (
                f" ({c['verdict']}, {c.get('reason')})" if c["outcome"] == "xfail" else ""
            )
            value = f"{_short_value(c['value'])}{ci}{against}"
            rows.append(f"| {' | '.join(lead)} | `{c['check']}` | {value} | {c['threshold']} | {outcome} |")
            lead = ["", ""]
    return "\n".join(rows)


def speed_line(speed: dict[str, Any], at: str = "the report's end") -> str:
    """The machine's matrix-product rate that a run's timings were taken at (``environment.matmul_speed``),
    measured at ``at``."""
    n = speed["shape"][0]
    return (
        f"This machine at {at}: fp32 matrix products at {speed['fp32_matmul_gflops']:g} GFLOP/s "
        f"({n} x {n} by {n} x {n} on {speed['device']}, {speed['threads']} threads): this run's times scale "
        "with it, so compare runs' times only at like rates."
    )


def budget_lines(b: dict[str, Any]) -> list[str]:
    share = f"{b['share_of_paper']:.2%}" if b.get("share_of_paper") is not None else "—"
    within = "within" if b["wall_s_to_report"] <= b["budget_s"] else "OVER"
    return [
        f"Budget {b['budget_s']:g} s; the run took {b['wall_s_to_report']:g} s to this report ({within} the budget). "
        f"Pre-training: {b['pretrain_steps']:,} steps chosen at {b['s_per_step']:.3g} s/step ("
        f"{b['calibration_steps'] - 1} calibration steps batched as training's, after one warm-up; "
        f"{b['spent_s']:g} s spent before the "
        f"plan came out of its share), {b['pretrain_steps_done']} done; "
        f"{b['tokens_seen']:,} tokens seen against the paper's 50 epochs of 90,000 paragraphs "
        f"(~{b['paper_tokens']:,} tokens at this corpus's tokens per paragraph): {share}. FewRel fine-tuning: "
        f"{b['fewrel_epochs']:g} epochs ({b['fewrel_steps']:,} steps at {b['fewrel_s_per_step']:.3g} s/step, timed on "
        f"FewRel's own batches).",
    ]


POWER_TARGET = 0.10  # the rule for items per check (README, "Power"): an interval's half-width within 10 % of the value


def power_lines(payload: dict[str, Any]) -> list[str]:
    """Scalar checks whose interval is wider than the power rule allows, with the items that would meet it at
    the observed spread (the half-width shrinks as 1 / sqrt(items)): what the next profile should fix."""
    rows = []
    for r in payload["checks"]:
        value, ci, n = r.get("value"), r.get("interval"), r.get("n_items") or 1
        if r.get("check") is None or ci is None or isinstance(value, dict) or not value or n < 2:
            continue
        rel = (ci[1] - ci[0]) / 2 / abs(value)
        if rel > POWER_TARGET:
            need = int(np.ceil(n * (rel / POWER_TARGET) ** 2))
            rows.append(f"| {r['claim']} | `{r['check']}` | {n:,} | {rel:.0%} | {need:,} |")
    if not rows:
        return []
    return [
        f"{len(rows)} scalar checks have a 95 % half-width above {POWER_TARGET:.0%} of their value, the power rule "
        "(README, 'Power'); the items each would need at this spread, for a profile set before the run that decides:",
        "",
        "| claim | check | items now | half-width / value | items for 10 % |",
        "|---|---|---|---|---|",
        *rows,
    ]


PAPER_SEED_SPREAD = 0.01  # Appendix 2.4: "the standard division was around 1% for all the results"


def seed_lines(payload: dict[str, Any]) -> list[str]:
    """The seed runs' spread of every scalar check they combine, against the paper's ~1 %."""
    rows = [r for r in payload["checks"] if r.get("per_seed") and not isinstance(r.get("value"), dict)]
    if not rows:
        return []
    spreads, unseeded = [], []
    lines = [
        "| claim | check | per seed run | spread (std / mean) |",
        "|---|---|---|---|",
    ]
    for r in rows:
        values = np.array(r["per_seed"], dtype=np.float64)
        name = f"`{r['check']}`" + (" (a paired difference on each run)" if r.get("control") else "")
        if untouched(r["per_seed"], r.get("interval")):  # a backbone's own numbers: not a seed spread
            unseeded.append(f"{r['claim']} {name}")
            continue
        spread = float(values.std() / abs(values.mean())) if values.mean() else float("nan")
        spreads.append(spread)
        lines.append(f"| {r['claim']} | {name} | {', '.join(f'{v:.4g}' for v in values)} | {spread:.1%} |")
    finite = [x for x in spreads if np.isfinite(x)]
    median = f"{np.median(finite):.1%}" if finite else "undefined"
    over = max(r.get("backbone_runs", 1) for r in rows)
    n_runs = max(r["seed_runs"] // r.get("backbone_runs", 1) for r in rows)
    where = (
        "on the same backbones, every claim and its controls measured on each"
        if over == 1
        else f"on each of {over} backbones of other initial conditions for the claims that read no pre-trained "
        "variant (`[seeds] over_backbones`: their spreads below include the initial conditions'), on the "
        "profile's own backbone for the others"
    )
    head = (
        f"{n_runs} seed runs (`[seeds]` of the profile) {where}: the median spread of the {len(finite)} scalar "
        f"checks the seeds move is {median}, against the paper's 'standard division ... around 1% for all the "
        "results' (Appendix 2.4); "
        f"{sum(x > PAPER_SEED_SPREAD for x in finite)} exceed 1 %. Each check's interval combines the runs and the "
        "items (a two-level bootstrap, `ssb/seeds.py`)."
    )
    if unseeded:
        head += f" The same value on every run (no seed touches it, exact): {', '.join(unseeded)}."
    return [head, "", *lines]


def identity_lines(payload: dict[str, Any]) -> list[str]:
    """Which head recognises what, and what fixes it (issues #36, #37): J(same head) - J(other heads) per head,
    averaged, and the share of heads the best one-to-one matching keeps at their index, from the measured
    quantities of the claims that compare head sets (probe seeds on one backbone; the no-dropout backbone,
    which shares the reference's initial conditions and order of paragraphs; backbones of other seeds)."""
    measured = {c["id"]: c.get("measured") or {} for c in payload["claims"]}
    rows = []

    def row(what: str, values: dict[str, Any], identity: str, share: str) -> None:
        if values.get(identity) is not None:
            rows.append(f"| {what} | {values[identity]:.3g} | {values[share]:.3g} |")

    heads = measured.get("head-specialisation", {})
    row("the reference, across its probe seeds", heads, "probe_seed_identity", "probe_seed_match_share")
    symmetric = heads.get("controls", {}).get("symmetric", {})
    row("the symmetric backbone, across its probe seeds", symmetric, "probe_seed_identity", "probe_seed_match_share")
    row(
        "the reference against no-dropout (same initial conditions and order, other dropout)",
        measured.get("no-dropout", {}),
        "head_identity_vs_reference",
        "head_match_share_vs_reference",
    )
    seeds = measured.get("spontaneous-breaking", {})
    row("backbones of other initial conditions", seeds, "same_minus_other", "identity_match_share")
    row("two probes of one backbone (spontaneous-breaking's control)", seeds, "probe_same_minus_other",
        "probe_identity_match_share")  # fmt: skip
    row("the reference against other orders of its paragraphs (same initial conditions)", seeds,
        "order_same_minus_other", "order_match_share")  # fmt: skip
    if not rows:
        return []
    return [
        "Per head, its token set's Jaccard with the same head of the other run minus its mean Jaccard with the other "
        "heads, averaged (0: the index carries no identity), and the share of heads that the best one-to-one "
        "matching keeps at their index (chance: one over the heads).",
        "",
        "| runs compared | J(same) - J(other) | heads matched to themselves |",
        "|---|---|---|",
        *rows,
    ]


def null_lines(payload: dict[str, Any]) -> list[str]:
    """Issue #37: a variant's ratio to the reference is one training run against another; beside it, the same
    ratio between backbones of the reference's own recipe from other initial conditions (``[seeds] backbone``),
    where the profile has them: how much of the ratio the initial conditions alone make."""
    measured = {c["id"]: c.get("measured") or {} for c in payload["claims"]}
    rows = []

    def row(what: str, value: Any, null: Any) -> None:
        if value is not None and null:
            seeds = ", ".join("n/a" if v is None else f"{v:.3g}" for v in null)
            rows.append(f"| {what} | {value:.3g} | {seeds} |")

    nod = measured.get("no-dropout", {})
    row("no-dropout / reference, n_pos per head", nod.get("n_pos_ratio"), nod.get("null_n_pos_ratio"))
    row("no-dropout / reference, APT per head", nod.get("apt_ratio"), nod.get("null_apt_ratio"))
    dropout, no_dropout = nod.get("mlm_accuracy_dropout"), nod.get("mlm_accuracy_no_dropout")
    ratio = no_dropout / dropout if dropout and no_dropout is not None else None
    row("no-dropout / reference, held-out MLM accuracy", ratio, nod.get("null_mlm_accuracy_ratio"))
    sym = measured.get("symmetric-collapse", {})
    row(
        "symmetric / reference, held-out MLM accuracy",
        sym.get("accuracy_ratio_symmetric"),
        sym.get("null_mlm_accuracy_ratio"),
    )
    if not rows:
        return []
    return [
        "A variant against the reference is one training run against another. Beside each ratio, the same ratio "
        "between a backbone of the reference's own recipe from other initial conditions and the reference (one per "
        "seed of `[seeds] backbone`; the reference against itself is 1): a yardstick of how far one run of a recipe "
        "lies from another. No-dropout shares the reference's initial conditions, so for it the yardstick is loose: "
        "a ratio inside the range from 1 to the seeds' is not told apart from what other initial conditions do.",
        "",
        "| ratio | the variant's | the same recipe's, per other seed |",
        "|---|---|---|",
        *rows,
    ]


def specific_count(payload: dict[str, Any]) -> str:
    """ "N of M claims hold specifically" over a report's decided claims, or "" when it has no specificity rows."""
    claims = [c for c in payload["claims"] if not c.get("undecided") and not c.get("skipped")]
    if not payload.get("specificity") or not claims:
        return ""
    return f"{sum(bool(c.get('holds_specifically')) for c in claims)} of {len(claims)} claims hold specifically"


def specificity_lines(payload: dict[str, Any]) -> list[str]:
    """Each absolute check on the reference and on each control it was also decided on (``ssb.specificity``),
    and whether it counts: a check that a control also holds is not evidence of the paper's effect."""
    rows = payload.get("specificity") or []
    if not rows:
        return []
    systems = list(dict.fromkeys(r["system"] for r in rows))
    on = {(r["claim"], r["check"], r["system"]): r for r in rows}

    def cell(r: dict[str, Any] | None) -> str:
        if r is None:
            return ""
        if r["verdict"] == "not measured":
            return "not measured"
        return f"{_short_value(r['value'])} ({r['verdict']})"

    lines = [
        "| claim | check | reference | " + " | ".join(f"`{s}`" for s in systems) + " | specific |",
        "|---|---|---|" + "---|" * len(systems) + "---|",
    ]
    for c in payload["checks"]:
        if not c.get("check") or c.get("control") or not any((c["claim"], c["check"], s) in on for s in systems):
            continue
        cells = " | ".join(cell(on.get((c["claim"], c["check"], s))) for s in systems)
        specific = {True: "yes", False: "**no**", None: "undetermined"}[c.get("specific")]
        if c.get("declared_specific") is False:
            specific += " (declared)"
        if c.get("specificity_problem"):
            specific += f" MISDECLARED: {c['specificity_problem']}"
        lines.append(
            f"| {c['claim']} | `{c['check']}` | {_short_value(c['value'])} ({c['verdict']}) | {cells} | {specific} |"
        )
    head = (
        f"Every absolute check (one without a control of its own) also decided on {', '.join(map(repr, systems))}, "
        "each measured once at the profile's seeds. A check is specific when every control fails it; one that a "
        "control also holds is not evidence of the paper's effect and does not count (its spec declares it: "
        "`specific = false`, shown as declared; a run that contradicts a declaration marks it MISDECLARED), and one "
        "that a control leaves inconclusive is undetermined. A claim holds specifically when one of its specific "
        "checks holds "
        f"(a check against a control is specific by construction): {specific_count(payload)}."
    )
    return [head, "", *lines]


def family_lines(payload: dict[str, Any]) -> list[str]:
    """The family-wise paragraph (``ssb.family``): how many checks Holm's procedure covers, what it changes."""
    rows = [r for r in payload["checks"] if r.get("check") is not None and r.get("family_verdict")]
    if not rows:
        return []
    family = [r for r in rows if r["family_verdict"] != "exact"]
    changed = [r for r in family if r["family_verdict"] != r["verdict"]]
    head = (
        f"All checks together: Holm's step-down procedure at 2.5 % (one-sided, each check's own level) over the "
        f"{len(family)} checks with intervals ({len(rows) - len(family)} exact checks keep their verdict) changes "
        f"{len(changed)} verdict{'s' if len(changed) != 1 else ''}"
    )
    if not changed:
        return [head + ". The per-check verdicts decide pytest and the exit status."]

    def p(r: dict[str, Any]) -> float:
        return r["p_holds"] if r["verdict"] == "holds" else r["p_fails"]

    items = [
        f"`{r['claim']}/{r['check']}` {r['verdict']} → {r['family_verdict']} (p = {p(r):.3g})"
        for r in sorted(changed, key=p)
    ]
    return [head + ": " + "; ".join(items) + ". The per-check verdicts decide pytest and the exit status."]


def _short_value(value: Any) -> str:
    if isinstance(value, dict):
        return " / ".join(f"{y:.3g}" for y in value.values()) + f" (x = {', '.join(value)})"
    return f"{value:.3g}" if isinstance(value, float) else str(value)
