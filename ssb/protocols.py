"""What the measures and the claims engine receive: the pipeline's experiments by system, as protocols.

:class:`~ssb.pipeline.Pipeline` satisfies both; a test may pass anything shaped like them (a measure reads
nothing else). Kept apart from ``ssb/pipeline.py`` so that the measures and the claims engine are typed
without importing torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    import torch

    from .config import Profile
    from .systems import System


class Experiments(Protocol):
    """The experiments a measure reads (``ssb/pipeline.py``), each on a system (a name or a System)."""

    profile: Profile
    model_dir: Path | None

    def backbone(self, system: System | str = ...) -> tuple[Path, str]: ...

    def head_table(
        self, name: str = ..., layer: int | None = ..., only: tuple[str, ...] | None = ...
    ) -> dict[str, Any]: ...

    def head_correctness(self, name: str = ...) -> dict[str, int]: ...

    def token_node_sweep(
        self, within_head: bool = ..., name: str = ..., counts: tuple[int, ...] | None = ...
    ) -> dict[str, Any]: ...

    def fewrel(self, system: System | str = ...) -> dict[str, Any]: ...

    def symmetric(self) -> dict[str, Any]: ...

    def probe_seed_run(self, seed: int) -> Experiments: ...

    def depth(self, name: str = ...) -> dict[str, Any]: ...

    def validation_scale(self, name: str = ...) -> dict[str, Any]: ...

    def valid_token_counts(self, name: str = ...) -> dict[int, int]: ...

    def valid_features(self, layer: int, system: System | str = ...) -> tuple[torch.Tensor, np.ndarray, int]: ...

    def subset_nodes(self, n: int) -> list[list[int]]: ...


class SeedRuns(Experiments, Protocol):
    """The experiments of every seed run of ``[seeds]`` (``ssb/seeds.py``): what a claim is evaluated on."""

    @property
    def n_seed_runs(self) -> int: ...

    def seed_run(self, k: int) -> SeedRuns: ...

    def backbone_run(self, seed: int) -> SeedRuns:
        """The same runs on the backbones of initial conditions ``seed`` (``[seeds] over_backbones``)."""
        ...

    def with_whole_curves(self) -> SeedRuns:
        """The same runs, with every control's node sweep at all of the reference's node counts (the
        specificity pass reads the controls' whole curves)."""
        ...
