"""``ssb compare`` on hand-made reports: identical runs, a verdict change, items that move, pairing."""

from __future__ import annotations

import copy
import json

import pytest

from ssb.cli import main
from ssb.compare import CompareError, check_diff, compare, load_report


def _row(i: int, n_pos: float, **extra) -> dict:
    metrics = dict(n_pos=n_pos, apt=0.5, random_guess=0.5, diagonal_confidence=0.1, n_predicted=3, accuracy=0.2,
                   zero_diagonal_fraction=0.1, zero_diagonal_column_share=0.2)  # fmt: skip
    return {"id": f"node{i}", **metrics, "tokens": list(range(int(n_pos))), **extra}


PROFILE = {"name": "smoke", "seeds": {"probe": [0]}, "probe": {"layer": 2, "seed": 0}, "sweep": {"n_subsets": 5}}


def _report(n_pos_shift: float = 0.0, value: float = 1.5, verdict: str = "holds", nodes_of_s0=(1, 2)) -> dict:
    nodes = [_row(i, 2 + (i % 3) + n_pos_shift) for i in range(20)]
    subsets = [
        {**_row(0, 4), "id": f"n2:s{s}", "n_nodes": 2, "nodes": list(nodes_of_s0 if s == 0 else (s, s + 1))}
        for s in range(6)
    ]
    checks = [
        {"claim": "c", "check": "ratio:gt", "value": value, "interval": [value - 0.2, value + 0.2],
         "verdict": verdict, "outcome": "pass" if verdict == "holds" else "FAIL"},
        {"claim": "c", "check": "count:gt", "value": 3, "interval": None, "verdict": "holds", "outcome": "pass"},
    ]  # fmt: skip
    heads = [{**_row(h, 5), "id": f"head{h}"} for h in range(4)]
    return {"run_id": _run_id(), "tier": "smoke", "profile": copy.deepcopy(PROFILE), "checks": checks,
            "items": {"layer": 2, "heads": heads, "nodes": nodes, "subsets": subsets}}  # fmt: skip


def _run_id() -> str:
    """A new run's id (two reports of two runs never share one)."""
    import uuid

    return f"20261206T000000-{uuid.uuid4().hex[:8]}"


def _write(tmp_path, name: str, report: dict):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "report.json").write_text(json.dumps(report))
    return folder


def test_identical_reports_have_no_difference_and_exit_0(tmp_path, capsys):
    a, b = _write(tmp_path, "a", _report()), _write(tmp_path, "b", _report())
    result = compare(a, b)
    assert not result.verdict_changes and not result.moved and not result.changed and not result.warnings
    assert all(c.diff == 0 for c in result.checks) and all(i.diff == 0 and i.paired for i in result.items)
    assert all(t.n_changed == 0 and t.mean_jaccard == 1 for t in result.tokens)
    assert main(["compare", str(a), str(b), "--out", str(tmp_path / "out")]) == 0
    assert "0 verdict changes, 0 moved, 0 changed" in capsys.readouterr().out
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"compare.json", "compare.txt", "compare.png"}


def test_a_verdict_change_exits_1_and_names_the_check(tmp_path, capsys):
    a = _write(tmp_path, "a", _report())
    b = _write(tmp_path, "b", _report(value=0.9, verdict="fails"))
    result = compare(a, b)
    assert [c.id for c in result.verdict_changes] == ["c/ratio:gt"]
    (ratio,) = [c for c in result.checks if c.check == "ratio:gt"]
    assert ratio.diff == pytest.approx(-0.6) and ratio.moved  # 0.6 apart, combined half-width 0.28
    assert main(["compare", str(a), str(b)]) == 1
    assert "c/ratio:gt" in capsys.readouterr().out


def test_items_that_move_are_flagged_and_strict_exits_1(tmp_path):
    a, b = _write(tmp_path, "a", _report()), _write(tmp_path, "b", _report(n_pos_shift=1))
    result = compare(a, b)
    (n_pos,) = [i for i in result.items if i.table == "nodes" and i.metric == "n_pos"]
    assert n_pos.paired and n_pos.n_paired == 20 and n_pos.diff == 1 and n_pos.moved
    (apt,) = [i for i in result.items if i.table == "nodes" and i.metric == "apt"]
    assert not apt.moved
    (tokens,) = [t for t in result.tokens if t.table == "nodes"]
    assert tokens.n_changed == 20 and 0 < tokens.mean_jaccard < 1
    assert main(["compare", str(a), str(b)]) == 0  # no verdict changed
    assert main(["compare", str(a), str(b), "--strict"]) == 1


def test_subsets_of_other_nodes_are_not_paired_and_the_note_says_so(tmp_path):
    a = _write(tmp_path, "a", _report())
    b = _write(tmp_path, "b", _report(nodes_of_s0=(7, 9)))
    result = compare(a, b)
    subsets = [i for i in result.items if i.table == "subsets:n2"]
    assert subsets and all(i.paired and i.n_paired == 5 for i in subsets)  # s0 drew other nodes: left out
    other = _report()
    for row in other["items"]["subsets"]:
        row["nodes"] = [n + 10 for n in row["nodes"]]
    result = compare(a, _write(tmp_path, "c", other))
    assert all(not i.paired for i in result.items if i.table.startswith("subsets"))
    assert any("unpaired in: subsets:n2" in n for n in result.notes)


