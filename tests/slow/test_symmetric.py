"""The symmetric-collapse measure on the smoke profile: short in-run backbones, and the full-budget pair."""

from pathlib import Path

import pytest

from ssb.artifacts import ArtifactStore
from ssb.claims import evaluate, load_spec
from ssb.measures.variants import symmetric_collapse
from ssb.pipeline import Pipeline

SPEC = Path(__file__).resolve().parents[2] / "claims" / "symmetric-collapse.toml"


@pytest.fixture(scope="module")
def own_store(tmp_path_factory):
    """A store of this module's own: the session store's tests expect to train the smoke backbone first."""
    return ArtifactStore(tmp_path_factory.mktemp("symmetric"))


def test_short_backbones_give_spreads_accuracies_and_unions(smoke, own_store, data_dir):
    measured = symmetric_collapse(Pipeline(smoke, own_store, data_dir, progress=False))
    assert measured["spread_symmetric"].value == 0.0 < measured["spread_symmetric_attention_dropout"].value
    assert measured["budget"] == "short" and measured["steps"] == smoke.variants.symmetric_steps
    assert 1 <= measured["union_normal"] and 1 <= measured["union_symmetric"]
    assert measured["distinct_head_sets_symmetric"] == 1  # identical heads recognise identical tokens


def test_full_budget_pair_decides_accuracy_and_union(smoke, own_store, data_dir):
    profile = smoke.replace(variants={"symmetric_full_budget": True})
    pl = Pipeline(profile, own_store, data_dir, progress=False)
    measured = symmetric_collapse(pl)
    assert measured["budget"] == "full" and measured["steps"] == smoke.pretrain.max_steps
    assert measured["steps_attention_dropout"] == smoke.variants.symmetric_steps
    assert measured["spread_symmetric"].value == 0.0  # no attention dropout: identical at any budget
    assert measured["spread_symmetric_attention_dropout"].value > 0
    # only the attention-dropout backbone trains at the short budget; the symmetric pair is full-budget
    assert set(pl.symmetric()) == {"symmetric-attention-dropout", "full", "unigram_masked_accuracy"}
    assert 0 < measured["unigram_masked_accuracy"] < 1  # the floor of the learned share


def test_an_external_model_skips_the_claim(smoke, own_store, data_dir, tmp_path):
    """--model DIR has no symmetric variant of its own: the claim is skipped with the reason, never
    measured against the profile's variants or counted as a failure."""
    import shutil

    from ssb.train import pretrain

    trained, _ = pretrain(smoke, own_store, data_dir, progress=False)
    external = tmp_path / "external"
    shutil.copytree(trained, external, ignore=shutil.ignore_patterns("record.json", "training_log.json"))
    verdict = evaluate(load_spec(SPEC), Pipeline(smoke, own_store, data_dir, model_dir=external, progress=False))
    assert verdict.skipped and "external --model" in verdict.skipped and verdict.ok


def test_the_short_backbone_commits_and_a_run_then_reads_it(smoke, own_store, data_dir, tmp_path, monkeypatch):
    """`ssb reference --short` copies the short in-run backbone (safetensors and JSON, no pickle) into the
    profile's committed store, and a run whose own store lacks it reads the committed one instead of
    pre-training it again."""
    import shutil

    from ssb import reference
    from ssb.artifacts import verify
    from ssb.cli import main
    from ssb.systems import SHORT

    monkeypatch.setattr(reference, "ROOT", tmp_path / "reference")
    name = "symmetric-attention-dropout"
    args = ["reference", "--profile", "smoke", "--variant", name, "--short", "--quiet"]
    assert main([*args, "--data-dir", str(data_dir), "--cache-dir", str(own_store.root)]) == 0
    (committed,) = (tmp_path / "reference" / "smoke" / "store" / "backbone").iterdir()
    assert verify(committed) is None and not (committed / "training_args.bin").exists()
    shutil.rmtree(own_store.path("backbone", committed.name))  # this run's own copy is gone
    folder, _ = Pipeline(smoke, own_store, data_dir, progress=False).backbone(SHORT + name)
    assert folder == committed and not own_store.path("backbone", committed.name).exists()


def test_the_symmetric_backbone_through_the_tied_probe_gives_identical_heads(smoke, own_store, data_dir):
    """Issue #36: the jointly trained probe alone sets identical heads apart (its per-head blocks start from
    different values); the tied probe cannot, so the identical-heads backbone read through it gives one token
    set for every head (Jaccard 1), and the reference's check against it compares backbones."""
    from ssb.measures import MEASURES

    pl = Pipeline(smoke, own_store, data_dir, progress=False)
    sets = [frozenset(r) for r in pl.head_table("symmetric-tied")["1"]["recognised"]]
    assert len(sets) == smoke.backbone.n_heads and len(set(sets)) == 1
    assert MEASURES["head-specialisation"].fn(pl, system="symmetric-tied")["jaccard_mean"].value == 1.0
