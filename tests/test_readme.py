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
    assert "| **c** (holds) | §1 | `q:gt` | 2 [1.5, 2.5] | > 1 | **pass** |" in text
    assert not update_readme(readme, tmp_path / "report.json")  # already up to date
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="no block between"):
        update_readme(readme, tmp_path / "report.json")


def test_the_first_100_lines_hold_set_up_both_commands_and_the_own_model_path():
    """#33: a user reads what it does, how to set it up, the two commands and how to run it on a model of
    their own before anything else (the statistics design, GPU loans and timings live in docs/)."""
    head = "\n".join((ROOT / "README.md").read_text().splitlines()[:100])
    marks = ["## Set-up", "pip install", "## Two commands", "ssb reproduce", "pytest claims/",
             "## Run it on your model", "ssb analyze --model", "ssb.analyze("]  # fmt: skip
    at = 0
    for mark in marks:  # each after the one before it
        found = head.find(mark, at)
        assert found >= 0, f"README.md: '{mark}' is not in the first 100 lines after the marks before it"
        at = found


def test_the_readme_links_resolve():
    import re

    text = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(((?:docs|results|claims|ssb)/[^)#]+)\)", text)
    assert links and all((ROOT / link).exists() for link in links), [x for x in links if not (ROOT / x).exists()]
