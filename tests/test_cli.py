"""The ssb command: every expected error is one line naming the problem, exit code 2; --debug re-raises."""

import pytest

from ssb.cli import main


def _run(argv, capsys):
    code = main(argv)
    return code, capsys.readouterr().err.strip()


def test_missing_data_is_one_line(tmp_path, capsys):
    code, err = _run(
        [
            "features",
            "--profile",
            "smoke",
            "--data-dir",
            str(tmp_path / "none"),
            "--cache-dir",
            str(tmp_path / "c"),
            "--quiet",
        ],
        capsys,
    )
    assert code == 2 and "\n" not in err and "SSB_DATA_DIR" in err and "DataError" in err


@pytest.mark.parametrize("extra", [["--variant", "random-init"], ["--probes"]])
def test_a_short_commit_of_what_has_no_short_backbone_is_one_line(tmp_path, capsys, extra):
    code, err = _run(["reference", "--profile", "smoke", "--short", *extra, "--cache-dir", str(tmp_path / "c")], capsys)
    assert code == 2 and "\n" not in err and "--short" in err


@pytest.mark.parametrize("extra", [["--probes"], ["--short"]])
def test_fewrel_with_another_commit_is_one_line(tmp_path, capsys, extra):
    code, err = _run(
        ["reference", "--profile", "smoke", "--fewrel", *extra, "--cache-dir", str(tmp_path / "c")], capsys
    )
    assert code == 2 and "\n" not in err and "--fewrel" in err and extra[0] in err


def test_bad_profile_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\nexpect = "cpu"\n[backbone]\nn_heads = 0\n')
    code, err = _run(["claims", "--profile", str(bad), "--cache-dir", str(tmp_path / "c")], capsys)
    assert code == 2 and "\n" not in err and "bad.toml: field 'backbone.n_heads' must be > 0" in err


def test_malformed_spec_is_one_line(tmp_path, capsys):
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "x.toml").write_text('id = "x"\n')
    code, err = _run(
        ["claims", "--profile", "smoke", "--claims", str(tmp_path / "claims"), "--cache-dir", str(tmp_path / "c")],
        capsys,
    )
    assert code == 2 and "\n" not in err and "x.toml" in err and "missing field" in err


def test_missing_model_dir_is_one_line(tmp_path, capsys):
    (tmp_path / "model").mkdir()
    code, err = _run(
        [
            "features",
            "--profile",
            "smoke",
            "--model",
            str(tmp_path / "model"),
            "--cache-dir",
            str(tmp_path / "c"),
            "--quiet",
        ],
        capsys,
    )
    assert code == 2 and "\n" not in err and ("no *.safetensors weights" in err or "no config.json" in err)


def test_debug_shows_the_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [")
    code, err = _run(["--debug", "claims", "--profile", str(bad)], capsys)
    assert code == 2 and "Traceback" in err and "ConfigError" in err and err.splitlines()[-1].startswith("ssb: ")


def test_a_non_bert_config_is_one_line(tmp_path, capsys):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "gpt2", "n_layer": 2}')
    (model / "model.safetensors").write_bytes(b"not read")
    code, err = _run(
        ["features", "--profile", "smoke", "--model", str(model), "--cache-dir", str(tmp_path / "c")], capsys
    )
    assert code == 2 and "\n" not in err and "model_type 'gpt2'" in err and "CheckpointError" in err


def test_an_unwritable_store_is_one_line_with_the_fix(tmp_path, data_dir, capsys, monkeypatch):
    """Root ignores file permissions here, so the store's first write is made to fail as a read-only one would."""
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "c"))

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    monkeypatch.setattr("ssb.fingerprint.tempfile.mkstemp", refuse)
    code, err = _run(
        ["train", "--profile", "smoke", "--data-dir", str(data_dir), "--cache-dir", str(tmp_path / "c"), "--quiet"],
        capsys,
    )
    last = err.splitlines()[-1]
    assert code == 2 and last.startswith("ssb: ") and "Permission denied" in last and "SSB_CACHE_DIR" in last
    assert "Traceback" not in err


