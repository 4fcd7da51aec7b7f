"""The report: Markdown and JSON with the claim table, the Table 1 analogue and figures like Figs. 3-6."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from .claims import Verdict, check_rows, tier_of, verdict_table
from .config import backbone_key, to_dict
from .experiments import Pipeline

PAPER_TABLE1 = {
    "1": (3507, 0.043, 0.176),
    "2": (9867, 0.093, 0.286),
    "4": (18061, 0.209, 0.455),
    "all": (23188, 0.365, 0.614),
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def table1(pl: Pipeline) -> str:
    table = pl.head_table()
    rows = [
        "| heads | tokens with positive diagonal | APT | diagonal confidence | paper (tokens / APT / confidence) |",
        "|---|---|---|---|---|",
    ]
    for g in ("1", "2", "4", "all"):
        if g not in table:
            continue
        v = table[g]
        paper = "{:,} / {} / {}".format(*PAPER_TABLE1[g])
        rows.append(
            f"| {g if g != 'all' else f'all ({pl.profile.backbone.n_heads})'} | {v['n_pos']['mean']:.1f} | "
            f"{v['apt']['mean']:.3f} | {v['diagonal_confidence']['mean']:.3f} | {paper} |"
        )
    return "\n".join(rows)


def fig_heads(pl: Pipeline, path: Path) -> None:
    plt = _plt()
    heads = pl.head_table()["1"]["per_subset"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, (metric, title) in zip(
        axes,
        [
            ("n_pos", "(A) tokens with positive diagonal"),
            ("apt", "(B) average APT"),
            ("diagonal_confidence", "(C) diagonal confidence"),
        ],
        strict=True,
    ):
        values = [h[metric] for h in heads]
        ax.bar(range(1, len(values) + 1), values, color="tab:blue")
        ax.axhline(np.mean(values), color="red", ls="--", label=f"mean {np.mean(values):.3g}")
        ax.set_xlabel("head")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle(f"Fig. 3 analogue: heads of block {pl.profile.probe.layer} ({pl.profile.name} profile)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fig_nodes(sweep: dict[str, Any], path: Path, title: str, unit: str) -> None:
    plt = _plt()
    xs = sorted((k for k, v in sweep.items() if isinstance(v, dict) and "apt" in v), key=int)
    n = np.array([int(x) for x in xs])

    def curve(metric):
        return np.array([sweep[x][metric]["mean"] for x in xs]), np.array([sweep[x][metric]["std"] for x in xs])

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    m, s = curve("n_pos")
    axes[0].errorbar(n, m, yerr=s, marker="o", capsize=3)
    axes[0].set_yscale("log")
    axes[0].yaxis.set_major_formatter(plt.matplotlib.ticker.ScalarFormatter())
    axes[0].set_title(f"(A) {unit} with positive diagonal", fontsize=10)
    m, s = curve("apt")
    axes[1].errorbar(n, m, yerr=s, marker="o", capsize=3, label="APT (diagonal)")
    g, _ = curve("random_guess")
    axes[1].plot(n, g, marker="s", color="tab:orange", label="random guess (mean of 1/n_pos)")
    axes[1].set_title("(B) average accuracy of recognised " + unit, fontsize=10)
    axes[1].legend(fontsize=8)
    m, s = curve("diagonal_confidence")
    axes[2].errorbar(n, m, yerr=s, marker="o", capsize=3, color="tab:green")
    axes[2].set_title("(C) diagonal confidence", fontsize=10)
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("number of nodes")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fig_hull(hull: dict[str, Any], path: Path) -> None:
    plt = _plt()
    fig, axes = plt.subplots(1, len(hull), figsize=(4.4 * len(hull), 3.6))
    names = {"1": "single nodes", "2": "pairs", "4": "quadruplets"}
    for ax, (n, v), letter in zip(np.atleast_1d(axes), hull.items(), "ABCDEF", strict=False):
        idx = np.arange(1, len(v["n_pos"]) + 1)
        ax.plot(idx, v["n_pos"], "o-", label="recognised labels")
        ax.plot(idx, v["bound"], "s-", color="tab:orange", label="hull upper bound")
        ax.set_title(f"({letter}) {len(idx)} {names.get(n, f'{n}-node subsets')}", fontsize=10)
        ax.set_xlabel("subset")
        ax.legend(fontsize=8)
    fig.suptitle("Fig. 6 analogue: recognised FewRel labels vs the convex-hull bound")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def results_table(payload: dict[str, Any]) -> str:
    """One row per claim of a ``report.json`` payload: its verdict and every check's value, 95 % interval,
    threshold and outcome. The report and the README's results table are both made by this function."""
    rows = ["| claim | paper | verdict | checks: value [95 % interval] threshold: outcome |", "|---|---|---|---|"]
    for claim in payload["claims"]:
        if claim.get("skipped"):
            rows.append(f"| {claim['id']} | {claim['paper']} | skipped | {claim['skipped']} |")
            continue
        cells = []
        for c in (r for r in payload["checks"] if r["claim"] == claim["id"]):
            ci = (
                f" [{c['interval'][0]:.3g}, {c['interval'][1]:.3g}]"
                if c["interval"] and not isinstance(c["value"], dict)
                else ""
            )
            cells.append(
                f"`{c['check']}` {_short_value(c['value'])}{ci} {c['threshold']}: **{c['outcome']}**"
                + (f" ({c['verdict']})" if c["outcome"] == "xfail" else "")
            )
        rows.append(f"| {claim['id']} | {claim['paper']} | {claim['verdict']} | {'<br>'.join(cells)} |")
    return "\n".join(rows)


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
            README_END.format(profile=profile),
        ]
    )


