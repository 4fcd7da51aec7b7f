"""What a result was computed with: the package and library versions, the checkout's commit and the device.

``report.json`` and ``compare.json`` carry it as ``environment``, so that a before/after comparison of a code
change says which code each side ran.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import time
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


def matmul_speed(device: str = "cpu", size: int = 2048, repeat: int = 3) -> dict[str, Any]:
    """How fast this machine multiplies now: the median rate of ``repeat`` fp32 products ``[size, size] @
    [size, size]`` on ``device`` (TF32 where the runtime allows it on a GPU) at the process's threads, after one
    warm-up (~1 s on two cores). A run's timings are its machine's: the sweeps run at the matrix products' rate,
    and on this project's 2-core machine one sweep subset took 0.22 s on one day and 0.63 s on another
    (docs/performance.md), so a report carries the rate its times were taken at."""
    import torch

    dev = torch.device(device)
    a, b = torch.randn(size, size, device=dev), torch.randn(size, size, device=dev)  # [size, size] each

    def product() -> float:
        started = time.perf_counter()
        a @ b
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        return time.perf_counter() - started

    product()
    seconds = sorted(product() for _ in range(repeat))[repeat // 2]
    return {
        "fp32_matmul_gflops": round(2 * size**3 / seconds / 1e9, 1),
        "shape": [size, size, size],
        "threads": torch.get_num_threads(),
        "device": device,
    }