# ------------------------------------------------------------------ the exit-code contract and bad input
def _tiny_checkpoint(folder, tokenizer=True):
    """A 1-layer BERT saved as a HF checkpoint (weights, config and, unless told otherwise, a tokenizer)."""
    from transformers import BertConfig, BertForMaskedLM

    from ssb.tokenizer import train_wordpiece

    config = BertConfig(vocab_size=64, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8)
    BertForMaskedLM(config).save_pretrained(str(folder))
    if tokenizer:
        train_wordpiece(["the cat sat on the mat"] * 5, 64).save_pretrained(str(folder))
    return folder


def _smoke(tmp_path, *argv):
    return [*argv, "--profile", "smoke", "--cache-dir", str(tmp_path / "c"), "--quiet"]


@pytest.mark.parametrize("kind", ["missing", "file", "empty"])
def test_a_claims_folder_that_is_not_one_is_refused(tmp_path, capsys, kind):
    folder = tmp_path / "claims"
    if kind == "file":
        folder.write_text("")
    elif kind == "empty":
        folder.mkdir()
    code, err = _run(_smoke(tmp_path, "claims", "--claims", str(folder)), capsys)
    words = {"missing": "does not exist", "file": "is a file", "empty": "is empty"}[kind]
    assert code == 2 and "\n" not in err and f"{folder}: the claims folder {words}" in err


def test_a_spec_that_is_not_utf8_names_the_file(tmp_path, capsys):
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "x.toml").write_bytes('id = "caf\u00e9"\n'.encode("latin-1"))
    code, err = _run(_smoke(tmp_path, "claims", "--claims", str(tmp_path / "claims")), capsys)
    assert code == 2 and "\n" not in err and "x.toml: not UTF-8 text" in err


def test_a_model_without_tokenizer_files_is_refused(tmp_path, capsys):
    model = _tiny_checkpoint(tmp_path / "model", tokenizer=False)
    code, err = _run(_smoke(tmp_path, "features", "--model", str(model)), capsys)
    assert code == 2 and "\n" not in err and "no tokenizer files" in err and "save_pretrained" in err


@pytest.mark.parametrize("damage", ["truncated", "zeroed"])
def test_damaged_safetensors_in_a_model_are_one_line(tmp_path, capsys, damage):
    model = _tiny_checkpoint(tmp_path / "model")
    weights = model / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2] if damage == "truncated" else bytes(len(data)))
    code, err = _run(_smoke(tmp_path, "features", "--model", str(model)), capsys)
    assert code == 2 and "\n" not in err and "model.safetensors: not a readable safetensors file" in err


@pytest.mark.parametrize("layer", ["0", "-1", "99"])
def test_a_layer_outside_the_backbone_is_refused(tmp_path, capsys, layer):
    code, err = _run(_smoke(tmp_path, "features", "--layer", layer), capsys)
    assert code == 2 and "\n" not in err and f"--layer {layer}: field 'probe.layer' must lie in 1..2" in err


def test_a_layer_beyond_a_models_depth_is_refused(tmp_path, capsys):
    model = _tiny_checkpoint(tmp_path / "model")  # one block; the smoke profile reads block 2
    code, err = _run(_smoke(tmp_path, "features", "--model", str(model)), capsys)
    assert code == 2 and "\n" not in err and "field 'probe.layer' must lie in 1..1" in err


def test_an_out_or_a_store_that_is_a_file_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    import ssb.cli

    monkeypatch.setattr(ssb.cli, "_evaluate_all", lambda *a: pytest.fail("work started"))
    (tmp_path / "afile").write_text("")
    code, err = _run(_smoke(tmp_path, "reproduce", "--out", str(tmp_path / "afile")), capsys)
    assert code == 2 and "\n" not in err and "is a file" in err
    code, err = _run(["claims", "--profile", "smoke", "--cache-dir", str(tmp_path / "afile")], capsys)
    assert code == 2 and "\n" not in err and "afile is a file; the artifact store is a folder" in err


