"""The WordPiece tokenizer trained on a corpus is the same on every run: same pieces, same ids."""

import json
import os
import subprocess
import sys

import pytest

from ssb.tokenizer import SPECIAL_TOKENS, parallel_tokenization, sorted_vocabulary, train_wordpiece

TRAIN = """
import json, sys
from ssb.tokenizer import train_wordpiece
texts = json.load(open(sys.argv[1]))
print(json.dumps(train_wordpiece(texts, int(sys.argv[2])).get_vocab(), sort_keys=True))
"""


def _texts(n=400):
    import numpy as np

    rng = np.random.default_rng(1)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    words = ["".join(rng.choice(letters, int(rng.integers(2, 9)))) for _ in range(300)]
    return [" ".join(rng.choice(words, int(rng.integers(5, 30)))) for _ in range(n)]


def test_sorted_vocabulary_puts_special_tokens_first_then_code_point_order():
    vocab = {"b": 7, "[UNK]": 3, "##a": 0, "a": 9, "[PAD]": 5, "[CLS]": 1, "[SEP]": 2, "[MASK]": 4}
    ordered = sorted_vocabulary(vocab)
    assert list(ordered) == SPECIAL_TOKENS + ["##a", "a", "b"] and list(ordered.values()) == list(range(8))


def test_training_twice_in_fresh_processes_gives_the_same_ids(tmp_path):
    """The trainer's own order depends on a hash map's per-process seed (huggingface/tokenizers#1794):
    before the fix three trainings of one corpus gave three id orders and, now and then, other pieces."""
    corpus = tmp_path / "texts.json"
    corpus.write_text(json.dumps(_texts()))
    runs = [
        subprocess.run(
            [sys.executable, "-c", TRAIN, str(corpus), "600"], check=True, capture_output=True, text=True
        ).stdout
        for _ in range(3)
    ]
    assert runs[0] == runs[1] == runs[2]
    vocab = json.loads(runs[0])
    assert [vocab[t] for t in SPECIAL_TOKENS] == [0, 1, 2, 3, 4] and len(vocab) == 600


def test_renumbering_changes_no_tokenisation():
    texts = _texts(100)
    tok = train_wordpiece(texts, 300)
    for text in texts[:20]:
        pieces = tok.convert_ids_to_tokens(tok(text)["input_ids"])
        assert pieces[0] == "[CLS]" and pieces[-1] == "[SEP]" and "[UNK]" not in pieces
        assert tok.decode(tok(text)["input_ids"], skip_special_tokens=True) == text


def test_the_committed_tokenizer_loads_under_either_transformers_major():
    """transformers 5 saves tokenizer_class TokenizersBackend, which 4.x cannot import: the fast tokenizer's
    own file is read instead, with the same pieces and special tokens."""
    from pathlib import Path

    from ssb.tokenizer import load_tokenizer

    folder = Path(__file__).resolve().parents[1] / "ssb" / "reference" / "cpu" / "reference"
    tokenizer = load_tokenizer(folder)
    assert len(tokenizer) == 8192 and tokenizer.mask_token == "[MASK]" and tokenizer.pad_token_id == 0
    assert tokenizer.convert_tokens_to_ids("[MASK]") == tokenizer.mask_token_id


@pytest.mark.parametrize("before", [None, "false", "true"])
def test_parallel_tokenization_encodes_the_same_and_puts_the_setting_back(monkeypatch, before):
    if before is None:
        monkeypatch.delenv("TOKENIZERS_PARALLELISM", raising=False)
    else:
        monkeypatch.setenv("TOKENIZERS_PARALLELISM", before)
    texts = [f"the {w} sat on the mat number {i}" for i, w in enumerate(["cat", "dog", "bird"] * 40)]
    tok = train_wordpiece(texts, 60)
    outside = tok(texts, truncation=True, max_length=8)["input_ids"]  # as the setting was
    with parallel_tokenization():
        assert os.environ["TOKENIZERS_PARALLELISM"] == "true"
        parallel = tok(texts, truncation=True, max_length=8)["input_ids"]
    assert parallel == outside and os.environ.get("TOKENIZERS_PARALLELISM") == before
    with pytest.raises(KeyError), parallel_tokenization():  # put back also when the block fails
        raise KeyError("x")
    assert os.environ.get("TOKENIZERS_PARALLELISM") == before
