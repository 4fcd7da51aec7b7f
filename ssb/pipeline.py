"""The pipeline: one profile's systems resolved to their artifacts (:class:`~ssb.resolver.Resolver`), and
the experiments of ``ssb/experiments/`` as methods, each a one-line entry point that the measures and the
report call. A newcomer reads a claim's numbers as spec -> measure (``ssb/measures/``) -> one of these
methods -> its experiment module -> the resolver's backbone, features and probe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .experiments import depth as depth_experiment
from .experiments import fewrel as fewrel_experiment
from .experiments import heads, nodes, variants
from .resolver import Resolver
from .systems import System


@dataclass
class Pipeline(Resolver):
    # ------------------------------------------------------------------ experiments (ssb/experiments/)
    def head_table(
        self, name: str = "reference", layer: int | None = None, only: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        """Table 1 and Fig. 3 on system ``name``: see :func:`ssb.experiments.heads.head_table`."""
        return heads.head_table(self, name, layer, only)

    def head_correctness(self, name: str = "reference") -> dict[str, int]:
        """§3's hidden correlations on system ``name``: see :func:`ssb.experiments.heads.head_correctness`."""
        return heads.head_correctness(self, name)

    def head_confusion(self, head: int, n_tokens: int = 15) -> dict[str, Any]:
        """One head's confusion matrix on its top tokens: see :func:`ssb.experiments.heads.head_confusion`."""
        return heads.head_confusion(self, head, n_tokens)

    def token_node_sweep(
        self, within_head: bool = False, name: str = "reference", counts: tuple[int, ...] | None = None
    ) -> dict[str, Any]:
        """Fig. 4 on system ``name``: see :func:`ssb.experiments.nodes.token_node_sweep`."""
        return nodes.token_node_sweep(self, within_head, name, counts)

    def validation_scale(self, name: str = "reference") -> dict[str, Any]:
        """The scale knob of the validation set: see :func:`ssb.experiments.nodes.validation_scale`."""
        return nodes.validation_scale(self, name)

    def subset_nodes(self, n: int) -> list[list[int]]:
        return nodes.subset_nodes(self, n)

    def valid_token_counts(self, name: str = "reference") -> dict[int, int]:
        return nodes.valid_token_counts(self, name)

    def depth(self, name: str = "reference") -> dict[str, Any]:
        """§7's blocks on system ``name``: see :func:`ssb.experiments.depth.depth`."""
        return depth_experiment.depth(self, name)

    def fewrel(self, system: System | str = "reference") -> dict[str, Any]:
        """Figs. 5-6: see :func:`ssb.experiments.fewrel.fewrel`."""
        return fewrel_experiment.fewrel(self, system)

    def symmetric(self) -> dict[str, Any]:
        return variants.symmetric(self)
