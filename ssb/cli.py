"""The ``ssb`` command: train backbones, extract features, evaluate claims, write the report.

ssb train --profile cpu [--variant no-dropout]   pre-train (resumes from checkpoints)
ssb analyze --model DIR [--layer L] [--profile external] [--json] [--out DIR]   heads' and nodes' tables
ssb features --profile cpu [--layer L] [--model DIR]
ssb data fetch [--dir D] [--profile P]            the hub's Wikipedia paragraphs and FewRel, in the data layout
ssb claims --profile cpu                          verdict table
ssb reproduce --profile cpu [--retrain] [--model DIR] [--out DIR]
ssb reference --profile cpu [--variant V] [--probes|--fewrel|--short]   commit a backbone (its probes, its
                                                  FewRel classifier, its short in-run budget) into ssb/reference/
ssb readme [--report results/cpu/report.json]     regenerate README.md's results table from a report
ssb compare A B [--out DIR] [--strict] [--all]    two reports side by side, paired by item id

Exit status: 0 every check behaves as its spec says; 1 a check does not (a failure, an inconclusive check,
an unexpected pass; for compare: a verdict changed, or with --strict anything moved or a warning); 2 bad input or an
expected error (missing data, a malformed profile or spec, a full or read-only disk, a lock held too long,
Ctrl-C: one line on stderr, --debug adds the traceback); 3 an internal error (a bug: the traceback is
printed).
"""

from __future__ import annotations

import argparse
import errno
import sys
import traceback
from pathlib import Path

from . import __version__, systems
from .artifacts import ArtifactStore, stored_key
from .config import (
    VARIANTS,
    ConfigError,
    defaulted_sections,
    load_profile,
    profile_names,
    validate,
    variant,
    with_device,
)
from .paths import cache_dir, cache_root, data_dir, refuse_other_files

EXIT_OK, EXIT_CHECKS, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


class UsageError(ValueError):
    """A command-line option that cannot be used as given (the message names the option)."""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default="cpu", help=f"{', '.join(profile_names())}, or a TOML file (default: cpu)")
    parser.add_argument("--data-dir", default=None, help="local data folder (default: $SSB_DATA_DIR)")
    parser.add_argument("--cache-dir", default=None, help="artifact store (default: $SSB_CACHE_DIR or ~/.cache/ssb)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument(
        "--device", default=None, help="auto, cpu, cuda or cuda:N (default: the profile's runtime.device, auto)"
    )
    parser.add_argument(
        "--time-budget",
        default=None,
        metavar="DURATION",
        help="fit the whole run into this time (90s, 8m, 1h): pre-training steps and FewRel epochs are chosen "
        "from the step time measured here (runtime.time_budget_s)",
    )
    parser.add_argument(
        "--lock-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long to wait for another run building the same artifact (default: runtime.lock_timeout_s)",
    )


def _profile(args: argparse.Namespace):
    """The profile named by ``--profile``, with ``--device`` and ``--lock-timeout`` applied; a profile file that
    leaves sections out says so, with the backbone it then gets (nothing silently takes the paper's 768 wide)."""
    profile = with_device(load_profile(args.profile), getattr(args, "device", None))
    if missing := defaulted_sections(args.profile):
        b = profile.backbone
        print(
            f"[ssb] {args.profile} has no {', '.join(f'[{m}]' for m in missing)}: "
            f"{'they take' if len(missing) > 1 else 'it takes'} the paper's defaults "
            f"(backbone: {b.n_layers} blocks x {b.n_heads} heads, {b.hidden} wide, {b.max_len} positions)",
            flush=True,
        )  # on stdout, with the other notices: stderr keeps an error to its one line
    budget = getattr(args, "time_budget", None)
    if budget is not None:
        from .budget import parse_duration

        profile = profile.replace(runtime={"time_budget_s": parse_duration(budget)})
        validate(profile, f"--time-budget {budget}")
    timeout = getattr(args, "lock_timeout", None)
    if timeout is not None:
        profile = profile.replace(runtime={"lock_timeout_s": timeout})
        validate(profile, f"--lock-timeout {timeout:g}")
    return profile


def _store(args: argparse.Namespace, profile) -> ArtifactStore:
    """The artifact store of ``--cache-dir`` / ``SSB_CACHE_DIR`` (a file there is refused by ``cache_dir``)."""
    return ArtifactStore(cache_dir(args.cache_dir), lock_timeout_s=profile.runtime.lock_timeout_s)


