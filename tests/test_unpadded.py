"""The unpadded masked-LM forward (ssb/unpadded.py) is the padded model: the same loss and the same gradients
on random right-padded batches, within fp32 tolerance (issue #38's property test)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ssb.config import BackboneConfig
from ssb.model import build_mlm
from ssb.unpadded import mlm_loss, unpad

VOCAB = 40


@st.composite
def batches(draw):
    n_heads = draw(st.sampled_from([1, 2, 4]))
    cfg = BackboneConfig(
        n_layers=draw(st.integers(1, 2)), hidden=8 * n_heads, n_heads=n_heads, intermediate=16, max_len=12,
        hidden_dropout=0.0, attention_dropout=0.0, seed=draw(st.integers(0, 3)),
    )  # fmt: skip
    lengths = draw(st.lists(st.integers(1, 12), min_size=1, max_size=5))
    seq = min(max(lengths) + draw(st.integers(0, 2)), cfg.max_len)
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    ids = torch.randint(5, VOCAB, (len(lengths), seq), generator=g)  # [batch, seq]
    mask = (torch.arange(seq)[None, :] < torch.tensor(lengths)[:, None]).long()  # [batch, seq], right padding
    ids = ids * mask  # padding id 0
    labelled = (torch.rand(ids.shape, generator=g) < 0.3) & mask.bool()
    labelled[:, 0] |= True  # at least one labelled position per row
    labels = torch.where(labelled, ids, torch.full_like(ids, -100))
    return cfg, min(seq, cfg.max_len), ids, mask, labels


def _grads(model):
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


@settings(max_examples=25, deadline=None)
@given(batches(), st.sampled_from(["nested", "repad"]))
def test_the_unpadded_loss_and_gradients_equal_the_padded_models(case, attention):
    cfg, _, ids, mask, labels = case
    model = build_mlm(cfg, VOCAB, pad_token_id=0).train()  # dropout 0: training mode, the same arithmetic
    padded = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    padded.backward()
    expected = _grads(model)
    model.zero_grad(set_to_none=True)
    loss = mlm_loss(model, ids, mask, labels, attention=attention)
    loss.backward()
    got = _grads(model)
    assert loss.item() == pytest.approx(padded.item(), rel=1e-5, abs=1e-6)
    assert expected.keys() - got.keys() <= {n for n in expected if "token_type" in n and not expected[n].any()}
    for name, g in got.items():
        torch.testing.assert_close(g, expected[name], rtol=1e-4, atol=1e-5, msg=lambda m, n=name: f"{n}: {m}")


def test_unpadding_lays_the_real_tokens_end_to_end():
    mask = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1]])
    layout = unpad(mask)
    assert layout.index.tolist() == [0, 1, 2, 4, 8, 9, 10, 11]
    assert layout.positions.tolist() == [0, 1, 2, 0, 0, 1, 2, 3]
    assert layout.offsets.tolist() == [0, 3, 4, 8]


@pytest.mark.parametrize("mask", [[[0, 1, 1]], [[0, 0, 0]]], ids=["left-padded", "empty-row"])
def test_unpadding_refuses_what_it_cannot_lay_out(mask):
    with pytest.raises(ValueError, match="unpad needs"):
        unpad(torch.tensor(mask))


@pytest.mark.parametrize("attention", ["repad", "nested"])
def test_the_training_model_takes_the_unpadded_step_when_asked(attention, monkeypatch):
    """``pretrain.attention`` reaches the training step: the sparse model built with it computes its training
    loss through ``ssb.unpadded`` (the padded one's value), and evaluates through the padded forward."""
    import ssb.unpadded

    cfg = BackboneConfig(n_layers=1, hidden=16, n_heads=2, intermediate=16, max_len=8, hidden_dropout=0.0,
                         attention_dropout=0.0)  # fmt: skip
    ids = torch.tensor([[7, 8, 9, 0], [10, 11, 12, 13]])
    mask = (ids != 0).long()
    labels = torch.where(torch.rand(ids.shape, generator=torch.Generator().manual_seed(0)) < 0.5, ids, -100)
    labels[:, 0] = ids[:, 0]
    labels[mask == 0] = -100  # padding is never labelled (the MLM collator's)
    padded = build_mlm(cfg, VOCAB, sparse=True).train()
    unpadded = build_mlm(cfg, VOCAB, sparse=True, attention=attention).train()
    calls = []
    monkeypatch.setattr(ssb.unpadded, "mlm_loss", lambda *a, **k: calls.append(k) or mlm_loss(*a, **k))
    loss = unpadded(input_ids=ids, attention_mask=mask, labels=labels).loss
    assert calls == [{"attention": attention}]
    assert loss.item() == pytest.approx(padded(input_ids=ids, attention_mask=mask, labels=labels).loss.item(), rel=1e-5)
    assert unpadded.eval()(input_ids=ids, attention_mask=mask).logits.shape == (2, 4, VOCAB)  # eval: padded
    assert calls == [{"attention": attention}]
    with pytest.raises(ValueError, match="training step's"):
        build_mlm(cfg, VOCAB, attention=attention)


def test_a_profile_names_a_known_step():
    from ssb.config import ConfigError, load_profile, validate

    profile = load_profile("smoke")
    validate(profile.replace(pretrain={"attention": "repad"}), "smoke.toml")
    with pytest.raises(ConfigError, match="field 'pretrain.attention' must be one of padded, repad, nested"):
        validate(profile.replace(pretrain={"attention": "unpadded"}), "smoke.toml")
