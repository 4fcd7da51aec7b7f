"""The report: Markdown and JSON with the claim table, the Table 1 analogue and figures like Figs. 3-6, rendered
from a run's serialised result (``ssb/run_result.py``) and its verdicts; nothing here runs an experiment."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from .artifacts import atomic_write_text, file_sha256, key_lock
from .claims import Verdict, check_rows, verdict_table
from .figures import draw
from .seeds import per_seed_note, untouched
from .verdicts import decided_line, jsonable

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


def budget_lines(b: dict[str, Any]) -> list[str]:
    share = f"{b['share_of_paper']:.2%}" if b.get("share_of_paper") is not None else "—"
    within = "within" if b["wall_s_to_report"] <= b["budget_s"] else "OVER"
    return [
        f"Budget {b['budget_s']:g} s; the run took {b['wall_s_to_report']:g} s to this report ({within} the budget). "
        f"Pre-training: {b['pretrain_steps']:,} steps chosen at {b['s_per_step']:.3g} s/step (median of "
        f"{b['calibration_steps'] - 1} calibration steps after one warm-up; {b['spent_s']:g} s spent before the "
        f"plan came out of its share), {b['pretrain_steps_done']} done; "
        f"{b['tokens_seen']:,} tokens seen against the paper's 50 epochs of 90,000 paragraphs "
        f"(~{b['paper_tokens']:,} tokens at this corpus's tokens per paragraph): {share}. FewRel fine-tuning: "
        f"{b['fewrel_epochs']:g} epochs ({b['fewrel_steps']:,} steps, the rate estimated from pre-training's).",
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
    head = (
        f"{rows[0]['seed_runs']} seed runs (`[seeds]` of the profile) on the same backbones, every claim and its "
        f"controls measured on each: the median spread of the {len(finite)} scalar checks the seeds move is "
        f"{median}, against the paper's 'standard division ... around 1% for all the results' (Appendix 2.4); "
        f"{sum(x > PAPER_SEED_SPREAD for x in finite)} exceed 1 %. Each check's interval combines the runs and the "
        "items (a two-level bootstrap, `ssb/seeds.py`)."
    )
    if unseeded:
        head += f" The same value on every run (no seed touches it, exact): {', '.join(unseeded)}."
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


class ReadmeError(ValueError):
    """The README has no marked results block for the report's profile."""


README_START, README_END = "<!-- results:{profile}:start -->", "<!-- results:{profile}:end -->"


def readme_block(payload: dict[str, Any]) -> str:
    """The README's generated results block for one profile's ``report.json``."""
    profile = payload["profile_name"]
    return "\n".join(
        [
            README_START.format(profile=profile),
            f"Generated by `ssb readme` from `results/{profile}/report.json` (do not edit by hand).",
            "",
            results_table(payload),
            *(["", *family] if (family := family_lines(payload)) else []),
            README_END.format(profile=profile),
        ]
    )


def update_readme(readme: Path, report_json: Path) -> bool:
    """Replace the marked results block of ``readme`` with one made from ``report_json``; True if it changed."""
    try:
        payload = json.loads(report_json.read_text(encoding="utf-8"))
        profile = payload["profile_name"]
    except FileNotFoundError:
        raise ReadmeError(f"{report_json}: no such report (run `ssb reproduce` first)") from None
    except (ValueError, KeyError, TypeError) as err:  # cut short, not UTF-8, or not a report
        raise ReadmeError(f"{report_json}: not a whole ssb report.json ({type(err).__name__}: {err})") from err
    start, end = (m.format(profile=profile) for m in (README_START, README_END))
    text = readme.read_text()
    if start not in text or end not in text:
        raise ReadmeError(f"{readme}: no block between '{start}' and '{end}' to fill")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    new = head + readme_block(payload) + tail
    if new != text:
        atomic_write_text(readme, new)
    return new != text


def _short_value(value: Any) -> str:
    if isinstance(value, dict):
        return " / ".join(f"{y:.3g}" for y in value.values()) + f" (x = {', '.join(value)})"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


class ReportError(ValueError):
    """The report folder cannot take a report (a file, or a folder holding other things than a report)."""


def _is_report_file(path: Path) -> bool:
    """A file of an earlier report, or the lock file a report run (of an older ssb) left beside its folder."""
    if path.is_file() and path.name.startswith(".") and path.name.endswith(".lock"):
        return True
    return path.is_file() and (path.name in ("report.md", "report.json") or path.suffix == ".png")


def check_out(out: Path) -> None:
    """Refuse, before any work, a ``--out`` that is a file or a folder holding anything but an earlier ssb
    report (report.md, report.json, figures): a report replaces its folder as a whole."""
    if out.exists() and not out.is_dir():
        raise ReportError(f"--out {out} is a file; a report is written into a folder")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if not _is_report_file(p))
        if foreign:
            raise ReportError(
                f"--out {out} holds {', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}, which are not "
                f"part of an ssb report; a report replaces its folder as a whole: name a new or empty folder"
            )


def new_run_id() -> str:
    """``YYYYmmddTHHMMSS-xxxxxxxx``: when the run wrote its report, and 32 random bits."""
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"


