"""ssb: the paper "Single-Nodal Spontaneous Symmetry Breaking in NLP Models" as executable claims.

From Python (the CLI and ``pytest claims/`` run the same code)::

    import ssb

    result = ssb.analyze("path/to/bert", profile="cpu")  # heads, single nodes, node subsets of block 6
    result.heads.loc["head0", "token_strings"], result.curves["apt"]  # pandas DataFrames
    verdicts = ssb.evaluate_claims("cpu")  # what `ssb claims --profile cpu` prints

The entry points are imported on first use, so ``import ssb`` stays cheap.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

try:
    __version__ = metadata.version("ssb")
except metadata.PackageNotFoundError:  # a checkout on sys.path without an install
    __version__ = "0.0.0+unknown"

__all__ = ["Analysis", "__version__", "analyze", "evaluate_claims"]


def __getattr__(name: str) -> Any:
    if name in ("Analysis", "analyze", "evaluate_claims"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'ssb' has no attribute {name!r}")
