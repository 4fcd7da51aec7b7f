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
import sys
import traceback
from pathlib import Path

from . import __version__
from .cli_common import UsageError, _pipeline, _profile, _store, add_seed_options, with_backbone_seed, with_data_seed
from .cli_errors import _expected_errors, _one_line, environment_errno, environment_hint
from .cli_reference import cmd_reference, probe_only
from .config import (
    VARIANTS,
    ConfigError,
    profile_names,
    variant,
)
from .paths import data_dir, refuse_other_files

EXIT_OK, EXIT_CHECKS, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


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


def cmd_train(args: argparse.Namespace) -> int:
    """Pre-train a backbone, unless one is committed (by config hash, under any profile's name) or stored; what
    is about to be pre-trained is said first, after the data has been read."""
    from .config import backbone_key
    from .reference import StaleReference, find_reference
    from .train import distributed_rank, pretrain, pretraining_plan, store_key

    profile, seed = with_backbone_seed(variant(_profile(args), args.variant), args)
    profile, data_seed = with_data_seed(profile, args)
    store = _store(args, profile)
    which = "" if seed is None else f", backbone seed {seed}"
    which += "" if data_seed is None else f", data seed {data_seed}"
    where = f"backbone ({profile.name}, {args.variant}{which})"
    if not args.retrain:
        try:
            committed = find_reference(profile, args.variant, seed, data_seed)
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
    parts = [
        f"{counts[k]} {k}"
        for k in ("pass", "xfail", "FAIL", "INCONCLUSIVE", "XPASS", "MISPINNED", "MISDECLARED")
        if counts[k]
    ]
    from .verdicts import decided_line

    line = f"{len(verdicts)} claims, checks: " + ", ".join(parts) + (f"; {skipped} claims skipped" if skipped else "")
    return f"{line}; {decided_line(verdicts)}"


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
    add_seed_options(train)
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
    add_seed_options(reference)
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