def test_another_block_is_compared_unpaired(tmp_path):
    other = _report()
    other["items"]["layer"] = 4
    result = compare(_write(tmp_path, "a", _report()), _write(tmp_path, "b", other))
    assert result.items and not any(i.paired for i in result.items) and not result.tokens
    assert any("different blocks (2 and 4)" in n for n in result.notes)


def test_a_check_missing_from_one_report_is_a_verdict_change(tmp_path):
    short = _report()
    short["checks"] = short["checks"][:1]
    result = compare(_write(tmp_path, "a", _report()), _write(tmp_path, "b", short))
    assert [(c.id, c.b_verdict) for c in result.verdict_changes] == [("c/count:gt", None)]


def test_exact_values_change_on_any_difference_without_moving():
    a = {"value": 3, "interval": None, "verdict": "holds"}
    diff = check_diff("c", "k", a, {**a, "value": 4})
    assert diff.changed and not diff.moved  # no interval: a change, with nothing to judge its noise by
    same = check_diff("c", "k", a, copy.deepcopy(a))
    assert not same.changed and not same.moved


@pytest.mark.parametrize(
    "content, words", [(None, "no report here"), ("{not json", "not a readable report.json"), ("[]", "'checks'")]
)
def test_a_bad_report_is_one_line_naming_the_file(tmp_path, capsys, content, words):
    if content is not None:
        (tmp_path / "report.json").write_text(content)
    with pytest.raises(CompareError, match=words):
        load_report(tmp_path)
    assert main(["compare", str(tmp_path), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert words in err and str(tmp_path) in err and len(err.strip().splitlines()) == 1


def test_a_report_without_items_compares_its_checks_only(tmp_path):
    bare = _report()
    del bare["items"]
    result = compare(_write(tmp_path, "a", _report()), _write(tmp_path, "b", bare))
    assert not result.items and len(result.checks) == 2
    assert any("no per-item log" in n for n in result.notes)


# ---------------------------------------------------------------------------- --out: refused before any work


def test_out_holding_a_users_file_exits_2_and_leaves_it_as_it_was(tmp_path, capsys):
    a, b = _write(tmp_path, "a", _report()), _write(tmp_path, "b", _report())
    out = tmp_path / "mine"
    out.mkdir()
    (out / "compare.txt").write_text("an earlier comparison's text: replaced")
    (out / "notes.txt").write_text("my notes")
    assert main(["compare", str(a), str(b), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "notes.txt" in err and str(out) in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["compare.txt", "notes.txt"]  # nothing written
    assert (out / "notes.txt").read_text() == "my notes"


def test_out_that_is_a_file_exits_2_before_the_reports_are_read(tmp_path, capsys):
    out = tmp_path / "file"
    out.write_text("keep")
    assert main(["compare", str(tmp_path / "missing-a"), str(tmp_path / "missing-b"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "is a file" in err and "no report here" not in err and out.read_text() == "keep"


def test_an_earlier_comparison_is_replaced(tmp_path):
    a, b = _write(tmp_path, "a", _report()), _write(tmp_path, "b", _report())
    out = tmp_path / "out"
    assert main(["compare", str(a), str(b), "--out", str(out)]) == 0
    assert main(["compare", str(a), str(b), "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"compare.json", "compare.txt", "compare.png"}


# ---------------------------------------------------------------------------- warnings: each fails --strict


def test_other_profiles_are_a_warning_and_fail_strict(tmp_path, capsys):
    other = _report()
    free = {"name": "renamed", "seeds": {"probe": [4]}, "probe": {"layer": 2, "seed": 4}, "runtime": {"device": "cuda"}}
    other["profile"] = {**PROFILE, **free}  # the name, the seeds (with the seeds they set), the runtime
    a, b = _write(tmp_path, "a", _report()), _write(tmp_path, "b", other)
    assert not compare(a, b).warnings
    other["profile"]["sweep"] = {"n_subsets": 20}
    c = _write(tmp_path, "c", other)
    (warning,) = compare(a, c).warnings
    assert "profiles differ beyond name and seeds: sweep.n_subsets (5 vs 20)" in warning
    assert main(["compare", str(a), str(c)]) == 0  # a warning, not a verdict change
    assert "sweep.n_subsets" in capsys.readouterr().err
    assert main(["compare", str(a), str(c), "--strict"]) == 1


def test_nothing_paired_is_a_warning_and_fails_strict(tmp_path):
    bare = _report()
    del bare["items"]
    a, b = _write(tmp_path, "a", _report()), _write(tmp_path, "b", bare)
    assert any("no item could be paired" in w for w in compare(a, b).warnings)
    assert main(["compare", str(a), str(b), "--strict"]) == 1  # before: 0 items compared, exit 0


def test_a_report_compared_with_itself_is_a_warning(tmp_path):
    a = _write(tmp_path, "a", _report())
    assert any("same run (the same file)" in w for w in compare(a, a / "report.json").warnings)
    copied = _write(tmp_path, "copy", json.loads((a / "report.json").read_text()))
    (warning,) = compare(a, copied).warnings
    assert "same run (run 20261206T000000-" in warning
    assert main(["compare", str(a), str(copied), "--strict"]) == 1
