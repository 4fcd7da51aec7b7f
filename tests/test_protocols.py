"""The pipeline has every member of the protocols the measures and the claims engine are typed against:
``evaluate`` reads them directly (no stand-in tolerance), so a member the pipeline lacks fails here, not in a
cold claims run."""

import pytest

from ssb.protocols import Experiments, SeedRuns


def _members(protocol: type) -> set[str]:
    names = set()
    for klass in protocol.__mro__:
        if klass in (Experiments, SeedRuns):
            names |= {n for n in vars(klass) if not n.startswith("_")} | set(vars(klass).get("__annotations__", {}))
    return names


@pytest.mark.parametrize("protocol", [Experiments, SeedRuns], ids=lambda p: p.__name__)
def test_the_pipeline_has_every_member_of(protocol):
    from ssb.pipeline import Pipeline

    instance_fields = {"profile", "model_dir"}  # set by the constructor (dataclass fields)
    missing = sorted(n for n in _members(protocol) - instance_fields if not hasattr(Pipeline, n))
    assert not missing, f"Pipeline lacks {', '.join(missing)} of {protocol.__name__}"
    fields = set(getattr(Pipeline, "__dataclass_fields__", {}))
    assert instance_fields <= fields, sorted(instance_fields - fields)