def _pipeline(args: argparse.Namespace, model: str | None = None, profile=None):
    """``api.pipeline`` for the command's options (``profile``: one already read from ``--profile``)."""
    from .api import pipeline

    profile = profile if profile is not None else _profile(args)
    layer = getattr(args, "layer", None)
    if layer is not None:  # 0 and negative blocks are refused by validate, not skipped or wrapped around
        profile = profile.replace(probe={"layer": layer})
        validate(profile, f"--layer {layer}")
    return pipeline(
        profile,
        model or None,
        cache_dir=args.cache_dir,
        data_dir=args.data_dir,
        retrain=getattr(args, "retrain", False),
        progress=not args.quiet,
    )


def cmd_train(args: argparse.Namespace) -> int:
    """Pre-train a backbone, unless one is committed (by config hash, under any profile's name) or stored; what
    is about to be pre-trained is said first, after the data has been read."""
    from .config import backbone_key
    from .reference import StaleReference, find_reference
    from .train import distributed_rank, pretrain, pretraining_plan, store_key

    profile = variant(_profile(args), args.variant)
    store = _store(args, profile)
    where = f"backbone ({profile.name}, {args.variant})"
    if not args.retrain:
        try:
            committed = find_reference(profile, args.variant)
        except StaleReference:  # committed under this name with another config: this config is trained anew
            committed = None
        if committed is not None:
            print(
                f"{where}: {committed} (committed, backbone config hash {backbone_key(profile)}: reused, nothing "
                f"trained; --retrain trains it anew)"
            )
            return 0
    data = data_dir(args.data_dir)
    first = distributed_rank()[0] == 0  # under torchrun every process runs this: one notice, from rank 0
    if first and (args.retrain or store.lookup("backbone", store_key(profile, store, data)) is None):
        print(f"[ssb] {where}: pre-training {pretraining_plan(profile)}", flush=True)
    folder, reused = pretrain(profile, store, data, force=args.retrain, progress=not args.quiet)
    print(f"{where}: {folder} ({'reused from the store' if reused else 'trained'})")
    return 0


def cmd_features(args: argparse.Namespace) -> int:
    pl = _pipeline(args, args.model)
    bb, bb_id = pl.backbone()
    print(f"backbone: {bb} ({bb_id})")
    folder, key = pl.token_features(split="valid")
    meta = pl.store.meta("token-features", key)
    print(f"validation features (blocks {', '.join(map(str, pl.layers()))}): {folder}")
    print(
        f"  {meta['n_positions']} masked positions, "
        f"{meta['masked_positions_per_s']:.0f} masked positions/s when extracted"
    )
    _, probe_key = pl.token_probe()
    print(
        f"token probe (block {pl.profile.probe.layer}): {pl.store.lookup('token-probe', probe_key)}"
    )  # committed or cached
    print("timings (s):", pl.timings)
    return 0


def _notices_to_stderr(on: bool):
    """While ``on``: what the run prints on stdout (its [ssb] notices) goes to stderr instead."""
    import contextlib

    return contextlib.redirect_stdout(sys.stderr) if on else contextlib.nullcontext()


ANALYSIS_FILES = ("heads.csv", "nodes.csv", "subsets.csv", "curves.csv", "analysis.json")


def cmd_analyze(args: argparse.Namespace) -> int:
    """The per-head and per-node tables of one block of ``--model`` (or the profile's backbone)."""
    import json
    import time

    from .api import item_tables

    if args.profile is None:
        args.profile = "external" if args.model else "cpu"
    out = refuse_other_files(Path(args.out), ANALYSIS_FILES, "an analysis", UsageError) if args.out else None
    started = time.monotonic()
    with _notices_to_stderr(args.json):  # --json: stdout holds the one JSON object
        pl = _pipeline(args, args.model)
        what = str(pl.model_dir) if pl.model_dir else f"the {pl.profile.name} profile's backbone"
        if not args.quiet:
            print(
                f"[ssb] analysing {what}, block {pl.profile.probe.layer} (profile {pl.profile.name})", file=sys.stderr
            )
        result = item_tables(pl, str(pl.model_dir) if pl.model_dir else None)
    result.seconds = round(time.monotonic() - started, 1)
    if out is not None:
        result.to_csv(out)
        result.to_json(out / "analysis.json")
    if args.json:
        print(json.dumps(result.to_dict()))
        return EXIT_OK
    print(analysis_text(result, every_node=args.all))
    if out is not None:
        print(f"written: {', '.join(str(out / name) for name in ANALYSIS_FILES)}")
    return EXIT_OK


