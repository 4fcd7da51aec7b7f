"""Depth (§7): the head table at every block of ``probe.depth_layers``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .heads import head_table

if TYPE_CHECKING:
    from ..resolver import Resolver


def depth(pl: Resolver, name: str = "reference") -> dict[str, Any]:
    """Per-head metrics of system ``name`` at every block of ``probe.depth_layers`` (§7: prominence along the
    blocks); a system other than the reference needs its own token probe at each of those blocks
    (``System.all_blocks``)."""
    return {str(layer): head_table(pl, name, layer=layer) for layer in pl.profile.probe.depth_layers}
