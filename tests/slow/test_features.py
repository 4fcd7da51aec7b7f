"""Feature capture: the hooked context is the scaled dot-product output; every token is masked once."""

import math
from collections import Counter

import torch

from ssb.config import BackboneConfig
from ssb.features import capture_context, cls_vectors, masked_random, one_at_a_time, run_capturing
from ssb.model import build_mlm
from ssb.tokenizer import train_wordpiece

TEXTS = [
    "the cat sat on the mat",
    "a dog ran in the park today",
    "paris is the capital of france",
    "the river flows through the old city",
    "birds sang",
] * 3


def _model(layers=2, hidden=24, heads=4):
    model = build_mlm(BackboneConfig(n_layers=layers, hidden=hidden, n_heads=heads, intermediate=32, max_len=32), 200)
    return model.eval()


def test_hook_equals_recomputation_from_q_k_v():
    tok = train_wordpiece(TEXTS, 200)
    model = _model()
    enc = tok(TEXTS[:4], padding=True, return_tensors="pt")
    with capture_context(model, (1, 2), stop=False) as captured:
        run_capturing(model, input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
    # recompute block 2's context from its input hidden states
    hidden = model.bert(
        input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_hidden_states=True
    ).hidden_states[1]
    attn = model.bert.encoder.layer[1].attention.self
    B, T, D = hidden.shape
    H, d = 4, D // 4

    def split(x):  # [B, T, hidden] -> [B, H, T, d]
        return x.view(B, T, H, d).transpose(1, 2)

    q, k, v = split(attn.query(hidden)), split(attn.key(hidden)), split(attn.value(hidden))
    scores = q @ k.transpose(-1, -2) / math.sqrt(d) + (1 - enc["attention_mask"][:, None, None, :].float()) * -1e9
    context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)  # [B, T, hidden]
    keep = enc["attention_mask"].bool()
    torch.testing.assert_close(captured[2][keep], context[keep], rtol=1e-4, atol=1e-5)


def test_one_at_a_time_counts_every_token_once():
    tok = train_wordpiece(TEXTS, 200)
    model = _model()
    feats, ids, rate, paragraphs = one_at_a_time(
        model, tok, TEXTS, (1, 2), max_len=32, copies_per_batch=7, progress=False
    )
    enc = tok(TEXTS, truncation=True, max_length=32, return_special_tokens_mask=True)
    expected = Counter(
        i
        for row, spec in zip(enc["input_ids"], enc["special_tokens_mask"], strict=True)
        for i, s in zip(row, spec, strict=True)
        if not s
    )
    assert Counter(ids.tolist()) == expected and rate > 0
    assert feats[1].shape == feats[2].shape == (sum(expected.values()), 24)
    per_paragraph = Counter(paragraphs.tolist())  # each token's paragraph, by its index in TEXTS
    assert per_paragraph == {
        i: len(spec) - sum(spec) for i, spec in enumerate(enc["special_tokens_mask"]) if len(spec) > sum(spec)
    }
    for i, spec in enumerate(enc["special_tokens_mask"]):
        row = [t for t, s in zip(enc["input_ids"][i], spec, strict=True) if not s]
        assert ids[paragraphs == i].tolist() == row  # a paragraph's tokens in their order


def test_masked_random_is_seeded_and_skips_specials():
    tok = train_wordpiece(TEXTS, 200)
    model = _model()
    a, ids_a = masked_random(model, tok, TEXTS, (2,), 32, seed=3, progress=False)
    b, ids_b = masked_random(model, tok, TEXTS, (2,), 32, seed=3, progress=False)
    assert torch.equal(ids_a, ids_b) and torch.equal(a[2], b[2])
    assert not set(ids_a.tolist()) & set(tok.all_special_ids)


def test_cls_vectors_come_in_the_texts_order_whatever_their_batch():
    tok = train_wordpiece(TEXTS, 200)
    model = _model()
    texts = [f"{t} {'and more words ' * (i % 4)}" for i, t in enumerate(TEXTS)]  # lengths out of order
    feats = cls_vectors(model, tok, texts, (1, 2), 32, batch_size=4, progress=False)
    assert feats[1].shape == feats[2].shape == (len(texts), 24)
    for i, text in enumerate(texts):  # each text alone: no padding at all
        alone = cls_vectors(model, tok, [text], (1, 2), 32, progress=False)
        assert torch.allclose(feats[2][i], alone[2][0], atol=1e-5), i
