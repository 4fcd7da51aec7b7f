"""Pre-training and FewRel fine-tuning under torchrun: two CPU processes over gloo train one smoke
backbone together (the Trainer's DDP), then fine-tune it; rank 0 alone stores each, with one record, and
the backbone loads and runs."""

import json
import os
import socket
import subprocess
import sys

import torch

from ssb.model import load_mlm


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FINETUNE = r"""
import sys
from pathlib import Path
from ssb.artifacts import ArtifactStore
from ssb.config import load_profile
from ssb.experiments.fewrel import fewrel_model
from ssb.pipeline import Pipeline

profile = load_profile("smoke").replace(runtime={"device": "cpu"})
pl = Pipeline(profile, ArtifactStore(Path(sys.argv[1])), Path(sys.argv[2]), progress=False)
sys.stdout.write(f"fewrel classifier {fewrel_model(pl)[0]}\n")  # one write: the two ranks share stdout
"""


def _torchrun(tmp_path, *args):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
               str(_free_port()), *args]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)


def test_smoke_training_on_two_processes_over_gloo(data_dir, tmp_path):
    cache = tmp_path / "cache"
    done = _torchrun(tmp_path, "-m", "ssb.cli", "train", "--profile", "smoke", "--data-dir", str(data_dir),
                     "--cache-dir", str(cache), "--device", "cpu", "--quiet")  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    records = list((tmp_path / "cache" / "backbone").glob("*/record.json"))
    assert len(records) == 1  # one backbone, stored once
    record = json.loads(records[0].read_text())
    assert record["processes"] == 2 and record["steps"] == 20
    model = load_mlm(records[0].parent).eval()
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([[2, 5, 6, 3]])).logits  # [1, 4, vocab]
    assert logits.shape[:2] == (1, 4) and torch.isfinite(logits).all()
    # counted in the whole output: the two processes' lines can interleave within one line of the pipe
    notices = done.stdout.count("[ssb] backbone (smoke, reference): pre-training")
    assert notices == 1  # announced once, by rank 0
    assert done.stdout.count("backbone (smoke, reference)") - notices == 2  # both end with the stored backbone
    (tmp_path / "finetune.py").write_text(FINETUNE)
    tuned = _torchrun(tmp_path, str(tmp_path / "finetune.py"), str(cache), str(data_dir))
    assert tuned.returncode == 0, tuned.stdout[-3000:] + tuned.stderr[-3000:]
    classifiers = list((cache / "fewrel").glob("*/record.json"))
    assert len(classifiers) == 1 and json.loads(classifiers[0].read_text())["epochs"] > 0
    assert tuned.stdout.count(f"fewrel classifier {classifiers[0].parent}") == 2
