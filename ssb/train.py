"""Training through the HF ``Trainer``: MLM pre-training (FewRel fine-tuning, ``ssb/finetune.py``, shares its
arguments, checkpoints and resumption).

The paper's recipe: AdamW, weight decay as the L2 term, batch 32, linear decay to zero without warm-up;
MLM with ``DataCollatorForLanguageModeling`` (15 %, 80/10/10, special tokens never masked). The Trainer
runs on one CPU, one GPU, or several GPUs under ``torchrun`` / ``accelerate launch``. Checkpoints go to
the artifact's ``.partial`` folder; a run that finds one resumes from the last (same weights as an
uninterrupted run: the Trainer restores the optimiser, the schedule, the data order and the RNG states).
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import (
    DataCollatorForLanguageModeling,
    PreTrainedTokenizerBase,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from .artifacts import ArtifactStore, file_sha256, notice
from .config import CorpusConfig, Profile, backbone_key, config_hash, to_dict
from .data import Paragraphs, load_paragraphs
from .device import Runtime, cpu_runtime, runtime_for
from .fingerprint import data_digest
from .model import build_mlm
from .progress import label_trainer
from .tokenizer import build_tokenizer, load_tokenizer, parallel_tokenization

N_EVAL_PARAGRAPHS = 500  # held-out paragraphs for the MLM accuracy curve


class StopAfter(TrainerCallback):
    """Stops training after ``steps`` optimiser steps (used to test resuming after an interruption)."""

    def __init__(self, steps: int):
        self.steps = steps

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.steps:
            control.should_save = True
            control.should_training_stop = True
        return control


class Interrupted(RuntimeError):
    """Training stopped before its last step; the checkpoint is kept and the next run resumes."""


def data_record(source: str, data_dir: Path | None = None) -> dict[str, Any]:
    """Where the data came from, with the file's sha256 when it is local. A local path is recorded relative
    to the data folder: a record holds no machine's absolute paths."""
    path = Path(source)
    if not path.is_file():
        return {"source": source, "sha256": None}
    shown = source
    if data_dir is not None and path.resolve().is_relative_to(Path(data_dir).resolve()):
        shown = str(path.resolve().relative_to(Path(data_dir).resolve()))
    else:
        shown = path.name
    return {"source": shown, "sha256": file_sha256(path)}


def last_good_checkpoint(work: Path) -> str | None:
    """The newest checkpoint in ``work`` that a kill did not cut short; damaged ones are set aside
    (renamed ``*.damaged``) with a notice, so training resumes from the last good one or restarts."""
    from safetensors import safe_open

    checkpoints = sorted(work.glob("checkpoint-*[0-9]"), key=lambda p: int(p.name.rsplit("-", 1)[1]), reverse=True)
    for ckpt in checkpoints:
        problem = None
        try:
            json.loads((ckpt / "trainer_state.json").read_text())
            weights = ckpt / "model.safetensors"
            with safe_open(str(weights), framework="pt") as handle:
                names = list(handle.keys())
            if not names:
                problem = "no tensors in model.safetensors"
            elif not (ckpt / "optimizer.pt").is_file() or (ckpt / "optimizer.pt").stat().st_size == 0:
                problem = "no optimizer state"
        except Exception as err:  # any unreadable file marks the checkpoint damaged
            problem = f"{type(err).__name__}: {err}"
        if problem is None:
            return str(ckpt)
        aside = ckpt.with_name(ckpt.name + ".damaged")
        shutil.rmtree(aside, ignore_errors=True)
        ckpt.rename(aside)
        notice(f"checkpoint {ckpt} is damaged ({problem}); set aside as {aside.name}, resuming from the previous one")
    return None


Reader = Callable[[CorpusConfig], Paragraphs]  # how a corpus selection is read (a run's resolver reads it once)


def _reader(paragraphs: Reader | None, data_dir: Path | None) -> Reader:
    """``paragraphs``, or :func:`~ssb.data.load_paragraphs` from ``data_dir``."""
    return paragraphs or (lambda cfg: load_paragraphs(cfg, data_dir))


