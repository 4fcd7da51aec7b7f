"""Typed configuration: frozen dataclasses loaded from TOML profiles, with a stable hash for cache keys.

A profile is one TOML file with a table per section (``[corpus]``, ``[tokenizer]``, ``[backbone]``,
``[pretrain]``, ``[fewrel]``, ``[probe]``, ``[sweep]``). Every field has the paper's value as its default,
so a profile states only what it changes. An unknown key or a value of the wrong type is a
:class:`ConfigError` that names the file and the field.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import sys
import typing
from importlib import resources
from pathlib import Path
from typing import Any

from .sections import (
    BackboneConfig,
    CorpusConfig,
    FewRelConfig,
    PretrainConfig,
    ProbeConfig,
    Profile,
    RuntimeConfig,
    SeedsConfig,
    SweepConfig,
    TokenizerConfig,
    VariantsConfig,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def profile_names() -> tuple[str, ...]:
    """The profiles shipped with ssb: every ``ssb/profiles/*.toml``, by name (a new profile is one file)."""
    return tuple(sorted(f.name.removesuffix(".toml") for f in resources.files("ssb.profiles").iterdir()
                        if f.name.endswith(".toml")))  # fmt: skip


class ConfigError(ValueError):
    """A profile file is malformed: the message names the file and the field."""


TOP_FIELDS = ("name", "expect")
SECTIONS: dict[str, type] = {k: v for k, v in typing.get_type_hints(Profile).items() if k not in TOP_FIELDS}


def _check_value(value: Any, tp: Any, where: str) -> Any:
    """Return ``value`` converted to ``tp`` or raise ConfigError naming ``where``."""
    origin = typing.get_origin(tp)
    if origin is tuple:
        (item_tp, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list of {item_tp.__name__}, got {value!r}")
        return tuple(_check_value(v, item_tp, f"{where}[{i}]") for i, v in enumerate(value))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number, got {value!r}")
        if not math.isfinite(value):  # TOML has nan and inf; no field of a profile means either
            raise ConfigError(f"{where} must be a finite number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}")
        return value
    raise TypeError(f"unsupported config type {tp!r}")  # pragma: no cover - programming error


def _section_from_dict(cls: type, data: dict[str, Any], source: str, section: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{source}: [{section}]: unknown key '{unknown[0]}' (known keys: {', '.join(sorted(known))})")
    values = {k: _check_value(v, hints[k], f"{source}: field '{section}.{k}'") for k, v in data.items()}
    return cls(**values)


def profile_from_dict(data: dict[str, Any], source: str = "<dict>") -> Profile:
    """Build a :class:`Profile` from parsed TOML; errors name ``source`` and the field."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a profile must be a table")
    unknown = sorted(set(data) - set(SECTIONS) - set(TOP_FIELDS))
    if unknown:
        raise ConfigError(
            f"{source}: unknown section '{unknown[0]}' (known: {', '.join(TOP_FIELDS)}, {', '.join(SECTIONS)})"
        )
    name = _check_value(data.get("name", Path(source).stem), str, f"{source}: field 'name'")
    expect = _check_value(data.get("expect", ""), str, f"{source}: field 'expect'")
    sections = {}
    for section, cls in SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: [{section}] must be a table, got {table!r}")
        sections[section] = _section_from_dict(cls, table, source, section)
    profile = Profile(name=name, expect=expect, **sections)
    validate(profile, source)
    return profile


_POSITIVE = {  # fields that must be > 0 (integers >= 1)
    "corpus": ("n_train", "n_valid"),
    "tokenizer": ("vocab_size",),
    "backbone": ("n_layers", "hidden", "n_heads", "intermediate", "max_len"),
    "pretrain": ("lr", "batch_size", "mlm_probability"),
    "fewrel": ("n_train_per_relation", "n_test_per_relation", "max_len", "lr", "batch_size"),
    "probe": (
        "n_train_paragraphs",
        "n_valid_paragraphs",
        "token_epochs",
        "token_lr",
        "label_epochs",
        "label_lr",
        "batch_size",
    ),
    "sweep": ("n_subsets",),
    "variants": ("symmetric_steps", "symmetric_n_train", "symmetric_probe_paragraphs"),
    "runtime": ("gpu_memory_gib", "lock_timeout_s"),
}

_NON_NEGATIVE = {
    "pretrain": ("epochs", "max_steps", "weight_decay", "save_steps", "eval_steps", "logging_steps", "warmup_ratio"),
    "fewrel": ("n_relations", "epochs", "weight_decay", "warmup_ratio"),
    "probe": ("token_weight_decay", "label_weight_decay"),
    "variants": ("symmetric_batch_size",),
    "runtime": ("threads", "jobs"),  # 0: one per core
}
_FRACTIONS = {
    "backbone": ("hidden_dropout", "attention_dropout"),
    "pretrain": ("mlm_probability", "warmup_ratio"),
    "fewrel": ("warmup_ratio",),
    "runtime": ("pretrain_share", "fewrel_share"),
}


def _check_sizes(profile: Profile, source: str) -> None:
    """Impossible sizes fail here, naming the field, instead of deep inside a library."""
    for rule, table in (("> 0", _POSITIVE), (">= 0", _NON_NEGATIVE), ("< 1", _FRACTIONS)):
        for section, names in table.items():
            for name in names:
                value = getattr(getattr(profile, section), name)
                bad = value <= 0 if rule == "> 0" else value < 0 if rule == ">= 0" else not 0 <= value < 1
                if bad:
                    what = (
                        "must be > 0" if rule == "> 0" else "must be >= 0" if rule == ">= 0" else "must lie in [0, 1)"
                    )
                    raise ConfigError(f"{source}: field '{section}.{name}' {what}, got {value!r}")
    pt = profile.pretrain
    if pt.epochs == 0 and pt.max_steps == 0:
        raise ConfigError(f"{source}: field 'pretrain.epochs' or 'pretrain.max_steps' must be > 0")
    # sizes that run but cannot give a meaningful verdict: every FewRel check holds trivially with one label,
    # the head claims compare heads with each other, and an interval needs more than one subset
    if profile.fewrel.n_relations == 1:
        raise ConfigError(f"{source}: field 'fewrel.n_relations' must be 0 (every relation) or >= 2, got 1")
    if profile.backbone.n_heads < 2:
        raise ConfigError(
            f"{source}: field 'backbone.n_heads' must be >= 2 (the claims compare heads), "
            f"got {profile.backbone.n_heads}"
        )
    if profile.sweep.n_subsets < 2:
        raise ConfigError(
            f"{source}: field 'sweep.n_subsets' must be >= 2 (an interval over one subset says nothing), "
            f"got {profile.sweep.n_subsets}"
        )
    sw = profile.sweep
    for name in ("node_counts", "hull_counts", "hull_subsets"):
        values = getattr(sw, name)
        if not values or any(v < 1 for v in values):
            raise ConfigError(
                f"{source}: field 'sweep.{name}' must be a non-empty list of integers >= 1, got {list(values)}"
            )


PRETRAIN_ATTENTION = ("padded", "repad", "nested")  # ssb/unpadded.py
RUNTIME_CHOICES = {
    "precision": ("auto", "fp32", "bf16"),
    "optimizer": ("auto", "adamw_torch", "adamw_torch_fused"),
}


def validate(profile: Profile, source: str) -> None:
    """Sizes, then cross-field checks that types alone cannot express."""
    _check_sizes(profile, source)
    b = profile.backbone
    if b.hidden % b.n_heads:
        raise ConfigError(f"{source}: field 'backbone.hidden' ({b.hidden}) must be a multiple of n_heads ({b.n_heads})")
    if not 1 <= profile.probe.layer <= b.n_layers:
        raise ConfigError(f"{source}: field 'probe.layer' must lie in 1..{b.n_layers}, got {profile.probe.layer}")
    if profile.fewrel.max_len > b.max_len:
        raise ConfigError(
            f"{source}: field 'fewrel.max_len' ({profile.fewrel.max_len}) exceeds backbone.max_len ({b.max_len})"
        )
    if profile.pretrain.attention not in PRETRAIN_ATTENTION:
        raise ConfigError(
            f"{source}: field 'pretrain.attention' must be one of {', '.join(PRETRAIN_ATTENTION)}, "
            f"got {profile.pretrain.attention!r}"
        )
    if profile.tokenizer.kind not in ("bert-base-uncased", "wordpiece"):
        raise ConfigError(f"{source}: field 'tokenizer.kind' must be 'bert-base-uncased' or 'wordpiece'")
    for section in ("corpus", "fewrel"):
        if getattr(profile, section).source not in ("local", "hub"):
            raise ConfigError(f"{source}: field '{section}.source' must be 'local' or 'hub'")
    rt = profile.runtime
    if not (rt.device in ("auto", "cpu", "cuda") or re.fullmatch(r"cuda:\d+", rt.device)):
        raise ConfigError(f"{source}: field 'runtime.device' must be auto, cpu, cuda or cuda:N, got {rt.device!r}")
    for name, allowed in RUNTIME_CHOICES.items():
        if getattr(rt, name) not in allowed:
            raise ConfigError(f"{source}: field 'runtime.{name}' must be one of {', '.join(allowed)}")
    if rt.time_budget_s < 0:
        raise ConfigError(
            f"{source}: field 'runtime.time_budget_s' must be >= 0 (0: no budget), got {rt.time_budget_s}"
        )
    if rt.pretrain_share + rt.fewrel_share >= 1:
        raise ConfigError(
            f"{source}: fields 'runtime.pretrain_share' + 'runtime.fewrel_share' must leave part of the budget to "
            f"the rest of the run (sum < 1), got {rt.pretrain_share + rt.fewrel_share:g}"
        )
    if rt.dataloader_workers < -1:
        raise ConfigError(f"{source}: field 'runtime.dataloader_workers' must be -1 (auto) or >= 0")
    if profile.probe.activation not in ("gelu", "relu", "identity"):
        raise ConfigError(f"{source}: field 'probe.activation' must be gelu, relu or identity")
    seeds = profile.seeds
    for name in ("probe", "subsets", "fewrel_split"):
        values = getattr(seeds, name)
        if len(values) not in (0, 1, seeds.n_runs):
            raise ConfigError(
                f"{source}: field 'seeds.{name}' must hold 1 seed or one per seed run ({seeds.n_runs}), "
                f"got {len(values)}"
            )
        if any(v < 0 for v in values):
            raise ConfigError(f"{source}: field 'seeds.{name}' must hold seeds >= 0, got {list(values)}")
    if any(v < 0 for v in seeds.backbone) or len(set(seeds.backbone)) != len(seeds.backbone):
        raise ConfigError(f"{source}: field 'seeds.backbone' must hold distinct seeds >= 0, got {list(seeds.backbone)}")
    if seeds.over_backbones and not seeds.backbone:
        raise ConfigError(
            f"{source}: field 'seeds.over_backbones' needs other initial conditions to measure over: list them in "
            "'seeds.backbone' ([1, 2], say)"
        )
    if any(v < 0 for v in seeds.data_order) or len(set(seeds.data_order)) != len(seeds.data_order):
        raise ConfigError(
            f"{source}: field 'seeds.data_order' must hold distinct seeds >= 0, got {list(seeds.data_order)}"
        )
    if profile.backbone.data_seed < -1:
        raise ConfigError(f"{source}: field 'backbone.data_seed' must be -1 (backbone.seed's) or a seed >= 0")
    if profile.backbone.seed in seeds.backbone:
        raise ConfigError(
            f"{source}: field 'seeds.backbone' lists {profile.backbone.seed}, the profile's own backbone.seed: list "
            "only the other initial conditions"
        )
    sw = profile.sweep
    if len(sw.hull_counts) != len(sw.hull_subsets):
        raise ConfigError(f"{source}: field 'sweep.hull_subsets' needs one entry per hull_counts entry")
    if any(not 1 <= layer <= b.n_layers for layer in profile.probe.depth_layers):
        raise ConfigError(f"{source}: field 'probe.depth_layers' must lie in 1..{b.n_layers}")
    if any(n < 1 or n > b.hidden for n in sw.node_counts):
        raise ConfigError(f"{source}: field 'sweep.node_counts' must lie in 1..{b.hidden}")
    if any(n > b.hidden for n in sw.hull_counts):
        raise ConfigError(f"{source}: field 'sweep.hull_counts' must lie in 1..{b.hidden}")


def with_device(profile: Profile, device: str | None) -> Profile:
    """``profile`` with ``runtime.device`` set (``--device``), validated; unchanged for None."""
    if not device:
        return profile
    changed = profile.replace(runtime={"device": device})
    validate(changed, f"--device {device}")
    return changed


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a named profile shipped with ssb (:func:`profile_names`) or a TOML file."""
    path = Path(name_or_path)
    if str(name_or_path) in profile_names():
        text = resources.files("ssb.profiles").joinpath(f"{name_or_path}.toml").read_text()
        source = f"ssb/profiles/{name_or_path}.toml"
    elif path.suffix == ".toml" and path.is_file():
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise ConfigError(f"{source}: not UTF-8 text ({err.reason} at byte {err.start})") from err
    elif path.suffix == ".toml" and path.exists():
        raise ConfigError(f"{path}: not a file (a profile is one .toml file)")
    else:
        raise ConfigError(f"no profile '{name_or_path}': give one of {', '.join(profile_names())} or a .toml file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{source}: not valid TOML: {err}") from err
    return profile_from_dict(data, source)


def defaulted_sections(path: str | Path) -> list[str]:
    """The sections a profile file leaves out (each then takes the paper's defaults); [] for a shipped name."""
    path = Path(path)
    if not (path.suffix == ".toml" and path.is_file()):
        return []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [section for section in SECTIONS if section not in data]


def to_dict(obj: Any) -> Any:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(obj)))


# Fields added after artifacts were committed under the old schema: left out of the hash while they hold
# their default, so that the keys of those artifacts (committed reference backbones) stay valid.
LATE_FIELDS: dict[type, tuple[str, ...]] = {
    PretrainConfig: ("warmup_ratio", "attention"),
    FewRelConfig: ("warmup_ratio",),
    BackboneConfig: ("data_seed",),
}


def _hashable(obj: Any) -> Any:
    if not dataclasses.is_dataclass(obj):
        return obj
    data = to_dict(obj)
    defaults = {f.name: f.default for f in dataclasses.fields(obj)}
    for name in LATE_FIELDS.get(type(obj), ()):
        if data[name] == defaults[name]:
            del data[name]
    return data


def config_hash(*parts: Any) -> str:
    """Stable 16-hex-digit hash of config dataclasses (or JSON-ready values), order-sensitive."""
    payload = [_hashable(p) for p in parts]
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# Backbone variants the claims compare against, as changes to a profile's sections.
VARIANTS: dict[str, dict[str, dict[str, Any]]] = {
    "reference": {},
    "no-dropout": {"backbone": {"hidden_dropout": 0.0, "attention_dropout": 0.0}},
    "symmetric": {"backbone": {"symmetric_init": True, "attention_dropout": 0.0}},
    "symmetric-attention-dropout": {"backbone": {"symmetric_init": True}},
}


def variant(profile: Profile, name: str) -> Profile:
    """The profile with a named backbone variant applied (see ``VARIANTS``)."""
    if name not in VARIANTS:
        raise ConfigError(f"no variant '{name}': choose one of {', '.join(VARIANTS)}")
    return profile.replace(**VARIANTS[name])


def seed_run(profile: Profile, k: int) -> Profile:
    """The profile of seed run ``k`` (``SeedsConfig``): its probe, subset and FewRel split seeds set."""
    seeds = profile.seeds
    if not 0 <= k < seeds.n_runs:
        raise ConfigError(f"seed run {k}: the profile has runs 0..{seeds.n_runs - 1}")

    def pick(values: tuple[int, ...], own: int) -> int:
        return own if not values else values[k] if len(values) > 1 else values[0]

    return profile.replace(
        probe={"seed": pick(seeds.probe, profile.probe.seed)},
        sweep={"seed": pick(seeds.subsets, profile.sweep.seed)},
        fewrel={"split_seed": pick(seeds.fewrel_split, profile.fewrel.split_seed)},
    )


def backbone_key(profile: Profile) -> str:
    """Hash of everything a pre-trained backbone depends on."""
    return config_hash("backbone", profile.corpus, profile.tokenizer, profile.backbone, profile.pretrain)


__all__ = [
    "BackboneConfig",
    "ConfigError",
    "CorpusConfig",
    "FewRelConfig",
    "PretrainConfig",
    "ProbeConfig",
    "Profile",
    "RuntimeConfig",
    "SeedsConfig",
    "SweepConfig",
    "TokenizerConfig",
    "VariantsConfig",
    "backbone_key",
    "config_hash",
    "load_profile",
    "profile_from_dict",
    "profile_names",
    "seed_run",
    "to_dict",
    "variant",
    "with_device",
    "VARIANTS",
]
