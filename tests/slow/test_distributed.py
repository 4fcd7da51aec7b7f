"""Pre-training under torchrun: two CPU processes over gloo train one smoke backbone together (the
Trainer's DDP); rank 0 alone stores it, with one record, and it loads and runs."""

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


def test_smoke_pretraining_on_two_processes_over_gloo(data_dir, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
               str(_free_port()), "-m", "ssb.cli", "train", "--profile", "smoke", "--data-dir", str(data_dir),
               "--cache-dir", str(tmp_path / "cache"), "--device", "cpu", "--quiet"]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    records = list((tmp_path / "cache" / "backbone").glob("*/record.json"))
    assert len(records) == 1  # one backbone, stored once
    record = json.loads(records[0].read_text())
    assert record["processes"] == 2 and record["steps"] == 20
    model = load_mlm(records[0].parent).eval()
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([[2, 5, 6, 3]])).logits  # [1, 4, vocab]
    assert logits.shape[:2] == (1, 4) and torch.isfinite(logits).all()
    assert done.stdout.count("backbone (smoke, reference)") == 2  # both processes end with the stored backbone
