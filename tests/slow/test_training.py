"""Training on the smoke profile: records, reuse, resume after interruption, corrupted artifacts."""

import glob
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ssb.artifacts import ArtifactStore
from ssb.config import backbone_key, variant
from ssb.finetune import finetune_fewrel
from ssb.model import build_mlm, head_spread, load_mlm, symmetrize_heads
from ssb.train import Interrupted, pretrain, store_key


def test_pretrain_records_and_reuses(smoke, store, data_dir):
    folder, reused = pretrain(smoke, store, data_dir, progress=False)
    assert not reused and (folder / "model.safetensors").is_file()
    record = json.loads((folder / "record.json").read_text())
    assert record["backbone_key"] == backbone_key(smoke) and record["steps"] == smoke.pretrain.max_steps
    assert record["data"]["sha256"] and 0 <= record["final_eval"]["eval_mlm_accuracy"] <= 1
    assert record["data"]["source"] == smoke.corpus.path  # relative to the data folder, no machine path
    assert 0 <= record["final_eval"]["eval_masked_accuracy"] <= 1  # [MASK] positions only
    log = json.loads((folder / "training_log.json").read_text())
    assert any("eval_mlm_accuracy" in e for e in log) and any("loss" in e for e in log)
    again, reused = pretrain(smoke, store, data_dir, progress=False)
    assert reused and again == folder


def test_warmup_ratio_reaches_the_schedule(smoke, tmp_path, data_dir):
    warm = smoke.replace(pretrain={"warmup_ratio": 0.5, "logging_steps": 1})
    folder, _ = pretrain(warm, ArtifactStore(tmp_path), data_dir, progress=False)
    rates = [e["learning_rate"] for e in json.loads((folder / "training_log.json").read_text()) if "learning_rate" in e]
    peak = rates.index(max(rates))
    assert 0 < peak < len(rates) - 1 and rates[0] < rates[peak] > rates[-1]


def test_an_unpadded_step_trains_another_backbone_to_the_same_loss(smoke, tmp_path, data_dir):
    """``pretrain.attention = "repad"`` trains through ssb/unpadded.py: its own store entry (another key), and
    a training loss near the padded run's (the same model and loss; other dropout draws and float sums)."""
    store = ArtifactStore(tmp_path)
    padded, _ = pretrain(smoke, store, data_dir, progress=False)
    repad = smoke.replace(pretrain={"attention": "repad"})
    unpadded, _ = pretrain(repad, store, data_dir, progress=False)
    assert backbone_key(repad) != backbone_key(smoke) and unpadded != padded

    def train_loss(folder):
        return next(
            e["train_loss"] for e in json.loads((folder / "training_log.json").read_text()) if "train_loss" in e
        )

    assert train_loss(unpadded) == pytest.approx(train_loss(padded), rel=0.02)


def test_interrupted_training_resumes_to_the_same_weights(smoke, tmp_path, data_dir):
    full_store, cut_store = ArtifactStore(tmp_path / "full"), ArtifactStore(tmp_path / "cut")
    full, _ = pretrain(smoke, full_store, data_dir, progress=False)
    with pytest.raises(Interrupted, match="run again to resume"):
        pretrain(smoke, cut_store, data_dir, progress=False, stop_after=smoke.pretrain.save_steps)
    assert list((cut_store.work_dir("backbone", store_key(smoke, cut_store, data_dir))).glob("checkpoint-*"))
    resumed, reused = pretrain(smoke, cut_store, data_dir, progress=False)
    assert not reused
    a, b = load_file(str(full / "model.safetensors")), load_file(str(resumed / "model.safetensors"))
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-6, msg=name)


def test_a_checkpoint_damaged_by_a_kill_during_its_save_is_skipped(smoke, tmp_path, data_dir, capsys):
    import shutil

    full, _ = pretrain(smoke, ArtifactStore(tmp_path / "full"), data_dir, progress=False)
    store = ArtifactStore(tmp_path / "cut")
    with pytest.raises(Interrupted):
        pretrain(smoke, store, data_dir, progress=False, stop_after=smoke.pretrain.save_steps)
    work = store.work_dir("backbone", store_key(smoke, store, data_dir))
    good = work / f"checkpoint-{smoke.pretrain.save_steps}"
    # what a kill during the next save leaves: a newer checkpoint with half its weights and no trainer state
    damaged = work / f"checkpoint-{smoke.pretrain.save_steps + 5}"
    shutil.copytree(good, damaged)
    (damaged / "trainer_state.json").unlink()
    weights = damaged / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:500])
    capsys.readouterr()
    resumed, _ = pretrain(smoke, store, data_dir, progress=False)
    notices = [line for line in capsys.readouterr().err.splitlines() if "is damaged" in line]
    assert notices and notices[0].startswith("[ssb] checkpoint ")  # ssb's own line, not a Python warning
    a, b = load_file(str(full / "model.safetensors")), load_file(str(resumed / "model.safetensors"))
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-6, msg=name)


