"""Committed reference backbones (``ssb/reference/<profile>/<variant>/``), checked by config hash, and found
by it: a profile under another name whose backbone config hashes to a committed one's uses it.

MLM pre-training of the ``cpu`` profile's BERT takes about 3 minutes on one GPU and about 3 hours on two
cores, more than a test run can afford, so the project trains it once with ``ssb train --profile cpu`` (on
a GPU) and commits the result here with
its record (config and its hash, data hashes, training log, exact command). A reference whose recorded
hash differs from the profile's current backbone hash is *stale*: it was trained under another config,
and using it would silently test the wrong model.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .artifacts import ArtifactStore, notice, verify, write_manifest
from .config import Profile, backbone_key

ROOT = Path(__file__).parent / "reference"
FILES = (
    "model.safetensors",
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "record.json",
    "training_log.json",
)


# Profiles whose backbones are too costly to pre-train inside a claims run: they must be committed.
COMMITTED_PROFILES = ("cpu",)


class StaleReference(RuntimeError):
    pass


class MissingReference(RuntimeError):
    """A committed-reference profile lacks the backbone a claim needs (and retraining was not asked)."""


def train_flags(
    profile_name: str, variant: str = "reference", seed: int | None = None, data_seed: int | None = None
) -> str:
    """The options of ``ssb train`` / ``ssb reference`` that name a backbone (what the hints print)."""
    flags = f"--profile {profile_name}" + ("" if variant == "reference" else f" --variant {variant}")
    flags += "" if seed is None else f" --backbone-seed {seed}"
    return flags + ("" if data_seed is None else f" --data-seed {data_seed}")


def reference_dir(
    profile_name: str, variant: str = "reference", seed: int | None = None, data_seed: int | None = None
) -> Path:
    """A committed backbone's folder; ``seed``: one pre-trained from other initial conditions ([seeds]
    backbone), beside the profile's own (``<variant>-seed<n>``); ``data_seed``: the profile's initial conditions
    trained on another order of the paragraphs ([seeds] data_order: ``<variant>-order<n>``)."""
    name = variant if seed is None else f"{variant}-seed{seed}"
    return ROOT / profile_name / (name if data_seed is None else f"{name}-order{data_seed}")


def store_dir(profile_name: str) -> Path:
    """Where a profile's committed artifacts (token probes) live, content-addressed like the user's store."""
    return ROOT / profile_name / "store"


def committed_store(first: str | None = None) -> ArtifactStore | None:
    """Every profile's committed artifacts as one read-only store (profile ``first``'s searched first): their
    keys hash their content's recipe, so a profile under any name finds what matches it."""
    names = sorted(p.parent.name for p in ROOT.glob("*/store") if p.is_dir())
    if first in names:
        names = [first, *(n for n in names if n != first)]
    store = None
    for name in reversed(names):
        store = ArtifactStore(store_dir(name), fallback=store, read_only=True)
    return store


def export_artifact(store: ArtifactStore, kind: str, key: str, profile_name: str) -> Path:
    """Copy one verified artifact from the user's store into the profile's committed store, under the folder
    name the store gave it (its key, re-keyed where the code differs from ssb/codekeys.json, so that the
    committed store finds it the same way); one committed and intact already is left as it is."""
    source = store.lookup(kind, key)
    if source is None:
        raise FileNotFoundError(f"no artifact {kind}/{key} in {store.root}: compute it first")
    target = store_dir(profile_name) / kind / source.name
    if target.is_dir() and verify(target) is None:
        return target
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    return target


