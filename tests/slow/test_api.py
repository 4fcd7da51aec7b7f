"""The Python entry points: the README's example runs as written (smoke), and ``ssb.analyze`` on the
committed cpu reference gives the committed report's head table."""

import json
import os
import re
from pathlib import Path

import pytest

import ssb

ROOT = Path(__file__).resolve().parents[2]


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- python example -->\s*```python\n(.*?)```", text, re.S)
    assert block, "README.md: no ```python block after <!-- python example -->"
    return block.group(1)


def test_the_readme_example_runs(data_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SSB_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SSB_CACHE_DIR", str(tmp_path / "store"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "claims").symlink_to(ROOT / "claims")
    scope: dict = {}
    exec(compile(_readme_example(), "README.md example", "exec"), scope)
    result, verdicts = scope["result"], scope["verdicts"]
    smoke = ssb.api.pipeline("smoke").profile
    assert list(result.heads.index) == [f"head{h}" for h in range(smoke.backbone.n_heads)]
    assert len(result.nodes) == smoke.backbone.hidden and len(result.subsets)
    rows = result.tables()
    assert all(len(r["tokens"]) == r["n_pos"] == len(r["token_strings"]) for r in rows["heads"] + rows["nodes"])
    assert list(result.curves.index) == list(smoke.sweep.node_counts)  # integer node counts, in order
    assert {p.name for p in (tmp_path / "ssb-tables").iterdir()} == {
        f"{t}.csv" for t in ("heads", "nodes", "subsets", "curves")
    }
    shown = repr(result)
    assert len(shown) < 300 and "block 2: 4 heads x 8 nodes" in shown and "<table" in result._repr_html_()
    assert verdicts and all(v.ok for v in verdicts)
    checks = scope["checks"]
    assert len(checks) == sum(len(v.checks) for v in verdicts) and {"claim", "check", "outcome"} <= set(checks.columns)
    assert "claims behave as their specs expect" in capsys.readouterr().out


@pytest.mark.skipif(
    not (os.environ.get("SSB_DATA_DIR") and Path(os.environ["SSB_DATA_DIR"], "wikipedia").is_dir()),
    reason="needs the real corpus (SSB_DATA_DIR) to read the cpu reference's validation features",
)
def test_analyze_reproduces_the_committed_head_table(tmp_path):
    report = json.loads((ROOT / "results" / "cpu" / "report.json").read_text())
    claim = next(c for c in report["claims"] if c["id"] == "head-specialisation")
    cache = os.environ.get("SSB_CACHE_DIR") or tmp_path  # CI shares its store with the claims run
    result = ssb.analyze(profile="cpu", cache_dir=cache)
    assert result.heads["n_pos"].tolist() == claim["measured"]["n_pos_per_head"]
    assert [round(a, 4) for a in result.heads["apt"]] == claim["measured"]["apt_per_head"]


def test_the_report_keeps_the_per_item_log(data_dir, tmp_path, monkeypatch):
    from ssb.report import write_report
    from ssb.run_result import collect

    monkeypatch.setenv("SSB_DATA_DIR", str(data_dir))
    pl = ssb.api.pipeline("smoke", cache_dir=tmp_path / "store")
    verdicts = ssb.api.evaluate_all(pl, ssb.api.claims_folder(ROOT / "claims"))
    write_report(verdicts, collect(verdicts, pl), tmp_path / "report")
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert "![A confusion matrix: head" in markdown and (tmp_path / "report" / "fig_confusion_head.png").is_file()
    assert "error bars: one standard deviation over those subsets" in markdown  # defined where they are drawn
    items = json.loads((tmp_path / "report" / "report.json").read_text())["items"]
    analysis = ssb.api.item_tables(pl).tables()
    assert [r["id"] for r in items["heads"]] == [r["id"] for r in analysis["heads"]]
    ids = [r["id"] for r in items["subsets"]]
    assert len(ids) == len(set(ids)) and len(items["nodes"]) == len(analysis["nodes"])
    assert all(r["tokens"] == a["tokens"] for r, a in zip(items["nodes"], analysis["nodes"], strict=True))
    assert "token_strings" not in items["heads"][0]  # ids only: compact
    fewrel = items["fewrel"]  # the FewRel node subsets, paired by the same nodes as the token subsets
    assert {r["n_nodes"] for r in fewrel} == {r["n_nodes"] for r in items["subsets"]} | {1}
    token_nodes = {r["id"]: r["nodes"] for r in items["subsets"]}
    assert all(r["nodes"] == token_nodes[r["id"].removeprefix("fewrel:")] for r in fewrel if r["n_nodes"] > 1)


def test_analyze_on_ones_own_texts(data_dir, tmp_path):
    """``texts=``: the confusion matrices come from the user's paragraphs, cached under their digest."""
    from ssb.config import ConfigError
    from ssb.tokenizer import load_tokenizer

    texts = ["the cat sat on a mat", "the dog ran in the park", "a bird sang over the old house"]
    kwargs = dict(profile="smoke", data_dir=data_dir, cache_dir=tmp_path / "store")
    mine = ssb.analyze(texts=texts, **kwargs)
    pl = ssb.api.pipeline(texts=texts, **kwargs)
    in_texts = set(sum(load_tokenizer(pl.backbone()[0])(texts, add_special_tokens=False)["input_ids"], []))
    recognised = {t for rows in mine.tables().values() for row in rows for t in row["tokens"]}
    assert recognised and recognised <= in_texts  # only tokens of the texts can be on a diagonal
    assert pl.profile.probe.n_valid_paragraphs == len(texts)
    assert pl.valid_features_key() != ssb.api.pipeline(**kwargs).valid_features_key()
    assert pl.valid_features_key() != ssb.api.pipeline(texts=texts[:2], **kwargs).valid_features_key()
    with pytest.raises(ConfigError, match="item 1 is not a non-empty string"):
        ssb.api.pipeline(texts=["a b", " "], **kwargs)
