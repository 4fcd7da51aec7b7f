"""Measures on hand-made experiments (no backbone): the quantities added for the paper's statements."""

from types import SimpleNamespace

import pytest

from ssb import measures


def _subset(n_pos):
    return {
        "n_pos": n_pos,
        "apt": 0.5,
        "random_guess": 1 / max(n_pos, 1),
        "diagonal_confidence": 0.1,
        "n_predicted": n_pos + 1,
        "zero_diagonal_fraction": 0.0,
    }


def _group(recognised):
    return {"per_subset": [_subset(len(r)) for r in recognised], "recognised": [sorted(r) for r in recognised]}


def test_several_nodes_against_the_sum_and_the_union_of_their_nodes_alone():
    # four nodes recognise {0}, {0}, {1}, {} alone; the pairs (0, 1) and (2, 3) recognise {0, 5} and {1, 2, 3}
    sweep = {"1": _group([{0}, {0}, {1}, set()]), "2": _group([{0, 5}, {1, 2, 3}])}
    heads = {"1": _group([{0}, {1}]), "all": _group([{0, 1, 2}])}
    pl = SimpleNamespace(
        head_table=lambda system="reference": heads,
        token_node_sweep=lambda name="reference": sweep,
        subset_nodes=lambda n: [[0, 1], [2, 3]],
    )
    out = measures.heads.cooperation_beyond_sum(pl)
    # together 2 and 3 tokens (mean 2.5); alone: union {0} and {1} (mean 1), sum 2 and 1 (mean 1.5)
    assert out["nodes_over_union_2"].value == pytest.approx(2.5) and out["nodes_over_sum_2"].value == pytest.approx(
        2.5 / 1.5
    )
    assert out["jointly_only_2"] == pytest.approx(1.5) and out["jointly_only_tokens_2"] == [2, 3, 5]
    assert out["all_over_union"].value == pytest.approx(1.5)
    # a control reads its own sweep (the same here, so the same ratios): the node ratios' specificity
    control = measures.heads.cooperation_beyond_sum(pl, system="symmetric")
    assert control["nodes_over_union_2"].value == pytest.approx(out["nodes_over_union_2"].value)


def test_recognised_share_by_frequency_band():
    counts = {1: 1, 2: 1, 3: 3, 4: 50, 5: 500}
    shares = measures.heads._share_by_frequency(counts, recognised={2, 4, 5})
    assert {x: e.value for x, e in shares.items()} == {"1": 0.5, "2": 0.0, "21": 1.0, "101": 1.0}  # 6-20: none


def test_the_frequency_threshold_scales_with_the_validation_paragraphs():
    assert measures.heads.frequent_threshold(90_000) == 100 and measures.heads.frequent_threshold(
        2_000
    ) == pytest.approx(2.22, 0.01)


def test_the_learned_ratio_is_measured_from_the_unigram_floor():
    assert measures.variants._learned_ratio(0.3, 0.5, 0.1).value == pytest.approx(0.5)
    assert measures.variants._learned_ratio(0.1, 0.5, 0.1).value == 0.0  # nothing learned beyond the floor
    assert (
        measures.variants._learned_ratio(0.3, 0.1, 0.1) is None
        and measures.variants._learned_ratio(None, 0.5, 0.1) is None
    )


def test_the_subset_guess_is_the_stricter_of_the_two_random_guesses():
    # APT 0.5 for subsets recognising 1 and 3 tokens: the paper's guess 1 / mean(n_pos) = 0.5, each subset's
    # own mean(1 / n_pos) = 2/3 (Jensen), so the same APT beats one and not the other
    sweep = {"1": {"per_subset": [_subset(1), _subset(3)]}}
    out = measures.nodes._node_guess(sweep, ("1",))
    assert out["apt_over_guess_1"].value == pytest.approx(1.0)
    assert out["apt_over_subset_guess_1"].value == pytest.approx(0.5 / (2 / 3))


def test_the_spread_of_a_hull_gap_is_relative_to_its_mean():
    import numpy as np

    assert measures.common._cv(np.array([2.0, 4.0, 6.0])) == pytest.approx(np.std([2, 4, 6]) / 4)
    assert measures.common._cv(np.zeros(3)) == 0.0


