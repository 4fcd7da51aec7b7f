"""--model DIR: keys cover the folder's config, tokenizer and weights; a config that does not fit the weights
is one clear error, not transformers' table of mismatched keys."""

import json
import shutil
from pathlib import Path

import pytest
from transformers import BertForMaskedLM

import ssb
from ssb.artifacts import ArtifactStore
from ssb.config import ConfigError
from ssb.model import CheckpointError, load_mlm
from ssb.pipeline import Pipeline
from ssb.tokenizer import load_tokenizer
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
    assert main(["reproduce", *common, "--model", str(external), "--with-reference", "--out", str(out)]) == 0
    payload = json.loads((out / "report.json").read_text())
    assert payload["environment"]["ssb"] == ssb.__version__ and payload["environment"]["device"]
    assert payload["machine_speed"]["fp32_matmul_gflops"] > 0  # the rate the timings were taken at, shown beside them
    assert "GFLOP/s" in (out / "report.md").read_text().split("## Timings")[1]
    rows = payload["extra"][str(external)]
    assert any(r["outcome"] == "pass" for r in rows) and any(r["outcome"] == "skipped" for r in rows)
    assert (out / "model0-fig3_heads.png").is_file() and (out / "model0-fig6_hull.png").is_file()
    assert "model0-fig4_pretrain_nodes.png" in (out / "report.md").read_text()


def test_reproduce_of_a_model_is_about_that_model_alone(external, data_dir, tmp_path, capsys):
    """#33: `reproduce --model` also trained and judged the profile's backbone, and its exit status and summary
    were that backbone's. Now the model named is the report, the summary and the status; nothing of the
    profile's own backbone is built."""
    from ssb.cli import main

    cache, out = tmp_path / "cache", tmp_path / "report"
    common = ["--profile", "smoke", "--data-dir", str(data_dir), "--cache-dir", str(cache), "--quiet"]
    code = main(["reproduce", *common, "--model", str(external), "--out", str(out)])
    printed = capsys.readouterr().out
    payload = json.loads((out / "report.json").read_text())
    summary = [line for line in printed.splitlines() if line.startswith(f"{external}: ")]
    assert code in (0, 1) and len(summary) == 1 and "claims, checks:" in summary[0] and payload["extra"] == {}
    assert f"model `{external}`" in (out / "report.md").read_text()
    assert not (cache / "backbone").exists()  # the profile's backbone was neither trained nor read
    assert main(["claims", *common, "--model", str(external), "--json"]) == code
    rows = json.loads(capsys.readouterr().out)
    assert [r["check"] for r in rows["checks"]] == [r["check"] for r in payload["checks"]]


def test_new_weights_under_the_same_config_re_key_everything_downstream(smoke, store, data_dir):
    """--retrain, or a new committed reference: same config hash, other weights -> other downstream keys."""
    from safetensors.torch import load_file, save_file

    from ssb.artifacts import write_manifest

    pl = Pipeline(smoke, store, data_dir, progress=False)
    folder, before = pl.backbone()
    features_before = pl._features_key("reference", "valid")
    weights = {k: v.clone() for k, v in load_file(str(folder / "model.safetensors")).items()}
    name = next(iter(weights))
    weights[name] = weights[name] + 1e-3  # what a retraining with other numerics would leave
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    write_manifest(folder, json.loads((folder / "manifest.json").read_text())["meta"])
    again = Pipeline(smoke, store, data_dir, progress=False)
    assert again.backbone()[1] != before and again._features_key("reference", "valid") != features_before


def test_quiet_prints_no_loss_dicts_or_loading_bars(data_dir, tmp_path, capfd):
    from ssb.cli import main

    common = ["--profile", "smoke", "--data-dir", str(data_dir), "--cache-dir", str(tmp_path / "c"), "--quiet"]
    assert main(["train", *common]) == 0
    out, err = capfd.readouterr()
    assert "'loss'" not in out and "Loading weights" not in err and "Writing model" not in err, (out, err)
    notice, result = out.strip().splitlines()  # what it is about to train, then where it is
    assert notice.startswith("[ssb] backbone (smoke, reference): pre-training 20 steps")
    assert result.startswith("backbone (smoke, reference)")


def test_training_shows_one_labelled_bar_and_logs_its_losses_to_a_file(data_dir, tmp_path, capfd):
    """#33: the Trainer's bars were unlabelled and its loss dicts went to stdout between the results."""
    from ssb.cli import main

    cache = tmp_path / "c"
    assert main(["train", "--profile", "smoke", "--data-dir", str(data_dir), "--cache-dir", str(cache)]) == 0
    out, err = capfd.readouterr()
    assert "'loss'" not in out + err and "pre-training the smoke backbone: 100%" in err.replace("\r", "\n")
    (log,) = cache.glob("backbone/*/training_log.json")  # the losses, kept with the backbone
    assert any("loss" in row for row in json.loads(log.read_text()))


def test_an_in_memory_model_is_analysed_as_its_folder_is(data_dir, external, tmp_path):
    """``ssb.analyze(model, tokenizer)``: a notebook's model object is written once into the store, keyed by
    its weights, and gives the tables its folder gives."""
    kwargs = dict(data_dir=data_dir, cache_dir=tmp_path / "analysed")
    by_folder = ssb.analyze(external, profile="smoke", **kwargs)
    model, tokenizer = BertForMaskedLM.from_pretrained(str(external), use_safetensors=True), load_tokenizer(external)
    in_memory = ssb.analyze(model, tokenizer, profile="smoke", **kwargs)
    assert in_memory.tables() == by_folder.tables()
    assert Path(in_memory.model).parent == tmp_path / "analysed" / "user-models"
    assert ssb.api.pipeline("smoke", model, tokenizer=tokenizer, **kwargs).model_dir == Path(in_memory.model)
    with pytest.raises(CheckpointError, match="needs its tokenizer too"):
        ssb.analyze(model, profile="smoke", **kwargs)
    with pytest.raises(ConfigError, match="goes with an in-memory model"):
        ssb.analyze(external, tokenizer, profile="smoke", **kwargs)
