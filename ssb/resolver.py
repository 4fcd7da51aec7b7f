"""Resolving a system to its artifacts: one place for every backbone, feature set and probe.

A :class:`Resolver` holds one profile, its artifact store, data folder and runtime. Given a system
(``ssb/systems.py``: a :class:`~ssb.systems.System` or its name) it returns the system's backbone, built by
its recipe (pre-trained, a user's ``--model DIR`` as the reference, never trained, or short), its block-L
features and its token probe, each from the store under a key hashing everything upstream of it, or built
there. It also runs node-subset sweeps on
the run's device and memoises per run. The experiments (``ssb/experiments/``) are functions of a resolver
and a system; :class:`~ssb.pipeline.Pipeline` adds their entry points.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from . import aperture, systems
from .artifacts import ArtifactStore
from .checkpoint import shaped_for
from .config import ConfigError, Profile, backbone_key, config_hash, seed_run, variant
from .data import DataError, load_paragraphs
from .device import Runtime, runtime_for
from .features import masked_random, one_at_a_time
from .fingerprint import checkpoint_digest, data_digest, weights_digest
from .model import build_mlm, check_model_folder, load_mlm
from .probe import TokenHead, control_task_labels, load_head, save_head, train_head
from .reference import COMMITTED_PROFILES, MissingReference, committed_store, find_reference
from .systems import Pretrained, RandomInit, Short, System
from .tokenizer import load_tokenizer
from .train import pretrain, pretraining_plan, store_key

CONTROL_TASK_VERSION = "control-task-1"  # joins a control-task probe's key: how its labels are drawn
# joins the validation features' key (2: each position's paragraph stored; 3: no probe seed in the key, as
# masking one token at a time draws nothing: every seed run reads the same validation features)
VALID_FEATURES_VERSION = 3


@dataclass
class Resolver:
    profile: Profile
    store: ArtifactStore
    data_dir: Path | None
    model_dir: Path | None = None  # a user's HF BERT checkpoint instead of the profile's backbone
    retrain: bool = False
    progress: bool = True
    runtime: Runtime | None = None  # default: the profile's [runtime] resolved on this machine
    valid_texts: tuple[str, ...] | None = None  # a user's own validation paragraphs (default: the corpus's)
    seed_index: int = 0  # the seed run this resolver measures (``[seeds]``: run 0 takes each list's first seed)
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)  # when this run began (the time budget's clock)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # the run's listed seeds, run 0's too (seed_run of a profile already set for a run picks the same); a
        # profile given with fewer runs than the index (a run's resolver re-made alone) keeps the seeds it has
        if self.seed_index < self.profile.seeds.n_runs:
            self.profile = seed_run(self.profile, self.seed_index)
        if self.valid_texts is not None:
            self._use_valid_texts()
        if self.model_dir is not None:  # the recipe at the checkpoint's own shape (ssb/checkpoint.py)
            check_model_folder(self.model_dir)
            self.profile = shaped_for(self.profile, self.model_dir)
        if self.runtime is None:
            self.runtime = runtime_for(self.profile.runtime)
        self.runtime.apply()
        # committed artifacts (token probes) of the profile are read, never written, unless retraining
        committed = committed_store(self.profile.name)
        if committed is not None and not self.retrain and self.store.fallback is None:
            self.store = dataclasses.replace(self.store, fallback=committed)

    def _use_valid_texts(self) -> None:
        """A user's validation paragraphs replace the corpus's (their count is ``probe.n_valid_paragraphs``,
        which scales the frequency threshold); their digest joins the validation features' key."""
        texts = tuple(self.valid_texts)
        bad = next((i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()), None)
        if not texts or bad is not None:
            where = "is empty" if not texts else f"item {bad} is not a non-empty string"
            raise ConfigError(f"texts: the validation paragraphs must be non-empty strings; the list {where}")
        self.valid_texts = texts
        self.profile = self.profile.replace(probe={"n_valid_paragraphs": len(texts)})

    # ------------------------------------------------------------------ seed runs (ssb/seeds.py)
    @property
    def n_seed_runs(self) -> int:
        return self.profile.seeds.n_runs

    def seed_run(self, k: int) -> Resolver:
        """This resolver for seed run ``k`` (``config.seed_run``: other probe, subset and FewRel split seeds;
        the same store, data, model and runtime), built once per run; run 0 is this one (its seeds are the
        lists' first, set when it was made)."""
        if k == self.seed_index:
            return self
        self._apply_budget()  # the runs share the plan: the same backbone, the same steps

        def build() -> Resolver:
            memo = {"budget-plan": self.budget_plan} if self.budget_plan else {}
            return dataclasses.replace(self, seed_index=k, timings={}, _memo=memo)

        child = self.once(f"seed-run:{k}", build)
        self.timings.update({f"seed{k}:{name}": t for name, t in child.timings.items()})
        return child

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

    def predictions(self, head, X: torch.Tensor, masks: np.ndarray):
        """:func:`aperture.iter_predictions` on the run's device: ``(mask row, predictions [n_positions])``."""
        head, X = head.to(self.device), X.to(self.device)
        n_classes = head.out.weight.shape[0]
        return aperture.iter_predictions(head, X, masks, chunks=self._chunks(head, X, n_classes))

    def prediction_matrix(self, head, X: torch.Tensor, masks: np.ndarray, desc: str) -> np.ndarray:
        """Every mask's predictions at once, ``[n_masks, n_positions]`` int32 (a row per mask, in its order),
        with a progress bar of label ``desc``."""
        from tqdm.auto import tqdm

        out = np.empty((len(masks), X.shape[0]), dtype=np.int32)  # [n_masks, n_positions]
        predictions = self.predictions(head, X, masks)
        for row, pred in tqdm(predictions, total=len(masks), desc=desc, disable=not self.progress, mininterval=2.0):
            out[row] = pred
        return out

    def sweep(self, head, X: torch.Tensor, y: np.ndarray, masks: np.ndarray, n_classes: int, desc: str):
        """:func:`aperture.evaluate_subsets` with the head and the features on the run's device."""
        head, X = head.to(self.device), X.to(self.device)
        chunks = self._chunks(head, X, n_classes)
        return aperture.evaluate_subsets(
            head, X, y, masks, n_classes, chunks=chunks, desc=desc if self.progress else None
        )

    def once(self, name: str, compute: Callable[[], Any]) -> Any:
        if name not in self._memo:
            started = time.time()
            self._memo[name] = compute()
            self.timings[name] = round(time.time() - started, 2)
        return self._memo[name]

    def cached_json(self, kind: str, key: str, compute: Callable[[], dict[str, Any]], what: str = "") -> dict[str, Any]:
        """``compute()``'s JSON, stored as ``kind/key``; ``what`` (a label of the work) joins the manifest's
        meta beside its ``build_s``, so a store says what each entry of a cold run cost."""

        def build(folder: Path) -> dict[str, Any]:
            (folder / "result.json").write_text(json.dumps(compute(), indent=1))
            return {"what": what} if what else {}

        folder, _ = self.store.build(kind, key, build)
        return json.loads((folder / "result.json").read_text())

    # ------------------------------------------------------------------ backbones
    def backbone(self, system: System | str = "reference") -> tuple[Path, str]:
        """``(folder, id)`` of a system's backbone: the user's, the committed one, trained, or never trained
        (by its recipe, ``ssb/systems.py``). The id of a trained one covers its weights, so everything keyed
        by it is rebuilt when the weights change (``--retrain``, a new committed reference) and only then."""
        system = systems.get(system)
        self._apply_budget()

        def resolve() -> tuple[Path, str]:
            match system.backbone:
                case RandomInit(seed=seed):
                    folder, key = self.random_backbone(seed)
                case Short(variant=name):
                    folder, key = self._short_backbone(name)
                case Pretrained(variant=name):
                    folder, key = self._pretrained(name)
                case other:
                    raise TypeError(f"system {system.name!r}: unknown backbone recipe {other!r}")
            if key.startswith("external-"):
                return folder, key
            return folder, config_hash("backbone-weights", key, weights_digest(folder, self.store.root))

        return self.once(f"backbone:{system.features_of}", resolve)

    def _apply_budget(self) -> None:
        """With ``runtime.time_budget_s``: the plan (``ssb/budget.py``) sets this run's ``pretrain.max_steps``
        and ``fewrel.epochs``, once, before any key is computed; stored, so the same command on the same
        machine resumes with the same steps. An external ``--model`` has no pre-training to budget."""
        rt = self.profile.runtime
        if rt.time_budget_s <= 0 or self.model_dir is not None or "budget-plan" in self._memo:
            return
        from .budget import plan
        from .data import load_fewrel
        from .train import calibrate

        self._memo["budget-plan"] = None  # the plan's own work (the tokenizer, the data) must not re-enter
        key = config_hash(
            "budget-plan",
            backbone_key(self.profile),
            self.profile.fewrel,
            self.data_id("corpus"),
            rt.time_budget_s,
            rt.pretrain_share,
            rt.fewrel_share,
            self.runtime.record(),
        )

        def compute() -> dict[str, Any]:
            print(
                f"[ssb] time budget {rt.time_budget_s:g} s: measuring the pre-training step time on this machine",
                flush=True,
            )
            measured = calibrate(self.profile, self.store, self.data_dir, self.runtime)
            fr = self.profile.fewrel
            chosen = plan(
                rt.time_budget_s,
                pretrain_share=rt.pretrain_share,
                fewrel_share=rt.fewrel_share,
                s_per_step=measured["s_per_step"],
                tokens_per_step=measured["tokens_per_step"],
                calibration_steps=int(measured["steps"]),
                positions_per_step=measured["positions_per_step"],
                fewrel_positions_per_step=fr.batch_size * fr.max_len,
                fewrel_train_sentences=len(load_fewrel(fr, self.data_dir).train),
                fewrel_batch_size=fr.batch_size,
                fewrel_max_epochs=fr.epochs,
                spent_s=time.monotonic() - self.started,
            )
            return chosen.record()

        record = self.cached_json("budget-plan", key, compute)
        print(
            f"[ssb] time budget {rt.time_budget_s:g} s: {record['pretrain_steps']} pre-training steps at "
            f"{record['s_per_step']:.3g} s/step, FewRel {record['fewrel_epochs']:g} epochs",
            flush=True,
        )
        steps, pt = record["pretrain_steps"], self.profile.pretrain
        self.profile = self.profile.replace(
            # checkpoints and evaluations are not in the calibrated step time: at most 10 and 5 of them
            pretrain={
                "max_steps": steps,
                "save_steps": max(pt.save_steps, -(-steps // 10)),
                "eval_steps": max(pt.eval_steps, -(-steps // 5)) if pt.eval_steps else 0,
            },
            fewrel={"epochs": record["fewrel_epochs"]},
        )
        self._memo["budget-plan"] = record

    @property
    def budget_plan(self) -> dict[str, Any] | None:
        """The time budget's plan of this run (None without a budget)."""
        return self._memo.get("budget-plan")

    def data_id(self, section: str) -> str:
        """The digest of the data a ``[corpus]`` or ``[fewrel]`` section reads (cached per run)."""
        return self.once(
            f"data:{section}", lambda: data_digest(getattr(self.profile, section), self.data_dir, self.store.root)
        )

    def _pretrained(self, name: str) -> tuple[Path, str]:
        """Variant ``name`` at the profile's budget: the user's model (the reference under ``--model``), one
        trained here on this corpus, the committed one, or pre-trained now."""
        if self.model_dir is not None and name == "reference":
            check_model_folder(self.model_dir)
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
        if name != "reference" and not self.profile.variants.train_full:
            raise MissingReference(
                f"the '{name}' backbone is not pre-trained at profile '{self.profile.name}' ([variants] "
                "train_full = false: the full-budget variants are left to another run)"
            )
        if not self.retrain:  # nothing long starts without saying so, and nothing is said before the data is read
            store_key(profile, self.store, self.data_dir, self.runtime)  # a missing corpus fails here, silently
            print(
                f"[ssb] no trained or committed '{name}' backbone matches profile '{profile.name}' (backbone config "
                f"hash {key}; committed: {', '.join(COMMITTED_PROFILES)}): pre-training it now, "
                f"{pretraining_plan(profile)}",
                flush=True,
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

    def random_backbone(self, seed: int | None = None) -> tuple[Path, str]:
        """A randomly initialised (never trained) BERT of the profile's shape, with its tokenizer; for a user's
        checkpoint, a model of its family built from its config.json (the same shape and vocabulary).
        ``seed``: its initialisation seed (None: ``backbone.seed``; another joins the key)."""
        ref_dir, ref_id = self.backbone()
        init_seed = self.profile.backbone.seed if seed is None else seed
        key = config_hash("random-backbone", ref_id, self.profile.backbone, *(() if seed is None else (seed,)))

        def build(folder: Path) -> None:
            tokenizer = load_tokenizer(ref_dir)
            if self.model_dir is not None:  # a user's checkpoint: its own family and config, new weights
                from transformers import AutoConfig, AutoModelForMaskedLM

                torch.manual_seed(init_seed)
                model = AutoModelForMaskedLM.from_config(AutoConfig.from_pretrained(str(ref_dir)))
            else:
                backbone = dataclasses.replace(self.profile.backbone, seed=init_seed)
                model = build_mlm(backbone, len(tokenizer), tokenizer.pad_token_id)
            model.save_pretrained(str(folder))
            tokenizer.save_pretrained(str(folder))

        return self.store.build("random-backbone", key, build)[0], key

    # ------------------------------------------------------------------ token side (pre-training)
    def layers(self) -> tuple[int, ...]:
        """Blocks whose features are extracted: the probe's block and the depth sweep's."""
        return tuple(sorted({self.profile.probe.layer, *self.profile.probe.depth_layers}))

    def _features_key(self, system: System | str, split: str) -> str:
        system = systems.get(system)
        _, bb_id = self.backbone(system)
        p, c = self.profile.probe, self.profile.corpus
        return config_hash(
            "token-features",
            *((split, VALID_FEATURES_VERSION) if split == "valid" else (split,)),
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
                paragraphs = load_paragraphs(self.profile.corpus, self.data_dir)
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
            losses = train_head(
                head,
                X,
                targets,
                epochs=p.token_epochs,
                lr=p.token_lr,
                weight_decay=p.token_weight_decay,
                batch_size=p.batch_size,
                seed=p.seed,
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
            p.token_epochs,
            p.token_lr,
            p.token_weight_decay,
            p.batch_size,
            p.seed,
            *((CONTROL_TASK_VERSION,) if system.control_task else ()),
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
