"""Controls on real systems at the smoke profile: a check against a control is decided on the paired
difference, and the same claim measured on its control as the system fails its specificity check."""

import json
from pathlib import Path

import numpy as np
import pytest

from ssb.claims import evaluate, load_spec
from ssb.pipeline import Pipeline

CLAIMS = Path(__file__).resolve().parents[2] / "claims"


@pytest.fixture(scope="module")
def pipeline(smoke, new_pipeline):
    return new_pipeline(smoke, "controls")


def _spec(tmp_path, control):
    """head-specialisation with one smoke check: the heads' overlap below the control's."""
    text = (CLAIMS / "head-specialisation.toml").read_text()
    smoke = text[text.index("[expect.smoke]") :]
    check = f'{{ quantity = "jaccard_mean", op = "<", value = 0, control = "{control}" }}'
    (tmp_path / "spec.toml").write_text(text.replace(smoke, f"[expect.smoke]\nchecks = [{check}]\n"))
    return load_spec(tmp_path / "spec.toml")


@pytest.mark.parametrize("control", ["symmetric", "random-init"])
def test_a_claim_against_its_control_and_on_its_control(tmp_path, pipeline, control):
    spec = _spec(tmp_path, control)
    verdict = evaluate(spec, pipeline, "smoke")
    (result,) = verdict.checks
    reference = evaluate(spec, pipeline, "smoke").measured["jaccard_mean"]
    on_control = evaluate(spec, pipeline, "smoke", system=control)
    assert result.reference_value == pytest.approx(reference)
    assert result.control_value == pytest.approx(on_control.measured["jaccard_mean"])
    assert result.value == pytest.approx(result.reference_value - result.control_value)
    assert verdict.measured["controls"][control]["jaccard_mean"] == pytest.approx(result.control_value)
    (same,) = on_control.checks  # the control against itself: a difference of exactly 0, so "< 0" fails
    assert same.value == 0 and same.verdict == "fails"


def test_the_control_task_probe_reads_the_reference_features_with_relabelled_targets(pipeline):
    from ssb.measures import probe_selectivity
    from ssb.report_tables import selectivity_table
    from ssb.run_result import est_json

    layer = pipeline.profile.probe.layer
    X, y, vocab = pipeline.valid_features(layer)
    Xc, yc, vocab_c = pipeline.valid_features(layer, "control-task")
    labels = pipeline.control_labels(layer, "control-task")
    assert Xc is X and vocab_c == vocab and labels.shape == (vocab,)
    assert np.array_equal(yc, labels[y])  # the same positions, each target mapped by the probe's own map
    assert pipeline.valid_features_key("control-task") == pipeline.valid_features_key()
    assert pipeline.token_probe_key(layer, "control-task") != pipeline.token_probe_key(layer)
    rows = probe_selectivity(pipeline)
    table = pipeline.head_table("control-task")
    assert rows["n_pos_all"]["control"].value == table["all"]["per_subset"][0]["n_pos"]
    for row in rows.values():
        assert row["selectivity"].value == pytest.approx(row["reference"].value - row["control"].value)
    assert rows["n_distinct_targets"]["control"].value <= rows["n_distinct_targets"]["reference"].value
    serialised = {q: {role: est_json(e) for role, e in row.items()} for q, row in rows.items()}
    assert "| accuracy, all nodes |" in selectivity_table(serialised)


def test_a_sweep_is_keyed_by_its_validation_features(pipeline):
    """Fewer validation paragraphs: the same probe and masks, other positions, so the sweep is measured anew."""
    n = pipeline.profile.probe.n_valid_paragraphs
    fewer = Pipeline(
        pipeline.profile.replace(probe={"n_valid_paragraphs": n // 2}),
        pipeline.store,
        pipeline.data_dir,
        progress=False,
    )
    assert fewer.head_table()["n_positions"] < pipeline.head_table()["n_positions"]
    assert fewer.head_table()["1"] != pipeline.head_table()["1"]


def test_a_control_and_another_block_have_each_head_and_all_heads_only(pipeline):
    """Table 1's groups of 2 heads (smoke: 4 heads, so no group of 4) are the reference's at the probe's
    block, and a control's in the specificity pass; otherwise a control and the reference at another block are
    compared on each head and all heads alone (systems.CONTROL_HEAD_GROUPS), with the same each-head masks."""
    groups = ("1", "2", "4", "all")
    reference = pipeline.head_table()
    assert [g for g in groups if g in reference] == ["1", "2", "all"]
    other_block = min(pipeline.profile.probe.depth_layers)
    assert other_block != pipeline.profile.probe.layer
    for table in (pipeline.head_table("random-init"), pipeline.head_table(layer=other_block)):
        assert [g for g in groups if g in table] == ["1", "all"]
        assert table["1"]["n_subsets"] == reference["1"]["n_subsets"] == pipeline.profile.backbone.n_heads
    whole = pipeline.with_whole_curves()
    assert [g for g in groups if g in whole.head_table("random-init")] == ["1", "2", "all"]
    assert list(whole.token_node_sweep(name="random-init")) == list(pipeline.token_node_sweep())
    assert list(pipeline.token_node_sweep(name="random-init")) != list(pipeline.token_node_sweep())
    # each stored group says what it is, for the costs of a cold run (build_s beside it)
    manifests = (pipeline.store.root / "token-sweep").glob("*/manifest.json")
    whats = {json.loads(m.read_text())["meta"].get("what") for m in manifests}
    layer, seeds = pipeline.profile.probe.layer, f"probe seed {pipeline.profile.probe.seed}"
    assert f"sweep heads:random-init (block {layer}), all, {seeds}, subset seed {pipeline.profile.sweep.seed}" in whats


def test_a_toy_control_is_one_registration(tmp_path, pipeline):
    """#35: a new control is one ``systems.register`` call plus its spec line; the resolver builds it from its
    recipe (a never-trained backbone with another initialisation seed) and the claim is decided against it."""
    from ssb import systems

    toy = systems.register(systems.System("toy", "random-init, initialisation seed 1", systems.RandomInit(seed=1)))
    try:
        verdict = evaluate(_spec(tmp_path, "toy"), pipeline, "smoke")
        (result,) = verdict.checks
        assert result.check.control == "toy" and result.verdict in ("holds", "fails", "inconclusive")
        assert result.value == pytest.approx(result.reference_value - result.control_value)
        assert pipeline.backbone(toy)[1] != pipeline.backbone("random-init")[1]  # its own seed, its own weights
        assert pipeline.token_probe_key(pipeline.profile.probe.layer, toy) != pipeline.token_probe_key(
            pipeline.profile.probe.layer, "random-init"
        )
    finally:
        systems.unregister("toy")
