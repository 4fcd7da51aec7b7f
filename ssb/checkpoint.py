"""A user's checkpoint (``--model DIR``, ``ssb.analyze(folder)``): its family and its shape.

The profile is a *recipe* (corpus sizes, probe, sweeps); the shape of the backbone it reads comes from the
checkpoint's own ``config.json``: hidden size, head count, depth, intermediate size and the positions it
has. :func:`shaped_for` returns the profile with the checkpoint's shape in its ``[backbone]``, so that every
head and node mask, and the random-init control of the same shape, is built at the model's width.

Node counts: a profile's sweep ends at its own width ("all nodes": 32 at smoke, 192 at cpu); that count
becomes the model's width (once, if the model's width is among the counts already), and so does a hull
count of single nodes that asked for every node. Any other count above the model's width, or a block beyond
its depth, is one :class:`~ssb.config.ConfigError` naming the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .config import ConfigError, Profile, validate

# Families whose attention output sits at ``<base>.encoder.layer[i].attention.output.dense`` (the module
# whose input is the concatenated per-head context) and that load with AutoModelForMaskedLM.
SUPPORTED_FAMILIES = ("bert", "roberta", "electra", "xlm-roberta")


class CheckpointError(ValueError):
    """A model folder is not a checkpoint ssb can read: the message names the folder and the file."""


@dataclass(frozen=True)
class CheckpointShape:
    family: str
    n_layers: int
    hidden: int
    n_heads: int
    intermediate: int
    max_positions: int  # positions a sequence may use (RoBERTa-style offsets taken off)
    vocab_size: int


def read_config(folder: Path) -> dict:
    """The folder's ``config.json`` as a dict (one CheckpointError when missing or not JSON)."""
    config = folder / "config.json"
    if not config.is_file():
        raise CheckpointError(f"{folder}: no config.json (a Hugging Face checkpoint folder is needed)")
    try:
        data = json.loads(config.read_text())
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{config}: not valid JSON ({err})") from err
    if not isinstance(data, dict):
        raise CheckpointError(f"{config}: not a JSON object")
    return data


def check_family(folder: Path, data: dict | None = None) -> str:
    """The checkpoint's ``model_type``, refused in one line when ssb cannot read its attention context."""
    data = read_config(folder) if data is None else data
    family = data.get("model_type")
    if family not in SUPPORTED_FAMILIES:
        raise CheckpointError(
            f"{folder / 'config.json'}: model_type {family!r}, but ssb reads the attention context of "
            f"{', '.join(SUPPORTED_FAMILIES)} checkpoints (encoder.layer[i].attention.output.dense)"
        )
    return family


def checkpoint_shape(folder: Path) -> CheckpointShape:
    """The shape of the checkpoint in ``folder``, from its config.json (one CheckpointError per bad field)."""
    data = read_config(folder)
    family = check_family(folder, data)
    fields = {
        "n_layers": "num_hidden_layers",
        "hidden": "hidden_size",
        "n_heads": "num_attention_heads",
        "intermediate": "intermediate_size",
        "max_positions": "max_position_embeddings",
        "vocab_size": "vocab_size",
    }
    values = {}
    for name, key in fields.items():
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise CheckpointError(f"{folder / 'config.json'}: field '{key}' must be a positive integer, got {value!r}")
        values[name] = value
    if family in ("roberta", "xlm-roberta"):  # positions start after the padding index
        values["max_positions"] -= int(data.get("pad_token_id", 1)) + 1
    return CheckpointShape(family=family, **values)


def shaped_for(profile: Profile, folder: Path) -> Profile:
    """``profile`` with the checkpoint's shape in ``[backbone]`` (the recipe's ``max_len`` kept where the
    checkpoint has that many positions); the sweep's full-width count mapped to the model's width."""
    shape = checkpoint_shape(folder)
    own = profile.backbone.hidden
    counts = tuple(sorted({shape.hidden if n == own else n for n in profile.sweep.node_counts}))
    # "every single node" of the hull's one-node subsets, where the profile asked for its whole width
    hull_subsets = tuple(
        shape.hidden if (count == 1 and n >= own) else n
        for count, n in zip(profile.sweep.hull_counts, profile.sweep.hull_subsets, strict=False)
    )
    shaped = profile.replace(
        backbone={
            "n_layers": shape.n_layers,
            "hidden": shape.hidden,
            "n_heads": shape.n_heads,
            "intermediate": shape.intermediate,
            "max_len": min(profile.backbone.max_len, shape.max_positions),
        },
        fewrel={"max_len": min(profile.fewrel.max_len, shape.max_positions)},
        sweep={"node_counts": counts, "hull_subsets": hull_subsets},
    )
    try:
        validate(shaped, f"profile '{profile.name}' on --model {folder}")
    except ConfigError as err:
        raise ConfigError(
            f"{err} (the checkpoint: {shape.n_layers} blocks, {shape.n_heads} heads x "
            f"{shape.hidden // shape.n_heads} = {shape.hidden} nodes)"
        ) from err
    return shaped
