"""The scale knob of the validation set at the smoke profile: nested fractions of the validation paragraphs,
every token of a chosen paragraph read, and all paragraphs reading the cached head table and node sweep."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def pipeline(smoke, new_pipeline):
    return new_pipeline(smoke, "scale")


def test_the_validation_scale_reads_whole_paragraphs_and_ends_at_all_of_them(pipeline):
    scale = pipeline.validation_scale()
    paragraph = pipeline.valid_paragraphs()
    _, y, _ = pipeline.valid_features(pipeline.profile.probe.layer)
    assert paragraph.shape == y.shape
    counts = [int(k) for k in scale]
    assert counts == sorted(counts) and counts[-1] == len(np.unique(paragraph))
    inputs = [panel["heads"]["per_subset"][0]["n_inputs"] for panel in scale.values()]
    assert inputs == sorted(inputs) and inputs[-1] == len(y)  # nested: more paragraphs, more positions
    full = scale[str(counts[-1])]
    assert full["heads"] == pipeline.head_table()["1"]  # all paragraphs: the head table's group itself
    for g in full:
        if g != "heads":
            assert full[g] == pipeline.token_node_sweep()[g]


def test_few_empty_columns_reports_both_readings_and_the_trend(pipeline):
    from ssb.measures import MEASURES

    out = MEASURES["few-empty-columns"].fn(pipeline)
    curve = out["zero_diagonal_fraction_heads_vs_paragraphs"]
    assert list(curve)[-1] == str(len(np.unique(pipeline.valid_paragraphs())))
    assert curve[list(curve)[-1]].value == pytest.approx(out["zero_diagonal_fraction_heads"].value)
    assert 0 <= out["zero_diagonal_column_share_heads"].value <= 1


def test_each_fraction_is_what_a_sweep_of_its_own_positions_measures(pipeline):
    """The scale predicts a group on every position once and reads each fraction's slice: the metrics must
    be those of a sweep run on the fraction's positions alone (the path it replaced)."""
    import torch

    from ssb import aperture
    from ssb.experiments.common import results_summary
    from ssb.experiments.nodes import scale_positions

    scale = pipeline.validation_scale()
    D, H = pipeline.profile.backbone.hidden, pipeline.profile.backbone.n_heads
    X, y, vocab = pipeline.valid_features(pipeline.profile.probe.layer)
    head, _ = pipeline.token_probe(pipeline.profile.probe.layer)
    k, positions = next((k, p) for k, p in scale_positions(pipeline).items() if p is not None)
    groups = {"heads": aperture.each_head(D, H), "1": aperture.single_nodes(D)}
    for group, masks in groups.items():
        direct = pipeline.sweep(head, X[torch.from_numpy(positions)], y[positions], masks, vocab, "direct")
        assert scale[str(k)][group]["per_subset"] == results_summary(direct)["per_subset"], group
