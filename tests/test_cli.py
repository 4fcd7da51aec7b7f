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


def test_debug_shows_the_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [")
    from ssb.config import ConfigError

    with pytest.raises(ConfigError):
        main(["--debug", "claims", "--profile", str(bad)])


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
