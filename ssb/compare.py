"""Two runs side by side: ``ssb compare A B``, the regression check when training code changes.

A and B are report folders (or their ``report.json``) written by ``ssb reproduce``. Two comparisons:

- **checks**: per check of both reports, A's and B's value, the difference B - A with an interval, and
  whether the verdict changed. A check's value is a statistic of one run whose replicates are not kept in
  the report, so its difference is *unpaired*: the interval combines the two runs' 95 % intervals as
  independent normal errors (half-width sqrt(hA^2 + hB^2)).
- **items**: the per-item log (every head, single node and node subset of the probe's block, by stable id:
  ``head3``, ``node17``, ``n4:s12``; the FewRel node subsets, ``fewrel:n4:s2``; seed run k's prefixed
  ``run{k}:``, run 0's bare, so that each run pairs with the same run). Items present in both
  runs with the same identity (a subset: the same nodes) are *paired*: the mean over items of B - A, with a
  bootstrap interval over the paired items.
  Where the items differ (another layer, other subset draws) the difference of the means is unpaired and
  said so. Also per table: how many paired items recognise another set of tokens.

A difference "moved" when its interval excludes 0; a value without an interval (an exact count, a group of
one item such as all nodes) "changed" when it differs at all, which says nothing of its noise.
``ssb compare`` exits 1 when a verdict changes (a check of one report missing from the other counts), with
``--strict`` also when anything moved or changed, or when a *warning* stands: the two reports' profiles differ
in more than their name and seeds, no item could be paired, or both are the same run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .estimate import N_BOOT, Est
from .experiments.common import METRIC_FIELDS

TABLES = ("heads", "nodes", "subsets", "fewrel")  # fewrel: the FewRel node subsets (labels)


class CompareError(ValueError):
    """A report that cannot be compared (missing, unreadable, written before per-item logs)."""


@dataclass(frozen=True)
class CheckDiff:
    claim: str
    check: str
    a: float | None
    b: float | None
    a_interval: tuple[float, float] | None
    b_interval: tuple[float, float] | None
    diff: float | None  # b - a
    diff_interval: tuple[float, float] | None  # None: both exact (or a value missing)
    moved: bool  # the interval excludes 0
    changed: bool  # no interval, and the values differ
    a_verdict: str | None  # None: the check is not in that report
    b_verdict: str | None
    a_outcome: str | None
    b_outcome: str | None

    @property
    def verdict_changed(self) -> bool:
        return self.a_verdict != self.b_verdict

    @property
    def id(self) -> str:
        return f"{self.claim}/{self.check}"


@dataclass(frozen=True)
class ItemDiff:
    table: str  # heads, nodes, subsets:n4 (subsets per number of nodes)
    metric: str
    paired: bool
    n_a: int
    n_b: int
    n_paired: int
    a_mean: float
    b_mean: float
    diff: float  # mean of b - a over paired items, or the difference of the means when unpaired
    interval: tuple[float, float] | None  # None: one item (paired) or one a side: no spread to judge by
    moved: bool  # the interval excludes 0
    changed: bool  # no interval, and the means differ


@dataclass(frozen=True)
class TokenChange:
    table: str
    n_paired: int
    n_changed: int  # paired items whose recognised token sets differ
    mean_jaccard: float  # of the paired items' token sets (1: the same tokens everywhere)


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    a_run: str
    b_run: str
    notes: tuple[str, ...]
    warnings: tuple[str, ...]  # what makes the comparison itself doubtful: each fails under --strict
    checks: tuple[CheckDiff, ...]
    items: tuple[ItemDiff, ...]
    tokens: tuple[TokenChange, ...]

    @property
    def verdict_changes(self) -> list[CheckDiff]:
        return [c for c in self.checks if c.verdict_changed]

    @property
    def moved(self) -> list[CheckDiff | ItemDiff]:
        return [c for c in self.checks if c.moved] + [i for i in self.items if i.moved]

    @property
    def changed(self) -> list[CheckDiff | ItemDiff]:
        return [c for c in self.checks if c.changed] + [i for i in self.items if i.changed]

    def to_json(self) -> dict[str, Any]:
        from .environment import environment

        return {
            **{k: getattr(self, k) for k in ("a", "b", "a_run", "b_run")},
            "environment": environment(),
            "notes": list(self.notes),
            "warnings": list(self.warnings),
            "verdict_changes": [c.id for c in self.verdict_changes],
            "checks": [{**asdict(c), "verdict_changed": c.verdict_changed} for c in self.checks],
            "items": [asdict(i) for i in self.items],
            "tokens": [asdict(t) for t in self.tokens],
        }


def load_report(path: str | Path) -> tuple[Path, dict[str, Any]]:
    """``report.json`` of a report folder (or the file itself), with a one-line error naming it."""
    path = Path(path)
    file = path / "report.json" if path.is_dir() else path
    if not file.is_file():
        raise CompareError(f"{file}: no report here (a folder written by `ssb reproduce`, or its report.json)")
    try:
        payload = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CompareError(f"{file}: not a readable report.json ({err})") from err
    if not isinstance(payload, dict) or not isinstance(payload.get("checks"), list):
        raise CompareError(f"{file}: field 'checks' missing: not a report written by `ssb reproduce`")
    return file, payload


def _interval(row: dict[str, Any]) -> tuple[float, float] | None:
    ci = row.get("interval")
    return None if ci is None else (float(ci[0]), float(ci[1]))


def _half_width(interval: tuple[float, float] | None) -> float:
    return 0.0 if interval is None else (interval[1] - interval[0]) / 2


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def check_diff(claim: str, check: str, a: dict[str, Any] | None, b: dict[str, Any] | None) -> CheckDiff:
    """One check of two reports (either may lack it): the unpaired difference of the values."""
    va, vb = (_number(r.get("value")) if r else None for r in (a, b))
    ia, ib = (_interval(r) if r else None for r in (a, b))
    diff = ci = None
    moved = changed = False
    if va is not None and vb is not None and math.isfinite(va) and math.isfinite(vb):
        diff = vb - va
        if ia is None and ib is None:
            changed = diff != 0
        else:
            half = math.hypot(_half_width(ia), _half_width(ib))
            ci = (diff - half, diff + half)
            moved = not (ci[0] <= 0 <= ci[1])
    return CheckDiff(
        claim,
        check,
        va,
        vb,
        ia,
        ib,
        diff,
        ci,
        moved,
        changed,
        a.get("verdict") if a else None,
        b.get("verdict") if b else None,
        a.get("outcome") if a else None,
        b.get("outcome") if b else None,
    )


def compare_checks(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> list[CheckDiff]:
    """Every check of either report, in A's order and then B's new ones."""
    rows_a = {(r["claim"], r["check"]): r for r in a}
    rows_b = {(r["claim"], r["check"]): r for r in b}
    keys = list(rows_a) + [k for k in rows_b if k not in rows_a]
    return [check_diff(claim, check, rows_a.get((claim, check)), rows_b.get((claim, check))) for claim, check in keys]


def _identity(row: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two items the same item: the id, and for a subset its nodes."""
    return (row["id"], tuple(row.get("nodes", ())))


