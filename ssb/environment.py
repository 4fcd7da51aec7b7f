"""What a result was computed with: the package and library versions, the checkout's commit and the device.

``report.json`` and ``compare.json`` carry it as ``environment``, so that a before/after comparison of a code
change says which code each side ran.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path
from typing import Any


def git_commit(folder: Path | None = None) -> str | None:
    """The commit of the checkout that holds the package (``+dirty`` with uncommitted changes to tracked
    files), or None for an installed package or without git."""
    folder = folder or Path(__file__).resolve().parent.parent
    if not (folder / ".git").exists():
        return None
    try:
        commit = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def environment(device: str | None = None) -> dict[str, Any]:
    """``{ssb, git_commit, python, torch, transformers, platform, device}`` of this process."""
    import torch
    import transformers

    from . import __version__

    return {
        "ssb": __version__,
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "platform": platform.platform(),
        "device": device,
    }
