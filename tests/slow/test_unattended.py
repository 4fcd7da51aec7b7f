"""scripts/unattended.sh: the GPU machine's one command, run here at the smoke profile on the CPU.

It must run a whole profile, pack the report with the training records into a folder and a tar.gz, exit
with reproduce's status, pack also after a failure, and reuse the store when run again.
"""

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from ssb.tokenizer import minilm_dir

# the loan machine installs the project's pinned wheels (transformers 5): fast-tf4 does not rerun this
pytestmark = pytest.mark.no_tf4_rerun

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "unattended.sh"


def _run(tmp_path, data_dir, *extra, profile="smoke"):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}  # this venv's python3
    command = ["bash", str(SCRIPT), "--profile", profile, "--device", "cpu", "--data", str(data_dir)]
    command += ["--cache", str(tmp_path / "cache"), "--results", str(tmp_path / "results"), *extra]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, cwd=tmp_path)


def test_the_unattended_run_packs_report_and_records(tmp_path, data_dir):
    pack = tmp_path / "pack"
    # a profile file and a pack folder given relative to the caller's folder (not the checkout)
    shutil.copy(ROOT / "ssb" / "profiles" / "smoke.toml", tmp_path / "smoke.toml")
    done = _run(tmp_path, data_dir, "--pack", "pack", profile="smoke.toml")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    run = json.loads((pack / "run.json").read_text())
    assert run["status"] == 0 and run["profile"] == "smoke" and run["report"] == "new"
    report = json.loads((pack / "results" / "smoke" / "report.json").read_text())
    assert run["report_run_id"] == report["run_id"]
    assert report["tier"] == "smoke" and report["runtime"]["device"] == "cpu" and report["checks"]
    assert "expectation tier `smoke`" in (pack / "results" / "smoke" / "report.md").read_text()
    records = {p.parent.name.split("-")[0] for p in (pack / "records").glob("*/record.json")}
    assert records == {"backbone", "fewrel"}
    backbone = next((pack / "records").glob("backbone-*/record.json"))
    assert json.loads(backbone.read_text())["runtime"]["precision"] == "fp32"
    assert "torch" in (pack / "environment.txt").read_text()
    with tarfile.open(f"{pack}.tar.gz") as tar:
        assert "pack/results/smoke/report.md" in tar.getnames()

    def trained():  # every trained model in the store, with the time its folder was written
        return {
            p: p.stat().st_mtime_ns for kind in ("backbone", "fewrel") for p in (tmp_path / "cache" / kind).iterdir()
        }

    before = trained()
    # again, on the same store (nothing retrains) and into its own earlier pack (allowed: replaced)
    rerun = _run(tmp_path, data_dir, "--pack", str(pack))
    assert rerun.returncode == 0 and trained() == before
    assert json.loads((pack / "run.json").read_text())["report_run_id"] != report["run_id"]

    snapshot = _run(tmp_path, data_dir, "--pack-only", "--pack", str(tmp_path / "snap"))  # what is there now
    assert snapshot.returncode == 0 and json.loads((tmp_path / "snap" / "run.json").read_text())["status"] == "partial"
    assert (tmp_path / "snap" / "results" / "smoke" / "report.md").is_file()
    assert len(list((tmp_path / "snap" / "records").glob("*/record.json"))) == len(
        list(pack.glob("records/*/record.json"))
    )


