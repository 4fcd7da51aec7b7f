"""Regression baselines of the smoke profile's metric curves (pytest-regressions).

A change to training or evaluation code that moves these curves fails here until the baselines are
regenerated on purpose: ``pytest tests/slow/test_regression.py --force-regen`` (then commit the .csv).
"""

import numpy as np
import pytest

from ssb.experiments import Pipeline

TOLERANCE = dict(rtol=0.05, atol=0.02)  # CPU kernels may round differently across machines


@pytest.fixture(scope="module")
def pipeline(smoke, tmp_path_factory, data_dir):
    from ssb.artifacts import ArtifactStore

    return Pipeline(smoke, ArtifactStore(tmp_path_factory.mktemp("regression")), data_dir, progress=False)


def _curves(sweep, metrics=("n_pos", "apt", "diagonal_confidence", "n_predicted")):
    xs = sorted((k for k, v in sweep.items() if isinstance(v, dict) and "apt" in v), key=lambda k: (k == "all", k))
    return {m: np.array([sweep[x][m]["mean"] for x in xs]) for m in metrics}


def test_token_curves(pipeline, num_regression):
    heads = _curves(pipeline.head_table())
    nodes = _curves(pipeline.token_node_sweep())
    num_regression.check({**{f"heads_{k}": v for k, v in heads.items()}}, basename="smoke_token_heads", default_tolerance=TOLERANCE)
    num_regression.check({**{f"nodes_{k}": v for k, v in nodes.items()}}, basename="smoke_token_nodes", default_tolerance=TOLERANCE)


def test_fewrel_curves(pipeline, num_regression):
    result = pipeline.fewrel("finetuned")
    curves = _curves(result["nodes"])
    hull = {f"bound_{n}": np.array(v["bound"], dtype=float) for n, v in result["hull"].items()}
    num_regression.check(curves, basename="smoke_fewrel_nodes", default_tolerance=TOLERANCE)
    num_regression.check(hull, basename="smoke_fewrel_hull", default_tolerance=TOLERANCE)