def tokenizer_artifact(
    profile: Profile, store: ArtifactStore, data_dir: Path | None, paragraphs: Reader | None = None
) -> Path:
    """The profile's tokenizer, saved in the store (trained on the training paragraphs for wordpiece)."""
    key = config_hash("tokenizer", profile.corpus, profile.tokenizer)
    if profile.tokenizer.kind == "wordpiece":  # v2: ids in a fixed order (tokenizer.sorted_vocabulary)
        key = config_hash(key, "wordpiece-ids", 2)

    def build(folder: Path) -> dict[str, Any]:
        wordpiece = profile.tokenizer.kind == "wordpiece"
        texts = _reader(paragraphs, data_dir)(profile.corpus).train if wordpiece else []
        build_tokenizer(profile.tokenizer, texts).save_pretrained(str(folder))
        return {"tokenizer": to_dict(profile.tokenizer)}

    return store.build("tokenizer", key, build)[0]


def _tokenize(tokenizer: PreTrainedTokenizerBase, texts: list[str], max_len: int):
    import datasets

    with parallel_tokenization():
        enc = tokenizer(texts, truncation=True, max_length=max_len, return_special_tokens_mask=True)
    return datasets.Dataset.from_dict(
        {
            "input_ids": enc["input_ids"],
            "special_tokens_mask": enc["special_tokens_mask"],
            "length": [len(ids) for ids in enc["input_ids"]],
        }
    )


def _fixed_masking(collator: DataCollatorForLanguageModeling, dataset, seed: int):
    """Mask a held-out set once, deterministically, so every evaluation sees the same masks."""
    import datasets

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        rows = [
            dict(input_ids=ids, special_tokens_mask=st)
            for ids, st in zip(dataset["input_ids"], dataset["special_tokens_mask"], strict=True)
        ]
        out = {"input_ids": [], "labels": []}
        for row in rows:  # one at a time: no padding to undo
            batch = collator([row])
            out["input_ids"].append(batch["input_ids"][0].tolist())
            out["labels"].append(batch["labels"][0].tolist())
    return datasets.Dataset.from_dict(out)


def _pad_labels_collator(tokenizer: PreTrainedTokenizerBase):
    from transformers import DataCollatorForTokenClassification

    return DataCollatorForTokenClassification(tokenizer, label_pad_token_id=-100)


def mlm_accuracy(mask_token_id: int):
    """``compute_metrics``: accuracy over all labelled positions (80/10/10 masking), and over [MASK] only.

    The second is the honest one: a position kept (10 %) or replaced at random (10 %) shows its token or a
    wrong one, and copying the visible token is easy.
    """

    def compute(eval_pred) -> dict[str, float]:
        predictions, labels = eval_pred.predictions, eval_pred.label_ids
        keep = labels != -100
        masked = keep & (eval_pred.inputs == mask_token_id)
        hit = predictions == labels
        return {
            "mlm_accuracy": float(hit[keep].mean()) if keep.any() else 0.0,
            "masked_accuracy": float(hit[masked].mean()) if masked.any() else 0.0,
        }

    return compute


def _argmax_logits(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return logits.argmax(dim=-1)


def pad_multiple(runtime: Runtime) -> int:
    """The multiple of positions a training batch is padded to: 8 on a GPU, which keeps the tensor cores' tiles
    full; 1 (each batch's longest) elsewhere."""
    return 8 if runtime.is_cuda else 1


def _mlm_collators(tokenizer: PreTrainedTokenizerBase, mlm_probability: float, runtime: Runtime):
    """The MLM collator, and the one of training batches, padded to :func:`pad_multiple` positions."""
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=mlm_probability)
    if pad_multiple(runtime) == 1:
        return collator, collator
    return collator, DataCollatorForLanguageModeling(
        tokenizer, mlm_probability=mlm_probability, pad_to_multiple_of=pad_multiple(runtime)
    )


class StepTimer(TrainerCallback):
    """The wall time at the end of every optimiser step (calibration of a time budget)."""

    def __init__(self):
        self.begin: float | None = None
        self.ends: list[float] = []

    def on_train_begin(self, args, state, control, **kwargs):
        self.begin = time.perf_counter()
        return control

    def on_step_end(self, args, state, control, **kwargs):
        self.ends.append(time.perf_counter())
        return control


CALIBRATION_STEPS = 6  # timed steps, after one warm-up step


