"""FewRel fine-tuning through the HF ``Trainer``: the backbone as a sequence classifier of the relations, with
the paper's recipe (``ssb/train.py``'s arguments, checkpoints and resumption)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import DataCollatorWithPadding, Trainer

from .artifacts import ArtifactStore
from .config import Profile, config_hash
from .data import load_fewrel
from .device import Runtime, runtime_for
from .model import load_classifier
from .tokenizer import load_tokenizer
from .train import _build_once, _run_trainer, data_record, training_arguments


def classification_accuracy(eval_pred) -> dict[str, float]:
    return {"accuracy": float((np.argmax(eval_pred.predictions, -1) == eval_pred.label_ids).mean())}


def _encode(tokenizer, instances, max_len: int):
    """FewRel sentences (``@ head @``, ``# tail #`` markers) as a dataset of token ids and relation labels."""
    import datasets

    enc = tokenizer([x.marked_text() for x in instances], truncation=True, max_length=max_len)
    return datasets.Dataset.from_dict({**enc, "labels": [x.label for x in instances]})


def calibrate_fewrel(
    profile: Profile, tokenizer_dir: Path, data_dir: Path | None, runtime: Runtime, steps: int = 6
) -> dict[str, float]:
    """Seconds per FewRel fine-tuning step on this runtime (and the training sentences), measured as fine-tuning
    runs (a time budget's plan):
    a never-trained backbone of the profile's shape as the sequence classifier, the profile's FewRel batch of
    training sentences in the Trainer's random order padded to each batch's longest (``DataCollatorWithPadding``),
    one warm-up step, then the median of ``steps`` (nothing is stored). Pre-training's step per padded position
    does not carry over: at ``paper-lease`` it put FewRel's step at 1.86x pre-training's, and the H200 measured
    1.49x (docs/performance.md)."""
    import tempfile

    from .model import build_mlm
    from .train import timed_steps

    runtime.apply()
    fr = profile.fewrel
    split = load_fewrel(fr, data_dir)
    tokenizer = load_tokenizer(tokenizer_dir)
    n = min(len(split.train), fr.batch_size * (1 + steps))
    sample = np.random.default_rng([profile.backbone.seed, 8]).choice(len(split.train), size=n, replace=False)
    train_set = _encode(tokenizer, [split.train[i] for i in sample.tolist()], fr.max_len)
    with tempfile.TemporaryDirectory(prefix="ssb-calibrate-fewrel-") as work:
        backbone = Path(work) / "backbone"
        build_mlm(profile.backbone, len(tokenizer), tokenizer.pad_token_id).save_pretrained(str(backbone))
        tokenizer.save_pretrained(str(backbone))
        torch.manual_seed(profile.backbone.seed)
        model = load_classifier(backbone, len(split.relations))
        timer = timed_steps(
            Trainer, model, train_set, DataCollatorWithPadding(tokenizer), steps=steps, lr=fr.lr,
            weight_decay=fr.weight_decay, batch_size=fr.batch_size, seed=profile.backbone.seed, runtime=runtime,
        )  # fmt: skip
    gaps = np.diff(timer.ends)  # [steps]: the warm-up left out
    return {
        "s_per_step": float(np.median(gaps)) if len(gaps) else float("nan"),
        "steps": 1 + steps,
        "train_sentences": len(split.train),
    }


def finetune_fewrel(
    profile: Profile,
    backbone_dir: Path,
    store: ArtifactStore,
    data_dir: Path | None,
    *,
    backbone_id: str,
    data_id: str = "",
    force: bool = False,
    progress: bool = True,
    epochs: float | None = None,
    runtime: Runtime | None = None,
) -> tuple[Path, bool]:
    """The backbone fine-tuned on FewRel as a sequence classifier (``@ head @``, ``# tail #`` markers).

    ``epochs = 0`` stores the untrained classifier: the paper's randomly initialised comparison system
    uses a backbone that was never trained, and ``backbone_id`` names which backbone this is (with its
    weights); ``data_id`` is the digest of the FewRel data.
    """
    fr = profile.fewrel
    epochs = fr.epochs if epochs is None else epochs
    runtime = runtime or runtime_for(profile.runtime)
    key = config_hash("fewrel-finetune", backbone_id, data_id, fr, profile.backbone.seed, epochs)
    if epochs > 0:  # the untrained classifier (epochs = 0) is the same whatever the runtime
        key = runtime.tag_key(key)

    def build(folder: Path | None) -> dict[str, Any]:
        split = load_fewrel(fr, data_dir)
        tokenizer = load_tokenizer(backbone_dir)
        torch.manual_seed(profile.backbone.seed)
        model = load_classifier(backbone_dir, len(split.relations))
        train_set, test_set = _encode(tokenizer, split.train, fr.max_len), _encode(tokenizer, split.test, fr.max_len)
        if epochs > 0:
            work = store.work_dir("fewrel", key)
            args = training_arguments(
                work,
                epochs=epochs,
                max_steps=0,
                lr=fr.lr,
                weight_decay=fr.weight_decay,
                batch_size=fr.batch_size,
                seed=profile.backbone.seed,
                save_steps=10**9,
                logging_steps=50,
                eval_steps=0,
                progress=progress,
                group_by_length=False,
                warmup_ratio=fr.warmup_ratio,
                runtime=runtime,
            )
            trainer = Trainer(
                model=model,
                args=args,
                data_collator=DataCollatorWithPadding(tokenizer),
                train_dataset=train_set,
                eval_dataset=test_set,
                compute_metrics=classification_accuracy,
            )
            steps = math.ceil(len(train_set) / fr.batch_size) * epochs
            print(
                f"[ssb] fine-tuning {backbone_dir.name} on FewRel: ~{steps:,.0f} steps of batch {fr.batch_size} "
                f"({epochs:g} epochs of {len(train_set):,} sentences, {len(split.relations)} relations; resumable)",
                flush=True,
            )
            _run_trainer(trainer, work, f"FewRel fine-tuning of {backbone_dir.name}")
            result = trainer.evaluate()  # collective under torchrun
            if folder is None:  # another process of a distributed run: rank 0 stores the classifier
                return {}
            (folder / "training_log.json").write_text(json.dumps(trainer.state.log_history, indent=1))
        else:
            result = {}
        model.save_pretrained(str(folder))
        tokenizer.save_pretrained(str(folder))
        record = {
            "relations": split.relations,
            "n_train": len(split.train),
            "n_test": len(split.test),
            "data": data_record(split.source),
            "epochs": epochs,
            "eval": result,
            "backbone": backbone_id,
            "runtime": runtime.record(),
        }
        (folder / "record.json").write_text(json.dumps(record, indent=1))
        return {"accuracy": result.get("eval_accuracy")}

    return _build_once(store, "fewrel", key, build, force=force, collective=epochs > 0)
