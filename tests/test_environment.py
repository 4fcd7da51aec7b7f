"""``ssb --version``, ``python -m ssb`` and the environment a result records."""

import subprocess
import sys

import pytest

import ssb
from ssb.cli import main
from ssb.environment import environment, git_commit


def test_version_is_the_package_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"ssb {ssb.__version__}"


def test_python_dash_m_runs_the_command():
    run = subprocess.run([sys.executable, "-m", "ssb", "--help"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "usage: ssb" in run.stdout and "compare" in run.stdout


def test_the_environment_names_the_code_and_the_libraries():
    import torch
    import transformers

    env = environment("cpu")
    assert env["ssb"] == ssb.__version__ and env["device"] == "cpu"
    assert env["torch"] == torch.__version__ and env["transformers"] == transformers.__version__
    commit = env["git_commit"]  # a checkout here; None for an installed package
    assert commit is None or len(commit.removesuffix("+dirty")) == 40


def test_a_folder_that_is_no_checkout_has_no_commit(tmp_path):
    assert git_commit(tmp_path) is None


def test_with_reference_goes_with_model(tmp_path, capsys):
    assert main(["reproduce", "--profile", "smoke", "--with-reference", "--out", str(tmp_path / "r")]) == 2
    assert "--with-reference goes with --model" in capsys.readouterr().err


def test_an_empty_table_keeps_its_columns():
    from ssb.api import Analysis

    empty = Analysis("smoke", 2, None, n_heads=4, width=32)
    assert {"n_pos", "apt", "tokens"} <= set(empty.nodes.columns) and len(empty.nodes) == 0
    assert "n_nodes" in empty.subsets.columns and empty.nodes.index.name == "id"


def test_the_machine_speed_is_a_rate_of_the_shape_it_names_and_is_shown_with_the_timings():
    from ssb.environment import matmul_speed
    from ssb.report_tables import speed_line

    speed = matmul_speed("cpu", size=128, repeat=3)
    assert speed["fp32_matmul_gflops"] > 0 and speed["shape"] == [128, 128, 128] and speed["threads"] >= 1
    line = speed_line(speed)
    assert f"{speed['fp32_matmul_gflops']:g} GFLOP/s" in line and "128 x 128" in line and "\n" not in line
