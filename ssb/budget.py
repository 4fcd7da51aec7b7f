"""A time budget for a whole run (``--time-budget 8m``, ``[runtime] time_budget_s``).

The run measures its pre-training throughput on a few calibration steps (``ssb.train.calibrate``), then
chooses the number of pre-training steps that fills ``runtime.pretrain_share`` of the budget and the FewRel
fine-tuning epochs that fill ``runtime.fewrel_share`` (its rate estimated from the pre-training's, per
position of a batch); the learning rate is scheduled over the chosen steps as the profile says (warm-up
ratio, linear decay). The rest of the budget is left to what follows (features, probes, sweeps, hull,
claims, report), whose times the report gives beside it. The plan is stored (``budget-plan``), keyed by the
profile, the budget and the runtime, so that the same command resumes with the same steps.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

PAPER_EPOCHS = 50.0
PAPER_TRAIN_PARAGRAPHS = 90_000
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


class BudgetError(ValueError):
    """A time budget that cannot be read or met (the message names it)."""


def parse_duration(text: str) -> float:
    """Seconds of ``"90"``, ``"90s"``, ``"8m"``, ``"1.5h"``; a one-line error otherwise."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*", str(text))
    if not match or float(match.group(1)) <= 0:
        raise BudgetError(f"--time-budget {text!r}: give a positive duration such as 90s, 8m or 1h")
    return float(match.group(1)) * _UNITS[match.group(2) or ""]


@dataclass(frozen=True)
class Plan:
    budget_s: float
    spent_s: float  # of the budget, before the plan: the run's start, the tokenizer, the calibration
    calibration_steps: int
    s_per_step: float  # pre-training, measured after the first (warm-up) step
    tokens_per_step: float  # real (non-padding) positions of a training batch, measured
    pretrain_steps: int
    fewrel_epochs: float
    fewrel_s_per_step: float  # measured on FewRel's own batches (or estimated from pre-training's per position)
    fewrel_steps: int

    def record(self) -> dict[str, Any]:
        return asdict(self)


def steps_within(seconds: float, s_per_step: float) -> int:
    """The optimiser steps that fit ``seconds`` at ``s_per_step`` (at least one)."""
    if s_per_step <= 0 or not math.isfinite(s_per_step):
        raise BudgetError(f"a measured step time of {s_per_step!r} s cannot plan a budget")
    return max(1, int(seconds // s_per_step))


def plan(
    budget_s: float,
    *,
    pretrain_share: float,
    fewrel_share: float,
    s_per_step: float,
    tokens_per_step: float,
    calibration_steps: int,
    positions_per_step: float,
    fewrel_positions_per_step: float,
    fewrel_train_sentences: int,
    fewrel_batch_size: int,
    fewrel_max_epochs: float,
    spent_s: float = 0.0,
    fewrel_s_per_step: float | None = None,
) -> Plan:
    """Steps and epochs that fill each stage's share of the budget at the measured rate (pure); what the run
    spent before the plan (``spent_s``) comes out of pre-training's share. ``fewrel_s_per_step``: FewRel's step
    as measured (``finetune.calibrate_fewrel``); without it, estimated from pre-training's per position."""
    pretrain_steps = steps_within(pretrain_share * budget_s - spent_s, s_per_step)
    if fewrel_s_per_step is None:
        fewrel_s_per_step = s_per_step * fewrel_positions_per_step / positions_per_step
    fewrel_steps = steps_within(fewrel_share * budget_s, fewrel_s_per_step)
    steps_per_epoch = max(1, math.ceil(fewrel_train_sentences / fewrel_batch_size))
    fewrel_epochs = min(fewrel_max_epochs, fewrel_steps / steps_per_epoch)
    return Plan(
        budget_s,
        round(spent_s, 2),
        calibration_steps,
        s_per_step,
        tokens_per_step,
        pretrain_steps,
        round(fewrel_epochs, 4),
        fewrel_s_per_step,
        min(fewrel_steps, math.ceil(fewrel_max_epochs * steps_per_epoch)),
    )


def against_paper(plan_record: dict[str, Any], tokens_per_epoch: int, train_paragraphs: int) -> dict[str, Any]:
    """The tokens the budget let pre-training see against the paper's 50 epochs of 90,000 paragraphs (the
    paper's tokens estimated from this corpus's tokens per paragraph)."""
    seen = plan_record["pretrain_steps"] * plan_record["tokens_per_step"]
    paper = PAPER_EPOCHS * PAPER_TRAIN_PARAGRAPHS * tokens_per_epoch / max(train_paragraphs, 1)
    return {"tokens_seen": int(seen), "paper_tokens": int(paper), "share_of_paper": seen / paper if paper else None}