def analysis_text(result, every_node: bool = False, n_tokens: int = 8) -> str:
    """The terminal tables of an :class:`~ssb.api.Analysis`: every head, the nodes (the ten that recognise the
    most tokens, or all), and the curves against the number of nodes."""
    columns = ["n_pos", "apt", "random_guess", "diagonal_confidence", "accuracy"]

    def table(frame):
        shown = frame[columns].copy()
        strings = frame["token_strings"] if "token_strings" in frame else [[]] * len(frame)
        shown["tokens"] = [" ".join(t[:n_tokens]) + (" ..." if len(t) > n_tokens else "") for t in strings]
        return shown.to_string(float_format=lambda x: f"{x:.3g}")

    nodes = result.nodes
    top = nodes if every_node else nodes.sort_values("n_pos", ascending=False, kind="stable").head(10)
    which = "every node" if every_node else f"the 10 of {len(nodes)} that recognise the most tokens (--all: every node)"
    curves = result.curves[["n_pos", "apt", "random_guess", "diagonal_confidence"]]
    return "\n".join(
        [
            result.summary(),
            "",
            "heads (n_pos: tokens recognised; apt: mean accuracy per recognised token; tokens: the first of them)",
            table(result.heads),
            "",
            f"single nodes: {which}",
            table(top),
            "",
            "curves: the mean over node subsets against the number of nodes",
            curves.to_string(float_format=lambda x: f"{x:.3g}"),
        ]
    )


def cmd_data(args: argparse.Namespace) -> int:
    """``ssb data fetch``: the profile's Wikipedia paragraphs and FewRel from the hub, in its data layout."""
    import time

    from .data.common import hub_offline
    from .data.fetch import RECORD, fetch_data

    if hub_offline():
        raise UsageError("ssb data fetch reads the Hugging Face hub, which is switched off here (HF_HUB_OFFLINE)")
    target = Path(args.dir or (data_dir(None) or "ssb-data"))
    started = time.monotonic()
    for item in fetch_data(target, _profile(args), n_paragraphs=args.paragraphs):
        what = "kept" if item.kept else f"{item.records:,} records from {item.source}"
        print(f"{target / item.path}: {what}, {item.bytes:,} bytes uncompressed, sha256 {item.sha256}")
    print(f"recorded in {target / RECORD} ({time.monotonic() - started:.0f} s); now: export SSB_DATA_DIR={target}")
    return EXIT_OK


def _claims_dir(args: argparse.Namespace) -> Path:
    """``--claims`` (which must be a folder of specs: it is never silently replaced), else ./claims, else the
    checkout's claims/ beside the package (``ssb.api.claims_folder``)."""
    from .api import claims_folder

    return claims_folder(args.claims)


def _evaluate_all(pl, folder: Path):
    """Every claim with an expectation at the profile's tier: ``ssb.api.evaluate_all``, as from Python."""
    from .api import evaluate_all

    return evaluate_all(pl, folder)


def _summary(verdicts) -> str:
    from collections import Counter

    counts = Counter(c.outcome for v in verdicts for c in v.checks)
    skipped = sum(1 for v in verdicts if v.skipped)
    parts = [f"{counts[k]} {k}" for k in ("pass", "xfail", "FAIL", "INCONCLUSIVE", "XPASS", "MISPINNED") if counts[k]]
    return f"{len(verdicts)} claims, checks: " + ", ".join(parts) + (f"; {skipped} claims skipped" if skipped else "")


