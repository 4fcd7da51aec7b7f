"""What the ``ssb`` commands share: the usage error, and the profile, store and pipeline of a command's
options (``ssb/cli.py``)."""

from __future__ import annotations

import argparse

from .artifacts import ArtifactStore
from .config import defaulted_sections, load_profile, validate, with_device
from .paths import cache_dir


class UsageError(ValueError):
    """A command-line option that cannot be used as given (the message names the option)."""


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


def with_backbone_seed(profile, args: argparse.Namespace):
    """``profile`` with ``--backbone-seed`` applied (other initial conditions of its recipe, [seeds] backbone),
    and that seed or None; the profile's own seed, and a variant other than the reference, are refused."""
    seed = getattr(args, "backbone_seed", None)
    if seed is None:
        return profile, None
    if seed < 0:
        raise UsageError(f"--backbone-seed must be a whole number >= 0, got {seed}")
    if getattr(args, "variant", "reference") != "reference":
        raise UsageError("--backbone-seed: other initial conditions are the reference recipe's (--variant reference)")
    if seed == profile.backbone.seed:
        raise UsageError(
            f"--backbone-seed {seed} is the profile's own backbone.seed (its reference): name another seed, or "
            "leave the option out"
        )
    return profile.replace(backbone={"seed": seed}), seed


def with_data_seed(profile, args: argparse.Namespace):
    """``profile`` with ``--data-seed`` applied (the reference's initial conditions trained on another order of
    the paragraphs, [seeds] data_order), and that seed or None; with another variant or ``--backbone-seed``
    it is refused."""
    seed = getattr(args, "data_seed", None)
    if seed is None:
        return profile, None
    if seed < 0:
        raise UsageError(f"--data-seed must be a whole number >= 0, got {seed}")
    if getattr(args, "variant", "reference") != "reference" or getattr(args, "backbone_seed", None) is not None:
        raise UsageError(
            "--data-seed: another order of the paragraphs is the reference's own initialisation (--variant "
            "reference, no --backbone-seed)"
        )
    return profile.replace(backbone={"data_seed": seed}), seed


def add_seed_options(parser: argparse.ArgumentParser) -> None:
    """``--backbone-seed`` and ``--data-seed``: a backbone of ``[seeds] backbone`` or ``data_order``."""
    parser.add_argument(
        "--backbone-seed",
        type=int,
        default=None,
        help="other initial conditions of the recipe ([seeds] backbone): its own backbone, committed beside "
        "the profile's as <variant>-seed<n>",
    )
    parser.add_argument(
        "--data-seed",
        type=int,
        default=None,
        help="the recipe's own initial conditions on another order of the paragraphs ([seeds] data_order): its "
        "own backbone, committed beside the profile's as <variant>-order<n>",
    )
