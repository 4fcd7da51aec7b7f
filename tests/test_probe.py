"""The control task's labels (Hewitt & Liang 2019): one label per type, drawn from the targets' distribution."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ssb.probe import control_task_labels


@given(
    st.lists(st.integers(0, 30), min_size=1, max_size=200),
    st.integers(0, 2**16),
)
def test_every_type_gets_one_label_drawn_among_the_targets(targets, seed):
    targets = np.array(targets)
    labels = control_task_labels(targets, 31, seed)
    assert labels.shape == (31,) and labels.dtype == np.int64
    assert set(labels.tolist()) <= set(targets.tolist())  # a label is a type that occurs as a target
    assert np.array_equal(labels, control_task_labels(targets, 31, seed))  # fixed per type, seeded


def test_labels_follow_the_target_distribution():
    targets = np.repeat(np.arange(4), [700, 200, 90, 10])
    labels = control_task_labels(targets, 5_000, seed=0)
    share = np.bincount(labels, minlength=4) / len(labels)
    assert np.allclose(share, [0.7, 0.2, 0.09, 0.01], atol=0.02)
    assert not np.array_equal(labels, control_task_labels(targets, 5_000, seed=1))


def test_a_tied_probe_cannot_make_identical_heads_differ():
    import torch

    from ssb.aperture import masks_from_indices
    from ssb.probe import TokenHead, fit, tie_head_blocks
    from ssb.sections import HeadRecipe

    torch.manual_seed(0)
    n_heads, d = 4, 3
    one = torch.randn(200, d)  # [n, d]: every head's features are the same
    X, y = one.repeat(1, n_heads), torch.randint(0, 7, (200,))  # [n, n_heads * d], [n]
    tied, free = tie_head_blocks(TokenHead(n_heads * d, 7), n_heads), TokenHead(n_heads * d, 7)
    for head in (tied, free):
        fit(head, X, y, HeadRecipe(epochs=3, lr=1e-2, weight_decay=1e-4, batch_size=32, seed=0), progress=False)
    blocks = tied.first.weight.detach().view(-1, n_heads, d)  # [hidden, n_heads, d]
    assert torch.equal(blocks, blocks[:, :1].expand_as(blocks))  # still tied after training
    masks = torch.from_numpy(masks_from_indices([list(range(h * d, (h + 1) * d)) for h in range(n_heads)], n_heads * d))
    masks = masks.float()  # [n_heads, n_heads * d]: each head alone
    with torch.no_grad():
        each = [tied(X * m).argmax(1) for m in masks]
        assert all(torch.equal(each[0], e) for e in each)  # every head alone predicts the same
        assert any(not torch.equal(free(X * masks[0]), free(X * m)) for m in masks[1:])  # an untied probe differs
