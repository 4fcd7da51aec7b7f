"""Committed reference backbones: the hash discipline, and what happens when one is missing or damaged."""

import dataclasses
import json

import pytest

from ssb import reference
from ssb.artifacts import ArtifactStore, write_manifest
from ssb.config import backbone_key, load_profile, variant


def committed():
    for profile_dir in sorted(reference.ROOT.glob("*")) if reference.ROOT.is_dir() else []:
        for folder in sorted(profile_dir.glob("*")):
            if (folder / "record.json").is_file():
                yield profile_dir.name, folder.name


@pytest.mark.parametrize(
    "profile_name, name",
    list(committed()) or [pytest.param(None, None, marks=pytest.mark.skip("no committed reference"))],
)
def test_committed_references_match_the_profile(profile_name, name):
    import re

    ordered = re.fullmatch(r"(.+)-order(\d+)", name)  # another order of the paragraphs ([seeds] data_order)
    name, data_seed = (ordered.group(1), int(ordered.group(2))) if ordered else (name, None)
    seeded = re.fullmatch(r"(.+)-seed(\d+)", name)  # a backbone of other initial conditions ([seeds] backbone)
    name, seed = (seeded.group(1), int(seeded.group(2))) if seeded else (name, None)
    profile = variant(load_profile(profile_name), name)
    profile = profile if seed is None else profile.replace(backbone={"seed": seed})
    profile = profile if data_seed is None else profile.replace(backbone={"data_seed": data_seed})
    # find_reference raises StaleReference, naming the retraining command, if the config changed since
    folder = reference.find_reference(profile, name, seed, data_seed)
    assert folder is not None
    record = json.loads((folder / "record.json").read_text())
    assert record["backbone_key"] == backbone_key(profile)
    assert (folder / "model.safetensors").stat().st_size < 40 * 2**20


def _fake_reference(root, profile, name, key):
    folder = root / profile.name / name
    folder.mkdir(parents=True)
    (folder / "record.json").write_text(json.dumps({"backbone_key": key}))
    write_manifest(folder)
    return folder


def test_stale_reference_says_how_to_retrain(tmp_path, monkeypatch):
    monkeypatch.setattr(reference, "ROOT", tmp_path)
    profile = load_profile("cpu")
    _fake_reference(tmp_path, profile, "reference", "0000000000000000")
    with pytest.raises(reference.StaleReference) as err:
        reference.find_reference(profile, "reference")
    assert (
        "stale" in str(err.value)
        and "ssb train --profile cpu" in str(err.value)
        and backbone_key(profile) in str(err.value)
    )


def test_damaged_reference_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(reference, "ROOT", tmp_path)
    profile = load_profile("cpu")
    folder = _fake_reference(tmp_path, profile, "reference", backbone_key(profile))
    assert reference.find_reference(profile, "reference") == folder
    (folder / "record.json").write_text(json.dumps({"backbone_key": backbone_key(profile), "edited": 1}))
    with pytest.raises(reference.StaleReference, match="damaged"):
        reference.find_reference(profile, "reference")


def test_missing_reference_of_a_committed_profile_is_not_trained_silently(tmp_path, monkeypatch):
    from ssb.pipeline import Pipeline

    monkeypatch.setattr(reference, "ROOT", tmp_path)
    pl = Pipeline(load_profile("cpu"), ArtifactStore(tmp_path / "store"), None)
    with pytest.raises(reference.MissingReference, match="ssb train --profile cpu --variant no-dropout"):
        pl.backbone("no-dropout")


def test_a_missing_data_order_backbone_of_a_committed_profile_says_how_to_commit_it(tmp_path, monkeypatch):
    from ssb.pipeline import Pipeline

    monkeypatch.setattr(reference, "ROOT", tmp_path)
    pl = Pipeline(load_profile("cpu"), ArtifactStore(tmp_path / "store"), None)
    with pytest.raises(reference.MissingReference, match=r"`ssb train --profile cpu --data-seed 1`.*--probes"):
        pl.backbone("data-order:1")
    assert reference.reference_dir("cpu", "reference", data_seed=1) == tmp_path / "cpu" / "reference-order1"
    assert reference.train_flags("cpu", "reference", None, 2) == "--profile cpu --data-seed 2"


def test_read_only_store_never_deletes(committed_probe, capsys):
    _, user, entry = committed_probe
    assert user.lookup("token-probe", entry.name) == entry
    (entry / "head.safetensors").write_bytes(b"1234")  # damaged
    assert user.lookup("token-probe", entry.name) is None
    err = capsys.readouterr().err  # ssb's own one-line notice, not a Python warning with a source line
    assert entry.exists() and err.startswith(f"[ssb] committed artifact token-probe/{entry.name} is damaged and is")


def test_a_renamed_copy_of_a_profile_finds_the_committed_backbones_by_their_hash():
    cpu = load_profile("cpu")
    mine = dataclasses.replace(cpu.replace(probe={"token_lr": 5e-4}), name="mine")
    for name in ("reference", "no-dropout", "symmetric"):
        assert reference.find_reference(variant(mine, name), name) == reference.reference_dir("cpu", name)
    assert reference.committed_store("mine").root == reference.store_dir("cpu")  # the probes, by content too
    longer = mine.replace(pretrain={"max_steps": 6000})
    assert reference.find_reference(longer) is None  # another backbone config: nothing committed matches


def test_an_unmatched_backbone_says_it_will_pretrain_before_it_does(monkeypatch, tmp_path, capsys, data_dir):
    from ssb import backbones, resolver

    def no_training(*args, **kwargs):
        raise RuntimeError("pre-training would start here")

    monkeypatch.setattr(backbones, "pretrain", no_training)
    mine = dataclasses.replace(load_profile("cpu").replace(pretrain={"max_steps": 6000}), name="mine")
    pl = resolver.Resolver(mine, ArtifactStore(tmp_path), data_dir, progress=False)
    with pytest.raises(RuntimeError, match="would start here"):
        pl.backbone()
    out = capsys.readouterr().out
    assert "no trained or committed 'reference' backbone matches profile 'mine'" in out and "6,000 steps" in out
    assert "6 blocks x 12 heads, 192 wide" in out


def test_without_its_corpus_nothing_announces_a_pre_training(monkeypatch, tmp_path, capsys):
    from ssb import backbones, resolver
    from ssb.data import DataError

    monkeypatch.setattr(backbones, "pretrain", lambda *a, **k: pytest.fail("pre-training started"))
    mine = dataclasses.replace(load_profile("cpu").replace(pretrain={"max_steps": 6000}), name="mine")
    pl = resolver.Resolver(mine, ArtifactStore(tmp_path), tmp_path / "no-data", progress=False)
    with pytest.raises(DataError):
        pl.backbone()
    assert "pre-training" not in capsys.readouterr().out


def committed_entries():
    for store in sorted(reference.ROOT.glob("*/store")):
        for folder in sorted(p for p in store.glob("*/*") if p.is_dir()):
            yield pytest.param(folder, id=f"{store.parent.name}/{folder.parent.name}/{folder.name}")


@pytest.mark.parametrize("folder", list(committed_entries()))
def test_committed_store_entries_verify_hold_no_pickle_and_are_documented(folder):
    from ssb.artifacts import verify

    assert verify(folder) is None
    pickles = [p.name for p in folder.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".pkl", ".pickle")]
    assert not pickles, f"{folder} holds pickled files {pickles}: store safetensors and JSON only"
    assert folder.name in (folder.parent.parent / "README.md").read_text(), f"{folder.name} has no row in its README"
