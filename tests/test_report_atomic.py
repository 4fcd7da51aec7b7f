"""A report is written as one folder of one run: never half-written, never mixed with another run's files,
the previous one kept when writing fails (a full disk) and left alone when ``--out`` is not a report."""

import errno
import json
from pathlib import Path

import pytest

import ssb.report
from ssb.report import ReportError, check_out, write_report

PL = {"profile": {"runtime": {"lock_timeout_s": 5.0}}}  # a run result, as far as the writer reads it


def _fake_files(fail_at: str | None = None):
    """Stands in for the real writer: a figure, report.md and report.json carrying the run id."""

    def write(verdicts, pl, out: Path, extra, run_id):
        (out / "fig3_heads.png").write_bytes(run_id.encode())
        (out / "report.md").write_text(f"run {run_id}")
        if fail_at == "report.json":
            raise OSError(errno.ENOSPC, "No space left on device", str(out / "report.json"))
        (out / "report.json").write_text(json.dumps({"run_id": run_id}))

    return write


def _run_ids(out: Path) -> set[str]:
    return {
        json.loads((out / "report.json").read_text())["run_id"],
        (out / "report.md").read_text().removeprefix("run "),
        (out / "fig3_heads.png").read_bytes().decode(),
    }


def test_a_report_is_one_run_and_replaces_the_previous_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(ssb.report, "_write_report_files", _fake_files())
    out = tmp_path / "results" / "smoke"
    write_report([], PL, out)
    first = _run_ids(out)
    write_report([], PL, out)
    second = _run_ids(out)
    assert len(first) == len(second) == 1 and first != second
    assert sorted(p.name for p in out.parent.iterdir()) == ["smoke"]  # no temporaries left, no lock file either


def test_a_full_disk_keeps_the_previous_report_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(ssb.report, "_write_report_files", _fake_files())
    out = tmp_path / "smoke"
    write_report([], PL, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(ssb.report, "_write_report_files", _fake_files(fail_at="report.json"))
    with pytest.raises(OSError, match="No space left"):
        write_report([], PL, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["smoke"]


def test_a_killed_runs_temporary_is_swept_by_the_next(tmp_path, monkeypatch):
    monkeypatch.setattr(ssb.report, "_write_report_files", _fake_files())
    (tmp_path / ".smoke.tmp-dead").mkdir()
    (tmp_path / ".smoke.tmp-dead" / "fig3_heads.png").write_bytes(b"old")
    write_report([], PL, tmp_path / "smoke")
    assert not (tmp_path / ".smoke.tmp-dead").exists() and len(_run_ids(tmp_path / "smoke")) == 1


def test_an_out_that_is_not_a_report_is_refused(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ReportError, match="is a file"):
        check_out(tmp_path / "file")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "data.csv").write_text("keep")
    with pytest.raises(ReportError, match="data.csv, which are not part of an ssb report"):
        check_out(tmp_path / "mine")
    check_out(tmp_path / "new")  # absent: fine
    (tmp_path / "empty").mkdir()
    check_out(tmp_path / "empty")


def test_the_parent_of_an_out_stays_usable_as_an_out(tmp_path, monkeypatch):
    """#34: the report's lock file was left beside --out, and the parent was then refused as an --out."""
    monkeypatch.setattr(ssb.report, "_write_report_files", _fake_files())
    write_report([], PL, tmp_path / "parent" / "smoke")
    assert [p.name for p in (tmp_path / "parent").iterdir()] == ["smoke"]
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / ".smoke.lock").write_text("{}")  # what an older ssb left
    write_report([], PL, tmp_path / "old")  # a leftover lock of ssb's own is no user's file
