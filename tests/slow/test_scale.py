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
