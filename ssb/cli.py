"""The ``ssb`` command: train backbones, extract features, evaluate claims, write the report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .artifacts import ArtifactStore
from .config import VARIANTS, ConfigError, load_profile, variant
from .paths import cache_dir, data_dir


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default="cpu", help="smoke, cpu, paper, or a TOML file (default: cpu)")
    parser.add_argument("--data-dir", default=None, help="local data folder (default: $SSB_DATA_DIR)")
    parser.add_argument("--cache-dir", default=None, help="artifact store (default: $SSB_CACHE_DIR or ~/.cache/ssb)")


def cmd_train(args: argparse.Namespace) -> int:
    from .train import pretrain

    profile = variant(load_profile(args.profile), args.variant)
    store = ArtifactStore(cache_dir(args.cache_dir))
    folder, reused = pretrain(profile, store, data_dir(args.data_dir), force=args.retrain)
    print(f"backbone ({profile.name}, {args.variant}): {folder} ({'reused' if reused else 'trained'})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="pre-train the profile's MLM backbone (resumes from checkpoints)")
    _common(train)
    train.add_argument("--variant", default="reference", choices=list(VARIANTS), help="backbone variant")
    train.add_argument("--retrain", action="store_true", help="train again even if the store has it")
    train.set_defaults(func=cmd_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as err:
        print(f"ssb: configuration error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