def cmd_claims(args: argparse.Namespace) -> int:
    import json

    from .claims import exit_code, verdict_table

    with _notices_to_stderr(args.json):  # --json: stdout holds the one JSON object
        verdicts = _evaluate_all(_pipeline(args, getattr(args, "model", None)), _claims_dir(args))
    if args.json:  # one JSON object: a row per check, as report.json's "checks", and the summary
        print(json.dumps({"checks": verdicts.rows(), "summary": _summary(verdicts)}))
    else:
        print(verdict_table(verdicts))
        print(_summary(verdicts))
    return exit_code(verdicts)


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .claims import exit_code, load_specs
    from .report import check_out, write_report
    from .run_result import collect

    folder = _claims_dir(args)
    load_specs(folder)
    if args.with_reference and not args.model:
        raise UsageError("--with-reference goes with --model (the profile's backbone is what runs without it)")
    if args.model and not args.with_reference:  # the model named is what the run, its report and status are about
        pl = _pipeline(args, args.model)
        named = Path(args.model).name if Path(args.model).expanduser().exists() else str(args.model).replace("/", "--")
        out = Path(args.out or f"results/{pl.profile.name}-{named}")  # a hub id by its name, not its snapshot
        check_out(out)  # before any work: a report that cannot be written is known now, not after an hour
        verdicts = _evaluate_all(pl, folder)
        path = write_report(verdicts, collect(verdicts, pl), out)
        print(f"{pl.model_dir}: {_summary(verdicts)}")
        print(f"report: {path}")
        return exit_code(verdicts)
    pl = _pipeline(args)
    out = Path(args.out or f"results/{pl.profile.name}")
    check_out(out)
    model_pl = _pipeline(args, args.model) if args.model else None
    verdicts = _evaluate_all(pl, folder)
    extra = {}
    if model_pl is not None:
        column = _evaluate_all(model_pl, folder)
        extra[args.model] = (column, collect(column, model_pl))
    path = write_report(verdicts, collect(verdicts, pl), out, extra)
    print(_summary(verdicts))
    for name, (column, _) in extra.items():
        print(f"{name}: {_summary(column)}")
    print(f"report: {path}")
    return exit_code(verdicts + [v for column, _ in extra.values() for v in column])