def update_readme(readme: Path, report_json: Path) -> bool:
    """Replace the marked results block of ``readme`` with one made from ``report_json``; True if it changed."""
    payload = json.loads(report_json.read_text())
    start, end = (m.format(profile=payload["profile_name"]) for m in (README_START, README_END))
    text = readme.read_text()
    if start not in text or end not in text:
        raise ReadmeError(f"{readme}: no block between '{start}' and '{end}' to fill")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    new = head + readme_block(payload) + tail
    if new != text:
        readme.write_text(new)
    return new != text


def _short_value(value: Any) -> str:
    if isinstance(value, dict):
        return " / ".join(f"{y:.3g}" for y in value.values()) + f" (x = {', '.join(value)})"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def figures_for(verdicts: list[Verdict], pl: Pipeline, out: Path, prefix: str = "") -> list[tuple[str, str]]:
    """Draw the figures the measured claims need (Figs. 3-6 analogues); returns ``(title, file name)``."""
    figures = []
    needs = {e for v in verdicts if not v.skipped for e in v.spec.experiments}
    source = f"{pl.profile.name}" + (f", {pl.model_dir.name}" if pl.model_dir else "")
    if "heads" in needs:
        fig_heads(pl, out / f"{prefix}fig3_heads.png")
        figures.append(("Fig. 3: each head alone", f"{prefix}fig3_heads.png"))
    if "token-nodes" in needs:
        fig_nodes(
            pl.token_node_sweep(),
            out / f"{prefix}fig4_pretrain_nodes.png",
            f"Fig. 4 analogue: masked tokens vs number of nodes ({source})",
            "tokens",
        )
        figures.append(("Fig. 4: token head through n random nodes", f"{prefix}fig4_pretrain_nodes.png"))
    if "fewrel-finetuned" in needs:
        fewrel = pl.fewrel("finetuned")
        fig_nodes(
            fewrel["nodes"],
            out / f"{prefix}fig5_fewrel_nodes.png",
            f"Fig. 5 analogue: FewRel labels vs number of nodes ({source})",
            "labels",
        )
        fig_hull(fewrel["hull"], out / f"{prefix}fig6_hull.png")
        figures += [
            ("Fig. 5: FewRel head through n random nodes", f"{prefix}fig5_fewrel_nodes.png"),
            ("Fig. 6: hull bound", f"{prefix}fig6_hull.png"),
        ]
    return figures