def _replace_folder(tmp: Path, out: Path, run_id: str) -> None:
    """Move the finished ``tmp`` into place as ``out``; the previous ``out`` is kept until the rename is done
    and put back if it fails."""
    old = out.with_name(f".{out.name}.old-{run_id}") if out.exists() else None
    if old is not None:
        out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        if old is not None and not out.exists():
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_report(
    verdicts: list[Verdict],
    result: dict[str, Any],
    out: Path,
    extra_columns: dict[str, tuple[list[Verdict], dict[str, Any]]] | None = None,
) -> Path:
    """Write ``report.md``, ``report.json`` and the figures of a run's result (``run_result.collect``) as one
    folder ``out``; returns the Markdown path. ``extra_columns``: the same claims on other models
    (``--model``), each with its result.

    Atomic: everything is written into a temporary folder beside ``out`` and renamed into place as a whole,
    under a lock, so ``out`` always holds one whole report of one run (its run id in report.md, report.json
    and every figure's metadata), the previous one survives a full disk or a kill, and two runs into one
    ``out`` leave the whole report of one of them."""
    out = Path(out).absolute()
    check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    run_id = new_run_id()
    with key_lock(  # beside the folder (which is replaced whole), and removed when the report is written
        out.with_name(f".{out.name}.lock"),
        result["profile"]["runtime"]["lock_timeout_s"],
        what=f"the report folder {out}",
        remove=True,
    ):
        for stale in out.parent.glob(f".{out.name}.tmp-*"):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
        try:
            _write_report_files(verdicts, result, tmp, extra_columns or {}, run_id)
            check_out(out)  # again: another process may have put something there meanwhile
            _replace_folder(tmp, out, run_id)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out / "report.md"


def _write_report_files(
    verdicts: list[Verdict],
    result: dict[str, Any],
    out: Path,
    extra_columns: dict[str, tuple[list[Verdict], dict[str, Any]]],
    run_id: str,
) -> None:
    figures = draw(result["figure_data"], out, run_id=run_id)
    tier, runtime = result["tier"], result["runtime"]
    payload = {
        "run_id": run_id,
        **result,
        "extra": {name: jsonable(check_rows(column)) for name, (column, _) in extra_columns.items()},
    }
    verdicts_shown = [v for v in verdicts if not v.skipped and v.undecided is None]
    labels = [v.label for v in verdicts_shown]
    lines = [
        f"# ssb report: profile `{result['profile_name']}`",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M')} by run `{run_id}`; backbone config hash "
        f"`{result['backbone_key']}`"
        + (f"; model `{result['model']}`" if result["model"] else "")
        + f"; expectation tier `{tier}`"
        + f"; this run's device: {runtime['device_name']}, training in {runtime['precision']}.",
        f"{labels.count('holds')} of {len(verdicts)} claims hold at every check; {labels.count('xfail')} hold except "
        f"for checks pinned as expected failures; {len(labels) - labels.count('holds') - labels.count('xfail')} "
        f"do not behave as their spec expects"
        + (
            f"; {sum(1 for v in verdicts if v.skipped)} could not be measured (skipped)"
            if any(v.skipped for v in verdicts)
            else ""
        )
        + f". {decided_line(verdicts)}.",
        "",
        "A check *holds* when its value and its whole 95 % bootstrap interval satisfy it, *fails* when both violate "
        "it, and is *inconclusive* otherwise; exact counts and single training runs have no interval.",
        "",
        "## Claims",
        "",
        results_table(payload),
        "",
        *family_lines(payload),
        "",
    ]
    skipped = [v for v in verdicts if v.skipped]
    if skipped:
        lines += ["### Skipped at this profile", ""] + [f"- **{v.spec.id}**: {v.skipped}" for v in skipped] + [""]
    pinned = [(v, c) for v in verdicts for c in v.checks if c.check.xfail]
    if pinned:
        lines += ["### Checks expected to fail at this tier, why, and the run's evidence", ""]
        for v, c in pinned:
            lines.append(f"- **{v.spec.id}** `{c.check.name}` ({c.outcome}, {c.check.reason}): {c.check.xfail}")
            lines += [f"  - {line}" for line in evidence_lines(c)]
        lines.append("")
    if seeds := seed_lines(payload):
        lines += ["## Seed runs", "", *seeds, ""]
    if power := power_lines(payload):
        lines += ["## Power", "", *power, ""]
    for i, (name, (column, extra_result)) in enumerate(extra_columns.items()):
        lines += [f"## The same claims on `{name}`", "", verdict_table(column), ""]
        lines += [
            f"### {title}\n\n![{title}]({file})\n"
            for title, file, _ in draw(extra_result["figure_data"], out, f"model{i}-", run_id)
        ]
    if "table1" in result:
        lines += ["## Table 1 analogue (averaged over head subsets)", "", table1(result["table1"]), ""]
    if "probe_selectivity" in result:
        lines += ["## Probe selectivity (control task)", "", selectivity_table(result["probe_selectivity"]), ""]
    lines += ["## Figures", ""] + [
        f"### {title}\n\n![{title}]({name})\n" + (f"\n{caption}\n" if caption else "")
        for title, name, caption in figures
    ]
    if payload["time_budget"]:
        lines += ["## Time budget", "", *budget_lines(payload["time_budget"]), ""]
    lines += ["## Timings (seconds, this run)", "", *[f"- {k}: {v}" for k, v in result["timings"].items()], ""]
    payload["figures"] = {p.name: file_sha256(p) for p in sorted(out.glob("*.png"))}
    (out / "report.md").write_text("\n".join(lines))
    (out / "report.json").write_text(json.dumps(payload, indent=1))
