"""Experiments: everything a claim measures, each computed once and cached in the artifact store.

``Pipeline`` ties the data flow together for one profile: backbone (committed reference, trained, or a
user's ``--model DIR``) -> features -> probe -> aperture sweeps -> metrics. Every product is stored
under a key hashing everything upstream of it, so a warm run reads JSON and safetensors only.
Each experiment returns a JSON-ready dict; the claims engine reads its numbers from there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from . import aperture
from .artifacts import ArtifactStore
from .config import ConfigError, Profile, backbone_key, config_hash, variant
from .data import DataError, load_fewrel, load_paragraphs
from .device import Runtime, runtime_for
from .features import cls_vectors, masked_random, one_at_a_time
from .fingerprint import checkpoint_digest, data_digest, weights_digest
from .hull import attainable_labels
from .metrics import summarise
from .model import build_mlm, check_bert_folder, head_spread, load_mlm
from .probe import LabelHead, TokenHead, load_head, save_head, train_head
from .reference import COMMITTED_PROFILES, MissingReference, find_reference, reference_store
from .tokenizer import load_tokenizer
from .train import finetune_fewrel, pretrain, store_key

SHORT = "short:"  # backbone names of the variants pre-trained at the in-run budget of ``[variants]``
METRIC_FIELDS = (
    "n_pos",
    "apt",
    "random_guess",
    "diagonal_confidence",
    "n_predicted",
    "accuracy",
    "zero_diagonal_fraction",
)
SWEEP_VERSION = 4  # bump when a sweep's stored content changes (4: zero_diagonal_fraction)


def _results_summary(results: list[aperture.SubsetResult]) -> dict[str, Any]:
    """Mean/std/min/max of every metric over a group of subsets, and the per-subset values."""
    return {
        "n_subsets": len(results),
        **{name: summarise(getattr(r.metrics, name) for r in results) for name in METRIC_FIELDS},
        "per_subset": [r.metrics.as_dict() for r in results],
    }


@dataclass
class Pipeline:
    profile: Profile
    store: ArtifactStore
    data_dir: Path | None
    model_dir: Path | None = None  # a user's HF BERT checkpoint instead of the profile's backbone
    retrain: bool = False
    progress: bool = True
    runtime: Runtime | None = None  # default: the profile's [runtime] resolved on this machine
    timings: dict[str, float] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.model_dir is not None:
            self._check_model_layers()
        if self.runtime is None:
            self.runtime = runtime_for(self.profile.runtime)
        self.runtime.apply()
        # committed artifacts (token probes) of the profile are read, never written, unless retraining
        committed = reference_store(self.profile.name)
        if committed is not None and not self.retrain and self.store.fallback is None:
            self.store = dataclasses.replace(self.store, fallback=committed)

    def _check_model_layers(self) -> None:
        """A user's checkpoint has its own depth: the blocks read from it must exist (one ConfigError)."""
        check_bert_folder(self.model_dir)
        n_layers = json.loads((self.model_dir / "config.json").read_text()).get("num_hidden_layers")
        p = self.profile.probe
        for name, blocks in (("probe.layer", (p.layer,)), ("probe.depth_layers", p.depth_layers)):
            if isinstance(n_layers, int) and any(not 1 <= b <= n_layers for b in blocks):
                raise ConfigError(
                    f"--model {self.model_dir}: field '{name}' must lie in 1..{n_layers} (the checkpoint's "
                    f"num_hidden_layers), got {list(blocks) if len(blocks) > 1 else blocks[0]}"
                )

    # ------------------------------------------------------------------ plumbing
    @property
    def device(self) -> torch.device:
        return self.runtime.torch_device

    def _chunks(self, head: torch.nn.Module, X: torch.Tensor, n_classes: int) -> aperture.Chunks:
        """The CPU's measured chunk sizes, or on a GPU the largest within ``runtime.gpu_memory_gib``."""
        if not self.runtime.is_cuda:
            return aperture.Chunks()
        width = head.first.weight.shape[0] if head.first is not None else n_classes
        return aperture.plan_chunks(X.shape[1], width, n_classes, self.runtime.memory_bytes)

    def _sweep(self, head, X: torch.Tensor, y: np.ndarray, masks: np.ndarray, n_classes: int, desc: str):
        """:func:`aperture.evaluate_subsets` with the head and the features on the run's device."""
        head, X = head.to(self.device), X.to(self.device)
        chunks = self._chunks(head, X, n_classes)
        return aperture.evaluate_subsets(
            head, X, y, masks, n_classes, chunks=chunks, desc=desc if self.progress else None
        )

    def _once(self, name: str, compute: Callable[[], Any]) -> Any:
        if name not in self._memo:
            started = time.time()
            self._memo[name] = compute()
            self.timings[name] = round(time.time() - started, 2)
        return self._memo[name]

    def _cached_json(self, kind: str, key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        def build(folder: Path) -> None:
            (folder / "result.json").write_text(json.dumps(compute(), indent=1))

        folder, _ = self.store.build(kind, key, build)
        return json.loads((folder / "result.json").read_text())

    # ------------------------------------------------------------------ backbones
    def backbone(self, name: str = "reference") -> tuple[Path, str]:
        """``(folder, id)`` of a pre-trained MLM backbone: the user's, the committed one, or trained. The id
        covers the backbone's weights, so everything keyed by it is rebuilt when the weights change
        (``--retrain``, a new committed reference) and only then."""

        def resolve() -> tuple[Path, str]:
            folder, key = self._backbone(name)
            if key.startswith("external-"):
                return folder, key
            return folder, config_hash("backbone-weights", key, weights_digest(folder, self.store.root))

        return self._once(f"backbone:{name}", resolve)

    def data_id(self, section: str) -> str:
        """The digest of the data a ``[corpus]`` or ``[fewrel]`` section reads (cached per run)."""
        return self._once(
            f"data:{section}", lambda: data_digest(getattr(self.profile, section), self.data_dir, self.store.root)
        )

    def _backbone(self, name: str) -> tuple[Path, str]:
        if name.startswith(SHORT):
            return self._short_backbone(name.removeprefix(SHORT))
        if self.model_dir is not None and name == "reference":
            check_bert_folder(self.model_dir)
            return self.model_dir, "external-" + config_hash(
                "external", checkpoint_digest(self.model_dir, self.store.root)
            )
        profile = variant(self.profile, name)
        key = backbone_key(profile)
        if not self.retrain:
            try:  # a backbone trained here on this very corpus comes first
                trained_here = self.store.lookup(
                    "backbone", store_key(profile, self.store, self.data_dir, self.runtime)
                )
            except DataError:  # without the corpus nothing trained on it can be identified
                trained_here = None
            if trained_here is not None:
                return trained_here, key
            if (committed := find_reference(profile, name)) is not None:
                return committed, key
            if profile.name in COMMITTED_PROFILES:
                raise MissingReference(
                    f"no committed '{name}' backbone for the '{profile.name}' profile "
                    f"(ssb/reference/{profile.name}/{name}/). "
                    f"Train it with `ssb train --profile {profile.name} --variant {name}` "
                    f"(the cpu profile's: ~3 min on one GPU, ~3 h on two cores) "
                    f"and commit it with `ssb reference --profile {profile.name} --variant {name}`, or retrain "
                    f"everything with --retrain / --ssb-retrain."
                )
        folder, _ = pretrain(
            profile, self.store, self.data_dir, force=self.retrain, progress=self.progress, runtime=self.runtime
        )
        return folder, key

    def _short_backbone(self, name: str) -> tuple[Path, str]:
        """Variant ``name`` pre-trained at the in-run budget of ``[variants]`` (symmetric comparison).

        The short backbones share the reference backbone's vocabulary (its ``tokenizer.json`` joins their
        key), so that the comparison at equal budget reads the same pieces with the same ids.
        """
        v = self.profile.variants
        short = self.profile.replace(
            pretrain={
                "max_steps": v.symmetric_steps,
                "save_steps": v.symmetric_steps,
                "eval_steps": 0,
                "batch_size": v.symmetric_batch_size or self.profile.pretrain.batch_size,
            },
            corpus={"n_train": v.symmetric_n_train},
        )
        vocabulary, _ = self.backbone()
        folder, _ = pretrain(
            variant(short, name),
            self.store,
            self.data_dir,
            progress=self.progress,
            tokenizer_from=vocabulary,
            runtime=self.runtime,
        )
        return folder, json.loads((folder / "record.json").read_text())["store_key"]

    def random_backbone(self) -> tuple[Path, str]:
        """A randomly initialised (never trained) BERT of the profile's shape, with its tokenizer."""
        ref_dir, ref_id = self.backbone()
        key = config_hash("random-backbone", ref_id, self.profile.backbone)

        def build(folder: Path) -> None:
            tokenizer = load_tokenizer(ref_dir)
            build_mlm(self.profile.backbone, len(tokenizer), tokenizer.pad_token_id).save_pretrained(str(folder))
            tokenizer.save_pretrained(str(folder))

        return self.store.build("random-backbone", key, build)[0], key

    # ------------------------------------------------------------------ token side (pre-training)
    def layers(self) -> tuple[int, ...]:
        """Blocks whose features are extracted: the probe's block and the depth sweep's."""
        return tuple(sorted({self.profile.probe.layer, *self.profile.probe.depth_layers}))

    def _features_key(self, name: str, split: str) -> str:
        _, bb_id = self.backbone(name)
        p, c = self.profile.probe, self.profile.corpus
        return config_hash(
            "token-features",
            split,
            bb_id,
            self.layers(),
            self._n_paragraphs(name, split),
            p.seed,
            c,
            self.profile.backbone.max_len,
            self.data_id("corpus"),
        )

    def _n_paragraphs(self, name: str, split: str) -> int:
        """Paragraphs whose features are extracted (the short backbones' probes train on fewer)."""
        if split == "valid":
            return self.profile.probe.n_valid_paragraphs
        return (
            self.profile.variants.symmetric_probe_paragraphs
            if name.startswith(SHORT)
            else self.profile.probe.n_train_paragraphs
        )

    def token_features(self, name: str = "reference", split: str = "valid") -> tuple[Path, str]:
        """Cached features of every block in :meth:`layers`, ``[n_positions, hidden]`` each, with true ids.

        ``train``: random 15 % masking of the training paragraphs; ``valid``: one token at a time.
        """
        bb_dir, _ = self.backbone(name)
        key = self._features_key(name, split)
        n = self._n_paragraphs(name, split)

        def build(folder: Path) -> dict[str, Any]:
            paragraphs = load_paragraphs(self.profile.corpus, self.data_dir)
            tokenizer = load_tokenizer(bb_dir)
            model = load_mlm(bb_dir).to(self.device)
            p = self.profile.probe
            max_len = min(self.profile.backbone.max_len, model.config.max_position_embeddings)
            meta: dict[str, Any] = {"vocab_size": len(tokenizer)}
            if split == "train":
                feats, ids = masked_random(
                    model, tokenizer, paragraphs.train[:n], self.layers(), max_len, seed=p.seed, progress=self.progress
                )
            else:
                feats, ids, meta["masked_positions_per_s"] = one_at_a_time(
                    model, tokenizer, paragraphs.valid[:n], self.layers(), max_len, progress=self.progress
                )
            save_file({**{f"layer{k}": v for k, v in feats.items()}, "ids": ids}, str(folder / "features.safetensors"))
            return {**meta, "n_positions": int(len(ids))}

        folder, _ = self.store.build("token-features", key, build)
        return folder, key

    def token_probe(self, layer: int | None = None, name: str = "reference") -> tuple[TokenHead, str]:
        layer = layer or self.profile.probe.layer
        return self._once(f"token-probe:{name}:{layer}", lambda: self._token_probe(layer, name))

    def _token_probe(self, layer: int, name: str) -> tuple[TokenHead, str]:
        p = self.profile.probe
        key = self.token_probe_key(layer, name)

        def build(folder: Path) -> dict[str, Any]:
            feat_dir, feat_key = self.token_features(name, "train")
            train = load_file(str(feat_dir / "features.safetensors"))
            vocab = self.store.meta("token-features", feat_key)["vocab_size"]
            X = train[f"layer{layer}"]
            torch.manual_seed(p.seed)
            head = TokenHead(X.shape[1], vocab, p.activation)
            losses = train_head(
                head,
                X,
                train["ids"],
                epochs=p.token_epochs,
                lr=p.token_lr,
                weight_decay=p.token_weight_decay,
                batch_size=p.batch_size,
                seed=p.seed,
                progress=self.progress,
                desc=f"token probe (block {layer}, {name})",
                device=self.device,
                memory_bytes=self.runtime.memory_bytes,
            )
            save_head(head.cpu(), folder / "head.safetensors")
            return {"losses": losses}

        folder, _ = self.store.build("token-probe", key, build)
        return load_head(folder / "head.safetensors"), key

    def token_probe_key(self, layer: int, name: str = "reference") -> str:
        p = self.profile.probe
        return config_hash(
            "token-probe",
            self._features_key(name, "train"),
            layer,
            p.activation,
            p.token_epochs,
            p.token_lr,
            p.token_weight_decay,
            p.batch_size,
            p.seed,
        )

    def _valid(self, layer: int, name: str = "reference") -> tuple[torch.Tensor, np.ndarray, int]:
        def read():  # the features on the run's device, once per run; the true ids on the CPU
            feat_dir, feat_key = self.token_features(name, "valid")
            tensors = load_file(str(feat_dir / "features.safetensors"))
            tensors = {k: v if k == "ids" else v.to(self.device) for k, v in tensors.items()}
            return tensors, self.store.meta("token-features", feat_key)["vocab_size"]

        valid, vocab = self._once(f"valid:{name}", read)
        return valid[f"layer{layer}"], valid["ids"].numpy(), vocab

    def _token_sweep(
        self,
        label: str,
        masks_by_group: dict[str, np.ndarray],
        layer: int | None = None,
        name: str = "reference",
        keep_recognised: bool = False,
    ) -> dict[str, Any]:
        layer = layer or self.profile.probe.layer
        head, probe_key = self.token_probe(layer, name)
        masks_hash = {g: hashlib.sha256(m.tobytes()).hexdigest() for g, m in masks_by_group.items()}
        key = config_hash("token-sweep", SWEEP_VERSION, label, probe_key, masks_hash)

        def compute() -> dict[str, Any]:
            X, y, vocab = self._valid(layer, name)
            out: dict[str, Any] = {
                "vocab_size": vocab,
                "n_positions": int(len(y)),
                "n_distinct_tokens": int(len(np.unique(y))),
            }
            for group, masks in masks_by_group.items():
                results = self._sweep(head, X, y, masks, vocab, f"sweep {label} (block {layer}), {group}")
                out[group] = _results_summary(results)
                if keep_recognised:
                    out[group]["recognised"] = [r.recognised.tolist() for r in results]
            return out

        return self._cached_json("token-sweep", key, compute)

    def head_table(self, name: str = "reference", layer: int | None = None) -> dict[str, Any]:
        """Table 1 and Fig. 3: each head, n heads together (1, 2, 4, all), with recognised tokens."""
        D, H = self.profile.backbone.hidden, self.profile.backbone.n_heads
        groups = {"1": aperture.each_head(D, H)}
        for n in (2, 4):
            if n < H:
                groups[str(n)] = aperture.n_heads_subsets(D, H, n, H, seed=self.profile.sweep.seed)
        groups["all"] = np.ones((1, D), dtype=bool)
        return self._token_sweep(f"heads:{name}", groups, layer, name, keep_recognised=True)

    def token_node_sweep(
        self, within_head: bool = False, name: str = "reference", counts: tuple[int, ...] | None = None
    ) -> dict[str, Any]:
        """Fig. 4: n random nodes (or n nodes within one head), ``n_subsets`` subsets per n, for every n in
        ``counts`` (default: the profile's ``sweep.node_counts``) on backbone ``name``."""
        D, H, sw = self.profile.backbone.hidden, self.profile.backbone.n_heads, self.profile.sweep
        counts = [n for n in (counts or sw.node_counts) if not within_head or n <= D // H]

        def make(n: int) -> np.ndarray:  # one node is one node, within a head or not: every single node
            if within_head and n > 1:
                return aperture.nodes_within_head(D, H, n, sw.n_subsets, sw.seed)
            return aperture.node_sweep_subsets(D, n, sw.n_subsets, sw.seed)

        label = ("within-head" if within_head else "random") + ("" if name == "reference" else f":{name}")
        return self._token_sweep(f"nodes:{label}", {str(n): make(n) for n in counts}, name=name)

    def valid_token_counts(self, name: str = "reference") -> dict[int, int]:
        """How often each token occurs among the validation positions (each masked once)."""
        _, y, _ = self._valid(self.profile.probe.layer, name)
        ids, counts = np.unique(y, return_counts=True)
        return dict(zip(ids.tolist(), counts.tolist(), strict=True))

    def depth(self) -> dict[str, Any]:
        """Per-head metrics at every block of ``probe.depth_layers`` (§7: prominence along the blocks)."""
        return {str(layer): self.head_table(layer=layer) for layer in self.profile.probe.depth_layers}

    # ------------------------------------------------------------------ FewRel side (fine-tuning)
    def fewrel(self, system: str = "finetuned") -> dict[str, Any]:
        """Label-head experiments on a FewRel system, on [CLS] features of block L.

        ``finetuned``: the pre-trained backbone fine-tuned on FewRel, with a label head trained on its
        features. ``random``: the system at initialisation (random backbone, untrained head), and beside
        it (``trained_head``) a head trained on the random backbone's features."""
        return self._once(f"fewrel:{system}", lambda: self._fewrel(system))

    def _fewrel(self, system: str) -> dict[str, Any]:
        # the random system is never fine-tuned: its classifier is stored untrained (epochs = 0)
        bb_dir, bb_id = self.backbone() if system == "finetuned" else self.random_backbone()
        model_dir, _ = finetune_fewrel(
            self.profile,
            bb_dir,
            self.store,
            self.data_dir,
            backbone_id=bb_id,
            data_id=self.data_id("fewrel"),
            progress=self.progress,
            epochs=None if system == "finetuned" else 0,
            runtime=self.runtime,
        )
        fr, p, sw = self.profile.fewrel, self.profile.probe, self.profile.sweep
        key = config_hash(
            "fewrel-sweep",
            SWEEP_VERSION,
            system,
            bb_id,
            self.data_id("fewrel"),
            fr,
            p.layer,
            p.label_epochs,
            p.label_lr,
            p.label_weight_decay,
            p.batch_size,
            p.seed,
            sw,
        )
        if system == "finetuned":  # measured on a model the runtime fine-tuned
            key = self.runtime.tag_key(key)

        def compute() -> dict[str, Any]:
            from transformers import BertForSequenceClassification

            split = load_fewrel(fr, self.data_dir)
            tokenizer = load_tokenizer(model_dir)
            model = BertForSequenceClassification.from_pretrained(str(model_dir), use_safetensors=True).to(self.device)

            def texts(instances):
                return [x.marked_text() for x in instances]

            X_train = cls_vectors(model, tokenizer, texts(split.train), (p.layer,), fr.max_len, progress=self.progress)[
                p.layer
            ]
            X_test = cls_vectors(model, tokenizer, texts(split.test), (p.layer,), fr.max_len, progress=self.progress)[
                p.layer
            ]
            y_train, y_test = torch.tensor([x.label for x in split.train]), np.array([x.label for x in split.test])
            n_labels = len(split.relations)

            def label_head(trained: bool) -> LabelHead:
                torch.manual_seed(p.seed)
                head = LabelHead(X_train.shape[1], n_labels)  # [n_labels, hidden] + bias
                if trained:
                    train_head(
                        head,
                        X_train,
                        y_train,
                        epochs=p.label_epochs,
                        lr=p.label_lr,
                        weight_decay=p.label_weight_decay,
                        batch_size=p.batch_size,
                        seed=p.seed,
                        progress=self.progress,
                        desc=f"label head ({system})",
                        device=self.device,
                        memory_bytes=self.runtime.memory_bytes,
                    )
                return head.cpu().eval()

            out: dict[str, Any] = {"n_labels": n_labels, "n_test": int(len(y_test)), "n_train": int(len(y_train))}
            if system == "finetuned":
                out.update(self._label_sweeps(label_head(True), X_test, y_test, n_labels))
            else:
                # the paper's random system is the network at initialisation, head included; a head trained
                # on the random backbone's features is measured beside it for comparison
                out.update(self._label_sweeps(label_head(False), X_test, y_test, n_labels))
                out["trained_head"] = self._label_sweeps(label_head(True), X_test, y_test, n_labels)
            return out

        return self._cached_json("fewrel-sweep", key, compute)

    def _label_sweeps(self, head: LabelHead, X: torch.Tensor, y: np.ndarray, n_labels: int) -> dict[str, Any]:
        """Node sweep (Fig. 5) and hull bounds (Fig. 6) of a label head on test features ``X`` ``[n, hidden]``."""
        sw = self.profile.sweep
        D = X.shape[1]
        nodes = {}
        for n in sw.node_counts:
            masks = aperture.node_sweep_subsets(D, n, sw.n_subsets, sw.seed)
            nodes[str(n)] = _results_summary(self._sweep(head, X, y, masks, n_labels, f"FewRel sweep, {n} nodes"))
        W, b = head.out.weight.detach().cpu().double().numpy(), head.out.bias.detach().cpu().double().numpy()
        hull = {}
        for n, count in zip(sw.hull_counts, sw.hull_subsets, strict=True):
            masks = aperture.random_nodes(D, n, count, sw.seed + 17)
            results = self._sweep(head, X, y, masks, n_labels, f"FewRel hull, {n} nodes")
            hull[str(n)] = {
                "n_pos": [r.metrics.n_pos for r in results],
                "bound": [len(attainable_labels(W[:, m], b)) for m in masks],
                "n_predicted": [r.metrics.n_predicted for r in results],
            }
        return {"nodes": nodes, "hull": hull}

    # ------------------------------------------------------------------ symmetric initialisation
    def symmetric(self) -> dict[str, Any]:
        """Equal short budgets for a normal, a symmetric (no attention dropout) and a symmetric with
        attention dropout backbone: head spread, held-out MLM accuracy, and recognised tokens per head."""
        return self._once("symmetric", self._symmetric)

    def _symmetric(self) -> dict[str, Any]:
        """With ``variants.symmetric_full_budget`` the reference and the symmetric variant come at the
        reference's own budget (committed or trained: ``full``), and only the symmetric backbone with
        attention dropout, whose one question is whether its heads separate, trains at the short in-run
        budget (no token probe). Without it, all three are short in-run backbones with token probes."""
        v = self.profile.variants
        if v.symmetric_full_budget and self.model_dir is None:
            short = self._symmetry_record(SHORT + "symmetric-attention-dropout", with_tokens=False)
            return {
                "symmetric-attention-dropout": short,
                "full": {name: self._symmetry_record(name) for name in ("reference", "symmetric")},
            }
        return {
            name: self._symmetry_record(SHORT + name)
            for name in ("reference", "symmetric", "symmetric-attention-dropout")
        }

    def _symmetry_record(self, name: str, with_tokens: bool = True) -> dict[str, Any]:
        """Head spread, MLM accuracy and (``with_tokens``) the tokens each head recognises through the
        block-L token probe of a backbone."""
        folder, _ = self.backbone(name)
        record = json.loads((folder / "record.json").read_text())
        out = {
            "head_spread": head_spread(load_mlm(folder)),
            "mlm_accuracy": record["final_eval"].get("eval_mlm_accuracy"),
            "masked_accuracy": record["final_eval"].get("eval_masked_accuracy"),
            "attention_dropout": record["config"]["backbone"]["attention_dropout"],
            "steps": record["steps"],
        }
        if with_tokens:
            heads = self.head_table(name)["1"]
            per_head = [set(r) for r in heads["recognised"]]
            out.update(
                {
                    "n_pos_per_head": heads["n_pos"]["mean"],
                    "union_recognised": len(set().union(*per_head)),
                    "distinct_head_sets": len({frozenset(h) for h in per_head}),
                }
            )
        return out
