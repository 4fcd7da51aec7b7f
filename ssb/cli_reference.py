"""``ssb reference``: commit a backbone, its token probes, its FewRel classifier or its short in-run backbone
into ``ssb/reference/`` (``ssb/reference.py``)."""

from __future__ import annotations

import argparse

from . import systems
from .artifacts import stored_key
from .cli_common import UsageError, _pipeline, _profile, _store, with_backbone_seed, with_data_seed
from .config import variant
from .paths import data_dir


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
    from .reference import export_reference, find_reference, train_flags
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
    profile, seed = with_backbone_seed(variant(_profile(args), args.variant), args)
    profile, data_seed = with_data_seed(profile, args)
    store = _store(args, profile)
    trained = store.lookup("backbone", store_key(profile, store, data_dir(args.data_dir)))
    flags = train_flags(args.profile, args.variant, seed, data_seed)
    if trained is not None:
        command = f"ssb train {flags}"
        print(f"reference: {export_reference(trained, profile, args.variant, command, seed=seed, data_seed=data_seed)}")
    elif args.probes and (committed := find_reference(profile, args.variant, seed, data_seed)) is not None:
        print(f"reference: {committed} (already committed; adding its token probes)")
    else:
        raise UsageError(f"no trained backbone for {args.profile}/{args.variant}; run `ssb train {flags}` first")
    return _commit_probes(args, seed, data_seed) if args.probes else 0


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


def _commit_probes(args: argparse.Namespace, seed: int | None = None, data_seed: int | None = None) -> int:
    """Train (if missing) and commit the token probes of a system: every block of the reference's, the
    probe's block of any other system's (and, on the first seed run, every block of a control with
    ``all_blocks``: random-init), for every seed run of ``[seeds]`` (``ssb/seeds.py``: each run's
    probe has its own seed and its own masking of the training features). The control-task probe serves
    the report's probe-selectivity section alone, which reads run 0: its other runs are not trained."""
    from .reference import export_artifact

    pl = _pipeline(args)
    system = args.variant  # a seed backbone (initial conditions, or order of the paragraphs): its block's probes
    if seed is not None:
        system = systems.init_seed(seed).name
    elif data_seed is not None:
        system = systems.data_order(data_seed).name
    layers = pl.layers() if systems.get(system).all_blocks else (pl.profile.probe.layer,)
    runs = 1 if system == "control-task" else pl.n_seed_runs
    for k in range(runs):
        run = pl.seed_run(k)
        # a control's other blocks serve the specificity pass alone, which measures a control on the first run
        for layer in layers if k == 0 or system == "reference" else (pl.profile.probe.layer,):
            run.token_probe(layer, system)  # trains it if missing
            where = export_artifact(pl.store, "token-probe", run.token_probe_key(layer, system), args.profile)
            print(f"token probe (block {layer}{f', seed run {k}' if k else ''}): {where}", flush=True)
    if system == "reference" and pl.profile.seeds.backbone:  # spontaneous-breaking's control: a second probe
        other = pl.probe_seed_run(pl.profile.probe.seed + 1)  # of the same backbone (ssb/measures/spontaneity.py)
        layer = pl.profile.probe.layer
        other.token_probe(layer)
        where = export_artifact(pl.store, "token-probe", other.token_probe_key(layer), args.profile)
        print(f"token probe (block {layer}, probe seed {other.profile.probe.seed}): {where}", flush=True)
    return 0
