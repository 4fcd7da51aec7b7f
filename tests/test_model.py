"""The backbone builder: sparse MLM prediction in training is the dense loss, computed on fewer rows."""

import torch

from ssb.config import BackboneConfig
from ssb.model import build_mlm


def _tiny(sparse: bool):
    cfg = BackboneConfig(
        n_layers=2, hidden=32, n_heads=4, intermediate=64, max_len=16, hidden_dropout=0.0, attention_dropout=0.0
    )
    return build_mlm(cfg, vocab_size=50, sparse=sparse)


def test_sparse_prediction_gives_the_dense_loss_and_gradients():
    dense, sparse = _tiny(False), _tiny(True)
    assert type(sparse).__name__ == "SparseBertForMaskedLM" and sparse.config.architectures == ["BertForMaskedLM"]
    sparse.load_state_dict(dense.state_dict())
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 50, (3, 12), generator=generator)  # [batch, seq]
    labels = torch.full_like(ids, -100)
    labels[:, 2::5] = ids[:, 2::5]
    attention = torch.ones_like(ids)
    attention[2, 9:] = 0
    losses = []
    for model in (dense, sparse):
        model.train()
        loss = model(input_ids=ids, attention_mask=attention, labels=labels).loss
        loss.backward()
        losses.append(loss)
    torch.testing.assert_close(losses[0], losses[1])
    for (name, a), (_, b) in zip(dense.named_parameters(), sparse.named_parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, msg=name)
    sparse.eval()  # evaluation: the full logits, as the parent gives them
    assert sparse(input_ids=ids, labels=labels).logits.shape == (3, 12, 50)
