"""Padded against unpadded masked-LM training steps at a profile's shapes, on real paragraphs (issue #38).

    python benchmarks/unpadded.py [--profile cpu] [--device auto] [--batch 128] [--steps 10] [--json out.json]

The batches are the profile's: its committed tokenizer (``ssb/reference/<profile>/reference``), its corpus
(``SSB_DATA_DIR``), its ``max_len`` and pre-training batch, the collator's 15 % masking, each batch padded to
its longest paragraph as the Trainer's collator pads on a CPU. Per step: forward,
backward and an AdamW step of a freshly built ``SparseBertForMaskedLM`` (the padded path the Trainer runs)
and of the same weights through ``ssb.unpadded.mlm_loss`` with each of its attentions (nested jagged tensors;
repadded for attention alone), timed after two warm-up steps, alternating the paths so that drift on a
shared machine hits all of them. It prints, and writes with ``--json``: steps/s and real tokens/s of each,
the share of the positions that are padding, and each unpadded path's speed-up. The unpadded paths save at
most the padding's share of the work.
"""

from __future__ import annotations

import argparse
import json
import time
from importlib import resources
from pathlib import Path

import torch
from transformers import DataCollatorForLanguageModeling

from ssb.config import load_profile
from ssb.data import load_paragraphs
from ssb.device import runtime_for
from ssb.model import build_mlm
from ssb.paths import data_dir
from ssb.tokenizer import load_tokenizer
from ssb.train import _tokenize
from ssb.unpadded import mlm_loss


def _batches(profile, batch: int, n_batches: int, seed: int = 0) -> tuple[list[dict[str, torch.Tensor]], int]:
    folder = Path(str(resources.files("ssb") / "reference" / profile.name / "reference"))
    tokenizer = load_tokenizer(folder)
    texts = load_paragraphs(profile.corpus, data_dir()).train[: batch * n_batches]
    rows = _tokenize(tokenizer, texts, profile.backbone.max_len)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, return_tensors="pt")
    torch.manual_seed(seed)
    out = []
    for b in range(n_batches):
        chunk = [
            {"input_ids": rows[i]["input_ids"], "special_tokens_mask": rows[i]["special_tokens_mask"]}
            for i in range(b * batch, (b + 1) * batch)
        ]
        out.append(collator(chunk))  # input_ids, attention_mask, labels: [batch, longest]
    return out, len(tokenizer)


PATHS = ("padded", "nested", "repad")  # the Trainer's padded forward; ssb.unpadded's two attentions


def _step(model, optimizer, batch: dict[str, torch.Tensor], path: str, device: torch.device) -> None:
    ids, mask, labels = (batch[k].to(device) for k in ("input_ids", "attention_mask", "labels"))
    if path != "padded":
        loss = mlm_loss(model, ids, mask, labels, attention=path)
    else:
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch", type=int, default=0, help="default: the profile's pre-training batch")
    parser.add_argument("--steps", type=int, default=10, help="timed steps of each path")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    profile = load_profile(args.profile)
    device = runtime_for(profile.replace(runtime={"device": args.device}).runtime).torch_device
    batch = args.batch or profile.pretrain.batch_size
    print(f"preparing {args.steps + 2} batches of {batch} paragraphs at profile {profile.name!r} ...", flush=True)
    batches, vocab = _batches(profile, batch, args.steps + 2)
    models = {}
    for path in PATHS:
        model = build_mlm(profile.backbone, vocab, sparse=True).to(device).train()  # the same seed: same weights
        models[path] = (model, torch.optim.AdamW(model.parameters(), lr=1e-4))
    seconds = dict.fromkeys(PATHS, 0.0)
    for k, b in enumerate(batches):
        for path in PATHS:
            start = time.perf_counter()
            _step(*models[path], b, path, device)
            if k >= 2:  # two warm-up steps
                seconds[path] += time.perf_counter() - start
        print(f"  step {k + 1}/{len(batches)}", flush=True)
    timed = batches[2:]
    real = sum(int(b["attention_mask"].sum()) for b in timed)
    positions = sum(b["attention_mask"].numel() for b in timed)
    out = {
        "profile": profile.name,
        "device": str(device),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "batch": batch,
        "steps": len(timed),
        "padding_share": round(1 - real / positions, 3),
        "mean_real_tokens": round(real / (len(timed) * batch), 1),
        **{f"{path}_steps_per_s": round(len(timed) / seconds[path], 3) for path in PATHS},
        **{f"{path}_real_tokens_per_s": round(real / seconds[path]) for path in PATHS},
        **{f"{path}_speedup": round(seconds["padded"] / seconds[path], 3) for path in PATHS[1:]},
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
