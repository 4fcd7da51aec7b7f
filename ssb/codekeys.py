"""Store keys that cover the code: an artifact built by other code is never reused.

A store key hashes the config and the data an artifact depends on. The code that builds it counts too: a
researcher who changes the training code and runs the claims again must not read what the old code built.
Each artifact kind has *roots*, the ssb functions that build it (``ROOTS``); its code is the closure of the
ssb functions and classes they reach (names and ``module.attribute`` references, resolved in their modules),
each normalised to its AST without docstrings, so comments and formatting do not count; the modules that
only keep, key, show or report artifacts (``NOT_BUILDING``) are left out. A kind's digest
joins those of the kinds upstream of it (``UPSTREAM``): code that changes the features re-keys the probes
read from them.

``ssb/codekeys.json`` records each kind's digest and version. While the live code matches the record, keys
are what they were (committed artifacts stay valid), with the version joined once it is above 0. When it
does not (an edit not yet recorded, a planted bug), the store keys that kind's entries, and those
downstream, by the live digest: the old entries are left alone and new ones are built.
``tests/test_codekeys.py`` fails while the record is behind the code; then either bump the kind's version
(what it builds changed: every entry of it is rebuilt) or record the new digest (a refactor that builds
the same thing): ``python -m ssb.codekeys --record``.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import inspect
import json
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

RECORD = Path(__file__).with_name("codekeys.json")

# kind -> the functions (module:qualified name) whose code builds it
ROOTS: dict[str, tuple[str, ...]] = {
    "tokenizer": ("ssb.train:tokenizer_artifact",),
    "backbone": ("ssb.train:pretrain",),
    "random-backbone": ("ssb.backbones:Backbones.random_backbone",),
    "token-features": ("ssb.token_artifacts:TokenArtifacts.token_features",),
    "token-probe": ("ssb.token_artifacts:TokenArtifacts._token_probe",),
    "token-sweep": (
        "ssb.experiments.common:token_sweep",
        "ssb.resolver:Resolver.sweep",
        "ssb.resolver:Resolver.prediction_matrix",
        "ssb.resolver:Resolver.predictions",
    ),
    "head-correctness": ("ssb.experiments.heads:head_correctness", "ssb.resolver:Resolver.prediction_matrix"),
    "head-confusion": ("ssb.experiments.heads:head_confusion", "ssb.resolver:Resolver.prediction_matrix"),
    "fewrel": ("ssb.finetune:finetune_fewrel",),
    "fewrel-features": ("ssb.experiments.fewrel:cls_features",),
    "fewrel-sweep": ("ssb.experiments.fewrel:_fewrel", "ssb.experiments.fewrel:label_sweeps"),
}
# kind -> the kinds whose artifacts it is built from
UPSTREAM: dict[str, tuple[str, ...]] = {
    "backbone": ("tokenizer",),
    "token-features": ("backbone", "random-backbone"),
    "token-probe": ("token-features",),
    "token-sweep": ("token-probe",),
    "head-correctness": ("token-probe",),
    "head-confusion": ("token-probe",),
    "fewrel": ("backbone", "random-backbone"),
    "fewrel-features": ("fewrel",),
    "fewrel-sweep": ("fewrel-features",),
}


def _resolve(name: str) -> Any:
    module_name, _, qualname = name.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


# modules whose code decides where and how artifacts are kept, keyed, shown or reported, not what they hold
NOT_BUILDING = (
    "ssb.artifacts",
    "ssb.codekeys",
    "ssb.config",
    "ssb.environment",
    "ssb.fingerprint",
    "ssb.progress",
    "ssb.reference",
    "ssb.sections",
)


def _is_ours(obj: Any) -> bool:
    module = getattr(obj, "__module__", "") or ""
    return (
        (inspect.isfunction(obj) or inspect.isclass(obj)) and module.startswith("ssb.") and module not in NOT_BUILDING
    )


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(getattr(body[0], "value", None), ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return tree


# fields that some Python versions add with an empty value (3.12: type_params) or that carry no code
SKIPPED_FIELDS = ("type_params", "type_comment", "kind")


def _canonical(node: Any) -> Any:
    """A node as nested lists of its type and non-empty fields, the same on every Python version
    (``ast.dump``'s text is not: 3.12 adds ``type_params=[]``, 3.13 leaves out empty fields)."""
    if isinstance(node, ast.AST):
        fields = []
        for name in node._fields:
            value = getattr(node, name, None)
            if name in SKIPPED_FIELDS or value is None or value == []:
                continue
            fields.append([name, _canonical(value)])
        return [type(node).__name__, fields]
    if isinstance(node, list):
        return [_canonical(item) for item in node]
    return repr(node)


def _tree(obj: Any) -> ast.AST:
    return _strip_docstrings(ast.parse(textwrap.dedent(inspect.getsource(obj))))


# receivers whose methods a call names by attribute: ``self`` (the method's own class) and the pipeline that
# experiments receive as ``pl``
RECEIVERS = {"pl": "ssb.pipeline:Pipeline", "pipeline": "ssb.pipeline:Pipeline"}


def _namespace(obj: Any) -> dict[str, Any]:
    """The globals ``obj``'s code names resolve in: its module's, through any decorator's wrapper
    (``@torch.no_grad()`` wraps a function in one whose ``__globals__`` are torch's)."""
    inner = inspect.unwrap(obj)
    return getattr(inner, "__globals__", None) or vars(sys.modules[inner.__module__])


def _constants(obj: Any, tree: ast.AST) -> dict[str, str]:
    """The module-level constants (UPPER_CASE names bound to numbers, strings or tuples of them) that ``obj``'s
    code names, ``{module:NAME: repr}``, bare or through an ssb module (``versions.SWEEP``):
    ``N_EVAL_PARAGRAPHS = 500`` decides what is built as much as code."""
    namespace = _namespace(obj)
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id.isupper() and node.id in namespace:
            where, name, value = obj.__module__, node.id, namespace[node.id]
        elif isinstance(node, ast.Attribute) and node.attr.isupper() and isinstance(node.value, ast.Name):
            owner = namespace.get(node.value.id)
            if not (isinstance(owner, types.ModuleType) and owner.__name__.startswith("ssb")):
                continue
            where, name, value = owner.__name__, node.attr, getattr(owner, node.attr, None)
        else:
            continue
        if isinstance(value, (int, float, str, bytes, tuple)):
            out[f"{where}:{name}"] = repr(value)
    return out


def _self_class(owner: type) -> type:
    """The class ``self`` is in a method of ``owner``: the pipeline's, when ``owner`` is one of the parts it is
    made of (``self.backbone`` in the token side is the backbone side's), else ``owner``."""
    pipeline = _resolve(RECEIVERS["pl"])
    return pipeline if issubclass(pipeline, owner) else owner


def _references(obj: Any, tree: ast.AST) -> list[Any]:
    """The ssb functions and classes that ``obj``'s code names (``f``, ``module.f``, ``self.f``, ``pl.f``),
    resolved in its module."""
    namespace = _namespace(obj)
    owner_class = None
    if "." in obj.__qualname__ and "<locals>" not in obj.__qualname__:
        owner_class = _resolve(f"{obj.__module__}:{obj.__qualname__.rsplit('.', 1)[0]}")
    found = []
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.Name):
            target = namespace.get(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            owner = namespace.get(node.value.id)
            if node.value.id == "self" and owner_class is not None:
                target = inspect.getattr_static(_self_class(owner_class), node.attr, None)
            elif node.value.id in RECEIVERS:
                target = inspect.getattr_static(_resolve(RECEIVERS[node.value.id]), node.attr, None)
            elif isinstance(owner, types.ModuleType) and owner.__name__.startswith("ssb"):
                target = getattr(owner, node.attr, None)
        if isinstance(target, property):
            target = target.fget
        if _is_ours(target):
            found.append(target)
    return found


def closure(names: tuple[str, ...]) -> dict[str, str]:
    """``{module:qualname: digest of its normalised AST}`` of the roots and every ssb function or class their
    code reaches, and ``{module:NAME: repr}`` of the module constants they name."""
    out: dict[str, str] = {}
    todo = [_resolve(name) for name in names]
    while todo:
        obj = todo.pop()
        label = f"{obj.__module__}:{obj.__qualname__}"
        if label in out:
            continue
        tree = _tree(obj)
        out[label] = hashlib.sha256(json.dumps(_canonical(tree)).encode()).hexdigest()[:16]
        out.update(_constants(obj, tree))
        todo.extend(_references(obj, tree))
    return out


@functools.cache
def own_digest(kind: str) -> str:
    """The digest of the code of ``kind``'s own roots and what they reach (not its upstream kinds')."""
    parts = closure(ROOTS[kind])
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


@functools.cache
def _recorded(path: Path) -> str:
    return path.read_text() if path.is_file() else "{}"


def recorded() -> dict[str, dict[str, Any]]:
    """``{kind: {"digest": ..., "version": ...}}`` of ``ssb/codekeys.json`` (read once a process)."""
    return json.loads(_recorded(RECORD))


def lineage(kind: str) -> list[str]:
    """``kind`` and every kind upstream of it, each once, upstream first."""
    out: list[str] = []
    for parent in UPSTREAM.get(kind, ()):
        out += [k for k in lineage(parent) if k not in out]
    return [*out, kind]


def changed(kind: str) -> list[str]:
    """The kinds of ``kind``'s lineage whose live code differs from the record (empty: as recorded)."""
    record = recorded()
    return [k for k in lineage(kind) if record.get(k, {}).get("digest") != own_digest(k)]


def code_tag(kind: str) -> str | None:
    """What joins a store key of ``kind`` for its code: None while every kind of its lineage is as recorded at
    version 0 (the keys committed artifacts have); else the versions, and the live digest of what changed."""
    if kind not in ROOTS:
        return None
    record = recorded()
    moved = changed(kind)
    versions = {k: record.get(k, {}).get("version", 0) for k in lineage(kind)}
    if not moved and not any(versions.values()):
        return None
    return json.dumps({"versions": versions, "live": {k: own_digest(k) for k in moved}}, sort_keys=True)


def record(path: Path = RECORD) -> dict[str, dict[str, Any]]:
    """Write every kind's live digest, keeping its version."""
    old = recorded()
    new = {kind: {"digest": own_digest(kind), "version": old.get(kind, {}).get("version", 0)} for kind in ROOTS}
    path.write_text(json.dumps(new, indent=1, sort_keys=True) + "\n")
    _recorded.cache_clear()
    return new


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--record"]:
        for kind, entry in record().items():
            print(f"{kind}: {entry['digest']} (version {entry['version']})")
        return 0
    moved = sorted({k for kind in ROOTS for k in changed(kind)})
    print("as recorded" if not moved else f"changed since ssb/codekeys.json: {', '.join(moved)}")
    return 1 if moved else 0


if __name__ == "__main__":
    raise SystemExit(main())
