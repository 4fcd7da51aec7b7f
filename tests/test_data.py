"""Loader behaviour and every error path, on small files the tests write themselves."""

import dataclasses
import json
import lzma

import pytest

from ssb.config import CorpusConfig, FewRelConfig
from ssb.data import DataError, load_fewrel, load_paragraphs, read_paragraphs
from ssb.data.fewrel import split_relation


def test_paragraphs_split_is_deterministic_and_disjoint(data_dir):
    cfg = CorpusConfig(n_train=100, n_valid=20)
    a, b = load_paragraphs(cfg, data_dir), load_paragraphs(cfg, data_dir)
    assert a == b and len(a.train) == 100 and len(a.valid) == 20
    assert load_paragraphs(CorpusConfig(n_train=100, n_valid=20, seed=1), data_dir).valid != a.valid


def test_wikitext_and_plain_text(tmp_path):
    raw = tmp_path / "wiki.valid.raw"
    raw.write_text(" \n = Title = \n \n First paragraph here .\n = = Sub = = \n Second one .\n")
    assert read_paragraphs(raw) == ["First paragraph here .", "Second one ."]
    txt = tmp_path / "notes.txt"
    txt.write_text("= not a heading in plain text =\n\nline two\n")
    assert read_paragraphs(txt) == ["= not a heading in plain text =", "line two"]


def test_a_corpus_file_is_read_once_a_process_until_it_changes(tmp_path, monkeypatch):
    from ssb.data import wikipedia

    path = tmp_path / "p.txt"
    path.write_text("one\ntwo\n")
    reads = []
    monkeypatch.setattr(wikipedia, "_read", lambda p: reads.append(p) or ["one", "two"])
    first = read_paragraphs(path)
    first.append("a caller's own edit")  # each caller gets its own list
    assert read_paragraphs(path) == ["one", "two"] and len(reads) == 1
    path.write_text("one\ntwo\nthree\n")  # rewritten: read again
    read_paragraphs(path)
    assert len(reads) == 2


def test_missing_data_names_both_ways(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no data folder and the hub switched off: nothing to read
    with pytest.raises(DataError) as err:
        load_paragraphs(CorpusConfig(), tmp_path)
    message = str(err.value)
    assert "SSB_DATA_DIR" in message and "hub" in message and "enwiki_paragraphs" in message
    with pytest.raises(DataError, match="no data directory"):
        load_fewrel(FewRelConfig(), None)


def test_malformed_json_lines(tmp_path):
    (tmp_path / "wikipedia").mkdir()
    path = tmp_path / "wikipedia" / "p.jsonl"
    path.write_text('{"text": "fine paragraph with words"}\n{"text": 3}\n')
    with pytest.raises(DataError, match=r"p.jsonl: record 2 has no string field 'text'"):
        read_paragraphs(path)
    path.write_text('{"text": "ok"}\n{broken\n')
    with pytest.raises(DataError, match="record 2 is not valid JSON"):
        read_paragraphs(path)
    bad_xz = tmp_path / "x.jsonl.xz"
    bad_xz.write_bytes(b"not xz at all")
    with pytest.raises(DataError, match="cannot be read"):
        read_paragraphs(bad_xz)
    with pytest.raises(DataError, match="unknown corpus format"):
        read_paragraphs(tmp_path / "x.parquet")


def test_fewrel_split(data_dir):
    cfg = FewRelConfig(n_relations=5, n_train_per_relation=20, n_test_per_relation=10)
    split = load_fewrel(cfg, data_dir)
    assert len(split.relations) == 5 and len(split.train) == 100 and len(split.test) == 50
    assert load_fewrel(cfg, data_dir) == split
    assert sorted({x.label for x in split.test}) == list(range(5))
    text = split.train[0].marked_text()
    assert text.count("@") == 2 and text.count("#") == 2


def test_fewrel_short_relations_keep_the_test_fraction(data_dir):
    # 40 instances per relation, the paper asks 630 + 70: the 10 % test fraction is kept
    split = load_fewrel(FewRelConfig(n_train_per_relation=630, n_test_per_relation=70), data_dir)
    assert len(split.test) == 8 * 4 and len(split.train) == 8 * 36
    assert split_relation(700, 630, 70) == (630, 70)
    assert split_relation(171, 630, 70) == (154, 17)


def _write_fewrel(tmp_path, data):
    (tmp_path / "fewrel").mkdir(exist_ok=True)
    path = tmp_path / "fewrel" / "f.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return FewRelConfig(path="fewrel/f.json", n_train_per_relation=1, n_test_per_relation=1)


@pytest.mark.parametrize(
    "data, pattern",
    [
        ("{not json", r"f.json: not valid JSON \(line 1"),
        ([1, 2], "expected a JSON object"),
        ({"P1": {"a": 1}}, "relation 'P1' must map to a list"),
        ({"P1": [{"h": ["a", "b", [[0]]], "t": ["a", "b", [[1]]]}]}, "relation 'P1', record 0: missing field 'tokens'"),
        ({"P1": [{"tokens": ["a", "b"], "h": ["a", "b"], "t": ["a", "b", [[1]]]}]}, "record 0: field 'h' must be"),
        ({"P1": [{"tokens": ["a", "b"], "h": ["a", "b", [[0]]], "t": ["a", "b", [[5]]]}]}, "field 't'.*outside"),
        ({"P1": [{"tokens": "a b", "h": ["a", "b", [[0]]], "t": ["a", "b", [[1]]]}]}, "field 'tokens' must be"),
    ],
)
def test_fewrel_errors_name_file_record_field(tmp_path, data, pattern):
    cfg = _write_fewrel(tmp_path, data)
    with pytest.raises(DataError, match=pattern):
        load_fewrel(cfg, tmp_path)


def test_compressed_fewrel(tmp_path):
    (tmp_path / "fewrel").mkdir()
    record = {"tokens": ["a", "b", "c"], "h": ["a", "Q", [[0]]], "t": ["c", "Q", [[2]]]}
    with lzma.open(tmp_path / "fewrel" / "v.json.xz", "wt") as handle:
        json.dump({"P1": [record] * 3, "P2": [record] * 3}, handle)
    split = load_fewrel(FewRelConfig(path="fewrel/v.json.xz", n_train_per_relation=2, n_test_per_relation=1), tmp_path)
    assert split.relations == ["P1", "P2"] and len(split.train) == 4
    with pytest.raises(DataError, match="n_relations = 5"):
        load_fewrel(FewRelConfig(path="fewrel/v.json.xz", n_relations=5), tmp_path)


def test_hub_without_network_names_both_ways(monkeypatch):
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError) as err:
        load_paragraphs(CorpusConfig(source="hub"), None)
    assert "wikimedia/wikipedia" in str(err.value) and "SSB_DATA_DIR" in str(err.value)
    with pytest.raises(DataError, match="thunlp/few_rel.*SSB_DATA_DIR"):
        load_fewrel(FewRelConfig(source="hub"), None)


