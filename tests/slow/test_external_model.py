"""--model DIR: keys cover the folder's config, tokenizer and weights; a config that does not fit the weights
is one clear error, not transformers' table of mismatched keys."""

import json
import shutil

import pytest

from ssb.artifacts import ArtifactStore
from ssb.experiments import Pipeline
from ssb.model import CheckpointError, load_mlm
from ssb.train import pretrain


@pytest.fixture()
def store(tmp_path):
    """A store of this module's own: the session store's tests expect to train the smoke backbone first."""
    return ArtifactStore(tmp_path / "store")


@pytest.fixture()
def external(smoke, store, data_dir, tmp_path):
    trained, _ = pretrain(smoke, store, data_dir, progress=False)
    folder = tmp_path / "external"
    shutil.copytree(trained, folder, ignore=shutil.ignore_patterns("record.json", "training_log.json", "manifest.json"))
    return folder


def test_the_key_covers_the_config_beside_the_weights(smoke, store, data_dir, external):
    key = Pipeline(smoke, store, data_dir, model_dir=external, progress=False).backbone()[1]
    config = json.loads((external / "config.json").read_text())
    config["hidden_dropout_prob"] = 0.3  # same weights, another config
    (external / "config.json").write_text(json.dumps(config))
    assert Pipeline(smoke, store, data_dir, model_dir=external, progress=False).backbone()[1] != key


def test_weights_that_do_not_fit_the_config_are_one_error(external):
    config = json.loads((external / "config.json").read_text())
    config["hidden_size"] *= 2
    (external / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="the weights do not load with its config.json") as err:
        load_mlm(external)
    assert "\n" not in str(err.value)


def test_reproduce_reports_the_model_with_its_figures(external, data_dir, tmp_path):
    from ssb.cli import main

    out = tmp_path / "report"
    common = ["--profile", "smoke", "--data-dir", str(data_dir), "--cache-dir", str(tmp_path / "cache"), "--quiet"]
    assert main(["reproduce", *common, "--model", str(external), "--out", str(out)]) == 0
    payload = json.loads((out / "report.json").read_text())
    rows = payload["extra"][str(external)]
    assert any(r["outcome"] == "pass" for r in rows) and any(r["outcome"] == "skipped" for r in rows)
    assert (out / "model0-fig3_heads.png").is_file() and (out / "model0-fig6_hull.png").is_file()
    assert "model0-fig4_pretrain_nodes.png" in (out / "report.md").read_text()