def test_a_failed_run_is_packed_with_its_status(tmp_path, data_dir):
    pack = tmp_path / "pack"
    done = _run(tmp_path, data_dir / "nowhere", "--pack", str(pack))  # no data folder: refused at once
    assert done.returncode == 2 and "no data folder" in done.stderr
    done = subprocess.run(
        ["bash", str(SCRIPT), "--profile", str(tmp_path / "missing.toml"), "--device", "cpu", "--data", str(data_dir),
         "--cache", str(tmp_path / "cache"), "--results", str(tmp_path / "r"), "--pack", str(pack)],
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2 and "no profile" in done.stdout
    assert json.loads((pack / "run.json").read_text())["status"] == 2 and Path(f"{pack}.tar.gz").is_file()


@pytest.mark.skipif(
    minilm_dir() is None and not os.environ.get("SSB_BERT_BASE_UNCASED"),
    reason="the quick benchmark measures the paper-fast shape, whose bert-base-uncased vocabulary is the minilm "
    "extra (a loan brings it in its wheels)",
)
def test_the_loan_command_packs_within_the_loans_file_limits(tmp_path, data_dir):
    """``--loan OUT``: a run cut off at ``--loan-limit`` packs what it finished (exit 124); the same command
    again resumes from the store and ends with the report: <= 8 flat files of <= 16 MiB, 64 MiB in all."""
    cut = _run(tmp_path, data_dir, "--loan", str(tmp_path / "cut"), "--time-budget", "60s", "--loan-limit", "55",
               "--pack", str(tmp_path / "p"))  # fmt: skip
    assert cut.returncode == 124, cut.stdout[-2000:] + cut.stderr[-2000:]
    assert "stopped at the loan's limit" in cut.stdout
    with tarfile.open(tmp_path / "cut" / "records.tar.gz") as tar:
        run = json.load(tar.extractfile("run.json"))
        timeline = tar.extractfile("store-timings.tsv").read().decode().splitlines()
    assert run["status"] == "cut-off" and run["report"] == "missing"
    assert timeline[0].split("\t") == ["created", "build_s", "kind", "key", "what"]
    # the timeline lists every entry the store finished before the cut (how many depends on the machine's load:
    # under CI's other work a 30 s run may finish none, so the count is checked after the second command)
    manifests = (tmp_path / "cache").glob("*/*/manifest.json")
    finished = {(m.parent.parent.name, m.parent.name) for m in manifests if ".tmp-" not in m.parent.name}
    cut_rows = [row.split("\t") for row in timeline[1:]]
    assert {(row[2], row[3]) for row in cut_rows} == finished

    out = tmp_path / "out"  # the same command again (a second command of the loan): resumes, with the benchmark
    again = ["--loan", str(out), "--time-budget", "60s", "--bench", "--pack", str(tmp_path / "p")]
    done = _run(tmp_path, data_dir, *again)
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-2000:]
    files = sorted(p.name for p in out.iterdir())
    assert all(p.is_file() for p in out.iterdir())  # flat: nothing deeper than the folder itself
    assert set(files) == {"benchmark.json", "figures.tar.gz", "loan.json", "records.tar.gz", "report.json", "report.md"}
    sizes = [p.stat().st_size for p in out.iterdir()]
    assert len(files) <= 8 and max(sizes) <= 16 * 2**20 and sum(sizes) <= 64 * 2**20
    assert json.loads((out / "loan.json").read_text())["problems"] == []
    report = json.loads((out / "report.json").read_text())
    assert report["time_budget"]["budget_s"] == 60 and report["time_budget"]["pretrain_steps"] >= 1
    with tarfile.open(out / "records.tar.gz") as tar:
        names = tar.getnames()
        assert json.load(tar.extractfile("run.json"))["status"] == done.returncode
        calibration = json.load(tar.extractfile("calibration.json"))  # --bench: the budget's calibration measured
        timeline = tar.extractfile("store-timings.tsv").read().decode().splitlines()
    assert calibration["profile"] == "smoke" and len(calibration["reps"]) == 1 and calibration["reps"][0]["ratio"] > 0
    assert "reproduce.log" in names and len(timeline) >= 2
    # resumed, not rebuilt: each entry the cut run finished is still there, written when it was, and the kinds
    # a run builds once (its tokenizer, its budget's plan) were read back rather than built again under another
    # key. A cut that finished nothing leaves this part empty; the first test above checks a resumed run's
    # backbone is the one trained before, whatever the load.
    assert all("\t".join(row) in timeline for row in cut_rows)
    rows = [row.split("\t") for row in timeline[1:]]
    for kind in ("tokenizer", "budget-plan"):
        if cut_keys := {row[3] for row in cut_rows if row[2] == kind}:
            assert {row[3] for row in rows if row[2] == kind} == cut_keys, kind
    assert any(n.startswith("records/backbone-") for n in names)
    with tarfile.open(out / "figures.tar.gz") as tar:
        assert any(n.endswith(".png") for n in tar.getnames())
    refused = _run(tmp_path, data_dir, "--loan", str(out))  # never into a folder that holds files
    assert refused.returncode == 2 and "must be a new or empty folder" in refused.stderr
