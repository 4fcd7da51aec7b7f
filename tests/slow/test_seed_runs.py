"""Seed runs on real smoke systems: a seeded claim is measured on every run (its own probe, subsets and
label head, the same backbone and validation features), a control check at run 0 only."""

import dataclasses
from pathlib import Path

import pytest

from ssb.claims import evaluate, load_spec

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


@pytest.mark.parametrize("claim", ["pretrain-crossover", "hull-tightness"])
def test_a_seeded_claim_combines_both_runs(pipeline, claim):
    verdict = evaluate(load_spec(CLAIMS / f"{claim}.toml"), pipeline, "smoke")
    assert verdict.checks and all(c.seed_runs == 2 and len(c.per_seed) == 2 for c in verdict.checks)
    assert set(verdict.measured["per_seed_run"]) <= set(verdict.measured)
    run = pipeline.seed_run(1)  # run 1 alone: its profile with no further runs, the same store
    only = dataclasses.replace(run, profile=run.profile.replace(seeds={"probe": (), "subsets": ()}), _memo={})
    alone = evaluate(load_spec(CLAIMS / f"{claim}.toml"), only, "smoke")
    assert [c.margin if c.check.shape else c.value for c in alone.checks] == [c.per_seed[1] for c in verdict.checks]


def test_a_claim_of_the_variants_is_measured_at_run_zero_only(pipeline):
    verdict = evaluate(load_spec(CLAIMS / "symmetric-collapse.toml"), pipeline, "smoke")
    assert all(c.seed_runs == 1 and c.per_seed is None for c in verdict.checks)
