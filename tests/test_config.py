import re

import pytest

from ssb.config import ConfigError, Profile, backbone_key, config_hash, load_profile, profile_from_dict


@pytest.mark.parametrize("name", ["smoke", "cpu", "paper"])
def test_named_profiles_load(name):
    assert load_profile(name).name == name


def test_paper_profile_holds_the_papers_numbers():
    p = load_profile("paper")
    assert (p.backbone.n_layers, p.backbone.hidden, p.backbone.n_heads, p.backbone.intermediate) == (6, 768, 12, 3072)
    assert (p.tokenizer.kind, p.tokenizer.vocab_size, p.backbone.max_len) == ("bert-base-uncased", 30522, 128)
    assert (p.pretrain.epochs, p.pretrain.lr, p.pretrain.weight_decay, p.pretrain.batch_size) == (50, 5.5e-5, 1e-2, 32)
    assert (p.probe.token_epochs, p.probe.token_lr, p.probe.token_weight_decay) == (50, 1e-4, 8e-6)
    assert (p.probe.label_epochs, p.probe.label_lr, p.probe.label_weight_decay) == (20, 5e-5, 8e-6)
    assert (p.fewrel.n_train_per_relation, p.fewrel.n_test_per_relation) == (630, 70)
    assert p.corpus.n_train == 90_000


def test_hash_is_stable_and_sensitive():
    a, b = load_profile("cpu"), load_profile("cpu")
    assert backbone_key(a) == backbone_key(b)
    assert backbone_key(a) != backbone_key(a.replace(backbone={"hidden_dropout": 0.0}))
    # sections the backbone does not depend on leave its key alone
    assert backbone_key(a) == backbone_key(a.replace(probe={"token_epochs": 1.0}))
    assert len(config_hash(a.backbone)) == 16


def test_late_field_keeps_old_keys_at_its_default():
    """``warmup_ratio`` and ``attention`` came after references were committed: at their defaults they must not
    move the key."""
    import dataclasses
    import hashlib
    import json

    p = load_profile("smoke")
    assert p.pretrain.warmup_ratio == 0 and p.pretrain.attention == "padded"
    old = {k: v for k, v in dataclasses.asdict(p.pretrain).items() if k not in ("warmup_ratio", "attention")}
    expect = hashlib.sha256(json.dumps(["pretrain", old], sort_keys=True, separators=(",", ":")).encode()).hexdigest()[
        :16
    ]
    assert config_hash("pretrain", p.pretrain) == expect
    for late in ({"warmup_ratio": 0.05}, {"attention": "repad"}):
        assert config_hash("pretrain", p.pretrain) != config_hash("pretrain", p.replace(pretrain=late).pretrain)


@pytest.mark.parametrize(
    "data, field",
    [
        ({"backbone": {"hiden": 3}}, "backbone.hiden"),
        ({"backbone": {"hidden": "big"}}, "backbone.hidden"),
        ({"backbone": {"symmetric_init": 1}}, "backbone.symmetric_init"),
        ({"pretrain": {"lr": "fast"}}, "pretrain.lr"),
        ({"sweep": {"node_counts": [1, "two"]}}, "sweep.node_counts[1]"),
        ({"probe": {"layer": 9}}, "probe.layer"),
        ({"backbon": {}}, "backbon"),
    ],
)
def test_errors_name_file_and_field(data, field):
    with pytest.raises(ConfigError) as err:
        profile_from_dict(data, "my/profile.toml")
    assert "my/profile.toml" in str(err.value) and field.split(".")[-1].split("[")[0] in str(err.value)


def test_toml_file_and_syntax_error(tmp_path):
    good = tmp_path / "mine.toml"
    good.write_text("[backbone]\nhidden = 96\nn_heads = 12\n[sweep]\nnode_counts = [1, 2]\n")
    p = load_profile(good)
    assert p.name == "mine" and p.backbone.hidden == 96 and p.sweep.node_counts == (1, 2)
    bad = tmp_path / "bad.toml"
    bad.write_text("[backbone\n")
    with pytest.raises(ConfigError, match="bad.toml"):
        load_profile(bad)
    with pytest.raises(ConfigError, match="no profile"):
        load_profile("nonexistent")


def test_defaults_are_the_paper():
    assert Profile().backbone == load_profile("paper").backbone


