"""Seed runs on real smoke systems: a claim is measured on every run (its own probe, subsets and label head,
the same backbone and validation features), and so are its controls and variants; what no seed touches
stays exact."""

import dataclasses
from pathlib import Path

import pytest

from ssb.claims import evaluate, load_spec

# fast-tf4 does not rerun this (tox.ini): it tests the seed runs' engine (which run measures what, the nested
# bootstrap), whose backbones train through the paths that test_training.py and test_regression.py rerun under 4.x
pytestmark = pytest.mark.no_tf4_rerun

CLAIMS = Path(__file__).resolve().parents[2] / "claims"


@pytest.fixture(scope="module")
def pipeline(smoke, new_pipeline):
    return new_pipeline(smoke.replace(seeds={"probe": (0, 1), "subsets": (0, 1)}), "seeds")


def test_each_run_has_its_own_probe_and_subsets_on_the_same_features(pipeline):
    run = pipeline.seed_run(1)
    assert run is pipeline.seed_run(1) and pipeline.seed_run(0) is pipeline
    assert run.token_probe_key(2) != pipeline.token_probe_key(2)
    assert run.valid_features_key() == pipeline.valid_features_key()  # every token masked once: no seed
    assert run.subset_nodes(4) != pipeline.subset_nodes(4)
    assert run.backbone()[1] == pipeline.backbone()[1]


# pretrain-confidence's cpu tier holds a check against the random-init control: measured on both runs too
@pytest.mark.parametrize("claim, tier", [("pretrain-confidence", "cpu"), ("hull-tightness", "smoke")])
def test_a_claim_and_its_controls_combine_both_runs(pipeline, claim, tier):
    verdict = evaluate(load_spec(CLAIMS / f"{claim}.toml"), pipeline, tier)
    assert verdict.checks and all(c.seed_runs == 2 and len(c.per_seed) == 2 for c in verdict.checks)
    assert set(verdict.measured["per_seed_run"]) <= set(verdict.measured)
    assert (tier == "cpu") == any(c.check.control == "random-init" for c in verdict.checks)
    run = pipeline.seed_run(1)  # run 1 alone: its profile with no further runs, the same store
    only = dataclasses.replace(run, profile=run.profile.replace(seeds={"probe": (), "subsets": ()}), _memo={})
    alone = evaluate(load_spec(CLAIMS / f"{claim}.toml"), only, tier)
    assert [c.margin if c.check.shape else c.value for c in alone.checks] == [c.per_seed[1] for c in verdict.checks]
    for c in verdict.checks:  # the mean of the runs' differences is the difference of the runs' means
        if c.check.control:
            assert c.reference_value - c.control_value == pytest.approx(c.value)
            assert c.value == pytest.approx(sum(c.per_seed) / 2)


def test_a_claim_of_the_variants_is_measured_on_every_run_and_the_unseeded_stays_exact(pipeline):
    verdict = evaluate(load_spec(CLAIMS / "symmetric-collapse.toml"), pipeline, "smoke")
    assert verdict.checks and all(c.seed_runs == 2 for c in verdict.checks)
    for c in verdict.checks:  # a backbone's head spread: no seed touches it
        assert c.per_seed[0] == c.per_seed[1] == c.value and c.interval is None


def test_the_per_item_log_holds_every_run_with_ids_that_pair_run_by_run(pipeline):
    from ssb.api import item_tables, items_log

    log = items_log(pipeline)
    alone = item_tables(pipeline, strings=False).tables()
    for table, rows in alone.items():
        runs = [[r for r in log[table] if r["seed_run"] == k] for k in (0, 1)]
        assert [{k: v for k, v in r.items() if k != "seed_run"} for r in runs[0]] == rows  # run 0: the bare ids
        assert [r["id"] for r in runs[1]] == ["run1:" + r["id"] for r in rows]
    assert len({r["id"] for r in log["heads"]}) == 2 * len(alone["heads"])  # every id once


def test_the_runs_label_heads_read_one_extraction_of_the_fewrel_features(pipeline):
    runs = [pipeline.seed_run(k).fewrel() for k in (0, 1)]
    assert runs[0]["nodes"]["1"] != runs[1]["nodes"]["1"]  # each run's own label head and subsets
    root = pipeline.store.root
    classifiers = [p for p in (root / "fewrel").iterdir() if p.is_dir()]
    features = [p for p in (root / "fewrel-features").iterdir() if p.is_dir()]
    assert len(features) == len(classifiers)  # one extraction per classifier, not per run


