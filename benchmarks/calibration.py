"""How close is a time budget's calibration to the pre-training it plans? Measured on this machine.

    python benchmarks/calibration.py [--profile cpu] [--steps 51] [--reps 3] [--device cpu] [--json calibration.json]

In one process, ``--reps`` times: ``ssb.train.calibrate`` (one warm-up step, then steps whose batches are formed
as pre-training's), then ``--steps`` steps of the profile's real pre-training (the Trainer's length-grouped
batches over the whole training corpus, a fresh model each time, nothing stored), timed after the first step.
The default covers one of the Trainer's length-grouped megabatches (50 batches, longest first), so that the
training's mean step is over batches of every length. Each repetition prints the calibrated step, the
training's mean step and their ratio (#38 asks for a ratio within 10 % of 1); alternating the two in one
process keeps a machine whose speed drifts from minute to minute from deciding the ratio alone.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
from pathlib import Path

import numpy as np
import torch
from transformers import Trainer

from ssb.artifacts import ArtifactStore
from ssb.config import load_profile
from ssb.device import runtime_for
from ssb.model import build_mlm
from ssb.paths import data_dir
from ssb.train import (
    StepTimer,
    _mlm_collators,
    _reader,
    _tokenize,
    calibrate,
    load_tokenizer,
    tokenizer_artifact,
    training_arguments,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--steps", type=int, default=51, help="pre-training steps per repetition (the first untimed)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    profile = load_profile(args.profile)
    profile = profile.replace(runtime={"device": args.device})
    runtime = runtime_for(profile.runtime)
    runtime.apply()
    bb, pt = profile.backbone, profile.pretrain
    out: dict = {
        "profile": profile.name,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
        "device": args.device,
        "batch_size": pt.batch_size,
        "reps": [],
    }
    with tempfile.TemporaryDirectory(prefix="ssb-calibration-bench-") as tmp:
        store = ArtifactStore(Path(tmp) / "store")
        read = _reader(None, data_dir())
        tokenizer = load_tokenizer(tokenizer_artifact(profile, store, data_dir(), read))
        train_set = _tokenize(tokenizer, read(profile.corpus).train, bb.max_len)  # what pre-training trains on
        _, collator = _mlm_collators(tokenizer, pt.mlm_probability, runtime)
        for rep in range(args.reps):
            calibrated = calibrate(profile, store, data_dir(), runtime, paragraphs=read)
            torch.manual_seed(bb.seed)
            model = build_mlm(bb, len(tokenizer), tokenizer.pad_token_id, sparse=True, attention=pt.attention)
            timer = StepTimer()
            work = Path(tmp) / f"train-{rep}"
            training = training_arguments(
                work,
                epochs=1.0,
                max_steps=args.steps,
                lr=pt.lr,
                weight_decay=pt.weight_decay,
                batch_size=pt.batch_size,
                seed=bb.seed + rep,
                save_steps=10**9,
                logging_steps=10**9,
                eval_steps=0,
                progress=False,
                group_by_length=True,
                runtime=runtime,
            )  # fmt: skip  (another seed each repetition: another megabatch)
            training.save_strategy = "no"
            Trainer(
                model=model, args=training, data_collator=collator, train_dataset=train_set, callbacks=[timer]
            ).train()
            trained = float(np.diff(timer.ends).mean())  # after the first step, as the calibration
            row = {
                "calibrated_s_per_step": round(calibrated["s_per_step"], 4),
                "calibration_positions_per_step": calibrated["positions_per_step"],
                "training_s_per_step": round(trained, 4),
                "ratio": round(calibrated["s_per_step"] / trained, 3),
            }
            out["reps"].append(row)
            print(f"[calibration benchmark] {profile.name} {rep + 1}/{args.reps}: {json.dumps(row)}", flush=True)
    ratios = [r["ratio"] for r in out["reps"]]
    out["ratio_median"] = float(np.median(ratios))
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
