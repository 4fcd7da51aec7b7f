"""Build helpers give the run's own verdicts: `[runtime] jobs = 2` builds the same artifacts, under the same
keys, as one process, and the verdicts are the same to the last digit (ssb/helpers.py)."""

import json
from pathlib import Path

import pytest
import torch

from ssb.cli import main

# fast-tf4 does not rerun this (tox.ini): it tests process orchestration, and the artifacts the helpers build go
# through the training and feature paths that test_training.py and test_regression.py rerun under 4.x
pytestmark = pytest.mark.no_tf4_rerun

SMOKE = Path(__file__).resolve().parents[2] / "ssb" / "profiles" / "smoke.toml"


@pytest.fixture(autouse=True)
def _threads_restored():
    """``[runtime] threads`` sets this process's torch threads: the tests after this one keep their own."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _claims(tmp_path, data_dir, capsys, jobs: int, threads: str) -> tuple[list[dict], dict[str, list[str]], str]:
    profile = tmp_path / f"smoke-jobs{jobs}.toml"
    profile.write_text(SMOKE.read_text() + f"\n[runtime]\n{threads}jobs = {jobs}\n")
    store = tmp_path / f"store-{jobs}"
    common = ["--profile", str(profile), "--data-dir", str(data_dir), "--cache-dir", str(store), "--quiet"]
    main(["claims", *common, "--json"])
    out = capsys.readouterr()
    kinds = [kind for kind in store.iterdir() if kind.is_dir()]
    keys = {kind.name: sorted(p.name for p in kind.iterdir() if p.is_dir()) for kind in kinds}
    return json.loads(out.out)["checks"], keys, out.err


@pytest.mark.parametrize("threads", ["threads = 1\n", ""], ids=["threads-set", "the-runs-own-threads"])
def test_two_jobs_give_one_jobs_verdicts_and_artifacts(tmp_path, data_dir, capsys, threads):
    if not threads:  # the profile leaves them to the process: a helper takes the run's, not torch's default
        torch.set_num_threads(1)
    alone, alone_keys, _ = _claims(tmp_path, data_dir, capsys, 1, threads)
    helped, helped_keys, err = _claims(tmp_path, data_dir, capsys, 2, threads)
    assert "1 build helper(s) started (runtime.jobs = 2)" in err
    assert "build helper 1 ended with exit" not in err  # the helper measured every claim without a failure
    assert alone and helped == alone
    assert helped_keys == alone_keys and sum(map(len, alone_keys.values())) > 10


def test_a_helper_that_fails_is_reported_in_one_line_and_costs_no_result(tmp_path, data_dir, capsys):
    from ssb.api import pipeline
    from ssb.config import load_profile
    from ssb.helpers import build_helpers

    profile = load_profile("smoke").replace(runtime={"threads": 1, "jobs": 2})
    pl = pipeline(profile, cache_dir=tmp_path / "store", data_dir=data_dir, progress=False)
    claims = tmp_path / "claims"
    claims.mkdir()
    (claims / "broken.toml").write_text("this is not = = toml")
    with build_helpers(pl, claims) as procs:
        assert len(procs) == 1 and procs[0].wait(120) != 0  # the helper cannot read the specs
    err = capsys.readouterr().err
    assert "1 build helper(s) started" in err
    lines = [line for line in err.splitlines() if "build helper 1 ended with exit 1: " in line]
    assert len(lines) == 1 and "broken.toml" in lines[0]


RUN_THAT_HANGS = """
import sys, time
from pathlib import Path
from ssb.api import pipeline
from ssb.config import load_profile
from ssb.helpers import build_helpers

# pre-training long enough (minutes) that a helper left to itself would still be at it when the test looks
profile = load_profile("smoke").replace(runtime={"threads": 1, "jobs": 2}, pretrain={"max_steps": 5000})
pl = pipeline(profile, cache_dir=sys.argv[1], data_dir=sys.argv[2], progress=False)
with build_helpers(pl, Path(sys.argv[3])) as procs:
    print(procs[0].pid, flush=True)
    time.sleep(600)
"""


def test_a_helper_does_not_outlive_a_run_killed_without_cleanup(tmp_path, data_dir):
    """kill -9 of the run (a timeout's SIGKILL, the OOM killer) closes the helper's pipe: the helper ends too,
    instead of measuring on for hours and holding the store's locks."""
    import os
    import signal
    import subprocess
    import sys
    import time

    claims = Path(__file__).resolve().parents[2] / "claims"
    run = subprocess.Popen(
        [sys.executable, "-c", RUN_THAT_HANGS, str(tmp_path / "store"), str(data_dir), str(claims)],
        stdout=subprocess.PIPE,
        text=True,
    )
    helper = int(run.stdout.readline())
    time.sleep(8)  # the helper is at work: pre-training
    assert _alive(helper)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 15
    while _alive(helper) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(helper)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in state
