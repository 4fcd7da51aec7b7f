"""scripts/unattended.sh refuses, before it touches anything, what it must not write into or cannot run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "unattended.sh"


def _run(cwd, *argv):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(["bash", str(SCRIPT), *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("pack", ["x", "results"])
def test_a_pack_folder_that_is_not_a_pack_is_refused_and_kept(tmp_path, pack):
    folder = tmp_path / pack
    (folder / "cpu").mkdir(parents=True)
    (folder / "keep").write_text("mine")
    (folder / "cpu" / "report.json").write_text("{}")
    done = _run(tmp_path, "--profile", "nosuch", "--pack", pack)
    assert (
        done.returncode == 2 and "is not a pack of this script" in done.stderr and "nothing was touched" in done.stderr
    )
    assert (folder / "keep").read_text() == "mine" and (folder / "cpu" / "report.json").is_file()
    assert not (tmp_path / f"{pack}.tar.gz").exists()


def test_an_earlier_pack_with_a_foreign_file_is_refused(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / ".ssb-pack").write_text("")
    (tmp_path / "p" / "notes.txt").write_text("mine")
    done = _run(tmp_path, "--pack", "p", "--data", "nowhere")
    assert done.returncode == 2 and "holds notes.txt" in done.stderr and (tmp_path / "p" / "notes.txt").is_file()


def test_a_tarball_in_the_way_is_refused(tmp_path):
    (tmp_path / "p.tar.gz").write_text("someone's")
    done = _run(tmp_path, "--pack", "p", "--data", "nowhere")
    assert done.returncode == 2 and "p.tar.gz exists" in done.stderr
    assert (tmp_path / "p.tar.gz").read_text() == "someone's"


@pytest.mark.parametrize(
    "option", ["--profile", "--pack", "--data", "--cache", "--results", "--device", "--loan", "--loan-limit"]
)
def test_an_option_without_its_value_is_exit_2(tmp_path, option):
    done = _run(tmp_path, option)
    assert done.returncode == 2 and f"{option} needs a value" in done.stderr
    done = _run(tmp_path, option, "--bench")
    assert done.returncode == 2 and f"{option} needs a value" in done.stderr


def test_relative_paths_are_read_from_the_callers_folder(tmp_path):
    done = _run(tmp_path, "--pack", "mypack", "--data", "mydata")
    assert done.returncode == 2 and f"no data folder {tmp_path}/mydata" in done.stderr
    assert (tmp_path / "mypack" / ".ssb-pack").is_file()  # created where the caller is, not in the checkout


@pytest.mark.parametrize("limit", ["9m", "-5", "1.5"])
def test_a_loan_limit_that_is_not_whole_seconds_is_exit_2(tmp_path, limit):
    done = _run(tmp_path, "--loan", "out", "--loan-limit", limit, "--data", "nowhere")
    assert done.returncode == 2 and f"--loan-limit {limit}: give whole seconds" in done.stderr
    assert not (tmp_path / "out").exists()  # refused before anything was written
