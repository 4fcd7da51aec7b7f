"""The state that :class:`~ssb.resolver.Resolver`'s parts (:class:`~ssb.backbones.Backbones`,
:class:`~ssb.token_artifacts.TokenArtifacts`) read: declared once here, kept by the resolver (a dataclass,
whose fields these annotations describe; this class makes no fields of its own)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .artifacts import ArtifactStore
from .config import Profile
from .device import Runtime


class ResolverState:
    """The resolver's shared state, as its parts see it."""

    profile: Profile
    store: ArtifactStore
    data_dir: Path | None
    model_dir: Path | None
    retrain: bool
    progress: bool
    runtime: Runtime
    valid_texts: tuple[str, ...] | None
    backbone_seed: int | None
    started: float
    _memo: dict[str, Any]
    once: Callable[..., Any]
    paragraphs: Callable[..., Any]
    cached_json: Callable[..., dict[str, Any]]