@pytest.fixture(scope="module")
def over_backbones(smoke, new_pipeline):
    seeds = {"probe": (0, 1), "subsets": (0, 1), "backbone": (1,), "over_backbones": True}
    return new_pipeline(smoke.replace(seeds=seeds), "over-backbones")


def test_a_backbone_run_builds_its_reference_and_never_trained_control_from_its_seed(over_backbones):
    pl, run = over_backbones, over_backbones.backbone_run(1)
    from safetensors.torch import load_file

    assert run is pl.backbone_run(1) and pl.backbone_run(0) is pl and run.backbone_run(1) is run
    assert run.backbone_run(0).backbone()[0] == pl.backbone()[0]  # back to the profile's own backbones
    assert run.backbone()[0] == pl.backbone("init-seed:1")[0] != pl.backbone()[0]  # the seed's own backbone

    def weights(resolver):
        return load_file(str(resolver.backbone("random-init")[0] / "model.safetensors"))

    own, seeded = weights(pl), weights(run)  # its own initialisation, not only another key
    assert any(not (own[k] == seeded[k]).all() for k in own)
    assert run.seed_run(1).backbone()[1] == run.backbone()[1]  # its seed runs keep its backbone
    assert run.seed_run(1).token_probe_key(2) != run.token_probe_key(2) != pl.token_probe_key(2)


def test_a_claim_over_backbones_is_measured_on_every_run_of_every_backbone(over_backbones):
    """pretrain-confidence's cpu tier holds a check against random-init: both arms on every (backbone, run),
    paired within each; each of the four is what that backbone's run gives alone."""
    spec = load_spec(CLAIMS / "pretrain-confidence.toml")
    verdict = evaluate(spec, over_backbones, "cpu")
    assert verdict.measured["over_backbones"] == [0, 1]
    assert verdict.checks and all(c.seed_runs == 4 and c.backbone_runs == 2 for c in verdict.checks)
    for c in verdict.checks:
        if c.check.control:
            assert c.reference_value - c.control_value == pytest.approx(c.value)
    run = over_backbones.backbone_run(1).seed_run(1)
    only = dataclasses.replace(
        run, profile=run.profile.replace(seeds={"probe": (), "subsets": (), "over_backbones": False}), _memo={}
    )
    alone = evaluate(spec, only, "cpu")
    assert [c.margin if c.check.shape else c.value for c in alone.checks] == [c.per_seed[3] for c in verdict.checks]
    # a claim that reads a pre-trained variant stays on the profile's own backbone
    symmetric = evaluate(load_spec(CLAIMS / "symmetric-collapse.toml"), over_backbones, "smoke")
    assert all(c.backbone_runs == 1 and c.seed_runs == 2 for c in symmetric.checks)


def test_the_variants_ratios_get_the_same_recipes_null_from_the_seed_backbones(over_backbones, smoke, new_pipeline):
    """Issue #37: no-dropout's and symmetric's ratios are one run against another; the null is the same ratio
    between the seed backbone and the reference. Without seed backbones it is None and builds nothing."""
    import json

    from ssb.measures.common import _group, _rng
    from ssb.measures.variants import _seeds_null

    heads = _group(over_backbones.head_table(only=("1",))["1"], _rng())  # the reference's, as no-dropout has it
    null = _seeds_null(over_backbones, heads)
    assert all(len(v) == 1 and v[0] > 0 for v in null.values())
    assert _seeds_null(over_backbones)["null_n_pos_ratio"] is None  # symmetric-collapse's: the MLM ratio alone

    def mlm(folder):
        return json.loads((folder / "record.json").read_text())["final_eval"]["eval_mlm_accuracy"]

    seeded, own = over_backbones.backbone("init-seed:1")[0], over_backbones.backbone()[0]
    assert null["null_mlm_accuracy_ratio"][0] == pytest.approx(mlm(seeded) / mlm(own))
    bare = new_pipeline(smoke, "no-seeds")
    assert _seeds_null(bare) == dict.fromkeys(null) and not (bare.store.root / "backbone").exists()
