"""``ssb data fetch`` and the hub as the default source, against local folders laid out as the hub's datasets
(a README with its configs, data files per split): the loading code is the real one, nothing is downloaded."""

import json
import lzma

import pytest

from ssb.cli import main
from ssb.config import load_profile
from ssb.data import load_fewrel, load_paragraphs
from ssb.data.fetch import RECORD, fetch_data

CONFIGS = "---\nconfigs:\n- config_name: {config}\n  data_files:\n  - split: {split}\n    path: {path}\n---\n"


@pytest.fixture()
def hub(tmp_path):
    """Stand-ins for wikimedia/wikipedia (config 20231101.en) and thunlp/few_rel (split train_wiki)."""
    wiki = tmp_path / "hub-wikipedia"
    (wiki / "20231101.en").mkdir(parents=True)
    (wiki / "README.md").write_text(CONFIGS.format(config="20231101.en", split="train", path="20231101.en/train-*"))
    with open(wiki / "20231101.en" / "train-00000.jsonl", "w") as handle:
        for i in range(60):
            text = f"article {i} opens with a paragraph of several words\n\nand a second paragraph of words {i}"
            handle.write(json.dumps({"id": str(i), "url": "", "title": f"t{i}", "text": text}) + "\n")
    fewrel = tmp_path / "hub-fewrel"
    (fewrel / "data").mkdir(parents=True)
    (fewrel / "README.md").write_text(CONFIGS.format(config="default", split="train_wiki", path="data/train_wiki-*"))
    with open(fewrel / "data" / "train_wiki-00000.jsonl", "w") as handle:
        for r in range(3):
            for i in range(20):
                tokens = ["the", f"head{i}", "is", "related", "to", f"tail{i}", "."]
                head = {"text": tokens[1], "type": "Q", "indices": [[1]]}
                tail = {"text": tokens[5], "type": "Q", "indices": [[5]]}
                row = {"relation": f"P{r}", "tokens": tokens, "head": head, "tail": tail}
                handle.write(json.dumps(row) + "\n")
    corpus = {"hub_name": str(wiki), "n_train": 60, "n_valid": 10}
    return load_profile("smoke").replace(corpus=corpus, fewrel={"hub_name": str(fewrel), "n_relations": 0})


def test_fetch_writes_the_layout_a_profile_reads_with_each_sha256(tmp_path, hub):
    target = tmp_path / "data"
    written = fetch_data(target, hub, say=lambda _: None)
    assert [w.path for w in written] == [hub.corpus.path, hub.fewrel.path] and not any(w.kept for w in written)
    assert written[0].records == 120  # 60 articles of two paragraphs each, split as the hub loader splits them
    record = json.loads((target / RECORD).read_text())
    import hashlib

    for item in written:  # the recorded sha256 is the uncompressed content's, as the project's data README gives it
        with lzma.open(target / item.path, "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == item.sha256 == record[item.path]["sha256"]
    local = load_paragraphs(hub.corpus, target)  # read back as local files, the way every profile reads them
    from_hub = load_paragraphs(hub.corpus.__class__(**{**hub.corpus.__dict__, "source": "hub"}), None)
    assert local.train == from_hub.train and local.valid == from_hub.valid
    split = load_fewrel(hub.fewrel, target)
    assert split.relations == ["P0", "P1", "P2"] and written[1].records == 60


def test_fetch_keeps_what_is_there(tmp_path, hub):
    target = tmp_path / "data"
    (target / "wikipedia").mkdir(parents=True)
    mine = target / hub.corpus.path
    with lzma.open(mine, "wt") as handle:
        handle.write(json.dumps({"text": "my own paragraph of words here"}) + "\n")
    before = mine.read_bytes()
    corpus, fewrel = fetch_data(target, hub, say=lambda _: None)
    assert corpus.kept and not fewrel.kept and mine.read_bytes() == before


def test_without_a_data_folder_the_hub_is_read_when_it_is_on(hub, monkeypatch):
    import huggingface_hub

    from ssb.data import DataError

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    paragraphs = load_paragraphs(hub.corpus, None)  # source = "local", no folder, the hub on: the hub
    assert paragraphs.source.startswith("hub:") and len(paragraphs.valid) == 10
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError, match="no data directory is set"):  # off: the two-way message, as before
        load_paragraphs(hub.corpus, None)


def test_ssb_data_fetch_refuses_offline_and_a_file_as_dir(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["data", "fetch", "--dir", str(tmp_path / "d")]) == 2
    assert "HF_HUB_OFFLINE" in capsys.readouterr().err and not (tmp_path / "d").exists()


def test_fetch_refuses_a_layout_its_loaders_would_not_read(tmp_path, hub):
    from ssb.data import DataError

    txt = hub.replace(corpus={"path": "wikipedia/corpus.txt"})
    with pytest.raises(DataError, match="corpus.path' = 'wikipedia/corpus.txt'"):
        fetch_data(tmp_path / "data", txt, say=lambda _: None)
    assert not (tmp_path / "data").exists()
