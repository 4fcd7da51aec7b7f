"""Systems as typed objects: one registry that the measures, the spec validation and the CLI read, so a new
control is one registration."""

import pytest

from ssb import systems
from ssb.claims import SpecError, load_spec
from ssb.measures import MEASURES
from ssb.systems import FewRelPath, Pretrained, RandomInit, Short, System

SPEC = """id = "x"
paper = "§3"
quote = "q"
statement = "s"
measure = "head-specialisation"
[expect.cpu]
checks = [{{ quantity = "jaccard_mean", op = "<", value = 0, control = "{control}" }}]
"""


@pytest.fixture
def toy():
    system = systems.register(System("toy", "a toy control: another initialisation seed", RandomInit(seed=1)))
    yield system
    systems.unregister("toy")


def test_a_registered_control_is_a_control_of_every_token_measure_and_of_the_specs(tmp_path, toy):
    assert "toy" in systems.token_controls() and "toy" not in systems.fewrel_controls()
    assert "toy" in MEASURES["head-specialisation"].systems
    assert "toy" not in MEASURES["finetune-crossover"].systems  # no FewRel path: not a label control
    (tmp_path / "x.toml").write_text(SPEC.format(control="toy"))
    assert load_spec(tmp_path / "x.toml").expect["cpu"].checks[0].control == "toy"


def test_the_claims_that_compare_blocks_are_measured_on_the_controls_with_probes_at_every_block(toy):
    """depth-prominence reads a token probe at every block of ``probe.depth_layers``: on a control, those are
    committed for random-init alone (a toy control registered without them is not measured, rather than having
    them trained in the run), and symmetric, which has its probe's block only, is not measured either."""
    assert MEASURES["depth-prominence"].systems == ("random-init",)
    assert "toy" in MEASURES["head-specialisation"].systems and "symmetric" in MEASURES["head-specialisation"].systems
    deep = systems.register(
        System("toy-deep", "a toy control with every block's probes", RandomInit(seed=2), all_blocks=True)
    )
    try:
        assert MEASURES["depth-prominence"].systems == ("random-init", "toy-deep")
    finally:
        systems.unregister(deep.name)


def test_an_unregistered_control_is_refused_naming_the_controls(tmp_path):
    (tmp_path / "x.toml").write_text(SPEC.format(control="toy"))
    with pytest.raises(SpecError, match=r"x.toml.*'toy'.*random-init"):
        load_spec(tmp_path / "x.toml")


def test_lookup_by_name_and_short_systems():
    assert systems.get("random-init").backbone == RandomInit()
    assert systems.get(systems.REFERENCE) is systems.REFERENCE
    short = systems.get("short:symmetric")
    assert short.backbone == Short("symmetric") and short.name == systems.SHORT + "symmetric" and short.own_variant
    assert systems.get("control-task").features_of == "reference"  # it reads the reference's features
    assert not systems.get("random-init").own_variant and systems.get("no-dropout").own_variant
    with pytest.raises(systems.UnknownSystem, match="no system 'nope': choose one of reference"):
        systems.get("nope")


def test_other_initial_conditions_are_systems_by_name():
    seed = systems.get("init-seed:2")
    assert seed == systems.init_seed(2) and seed.backbone == Pretrained(seed=2) and seed.backbone != Pretrained()
    assert seed.own_variant and not seed.token_control and seed.features_of == "init-seed:2"
    assert systems.get("reference").backbone.seed is None
    with pytest.raises(systems.UnknownSystem, match="takes a whole number"):
        systems.get("init-seed:two")
    with pytest.raises(ValueError, match="kept for systems made by name"):
        systems.register(System("init-seed:9", "x"))
    order = systems.get("data-order:3")
    assert order == systems.data_order(3) and order.backbone == Pretrained(data_seed=3) and order.backbone.seed is None
    with pytest.raises(ValueError, match="kept for systems made by name"):
        systems.register(System("data-order:9", "x"))


def test_a_system_is_validated_when_made_and_registered(toy):
    with pytest.raises(ValueError, match="registered already"):
        systems.register(System("toy", "again"))
    with pytest.raises(ValueError, match="no variant 'wide'"):
        System("x", "x", Pretrained("wide"))
    with pytest.raises(ValueError, match="probe must be"):
        System("x", "x", probe="shuffled")
    with pytest.raises(ValueError, match="needs a FewRel path"):
        System("x", "x", fewrel_control=True)
    with pytest.raises(ValueError, match="kept for systems made by name"):
        systems.register(System("short:x", "x"))
    assert System("x", "x", fewrel=FewRelPath("x"), fewrel_control=True).fewrel_control


def test_the_cli_offers_the_registered_probe_only_controls(toy):
    from ssb.cli import probe_only

    assert {"random-init", "control-task", "toy"} <= set(probe_only())
    assert "no-dropout" not in probe_only() and "reference" not in probe_only()
