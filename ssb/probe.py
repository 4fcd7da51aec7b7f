"""Classifier heads trained on cached features (the backbone stays frozen and never runs here).

- ``TokenHead``: the paper's token head, two fully connected layers without biases,
  ``[hidden] -> [probe_hidden] -> [vocab]`` with a configurable activation between them (GELU default).
- ``LabelHead``: the FewRel head, one fully connected layer with bias, ``[hidden] -> [n_labels]``.
Both expose ``first`` (a Linear or None), ``act`` and ``out`` so the aperture can evaluate them under
silenced inputs. Training: AdamW, weight decay as L2, linear decay to zero without warm-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm.auto import tqdm

if TYPE_CHECKING:
    from .sections import HeadRecipe

ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU, "identity": nn.Identity}


class TokenHead(nn.Module):
    def __init__(self, n_inputs: int, n_classes: int, activation: str = "gelu", n_hidden: int | None = None):
        super().__init__()
        self.activation = activation
        self.first = nn.Linear(n_inputs, n_hidden or n_inputs, bias=False)  # weight [hidden, inputs]
        self.act = ACTIVATIONS[activation]()
        self.out = nn.Linear(n_hidden or n_inputs, n_classes, bias=False)  # weight [classes, hidden]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [n, inputs] -> [n, classes]
        return self.out(self.act(self.first(x)))


class LabelHead(nn.Module):
    activation = "identity"

    def __init__(self, n_inputs: int, n_classes: int):
        super().__init__()
        self.first = None
        self.act = nn.Identity()
        self.out = nn.Linear(n_inputs, n_classes, bias=True)  # weight [classes, inputs]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(x)


def tie_head_blocks(head: TokenHead, n_heads: int) -> TokenHead:
    """Make each head's block of the first layer's input columns a copy of head 0's (in place): the tied
    initialisation. ``first.weight`` is ``[hidden, inputs]`` with the inputs in head order, ``n_heads`` blocks
    of ``inputs / n_heads`` columns. Heads whose features are identical then receive identical gradients and
    updates, so nothing in the probe can make them differ; whatever sets such heads apart is the backbone's."""
    weight = head.first.weight.data  # [hidden, inputs]
    if weight.shape[1] % n_heads:
        raise ValueError(f"{weight.shape[1]} inputs do not split into {n_heads} heads")
    d = weight.shape[1] // n_heads
    for h in range(1, n_heads):
        weight[:, h * d : (h + 1) * d] = weight[:, :d]
    return head


def control_task_labels(targets: np.ndarray, n_classes: int, seed: int) -> np.ndarray:
    """A control task's labels (Hewitt & Liang 2019): ``[n_classes]``, type ``t``'s label drawn once from the
    empirical distribution of ``targets`` ``[n]`` (the training targets), independently per type.

    Every type, seen in training or not, gets a label, so that the validation targets map too.
    """
    frequency = np.bincount(targets, minlength=n_classes).astype(np.float64)  # [n_classes]
    rng = np.random.default_rng(seed)
    return rng.choice(n_classes, size=n_classes, p=frequency / frequency.sum()).astype(np.int64)


def fit(
    head: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    recipe: HeadRecipe,
    *,
    progress: bool = True,
    desc: str = "probe",
    device: torch.device | str = "cpu",
    memory_bytes: int = 2**34,
) -> list[float]:
    """Train ``head`` on features ``X`` ``[n, inputs]`` and labels ``y`` ``[n]`` by ``recipe`` (the token
    probe's and the label head's alike); returns the loss per epoch.

    The head trains on ``device``. The features move there whole when they take at most half of
    ``memory_bytes``, else batch by batch. The order of the examples comes from a CPU generator, so it is
    the same on every device. On a GPU the AdamW is the fused one and the loss is read once per epoch
    (no synchronisation per step); on the CPU the steps are the plain AdamW's, as the committed probes were
    trained. The head is left on ``device``.
    """
    from transformers import get_linear_schedule_with_warmup

    epochs, lr, weight_decay, batch_size, seed = (
        recipe.epochs, recipe.lr, recipe.weight_decay, recipe.batch_size, recipe.seed
    )  # fmt: skip
    device = torch.device(device)
    on_gpu = device.type == "cuda"
    head.to(device)
    generator = torch.Generator().manual_seed(seed)
    n = X.shape[0]
    resident = X.element_size() * X.numel() <= memory_bytes // 2
    if resident:
        X, y = X.to(device), y.to(device)
    elif on_gpu:
        X, y = X.pin_memory(), y.pin_memory()
    steps_per_epoch = (n + batch_size - 1) // batch_size
    total = max(1, round(epochs * steps_per_epoch))
    optimiser = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay, fused=on_gpu or None)
    schedule = get_linear_schedule_with_warmup(optimiser, num_warmup_steps=0, num_training_steps=total)
    loss_fn = nn.CrossEntropyLoss()
    losses, step = [], 0
    bar = tqdm(total=total, desc=desc, disable=not progress, mininterval=2.0)
    head.train()
    while step < total:
        order = torch.randperm(n, generator=generator)
        running, count = torch.zeros((), dtype=torch.float64, device=device), 0
        for start in range(0, n, batch_size):
            if step >= total:
                break
            idx = order[start : start + batch_size]
            if resident:
                idx = idx.to(device, non_blocking=True)
                xb, yb = X[idx], y[idx]
            else:
                xb, yb = X[idx].to(device, non_blocking=True), y[idx].to(device, non_blocking=True)
            loss = loss_fn(head(xb), yb)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            running += loss.detach().double() * len(idx)  # float64, as Python's float sum of loss.item()
            count, step = count + len(idx), step + 1
            bar.update(1)
        losses.append(running.item() / max(count, 1))
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
    bar.close()
    head.eval()
    return losses


def save_head(head: nn.Module, path: Path) -> None:
    save_file(
        {k: v.contiguous() for k, v in head.state_dict().items()},
        str(path),
        metadata={"class": type(head).__name__, "activation": head.activation},
    )


def load_head(path: Path) -> nn.Module:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        meta = handle.metadata() or {}
    state = load_file(str(path))
    if meta.get("class") == "LabelHead":
        n_classes, n_inputs = state["out.weight"].shape
        head: nn.Module = LabelHead(n_inputs, n_classes)
    else:
        n_hidden, n_inputs = state["first.weight"].shape
        head = TokenHead(n_inputs, state["out.weight"].shape[0], meta.get("activation", "gelu"), n_hidden)
    head.load_state_dict(state)
    return head.eval()
