"""Regression baselines of the smoke profile's metric curves and probe training (pytest-regressions).

A change to training or evaluation code that moves these numbers fails here until the baselines are
regenerated on purpose: ``pytest tests/slow/test_regression.py --force-regen`` (then commit the .csv).
Each table has its x column first (heads kept, nodes kept, epoch, subset), in numeric order; the probe
losses and all-node accuracies move with any change to training, where the few-token curves of a smoke
backbone may not.
"""

import numpy as np
import pytest
import transformers

from ssb.pipeline import Pipeline

TOLERANCE = dict(rtol=1e-4, atol=1e-6)  # what CPU rounding needs: two cold stores agree exactly here
# training numerics differ between transformers majors (initialisation, Trainer), so each has its baselines
MAJOR = "" if int(transformers.__version__.split(".")[0]) >= 5 else "_tf4"
METRICS = ("n_pos", "apt", "diagonal_confidence", "n_predicted", "accuracy")


@pytest.fixture(scope="module")
def pipeline(smoke, tmp_path_factory, data_dir):
    from ssb.artifacts import ArtifactStore

    return Pipeline(smoke, ArtifactStore(tmp_path_factory.mktemp("regression")), data_dir, progress=False)


def _table(sweep, x_name, n_heads=None):
    xs = sorted(
        (k for k, v in sweep.items() if isinstance(v, dict) and "apt" in v),
        key=lambda k: n_heads if k == "all" else int(k),
    )
    table = {x_name: np.array([n_heads if x == "all" else int(x) for x in xs], dtype=float)}
    table.update({m: np.array([sweep[x][m]["mean"] for x in xs]) for m in METRICS})
    return table


def test_token_curves(pipeline, num_regression, smoke):
    num_regression.check(
        _table(pipeline.head_table(), "heads_kept", smoke.backbone.n_heads),
        basename=f"smoke_token_heads{MAJOR}",
        default_tolerance=TOLERANCE,
    )
    num_regression.check(
        _table(pipeline.token_node_sweep(), "nodes_kept"),
        basename=f"smoke_token_nodes{MAJOR}",
        default_tolerance=TOLERANCE,
    )
    _, key = pipeline.token_probe()
    losses = pipeline.store.meta("token-probe", key)["losses"]
    num_regression.check(
        {"epoch": np.arange(1, len(losses) + 1, dtype=float), "token_probe_loss": np.array(losses)},
        basename=f"smoke_token_probe{MAJOR}",
        default_tolerance=TOLERANCE,
    )


def test_fewrel_curves(pipeline, num_regression):
    result = pipeline.fewrel("reference")
    num_regression.check(
        _table(result["nodes"], "nodes_kept"), basename=f"smoke_fewrel_nodes{MAJOR}", default_tolerance=TOLERANCE
    )
    longest = max(len(v["bound"]) for v in result["hull"].values())
    hull = {"subset": np.arange(longest, dtype=float)}
    for n, v in result["hull"].items():
        for name in ("bound", "n_pos"):
            column = np.full(longest, np.nan)
            column[: len(v[name])] = v[name]
            hull[f"{name}_{n}_nodes"] = column
    num_regression.check(hull, basename=f"smoke_fewrel_hull{MAJOR}", default_tolerance=TOLERANCE)
