"""Measures added for #20 on real smoke systems: §3's hidden correlations against the head sweep they must
agree with, and Appendix 3's FewRel part (the no-dropout backbone fine-tuned by the same recipe)."""

import json

import pytest

from ssb.measures import MEASURES


@pytest.fixture(scope="module")
def pipeline(smoke, new_pipeline):
    return new_pipeline(smoke, "head-measures")


def test_head_correctness_agrees_with_the_head_sweep(pipeline):
    counts = pipeline.head_correctness()
    table = pipeline.head_table()
    n = counts["n_positions"]
    assert n == table["n_positions"]
    # the all-heads subset's accuracy and each head's are the same predictions, counted here per input
    assert counts["n_correct_all"] == round(table["all"]["per_subset"][0]["accuracy"] * n)
    best_head = max(round(h["accuracy"] * n) for h in table["1"]["per_subset"])
    assert best_head <= counts["n_correct_some_head"] <= sum(round(h["accuracy"] * n) for h in table["1"]["per_subset"])
    only_joint, only_heads = counts["n_correct_all_no_head"], counts["n_correct_some_head_not_all"]
    assert counts["n_correct_all"] - only_joint == counts["n_correct_some_head"] - only_heads  # both: the overlap
    out = MEASURES["hidden-correlations"].fn(pipeline)
    assert out["jointly_correct_share"].value == pytest.approx(only_joint / max(counts["n_correct_all"], 1))


def test_no_dropout_measures_the_fewrel_fine_tuning_of_the_no_dropout_backbone(pipeline):
    out = MEASURES["no-dropout"].fn(pipeline)
    nod, ref = pipeline.fewrel("no-dropout"), pipeline.fewrel("reference")
    assert (
        out["fewrel_accuracy_no_dropout"]
        == nod["nodes"][str(pipeline.profile.backbone.hidden)]["per_subset"][0]["accuracy"]
    )
    assert out["fewrel_accuracy_ratio"].value == pytest.approx(
        out["fewrel_accuracy_no_dropout"] / out["fewrel_accuracy_dropout"]
    )
    assert out["fewrel_apt_1_ratio"].interval() is not None  # every single node, resampled
    folder, _ = pipeline.backbone("no-dropout")
    config = json.loads((folder / "config.json").read_text())
    assert config["hidden_dropout_prob"] == 0 and config["attention_probs_dropout_prob"] == 0
    assert nod["n_test"] == ref["n_test"] and nod != ref