def calibration_batches(lengths: list[int] | np.ndarray, batch_size: int, steps: int, multiple: int = 1) -> dict:
    """The batches a calibration times, formed as pre-training forms its own (pure).

    ``lengths`` ``[m]``: the real tokens of a random sample of ``m`` training paragraphs, one of the Trainer's
    length-grouped megabatches (``transformers``' ``get_length_grouped_indices``: paragraphs in random order,
    cut into megabatches of ``mega_batch_mult`` batches, each sorted longest first and cut into batches). A batch
    costs what its longest paragraph pads it to (``multiple``: the collator's ``pad_to_multiple_of``), so random
    batches of the same paragraphs (22 % padding at the ``cpu`` shape, against 1.1 % length-grouped) would time
    a costlier step than training's. The warm-up is the megabatch's first (longest) batch, as training starts;
    the ``steps`` timed batches are the middle batch of each of ``steps`` equal strata of the sorted
    megabatch.

    Returns ``order`` (sample positions to feed in order: warm-up, then the timed batches), the timed batches'
    padded positions ``timed_positions`` ``[steps]``, and the megabatch's mean real tokens and padded positions
    per batch.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    by_length = np.argsort(-lengths, kind="stable")  # [m], longest first
    n_batches = max(1, len(lengths) // batch_size)
    batches = [by_length[b * batch_size : (b + 1) * batch_size] for b in range(n_batches)]
    padded = [multiple * -(-int(lengths[b].max()) // multiple) * len(b) for b in batches]
    timed = [int((k + 0.5) * n_batches / steps) for k in range(steps)]
    return {
        "order": np.concatenate([batches[0], *(batches[b] for b in timed)]),
        "timed_positions": [float(padded[b]) for b in timed],
        "tokens_per_step": float(np.mean([lengths[b].sum() for b in batches])),
        "positions_per_step": float(np.mean(padded)),
    }


class _InOrder(Trainer):
    """A Trainer that feeds its dataset in the dataset's own order (a calibration's chosen batches)."""

    def _get_train_sampler(self, *args, **kwargs):  # transformers 4 passes nothing, 5 the dataset
        return torch.utils.data.SequentialSampler(self.train_dataset)


def calibrate(
    profile: Profile,
    store: ArtifactStore,
    data_dir: Path | None,
    runtime: Runtime,
    steps: int = CALIBRATION_STEPS,
    paragraphs: Reader | None = None,
) -> dict[str, float]:
    """Seconds per pre-training step and real positions per batch, measured on the profile's own model, data
    and batch on this runtime (a throwaway model: nothing is stored): one warm-up step, then ``steps`` timed
    steps whose batches are formed as pre-training's (:func:`calibration_batches`). The step time is the median
    time per padded position of the timed steps (one step slowed by the machine does not move it) times the
    mean padded positions of pre-training's batches (a training's time is the sum of its steps, long and short)."""

    runtime.apply()
    read = _reader(paragraphs, data_dir)
    tokenizer = load_tokenizer(tokenizer_artifact(profile, store, data_dir, read))
    corpus = read(profile.corpus)
    bb, pt = profile.backbone, profile.pretrain
    n_train = len(corpus.train)
    if n_train == 0:
        raise ValueError(f"[corpus] of profile '{profile.name}': no training paragraphs to time a pre-training step on")
    # one megabatch of the Trainer's length-grouped sampler: min(n // (4 batches), 50) batches
    megabatch = max(1, min(n_train // (4 * pt.batch_size), 50)) * pt.batch_size
    sample = np.random.default_rng([bb.seed, 7]).choice(n_train, size=min(megabatch, n_train), replace=False)
    batch_size = min(pt.batch_size, len(sample))  # a corpus smaller than a batch is one batch
    sampled = _tokenize(tokenizer, [corpus.train[i] for i in sample.tolist()], bb.max_len)
    chosen = calibration_batches(list(sampled["length"]), batch_size, steps, pad_multiple(runtime))
    train_set = sampled.select(chosen["order"].tolist())
    _, train_collator = _mlm_collators(tokenizer, pt.mlm_probability, runtime)
    torch.manual_seed(bb.seed)
    model = build_mlm(bb, len(tokenizer), tokenizer.pad_token_id, sparse=True, attention=pt.attention)
    timer = timed_steps(
        _InOrder, model, train_set, train_collator, steps=steps, lr=pt.lr, weight_decay=pt.weight_decay,
        batch_size=batch_size, seed=bb.seed, runtime=runtime,
    )  # fmt: skip
    gaps = np.diff(timer.ends)  # [steps]: the first step (warm-up, compilation) left out
    per_position = gaps / np.asarray(chosen["timed_positions"][: len(gaps)])  # [steps]
    return {
        "s_per_step": float(np.median(per_position) * chosen["positions_per_step"]) if len(gaps) else float("nan"),
        "first_step_s": timer.ends[0] - timer.begin,  # with the warm-up (and torch.compile's compilation)
        "tokens_per_step": chosen["tokens_per_step"],
        "positions_per_step": chosen["positions_per_step"],
        "steps": 1 + steps,
    }


def timed_steps(
    trainer: type[Trainer], model, train_set, collator, *, steps: int, lr: float, weight_decay: float,
    batch_size: int, seed: int, runtime: Runtime,
) -> StepTimer:  # fmt: skip
    """Train ``model`` one warm-up step and ``steps`` more with ``trainer`` (the Trainer class) in a throwaway
    folder, saving and logging nothing, and return the timer of its steps' ends (a time budget's calibrations:
    :func:`calibrate`, ``finetune.calibrate_fewrel``)."""
    import tempfile

    timer = StepTimer()
    with tempfile.TemporaryDirectory(prefix="ssb-calibrate-") as work:
        args = training_arguments(
            Path(work), epochs=1.0, max_steps=1 + steps, lr=lr, weight_decay=weight_decay, batch_size=batch_size,
            seed=seed, save_steps=10**9, logging_steps=10**9, eval_steps=0, progress=False, group_by_length=False,
            runtime=runtime,
        )  # fmt: skip
        args.save_strategy = "no"
        trainer(model=model, args=args, data_collator=collator, train_dataset=train_set, callbacks=[timer]).train()
    return timer


def training_arguments(
    output_dir: Path,
    *,
    epochs: float,
    max_steps: int,
    lr: float,
    weight_decay: float,
    batch_size: int,
    seed: int,
    save_steps: int,
    logging_steps: int,
    eval_steps: int,
    progress: bool,
    group_by_length: bool,
    warmup_ratio: float = 0.0,
    eval_inputs: bool = False,
    runtime: Runtime | None = None,
) -> TrainingArguments:
    """The paper's optimiser and schedule as ``TrainingArguments`` (works with transformers 4.x and 5.x).

    ``runtime`` (default: the CPU's) sets the device, bf16 autocast, the AdamW implementation and the
    data-loader workers; on the CPU these are the plain fp32 AdamW with collation in the main process.
    """
    runtime = runtime or cpu_runtime()
    fields = {f.name for f in dataclasses.fields(TrainingArguments)}
    kwargs: dict[str, Any] = dict(
        output_dir=str(output_dir),
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=max(batch_size, 64),
        num_train_epochs=epochs,
        max_steps=max_steps if max_steps > 0 else -1,
        learning_rate=lr,
        weight_decay=weight_decay,
        lr_scheduler_type="linear",
        optim=runtime.optimizer,
        seed=seed,
        data_seed=seed,
        save_strategy="steps",
        save_steps=save_steps,
        save_total_limit=2,
        logging_steps=logging_steps,
        eval_strategy="steps" if eval_steps > 0 else "no",
        eval_steps=eval_steps if eval_steps > 0 else None,
        report_to=[],
        disable_tqdm=not progress,
        dataloader_num_workers=runtime.dataloader_workers,
        dataloader_pin_memory=runtime.is_cuda,
        dataloader_persistent_workers=runtime.dataloader_workers > 0,
        bf16=runtime.precision == "bf16",
        torch_compile=runtime.compile,
        use_cpu=not runtime.is_cuda,
    )
    if "warmup_ratio" in fields:  # transformers 4
        kwargs["warmup_ratio"] = warmup_ratio
    else:  # transformers 5: a float below 1 is a fraction of the steps
        kwargs["warmup_steps"] = warmup_ratio
    if eval_inputs:  # compute_metrics sees the input ids
        if "include_for_metrics" in fields:
            kwargs["include_for_metrics"] = ["inputs"]
        else:  # transformers < 4.46
            kwargs["include_inputs_for_metrics"] = True
    if group_by_length:
        if "train_sampling_strategy" in fields:  # transformers 5
            kwargs["train_sampling_strategy"] = "group_by_length"
        else:  # transformers 4
            kwargs["group_by_length"] = True
    if "eval_strategy" not in fields:  # transformers < 4.41
        kwargs["evaluation_strategy"] = kwargs.pop("eval_strategy")
    return TrainingArguments(**kwargs)


def _run_trainer(trainer: Trainer, work: Path, label: str) -> None:
    """Train (resuming from the last good checkpoint in ``work``) under one bar labelled ``label``, the log
    dicts going to ``work/trainer_log.jsonl`` (``ssb/progress.py``)."""
    label_trainer(trainer, label, work / "trainer_log.jsonl")
    last = last_good_checkpoint(work) if work.exists() else None
    if last:
        print(f"[ssb] resuming from {last}")
    trainer.train(resume_from_checkpoint=last)
    if trainer.control.should_training_stop and trainer.state.global_step < trainer.state.max_steps:
        raise Interrupted(
            f"stopped at step {trainer.state.global_step} of {trainer.state.max_steps}; "
            f"checkpoints in {work}; run again to resume"
        )


def store_key(profile: Profile, store: ArtifactStore, data_dir: Path | None, runtime: Runtime | None = None) -> str:
    """The store key of a backbone trained here: its config hash (``backbone_key``, what committed references
    record) joined with the training corpus's sha256, so that other data never reuses it, and with the
    numerics of a bf16 run (``Runtime.numerics_tag``; ``runtime`` defaults to the profile's on this machine)."""
    key = config_hash(backbone_key(profile), "data", data_digest(profile.corpus, data_dir, store.root))
    return (runtime or runtime_for(profile.runtime)).tag_key(key)


def pretraining_plan(profile: Profile) -> str:
    """What a pre-training of ``profile`` is about to do, for the notice printed before it starts: the backbone's
    size, the steps (``max_steps``, or the epochs over ``corpus.n_train`` at the batch size) and the batch."""
    bb, pt = profile.backbone, profile.pretrain
    steps = pt.max_steps if pt.max_steps > 0 else math.ceil(pt.epochs * profile.corpus.n_train / pt.batch_size)
    budget = "" if pt.max_steps > 0 else f" ({pt.epochs:g} epochs of {profile.corpus.n_train:,} paragraphs)"
    return (
        f"{steps:,} steps of batch {pt.batch_size}{budget} for a BERT of {bb.n_layers} blocks x {bb.n_heads} heads, "
        f"{bb.hidden} wide (resumable from its checkpoints)"
    )


def pretrain(
    profile: Profile,
    store: ArtifactStore,
    data_dir: Path | None,
    *,
    force: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    tokenizer_from: Path | None = None,
    runtime: Runtime | None = None,
    paragraphs: Reader | None = None,
) -> tuple[Path, bool]:
    """The pre-trained MLM backbone of ``profile``: from the store, or trained (resuming) and stored.

    ``tokenizer_from``: a folder whose saved tokenizer is used instead of the profile's own (its
    ``tokenizer.json`` hash joins the key), so that backbones compared at equal budget share a vocabulary.
    ``runtime``: where and how it trains (default: the profile's ``[runtime]`` on this machine).
    ``paragraphs``: how the corpus is read (default :func:`~ssb.data.load_paragraphs`; a run's resolver passes
    its own, which reads the file once for all it builds).
    """
    runtime = runtime or runtime_for(profile.runtime)
    read = _reader(paragraphs, data_dir)
    key = store_key(profile, store, data_dir, runtime)
    if tokenizer_from is not None:
        key = config_hash(key, "tokenizer", file_sha256(tokenizer_from / "tokenizer.json"))
    if not force and (found := store.lookup("backbone", key)) is not None:
        return found, True
    tok_dir = tokenizer_from or tokenizer_artifact(profile, store, data_dir, read)
    _, world = distributed_rank()

    def build(folder: Path | None) -> dict[str, Any]:
        runtime.apply()
        tokenizer = load_tokenizer(tok_dir)
        corpus = read(profile.corpus)
        bb, pt = profile.backbone, profile.pretrain
        train_set = _tokenize(tokenizer, corpus.train, bb.max_len)
        if bb.data_seed >= 0:
            # another order of the paragraphs, the initialisation kept: the Trainer's length-grouped sampler
            # draws its permutation from backbone.seed (TrainingArguments.data_seed does not reach that
            # sampler), so the paragraphs it permutes are shuffled by data_seed first
            train_set = train_set.shuffle(seed=bb.data_seed)
        collator, train_collator = _mlm_collators(tokenizer, pt.mlm_probability, runtime)
        eval_raw = _tokenize(tokenizer, corpus.valid[:N_EVAL_PARAGRAPHS], bb.max_len)
        eval_set = _fixed_masking(collator, eval_raw, seed=bb.seed)
        model = build_mlm(bb, len(tokenizer), tokenizer.pad_token_id, sparse=True, attention=pt.attention)
        if force:  # --retrain: start over, whatever checkpoints an earlier run left
            shutil.rmtree(store.work_dir("backbone", key), ignore_errors=True)
        work = store.work_dir("backbone", key)
        args = training_arguments(
            work,
            epochs=pt.epochs,
            max_steps=pt.max_steps,
            lr=pt.lr,
            weight_decay=pt.weight_decay,
            batch_size=pt.batch_size,
            seed=bb.seed,
            save_steps=pt.save_steps,
            logging_steps=pt.logging_steps,
            eval_steps=pt.eval_steps,
            progress=progress,
            group_by_length=True,
            warmup_ratio=pt.warmup_ratio,
            eval_inputs=True,
            runtime=runtime,
        )
        eval_collator = _pad_labels_collator(tokenizer)

        def collate(features):  # train batches: MLM masking; eval batches are pre-masked
            return eval_collator(features) if "labels" in features[0] else train_collator(features)

        trainer = Trainer(
            model=model,
            args=args,
            data_collator=collate,
            train_dataset=train_set,
            eval_dataset=eval_set,
            compute_metrics=mlm_accuracy(tokenizer.mask_token_id),
            preprocess_logits_for_metrics=_argmax_logits,
            callbacks=[StopAfter(stop_after)] if stop_after else None,
        )
        started = time.time()
        _run_trainer(trainer, work, f"pre-training the {profile.name} backbone")
        seconds = time.time() - started
        final = trainer.evaluate()  # collective under torchrun: every process takes part
        if folder is None:  # another process of a distributed run: rank 0 stores the backbone
            return {}
        trainer.save_model(str(folder))
        # a pickle of the TrainingArguments that nothing reads (the record keeps the recipe): a stored or
        # committed backbone holds safetensors and JSON only
        (folder / "training_args.bin").unlink(missing_ok=True)
        tokenizer.save_pretrained(str(folder))
        n_tokens = int(sum(train_set["length"]))
        record = {
            "profile": profile.name,
            "backbone_key": backbone_key(profile),
            "store_key": key,
            "config": {s: to_dict(getattr(profile, s)) for s in ("corpus", "tokenizer", "backbone", "pretrain")},
            "data": data_record(corpus.source, data_dir),
            "steps": trainer.state.global_step,
            "train_tokens_per_epoch": n_tokens,
            "seconds_this_run": round(seconds, 1),
            "device": runtime.device_name if runtime.is_cuda else f"cpu x{torch.get_num_threads()}",
            "runtime": runtime.record(),
            "processes": world,
            "final_eval": final,
        }
        (folder / "training_log.json").write_text(json.dumps(trainer.state.log_history, indent=1))
        (folder / "record.json").write_text(json.dumps(record, indent=1))
        return {"mlm_accuracy": final.get("eval_mlm_accuracy"), "masked_accuracy": final.get("eval_masked_accuracy")}

    return _build_once(store, "backbone", key, build, force=force)


def _build_once(
    store: ArtifactStore,
    kind: str,
    key: str,
    build: Callable[[Path | None], dict[str, Any]],
    *,
    force: bool = False,
    collective: bool = True,
) -> tuple[Path, bool]:
    """``store.build`` of a trained model, also under torchrun / accelerate launch: every process trains
    (the Trainer's DDP: ``build(None)`` on the others, which stores nothing), rank 0 alone writes the store
    under its lock, and the others wait at a barrier for what it stored. ``collective = False``: a build
    with no training in it (no process group), which the store's lock alone serialises."""
    rank, world = distributed_rank()
    if world == 1 or not collective:
        return store.build(kind, key, build, force=force)
    import torch.distributed as dist

    if rank == 0:
        stored = store.build(kind, key, build, force=force)
        dist.barrier()
        return stored
    build(None)
    dist.barrier()
    found = store.lookup(kind, key)
    if found is None:
        raise RuntimeError(f"process {rank}: rank 0 did not store {kind} {key}")
    return found, False


def distributed_rank() -> tuple[int, int]:
    """``(rank, world size)`` of a torchrun / accelerate launch process (``(0, 1)`` when alone)."""
    import os

    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
