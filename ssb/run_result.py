"""The run's result: everything the report shows, computed from the pipeline and serialised.

:func:`collect` reads the pipeline once (the claims' verdicts as rows, the Table 1 analogue, what each figure
draws, the per-item log, the probe's selectivity, the time budget, timings and environment) into one JSON
document, which ``report.json`` holds; ``ssb/report.py`` and ``ssb/figures.py`` render it and run nothing.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

from . import systems
from .api import items_log
from .config import backbone_key, to_dict
from .decision import Verdict
from .environment import environment, matmul_speed
from .measures import probe_selectivity
from .metrics import jaccard_pairs
from .pipeline import Pipeline
from .spec import tier_of
from .specificity import holds_specifically
from .tokenizer import load_tokenizer
from .verdicts import check_rows, jsonable

CURVE_METRICS = ("n_pos", "apt", "random_guess", "diagonal_confidence")  # what the node figures draw


def needs_of(verdicts: list[Verdict]) -> set[str]:
    """The experiments the measured (not skipped, not undecided) claims read."""
    return {e for v in verdicts if not v.skipped and v.undecided is None for e in v.spec.experiments}


def est_json(est) -> dict[str, Any]:
    ci = est.interval()
    return {"value": est.value, "interval": list(ci) if ci else None}


def _curves(sweep: dict[str, Any]) -> dict[str, Any]:
    """A sweep's per-count means and standard deviations of the drawn metrics (the node figures' points)."""
    return {
        x: {m: {"mean": v[m]["mean"], "std": v[m]["std"]} for m in CURVE_METRICS}
        for x, v in sweep.items()
        if isinstance(v, dict) and "apt" in v
    }


def table1(pl: Pipeline) -> dict[str, Any]:
    """The Table 1 analogue: per head group (1, 2, 4, all), the means of n_pos, APT and diagonal confidence."""
    table = pl.head_table()
    return {
        "n_heads": pl.profile.backbone.n_heads,
        "groups": {
            g: {m: table[g][m]["mean"] for m in ("n_pos", "apt", "diagonal_confidence")}
            for g in ("1", "2", "4", "all")
            if g in table
        },
    }


def figure_data(verdicts: list[Verdict], pl: Pipeline) -> dict[str, Any]:
    """What the figures of the measured claims draw (``ssb/figures.py``)."""
    needs = needs_of(verdicts)
    data: dict[str, Any] = {
        "profile_name": pl.profile.name,
        "block": pl.profile.probe.layer,
        "source": f"{pl.profile.name}" + (f", {pl.model_dir.name}" if pl.model_dir else ""),
    }
    if "heads" in needs:
        heads = pl.head_table()["1"]["per_subset"]
        data["heads"] = [{m: h[m] for m in ("n_pos", "apt", "diagonal_confidence")} for h in heads]
        best = int(np.argmax([h["n_pos"] for h in heads]))  # the head that recognises most tokens
        confusion = pl.head_confusion(best)
        strings = load_tokenizer(pl.backbone()[0]).convert_ids_to_tokens(confusion["tokens"])
        data["confusion"] = {**confusion, "strings": strings}
    if "token-nodes" in needs:
        data["token_nodes"] = _curves(pl.token_node_sweep())
    if "fewrel-finetuned" in needs:
        fewrel = pl.fewrel("reference")
        data["fewrel_nodes"] = _curves(fewrel["nodes"])
        data["hull"] = {n: {"n_pos": v["n_pos"], "bound": v["bound"]} for n, v in fewrel["hull"].items()}
    controls = sorted({c.check.control for v in verdicts for c in v.checks if c.check.control})
    token_controls = [c for c in controls if systems.get(c).token_control]
    if token_controls and "heads" in needs and pl.model_dir is None:
        names, overlaps, node_ratios = ["reference", *token_controls], [], []
        for system in names:
            sets = [set(r) for r in pl.head_table(system)["1"]["recognised"]]
            overlaps.append(jaccard_pairs(sets))
            singles = pl.token_node_sweep(name=system, counts=(1,))["1"]["per_subset"]
            node_ratios.append([r["apt"] * r["n_pos"] for r in singles if r["n_pos"] > 0])
        data["specificity"] = {"systems": names, "overlaps": overlaps, "node_ratios": node_ratios}
    return jsonable(data)


def budget_record(pl: Pipeline) -> dict[str, Any] | None:
    """The time budget's plan, the run's wall time up to the report, and the tokens pre-training saw
    against the paper's (``ssb.budget``); None without a budget."""
    from .budget import against_paper

    plan = pl.budget_plan
    if not plan:
        return None
    record = json.loads((pl.backbone()[0] / "record.json").read_text())
    return {
        **plan,
        "wall_s_to_report": round(time.monotonic() - pl.started, 1),
        "pretrain_steps_done": record.get("steps"),
        **against_paper(plan, record.get("train_tokens_per_epoch", 0), pl.profile.corpus.n_train),
    }


def collect(verdicts: list[Verdict], pl: Pipeline) -> dict[str, Any]:
    """The run's result as one JSON document: what ``report.json`` holds, less its run id and figure digests
    (the report adds them when it writes)."""
    needs = needs_of(verdicts)
    result: dict[str, Any] = {
        "profile_name": pl.profile.name,
        "profile": to_dict(pl.profile),
        "backbone_key": backbone_key(pl.profile),
        "tier": tier_of(pl.profile),
        "model": None if pl.model_dir is None else str(pl.model_dir),
        "claims": [
            {
                "id": v.spec.id,
                "paper": v.spec.paper,
                "statement": v.spec.statement,
                "verdict": v.label,
                "skipped": v.skipped,
                "undecided": v.undecided,
                "measured": jsonable(v.measured),
                "holds_specifically": holds_specifically(v),
            }
            for v in verdicts
        ],
        "checks": jsonable(check_rows(verdicts)),
        "specificity": jsonable([row.to_json() for v in verdicts for row in v.specificity]),
        "timings": pl.timings,
        "time_budget": budget_record(pl),
        "runtime": pl.runtime.record(),
        "environment": environment(pl.runtime.device_name),
        "machine_speed": matmul_speed(pl.runtime.device),
        "figure_data": figure_data(verdicts, pl),
    }
    if "heads" in needs:
        result["table1"] = table1(pl)
        if "token-nodes" in needs:  # the per-item log: every head, node and subset of every seed run by a stable id
            result["items"] = items_log(pl, result["model"], fewrel="fewrel-finetuned" in needs)
        if pl.model_dir is None:
            result["probe_selectivity"] = {
                q: {role: est_json(e) for role, e in row.items()} for q, row in probe_selectivity(pl).items()
            }
    return result
