"""The aperture's batched, chunked masked products equal the probe on zeroed features."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ssb import aperture
from ssb.probe import LabelHead, TokenHead


def _head(kind: str, n_inputs: int, n_classes: int, seed: int):
    torch.manual_seed(seed)
    head = LabelHead(n_inputs, n_classes) if kind == "label" else TokenHead(n_inputs, n_classes, kind)
    return head.double().eval()


@given(
    kind=st.sampled_from(["label", "gelu", "relu", "identity"]),
    n_inputs=st.integers(1, 24),
    n_classes=st.integers(1, 40),
    n_subsets=st.integers(1, 6),
    seed=st.integers(0, 10_000),
    label_chunk=st.integers(1, 17),
)
def test_masked_predictions_equal_zeroed_features(kind, n_inputs, n_classes, n_subsets, seed, label_chunk):
    head = _head(kind, n_inputs, n_classes, seed)
    rng = np.random.default_rng(seed)
    X = torch.as_tensor(rng.normal(size=(50, n_inputs)))
    masks = rng.random((n_subsets, n_inputs)) < 0.5
    chunks = aperture.Chunks(subset_batch=4, position_chunk=16, label_chunk=label_chunk)
    got = dict(aperture.iter_predictions(head, X, masks, chunks=chunks))
    for row, mask in enumerate(masks):
        expected = head(X * torch.as_tensor(mask, dtype=X.dtype)).argmax(-1).numpy()
        np.testing.assert_array_equal(got[row], expected)


@given(kind=st.sampled_from(["relu", "identity"]), seed=st.integers(0, 10_000), n_classes=st.integers(2, 60))
def test_single_node_of_homogeneous_bias_free_head_wins_at_most_two(kind, seed, n_classes):
    # logits are x * w(sign x): one winner for x > 0, one for x < 0 (and x = 0 ties at label 0)
    head = _head(kind, 8, n_classes, seed)
    X = torch.as_tensor(np.random.default_rng(seed).normal(size=(400, 8)) * 3)
    for _, pred in aperture.iter_predictions(head, X, aperture.single_nodes(8)):
        assert len(np.unique(pred)) <= 2


def test_gelu_single_node_can_win_more_than_two():
    found = max(
        len(np.unique(pred))
        for seed in range(5)
        for _, pred in aperture.iter_predictions(
            _head("gelu", 8, 50, seed),
            torch.linspace(-6, 6, 2000, dtype=torch.float64)[:, None].repeat(1, 8),
            aperture.single_nodes(8),
        )
    )
    assert found > 2


def test_subset_generators():
    n_inputs, n_heads = 48, 12
    assert aperture.single_nodes(n_inputs).sum(axis=1).tolist() == [1] * n_inputs
    heads = aperture.each_head(n_inputs, n_heads)
    assert heads.shape == (12, 48) and heads.sum(axis=0).tolist() == [1] * 48
    assert heads[1, 4:8].all() and heads[1].sum() == 4
    pairs = aperture.n_heads_subsets(n_inputs, n_heads, 2, 100, seed=0)
    assert pairs.shape == (66, 48) and set(pairs.sum(axis=1)) == {8}
    quads = aperture.n_heads_subsets(n_inputs, n_heads, 4, 12, seed=0)
    assert quads.shape == (12, 48) and len({m.tobytes() for m in quads}) == 12
    rnd = aperture.random_nodes(n_inputs, 5, 20, seed=3)
    assert rnd.shape == (20, 48) and set(rnd.sum(axis=1)) == {5}
    np.testing.assert_array_equal(rnd, aperture.random_nodes(n_inputs, 5, 20, seed=3))
    np.testing.assert_array_equal(aperture.node_sweep_subsets(n_inputs, 1, 20, seed=3), np.eye(n_inputs, dtype=bool))
    assert aperture.node_sweep_subsets(n_inputs, n_inputs, 20, seed=3).shape == (1, n_inputs)
    np.testing.assert_array_equal(aperture.node_sweep_subsets(n_inputs, 5, 20, seed=3), rnd)
    within = aperture.nodes_within_head(n_inputs, n_heads, 3, 20, seed=3)
    for mask in within:
        nodes = np.flatnonzero(mask)
        assert len(nodes) == 3 and len(set(nodes // 4)) == 1
    with pytest.raises(ValueError, match="within one head"):
        aperture.nodes_within_head(n_inputs, n_heads, 5, 2, seed=0)


def test_evaluate_subsets_counts_every_position():
    head = _head("label", 6, 5, 0)
    X = torch.randn(30, 6, dtype=torch.float64)
    y = np.random.default_rng(0).integers(0, 5, 30)
    results = aperture.evaluate_subsets(head, X, y, aperture.single_nodes(6), 5)
    assert [r.n_nodes for r in results] == [1] * 6
    assert all(r.metrics.n_inputs == 30 and r.metrics.n_pos == len(r.recognised) for r in results)


@given(
    kind=st.sampled_from(["label", "gelu", "relu", "identity"]),
    n_classes=st.integers(1, 40),
    n_positions=st.integers(1, 400),
    grid=st.integers(2, 9),
    scale=st.sampled_from([0.1, 1.0, 10.0]),
    repeats=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_single_node_shortcut_equals_direct_evaluation(kind, n_classes, n_positions, grid, scale, repeats, seed):
    """The certified bisection over one node's sorted values gives every position the direct arg-max."""
    head = _head(kind, 6, n_classes, seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_positions, 6)) * scale
    if repeats:  # duplicated values, and exact zeros (a tie of all classes for bias-free heads)
        X[:, 2] = np.round(X[:, 2], 1)
    X = torch.as_tensor(X)
    mask = torch.zeros(6, dtype=X.dtype)
    mask[2] = 1
    expected = head(X * mask).argmax(-1)
    torch.testing.assert_close(aperture.single_node_argmax(head, X, 2, grid=grid), expected, rtol=0, atol=0)


