"""A system's backbone, built by its recipe (``ssb/systems.py``): the user's model, a committed or stored one,
pre-trained now (announced first), never trained, or short; and the time budget's plan, which sets the
pre-training steps before any key is computed. One part of :class:`~ssb.resolver.Resolver`.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import torch

from . import systems
from .config import backbone_key, config_hash, variant
from .data import DataError
from .fingerprint import checkpoint_digest, data_digest, weights_digest
from .model import build_mlm, check_model_folder
from .reference import COMMITTED_PROFILES, MissingReference, find_reference, reference_dir, train_flags
from .resolver_state import ResolverState
from .systems import Pretrained, RandomInit, Short, System
from .tokenizer import load_tokenizer
from .train import pretrain, pretraining_plan, store_key


class Backbones(ResolverState):
    """The backbone side of a :class:`~ssb.resolver.Resolver` (its state is the resolver's)."""

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
                case Pretrained(variant=name, seed=seed, data_seed=data_seed):
                    folder, key = self._pretrained(name, seed, data_seed)
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
        from .finetune import calibrate_fewrel
        from .train import calibrate, tokenizer_artifact

        self._memo["budget-plan"] = None  # the plan's own work (the tokenizer, the data) must not re-enter
        key = config_hash(
            "budget-plan",
            3,  # 2: calibrated on batches formed as pre-training's; 3: FewRel's step measured (older plans re-plan)
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
            measured = calibrate(self.profile, self.store, self.data_dir, self.runtime, paragraphs=self.paragraphs)
            tokenizer_dir = tokenizer_artifact(self.profile, self.store, self.data_dir, self.paragraphs)
            fewrel = calibrate_fewrel(self.profile, tokenizer_dir, self.data_dir, self.runtime)
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
                fewrel_train_sentences=fewrel["train_sentences"],
                fewrel_batch_size=fr.batch_size,
                fewrel_max_epochs=fr.epochs,
                spent_s=time.monotonic() - self.started,
                fewrel_s_per_step=fewrel["s_per_step"],
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

    def _pretrained(self, name: str, seed: int | None = None, data_seed: int | None = None) -> tuple[Path, str]:
        """Variant ``name`` at the profile's budget (``seed``: from other initial conditions; ``data_seed``:
        with another order of the training paragraphs): the user's model (the reference under ``--model``),
        one trained here on this corpus, the committed one, or pre-trained now."""
        if self.model_dir is not None and name == "reference" and seed is None and data_seed is None:
            check_model_folder(self.model_dir)
            return self.model_dir, "external-" + config_hash(
                "external", checkpoint_digest(self.model_dir, self.store.root)
            )
        profile = variant(self.profile, name)
        label = name
        if seed is None and self.backbone_seed is not None:  # a backbone run (``Resolver.backbone_run``)
            seed = self.backbone_seed
        if seed is not None:
            profile = profile.replace(backbone={"seed": seed})
            label = f"{name} (backbone seed {seed})"
        if data_seed is not None:
            profile = profile.replace(backbone={"data_seed": data_seed})
            label = f"{name} (data seed {data_seed})"
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
            # a seed backbone is committed beside the profile's own (ssb/reference/<profile>/<variant>-seed<n>/,
            # <variant>-order<n>/ for another order of the paragraphs)
            if (committed := find_reference(profile, name, seed, data_seed, self.store.verified)) is not None:
                return committed, key
            if profile.name in COMMITTED_PROFILES and (seed is not None or data_seed is not None):
                flags = train_flags(profile.name, name, seed, data_seed)
                folder = reference_dir(profile.name, name, seed, data_seed).name
                raise MissingReference(
                    f"no committed '{label}' backbone for the '{profile.name}' profile (ssb/reference/"
                    f"{profile.name}/{folder}/): train it with "
                    f"`ssb train {flags}` (the cpu profile's: ~3 min on one H100, ~3 h on two cores) and commit it "
                    f"with `ssb reference {flags} --probes`, or pre-train it here with --retrain / --ssb-retrain"
                )
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
                f"[ssb] no trained or committed '{label}' backbone matches profile '{profile.name}' (backbone config "
                f"hash {key}; committed: {', '.join(COMMITTED_PROFILES)}): pre-training it now, "
                f"{pretraining_plan(profile)}",
                flush=True,
            )
        folder, _ = pretrain(
            profile,
            self.store,
            self.data_dir,
            force=self.retrain,
            progress=self.progress,
            runtime=self.runtime,
            paragraphs=self.paragraphs,
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
        if self.backbone_seed is not None:  # a backbone run: from its initial conditions too
            short = short.replace(backbone={"seed": self.backbone_seed})
        vocabulary, _ = self.backbone()
        folder, _ = pretrain(
            variant(short, name),
            self.store,
            self.data_dir,
            progress=self.progress,
            tokenizer_from=vocabulary,
            runtime=self.runtime,
            paragraphs=self.paragraphs,
        )
        return folder, json.loads((folder / "record.json").read_text())["store_key"]

    def random_backbone(self, seed: int | None = None) -> tuple[Path, str]:
        """A randomly initialised (never trained) BERT of the profile's shape, with its tokenizer; for a user's
        checkpoint, a model of its family built from its config.json (the same shape and vocabulary).
        ``seed``: its initialisation seed (None: ``backbone.seed``; another joins the key)."""
        ref_dir, ref_id = self.backbone()
        if seed is None and self.backbone_seed is not None:  # a backbone run: its own initialisation
            seed = self.backbone_seed
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
