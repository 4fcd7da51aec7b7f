"""The machine a run uses: device, precision, optimiser and data path, resolved from a profile's ``[runtime]``.

``auto`` means, on a machine where torch sees a GPU: the first GPU, bf16 autocast in training where the GPU
has it, fused AdamW, four data-loader workers with pinned memory. On the CPU: fp32, the plain AdamW and
collation in the main process, exactly as every CPU figure of this project was measured. The features, the
probes and the aperture run in fp32 on whichever device (TF32 products allowed on a GPU unless
``runtime.tf32 = false``); only the Trainer's pre-training and fine-tuning use bf16.

``resolve_runtime`` is pure: the machine's facts come in as a :class:`Machine`, so every branch is tested
on a CPU. ``Machine.here()`` asks torch.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

import torch

from .config import RuntimeConfig, config_hash

GPU_WORKERS = 4  # data-loader workers on a GPU machine: collation in the main process starves the GPU


class DeviceError(RuntimeError):
    """The profile asks for a device this machine does not have."""


@dataclass(frozen=True)
class Machine:
    """What torch sees: whether there is a GPU (and how many), whether it computes in bf16, CPU cores."""

    n_gpus: int = 0
    bf16: bool = False
    cpus: int = 1
    gpu_name: str = ""

    @classmethod
    def here(cls) -> Machine:
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        return cls(
            n_gpus=n,
            bf16=bool(n and torch.cuda.is_bf16_supported()),
            cpus=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1),
            gpu_name=torch.cuda.get_device_name() if n else "",
        )


@dataclass(frozen=True)
class Runtime:
    """Resolved ``[runtime]``: no ``auto`` left."""

    device: str  # "cpu" or "cuda:N"
    precision: str  # "fp32" or "bf16" (training autocast)
    optimizer: str  # a TrainingArguments optim name
    dataloader_workers: int
    compile: bool
    tf32: bool
    memory_bytes: int  # bound on what the aperture and the probes hold on the device at once
    device_name: str = ""
    threads: int = 0  # torch's intra-op threads (0: torch's default)

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    def numerics_tag(self) -> str | None:
        """What joins the store key of a model this runtime trains: None for the fp32 recipe every committed
        artifact was made with, so CPU keys never change; "bf16" for a bf16 run, whose weights differ; and the
        threads where ``[runtime] threads`` fixes them (their last bits differ from torch's default's)."""
        parts = ["bf16"] if self.precision == "bf16" else []
        if self.threads:
            parts.append(f"threads={self.threads}")
        return "+".join(parts) or None

    def tag_key(self, key: str) -> str:
        """``key`` of a model this runtime trains (or a result measured on one): unchanged in fp32, joined
        with :meth:`numerics_tag` otherwise."""
        tag = self.numerics_tag()
        return key if tag is None else config_hash(key, "numerics", tag)

    def record(self) -> dict[str, Any]:
        """What a record keeps of the runtime (``threads`` only where set: records, and the key of a time
        budget's plan, stay what they were at torch's default)."""
        return {k: v for k, v in asdict(self).items() if k != "memory_bytes" and not (k == "threads" and v == 0)}

    def apply(self) -> None:
        """Process-wide switches: torch's threads where ``[runtime] threads`` sets them, and what a GPU run
        wants (TF32 products)."""
        if self.threads:
            torch.set_num_threads(self.threads)
        if self.is_cuda:
            torch.backends.cuda.matmul.allow_tf32 = self.tf32
            torch.backends.cudnn.allow_tf32 = self.tf32
            torch.cuda.set_device(self.torch_device)


def resolve_runtime(cfg: RuntimeConfig, machine: Machine) -> Runtime:
    """The runtime ``cfg`` asks for on ``machine``; a GPU asked for and absent is a :class:`DeviceError`."""
    if cfg.device == "auto":
        device = "cuda:0" if machine.n_gpus else "cpu"
    elif cfg.device.startswith("cuda"):
        index = int(cfg.device.partition(":")[2] or 0)
        if index >= machine.n_gpus:
            raise DeviceError(
                f"runtime.device = '{cfg.device}' but torch {torch.__version__} sees "
                f"{machine.n_gpus or 'no'} GPU{'s' if machine.n_gpus != 1 else ''}; use --device cpu or auto"
            )
        device = f"cuda:{index}"
    else:
        device = "cpu"
    gpu = device != "cpu"
    if cfg.precision == "auto":
        precision = "bf16" if gpu and machine.bf16 else "fp32"
    else:
        precision = cfg.precision
    if precision == "bf16" and gpu and not machine.bf16:
        raise DeviceError(f"runtime.precision = 'bf16' but the GPU ({machine.gpu_name or device}) has no bf16")
    optimizer = cfg.optimizer if cfg.optimizer != "auto" else ("adamw_torch_fused" if gpu else "adamw_torch")
    if cfg.dataloader_workers >= 0:
        workers = cfg.dataloader_workers
    else:
        workers = min(GPU_WORKERS, max(machine.cpus - 1, 0)) if gpu else 0
    return Runtime(
        device=device,
        precision=precision,
        optimizer=optimizer,
        dataloader_workers=workers,
        compile=cfg.compile,
        tf32=cfg.tf32,
        memory_bytes=int(cfg.gpu_memory_gib * 2**30),
        device_name=machine.gpu_name if gpu else "cpu",
        threads=cfg.threads,
    )


def runtime_for(cfg: RuntimeConfig) -> Runtime:
    """``cfg`` resolved on this machine."""
    return resolve_runtime(cfg, Machine.here())


def cpu_runtime() -> Runtime:
    """The CPU defaults, for callers that were given no runtime (tests, benchmarks)."""
    return resolve_runtime(RuntimeConfig(device="cpu"), Machine())
