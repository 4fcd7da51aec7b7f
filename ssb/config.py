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
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class CorpusConfig:
    """Where the pre-training paragraphs come from and how many are used."""

    source: str = "local"  # "local": a file under the data directory; "hub": the HF hub
    path: str = "wikipedia/enwiki_paragraphs.jsonl.xz"  # relative to the data directory
    hub_name: str = "wikimedia/wikipedia"
    hub_config: str = "20231101.en"
    n_train: int = 90_000
    n_valid: int = 2_000
    min_words: int = 5  # paragraphs with fewer whitespace words are skipped
    seed: int = 0  # the shuffle that picks the train and validation paragraphs


@dataclass(frozen=True)
class TokenizerConfig:
    kind: str = "bert-base-uncased"  # or "wordpiece": trained on the training paragraphs
    vocab_size: int = 30_522


@dataclass(frozen=True)
class BackboneConfig:
    n_layers: int = 6
    hidden: int = 768
    n_heads: int = 12
    intermediate: int = 3_072
    max_len: int = 128
    hidden_dropout: float = 0.1
    attention_dropout: float = 0.1
    symmetric_init: bool = False  # every head of a layer starts as a copy of head 0
    seed: int = 0


@dataclass(frozen=True)
class PretrainConfig:
    """MLM pre-training (AdamW, linear decay to zero, weight decay as L2; the paper: no warm-up)."""

    epochs: float = 50.0
    max_steps: int = 0  # > 0 overrides epochs
    lr: float = 5.5e-5
    weight_decay: float = 1e-2
    batch_size: int = 32
    mlm_probability: float = 0.15
    save_steps: int = 500
    eval_steps: int = 2_000
    logging_steps: int = 100
    # linear warm-up over this fraction of the steps; the paper has none at lr 5.5e-5, but a post-LN BERT
    # at a CPU budget's higher lr needs it to leave the unigram plateau (Xiong et al. 2020)
    warmup_ratio: float = 0.0


@dataclass(frozen=True)
class FewRelConfig:
    """FewRel relation classification: data, split and fine-tuning of the backbone."""

    source: str = "local"
    path: str = "fewrel/train_wiki_partial_from_wiki80.json.xz"
    hub_name: str = "thunlp/few_rel"
    n_relations: int = 0  # 0: every relation in the file
    n_train_per_relation: int = 630
    n_test_per_relation: int = 70
    # a relation with fewer than 2 instances cannot give both a train and a test sentence: an error naming
    # it, or (true) dropped with a warning
    drop_short_relations: bool = False
    split_seed: int = 0
    max_len: int = 128
    epochs: float = 50.0
    lr: float = 5.5e-5
    weight_decay: float = 1e-2
    batch_size: int = 32
    warmup_ratio: float = 0.0  # the paper: none; paper-fast warms up its larger-batch learning rate


@dataclass(frozen=True)
class ProbeConfig:
    """Features of block ``layer`` and the classifier heads trained on them."""

    layer: int = 6  # 1-based block whose attention context is read
    n_train_paragraphs: int = 90_000  # masked 15% at random to train the token head
    n_valid_paragraphs: int = 2_000  # masked one token at a time for the confusion matrices
    activation: str = "gelu"  # between the token head's two layers: gelu, relu or identity
    token_epochs: float = 50.0
    token_lr: float = 1e-4
    token_weight_decay: float = 8e-6
    label_epochs: float = 20.0
    label_lr: float = 5e-5
    label_weight_decay: float = 8e-6
    batch_size: int = 32
    seed: int = 0
    depth_layers: tuple[int, ...] = (1, 2, 3, 4, 5, 6)  # blocks compared by the depth-prominence claim


@dataclass(frozen=True)
class VariantsConfig:
    """Budgets of the in-run comparisons (symmetric initialisation)."""

    symmetric_steps: int = 2_000
    symmetric_n_train: int = 20_000
    # training paragraphs of the token probes that give each short backbone's per-head recognised tokens
    symmetric_probe_paragraphs: int = 20_000
    # also compare the reference with the symmetric variant at the reference's own budget (the committed or
    # trained `symmetric` backbone); its MLM accuracy and union of recognised tokens then decide the claim
    symmetric_full_budget: bool = False
    symmetric_batch_size: int = 0  # batch of the in-run short backbones; 0: the profile's pretrain.batch_size
    # pre-train the full-budget variants (no-dropout, symmetric) when nothing committed matches; false: their
    # claims are skipped and say so (paper-lease: left to a second loan)
    train_full: bool = True


