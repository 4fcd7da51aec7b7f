"""The README's results table is generated from the committed report, never copied by hand."""

import json
from pathlib import Path

import pytest

from ssb.report import README_END, README_START, readme_block, update_readme

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "results" / "cpu" / "report.json"


@pytest.mark.skipif(not REPORT.is_file(), reason="no committed results/cpu/report.json")
def test_readme_results_match_the_committed_report():
    payload = json.loads(REPORT.read_text())
    text = (ROOT / "README.md").read_text()
    start, end = (m.format(profile="cpu") for m in (README_START, README_END))
    block = text[text.index(start) : text.index(end) + len(end)]
    assert block == readme_block(payload), "README results differ from results/cpu/report.json: run `ssb readme`"


def test_update_readme_replaces_only_the_block(tmp_path):
    payload = {
        "profile_name": "cpu",
        "claims": [{"id": "c", "paper": "§1", "verdict": "holds", "skipped": None}],
        "checks": [
            {
                "claim": "c",
                "check": "q:gt",
                "value": 2.0,
                "interval": [1.5, 2.5],
                "threshold": "> 1",
                "verdict": "holds",
                "outcome": "pass",
            }
        ],
    }
    (tmp_path / "report.json").write_text(json.dumps(payload))
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- results:cpu:start -->\nSTALE ROW\n<!-- results:cpu:end -->\nafter\n")
    assert update_readme(readme, tmp_path / "report.json")
    text = readme.read_text()
    assert text.startswith("before\n") and text.endswith("\nafter\n") and "STALE ROW" not in text
    assert "`q:gt` 2 [1.5, 2.5] > 1: **pass**" in text
    assert not update_readme(readme, tmp_path / "report.json")  # already up to date
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="no block between"):
        update_readme(readme, tmp_path / "report.json")
