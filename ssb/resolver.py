"""Resolving a system to its artifacts: one place for every backbone, feature set and probe.

A :class:`Resolver` holds one profile, its artifact store, data folder and runtime. Given a system
(``ssb/systems.py``: a :class:`~ssb.systems.System` or its name) it returns the system's backbone, built by
its recipe (pre-trained, a user's ``--model DIR`` as the reference, never trained, or short), its block-L
features and its token probe, each from the store under a key hashing everything upstream of it, or built
there. It also runs node-subset sweeps on the run's device and memoises per run. The experiments
(``ssb/experiments/``) are functions of a resolver and a system; :class:`~ssb.pipeline.Pipeline` adds their
entry points.

The resolver is three rooms over one state: this module keeps the state, the seed runs and the sweeps'
plumbing; ``ssb/backbones.py`` builds backbones (and the time budget's plan); ``ssb/token_artifacts.py``
builds features and token probes.
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

from . import aperture
from .artifacts import ArtifactStore
from .backbones import Backbones
from .checkpoint import shaped_for
from .config import ConfigError, CorpusConfig, Profile, config_hash, seed_run
from .data import Paragraphs, load_paragraphs
from .device import Runtime, runtime_for
from .model import check_model_folder
from .reference import committed_store
from .token_artifacts import TokenArtifacts


@dataclass
class Resolver(Backbones, TokenArtifacts):
    profile: Profile
    store: ArtifactStore
    data_dir: Path | None
    model_dir: Path | None = None  # a user's HF BERT checkpoint instead of the profile's backbone
    retrain: bool = False
    progress: bool = True
    runtime: Runtime | None = None  # default: the profile's [runtime] resolved on this machine
    valid_texts: tuple[str, ...] | None = None  # a user's own validation paragraphs (default: the corpus's)
    seed_index: int = 0  # the seed run this resolver measures (``[seeds]``: run 0 takes each list's first seed)
    # the backbone run this resolver measures (``[seeds] over_backbones``): every backbone it builds starts from
    # these initial conditions (None: the profile's backbone.seed)
    backbone_seed: int | None = None
    # controls swept at every node count and head group (the specificity pass), not only where their checks read
    whole_control_curves: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)  # when this run began (the time budget's clock)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    # the corpus's paragraphs per selection, read once: one dict shared with every run made from this one
    _corpus: dict[str, Paragraphs] = field(default_factory=dict, repr=False)

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
        return self._child(f"seed-run:{k}", f"seed{k}", seed_index=k)

    def backbone_run(self, seed: int) -> Resolver:
        """This resolver on the backbones of initial conditions ``seed`` (``[seeds] over_backbones``): the
        reference is the one pre-trained from ``seed`` (``systems.init_seed``'s backbone), the never-trained
        control its own initialisation from ``seed``; the seed runs, store, data and runtime as they are. Built
        once; the profile's own ``backbone.seed`` gives the profile's own backbones (this resolver, at the root)."""
        target = None if seed == self.profile.backbone.seed else seed  # None: the profile's own backbones
        if target == self.backbone_seed:
            return self
        return self._child(f"backbone-run:{seed}", f"backbone{seed}", backbone_seed=target)

    def probe_seed_run(self, seed: int) -> Resolver:
        """This resolver with ``probe.seed = seed`` (another token probe on the same backbones, its training
        features masked anew; the node subsets and FewRel as they are), built once: the other probe of one
        backbone that the spontaneous-breaking claim's control reads."""
        if seed == self.profile.probe.seed:
            return self
        # an index past the listed runs keeps the seeds given here (__post_init__)
        profile = self.profile.replace(probe={"seed": seed})
        return self._child(f"probe-seed:{seed}", f"probe-seed{seed}", profile=profile, seed_index=self.n_seed_runs)

    def with_whole_curves(self) -> Resolver:
        """This resolver with every control swept as the reference is (``ssb.specificity``: a curve check's
        specificity is decided on the control's whole curve), built once; the groups its checks read are the
        same store entries."""
        if self.whole_control_curves:
            return self
        return self._child("whole-curves", "whole-curves", whole_control_curves=True)

    def _child(self, memo_key: str, timing_prefix: str, **changes: Any) -> Resolver:
        """This resolver with ``changes`` (the same store, data, model and runtime), built once; the runs share
        the budget's plan (the same backbone, the same steps) and report their timings under ``timing_prefix``."""
        self._apply_budget()

        def build() -> Resolver:
            memo = {"budget-plan": self.budget_plan} if self.budget_plan else {}
            return dataclasses.replace(self, **changes, timings={}, _memo=memo)

        child = self.once(memo_key, build)
        self.timings.update({f"{timing_prefix}:{name}": t for name, t in child.timings.items()})
        return child

    # ------------------------------------------------------------------ plumbing
    def paragraphs(self, corpus: CorpusConfig | None = None) -> Paragraphs:
        """The corpus's paragraphs as ``corpus`` selects them (default: the profile's ``[corpus]``), read once
        per run: reading and parsing the corpus file is ~3 s, and a cold run builds dozens of artifacts from it.
        The runs made from this resolver (seed runs, backbone runs) share one cache with it."""
        corpus = corpus or self.profile.corpus
        key = config_hash("paragraphs", corpus, str(self.data_dir))
        if key not in self._corpus:
            started = time.time()
            self._corpus[key] = load_paragraphs(corpus, self.data_dir)
            self.timings[f"paragraphs:{key}"] = round(time.time() - started, 2)
        return self._corpus[key]

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