def find_reference(
    profile: Profile,
    variant: str = "reference",
    seed: int | None = None,
    data_seed: int | None = None,
    verified: set | None = None,
) -> Path | None:
    """The committed backbone for this profile and variant (``seed``: the one from those initial conditions,
    ``profile`` carrying it as ``backbone.seed``; ``data_seed``: the one trained on that order of the
    paragraphs, carried as ``backbone.data_seed``), or None if none is committed. ``verified``: the files this
    process has found matching their manifest (``artifacts.verify``; a run's store keeps them).

    Raises :class:`StaleReference` if one is committed but was trained under another config, or if its
    files no longer match their manifest.
    """
    from .codekeys import changed, code_tag

    if code_tag("backbone") is not None:  # committed backbones were built by the recorded code at version 0
        why = (
            f"the code that builds them ({', '.join(changed('backbone'))}) differs from ssb/codekeys.json"
            if changed("backbone")
            else "a version in ssb/codekeys.json was raised since they were trained"
        )
        notice(
            f"committed '{variant}' backbones are not used: {why}; a profile whose backbones must be committed "
            f"(cpu: ~3 min on one GPU, ~3 h on two cores) needs them trained again, or the code recorded if it "
            f"builds the same (python -m ssb.codekeys --record)"
        )
        return None
    folder = reference_dir(profile.name, variant, seed, data_seed)
    if not (folder / "record.json").is_file():
        return _by_content(profile, folder.name, verified)
    record = json.loads((folder / "record.json").read_text())
    expected = backbone_key(profile)
    flags = train_flags(profile.name, variant, seed, data_seed)
    how = (
        f"Retrain it with `ssb train {flags}` and commit it with `ssb reference {flags}`, or run the claims with "
        f"--ssb-retrain (`ssb reproduce --retrain`) to train every backbone from scratch."
    )
    if record.get("backbone_key") != expected:
        raise StaleReference(
            f"{folder} is stale: it was trained with config hash {record.get('backbone_key')}, but the "
            f"'{profile.name}' profile's backbone config now hashes to {expected}. {how}"
        )
    problem = verify(folder, verified)
    if problem:
        raise StaleReference(f"{folder} is damaged ({problem}). {how}")
    return folder


def _by_content(profile: Profile, variant: str, verified: set | None = None) -> Path | None:
    """A backbone committed under another profile's name whose recorded config hash is this profile's (a
    copy of ``cpu.toml`` renamed, or with a probe setting changed, trains nothing)."""
    expected = backbone_key(profile)
    for record_path in sorted(ROOT.glob(f"*/{variant}/record.json")):
        record = json.loads(record_path.read_text())
        if record.get("backbone_key") == expected and verify(record_path.parent, verified) is None:
            return record_path.parent
    return None


def export_reference(
    trained: Path,
    profile: Profile,
    variant: str,
    command: str,
    note: str = "",
    seed: int | None = None,
    data_seed: int | None = None,
) -> Path:
    """Copy a trained backbone (from the store, or a folder trained elsewhere by ``ssb train``) into the
    package as the committed reference (``seed``: one of other initial conditions, ``data_seed``: one trained
    on another order of the paragraphs, beside it); ``note`` (Markdown) goes into its README."""
    folder = reference_dir(profile.name, variant, seed, data_seed)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in FILES:
        if (trained / name).is_file():
            shutil.copy2(trained / name, folder / name)
    record = json.loads((folder / "record.json").read_text())
    record["command"] = command
    (folder / "record.json").write_text(json.dumps(record, indent=1))
    log = json.loads((folder / "training_log.json").read_text())
    curve = [
        (e["step"], e.get("loss"), e.get("eval_mlm_accuracy"), e.get("eval_masked_accuracy"))
        for e in log
        if "loss" in e or "eval_mlm_accuracy" in e
    ]

    def cell(x):
        return "" if x is None else round(x, 4)

    lines = [
        f"# Reference backbone: profile `{profile.name}`, variant `{variant}`"
        + ("" if seed is None else f", backbone seed {seed} (other initial conditions)")
        + ("" if data_seed is None else f", data seed {data_seed} (another order of the training paragraphs)"),
        "",
        "Pre-trained by this project's own code and committed so that the claims need not pre-train it.",
        *([note] if note else []),
        f"Backbone config hash: `{record['backbone_key']}` (`ssb.config.backbone_key`); a changed training",
        "config makes `ssb` refuse it as stale and say how to retrain.",
        "",
        f"- command: `{command}`",
        f"- device: {record.get('device')}; steps: {record.get('steps')}; "
        f"wall time of the last (resumed) run: {record.get('seconds_this_run')} s",
        f"- data: `{record['data']['source']}` sha256 `{record['data']['sha256']}`",
        f"- final held-out MLM accuracy: {record['final_eval'].get('eval_mlm_accuracy')} over all masked positions "
        f"(80/10/10), {record['final_eval'].get('eval_masked_accuracy', 'not recorded')} at the [MASK] positions",
        "",
        "| step | train loss | held-out MLM accuracy | at [MASK] only |",
        "|---|---|---|---|",
        *[f"| {s} | {cell(loss)} | {cell(a)} | {cell(m)} |" for s, loss, a, m in curve],
        "",
    ]
    (folder / "README.md").write_text("\n".join(lines))
    meta = {"profile": profile.name, "variant": variant, "backbone_key": record["backbone_key"]}
    meta = meta if seed is None else {**meta, "backbone_seed": seed}
    write_manifest(folder, meta if data_seed is None else {**meta, "data_seed": data_seed})
    return folder
