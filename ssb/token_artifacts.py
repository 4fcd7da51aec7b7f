"""A system's token side: its block-L features (training paragraphs masked 15 % at random, validation
paragraphs one token at a time), its token probe (or a control task's) and the validation targets. One part
of :class:`~ssb.resolver.Resolver`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from . import systems, versions
from .config import config_hash
from .features import masked_random, one_at_a_time
from .model import load_mlm
from .probe import TokenHead, control_task_labels, fit, load_head, save_head, tie_head_blocks
from .resolver_state import ResolverState
from .systems import Short, System
from .tokenizer import load_tokenizer

# What each key leaves out of the sections it reads ([corpus], [probe]): fields that do not change the
# artifact. tests/test_key_fields.py perturbs every field of those sections and checks that each key changes
# exactly when the field is not listed here (a new field fails it until it is keyed or listed).
_PROBE_RECIPE = ("activation", "token_epochs", "token_lr", "token_weight_decay", "batch_size")
_LABEL_HEAD = ("label_epochs", "label_lr", "label_weight_decay")
UNKEYED = {
    "token-features:train": {"probe": ("n_valid_paragraphs", *_PROBE_RECIPE, *_LABEL_HEAD)},
    # every validation token is masked once: no seed draws anything
    "token-features:valid": {"probe": ("n_train_paragraphs", "seed", *_PROBE_RECIPE, *_LABEL_HEAD)},
    "token-probe": {"probe": ("n_valid_paragraphs", *_LABEL_HEAD)},
}


class TokenArtifacts(ResolverState):
    """The token side of a :class:`~ssb.resolver.Resolver` (its state is the resolver's)."""

    # besides the shared state, what the backbone side provides
    backbone: Callable[..., tuple[Path, str]]
    data_id: Callable[[str], str]
    device: torch.device

    def layers(self) -> tuple[int, ...]:
        """Blocks whose features are extracted: the probe's block and the depth sweep's."""
        return tuple(sorted({self.profile.probe.layer, *self.profile.probe.depth_layers}))

    def _features_key(self, system: System | str, split: str) -> str:
        system = systems.get(system)
        _, bb_id = self.backbone(system)
        p, c = self.profile.probe, self.profile.corpus
        return config_hash(
            "token-features",
            *((split, versions.VALID_FEATURES) if split == "valid" else (split,)),
            bb_id,
            self.layers(),
            self._n_paragraphs(system, split),
            *(() if split == "valid" else (p.seed,)),  # the training masks are seeded; every valid token is masked
            c,
            self.profile.backbone.max_len,
            self.data_id("corpus"),
            *(("texts", _texts_digest(self.valid_texts)) if split == "valid" and self.valid_texts else ()),
        )

    def _n_paragraphs(self, system: System, split: str) -> int:
        """Paragraphs whose features are extracted (the short backbones' probes train on fewer)."""
        if split == "valid":
            return self.profile.probe.n_valid_paragraphs
        return (
            self.profile.variants.symmetric_probe_paragraphs
            if isinstance(system.backbone, Short)
            else self.profile.probe.n_train_paragraphs
        )

    def valid_features_key(self, system: System | str = "reference") -> str:
        """The key of a system's validation features (what a sweep on them is cached under)."""
        return self._features_key(system, "valid")

    def token_features(self, system: System | str = "reference", split: str = "valid") -> tuple[Path, str]:
        """Cached features of every block in :meth:`layers`, ``[n_positions, hidden]`` each, with true ids.

        ``train``: random 15 % masking of the training paragraphs; ``valid``: one token at a time.
        """
        system = systems.get(system)
        bb_dir, _ = self.backbone(system)
        key = self._features_key(system, split)
        n = self._n_paragraphs(system, split)

        def build(folder: Path) -> dict[str, Any]:
            if split == "valid" and self.valid_texts is not None:
                texts = list(self.valid_texts)
            else:
                paragraphs = self.paragraphs()
                texts = (paragraphs.train if split == "train" else paragraphs.valid)[:n]
            tokenizer = load_tokenizer(bb_dir)
            model = load_mlm(bb_dir).to(self.device)
            p = self.profile.probe
            max_len = min(self.profile.backbone.max_len, model.config.max_position_embeddings)
            meta: dict[str, Any] = {"vocab_size": len(tokenizer)}
            extra: dict[str, torch.Tensor] = {}  # valid: each position's paragraph [n_positions]
            if split == "train":
                feats, ids = masked_random(
                    model, tokenizer, texts, self.layers(), max_len, seed=p.seed, progress=self.progress
                )
            else:
                feats, ids, meta["masked_positions_per_s"], extra["paragraph"] = one_at_a_time(
                    model, tokenizer, texts, self.layers(), max_len, progress=self.progress
                )
            tensors = {**{f"layer{k}": v for k, v in feats.items()}, "ids": ids, **extra}
            save_file(tensors, str(folder / "features.safetensors"))
            return {**meta, "n_positions": int(len(ids))}

        folder, _ = self.store.build("token-features", key, build)
        return folder, key

    def token_probe(self, layer: int | None = None, system: System | str = "reference") -> tuple[TokenHead, str]:
        layer, system = layer or self.profile.probe.layer, systems.get(system)
        return self.once(f"token-probe:{system.name}:{layer}", lambda: self._token_probe(layer, system))

    def _token_probe(self, layer: int, system: System) -> tuple[TokenHead, str]:
        p = self.profile.probe
        key = self.token_probe_key(layer, system)

        def build(folder: Path) -> dict[str, Any]:
            feat_dir, feat_key = self.token_features(system, "train")
            train = load_file(str(feat_dir / "features.safetensors"))
            vocab = self.store.meta("token-features", feat_key)["vocab_size"]
            X, targets = train[f"layer{layer}"], train["ids"]
            if system.control_task:  # the same features, each target type re-drawn once: a map [vocab]
                labels = control_task_labels(targets.numpy(), vocab, p.seed)
                save_file({"labels": torch.from_numpy(labels)}, str(folder / "control_labels.safetensors"))
                targets = torch.from_numpy(labels[targets.numpy()])
            torch.manual_seed(p.seed)
            head = TokenHead(X.shape[1], vocab, p.activation)
            if system.tied_probe:
                tie_head_blocks(head, self.profile.backbone.n_heads)
            losses = fit(
                head,
                X,
                targets,
                p.token_recipe,
                progress=self.progress,
                desc=f"token probe (block {layer}, {system.name})",
                device=self.device,
                memory_bytes=self.runtime.memory_bytes,
            )
            save_head(head.cpu(), folder / "head.safetensors")
            return {"losses": losses}

        folder, _ = self.store.build("token-probe", key, build)
        return load_head(folder / "head.safetensors"), key

    def token_probe_key(self, layer: int, system: System | str = "reference") -> str:
        p, system = self.profile.probe, systems.get(system)
        return config_hash(
            "token-probe",
            self._features_key(system, "train"),
            layer,
            p.activation,
            *dataclasses.astuple(p.token_recipe),
            *((versions.CONTROL_TASK,) if system.control_task else ()),
            *((versions.TIED_PROBE,) if system.tied_probe else ()),
        )

    def control_labels(self, layer: int, system: System | str) -> np.ndarray:
        """The control task's map ``[vocab]`` from a token type to its re-drawn label, stored with the probe."""
        self.token_probe(layer, system)
        folder = self.store.lookup("token-probe", self.token_probe_key(layer, system))
        return load_file(str(folder / "control_labels.safetensors"))["labels"].numpy()

    def valid_paragraphs(self, system: System | str = "reference") -> np.ndarray:
        """Each validation position's paragraph ``[n_positions]`` (its index among the validation paragraphs)."""
        return self._valid_tensors(systems.get(system))[0]["paragraph"].numpy()

    def valid_features(self, layer: int, system: System | str = "reference") -> tuple[torch.Tensor, np.ndarray, int]:
        """Block-``layer`` validation features ``[n_positions, hidden]`` on the run's device, the targets
        ``[n_positions]`` (a control task's re-drawn by its probe's map) and the vocabulary size."""
        system = systems.get(system)
        valid, vocab = self._valid_tensors(system)
        y = valid["ids"].numpy()
        if system.control_task:  # the validation targets re-drawn by the probe's own map
            y = self.control_labels(layer, system)[y]
        return valid[f"layer{layer}"], y, vocab

    def _valid_tensors(self, system: System) -> tuple[dict[str, torch.Tensor], int]:
        def read():  # the features on the run's device, once per run; the ids and paragraphs on the CPU
            feat_dir, feat_key = self.token_features(system, "valid")
            tensors = load_file(str(feat_dir / "features.safetensors"))
            tensors = {k: v.to(self.device) if k.startswith("layer") else v for k, v in tensors.items()}
            return tensors, self.store.meta("token-features", feat_key)["vocab_size"]

        return self.once(f"valid:{system.features_of}", read)


def _texts_digest(texts: tuple[str, ...]) -> str:
    """sha256 over a user's validation paragraphs (each length-prefixed: no two lists share a digest)."""
    import hashlib

    digest = hashlib.sha256()
    for text in texts:
        raw = text.encode("utf-8")
        digest.update(len(raw).to_bytes(8, "little") + raw)
    return digest.hexdigest()
