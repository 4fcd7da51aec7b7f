"""Planted bugs (mutants) in training and measurement code, and whether the smoke claims catch them.

A mutant is a one-place edit of the package's source, of the kind a researcher could make by mistake. It is
applied to a copy of the installed package (the committed references linked, not copied) and the smoke
claims run on that copy in a subprocess: nothing in ``ssb`` knows about mutants, and the store keys see
the edited code as they would see a researcher's (``ssb/codekeys.py``). A mutant is *caught* when at least
one check's outcome differs from the unedited code's, or the run fails.

Run on a fresh store (every artifact built by the mutant's code) and on a warm one (the unedited code's
store: only what the edit re-keys is rebuilt). ``python -m tests.mutants --write results/mutants.md`` runs
them all on ``$SSB_DATA_DIR`` and writes the table; ``tests/slow/test_mutants.py`` runs them on the tests'
own corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    id: str
    what: str  # what it breaks, in a researcher's words
    file: str  # relative to the package
    old: str
    new: str
    count: int = 1  # occurrences of ``old`` that the edit replaces (all of them)


MUTANTS = (
    Mutant(
        "mlm-labels-shifted",
        "MLM labels shifted by one position in pre-training",
        "train.py",
        "    if pad_multiple(runtime) == 1:\n        return collator, collator",
        "    def shifted(features):\n"
        "        batch = collator(features)\n"
        "        batch['labels'] = torch.roll(batch['labels'], 1, dims=1)\n"
        "        return batch\n\n"
        "    if pad_multiple(runtime) == 1:\n        return collator, shifted",
    ),
    Mutant(
        "heads-tied-at-init",
        "every head's weights tied at initialisation (the symmetric start for every backbone)",
        "model.py",
        "    if cfg.symmetric_init:\n        symmetrize_heads(model)",
        "    if True:\n        symmetrize_heads(model)",
    ),
    Mutant(
        "trainer-lr-0",
        "learning rate 0 in pre-training and fine-tuning",
        "train.py",
        "        learning_rate=lr,",
        "        learning_rate=0.0,",
    ),
    Mutant(
        "features-zeroed",
        "the attention context read as zeros",
        "features.py",
        "            captured[layer] = inputs[0].detach()",
        "            captured[layer] = inputs[0].detach() * 0",
    ),
    Mutant(
        "dropout-in-extraction",
        "dropout left on during feature extraction",
        "features.py",
        "    model.eval()",
        "    model.train()",
        count=3,
    ),
    Mutant(
        "features-wrong-block",
        "features read from the block before the one asked for",
        "features.py",
        "blocks[layer - 1].attention.output.dense",
        "blocks[max(layer - 2, 0)].attention.output.dense",
    ),
    Mutant(
        "probe-shuffled-targets",
        "the token probe trained on shuffled targets",
        "token_artifacts.py",
        '            X, targets = train[f"layer{layer}"], train["ids"]',
        '            X, targets = train[f"layer{layer}"], train["ids"][torch.randperm(len(train["ids"]))]',
    ),
    Mutant(
        "mask-not-applied",
        "the silencing mask not applied in the masked product",
        "aperture.py",
        "first.weight.unsqueeze(0) * masks.to(X.device, X.dtype).unsqueeze(1)",
        "first.weight.unsqueeze(0) * torch.ones_like(masks).to(X.device, X.dtype).unsqueeze(1)",
    ),
    Mutant(
        "special-tokens-masked",
        "special tokens ([CLS], [SEP]) masked and counted in evaluation",
        "features.py",
        "            if not is_special:",
        "            if True:",
    ),
)

SCRIPT = """
import json, sys
from pathlib import Path
first = sys.argv[4] if len(sys.argv) > 4 else ""
if first:  # the edited copy ahead of the installed package (an editable install's finder too)
    sys.meta_path = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()]
    sys.path.insert(0, first)
import ssb
store, data, claims, profile = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[5]
verdicts = ssb.evaluate_claims(profile, cache_dir=store, data_dir=data, claims=claims, progress=False)
print(json.dumps({"package": str(Path(ssb.__file__).parent),
                  "outcomes": {f"{r['claim']}/{r['check']}": r["outcome"] for r in verdicts.rows() if r["check"]}}))
