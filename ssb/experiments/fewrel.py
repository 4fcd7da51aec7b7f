"""FewRel (§5, §6, Figs. 5-6): label heads on [CLS] features of a fine-tuned (or random) backbone, their node
sweeps and hull bounds."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from .. import aperture, systems, versions
from ..config import config_hash
from ..data import load_fewrel
from ..features import cls_vectors
from ..finetune import finetune_fewrel
from ..hull import attainable_labels
from ..probe import LabelHead, fit
from ..tokenizer import load_tokenizer
from .common import results_summary

if TYPE_CHECKING:
    from ..resolver import Resolver
    from ..systems import System


def fewrel(pl: Resolver, system: System | str = "reference") -> dict[str, Any]:
    """Label-head experiments on a system's FewRel path (``System.fewrel``), on [CLS] features of block L.

    ``reference``: the pre-trained backbone fine-tuned on FewRel, with a label head trained on its
    features; ``no-dropout``: the same with the backbone pre-trained without dropout (its config carries
    dropout 0 into the fine-tuning: Appendix 3's "the same setup ... without dropout"). ``random-init``:
    the randomly initialised backbone, never fine-tuned, read through two heads: a label head trained on
    its features by the fine-tuned system's recipe (``trained_head``: the random system the claims check,
    ``measures.hull_untrained``) and the head at initialisation (reported beside it)."""
    system = systems.get(system)
    if system.fewrel is None:
        raise systems.UnknownSystem(f"system {system.name!r} has no FewRel path")
    return pl.once(f"fewrel:{system.fewrel.label}", lambda: _fewrel(pl, system))


def fewrel_model(pl: Resolver, system: System | str = "reference") -> tuple[Path, str]:
    """A system's FewRel sequence classifier (its store folder, named by its key) and its backbone's id:
    fine-tuned, or stored untrained (epochs 0) when its path does not fine-tune."""
    system = systems.get(system)
    path = system.fewrel
    if path is None:
        raise systems.UnknownSystem(f"system {system.name!r} has no FewRel path")
    if path.finetune:
        bb_dir, bb_id = pl.backbone(system)
    elif isinstance(system.backbone, systems.RandomInit):  # the bare key of the untrained backbone
        bb_dir, bb_id = pl.random_backbone(system.backbone.seed)
    else:
        raise ValueError(f"system {system.name!r}: an untrained FewRel path needs a never-trained backbone")
    model_dir, _ = finetune_fewrel(
        pl.profile,
        bb_dir,
        pl.store,
        pl.data_dir,
        backbone_id=bb_id,
        data_id=pl.data_id("fewrel"),
        progress=pl.progress,
        epochs=None if path.finetune else 0,
        runtime=pl.runtime,
    )
    return model_dir, bb_id


def _fewrel(pl: Resolver, system: System) -> dict[str, Any]:
    model_dir, bb_id = fewrel_model(pl, system)
    finetuned, label = system.fewrel.finetune, system.fewrel.label
    fr, p, sw = pl.profile.fewrel, pl.profile.probe, pl.profile.sweep
    key = sweep_key(pl, system, bb_id)

    def compute() -> dict[str, Any]:
        split = load_fewrel(fr, pl.data_dir)
        X_train, X_test = cls_features(pl, model_dir)  # [n_train, hidden], [n_test, hidden]
        y_train, y_test = torch.tensor([x.label for x in split.train]), np.array([x.label for x in split.test])
        n_labels = len(split.relations)

        def label_head(trained: bool) -> LabelHead:
            torch.manual_seed(p.seed)
            head = LabelHead(X_train.shape[1], n_labels)  # [n_labels, hidden] + bias
            if trained:
                fit(
                    head,
                    X_train,
                    y_train,
                    p.label_recipe,
                    progress=pl.progress,
                    desc=f"label head ({label})",
                    device=pl.device,
                    memory_bytes=pl.runtime.memory_bytes,
                )
            return head.cpu().eval()

        out: dict[str, Any] = {"n_labels": n_labels, "n_test": int(len(y_test)), "n_train": int(len(y_train))}
        if finetuned:
            out.update(label_sweeps(pl, label_head(True), X_test, y_test, n_labels))
        else:
            # the random backbone through its head at initialisation (reported) and through a head trained
            # on its features (trained_head: the random system of hull-untrained's checks)
            out.update(label_sweeps(pl, label_head(False), X_test, y_test, n_labels))
            out["trained_head"] = label_sweeps(pl, label_head(True), X_test, y_test, n_labels)
        return out

    what = f"label sweeps ({label}), probe seed {p.seed}, subset seed {sw.seed}, split seed {fr.split_seed}"
    return pl.cached_json("fewrel-sweep", key, compute, what=what)


# What the label sweeps' key leaves out of the sections it reads ([fewrel], [probe], [sweep]): the token
# probe's recipe and the pre-training's paragraph counts do not change them. tests/test_key_fields.py
# perturbs every field of those sections and checks that the key changes exactly when it is not listed here.
SWEEP_UNKEYED = {
    "probe": (
        "n_train_paragraphs",
        "n_valid_paragraphs",
        "activation",
        "token_epochs",
        "token_lr",
        "token_weight_decay",
        "depth_layers",
    )
}


def sweep_key(pl: Resolver, system: System, bb_id: str) -> str:
    """The key of a system's label sweeps: its FewRel label, its backbone's id, the data, [fewrel], [sweep] and
    the label head's recipe (a model the runtime fine-tuned is tagged by the runtime)."""
    fr, p = pl.profile.fewrel, pl.profile.probe
    key = config_hash(
        "fewrel-sweep",
        versions.SWEEP,
        system.fewrel.label,
        bb_id,
        pl.data_id("fewrel"),
        fr,
        p.layer,
        *dataclasses.astuple(p.label_recipe),
        pl.profile.sweep,
    )
    return pl.runtime.tag_key(key) if system.fewrel.finetune else key


