"""Benchmark training and extraction: ssb's pre-training against a plain HF Trainer, and feature extraction.

    python benchmarks/training.py [--profile cpu] [--steps 60]

Measures, on the profile's backbone shape and real paragraphs from ``SSB_DATA_DIR``:
- MLM pre-training tokens/s through ``ssb.train.pretrain`` and through a plain ``Trainer`` with
  ``DataCollatorForLanguageModeling`` on the same model, data and batch size (goal: no slower);
- evaluation extraction (one token masked at a time) in masked positions per second;
- [CLS] extraction in sentences per second.
Then it extrapolates the paper profile's cost from the per-token FLOPs ratio of the two shapes.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from transformers import DataCollatorForLanguageModeling, Trainer

from ssb.artifacts import ArtifactStore
from ssb.config import load_profile
from ssb.data import load_paragraphs
from ssb.features import one_at_a_time
from ssb.model import build_mlm
from ssb.paths import data_dir
from ssb.tokenizer import load_tokenizer
from ssb.train import _tokenize, pretrain, tokenizer_artifact, training_arguments


def encoder_flops_per_token(hidden: int, layers: int, intermediate: int, seq: int, vocab: int) -> float:
    """Forward + backward FLOPs per token (3x forward): attention projections, FFN, scores, decoder."""
    per_layer = 2 * (4 * hidden * hidden + 2 * hidden * intermediate + 2 * seq * hidden)
    return 3 * (layers * per_layer + 2 * hidden * vocab)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    profile = load_profile(args.profile)
    out: dict = {"profile": profile.name, "threads": torch.get_num_threads(), "steps": args.steps}
    with tempfile.TemporaryDirectory() as tmp:
        store = ArtifactStore(Path(tmp))
        short = profile.replace(
            corpus={"n_train": 4000},
            pretrain={"max_steps": args.steps, "eval_steps": 0, "save_steps": 10**6, "logging_steps": 10**6},
        )
        tok_dir = tokenizer_artifact(short, store, data_dir())
        tokenizer = load_tokenizer(tok_dir)
        paragraphs = load_paragraphs(short.corpus, data_dir())
        train_set = _tokenize(tokenizer, paragraphs.train, short.backbone.max_len)
        tokens_per_step = sum(train_set["length"]) / len(train_set) * short.pretrain.batch_size

        started = time.perf_counter()
        pretrain(short, store, data_dir(), progress=False)
        ours = time.perf_counter() - started

        model = build_mlm(short.backbone, len(tokenizer), tokenizer.pad_token_id)
        targs = training_arguments(
            Path(tmp) / "plain",
            epochs=1,
            max_steps=args.steps,
            lr=short.pretrain.lr,
            weight_decay=short.pretrain.weight_decay,
            batch_size=short.pretrain.batch_size,
            seed=0,
            save_steps=10**6,
            logging_steps=10**6,
            eval_steps=0,
            progress=False,
            group_by_length=False,
        )
        plain = Trainer(
            model=model,
            args=targs,
            train_dataset=train_set,
            data_collator=DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15),
        )
        started = time.perf_counter()
        plain.train()
        baseline = time.perf_counter() - started
        # ours includes data loading, tokenizer and evaluation; report both honestly
        out["pretrain_ssb_s"] = ours
        out["pretrain_plain_trainer_s"] = baseline
        out["tokens_per_step_mean"] = tokens_per_step
        out["plain_trainer_tokens_per_s"] = tokens_per_step * args.steps / baseline
        out["ssb_tokens_per_s_including_setup"] = tokens_per_step * args.steps / ours

        valid = paragraphs.valid[:60]
        _, ids, rate, _ = one_at_a_time(
            model.eval(), tokenizer, valid, (profile.probe.layer,), short.backbone.max_len, progress=False
        )
        out["eval_extraction_masked_positions_per_s"] = rate

    b, p = profile.backbone, load_profile("paper").backbone
    ratio = encoder_flops_per_token(p.hidden, p.n_layers, p.intermediate, p.max_len, 30522) / encoder_flops_per_token(
        b.hidden, b.n_layers, b.intermediate, b.max_len, profile.tokenizer.vocab_size
    )
    paper_tokens = 90_000 * 128 * 50  # paragraphs x padded length x epochs (upper bound: padding counted)
    out["paper_flops_ratio_per_token"] = ratio
    out["paper_pretrain_estimate_cpu_hours"] = paper_tokens / (out["plain_trainer_tokens_per_s"] / ratio) / 3600
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