def test_single_node_shortcut_follows_many_winner_changes_with_few_evaluations():
    torch.manual_seed(0)
    head = _head("gelu", 4, 60, 3)
    calls = []  # rows through the head's activation: the values it was evaluated at
    hook = head.act.register_forward_hook(lambda module, inputs, output: calls.append(inputs[0].shape[0]))
    X = torch.linspace(-8, 8, 20_000, dtype=torch.float64)[:, None].repeat(1, 4)
    got = aperture.single_node_argmax(head, X, 1)
    hook.remove()
    mask = torch.tensor([0.0, 1.0, 0.0, 0.0], dtype=X.dtype)
    expected = head(X * mask).argmax(-1)
    assert len(torch.unique(expected)) > 2  # the winner changes along the node's values
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    assert sum(calls) < len(X) / 10  # far fewer head evaluations than positions


def test_iter_predictions_mixes_single_and_batched_masks_in_order():
    head = _head("gelu", 8, 30, 1)
    X = torch.randn(600, 8, dtype=torch.float64)
    masks = np.zeros((4, 8), dtype=bool)
    masks[0, 3] = masks[1, [1, 2]] = masks[2, 5] = True
    masks[3] = True
    for shortcut in (True, False):  # single nodes through the shortcut (the CPU's way) or the products (a GPU's)
        got = dict(aperture.iter_predictions(head, X, masks, chunks=aperture.Chunks(subset_batch=2), shortcut=shortcut))
        assert sorted(got) == [0, 1, 2, 3]
        for row, mask in enumerate(masks):
            expected = head(X * torch.as_tensor(mask, dtype=X.dtype)).argmax(-1).numpy()
            np.testing.assert_array_equal(got[row], expected)