def test_an_out_holding_other_files_is_refused_and_kept(tmp_path, capsys, monkeypatch):
    import ssb.cli

    monkeypatch.setattr(ssb.cli, "_evaluate_all", lambda *a: pytest.fail("work started"))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    code, err = _run(_smoke(tmp_path, "reproduce", "--out", str(tmp_path / "mine")), capsys)
    assert code == 2 and "notes.txt" in err and (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_readme_on_a_truncated_report_is_one_line(tmp_path, capsys):
    (tmp_path / "report.json").write_text('{"profile_name": "cpu", "checks": [')
    (tmp_path / "README.md").write_text("x")
    code, err = _run(
        ["readme", "--report", str(tmp_path / "report.json"), "--readme", str(tmp_path / "README.md")], capsys
    )
    assert code == 2 and "\n" not in err and "not a whole ssb report.json" in err


def _raising(error):
    def command(args):
        raise error

    return command


def _claims_command_is(monkeypatch, command):
    """``ssb claims`` runs ``command(args)`` instead of evaluating anything."""
    import ssb.cli

    parser = ssb.cli.build_parser()
    parser._subparsers._group_actions[0].choices["claims"].set_defaults(func=command)
    monkeypatch.setattr(ssb.cli, "build_parser", lambda: parser)


@pytest.mark.parametrize(
    "error, words",
    [
        (OSError(28, "No space left on device", "/store/x"), "the disk is full"),
        (OSError(30, "Read-only file system", "/store"), "read-only"),
        (OSError(36, "File name too long", "/" + "x" * 300), "too long"),
        (RuntimeError("safetensors: I/O error: No space left on device (os error 28)"), "the disk is full"),
        (KeyboardInterrupt(), "interrupted"),
    ],
)
def test_environment_conditions_and_ctrl_c_are_one_line_exit_2(tmp_path, capsys, monkeypatch, error, words):
    _claims_command_is(monkeypatch, _raising(error))
    code, err = _run(_smoke(tmp_path, "claims"), capsys)
    assert code == 2 and "\n" not in err and words in err and "Traceback" not in err


def test_a_bug_is_exit_3_with_its_traceback(tmp_path, capsys, monkeypatch):
    _claims_command_is(monkeypatch, _raising(ZeroDivisionError("oops")))
    code, err = _run(_smoke(tmp_path, "claims"), capsys)
    assert code == 3 and "Traceback" in err and "ZeroDivisionError: oops" in err and "internal error" in err


def test_a_check_that_does_not_behave_is_exit_1(tmp_path, capsys, monkeypatch):
    from ssb.cli import EXIT_CHECKS

    _claims_command_is(monkeypatch, lambda args: EXIT_CHECKS)
    assert _run(_smoke(tmp_path, "claims"), capsys)[0] == 1


def test_a_hub_id_offline_says_how_to_pass_a_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, err = _run(
        ["features", "--profile", "smoke", "--model", "bert-base-uncased", "--cache-dir", str(tmp_path)], capsys
    )
    assert code == 2 and "\n" not in err and "hub is offline" in err and "--local-dir DIR" in err


def test_a_cached_hub_id_loads_offline_from_the_hub_cache(tmp_path, capsys, monkeypatch):
    """#33: an id already in the local Hugging Face cache was refused offline; the real snapshot_download reads
    it from a cache laid out as the hub lays it (refs/main naming the snapshot)."""
    import huggingface_hub

    from ssb.model import resolve_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    repo = tmp_path / "hub" / "models--org--bert-6"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    (snapshot / "config.json").write_text('{"model_type": "bert"}')
    assert resolve_model("org/bert-6") == snapshot
    argv = ["features", "--profile", "smoke", "--model", "org/other", "--cache-dir", str(tmp_path / "c")]
    code, err = _run(argv, capsys)
    assert code == 2 and "hub is offline" in err and "hf download org/other" in err  # not cached: how to fetch it


def test_a_hub_id_online_is_downloaded_once_and_read_as_a_folder(tmp_path, monkeypatch):
    import huggingface_hub

    from ssb.model import CheckpointError, resolve_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    calls = []

    def fake_download(repo_id, allow_patterns, local_files_only=False):
        if local_files_only:
            raise FileNotFoundError("not in the cache")  # as huggingface_hub's LocalEntryNotFoundError is
        calls.append((repo_id, tuple(allow_patterns)))
        return str(tmp_path)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_download)
    assert resolve_model("org/bert-6") == tmp_path and calls == [("org/bert-6", ("*.json", "*.txt", "*.safetensors"))]
    assert resolve_model(tmp_path) == tmp_path.resolve()  # a folder is a folder: no download
    with pytest.raises(CheckpointError, match="no such folder"):
        resolve_model(tmp_path / "missing")  # a path, not a hub id

    def no_network(repo_id, allow_patterns, local_files_only=False):
        raise OSError("network unreachable")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", no_network)
    with pytest.raises(CheckpointError, match="the hub gave OSError.*--model DIR"):
        resolve_model("org/bert-6")


