"""Cache keys cover the data: one changed byte of a data file invalidates exactly what depends on it."""

import lzma
import shutil

from ssb.artifacts import ArtifactStore
from ssb.pipeline import Pipeline
from ssb.train import store_key


def _flip_one_byte(path):
    text = lzma.open(path, "rt").read()
    i = text.index("the")
    with lzma.open(path, "wt") as handle:
        handle.write(text[:i] + "thE" + text[i + 3 :])


def test_a_changed_data_file_invalidates_exactly_its_dependants(smoke, data_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(data_dir, data)
    store = ArtifactStore(tmp_path / "store")

    def keys():
        pl = Pipeline(smoke, store, data, progress=False)
        return {
            "backbone": store_key(smoke, store, data),
            "features": pl._features_key("reference", "valid"),
            "fewrel": pl.data_id("fewrel"),
        }

    before = keys()
    assert keys() == before  # stable, and the digests come from the sha256 cache the second time
    _flip_one_byte(data / "fewrel" / "train_wiki_partial_from_wiki80.json.xz")
    after_fewrel = keys()
    assert after_fewrel["fewrel"] != before["fewrel"]
    assert (after_fewrel["backbone"], after_fewrel["features"]) == (before["backbone"], before["features"])
    _flip_one_byte(data / "wikipedia" / "enwiki_paragraphs.jsonl.xz")
    after_corpus = keys()
    assert after_corpus["backbone"] != before["backbone"] and after_corpus["features"] != before["features"]
    assert after_corpus["fewrel"] == after_fewrel["fewrel"]
