"""`ssb claims` and `ssb reproduce` exit non-zero when a claim fails, and zero when every check behaves."""

import json
import shutil
from pathlib import Path

from PIL import Image

from ssb.artifacts import file_sha256
from ssb.cli import main

CLAIMS = Path(__file__).resolve().parents[2] / "claims"


def _claims_dir(tmp_path, threshold):
    folder = tmp_path / f"claims-{threshold}"
    folder.mkdir()
    text = (CLAIMS / "head-specialisation.toml").read_text()
    smoke = text[text.index("[expect.smoke]") :]
    (folder / "head-specialisation.toml").write_text(
        text.replace(smoke, smoke.replace('op = ">", value = 0', f'op = ">", value = {threshold}'))
    )
    return folder


def test_exit_codes_follow_the_verdicts(tmp_path, data_dir, capsys):
    common = ["--profile", "smoke", "--data-dir", str(data_dir), "--cache-dir", str(tmp_path / "cache"), "--quiet"]
    assert main(["claims", *common, "--claims", str(_claims_dir(tmp_path, 0))]) == 0
    failing = _claims_dir(tmp_path, 10**9)  # no head recognises a billion tokens
    assert main(["claims", *common, "--claims", str(failing)]) == 1
    assert "FAIL" in capsys.readouterr().out
    out = tmp_path / "report"
    assert main(["reproduce", *common, "--claims", str(failing), "--out", str(out)]) == 1
    assert (out / "report.json").is_file() and "FAIL" in (out / "report.md").read_text()
    # one run's report: its id in report.md, report.json and every figure, each figure's sha256 recorded
    report = json.loads((out / "report.json").read_text())
    assert f"run `{report['run_id']}`" in (out / "report.md").read_text()
    figures = sorted(out.glob("*.png"))
    assert figures and sorted(report["figures"]) == [p.name for p in figures]
    for figure in figures:
        assert Image.open(figure).info["Description"] == f"ssb report run {report['run_id']}"
        assert report["figures"][figure.name] == file_sha256(figure)
    shutil.rmtree(out)
