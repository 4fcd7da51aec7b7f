"""Issue #37: a backbone of other initial conditions ([seeds] backbone) is trained by `ssb train
--backbone-seed N`, committed beside the profile's own by `ssb reference --backbone-seed N --probes`
(ssb/reference/<profile>/reference-seed<N>/ and its token probes), and a run whose store lacks it reads the
committed one as the `init-seed:N` system instead of pre-training it again."""

import json

from ssb.artifacts import ArtifactStore, verify
from ssb.config import backbone_key
from ssb.pipeline import Pipeline


def test_a_seed_backbone_trains_commits_and_is_read_back(smoke, data_dir, tmp_path, monkeypatch, capsys):
    from ssb import reference
    from ssb.cli import main

    monkeypatch.setattr(reference, "ROOT", tmp_path / "reference")
    where = ["--profile", "smoke", "--backbone-seed", "1", "--quiet", "--data-dir", str(data_dir)]
    own = ["--cache-dir", str(tmp_path / "store")]
    assert main(["train", *where, *own]) == 0
    out = capsys.readouterr().out
    assert "backbone (smoke, reference, backbone seed 1)" in out and "trained" in out
    assert main(["reference", *where, *own, "--probes"]) == 0
    folder = tmp_path / "reference" / "smoke" / "reference-seed1"
    record = json.loads((folder / "record.json").read_text())
    seeded = smoke.replace(backbone={"seed": 1})
    assert record["backbone_key"] == backbone_key(seeded) != backbone_key(smoke) and verify(folder) is None
    assert "--backbone-seed 1" in record["command"]
    # a fresh store: the seed system's backbone and its probe are the committed ones, nothing pre-trained
    fresh = Pipeline(smoke, ArtifactStore(tmp_path / "fresh"), data_dir, progress=False)
    assert fresh.backbone("init-seed:1")[0] == folder
    _, probe_key = fresh.token_probe(system="init-seed:1")
    assert not (tmp_path / "fresh" / "token-probe").exists() or not any((tmp_path / "fresh" / "token-probe").iterdir())
    assert (tmp_path / "reference" / "smoke" / "store" / "token-probe" / probe_key).is_dir()
    assert reference.find_reference(seeded, "reference", seed=1) == folder
    assert reference.find_reference(seeded, "reference") is None  # the profile's own folder is another


def test_a_data_order_backbone_trains_commits_and_is_read_back(smoke, data_dir, tmp_path, monkeypatch, capsys):
    """``--data-seed N``: the reference's initialisation on another order of the paragraphs, committed as
    <variant>-order<N> with its probe and read back as the ``data-order:N`` system."""
    from ssb import reference
    from ssb.cli import main

    monkeypatch.setattr(reference, "ROOT", tmp_path / "reference")
    where = ["--profile", "smoke", "--data-seed", "1", "--quiet", "--data-dir", str(data_dir)]
    own = ["--cache-dir", str(tmp_path / "store")]
    assert main(["train", *where, *own]) == 0
    assert "backbone (smoke, reference, data seed 1)" in capsys.readouterr().out
    assert main(["reference", *where, *own, "--probes"]) == 0
    folder = tmp_path / "reference" / "smoke" / "reference-order1"
    record = json.loads((folder / "record.json").read_text())
    ordered = smoke.replace(backbone={"data_seed": 1})
    assert record["backbone_key"] == backbone_key(ordered) != backbone_key(smoke) and verify(folder) is None
    assert "--data-seed 1" in record["command"] and json.loads((folder / "manifest.json").read_text())
    fresh = Pipeline(smoke, ArtifactStore(tmp_path / "fresh"), data_dir, progress=False)
    assert fresh.backbone("data-order:1")[0] == folder
    _, probe_key = fresh.token_probe(system="data-order:1")
    assert (tmp_path / "reference" / "smoke" / "store" / "token-probe" / probe_key).is_dir()
    assert reference.find_reference(ordered, "reference", data_seed=1) == folder


def test_a_data_seed_with_a_backbone_seed_or_a_variant_is_refused(tmp_path, capsys):
    from ssb.cli import main

    for extra in (["--backbone-seed", "1"], ["--variant", "no-dropout"]):
        code = main(["train", "--profile", "smoke", "--data-seed", "1", *extra, "--cache-dir", str(tmp_path / "c")])
        err = capsys.readouterr().err.strip()
        assert code == 2 and err.count("\n") == 0 and "--data-seed: another order of the paragraphs" in err


def test_the_profiles_own_seed_is_refused_as_a_backbone_seed(tmp_path, capsys):
    from ssb.cli import main

    code = main(["train", "--profile", "smoke", "--backbone-seed", "0", "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and "--backbone-seed 0 is the profile's own backbone.seed" in err


def test_the_order_of_the_paragraphs_is_a_seed_of_its_own(smoke, data_dir, tmp_path):
    """backbone.data_seed shuffles the training paragraphs before the Trainer's sampler permutes them (by
    backbone.seed): the same start (initialisation), other weights after training, the same weights again for
    the same data seed in another store; the default (-1) keeps the keys of backbones trained before it."""
    from safetensors.torch import load_file

    from ssb.model import build_mlm
    from ssb.train import pretrain

    ordered = smoke.replace(backbone={"data_seed": 1})

    def weights(profile, store):
        folder, _ = pretrain(profile, ArtifactStore(tmp_path / store), data_dir, progress=False)
        return load_file(str(folder / "model.safetensors"))

    start, start_ordered = build_mlm(smoke.backbone, 100).state_dict(), build_mlm(ordered.backbone, 100).state_dict()
    assert all((start[k] == start_ordered[k]).all() for k in start)
    own, other, again = weights(smoke, "a"), weights(ordered, "a"), weights(ordered, "b")
    assert any(not (own[k] == other[k]).all() for k in own)
    assert all((other[k] == again[k]).all() for k in other)
    assert backbone_key(smoke.replace(backbone={"data_seed": -1})) == backbone_key(smoke)
    assert backbone_key(ordered) != backbone_key(smoke)


def test_a_profile_with_seed_backbones_commits_the_second_probe_its_control_reads(
    smoke, data_dir, tmp_path, monkeypatch, capsys
):
    """spontaneous-breaking's control is a second probe (probe.seed + 1) of the profile's own backbone: `ssb
    reference --probes` commits it beside the others, so that a run on the committed set trains no probe."""
    from ssb import cli_common, reference
    from ssb.cli import main

    seeded = smoke.replace(seeds={"backbone": (1,)})
    monkeypatch.setattr(cli_common, "load_profile", lambda name: seeded if name == "smoke" else None)
    monkeypatch.setattr(reference, "ROOT", tmp_path / "reference")
    where = ["--profile", "smoke", "--quiet", "--data-dir", str(data_dir), "--cache-dir", str(tmp_path / "store")]
    assert main(["train", *where]) == 0 and main(["reference", *where, "--probes"]) == 0
    assert f"probe seed {smoke.probe.seed + 1}" in capsys.readouterr().out
    pl = Pipeline(seeded, ArtifactStore(tmp_path / "store"), data_dir, progress=False)
    other = pl.probe_seed_run(smoke.probe.seed + 1).token_probe_key(smoke.probe.layer)
    assert (tmp_path / "reference" / "smoke" / "store" / "token-probe" / other).is_dir()
