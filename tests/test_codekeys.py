"""Store keys that cover the code (ssb/codekeys.py): the record follows the code, comments and formatting do
not count, other code re-keys its kind and everything downstream, committed artifacts are left alone."""

import json

import pytest

from ssb import codekeys
from ssb.artifacts import ArtifactStore


def test_the_record_follows_the_code():
    """Fails while the code that builds an artifact kind differs from ssb/codekeys.json: bump the kind's version
    there if what it builds changed (its entries are rebuilt), else record the refactor:
    `python -m ssb.codekeys --record`."""
    record = codekeys.recorded()
    stale = {k: (record.get(k, {}).get("digest"), codekeys.own_digest(k)) for k in codekeys.ROOTS}
    stale = {k: v for k, v in stale.items() if v[0] != v[1]}
    assert not stale, f"code changed without its record (recorded, live): {stale}; see this test's docstring"


def test_as_recorded_at_version_0_keys_are_the_committed_ones():
    if any(entry.get("version", 0) for entry in codekeys.recorded().values()):
        pytest.skip("a kind's version was bumped: its keys carry the version on purpose")
    assert all(codekeys.code_tag(kind) is None for kind in codekeys.ROOTS)
    assert ArtifactStore(codekeys.RECORD.parent).entry_key("token-probe", "0123456789abcdef") == "0123456789abcdef"


def _module(tmp_path, monkeypatch, name, body):
    (tmp_path / f"{name}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    return codekeys.closure((f"{name}:f",))[f"{name}:f"]


def test_comments_docstrings_and_formatting_do_not_count_a_changed_line_does(tmp_path, monkeypatch):
    plain = _module(tmp_path, monkeypatch, "ck_plain", "def f(x):\n    return x + 1\n")
    dressed = _module(
        tmp_path, monkeypatch, "ck_dressed", 'def f(x):\n    """What f does."""\n\n    return (x +\n        1)  # one\n'
    )
    edited = _module(tmp_path, monkeypatch, "ck_edited", "def f(x):\n    return x + 2\n")
    assert plain == dressed != edited


def test_the_closure_reaches_what_the_roots_call():
    sweep = codekeys.closure(codekeys.ROOTS["token-sweep"])
    assert {"ssb.aperture:evaluate_subsets", "ssb.metrics:diagonal_metrics", "ssb.confusion:confusion_matrix"} <= set(
        sweep
    )
    backbone = codekeys.closure(codekeys.ROOTS["backbone"])
    assert {"ssb.model:build_mlm", "ssb.model:symmetrize_heads", "ssb.train:training_arguments"} <= set(backbone)
    assert not any(name.startswith("ssb.artifacts:") for name in backbone)  # keeping is not building
    assert backbone["ssb.train:N_EVAL_PARAGRAPHS"] == "500"  # a module constant decides as much as code
    features = codekeys.closure(codekeys.ROOTS["token-features"])  # through @torch.no_grad()'s wrapper too:
    assert {"ssb.features:capture_context", "ssb.features:one_at_a_time_copies"} <= set(features)
    assert "ssb.versions:SWEEP" in sweep


@pytest.fixture()
def edited_probe_code(monkeypatch):
    """As if the token probe's training code had been edited and not recorded."""
    live = codekeys.own_digest

    def digest(kind):
        return "0" * 16 if kind == "token-probe" else live(kind)

    monkeypatch.setattr(codekeys, "own_digest", digest)


def test_other_code_re_keys_its_kind_and_what_is_downstream_not_upstream(edited_probe_code):
    store = ArtifactStore(codekeys.RECORD.parent)
    key = "0123456789abcdef"
    assert store.entry_key("token-probe", key) != key and store.entry_key("token-sweep", key) != key
    assert store.entry_key("token-features", key) == key and store.entry_key("backbone", key) == key
    assert codekeys.changed("token-sweep") == ["token-probe"]


def test_a_committed_entry_of_other_code_is_not_read_and_says_so(committed_probe, capsys, monkeypatch):
    _, user, entry = committed_probe
    assert user.lookup("token-probe", "0123456789abcdef") == entry  # as recorded: read
    live = codekeys.own_digest
    monkeypatch.setattr(codekeys, "own_digest", lambda kind: "0" * 16 if kind == "token-probe" else live(kind))
    assert user.lookup("token-probe", "0123456789abcdef") is None
    assert "committed token-probe entries are not used here" in capsys.readouterr().err and entry.is_dir()

    def build(folder):
        (folder / "head.safetensors").write_bytes(b"new")
        return {}

    folder, reused = user.build("token-probe", "0123456789abcdef", build)
    meta = json.loads((folder / "manifest.json").read_text())["meta"]
    assert not reused and folder.name != "0123456789abcdef" and meta["code"]["live"] == {"token-probe": "0" * 16}


def test_committed_backbones_of_other_code_are_not_used(monkeypatch, capsys):
    from ssb.config import load_profile
    from ssb.reference import find_reference

    cpu = load_profile("cpu")
    assert find_reference(cpu) is not None
    live = codekeys.own_digest
    monkeypatch.setattr(codekeys, "own_digest", lambda kind: "0" * 16 if kind == "backbone" else live(kind))
    assert find_reference(cpu) is None
    assert "committed 'reference' backbones are not used" in capsys.readouterr().err


def test_the_digest_of_a_tree_is_the_same_on_every_python():
    """ast.dump's text differs between versions (3.12 adds type_params=[], 3.13 leaves out empty fields); the
    canonical form does not: this digest was the same under 3.10.13, 3.11.7, 3.12.1 and 3.13.0."""
    import ast
    import hashlib

    source = (
        "class A:\n    def f(self, x: int = 1, *args, **kw) -> int:\n"
        '        """doc"""\n        y = [i ** 2 for i in range(x) if i]\n'
        '        with open("p") as h:\n            return h.read() + f"{y!r:>3}"\n'
    )
    digest = hashlib.sha256(json.dumps(codekeys._canonical(ast.parse(source))).encode()).hexdigest()[:16]
    assert digest == "f113d547a6489b3b"


def test_a_raised_version_retires_the_committed_backbones_too(monkeypatch, capsys):
    from ssb.config import load_profile
    from ssb.reference import find_reference

    bumped = {k: {**v, "version": 1} if k == "backbone" else v for k, v in codekeys.recorded().items()}
    monkeypatch.setattr(codekeys, "recorded", lambda: bumped)
    assert codekeys.code_tag("backbone") is not None and find_reference(load_profile("cpu")) is None
    assert "a version in ssb/codekeys.json was raised" in capsys.readouterr().err


def test_an_artifact_of_other_code_is_committed_where_the_committed_store_finds_it(tmp_path, monkeypatch):
    from ssb import reference

    live = codekeys.own_digest
    monkeypatch.setattr(codekeys, "own_digest", lambda kind: "0" * 16 if kind == "token-probe" else live(kind))
    monkeypatch.setattr(reference, "ROOT", tmp_path / "reference")
    user = ArtifactStore(tmp_path / "user")

    def build(folder):
        (folder / "head.safetensors").write_bytes(b"weights")
        return {}

    folder, _ = user.build("token-probe", "0123456789abcdef", build)
    committed = reference.export_artifact(user, "token-probe", "0123456789abcdef", "mine")
    assert committed.name == folder.name != "0123456789abcdef"  # re-keyed once, as the store names it
    assert reference.committed_store("mine").lookup("token-probe", "0123456789abcdef") == committed