"""


def package_dir() -> Path:
    import ssb

    return Path(ssb.__file__).resolve().parent


def mutated_copy(mutant: Mutant, into: Path) -> Path:
    """A copy of the package with ``mutant`` applied (``into/ssb``); its folder to put first on the path."""
    package = package_dir()
    copy = into / "ssb"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("reference", "__pycache__"))
    (copy / "reference").symlink_to(package / "reference")
    path = copy / mutant.file
    source = path.read_text()
    found = source.count(mutant.old)
    if found != mutant.count:
        raise AssertionError(f"mutant {mutant.id}: {mutant.file} holds its edit {found} times, not {mutant.count}")
    path.write_text(source.replace(mutant.old, mutant.new))
    return into


def claim_outcomes(
    store: Path, data_dir: Path, first: Path | None = None, profile: str = "regression"
) -> dict[str, str] | str:
    """Every check's outcome at ``profile``'s tier (``claim/check``: pass, xfail, FAIL, ...), or the run's last
    error line."""
    argv = [sys.executable, "-c", SCRIPT, str(store), str(data_dir), str(ROOT / "claims"), str(first or ""), profile]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    run = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1800)
    if run.returncode != 0:
        lines = [line for line in run.stderr.strip().splitlines() if line.strip()]
        return f"error: {lines[-1][:200] if lines else run.returncode}"
    payload = json.loads(run.stdout.strip().splitlines()[-1])
    if first is not None and not payload["package"].startswith(str(first)):
        raise AssertionError(f"the edited copy did not run: {payload['package']}")
    return payload["outcomes"]


@dataclass(frozen=True)
class Catch:
    mutant: str
    store: str  # fresh or warm
    caught_by: tuple[str, ...]  # the checks whose outcome differs, or ("error: ...",)
    seconds: float

    @property
    def caught(self) -> bool:
        return bool(self.caught_by)


def summary(c: Catch) -> str:
    return f"{c.mutant} ({c.store}, {c.seconds:g} s): {'; '.join(c.caught_by) or 'not caught'}"


def differences(clean: dict[str, str], mutated: dict[str, str] | str) -> tuple[str, ...]:
    if isinstance(mutated, str):
        return (mutated,)
    checks = sorted(set(clean) | set(mutated))
    return tuple(
        f"{c} ({clean.get(c, 'absent')} -> {mutated.get(c, 'absent')})"
        for c in checks
        if clean.get(c) != mutated.get(c)
    )


def run_all(
    data_dir: Path,
    work: Path,
    mutants=MUTANTS,
    stores=("fresh", "warm"),
    profile: str = "regression",
    jobs: int = 1,
) -> tuple[dict[str, str], list[Catch]]:
    """The unedited code's outcomes (on the warm store it fills), then every mutant on each kind of store,
    ``jobs`` runs at a time (each a subprocess; runs on the warm store share it under the store's per-key
    locks, and a mutant's edit re-keys what it builds, so no run reads another mutant's artifacts)."""
    from concurrent.futures import ThreadPoolExecutor

    warm = work / "warm-store"
    clean = claim_outcomes(warm, data_dir, profile=profile)
    if isinstance(clean, str):
        raise AssertionError(f"the unedited code's {profile} claims failed to run: {clean}")

    def one(mutant: Mutant, kind: str) -> Catch:
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            first = mutated_copy(mutant, Path(tmp))
            store = warm if kind == "warm" else Path(tmp) / "store"
            started = time.monotonic()
            outcome = claim_outcomes(store, data_dir, first, profile)
            catch = Catch(mutant.id, kind, differences(clean, outcome), round(time.monotonic() - started, 1))
        print(summary(catch), file=sys.stderr, flush=True)  # progress: a line per run
        return catch

    runs = [(mutant, kind) for mutant in mutants for kind in stores]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        catches = list(pool.map(lambda run: one(*run), runs))
    return clean, catches


def markdown(clean: dict[str, str], catches: list[Catch], data: str, machine: str, profile: str) -> str:
    by = {(c.mutant, c.store): c for c in catches}
    stores = sorted({c.store for c in catches})
    rate = {s: sum(by[(m.id, s)].caught for m in MUTANTS if (m.id, s) in by) for s in stores}
    lines = [
        f"# Mutants: planted bugs against the `{profile}` claims",
        "",
        f"Generated by `python -m tests.mutants --profile {profile} --write results/mutants.md` (do not edit by hand):",
        "each mutant is a one-place edit of the package's source (`tests/mutants.py`), run in a copy of the package",
        f"on the claims at the `{profile}` profile's tier; caught when a check's outcome differs from the unedited",
        f"code's or the run fails. Data: {data}; machine: {machine}.",
        "",
        f"The unedited code's checks: {len(clean)} ({', '.join(f'{k} {v}' for k, v in sorted(clean.items()))}).",
        "",
        "Caught: " + "; ".join(f"{rate[s]} of {len(MUTANTS)} on a {s} store" for s in stores) + ".",
        "",
        "| mutant | what it breaks | " + " | ".join(f"{s} store: caught by" for s in stores) + " |",
        "|---|---|" + "---|" * len(stores),
    ]
    for m in MUTANTS:
        cells = []
        for s in stores:
            c = by.get((m.id, s))
            cells.append(
                "—" if c is None else ("; ".join(c.caught_by) if c.caught else "**not caught**") + f" ({c.seconds:g} s)"
            )
        lines.append(f"| `{m.id}` | {m.what} | " + " | ".join(cells) + " |")
    lines += ["", "A mutant no check catches is a reason for a new check, never for dropping the mutant.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", default=None, help="write the Markdown table here")
    parser.add_argument("--only", nargs="*", default=None, help="mutant ids (default: all)")
    parser.add_argument("--profile", default="regression", help="the profile whose tier's claims judge the mutants")
    parser.add_argument(
        "--jobs", type=int, default=1, help="runs at a time (each with its profile's build helpers, runtime.jobs)"
    )
    args = parser.parse_args(argv)
    data = os.environ.get("SSB_DATA_DIR")
    if not data:
        parser.error("set SSB_DATA_DIR to the data folder")
    mutants = [m for m in MUTANTS if args.only is None or m.id in args.only]
    with tempfile.TemporaryDirectory(prefix="ssb-mutants-") as work:
        clean, catches = run_all(Path(data), Path(work), mutants, profile=args.profile, jobs=args.jobs)
    for c in catches:
        print(summary(c), flush=True)
    if args.write:
        machine = (
            f"{os.cpu_count()} CPU cores, {args.jobs} run(s) at a time (`--jobs`), each with the threads and build "
            "helpers of the profile's `[runtime]`; each time below is one run's wall time"
        )
        data_name = "the project's data folder (SSB_DATA_DIR)"
        Path(args.write).write_text(markdown(clean, catches, data_name, machine, args.profile))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
