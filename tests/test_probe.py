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