def _groups(table: str, rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    if table not in ("subsets", "fewrel"):
        return {table: list(rows)}
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(f"{table}:n{row['n_nodes']}", []).append(row)
    return out


def item_diffs(
    table: str, a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]], paired: bool, rng: np.random.Generator
) -> list[ItemDiff]:
    """Per metric, B - A over one group of items: paired by identity, else unpaired (each run resampled)."""
    by_a = {_identity(r): r for r in a}
    by_b = {_identity(r): r for r in b}
    common = [k for k in by_a if k in by_b] if paired else []
    out = []
    for metric in METRIC_FIELDS:
        xa = np.array([float(r[metric]) for r in a])  # [n_a]
        xb = np.array([float(r[metric]) for r in b])  # [n_b]
        if common:
            d = np.array([float(by_b[k][metric]) - float(by_a[k][metric]) for k in common])  # [n_paired]
            diff = float(d.mean())
            if len(d) > 1:
                reps = d[rng.integers(0, len(d), size=(N_BOOT, len(d)))].mean(axis=1)
                ci = Est(diff, reps).interval()
            else:
                ci = None
        else:
            diff = float(xb.mean() - xa.mean())
            if len(xa) > 1 and len(xb) > 1:
                ra = xa[rng.integers(0, len(xa), size=(N_BOOT, len(xa)))].mean(axis=1)
                rb = xb[rng.integers(0, len(xb), size=(N_BOOT, len(xb)))].mean(axis=1)
                ci = Est(diff, rb - ra).interval()
            else:
                ci = None
        moved = ci is not None and not (ci[0] <= 0 <= ci[1])
        out.append(
            ItemDiff(table, metric, bool(common), len(a), len(b), len(common), float(xa.mean()), float(xb.mean()),
                     diff, ci, moved, ci is None and diff != 0)
        )  # fmt: skip
    return out


