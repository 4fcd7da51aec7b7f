"""The time budget's pure parts: durations, the steps that fit, the plan of every budgeted stage."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers.trainer_pt_utils import get_length_grouped_indices

from ssb.budget import BudgetError, against_paper, parse_duration, plan, steps_within
from ssb.config import ConfigError, profile_from_dict
from ssb.train import calibration_batches


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("8m", 480), ("1.5h", 5400), (" 2 min ", 120)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "-1m", "8 minutes", "1d", "m"])
def test_a_bad_duration_is_one_line_naming_it(text):
    with pytest.raises(BudgetError, match="--time-budget"):
        parse_duration(text)


def test_the_steps_that_fit():
    assert steps_within(10.0, 0.25) == 40 and steps_within(0.1, 1.0) == 1  # at least one step
    with pytest.raises(BudgetError):
        steps_within(10.0, float("nan"))


def test_each_stage_fills_its_share_at_the_measured_rate():
    p = plan(
        480.0, pretrain_share=0.5, fewrel_share=0.1, s_per_step=0.12, tokens_per_step=20_000.0,
        calibration_steps=6, positions_per_step=256 * 128, fewrel_positions_per_step=32 * 128,
        fewrel_train_sentences=40_000, fewrel_batch_size=32, fewrel_max_epochs=50.0,
    )  # fmt: skip
    assert p.pretrain_steps == 2000  # 240 s / 0.12 s
    assert p.fewrel_s_per_step == pytest.approx(0.015)  # 8x fewer positions a batch
    assert p.fewrel_steps == 3200 and p.fewrel_epochs == pytest.approx(3200 / 1250)  # 48 s / 0.015 s
    capped = plan(
        1e6, pretrain_share=0.5, fewrel_share=0.1, s_per_step=0.12, tokens_per_step=1.0, calibration_steps=6,
        positions_per_step=1.0, fewrel_positions_per_step=1.0, fewrel_train_sentences=320, fewrel_batch_size=32,
        fewrel_max_epochs=2.0,
    )  # fmt: skip
    assert capped.fewrel_epochs == 2.0 and capped.fewrel_steps == 20  # never beyond the profile's epochs


def test_tokens_are_compared_with_the_papers_fifty_epochs():
    out = against_paper({"pretrain_steps": 100, "tokens_per_step": 1000.0}, tokens_per_epoch=9_000, train_paragraphs=90)
    assert out["tokens_seen"] == 100_000 and out["paper_tokens"] == 50 * 90_000 * 100
    assert out["share_of_paper"] == pytest.approx(100_000 / 450_000_000)


@pytest.mark.parametrize(
    "runtime, words",
    [
        ({"time_budget_s": -1.0}, "runtime.time_budget_s' must be >= 0"),
        ({"pretrain_share": 0.8, "fewrel_share": 0.3}, "sum < 1"),
        ({"pretrain_share": 1.5}, "runtime.pretrain_share' must lie in"),
    ],
)
def test_budget_fields_name_themselves(runtime, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        profile_from_dict({"name": "x", "runtime": runtime}, "x.toml")


def test_what_the_run_spent_before_the_plan_comes_out_of_pretrainings_share():
    kwargs = dict(
        pretrain_share=0.5, fewrel_share=0.1, s_per_step=1.0, tokens_per_step=1.0, calibration_steps=6,
        positions_per_step=1.0, fewrel_positions_per_step=1.0, fewrel_train_sentences=32, fewrel_batch_size=32,
        fewrel_max_epochs=1.0,
    )  # fmt: skip
    assert plan(100.0, **kwargs).pretrain_steps == 50 and plan(100.0, spent_s=20.0, **kwargs).pretrain_steps == 30


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    batch_size=st.integers(1, 16),
    n_batches=st.integers(1, 20),
    steps=st.integers(1, 8),
    multiple=st.sampled_from([1, 8]),
)
def test_calibration_batches_are_formed_as_pre_trainings(data, batch_size, n_batches, steps, multiple):
    """The calibration times batches of the Trainer's own length grouping (one megabatch: the sample sorted
    longest first, cut into batches), so its padded positions per batch are the grouping's, never more than
    the same paragraphs batched in their random order; the warm-up is the longest batch, as training starts."""
    n = batch_size * n_batches  # one megabatch of the sampled paragraphs
    lengths = data.draw(st.lists(st.integers(1, 64), min_size=n, max_size=n))
    chosen = calibration_batches(lengths, batch_size, steps, multiple)
    generator = torch.Generator().manual_seed(data.draw(st.integers(0, 2**31)))
    grouped = get_length_grouped_indices(lengths, batch_size, mega_batch_mult=n_batches, generator=generator)
    pad = lambda batch: multiple * -(-max(lengths[i] for i in batch) // multiple) * len(batch)  # noqa: E731
    theirs = [pad(grouped[b : b + batch_size]) for b in range(0, n, batch_size)]
    assert chosen["positions_per_step"] == pytest.approx(np.mean(theirs))
    in_order = [pad(range(b, b + batch_size)) for b in range(0, n, batch_size)]
    assert chosen["positions_per_step"] <= np.mean(in_order) + 1e-9
    assert chosen["tokens_per_step"] == pytest.approx(sum(lengths) / n_batches)
    order = chosen["order"]
    assert len(order) == batch_size * (1 + steps)
    first = sorted(lengths, reverse=True)[:batch_size]
    assert sorted((lengths[i] for i in order[:batch_size]), reverse=True) == first


def test_calibration_batches_take_the_middle_of_each_stratum():
    lengths = list(range(100, 0, -1))  # already longest first: batch b holds 100 - 10b .. 91 - 10b
    chosen = calibration_batches(lengths, 10, 5)
    timed = [sorted(chosen["order"][k : k + 10].tolist()) for k in range(10, 60, 10)]
    assert [t[0] // 10 for t in timed] == [1, 3, 5, 7, 9]  # batches 1, 3, 5, 7, 9 of 10
    assert chosen["timed_positions"] == [10 * (100 - 10 * b) for b in (1, 3, 5, 7, 9)]  # each its longest, 10 times
    assert chosen["tokens_per_step"] == pytest.approx(sum(lengths) / 10)


def test_a_calibration_feeds_its_batches_in_the_order_chosen(tmp_path):
    """``train._InOrder`` overrides the Trainer's sampler (a private hook): if a transformers release renamed
    it, the calibration would time random batches again."""
    import datasets
    from transformers import TrainingArguments

    from ssb.train import _InOrder

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, ids):
            return {"loss": (self.w * ids.float()).sum()}

    seen = []

    def collate(rows):
        seen.append([r["row"] for r in rows])
        return {"ids": torch.tensor([r["row"] for r in rows])}

    data = datasets.Dataset.from_dict({"row": [7, 3, 9, 1, 5, 2, 8, 0]})
    args = TrainingArguments(
        str(tmp_path), per_device_train_batch_size=2, max_steps=4, report_to=[], save_strategy="no",
        use_cpu=True, disable_tqdm=True, remove_unused_columns=False, logging_strategy="no",
    )  # fmt: skip
    _InOrder(model=Tiny(), args=args, train_dataset=data, data_collator=collate).train()
    assert seen == [[7, 3], [9, 1], [5, 2], [8, 0]]


def test_a_measured_fewrel_step_is_planned_as_measured():
    kwargs = dict(
        pretrain_share=0.5, fewrel_share=0.1, s_per_step=0.12, tokens_per_step=1.0, calibration_steps=7,
        positions_per_step=256 * 128, fewrel_positions_per_step=32 * 128, fewrel_train_sentences=3200,
        fewrel_batch_size=32, fewrel_max_epochs=50.0,
    )  # fmt: skip
    assert plan(1000.0, **kwargs).fewrel_s_per_step == pytest.approx(0.015)  # estimated per position
    measured = plan(1000.0, fewrel_s_per_step=0.0625, **kwargs)
    assert measured.fewrel_s_per_step == 0.0625 and measured.fewrel_steps == 1600  # 100 s of FewRel's share