def test_retrain_starts_over_whatever_checkpoints_remain(smoke, tmp_path, data_dir):
    store = ArtifactStore(tmp_path)
    with pytest.raises(Interrupted):
        pretrain(smoke, store, data_dir, progress=False, stop_after=smoke.pretrain.save_steps)
    work = store.work_dir("backbone", store_key(smoke, store, data_dir))
    for ckpt in work.glob("checkpoint-*"):
        (ckpt / "trainer_state.json").write_text("{ damaged")
    folder, reused = pretrain(smoke, store, data_dir, progress=False, force=True)
    assert not reused and json.loads((folder / "record.json").read_text())["steps"] == smoke.pretrain.max_steps


def test_corrupted_artifact_is_detected_and_rebuilt(smoke, tmp_path, data_dir, capsys):
    store = ArtifactStore(tmp_path / "s")
    folder, _ = pretrain(smoke, store, data_dir, progress=False)
    weights = folder / "model.safetensors"
    original = {k: v.clone() for k, v in load_file(str(weights)).items()}  # a copy: the file is truncated below
    weights.write_bytes(weights.read_bytes()[:1000])  # truncated
    capsys.readouterr()
    rebuilt, reused = pretrain(smoke, store, data_dir, progress=False)
    err = capsys.readouterr().err
    assert not reused and "[ssb] artifact backbone/" in err and "is corrupted and will be rebuilt" in err
    again = load_file(str(rebuilt / "model.safetensors"))  # the same seed retrains the same weights
    assert again.keys() == original.keys()
    for name in original:
        torch.testing.assert_close(again[name], original[name], rtol=0, atol=1e-6, msg=name)


@pytest.mark.parametrize("attention_dropout, identical", [(0.0, True), (0.1, False)])
def test_symmetric_heads_stay_identical_only_without_attention_dropout(
    smoke, tmp_path, data_dir, attention_dropout, identical
):
    # hidden dropout stays on (0.1): it does not break the symmetry; attention dropout does
    profile = variant(smoke, "symmetric").replace(
        backbone={"attention_dropout": attention_dropout, "hidden_dropout": 0.1}
    )
    model = build_mlm(profile.backbone, 400)
    assert head_spread(model) == 0.0
    folder, _ = pretrain(profile, ArtifactStore(tmp_path), data_dir, progress=False)
    spread = head_spread(load_mlm(folder))
    assert (spread <= 1e-6) if identical else (spread > 1e-4), spread


def test_symmetrize_copies_head_zero():
    from ssb.config import BackboneConfig

    model = build_mlm(BackboneConfig(n_layers=1, hidden=16, n_heads=4, intermediate=8, max_len=8), 30)
    assert head_spread(model) > 0
    symmetrize_heads(model)
    assert head_spread(model) == 0.0


def test_fewrel_finetune(smoke, store, data_dir):
    backbone, _ = pretrain(smoke, store, data_dir, progress=False)
    folder, reused = finetune_fewrel(smoke, backbone, store, data_dir, backbone_id="b", progress=False)
    record = json.loads((folder / "record.json").read_text())
    assert not reused and len(record["relations"]) == smoke.fewrel.n_relations
    assert record["n_train"] == 6 * 20 and record["n_test"] == 6 * 10 and 0 <= record["eval"]["eval_accuracy"] <= 1
    assert finetune_fewrel(smoke, backbone, store, data_dir, backbone_id="b", progress=False)[1]


def test_ctrl_c_during_training_is_one_line_and_the_same_command_resumes(tmp_path, data_dir):
    """A real SIGINT to `ssb train`: exit 2 with one line, the checkpoints kept, the next run resumes."""
    profile = tmp_path / "long.toml"
    smoke_toml = Path(__file__).resolve().parents[2] / "ssb" / "profiles" / "smoke.toml"
    profile.write_text(smoke_toml.read_text().replace("max_steps = 20", "max_steps = 60"))
    command = [sys.executable, "-m", "ssb.cli", "train", "--profile", str(profile), "--data-dir", str(data_dir)]
    command += ["--cache-dir", str(tmp_path / "c"), "--quiet"]
    run = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a background job starts with it ignored
    )
    deadline = time.time() + 300
    while not glob.glob(str(tmp_path / "c" / "backbone" / "*.partial" / "checkpoint-10")):
        assert time.time() < deadline and run.poll() is None, "no checkpoint was written"
        time.sleep(0.1)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("ssb: interrupted; finished artifacts and training checkpoints")
    again = subprocess.run(command[:-1], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "resuming from" in again.stdout + again.stderr
