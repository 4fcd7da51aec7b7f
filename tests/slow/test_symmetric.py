"""The symmetric-collapse measure on the smoke profile: short in-run backbones, and the full-budget pair."""

import pytest

from ssb.artifacts import ArtifactStore
from ssb.claims import symmetric_collapse
from ssb.experiments import Pipeline


@pytest.fixture(scope="module")
def own_store(tmp_path_factory):
    """A store of this module's own: the session store's tests expect to train the smoke backbone first."""
    return ArtifactStore(tmp_path_factory.mktemp("symmetric"))


def test_short_backbones_give_spreads_accuracies_and_unions(smoke, own_store, data_dir):
    measured = symmetric_collapse(Pipeline(smoke, own_store, data_dir, progress=False))
    assert measured["spread_symmetric"] == 0.0 < measured["spread_symmetric_attention_dropout"]
    assert measured["steps"] == smoke.variants.symmetric_steps
    assert 1 <= measured["union_normal"] and 1 <= measured["union_symmetric"]
    assert measured["distinct_head_sets_symmetric"] >= 1 and "steps_short" not in measured


def test_full_budget_pair_decides_accuracy_and_union(smoke, own_store, data_dir):
    profile = smoke.replace(variants={"symmetric_full_budget": True})
    measured = symmetric_collapse(Pipeline(profile, own_store, data_dir, progress=False))
    assert measured["steps"] == smoke.pretrain.max_steps and measured["steps_short"] == smoke.variants.symmetric_steps
    assert measured["spread_symmetric_full_budget"] == 0.0  # no attention dropout: identical at any budget
    assert measured["spread_symmetric"] == 0.0 < measured["spread_symmetric_attention_dropout"]
    assert {"mlm_accuracy_normal_short", "union_ratio_symmetric_short", "union_ratio_symmetric"} <= set(measured)


def test_full_budget_pair_is_left_out_for_an_external_model(smoke, own_store, data_dir, tmp_path):
    """--model DIR: the committed symmetric variant is not comparable with a user's checkpoint (which has no
    training record either), so the claim falls back to the short in-run pair."""
    import shutil

    from ssb.train import pretrain

    trained, _ = pretrain(smoke, own_store, data_dir, progress=False)
    external = tmp_path / "external"
    shutil.copytree(trained, external, ignore=shutil.ignore_patterns("record.json", "training_log.json"))
    profile = smoke.replace(variants={"symmetric_full_budget": True})
    measured = symmetric_collapse(Pipeline(profile, own_store, data_dir, model_dir=external, progress=False))
    assert measured["steps"] == smoke.variants.symmetric_steps and "steps_short" not in measured