def test_fewrel_relations_too_short_to_split_are_named(tmp_path):
    record = {"tokens": ["a", "b", "c"], "h": ["a", "Q", [[0]]], "t": ["c", "Q", [[2]]]}
    cfg = _write_fewrel(tmp_path, {"P1": [record] * 3, "P2": [record], "P3": [], "P4": [record] * 2})
    with pytest.raises(DataError, match=r"P2 \(1\), P3 \(0\) have fewer than 2 instances.*drop_short_relations"):
        load_fewrel(cfg, tmp_path)
    with pytest.warns(UserWarning, match="dropping relation"):
        split = load_fewrel(dataclasses.replace(cfg, drop_short_relations=True), tmp_path)
    assert split.relations == ["P1", "P4"] and {x.label for x in split.train + split.test} == {0, 1}


def test_fewrel_with_one_usable_relation_is_refused(tmp_path):
    """One label makes every FewRel check hold trivially (tightness 1 [1, 1])."""
    record = {"tokens": ["a", "b", "c"], "h": ["a", "Q", [[0]]], "t": ["c", "Q", [[2]]]}
    cfg = _write_fewrel(tmp_path, {"P1": [record] * 3, "P2": [record]})
    with pytest.warns(UserWarning), pytest.raises(DataError, match="1 usable relation.*at least 2 labels"):
        load_fewrel(dataclasses.replace(cfg, drop_short_relations=True), tmp_path)


def test_a_run_reads_the_corpus_once_and_its_runs_share_what_it_read(data_dir, tmp_path, monkeypatch):
    """Reading and parsing the corpus file is seconds; a cold run builds dozens of artifacts from it (each
    backbone, each system's features): the resolver reads it once per corpus selection, for all its runs."""
    from ssb import resolver
    from ssb.artifacts import ArtifactStore
    from ssb.config import load_profile
    from ssb.pipeline import Pipeline

    calls = []

    def counted(cfg, where):
        calls.append(cfg)
        return load_paragraphs(cfg, where)

    monkeypatch.setattr(resolver, "load_paragraphs", counted)
    profile = load_profile("smoke").replace(seeds={"probe": (0, 1), "backbone": (1,)})
    pl = Pipeline(profile, ArtifactStore(tmp_path), data_dir, progress=False)
    early = pl.seed_run(1)  # made before anything is read: it shares the cache all the same
    read = pl.paragraphs()
    assert read == load_paragraphs(profile.corpus, data_dir)
    assert pl.paragraphs() is read and early.paragraphs() is read and pl.backbone_run(1).paragraphs() is read
    short = dataclasses.replace(profile.corpus, n_train=50)  # another selection (a short backbone's): its own
    assert pl.paragraphs(short).train == load_paragraphs(short, data_dir).train and len(calls) == 2