def test_the_heads_spread_is_their_standard_deviation_over_the_mean():
    import numpy as np

    rows = [{**_subset(2), "apt": a} for a in (0.2, 0.3, 0.4)]
    spread = measures.heads._spread(rows, "apt")
    assert spread.value == pytest.approx(np.std([0.2, 0.3, 0.4]) / 0.3) and spread.interval() is not None


def test_hidden_correlations_count_the_inputs_only_the_summed_heads_get_right():
    counts = {"n_positions": 100, "n_correct_all": 40, "n_correct_some_head": 50, "n_correct_all_no_head": 10}
    pl = SimpleNamespace(head_correctness=lambda system="reference": counts)
    out = measures.heads.hidden_correlations(pl)
    assert out["jointly_correct_share"].value == pytest.approx(0.25) and out["accuracy_from_joint"] == 0.1
    lo, hi = out["jointly_correct_share"].interval()
    assert 0.1 < lo < 0.25 < hi < 0.45  # a bootstrap over the 40 inputs right with all heads (sd 0.068)
    none = measures.heads.hidden_correlations(SimpleNamespace(head_correctness=lambda system="reference": {
        **counts, "n_correct_all_no_head": 0}))  # fmt: skip
    assert none["jointly_correct_share"].value == 0 and none["jointly_correct_share"].interval() == (0.0, 0.0)


def test_the_diagonal_and_column_sums_are_shares_of_the_inputs():
    def row(accuracy, zero_diagonal):
        return {**_subset(2), "accuracy": accuracy, "zero_diagonal_fraction": zero_diagonal}

    sweep = {"1": {"per_subset": [row(0.1, 0.2), row(0.3, 0.4)]}, "4": {"per_subset": [row(0.5, 0.5)]}}
    out = measures.nodes.diagonal_sums(SimpleNamespace(token_node_sweep=lambda name="reference": sweep))
    assert out["diagonal_sum_vs_nodes"]["1"].value == pytest.approx(0.2)
    assert out["column_sum_vs_nodes"]["1"].value == pytest.approx(0.7)  # 1 - mean zero-diagonal fraction
    assert out["column_sum_vs_nodes"]["4"].value == pytest.approx(0.5) and out["n_pos_vs_nodes"]["4"].value == 2


def _origin_pipeline(sizes: dict[str, tuple[int, ...]]):
    """A pipeline shaped like ssb.protocols.Experiments for subset-origin: 8 nodes in 2 heads, each system's
    random and within-head sweeps at its own sizes (APT within a head twice the random one's on 'control')."""
    profile = SimpleNamespace(
        backbone=SimpleNamespace(hidden=8, n_heads=2), sweep=SimpleNamespace(node_counts=(1, 2, 4, 8))
    )
    calls = []

    def sweep(within_head=False, name="reference"):
        calls.append((name, within_head))
        apt = 0.2 if within_head and name == "control" else 0.1
        return {str(n): {"per_subset": [{**_subset(n), "apt": apt}, {**_subset(n), "apt": apt}]} for n in sizes[name]}

    return SimpleNamespace(profile=profile, token_node_sweep=sweep), calls


def test_subset_origin_reads_both_arms_on_the_system_asked_and_refuses_a_partial_control():
    from ssb.measures.registry import MeasureError

    pl, calls = _origin_pipeline({"reference": (1, 2, 4), "control": (1, 2, 4), "partial": (1, 2)})
    ref = measures.nodes.subset_origin(pl)
    assert ref["apt_mean_rel_diff"].value == pytest.approx(0) and ref["counts"] == [2, 4]
    control = measures.nodes.subset_origin(pl, system="control")
    assert control["apt_mean_rel_diff"].value == pytest.approx(1.0)  # within a head twice the random APT
    assert calls == [("reference", False), ("reference", True), ("control", False), ("control", True)]
    with pytest.raises(MeasureError, match="subset-origin on 'partial'.*whole curves"):
        measures.nodes.subset_origin(pl, system="partial")


