"""`ssb claims` and `ssb reproduce` exit non-zero when a claim fails, and zero when every check behaves."""

import shutil
from pathlib import Path

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
    shutil.rmtree(out)