@dataclass(frozen=True)
class SweepConfig:
    """Node subsets evaluated through the aperture."""

    node_counts: tuple[int, ...] = (1, 2, 4, 8, 12, 16, 32, 64, 128, 256, 512, 768)
    n_subsets: int = 20  # random subsets per node count; n = 1 takes every single node, n = hidden all nodes
    hull_counts: tuple[int, ...] = (1, 2, 4)
    hull_subsets: tuple[int, ...] = (25, 20, 20)  # per hull count; for one node, >= hidden takes every node
    seed: int = 0


@dataclass(frozen=True)
class SeedsConfig:
    """Seeds as an axis of the verdicts: the reference system is measured once per *seed run* and the
    estimates combine the runs and the items (``ssb.seeds``). Run k sets ``probe.seed`` (the token probe's
    and the FewRel label head's initialisation and order, the masking of the probe's training features) to
    ``probe[k]``, ``sweep.seed`` (the node-subset draws) to ``subsets[k]`` and ``fewrel.split_seed`` (the
    FewRel split, and so its fine-tuning) to ``fewrel_split[k]``; a list of one entry holds for every run,
    an empty one keeps the profile's own seed. Every system a claim reads (the reference, its variants, the
    controls of its checks) is measured on every run with the run's seeds; the backbones are the same."""

    probe: tuple[int, ...] = ()
    subsets: tuple[int, ...] = ()
    fewrel_split: tuple[int, ...] = ()

    @property
    def n_runs(self) -> int:
        return max(len(self.probe), len(self.subsets), len(self.fewrel_split), 1)


@dataclass(frozen=True)
class RuntimeConfig:
    """How the work runs, not what it computes: device, precision and the data path (``ssb/device.py``
    resolves ``auto`` for the machine at hand). None of it enters a backbone's config hash; a bf16 run is
    told apart in the store keys of what it trains (``device.numerics_tag``)."""

    device: str = "auto"  # auto (the GPU when there is one), cpu, cuda, cuda:N
    precision: str = "auto"  # auto (bf16 autocast on a GPU that has it, else fp32), fp32, bf16
    optimizer: str = "auto"  # auto (fused AdamW on a GPU, else the plain one), adamw_torch, adamw_torch_fused
    dataloader_workers: int = -1  # -1: auto (4 on a GPU, 0 on the CPU, where collation shares the cores)
    compile: bool = False  # torch.compile the backbone in training (pays off only on long runs)
    tf32: bool = True  # allow TF32 matrix products on a GPU (fp32 runs)
    gpu_memory_gib: float = 16.0  # bound on the tensors the aperture and the probes hold on a GPU at once
    # how long a run waits for another process that is building the same artifact (its lock) before it
    # gives up with exit 2, leaving the holder's work untouched; the wait is announced with the holder's pid
    lock_timeout_s: float = 3_600.0
    # a time budget for the whole run in seconds (0: none; `--time-budget 8m`): the pre-training steps fill
    # pretrain_share of it and the FewRel fine-tuning fewrel_share, at the rate measured on this machine
    # (ssb/budget.py); the rest is left to features, probes, sweeps, claims and report
    time_budget_s: float = 0.0
    pretrain_share: float = 0.35
    fewrel_share: float = 0.1


@dataclass(frozen=True)
class Profile:
    name: str = "paper"
    # the expectation tier of the claims (smoke, cpu, paper) this profile is checked against; a profile that
    # names none cannot run the claims (they would check nothing)
    expect: str = ""
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    fewrel: FewRelConfig = field(default_factory=FewRelConfig)
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    sweep: SweepConfig = field(default_factory=SweepConfig)
    variants: VariantsConfig = field(default_factory=VariantsConfig)
    seeds: SeedsConfig = field(default_factory=SeedsConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)

    def replace(self, **sections: Any) -> Profile:
        """A copy with some sections' fields changed: ``p.replace(backbone={"hidden_dropout": 0.0})``."""
        changed = {name: dataclasses.replace(getattr(self, name), **fields) for name, fields in sections.items()}
        return dataclasses.replace(self, **changed)


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
LATE_FIELDS: dict[type, tuple[str, ...]] = {PretrainConfig: ("warmup_ratio",), FewRelConfig: ("warmup_ratio",)}


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