def test_a_repeated_mask_is_evaluated_once_and_yielded_for_each_of_its_rows(monkeypatch):
    head = _head("gelu", 8, 30, 1)
    X = torch.randn(300, 8, dtype=torch.float64)
    masks = np.zeros((5, 8), dtype=bool)
    masks[[0, 3], :4] = masks[[1, 4], 4:] = masks[2, [2, 6]] = True  # rows 0 = 3 and 1 = 4
    calls = []
    real = aperture.masked_argmax
    monkeypatch.setattr(aperture, "masked_argmax", lambda h, x, m, c: calls.append(len(m)) or real(h, x, m, c))
    got = dict(aperture.iter_predictions(head, X, masks, chunks=aperture.Chunks(subset_batch=8)))
    assert sorted(got) == [0, 1, 2, 3, 4] and calls == [3]  # three distinct masks in one product
    for row, mask in enumerate(masks):
        np.testing.assert_array_equal(got[row], head(X * torch.as_tensor(mask, dtype=X.dtype)).argmax(-1).numpy())
    results = aperture.evaluate_subsets(head, X, np.zeros(300, dtype=int), masks, 30)
    assert [r.n_nodes for r in results] == [4, 4, 2, 4, 4]  # in the masks' order


@given(
    n_inputs=st.sampled_from([16, 192, 768]),
    width=st.sampled_from([16, 192, 768]),
    n_classes=st.sampled_from([3, 64, 8192, 30522, 100_000]),
    gib=st.sampled_from([0.25, 1.0, 16.0, 20.0]),
)
def test_chunk_plan_stays_within_its_memory_bound(n_inputs, width, n_classes, gib):
    budget = int(gib * 2**30)
    plan = aperture.plan_chunks(n_inputs, width, n_classes, budget)
    assert plan.label_chunk == min(n_classes, 32_768)
    assert plan.position_chunk >= 256 and plan.position_chunk % 256 == 0
    bound = aperture.product_bytes(plan, n_inputs, width, n_classes)
    assert bound <= budget or (plan.subset_batch == 1 and plan.position_chunk == 256)
    # the paper's shapes under 16 GiB: many positions and subsets per product
    if (n_inputs, width, n_classes, gib) == (768, 768, 30522, 16.0):
        assert plan.subset_batch == 32 and plan.position_chunk >= 2048


def _devices() -> list[str]:
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", _devices())
@pytest.mark.parametrize("kind", ["label", "gelu"])
def test_predictions_on_a_device_equal_the_cpu_ones(device, kind):
    """The same code on the features' device: a GPU where there is one, the CPU always. In float64 the
    devices agree exactly; the plan from a memory budget gives the default chunks' predictions."""
    head = _head(kind, 24, 300, 7)
    X = torch.randn(1000, 24, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    masks = np.concatenate([aperture.single_nodes(24)[:5], aperture.random_nodes(24, 6, 5, 0)])
    on_cpu = dict(aperture.iter_predictions(head, X, masks))
    plan = aperture.plan_chunks(24, 24, 300, 2**22, subset_batch=4)
    moved = dict(aperture.iter_predictions(head.to(device), X.to(device), masks, chunks=plan))
    for row in range(len(masks)):
        np.testing.assert_array_equal(moved[row], on_cpu[row])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_gpu_sweep_memory_stays_within_the_plan():
    head = TokenHead(768, 30522).cuda().eval()
    X = torch.randn(20_000, 768, device="cuda")
    budget = 2 * 2**30
    plan = aperture.plan_chunks(768, 768, 30522, budget)
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    for _ in aperture.iter_predictions(head, X, aperture.random_nodes(768, 8, 40, 0), chunks=plan):
        pass
    assert torch.cuda.max_memory_allocated() - before <= budget


def test_a_hull_panel_of_single_nodes_takes_every_node_when_asked_for_as_many():
    assert (aperture.hull_subsets(12, 1, 12, seed=0) == np.eye(12, dtype=bool)).all()
    few = aperture.hull_subsets(12, 1, 5, seed=0)
    assert few.shape == (5, 12) and (few.sum(axis=1) == 1).all()
    pairs = aperture.hull_subsets(12, 2, 20, seed=0)
    assert pairs.shape == (20, 12) and (pairs.sum(axis=1) == 2).all()