def test_train_on_a_renamed_copy_of_cpu_reuses_the_committed_backbone(tmp_path, capsys):
    """#34: `ssb train` started the 5,300-step pre-training (~3 h here) without a word; `ssb claims` found the
    committed backbone by its config hash, and now train does too."""
    from importlib import resources

    cpu = resources.files("ssb.profiles").joinpath("cpu.toml").read_text()
    mine = tmp_path / "mine.toml"
    mine.write_text(cpu.replace('name = "cpu"', 'name = "mine"', 1))
    code = main(["train", "--profile", str(mine), "--cache-dir", str(tmp_path / "c"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "reference/cpu/reference" in out and "committed" in out and "nothing trained" in out
    assert "pre-training" not in out


def test_train_says_nothing_of_pre_training_before_the_data_is_read(tmp_path, capsys):
    argv = ["train", "--profile", "smoke", "--data-dir", str(tmp_path / "none"), "--cache-dir", str(tmp_path / "c")]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2 and "SSB_DATA_DIR" in captured.err and "pre-training" not in captured.out + captured.err


def test_train_announces_its_steps_before_it_starts(data_dir, tmp_path, capsys, monkeypatch):
    import ssb.train

    monkeypatch.setattr(ssb.train, "pretrain", lambda *a, **k: (tmp_path, False))  # the notice, not the training
    argv = ["train", "--profile", "smoke", "--data-dir", str(data_dir), "--cache-dir", str(tmp_path / "c"), "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "pre-training 20 steps of batch 32 for a BERT of 2 blocks x 4 heads, 32 wide" in out


def test_a_cache_dir_holding_other_files_is_refused_and_kept(tmp_path, capsys):
    """#34: the README's exit-status table says so; the code accepted it."""
    cache = tmp_path / "mine"
    cache.mkdir()
    (cache / "notes.txt").write_text("keep")
    code, err = _run(["features", "--profile", "smoke", "--cache-dir", str(cache), "--quiet"], capsys)
    assert code == 2 and "\n" not in err and "holds notes.txt" in err and (cache / "notes.txt").read_text() == "keep"
    assert [p.name for p in cache.iterdir()] == ["notes.txt"]


def test_an_earlier_store_is_a_store(tmp_path):
    from ssb.paths import cache_dir

    store = tmp_path / "store"
    (store / "token-sweep" / "0123456789abcdef").mkdir(parents=True)
    (store / "token-sweep" / "0123456789abcdef.lock").write_text("")
    (store / "backbone" / "fedcba9876543210.partial").mkdir(parents=True)
    (store / "sha256-cache.json").write_text("{}")
    assert cache_dir(store) == store.resolve()


def test_a_permission_error_names_the_folder_at_fault(tmp_path):
    import argparse
    import errno

    from ssb.cli import environment_hint

    args = argparse.Namespace(out=str(tmp_path / "report"), cache_dir=str(tmp_path / "store"))

    def hint(path):
        return environment_hint(PermissionError(13, "Permission denied", str(path)), errno.EACCES, args)

    assert "--out" in hint(tmp_path / ".report.tmp-x") and "--out" in hint(tmp_path / "report" / "report.md")
    assert "artifact store" in hint(tmp_path / "store" / "token-sweep" / "k")  # the store's own advice
    assert str(tmp_path / "elsewhere") in hint(tmp_path / "elsewhere")


def test_a_profile_file_without_a_section_says_which_defaults_it_took(tmp_path, capsys):
    mine = tmp_path / "mine.toml"
    mine.write_text('name = "mine"\nexpect = "smoke"\n[pretrain]\nmax_steps = 5\n')
    argv = [
        "features",
        "--profile",
        str(mine),
        "--data-dir",
        str(tmp_path / "none"),
        "--cache-dir",
        str(tmp_path / "c"),
    ]
    code = main(argv)
    out, err = capsys.readouterr()
    notice = next(line for line in out.splitlines() if line.startswith("[ssb]"))
    assert code == 2 and len(err.strip().splitlines()) == 1  # the error keeps its one line
    assert "[backbone]" in notice and "[pretrain]" not in notice
    assert "6 blocks x 12 heads, 768 wide" in notice
