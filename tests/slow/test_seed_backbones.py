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


def test_the_profiles_own_seed_is_refused_as_a_backbone_seed(tmp_path, capsys):
    from ssb.cli import main

    code = main(["train", "--profile", "smoke", "--backbone-seed", "0", "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and "--backbone-seed 0 is the profile's own backbone.seed" in err


def test_the_order_of_the_paragraphs_is_a_seed_of_its_own(smoke, data_dir, tmp_path):
    """backbone.data_seed orders the training paragraphs (the Trainer's data_seed) with the initialisation of
    backbone.seed: the same order as the default gives the same weights; another order gives other weights from
    the same start; the default (-1) keeps the keys of backbones trained before the field existed."""
    from safetensors.torch import load_file

    from ssb.train import pretrain

    store = ArtifactStore(tmp_path / "store")

    def weights(profile):
        folder, _ = pretrain(profile, store, data_dir, progress=False)
        return load_file(str(folder / "model.safetensors"))

    own = weights(smoke)
    same = weights(smoke.replace(backbone={"data_seed": smoke.backbone.seed}))
    other = weights(smoke.replace(backbone={"data_seed": smoke.backbone.seed + 1}))
    assert all((own[k] == same[k]).all() for k in own)
    assert any(not (own[k] == other[k]).all() for k in own)
    assert backbone_key(smoke.replace(backbone={"data_seed": -1})) == backbone_key(smoke)
    assert backbone_key(smoke.replace(backbone={"data_seed": 1})) != backbone_key(smoke)
