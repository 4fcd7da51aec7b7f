"""Depth (§7): the head table at every block of ``probe.depth_layers``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .heads import head_table

if TYPE_CHECKING:
    from ..resolver import Resolver


def depth(pl: Resolver) -> dict[str, Any]:
    """Per-head metrics at every block of ``probe.depth_layers`` (§7: prominence along the blocks)."""
    return {str(layer): head_table(pl, layer=layer) for layer in pl.profile.probe.depth_layers}