def _identity_pipeline(head_sets: dict[str, list[set[int]]], probe_sets: list[set[int]], data_order=()):
    """A pipeline shaped like ssb.protocols.Experiments for the spontaneity measure: each system's heads'
    recognised token sets, and another probe of the reference."""
    from types import SimpleNamespace

    def table(sets):
        return lambda name="reference", layer=None, only=None: {"1": {"recognised": [sorted(s) for s in sets[name]]}}

    profile = SimpleNamespace(
        name="toy",
        seeds=SimpleNamespace(backbone=(1, 2), data_order=data_order),
        probe=SimpleNamespace(seed=0),
        backbone=SimpleNamespace(seed=0),
    )
    other = SimpleNamespace(head_table=table({"reference": probe_sets}))
    return SimpleNamespace(profile=profile, head_table=table(head_sets), probe_seed_run=lambda seed: other)


def test_spontaneity_tells_initial_conditions_from_probes():
    from ssb.measures.spontaneity import spontaneous_breaking

    heads = [{3 * h, 3 * h + 1, 3 * h + 2} for h in range(4)]
    rotated = heads[1:] + heads[:1]
    # the initial conditions move which head holds which tokens; a second probe finds every head again
    pl = _identity_pipeline({"reference": heads, "init-seed:1": rotated, "init-seed:2": heads[2:] + heads[:2]}, heads)
    out = spontaneous_breaking(pl)
    assert out["identity_match_share"].value == 0.0 and out["probe_identity_match_share"].value == 1.0
    assert out["match_gap"].value == 1.0 and out["probe_same_minus_other"].value == 1.0
    assert out["same_minus_other"].value < 0 < out["identity_gap"].value
    assert out["sorted_n_pos_spread"].value == 0.0 and out["empty_heads"] == 0
    # the same backbone three times: the seeds keep identity, so the gap to the control is 0 (the claim fails)
    same = spontaneous_breaking(
        _identity_pipeline({n: heads for n in ("reference", "init-seed:1", "init-seed:2")}, heads)
    )
    assert (
        same["identity_gap"].value == 0.0 and same["match_gap"].value == 0.0 and same["same_minus_other"].value == 1.0
    )


def test_spontaneity_reads_what_the_order_of_the_paragraphs_alone_changes():
    from ssb.measures.spontaneity import spontaneous_breaking

    heads = [{3 * h, 3 * h + 1, 3 * h + 2} for h in range(4)]
    seeds = {"reference": heads, "init-seed:1": heads[1:] + heads[:1], "init-seed:2": heads[2:] + heads[:2]}
    moved = spontaneous_breaking(_identity_pipeline({**seeds, "data-order:1": heads[3:] + heads[:3]}, heads, (1,)))
    assert moved["order_match_share"].value == 0.0 and moved["order_identity_gap"].value > 0
    assert moved["data_order_seeds"] == [1]
    kept = spontaneous_breaking(_identity_pipeline({**seeds, "data-order:1": heads}, heads, (1,)))
    assert kept["order_match_share"].value == 1.0 and kept["order_identity_gap"].value == 0.0  # the check fails
    assert spontaneous_breaking(_identity_pipeline(seeds, heads))["order_identity_gap"] is None  # no orders listed


def test_spontaneity_without_seed_backbones_names_the_field():
    from types import SimpleNamespace

    from ssb.config import ConfigError
    from ssb.measures.spontaneity import spontaneous_breaking

    pl = _identity_pipeline({}, [])
    pl.profile.seeds = SimpleNamespace(backbone=())
    with pytest.raises(ConfigError, match="field 'seeds.backbone' is empty"):
        spontaneous_breaking(pl)


def test_a_seed_backbone_a_committed_profile_lacks_gives_no_null_and_no_skip(tmp_path):
    """cpu-seeds lists seed backbones before its set is committed: the variants' claims are measured all the
    same, their null (issue #37) None."""
    import json
    from types import SimpleNamespace

    from ssb.measures.variants import _seeds_null
    from ssb.reference import MissingReference

    (tmp_path / "record.json").write_text(json.dumps({"final_eval": {"eval_mlm_accuracy": 0.3}}))

    def backbone(name="reference"):
        if name != "reference":
            raise MissingReference(f"no committed '{name}' backbone")
        return tmp_path, "key"

    pl = SimpleNamespace(profile=SimpleNamespace(seeds=SimpleNamespace(backbone=(1,))), backbone=backbone)
    assert _seeds_null(pl) == dict.fromkeys(("null_n_pos_ratio", "null_apt_ratio", "null_mlm_accuracy_ratio"))
