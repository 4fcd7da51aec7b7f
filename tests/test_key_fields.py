"""Store keys derive from the whole config they depend on: every field of the sections a key reads changes the
key, except the fields its module declares as not changing the artifact, and those do not change it. A new
config field fails here until it is keyed or declared."""

import dataclasses

import pytest

from ssb import systems
from ssb.artifacts import ArtifactStore
from ssb.config import backbone_key, load_profile
from ssb.experiments import fewrel
from ssb.resolver import Resolver
from ssb.token_artifacts import UNKEYED


def _other(value):
    """A different value of the same type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 2 + 0.5
    if isinstance(value, str):
        return value + "-other"
    if isinstance(value, tuple):
        return (*value, (value[-1] if value else 0) + 1)
    raise TypeError(f"no other value for {value!r}")


def _perturbed(profile, section, name):
    part = getattr(profile, section)
    return dataclasses.replace(profile, **{section: dataclasses.replace(part, **{name: _other(getattr(part, name))})})


@pytest.fixture
def resolver(tmp_path, monkeypatch):
    """A resolver whose backbone id and data digests are fixed: its keys are functions of its profile alone."""
    pl = Resolver(load_profile("smoke"), ArtifactStore(tmp_path), None, progress=False)
    monkeypatch.setattr(Resolver, "backbone", lambda self, system="reference": (tmp_path, "backbone-id"))
    monkeypatch.setattr(Resolver, "data_id", lambda self, section: f"{section}-digest")
    return pl


KEYS = {
    "token-features:train": (("corpus", "probe"), lambda pl: pl._features_key("reference", "train")),
    "token-features:valid": (("corpus", "probe"), lambda pl: pl._features_key("reference", "valid")),
    "token-probe": (("probe",), lambda pl: pl.token_probe_key(pl.profile.probe.layer)),
    "fewrel-sweep": (
        ("fewrel", "probe", "sweep"),
        lambda pl: fewrel.sweep_key(pl, systems.REFERENCE, "backbone-id"),
    ),
    "backbone": (("corpus", "tokenizer", "backbone", "pretrain"), lambda pl: backbone_key(pl.profile)),
}
DECLARED = {**UNKEYED, "fewrel-sweep": fewrel.SWEEP_UNKEYED, "backbone": {}}


@pytest.mark.parametrize("kind", KEYS)
def test_a_key_changes_with_every_field_it_does_not_declare(resolver, kind):
    sections, key_of = KEYS[kind]
    base_profile = resolver.profile
    base = key_of(resolver)
    wrong = []
    for section in sections:
        unkeyed = DECLARED[kind].get(section, ())
        for f in dataclasses.fields(getattr(base_profile, section)):
            resolver.profile = _perturbed(base_profile, section, f.name)
            changed = key_of(resolver) != base
            if changed == (f.name in unkeyed):
                wrong.append(f"{section}.{f.name} ({'declared unkeyed, but changes' if changed else 'not keyed'})")
    resolver.profile = base_profile
    assert not wrong, f"{kind}: " + "; ".join(wrong)


def test_the_declared_fields_exist():
    for kind, sections in DECLARED.items():
        for section, names in sections.items():
            fields = {f.name for f in dataclasses.fields(getattr(load_profile("smoke"), section))}
            assert set(names) <= fields, f"{kind}: {sorted(set(names) - fields)} are not fields of [{section}]"