def cmd_readme(args: argparse.Namespace) -> int:
    from .report import update_readme

    changed = update_readme(Path(args.readme), Path(args.report))
    print(f"{args.readme}: results block {'updated' if changed else 'already up to date'} from {args.report}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .compare import check_out, compare, render, write

    if args.out:  # before comparing: a folder holding a user's files is refused with nothing written
        check_out(args.out)
    result = compare(args.a, args.b)
    print(render(result, every_item=args.all))
    for warning in result.warnings:
        print(f"ssb: warning: {warning}" + (" (fails under --strict)" if not args.strict else ""), file=sys.stderr)
    if args.out:
        print("written: " + ", ".join(str(p) for p in write(result, args.out)))
    doubtful = bool(result.moved or result.changed or result.warnings)
    return EXIT_CHECKS if result.verdict_changes or (args.strict and doubtful) else EXIT_OK


def probe_only() -> tuple[str, ...]:
    """The registered systems whose only trained part is their token probe: not a variant pre-trained at the
    profile's budget (a never-trained backbone, or the reference's own read through another probe)."""
    return tuple(
        name
        for name, s in systems.SYSTEMS.items()
        if not isinstance(s.backbone, systems.Pretrained) or s.probe != systems.TOKEN_PROBE
    )


def cmd_reference(args: argparse.Namespace) -> int:
    """Commit a backbone trained into the store; with ``--probes``, also its token probes (a backbone that is
    already committed, e.g. trained on another machine and copied in, gets its probes alone)."""
    from .reference import export_reference, find_reference
    from .train import store_key

    if args.fewrel:
        if args.probes or args.short:
            raise UsageError("--fewrel commits a FewRel classifier alone: not with --probes or --short")
        return _commit_fewrel(args)
    if args.short:
        if args.probes:
            raise UsageError("--short commits a pre-trained backbone alone: not with --probes")
        if args.variant in probe_only():
            raise UsageError(f"--short: --variant {args.variant} is a control with no pre-training of its own")
        return _commit_short(args)
    if args.variant in probe_only():  # a control built in the run (seeded initialisation, or the reference's own
        if not args.probes:  # backbone with a control-task probe): only its probe is committed
            raise UsageError(f"--variant {args.variant} has no trained backbone of its own to commit: add --probes")
        return _commit_probes(args)
    profile = variant(_profile(args), args.variant)
    store = _store(args, profile)
    trained = store.lookup("backbone", store_key(profile, store, data_dir(args.data_dir)))
    if trained is not None:
        command = f"ssb train --profile {args.profile}" + (
            f" --variant {args.variant}" if args.variant != "reference" else ""
        )
        print(f"reference: {export_reference(trained, profile, args.variant, command)}")
    elif args.probes and (committed := find_reference(profile, args.variant)) is not None:
        print(f"reference: {committed} (already committed; adding its token probes)")
    else:
        raise UsageError(
            f"no trained backbone for {args.profile}/{args.variant}; run `ssb train --profile "
            f"{args.profile} --variant {args.variant}` first"
        )
    return _commit_probes(args) if args.probes else 0


def _commit_fewrel(args: argparse.Namespace) -> int:
    """Fine-tune (if missing) and commit a backbone's FewRel classifier, keyed by its recipe and this
    machine's runtime (a GPU's bf16 fine-tuning is another key, and trains in its run)."""
    from .experiments.fewrel import fewrel_model
    from .reference import export_artifact

    fine_tuned = [n for n, s in systems.SYSTEMS.items() if s.fewrel is not None and s.fewrel.finetune]
    if args.variant not in fine_tuned:
        raise UsageError(f"--fewrel: --variant must be one of {', '.join(fine_tuned)}, got {args.variant}")
    pl = _pipeline(args)
    folder, _ = fewrel_model(pl, args.variant)
    print(
        f"FewRel classifier ({args.variant}): {export_artifact(pl.store, 'fewrel', stored_key(folder), args.profile)}"
    )
    return 0


def _commit_short(args: argparse.Namespace) -> int:
    """Pre-train (if missing) and commit a variant at the symmetric comparison's short in-run budget
    (``[variants]`` symmetric_steps, ...): keyed like any store entry by its recipe, the corpus, the reference's
    vocabulary and this machine's runtime, so a run whose key differs (another budget, a GPU) trains its own."""
    from .reference import export_artifact

    pl = _pipeline(args)
    folder, _ = pl.backbone(systems.short(args.variant))  # the store's folder is named by its key
    where = export_artifact(pl.store, "backbone", stored_key(folder), args.profile)
    print(f"short backbone ({args.variant}, {pl.profile.variants.symmetric_steps} steps): {where}")
    return 0


def _commit_probes(args: argparse.Namespace) -> int:
    """Train (if missing) and commit the token probes of a system: every block of the reference's, the
    probe's block of any other system's, for every seed run of ``[seeds]`` (``ssb/seeds.py``: each run's
    probe has its own seed and its own masking of the training features). The control-task probe serves
    the report's probe-selectivity section alone, which reads run 0: its other runs are not trained."""
    from .reference import export_artifact

    pl = _pipeline(args)
    layers = pl.layers() if args.variant == "reference" else (pl.profile.probe.layer,)
    runs = 1 if args.variant == "control-task" else pl.n_seed_runs
    for k in range(runs):
        run = pl.seed_run(k)
        for layer in layers:
            run.token_probe(layer, args.variant)  # trains it if missing
            where = export_artifact(pl.store, "token-probe", run.token_probe_key(layer, args.variant), args.profile)
            print(f"token probe (block {layer}{f', seed run {k}' if k else ''}): {where}", flush=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ssb", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    parser.add_argument("--version", action="version", version=f"ssb {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="pre-train the profile's MLM backbone (resumes from checkpoints)")
    _common(train)
    train.add_argument("--variant", default="reference", choices=list(VARIANTS), help="backbone variant")
    train.add_argument("--retrain", action="store_true", help="train again even if the store has it")
    train.set_defaults(func=cmd_train)
    features = sub.add_parser("features", help="extract block-L features and train the token probe")
    _common(features)
    features.add_argument("--layer", type=int, default=None, help="1-based block (default: the profile's)")
    features.add_argument(
        "--model",
        default=None,
        help="a local BERT-family checkpoint (BERT, RoBERTa, ELECTRA, XLM-R) instead of the profile's backbone",
    )
    features.set_defaults(func=cmd_features)
    analyze = sub.add_parser("analyze", help="the per-head and per-node tables of one block of a model")
    _common(analyze)
    analyze.set_defaults(profile=None)  # external with --model (its recipe for someone else's model), else cpu
    analyze.add_argument("--model", default=None, help="a local BERT-family checkpoint or a cached hub id")
    analyze.add_argument("--layer", type=int, default=None, help="1-based block (default: the profile's)")
    analyze.add_argument("--json", action="store_true", help="print the whole analysis as one JSON object")
    analyze.add_argument("--all", action="store_true", help="print every node, not the ten that recognise most")
    analyze.add_argument("--out", default=None, help="also write heads/nodes/subsets/curves.csv and analysis.json")
    analyze.set_defaults(func=cmd_analyze)
    data = sub.add_parser("data", help="ssb data fetch: write the corpus and FewRel from the hub into a data folder")
    data.add_argument("action", choices=["fetch"], help="fetch: the hub's files in the profile's data layout")
    data.add_argument("--dir", default=None, help="the data folder (default: $SSB_DATA_DIR, else ./ssb-data)")
    data.add_argument("--profile", default="cpu", help="whose corpus.path / fewrel.path to write (default: cpu)")
    data.add_argument("--paragraphs", type=int, default=None, help="paragraphs to stream (default: the profile's)")
    data.set_defaults(func=cmd_data)
    claims = sub.add_parser("claims", help="evaluate every claim and print the verdict table")
    _common(claims)
    claims.add_argument("--retrain", action="store_true", help="retrain every backbone from scratch")
    claims.add_argument("--claims", default=None, help="folder of claim specs (default: ./claims)")
    claims.add_argument(
        "--model", default=None, help="judge a BERT-family checkpoint instead of the profile's backbone"
    )
    claims.add_argument("--json", action="store_true", help="one JSON object: a row per check and the summary")
    claims.set_defaults(func=cmd_claims)
    reproduce = sub.add_parser("reproduce", help="evaluate every claim and write the report with figures")
    _common(reproduce)
    reproduce.add_argument("--retrain", action="store_true", help="retrain every backbone from scratch")
    reproduce.add_argument(
        "--model", default=None, help="judge a BERT-family checkpoint (BERT, RoBERTa, ELECTRA, XLM-R): its report"
    )
    reproduce.add_argument(
        "--with-reference", action="store_true", help="with --model: the profile's backbone too, the model a column"
    )
    reproduce.add_argument(
        "--out", default=None, help="report folder (default: results/<profile>, with --model results/<profile>-<DIR>)"
    )
    reproduce.add_argument("--claims", default=None, help="folder of claim specs (default: ./claims)")
    reproduce.set_defaults(func=cmd_reproduce)
    readme = sub.add_parser("readme", help="regenerate the README's results table from a report.json")
    readme.add_argument("--report", default="results/cpu/report.json", help="default: results/cpu/report.json")
    readme.add_argument("--readme", default="README.md", help="default: README.md")
    readme.set_defaults(func=cmd_readme)
    compare = sub.add_parser(
        "compare", help="two reports side by side: checks, per-item paired differences, verdict changes"
    )
    compare.add_argument("a", help="report folder (or report.json) of run A, e.g. before a change")
    compare.add_argument("b", help="report folder (or report.json) of run B, e.g. after it")
    compare.add_argument("--out", default=None, help="also write compare.json, compare.txt and compare.png here")
    compare.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 also when anything moved or changed, or a warning stands (other profiles, no pairs, one run)",
    )
    compare.add_argument("--all", action="store_true", help="print every item row, not only those that moved")
    compare.set_defaults(func=cmd_compare)
    reference = sub.add_parser("reference", help="commit a trained backbone as the profile's reference")
    _common(reference)
    reference.add_argument(
        "--variant",
        default="reference",
        choices=[*VARIANTS, *probe_only()],
        help="backbone variant, or a control built in the run (random-init, control-task: with --probes, its "
        "token probe only)",
    )
    reference.add_argument("--probes", action="store_true", help="also commit the variant's token probes")
    reference.add_argument(
        "--fewrel", action="store_true", help="commit the variant's FewRel classifier (reference, no-dropout)"
    )
    reference.add_argument(
        "--short",
        action="store_true",
        help="commit the variant pre-trained at the symmetric comparison's short in-run budget ([variants])",
    )
    reference.set_defaults(func=cmd_reference)
    return parser


def _quiet() -> None:
    """--quiet: no progress bars or loss dicts from transformers, only warnings that matter."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _expected_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean bad input or a missing prerequisite: one line, exit 2 (``--debug``: traceback)."""
    from .artifacts import LockTimeout
    from .budget import BudgetError
    from .claims import MeasureError, SpecError, TierError
    from .compare import CompareError
    from .data import DataError
    from .device import DeviceError
    from .model import CheckpointError
    from .reference import MissingReference, StaleReference
    from .report import ReadmeError, ReportError
    from .tokenizer import TokenizerError
    from .train import Interrupted

    return (
        UsageError,
        ConfigError,
        CompareError,
        BudgetError,
        SpecError,
        TierError,
        MeasureError,
        DataError,
        DeviceError,
        CheckpointError,
        TokenizerError,
        MissingReference,
        StaleReference,
        Interrupted,
        LockTimeout,
        ReadmeError,
        ReportError,
    )


# What an OSError from the environment (not from a bug) says to do, by errno.
ENVIRONMENT_ERRNOS = {
    errno.ENOSPC: "the disk is full: free space or point SSB_CACHE_DIR / --cache-dir / --out elsewhere",
    errno.EDQUOT: "the disk quota is exceeded: free space or point SSB_CACHE_DIR / --cache-dir / --out elsewhere",
    errno.EROFS: "the file system is read-only: point SSB_CACHE_DIR / --cache-dir / --out to a writable folder",
    errno.EACCES: "permission denied: the path named must be writable or readable by you",
    errno.EPERM: "permission denied: the path named must be writable or readable by you",
    errno.ENAMETOOLONG: "a path is too long for the file system: use a shorter --cache-dir / --out",
    errno.ENOTDIR: "a path that must be a folder is a file",
    errno.EISDIR: "a path that must be a file is a folder",
    errno.ENOENT: "a file or folder is missing",
    errno.EEXIST: "a file is in the way",
}
# The same conditions as native libraries (safetensors, tokenizers, torch) word them.
_ENVIRONMENT_WORDS = {
    "No space left on device": errno.ENOSPC,
    "(os error 28)": errno.ENOSPC,
    "Read-only file system": errno.EROFS,
    "(os error 30)": errno.EROFS,
    "File name too long": errno.ENAMETOOLONG,
}


def environment_errno(err: BaseException) -> int | None:
    """The errno of an environment condition behind ``err`` (through its causes), else None."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno in ENVIRONMENT_ERRNOS:
            return err.errno
        for words, number in _ENVIRONMENT_WORDS.items():
            if words in str(err):
                return number
        err = err.__cause__ or err.__context__
    return None


def environment_hint(err: BaseException, number: int, args: argparse.Namespace) -> str:
    """What to do about an environment condition, naming the folder at fault: the store's advice for a path in
    the store, the report's for a path in ``--out``, else the general one of ``ENVIRONMENT_ERRNOS``."""
    hint = ENVIRONMENT_ERRNOS[number]
    if number not in (errno.EACCES, errno.EPERM):
        return hint
    filename = None
    seen: set[int] = set()
    while err is not None and id(err) not in seen and filename is None:
        seen.add(id(err))
        filename = getattr(err, "filename", None)
        err = err.__cause__ or err.__context__
    if not filename:
        return hint
    path = Path(filename).absolute()
    out = getattr(args, "out", None)
    if out and (
        path == Path(out).absolute()
        or Path(out).absolute() in path.parents
        or path.name.startswith(f".{Path(out).name}.")
    ):
        return f"the output folder --out {out} must be writable: name one you own"
    store = cache_root(getattr(args, "cache_dir", None))  # where it is, without reading it (it may be the fault)
    if path == store or store in path.parents:
        return "the artifact store must be writable: set SSB_CACHE_DIR or --cache-dir to a folder you own"
    return f"{path} must be writable or readable by you"


def _one_line(err: BaseException, hint: str = "") -> str:
    message = " ".join(str(err).split()) or type(err).__name__
    return f"{message}{f' ({hint})' if hint else ''} [{type(err).__name__}; --debug shows the traceback]"


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit status follows the contract in the module docstring."""
    args = build_parser().parse_args(argv)
    if getattr(args, "quiet", False):
        _quiet()
    expected = _expected_errors()
    try:
        return args.func(args)
    except KeyboardInterrupt:
        if args.debug:
            traceback.print_exc()
        print(
            "ssb: interrupted; finished artifacts and training checkpoints are kept: the same command resumes "
            "[KeyboardInterrupt]",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    except expected as err:
        if args.debug:
            traceback.print_exc()
        kind = "configuration error: " if isinstance(err, ConfigError) else ""
        print(f"ssb: {kind}{_one_line(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as err:
        number = environment_errno(err)
        if number is not None:
            if args.debug:
                traceback.print_exc()
            print(f"ssb: {_one_line(err, environment_hint(err, number, args))}", file=sys.stderr)
            return EXIT_BAD_INPUT
        traceback.print_exc()
        print(
            f"ssb: internal error ({type(err).__name__}): a bug in ssb, not in the input; the traceback is above "
            f"(exit {EXIT_INTERNAL})",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
