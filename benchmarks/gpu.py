"""Benchmark every stage on a device (a GPU where there is one): the figures of the README's GPU table.

    python benchmarks/gpu.py [--device auto] [--shapes cpu,paper-fast] [--batches 32,256] [--steps 300]
                             [--paths padded,repad,nested,repad+compile] [--stages pretrain,extraction,probe,sweep]
                             [--peak-tflops 989] [--quick] [--json out.json]

For each profile shape in ``--shapes`` (the backbone, vocabulary and sequence length of that profile):
- pre-training through ``ssb.train.pretrain`` with the profile's runtime resolved on this machine (bf16,
  fused AdamW and data-loader workers on a GPU): optimiser steps/s, real (unpadded) tokens/s, and achieved
  TFLOP/s from the model FLOPs per real token (forward + backward: 3x the forward's matrix products; the
  vocabulary projection only at the 15 % labelled positions, as ``SparseBertForMaskedLM`` does), with
  the fraction of ``--peak-tflops`` (default: the dense bf16 peak of a known GPU, else none: MFU on real
  tokens). The time is the Trainer's whole run of ``--steps`` steps, start-up included: a lower bound on the
  steady rate. Each path of ``--paths`` is one such run, side by side on the same paragraphs: ``padded`` (the
  HF model's forward over the padded batch), ``repad`` and ``nested`` (``[pretrain] attention``: the real
  tokens only, ``ssb/unpadded.py``), each with ``+compile`` for ``torch.compile``; a path given twice
  measures the drift between its runs. Beside them, the share of the padded batches' positions that is
  padding (the work unpadding can save), from the paragraphs' lengths batched as pre-training batches them
  (grouped by length);
- extraction, one token masked at a time over validation paragraphs: masked positions/s;
- the token probe (``[hidden] -> [hidden] -> [vocab]``) on random features: optimiser steps/s and
  positions/s at the profile's probe batch, and the time one epoch of the profile's training positions takes;
- the token sweep: subsets/s of the batched masked arg-max on ``[20,000, hidden]`` random features, with
  the chunks planned for the device, and the single-node rate.
Peak GPU memory is reported per stage. ``--quick`` shrinks every stage (a CPU check that the script runs;
on a CPU it pre-trains at the smallest batch alone, divided by ``QUICK_CPU_BATCH_DIVISOR``: 4 steps of batch
256 at the paper's shapes take ~6 minutes on two cores, any batch runs the same code, and the check needs the
code path, not the figure; and it reads ``QUICK_CPU_PARAGRAPHS`` held-out paragraphs, in the evaluation that
ends pre-training and in the extraction: 200 and 8 of them at the paper's shapes took 46 s and 41 s there).
Real paragraphs come from ``SSB_DATA_DIR``; the paper's vocabulary needs the ``minilm`` extra.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ssb import aperture
from ssb.artifacts import ArtifactStore
from ssb.config import load_profile
from ssb.data import load_paragraphs
from ssb.device import runtime_for
from ssb.features import one_at_a_time
from ssb.model import build_mlm, load_mlm
from ssb.paths import data_dir
from ssb.probe import TokenHead, fit
from ssb.sections import HeadRecipe
from ssb.tokenizer import load_tokenizer
from ssb.train import _tokenize, pad_multiple, pretrain, tokenizer_artifact

STAGES = ("pretrain", "extraction", "probe", "sweep")
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense, SXM parts
QUICK_CPU_BATCH_DIVISOR = 8  # --quick on a CPU: the smallest batch alone, 32 -> 4
QUICK_CPU_PARAGRAPHS = 2  # --quick on a CPU: held-out paragraphs of the pre-training's evaluation and the extraction


def pretrain_flops_per_token(hidden: int, layers: int, intermediate: int, mean_len: float, vocab: int) -> float:
    """Model FLOPs of one real token through MLM training (forward + backward = 3x forward): per layer the
    Q, K, V and output projections, the feed-forward, and scores and context over ``mean_len`` keys; the
    decoder (transform and vocabulary) at 15 % of the tokens."""
    per_layer = 2 * (4 * hidden * hidden + 2 * hidden * intermediate + 2 * mean_len * hidden)
    decoder = 2 * (hidden * hidden + hidden * vocab) * 0.15
    return 3 * (layers * per_layer + decoder)


def _peak_memory_gib(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    value = torch.cuda.max_memory_allocated(device) / 2**30
    torch.cuda.reset_peak_memory_stats(device)
    return round(value, 2)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


PATHS = ("padded", "repad", "nested")  # [pretrain] attention; a path may add "+compile"


def parse_path(path: str) -> tuple[str, bool]:
    """``"repad+compile"`` -> ``("repad", True)``: the attention of ``[pretrain]`` and whether to compile."""
    attention, _, extra = path.partition("+")
    if attention not in PATHS or extra not in ("", "compile"):
        raise SystemExit(f"--paths: {path!r} is not one of {', '.join(PATHS)}, each optionally with +compile")
    return attention, extra == "compile"


def padding_share(lengths: np.ndarray, batch: int, multiple: int = 1, seed: int = 0) -> float:
    """The share of a padded batch's positions that is padding, over one epoch of ``lengths`` batched as
    pre-training batches them: ``group_by_length`` (transformers' own ``get_length_grouped_indices``: a random
    order cut into megabatches, each sorted by length), each batch padded to its longest paragraph, rounded up
    to ``multiple`` (``ssb.train.pad_multiple``, as its collator pads)."""
    from transformers.trainer_pt_utils import get_length_grouped_indices

    order = np.asarray(
        get_length_grouped_indices(lengths.tolist(), batch, generator=torch.Generator().manual_seed(seed))
    )
    real = padded = 0
    for start in range(0, len(order), batch):
        chunk = lengths[order[start : start + batch]]
        real, padded = real + int(chunk.sum()), padded + -(-int(chunk.max()) // multiple) * multiple * len(chunk)
    return 1 - real / padded


def bench_pretrain(
    profile,
    runtime,
    batch: int,
    steps: int,
    n_train: int,
    peak: float | None,
    n_valid: int = 200,
    path: str = "padded",
) -> dict:
    attention, compiled = parse_path(path)
    short = profile.replace(
        corpus={"n_train": n_train, "n_valid": n_valid},
        pretrain={
            "max_steps": steps,
            "batch_size": batch,
            "eval_steps": 0,
            "save_steps": 10**6,
            "logging_steps": 10**6,
            "attention": attention,
        },
    )
    runtime = dataclasses.replace(runtime, compile=compiled)  # as the path says, whatever the profile's
    with tempfile.TemporaryDirectory() as tmp:
        store = ArtifactStore(Path(tmp))
        tokenizer = load_tokenizer(tokenizer_artifact(short, store, data_dir()))
        lengths = _tokenize(tokenizer, load_paragraphs(short.corpus, data_dir()).train, short.backbone.max_len)[
            "length"
        ]
        folder, _ = pretrain(short, store, data_dir(), progress=False, runtime=runtime)
        record = json.loads((folder / "record.json").read_text())
    seconds, done = record["seconds_this_run"], record["steps"]
    mean_len = float(np.mean(lengths))
    tokens_per_s = done * batch * mean_len / seconds
    b = short.backbone
    flops = pretrain_flops_per_token(b.hidden, b.n_layers, b.intermediate, mean_len, len(tokenizer))
    out = {
        "path": path,
        "batch": batch,
        "padding_share": round(padding_share(np.asarray(lengths), batch, pad_multiple(runtime)), 3),
        "steps": done,
        "seconds": seconds,
        "steps_per_s": round(done / seconds, 2),
        "real_tokens_per_s": round(tokens_per_s),
        "mean_paragraph_tokens": round(mean_len, 1),
        "achieved_tflops": round(tokens_per_s * flops / 1e12, 4),
        "peak_memory_gib": _peak_memory_gib(runtime.torch_device),
    }
    if peak:
        out["fraction_of_peak"] = round(out["achieved_tflops"] / peak, 3)
    return out


def bench_extraction(profile, runtime, n_paragraphs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        store = ArtifactStore(Path(tmp))
        short = profile.replace(corpus={"n_train": 200, "n_valid": max(n_paragraphs, 10)})
        tok_dir = tokenizer_artifact(short, store, data_dir())
        tokenizer = load_tokenizer(tok_dir)
        folder = Path(tmp) / "model"
        build_mlm(short.backbone, len(tokenizer), tokenizer.pad_token_id).save_pretrained(str(folder))
        tokenizer.save_pretrained(str(folder))  # a BERT folder is weights and tokenizer (check_bert_folder)
        model = load_mlm(folder).to(runtime.torch_device)
        texts = load_paragraphs(short.corpus, data_dir()).valid[:n_paragraphs]
        _, ids, rate, _ = one_at_a_time(
            model, tokenizer, texts, (short.probe.layer,), short.backbone.max_len, progress=False
        )
    return {
        "masked_positions": int(len(ids)),
        "masked_positions_per_s": round(rate),
        "peak_memory_gib": _peak_memory_gib(runtime.torch_device),
    }


def bench_probe(profile, runtime, vocab: int, n_positions: int, train_positions: int) -> dict:
    hidden, batch = profile.backbone.hidden, profile.probe.batch_size
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(n_positions, hidden, generator=generator)
    y = torch.randint(0, vocab, (n_positions,), generator=generator)
    head = TokenHead(hidden, vocab)
    started = time.perf_counter()
    fit(
        head,
        X,
        y,
        HeadRecipe(epochs=1, lr=1e-4, weight_decay=0, batch_size=batch, seed=0),
        progress=False,
        device=runtime.torch_device,
        memory_bytes=runtime.memory_bytes,
    )
    _sync(runtime.torch_device)
    seconds = time.perf_counter() - started
    steps = -(-n_positions // batch)
    epoch_s = seconds * train_positions / n_positions
    return {
        "batch": batch,
        "steps_per_s": round(steps / seconds, 1),
        "positions_per_s": round(n_positions / seconds),
        "epoch_of_training_positions_s": round(epoch_s, 1),
        "training_positions": train_positions,
        "epochs_per_s": round(1 / epoch_s, 4),
        "peak_memory_gib": _peak_memory_gib(runtime.torch_device),
    }


def bench_sweep(profile, runtime, vocab: int, n_positions: int, n_subsets: int) -> dict:
    hidden, device = profile.backbone.hidden, runtime.torch_device
    torch.manual_seed(0)
    head = TokenHead(hidden, vocab).eval().to(device)
    X = torch.randn(n_positions, hidden).to(device)
    chunks = aperture.plan_chunks(hidden, hidden, vocab, runtime.memory_bytes) if runtime.is_cuda else aperture.Chunks()
    out = {"positions": n_positions, "chunks": chunks.__dict__}
    for label, masks in (
        ("random_8_nodes", aperture.random_nodes(hidden, 8, n_subsets, 0)),
        ("single_nodes", aperture.single_nodes(hidden)[: max(2, n_subsets // 4)]),
    ):
        next(aperture.iter_predictions(head, X, masks[:1], chunks=chunks))  # warm-up
        _sync(device)
        started = time.perf_counter()
        for _ in aperture.iter_predictions(head, X, masks, chunks=chunks):
            pass
        _sync(device)
        out[f"{label}_subsets_per_s"] = round(len(masks) / (time.perf_counter() - started), 3)
    out["peak_memory_gib"] = _peak_memory_gib(device)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--shapes", default="cpu,paper-fast", help="profiles whose shapes are measured")
    parser.add_argument("--batches", default="32,256", help="pre-training batch sizes")
    parser.add_argument("--steps", type=int, default=300, help="pre-training steps per batch size")
    parser.add_argument(
        "--paths",
        default=None,
        help="pre-training paths side by side: padded, repad, nested, each with +compile (default: the profile's)",
    )
    parser.add_argument("--stages", default=",".join(STAGES), help=f"stages to measure, of {', '.join(STAGES)}")
    parser.add_argument("--peak-tflops", type=float, default=None, help="the device's dense bf16 peak")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny stages: checks that the script runs (on a CPU also the smallest batch alone, divided by "
        f"{QUICK_CPU_BATCH_DIVISOR})",
    )
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    asked = args.paths.split(",") if args.paths else None  # None: each profile's own attention
    for path in asked or ():
        parse_path(path)  # a wrong name is refused before anything runs
    stages = args.stages.split(",")
    if unknown := [s for s in stages if s not in STAGES]:
        raise SystemExit(f"--stages: {', '.join(unknown)} not among {', '.join(STAGES)}")
    out: dict = {"torch": torch.__version__}
    for name in args.shapes.split(","):
        profile = load_profile(name)
        profile = profile.replace(runtime={"device": args.device})
        paths = asked or [profile.pretrain.attention]
        runtime = runtime_for(profile.runtime)
        runtime.apply()
        peak = args.peak_tflops or next((v for k, v in PEAK_BF16_TFLOPS.items() if k in runtime.device_name), None)
        out["device"], out["runtime"] = runtime.device_name, runtime.record()
        vocab = profile.tokenizer.vocab_size
        steps = 4 if args.quick else args.steps
        shape: dict = {"hidden": profile.backbone.hidden, "vocab": vocab, "max_len": profile.backbone.max_len}
        batches = [int(b) for b in args.batches.split(",")]
        n_valid, n_extract = 200, (8 if args.quick else 200)  # held-out paragraphs: evaluation, extraction
        if args.quick and runtime.device == "cpu":  # a check that it runs: batch 256 at paper shapes is minutes here
            batches = [max(1, min(batches) // QUICK_CPU_BATCH_DIVISOR)]
            n_valid = n_extract = QUICK_CPU_PARAGRAPHS
            out["quick_cpu_batch_divisor"], out["quick_cpu_paragraphs"] = QUICK_CPU_BATCH_DIVISOR, QUICK_CPU_PARAGRAPHS
        for batch in batches if "pretrain" in stages else ():
            n_train = max(batch * steps // 4, 400) if args.quick else 20_000
            for i, path in enumerate(paths):  # the first keeps the key it always had; a path again (drift) its run
                again = paths[:i].count(path)
                label = f"pretrain_batch{batch}" + ("" if i == 0 else f"_{path}")
                label += f"_run{again + 1}" if again else ""
                shape[label] = bench_pretrain(profile, runtime, batch, steps, n_train, peak, n_valid, path)
                print(f"[bench] {name} pre-training, batch {batch}, {path}: {shape[label]}", flush=True)
        if "extraction" in stages:
            shape["extraction"] = bench_extraction(profile, runtime, n_extract)
            print(f"[bench] {name} extraction: {shape['extraction']}", flush=True)
        if "probe" in stages:
            # training positions of the token probe: 15 % of the real tokens of the profile's probe paragraphs
            mean_len = next(
                (v["mean_paragraph_tokens"] for k, v in shape.items() if k.startswith("pretrain_batch")),
                profile.backbone.max_len / 2,  # without the pre-training stage: a guess, said in the output
            )
            train_positions = int(profile.probe.n_train_paragraphs * mean_len * 0.15)
            if "pretrain" not in stages:
                shape["probe_mean_paragraph_tokens_guessed"] = mean_len
            n_probe = 2_000 if args.quick else 100_000
            shape["token_probe"] = bench_probe(profile, runtime, vocab, n_probe, train_positions)
            print(f"[bench] {name} token probe: {shape['token_probe']}", flush=True)
        if "sweep" in stages:
            shape["token_sweep"] = bench_sweep(
                profile, runtime, vocab, 500 if args.quick else 20_000, 4 if args.quick else 64
            )
            print(f"[bench] {name} token sweep: {shape['token_sweep']}", flush=True)
        out[name] = shape
    print(json.dumps(out, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
