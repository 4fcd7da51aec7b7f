"""The time budget's pure parts: durations, the steps that fit, the plan of every budgeted stage."""

import pytest

from ssb.budget import BudgetError, against_paper, parse_duration, plan, steps_within
from ssb.config import ConfigError, profile_from_dict


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
