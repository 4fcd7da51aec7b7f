"""The report's figures (Figs. 3-6 analogues, a confusion matrix, the specificity panels), each drawn from the
serialised run result alone (``ssb/run_result.py``): nothing here reads a model or runs an experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path, run_id: str) -> None:
    """Save a figure with the run's id in its PNG metadata (``Description``), then close it."""
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Description": f"ssb report run {run_id}"})
    _plt().close(fig)


def fig_heads(heads: list[dict[str, Any]], path: Path, block: int, profile_name: str, run_id: str = "") -> None:
    """Fig. 3: each head alone (``heads``: one row per head with n_pos, apt and diagonal_confidence)."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    panels = [
        ("n_pos", "(A) tokens with positive diagonal", "tokens recognised (n_pos)"),
        ("apt", "(B) average APT", "mean accuracy per recognised token"),
        ("diagonal_confidence", "(C) diagonal confidence", "diagonal / its columns"),
    ]
    for ax, (metric, title, ylabel) in zip(axes, panels, strict=True):
        values = [h[metric] for h in heads]
        ax.bar(range(len(values)), values, color="tab:blue")
        ax.axhline(np.mean(values), color="red", ls="--", label=f"mean {np.mean(values):.3g}")
        ax.set_xticks(range(len(values)))
        ax.set_xlabel("head (ids as in the API: head0, head1, ...)")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle(f"Fig. 3 analogue: heads of block {block} ({profile_name} profile)")
    _save(fig, path, run_id)


NODES_CAPTION = (
    "Each point is the mean over the node subsets of that size (every single node at 1, one subset of all "
    "nodes); error bars: one standard deviation over those subsets (not an interval of the mean)."
)


def fig_nodes(sweep: dict[str, Any], path: Path, title: str, unit: str, run_id: str = "") -> None:
    plt = _plt()
    xs = sorted((k for k, v in sweep.items() if isinstance(v, dict) and "apt" in v), key=int)
    n = np.array([int(x) for x in xs])

    def curve(metric):
        return np.array([sweep[x][metric]["mean"] for x in xs]), np.array([sweep[x][metric]["std"] for x in xs])

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    m, s = curve("n_pos")
    axes[0].errorbar(n, m, yerr=s, marker="o", capsize=3)
    axes[0].set_yscale("log")
    axes[0].yaxis.set_major_formatter(plt.matplotlib.ticker.ScalarFormatter())
    axes[0].set_title(f"(A) {unit} with positive diagonal", fontsize=10)
    axes[0].set_ylabel(f"{unit} recognised (n_pos)")
    m, s = curve("apt")
    axes[1].errorbar(n, m, yerr=s, marker="o", capsize=3, label="APT (diagonal)")
    g, _ = curve("random_guess")
    axes[1].plot(n, g, marker="s", color="tab:orange", label="random guess (mean of 1/n_pos)")
    axes[1].set_title("(B) average accuracy of recognised " + unit, fontsize=10)
    axes[1].set_ylabel(f"mean accuracy per recognised {unit[:-1]}")
    axes[1].legend(fontsize=8)
    m, s = curve("diagonal_confidence")
    axes[2].errorbar(n, m, yerr=s, marker="o", capsize=3, color="tab:green")
    axes[2].set_title("(C) diagonal confidence", fontsize=10)
    axes[2].set_ylabel("diagonal / its columns")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("number of nodes")
    fig.suptitle(title)
    _save(fig, path, run_id)


HULL_CAPTION = (
    "Each subset is one pair of markers, the subsets sorted by their bound (they have no order of their own, "
    "so no line joins them): the labels the subset recognises, and the labels the convex-hull bound allows."
)


def fig_hull(hull: dict[str, Any], path: Path, run_id: str = "") -> None:
    plt = _plt()
    fig, axes = plt.subplots(1, len(hull), figsize=(4.4 * len(hull), 3.8))
    names = {"1": "single nodes", "2": "pairs", "4": "quadruplets"}
    for ax, (n, v), letter in zip(np.atleast_1d(axes), hull.items(), "ABCDEF", strict=False):
        order = np.argsort(v["bound"], kind="stable")  # subsets are unordered: sorted by their bound
        rank = np.arange(len(order))
        ax.plot(rank, np.asarray(v["n_pos"])[order], "o", ms=4, label="recognised labels")
        ax.plot(rank, np.asarray(v["bound"])[order], "s", ms=4, mfc="none", color="tab:orange", label="hull bound")
        ax.set_title(f"({letter}) {len(rank)} {names.get(n, f'{n}-node subsets')}", fontsize=10)
        ax.set_xlabel("subset, sorted by its bound")
        ax.xaxis.set_major_locator(plt.matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_ylabel("FewRel labels")
        ax.legend(fontsize=8)
    fig.suptitle("Fig. 6 analogue: recognised FewRel labels vs the convex-hull bound")
    _save(fig, path, run_id)


def fig_confusion(confusion: dict[str, Any], strings: list[str], path: Path, run_id: str = "") -> None:
    """One head's confusion matrix on its top recognised tokens, each row a true token's share of predictions
    (the last column: predicted as any other token)."""
    plt = _plt()
    counts = np.asarray(confusion["counts"], dtype=np.float64)  # [n, n]
    other = np.asarray(confusion["other"], dtype=np.float64)[:, None]  # [n, 1]
    totals = np.asarray(confusion["row_totals"], dtype=np.float64)[:, None]  # [n, 1]
    share = np.hstack([counts, other]) / np.maximum(totals, 1)  # [n, n + 1]
    size = 2.5 + 0.38 * len(strings)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(share, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(strings) + 1))
    ax.set_xticklabels([*strings, "(other)"], rotation=90, fontsize=8)
    ax.set_yticks(range(len(strings)))
    ax.set_yticklabels([f"{t} ({int(n)})" for t, n in zip(strings, totals.ravel(), strict=True)], fontsize=8)
    ax.set_xlabel("predicted token")
    ax.set_ylabel("true token (its occurrences)")
    fig.colorbar(image, ax=ax, label="share of the true token's occurrences")
    ax.set_title(f"head{confusion['head']} alone: its {len(strings)} most recognised tokens", fontsize=10)
    _save(fig, path, run_id)


CONFUSION_CAPTION = (
    "The object every quantity above is read from: the confusion matrix of one head alone (all other nodes "
    "silenced), on the recognised tokens with the largest diagonal counts; rows are normalised to each true "
    "token's occurrences, the diagonal is what the head gets right."
)


def fig_specificity(spec: dict[str, Any], path: Path, block: int, profile_name: str, run_id: str = "") -> None:
    """Per system: the pairwise overlap (Jaccard) of the heads' recognised token sets, and each single node's
    APT over its random guess (APT x n_pos), the two effects a control should not show."""
    plt = _plt()
    names = spec["systems"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, data, title in (
        (axes[0], spec["overlaps"], "(A) overlap of two heads' token sets (Jaccard)"),
        (axes[1], spec["node_ratios"], "(B) single node: APT / random guess (APT x n_pos)"),
    ):
        ax.boxplot(data)
        ax.set_xticks(range(1, len(names) + 1), names)
        ax.set_title(title, fontsize=10)
    axes[1].axhline(1.0, color="red", ls="--", label="random guess")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"Specificity: the reference and its controls, block {block} ({profile_name})")
    _save(fig, path, run_id)


def draw(data: dict[str, Any], out: Path, prefix: str = "", run_id: str = "") -> list[tuple[str, str, str]]:
    """Draw the figures of a run result's ``figure_data`` into ``out``; returns ``(title, file name, caption)``."""
    figures = []
    block, name, source = data["block"], data["profile_name"], data["source"]
    if "heads" in data:
        fig_heads(data["heads"], out / f"{prefix}fig3_heads.png", block, name, run_id)
        figures.append(("Fig. 3: each head alone", f"{prefix}fig3_heads.png", ""))
        confusion = data["confusion"]
        fig_confusion(confusion, confusion["strings"], out / f"{prefix}fig_confusion_head.png", run_id)
        figures.append(
            (f"A confusion matrix: head{confusion['head']}", f"{prefix}fig_confusion_head.png", CONFUSION_CAPTION)
        )
    if "token_nodes" in data:
        fig_nodes(
            data["token_nodes"],
            out / f"{prefix}fig4_pretrain_nodes.png",
            f"Fig. 4 analogue: masked tokens vs number of nodes ({source})",
            "tokens",
            run_id,
        )
        figures.append(("Fig. 4: token head through n random nodes", f"{prefix}fig4_pretrain_nodes.png", NODES_CAPTION))
    if "fewrel_nodes" in data:
        fig_nodes(
            data["fewrel_nodes"],
            out / f"{prefix}fig5_fewrel_nodes.png",
            f"Fig. 5 analogue: FewRel labels vs number of nodes ({source})",
            "labels",
            run_id,
        )
        fig_hull(data["hull"], out / f"{prefix}fig6_hull.png", run_id)
        figures += [
            ("Fig. 5: FewRel head through n random nodes", f"{prefix}fig5_fewrel_nodes.png", NODES_CAPTION),
            ("Fig. 6: hull bound", f"{prefix}fig6_hull.png", HULL_CAPTION),
        ]
    if "specificity" in data:
        fig_specificity(data["specificity"], out / f"{prefix}fig_specificity.png", block, name, run_id)
        figures.append(("Specificity: the reference against its controls", f"{prefix}fig_specificity.png", ""))
    return figures