@pytest.mark.parametrize(
    "data, field",
    [
        ({"backbone": {"n_heads": 0}}, "backbone.n_heads' must be > 0"),
        ({"sweep": {"n_subsets": 0}}, "sweep.n_subsets' must be > 0"),
        ({"backbone": {"hidden": -32}}, "backbone.hidden' must be > 0"),
        ({"corpus": {"n_train": -5}}, "corpus.n_train' must be > 0"),
        ({"pretrain": {"lr": -1.0}}, "pretrain.lr' must be > 0"),
        ({"pretrain": {"batch_size": 0}}, "pretrain.batch_size' must be > 0"),
        ({"backbone": {"attention_dropout": 1.0}}, "backbone.attention_dropout' must lie in [0, 1)"),
        ({"pretrain": {"epochs": 0.0, "max_steps": 0}}, "pretrain.epochs' or 'pretrain.max_steps' must be > 0"),
        ({"sweep": {"node_counts": []}}, "sweep.node_counts' must be a non-empty list"),
        ({"fewrel": {"n_test_per_relation": 0}}, "fewrel.n_test_per_relation' must be > 0"),
    ],
)
def test_impossible_sizes_name_the_field(data, field):
    with pytest.raises(ConfigError) as err:
        profile_from_dict({"name": "x", **data}, "mine.toml")
    assert str(err.value).startswith("mine.toml: field '") and field in str(err.value)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_non_finite_number_is_refused(tmp_path, value):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'expect = "smoke"\n[pretrain]\nlr = {value}\n')
    with pytest.raises(ConfigError, match=r"bad.toml: field 'pretrain.lr' must be a finite number"):
        load_profile(bad)


def test_a_profile_that_is_not_utf8_names_the_file(tmp_path):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('name = "caf\u00e9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1.toml: not UTF-8 text"):
        load_profile(bad)


@pytest.mark.parametrize(
    "section, field, value, words",
    [
        ("fewrel", "n_relations", 1, "'fewrel.n_relations' must be 0 (every relation) or >= 2"),
        ("backbone", "n_heads", 1, "'backbone.n_heads' must be >= 2"),
        ("sweep", "n_subsets", 1, "'sweep.n_subsets' must be >= 2"),
        ("sweep", "node_counts", [1, 64], "'sweep.node_counts' must lie in 1..32"),
        ("sweep", "hull_counts", [1, 2, 64], "'sweep.hull_counts' must lie in 1..32"),
    ],
)
def test_sizes_without_a_meaningful_verdict_are_refused(section, field, value, words):
    data = {"expect": "smoke", "backbone": {"hidden": 32, "n_heads": 4}, "sweep": {"node_counts": [1, 2]}}
    data.setdefault(section, {})[field] = value
    if field == "hull_counts":
        data["sweep"]["hull_subsets"] = [2, 2, 2]
    with pytest.raises(ConfigError, match=re.escape(words)):
        profile_from_dict(data, "p.toml")


def test_lock_timeout_is_a_positive_runtime_field():
    assert load_profile("smoke").runtime.lock_timeout_s > 0
    with pytest.raises(ConfigError, match="'runtime.lock_timeout_s' must be > 0"):
        profile_from_dict({"runtime": {"lock_timeout_s": 0}}, "p.toml")


def test_the_short_seed_set_is_the_cpu_recipe_at_another_budget():
    """ssb/profiles/cpu-seeds.toml says it is the cpu profile's recipe and shapes at a budget of its own: only
    the steps, the checkpoint interval and the unpadded step differ in what a backbone is trained by."""
    import dataclasses

    cpu, seeds = load_profile("cpu"), load_profile("cpu-seeds")
    assert (seeds.corpus, seeds.tokenizer, seeds.backbone) == (cpu.corpus, cpu.tokenizer, cpu.backbone)
    same = {"max_steps": cpu.pretrain.max_steps, "save_steps": cpu.pretrain.save_steps, "attention": "padded"}
    assert dataclasses.replace(seeds.pretrain, **same) == cpu.pretrain
    assert seeds.pretrain.max_steps < cpu.pretrain.max_steps and seeds.seeds.backbone
    assert dataclasses.replace(seeds.probe, depth_layers=cpu.probe.depth_layers) == cpu.probe