def write_report(
    verdicts: list[Verdict],
    pl: Pipeline,
    out: Path,
    extra_columns: dict[str, tuple[list[Verdict], Pipeline]] | None = None,
) -> Path:
    """Write ``report.md``, ``report.json`` and the figures into ``out``; returns the Markdown path.
    ``extra_columns``: the same claims on other models (``--model``), each with its pipeline."""
    out.mkdir(parents=True, exist_ok=True)
    extra_columns = extra_columns or {}
    needs = {e for v in verdicts if not v.skipped for e in v.spec.experiments}
    figures = figures_for(verdicts, pl, out)
    tier = tier_of(pl.profile)
    payload = {
        "profile_name": pl.profile.name,
        "profile": to_dict(pl.profile),
        "backbone_key": backbone_key(pl.profile),
        "tier": tier,
        "claims": [
            {
                "id": v.spec.id,
                "paper": v.spec.paper,
                "statement": v.spec.statement,
                "verdict": v.label,
                "skipped": v.skipped,
                "measured": _jsonable(v.measured),
            }
            for v in verdicts
        ],
        "checks": _jsonable(check_rows(verdicts)),
        "extra": {name: _jsonable(check_rows(column)) for name, (column, _) in extra_columns.items()},
        "timings": pl.timings,
        "runtime": pl.runtime.record(),
    }
    verdicts_shown = [v for v in verdicts if not v.skipped]
    labels = [v.label for v in verdicts_shown]
    lines = [
        f"# ssb report: profile `{pl.profile.name}`",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M')}; backbone config hash `{backbone_key(pl.profile)}`"
        + (f"; model `{pl.model_dir}`" if pl.model_dir else "")
        + f"; expectation tier `{tier}`"
        + f"; this run's device: {pl.runtime.device_name}, training in {pl.runtime.precision}.",
        f"{labels.count('holds')} of {len(verdicts)} claims hold at every check; {labels.count('xfail')} hold except "
        f"for checks pinned as expected failures; {len(labels) - labels.count('holds') - labels.count('xfail')} "
        f"do not behave as their spec expects"
        + (
            f"; {len(verdicts) - len(verdicts_shown)} could not be measured (skipped)"
            if len(verdicts_shown) < len(verdicts)
            else ""
        )
        + ".",
        "",
        "A check *holds* when its value and its whole 95 % bootstrap interval satisfy it, *fails* when both violate "
        "it, and is *inconclusive* otherwise; exact counts and single training runs have no interval.",
        "",
        "## Claims",
        "",
        results_table(payload),
        "",
    ]
    skipped = [v for v in verdicts if v.skipped]
    if skipped:
        lines += ["### Skipped at this profile", ""] + [f"- **{v.spec.id}**: {v.skipped}" for v in skipped] + [""]
    pinned = [(v, c) for v in verdicts for c in v.checks if c.check.xfail]
    if pinned:
        lines += ["### Checks expected to fail at this tier, and why", ""]
        lines += [f"- **{v.spec.id}** `{c.check.name}` ({c.outcome}): {c.check.xfail}" for v, c in pinned] + [""]
    for i, (name, (column, extra_pl)) in enumerate(extra_columns.items()):
        lines += [f"## The same claims on `{name}`", "", verdict_table(column), ""]
        lines += [
            f"### {title}\n\n![{title}]({file})\n" for title, file in figures_for(column, extra_pl, out, f"model{i}-")
        ]
    if "heads" in needs:
        lines += ["## Table 1 analogue (averaged over head subsets)", "", table1(pl), ""]
    lines += ["## Figures", ""] + [f"### {title}\n\n![{title}]({name})\n" for title, name in figures]
    lines += ["## Timings (seconds, this run)", "", *[f"- {k}: {v}" for k, v in pl.timings.items()], ""]
    (out / "report.md").write_text("\n".join(lines))
    (out / "report.json").write_text(json.dumps(payload, indent=1))
    return out / "report.md"