def cls_features(pl: Resolver, model_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Block-L [CLS] features of a FewRel classifier on its split's training and test sentences, ``[n_train,
    hidden]`` and ``[n_test, hidden]``: stored once per classifier (its folder's name is its store key, which
    covers the backbone, the recipe and the split), so every seed run's label head reads the same ones."""
    fr, layer = pl.profile.fewrel, pl.profile.probe.layer
    key = pl.runtime.tag_key(
        config_hash("fewrel-features", versions.CLS_FEATURES, model_dir.name, pl.data_id("fewrel"), fr, layer)
    )

    def build(folder: Path) -> dict[str, Any]:
        from transformers import AutoModelForSequenceClassification

        split = load_fewrel(fr, pl.data_dir)
        tokenizer = load_tokenizer(model_dir)
        model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), use_safetensors=True).to(pl.device)
        X = {
            part: cls_vectors(
                model, tokenizer, [x.marked_text() for x in instances], (layer,), fr.max_len, progress=pl.progress
            )[layer].contiguous()
            for part, instances in (("train", split.train), ("test", split.test))
        }
        save_file(X, str(folder / "features.safetensors"))
        return {"n_train": len(X["train"]), "n_test": len(X["test"])}

    folder, _ = pl.store.build("fewrel-features", key, build)
    X = load_file(str(folder / "features.safetensors"))
    return X["train"], X["test"]


def label_sweeps(pl: Resolver, head: LabelHead, X: torch.Tensor, y: np.ndarray, n_labels: int) -> dict[str, Any]:
    """Node sweep (Fig. 5) and hull bounds (Fig. 6) of a label head on test features ``X`` ``[n, hidden]``."""
    sw = pl.profile.sweep
    D = X.shape[1]
    nodes = {}
    for n in sw.node_counts:
        masks = aperture.node_sweep_subsets(D, n, sw.n_subsets, sw.seed)
        nodes[str(n)] = results_summary(pl.sweep(head, X, y, masks, n_labels, f"FewRel sweep, {n} nodes"))
    W, b = head.out.weight.detach().cpu().double().numpy(), head.out.bias.detach().cpu().double().numpy()
    hull = {}
    for n, count in zip(sw.hull_counts, sw.hull_subsets, strict=True):
        masks = aperture.hull_subsets(D, n, count, sw.seed + 17)
        results = pl.sweep(head, X, y, masks, n_labels, f"FewRel hull, {n} nodes")
        hull[str(n)] = {
            "n_pos": [r.metrics.n_pos for r in results],
            "bound": [len(attainable_labels(W[:, m], b)) for m in masks],
            "n_predicted": [r.metrics.n_predicted for r in results],
        }
    return {"nodes": nodes, "hull": hull}