def token_change(table: str, a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> TokenChange:
    by_b = {_identity(r): r for r in b}
    pairs = [(set(r["tokens"]), set(by_b[_identity(r)]["tokens"])) for r in a if _identity(r) in by_b]
    jac = [len(x & y) / len(x | y) if x | y else 1.0 for x, y in pairs]
    return TokenChange(table, len(pairs), sum(x != y for x, y in pairs), float(np.mean(jac)) if jac else float("nan"))


def compare(a_path: str | Path, b_path: str | Path, seed: int = 0) -> Comparison:
    """Compare two reports (see the module docstring)."""
    file_a, a = load_report(a_path)
    file_b, b = load_report(b_path)
    notes = []
    if a.get("tier") != b.get("tier"):
        notes.append(f"the reports were checked at different tiers ({a.get('tier')} and {b.get('tier')})")
    items_a, items_b = a.get("items"), b.get("items")
    diffs: list[ItemDiff] = []
    tokens: list[TokenChange] = []
    if not items_a or not items_b:
        lacking = [str(f) for f, p in ((file_a, a), (file_b, b)) if not p.get("items")]
        notes.append(f"no per-item log in {' and '.join(lacking)}: checks only")
    else:
        same_block = items_a.get("layer") == items_b.get("layer")
        if not same_block:
            layers = f"{items_a.get('layer')} and {items_b.get('layer')}"
            notes.append(f"the per-item logs are of different blocks ({layers}): compared unpaired")
        rng = np.random.default_rng(seed)
        for table in TABLES:
            ga, gb = _groups(table, items_a.get(table, [])), _groups(table, items_b.get(table, []))
            for group in [g for g in ga if g in gb]:
                diffs += item_diffs(group, ga[group], gb[group], same_block, rng)
            if same_block and table != "fewrel":  # FewRel rows are labels, with no recognised sets
                tokens.append(token_change(table, items_a.get(table, []), items_b.get(table, [])))
        unpaired = sorted({d.table for d in diffs if not d.paired})
        if same_block and unpaired:
            notes.append("items differ (other subset draws) and are compared unpaired in: " + ", ".join(unpaired))
    return Comparison(
        str(a_path),
        str(b_path),
        str(a.get("run_id", "")),
        str(b.get("run_id", "")),
        tuple(notes),
        tuple(comparison_warnings(file_a, a, file_b, b, diffs)),
        tuple(compare_checks(a["checks"], b["checks"])),
        tuple(diffs),
        tuple(tokens),
    )


# what two reports' profiles may differ in and still be one recipe: the name, the seeds (the [seeds] lists and
# the seeds they set: a report stores its profile with run 0's seeds applied) and how the work ran
PROFILE_FREE = ("name", "seeds", "runtime", "probe.seed", "sweep.seed", "fewrel.split_seed")


def profile_differences(a: Any, b: Any, prefix: str = "") -> list[str]:
    """``section.field (A vs B)`` for every field in which two reports' ``profile`` dicts differ, except
    ``PROFILE_FREE``."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return [] if a == b else [f"{prefix.rstrip('.')} ({a!r} vs {b!r})"]
    out = []
    for key in sorted(set(a) | set(b)):
        if f"{prefix}{key}" in PROFILE_FREE:
            continue
        out += profile_differences(a.get(key), b.get(key), f"{prefix}{key}.")
    return out


def comparison_warnings(
    file_a: Path, a: dict[str, Any], file_b: Path, b: dict[str, Any], diffs: Sequence[ItemDiff]
) -> list[str]:
    """What makes a comparison doubtful (each fails ``--strict``): other recipes, nothing paired, one run."""
    out = []
    if "profile" not in a or "profile" not in b:
        out.append("a report records no profile: whether both ran one recipe is unknown")
    elif differ := profile_differences(a["profile"], b["profile"]):
        shown = ", ".join(differ[:4]) + (f" and {len(differ) - 4} more" if len(differ) > 4 else "")
        out.append(f"the reports' profiles differ beyond name and seeds: {shown}")
    if not any(d.paired and d.n_paired for d in diffs):
        out.append("no item could be paired (a per-item log is missing, or the items differ): checks only")
    same_file = file_a.resolve() == file_b.resolve()
    if same_file or (a.get("run_id") and a.get("run_id") == b.get("run_id")):
        what = "the same file" if same_file else f"run {a.get('run_id')}"
        out.append(f"both reports are the same run ({what}): nothing can have changed")
    return out


def _fmt(value: float | None, interval: tuple[float, float] | None = None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" + (f" [{interval[0]:.4g}, {interval[1]:.4g}]" if interval else "")


def render(result: Comparison, every_item: bool = False) -> str:
    """The terminal table: every check, the items that moved or changed (all with ``every_item``), tokens."""
    lines = [f"A: {result.a} (run {result.a_run})", f"B: {result.b} (run {result.b_run})"]
    lines += [f"note: {n}" for n in result.notes]
    lines += [f"WARNING: {w}" for w in result.warnings]
    lines += ["", "checks (B - A unpaired: the two runs' 95 % intervals combined as independent errors):"]
    for c in result.checks:
        flags = [f for f, on in (("VERDICT CHANGED", c.verdict_changed), ("moved", c.moved), ("changed", c.changed))
                 if on]  # fmt: skip
        lines.append(
            f"  {c.id}: A {_fmt(c.a, c.a_interval)} {c.a_verdict or 'absent'} | B {_fmt(c.b, c.b_interval)} "
            f"{c.b_verdict or 'absent'} | B - A {_fmt(c.diff, c.diff_interval)}"
            + (f"  <- {', '.join(flags)}" if flags else "")
        )
    shown = [i for i in result.items if every_item or i.moved or i.changed]
    n_paired = sum(i.paired for i in result.items)
    lines += [
        "",
        f"items (mean of B - A over the items of a table, 95 % bootstrap interval; {n_paired} of "
        f"{len(result.items)} rows paired by item id): {sum(i.moved for i in result.items)} moved, "
        f"{sum(i.changed for i in result.items)} changed without an interval (one item)"
        + ("" if every_item else " (shown; --all shows every row)"),
    ]
    for i in shown:
        pairing = f"paired over {i.n_paired}" if i.paired else f"UNPAIRED ({i.n_a} vs {i.n_b} items)"
        lines.append(
            f"  {i.table} {i.metric}: A {i.a_mean:.4g} | B {i.b_mean:.4g} | B - A {_fmt(i.diff, i.interval)} "
            f"{pairing}" + ("  <- moved" if i.moved else "  <- changed (no interval)" if i.changed else "")
        )
    if result.tokens:
        lines += ["", "recognised tokens (paired items whose token sets differ):"]
        lines += [
            f"  {t.table}: {t.n_changed} of {t.n_paired} (mean Jaccard {t.mean_jaccard:.3f})" for t in result.tokens
        ]
    checks, items = result.checks, result.items
    lines += [
        "",
        f"{len(checks)} checks: {len(result.verdict_changes)} verdict changes, {sum(c.moved for c in checks)} "
        f"moved, {sum(c.changed for c in checks)} changed; {sum(i.moved for i in items)} of {len(items)} item "
        f"rows moved, {sum(i.changed for i in items)} changed",
    ]
    return "\n".join(lines)


CURVE_METRICS = (("n_pos", "recognised tokens (n_pos)"), ("apt", "APT"), ("diagonal_confidence", "diagonal confidence"))


def curves(items: dict[str, Any]) -> dict[str, dict[int, tuple[float, float]]]:
    """``{metric: {n_nodes: (mean, std)}}`` over the single nodes (n = 1) and the node subsets."""
    groups: dict[int, list[dict[str, Any]]] = {1: list(items.get("nodes", []))} if items.get("nodes") else {}
    for row in items.get("subsets", []):
        groups.setdefault(int(row["n_nodes"]), []).append(row)
    out: dict[str, dict[int, tuple[float, float]]] = {}
    for metric, _ in CURVE_METRICS:
        values = {n: np.array([r[metric] for r in rows], dtype=np.float64) for n, rows in sorted(groups.items())}
        out[metric] = {n: (float(v.mean()), float(v.std())) for n, v in values.items()}
    return out


def fig_compare(a: dict[str, Any], b: dict[str, Any], labels: tuple[str, str], path: Path) -> Path:
    """A's and B's curves against the number of nodes, overlaid (mean and spread over the items)."""
    from .figures import _plt, _save

    plt = _plt()
    fig, axes = plt.subplots(1, len(CURVE_METRICS), figsize=(13, 3.6))
    for items, label, style in ((a, labels[0], "o-"), (b, labels[1], "s--")):
        run_curves = curves(items)
        for ax, (metric, title) in zip(axes, CURVE_METRICS, strict=True):
            curve = run_curves[metric]
            xs = list(curve)
            ax.errorbar(xs, [curve[x][0] for x in xs], yerr=[curve[x][1] for x in xs], fmt=style, capsize=3,
                        label=label)  # fmt: skip
            ax.set_title(title, fontsize=10)
            ax.set_xscale("log", base=2)
            ax.set_xlabel("number of nodes")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"block {a.get('layer')}: {labels[0]} against {labels[1]} (mean and std over the items)")
    _save(fig, path, "")
    return path


COMPARE_FILES = ("compare.json", "compare.txt", "compare.png")


def check_out(out: str | Path) -> Path:
    """Refuse, before any work, a ``--out`` that is a file or a folder holding anything but an earlier
    comparison's files (``COMPARE_FILES``): those are replaced, nothing else is ever touched."""
    from .paths import refuse_other_files

    return refuse_other_files(Path(out), COMPARE_FILES, "a comparison", CompareError)


def write(result: Comparison, out: str | Path) -> list[Path]:
    """``compare.json``, ``compare.txt`` and (with both per-item logs) ``compare.png`` in ``out`` (refused by
    :func:`check_out` when it holds anything else)."""
    from .artifacts import atomic_write_text

    out = check_out(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "compare.json", out / "compare.txt"]
    atomic_write_text(written[0], json.dumps(result.to_json(), indent=1))
    atomic_write_text(written[1], render(result, every_item=True) + "\n")
    (_, a), (_, b) = load_report(result.a), load_report(result.b)
    if a.get("items") and b.get("items"):
        labels = (f"A {a.get('profile_name', '')}", f"B {b.get('profile_name', '')}")
        written.append(fig_compare(a["items"], b["items"], labels, out / "compare.png"))
    return written
