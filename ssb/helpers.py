"""Build helpers: other processes that build a claims run's artifacts while the run measures.

A run of the claims builds, claim after claim, the backbones, features, probes and sweeps each reads; on a
small profile most of it is training that one process cannot spread over the cores (a 64-wide model trains
no faster on two threads than on one). With ``[runtime] jobs`` above 1 the run starts ``jobs - 1`` helpers,
processes of the run's own copy of the package (:func:`helper_argv`) with the same profile, store and data.
A helper builds the ``[seeds]`` backbones' probes first, the last listed first (the run builds them last, in
the order listed), then measures the same claims as the run from the other end of the list, those that read
other parts of the reference than the run's first claim first (:func:`start_order`), keeping nothing but
what it stores. The store's locks make whoever comes second wait for, then read, what the other built, so
no artifact is built twice; and since every helper computes at the run's own number of threads (``[runtime]
threads``, or the number the run's process has), an artifact is the same whichever process built it: the
verdicts do not depend on ``jobs``. The run stops its helpers once it has measured every claim.

Helpers are for runs on the profile's own backbones: a user's ``--model``, one's own validation texts and
``--retrain`` (which would rebuild what a helper built) run alone, and say so.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from . import systems
from .artifacts import notice

if TYPE_CHECKING:
    from .config import Profile
    from .resolver import Resolver


AUTO_MAX_JOBS = 4  # jobs = 0 takes at most this many: a run has a handful of backbones to share out


def job_count(jobs: int, cpus: int) -> int:
    """``[runtime] jobs`` resolved: 0 is one process per core, at most :data:`AUTO_MAX_JOBS`."""
    return min(cpus, AUTO_MAX_JOBS) if jobs == 0 else jobs


def start_order(needs: Sequence[Collection[str]], helper: int, n_jobs: int) -> list[int]:
    """The order in which process ``helper`` of ``n_jobs`` measures the claims whose measures need ``needs``
    (``Measure.needs``, one entry a claim, in the run's order). The run itself (0) goes from the first to the
    last. The helpers go backwards: first the claims that need nothing the run's first claim needs (every
    claim reads the reference, but not all of them the same parts of it: a FewRel claim can go ahead while
    the run extracts the token features), then the others; helper k starts ``(k - 1) / (n_jobs - 1)`` of the
    way into that list, wrapping round."""
    n_items = len(needs)
    if helper == 0 or n_items == 0:
        return list(range(n_items))
    first = set(needs[0])
    backwards = list(range(n_items - 1, -1, -1))
    apart = [i for i in backwards if not first & set(needs[i])]
    ordered = apart + [i for i in backwards if i not in apart]
    start = ((helper - 1) * n_items) // (n_jobs - 1)
    return ordered[start:] + ordered[:start]


def seed_systems(profile: Profile) -> list[str]:
    """The systems of ``[seeds] backbone`` and ``data_order``, the last listed first: backbones of their own
    that only the last claims read and the run itself builds in the order listed, so the helpers build them
    first, from the other end."""
    orders = [systems.data_order(s).name for s in reversed(profile.seeds.data_order)]
    return [*orders, *(systems.init_seed(s).name for s in reversed(profile.seeds.backbone))]


def helpers_apply(pl: Resolver) -> str | None:
    """Why ``pl``'s run takes no helpers, or None when it does."""
    from .config import config_hash, profile_from_dict, to_dict

    if pl.model_dir is not None:
        return "a user's model"
    if pl.valid_texts is not None:
        return "validation texts of one's own"
    if pl.retrain:
        return "--retrain"
    if pl.profile.runtime.time_budget_s > 0:  # its plan is measured by whichever process comes first
        return "a time budget"
    if pl.seed_index or pl.backbone_seed is not None or pl.whole_control_curves:
        return "one seed run's resolver"
    if config_hash(profile_from_dict(to_dict(pl.profile), "helper")) != config_hash(pl.profile):
        return "a profile that its JSON does not give back (an int in a float field?)"
    return None


@contextmanager
def build_helpers(pl: Resolver, claims: Path, only: Sequence[str] | None = None) -> Iterator[list[subprocess.Popen]]:
    """Run the body with ``[runtime] jobs - 1`` helpers building the artifacts of the claims in ``claims``
    (``only``: of these claim ids, those a pytest selection measures) into ``pl``'s store; they are stopped
    when the body ends (or fails). A helper that fails costs time, not results: the run builds whatever it
    needs itself."""
    from .config import to_dict
    from .device import Machine

    jobs = pl.profile.runtime.jobs
    if jobs == 1 or (jobs == 0 and pl.runtime.is_cuda) or (only is not None and not only):
        yield []  # one job; "one per core" on a GPU, which one process fills; a selection deciding nothing
        return
    n_jobs = job_count(jobs, Machine.here().cpus)
    why_not = helpers_apply(pl) if n_jobs > 1 else "one core"
    if why_not is not None:
        if n_jobs > 1:
            notice(f"runtime.jobs = {n_jobs}, but a run on {why_not} measures alone")
        yield []
        return
    request: dict[str, Any] = {
        "profile": to_dict(pl.profile),
        "cache_dir": str(pl.store.root),
        "data_dir": None if pl.data_dir is None else str(pl.data_dir),
        "claims": str(Path(claims).resolve()),
        "jobs": n_jobs,
        "only": None if only is None else list(only),
        "threads": torch.get_num_threads(),  # the run's, which every helper takes: the same last bits
    }
    procs: list[subprocess.Popen] = []
    logs = []
    try:
        for k in range(1, n_jobs):
            logs.append(tempfile.TemporaryFile(mode="w+"))
            proc = subprocess.Popen(
                helper_argv(),
                stdin=subprocess.PIPE,
                stdout=logs[-1],
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,  # a Ctrl-C of the run reaches the run; the run stops its helpers
            )
            procs.append(proc)
            assert proc.stdin is not None
            with contextlib.suppress(BrokenPipeError):  # a helper that died at once: its exit is reported below
                # the request on the first line; the pipe stays open: a helper ends when it closes, so no helper
                # outlives its run, however the run ends (Ctrl-C, kill -9, a timeout's SIGKILL)
                proc.stdin.write(json.dumps({**request, "helper": k}) + "\n")
                proc.stdin.flush()
        pids = ", ".join(str(p.pid) for p in procs)
        notice(f"{len(procs)} build helper(s) started (runtime.jobs = {n_jobs}): pid {pids}")
        yield procs
    finally:
        # (a log may outnumber the helpers by one whose start failed)
        for k, (proc, log) in enumerate(zip(procs, logs, strict=False), start=1):
            try:
                _stop(proc)
            except BaseException:  # a second Ctrl-C while stopping: the others still get their pipe closed
                for other in procs[k:]:
                    _close(other)
                raise
            if proc.returncode not in (0, STOPPED, -signal.SIGTERM, -signal.SIGKILL):
                log.seek(0)
                lines = [line for line in log.read().splitlines() if line.strip()]
                notice(f"build helper {k} ended with exit {proc.returncode}: {lines[-1] if lines else 'no output'}")
        for log in logs:
            log.close()


# A helper imports the run's own copy of the package, wherever it lies and whatever else is installed (an
# edited copy put first on the path, as tests/mutants.py does): its store keys and what it builds are the run's.
_BOOT = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('ssb', sys.argv[1], submodule_search_locations=[sys.argv[2]])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "sys.modules['ssb'] = module\n"
    "spec.loader.exec_module(module)\n"
    "from ssb.helpers import main\n"
    "sys.exit(main(sys.argv[3:]))\n"
)


def helper_argv(*args: str) -> list[str]:
    """The command of a helper process, on this process's copy of the package."""
    package = Path(__file__).resolve().parent
    return [sys.executable, "-c", _BOOT, str(package / "__init__.py"), str(package), *args]


STOPPED = 75  # a helper's exit when its run closed the pipe (it had not finished)


def _close(proc: subprocess.Popen) -> None:
    with contextlib.suppress(OSError, ValueError):
        assert proc.stdin is not None
        proc.stdin.close()


def _stop(proc: subprocess.Popen, grace_s: float = 10.0) -> None:
    """Close the helper's pipe (it ends at once), then make sure it has."""
    _close(proc)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _end_with_the_run() -> None:
    """In a helper: wait for the run's end of the pipe to close, then end this process at once (whatever it
    is building is left as a partial entry, which the store sets aside)."""
    sys.stdin.read()
    os._exit(STOPPED)


def run_helper(request: dict[str, Any]) -> int:
    """One helper: measure every claim of the request's profile tier in its order, keeping only what the
    store keeps. A claim that fails here is left to the run, which meets and reports the same failure."""
    from .api import pipeline
    from .claims import evaluate, load_specs, tier_of
    from .config import profile_from_dict
    from .measures import MEASURES
    from .reference import MissingReference

    profile = profile_from_dict(request["profile"], "the run's profile (build helper)")
    pl = pipeline(profile, cache_dir=request["cache_dir"], data_dir=request["data_dir"], progress=False)
    torch.set_num_threads(request["threads"])
    specs = load_specs(Path(request["claims"]))
    tier = tier_of(pl.profile, specs)
    todo = [
        s
        for s in specs
        if tier in s.expect and not s.expect[tier].undecided and (request["only"] is None or s.id in request["only"])
    ]
    failures: list[str] = []  # the run meets each of them too and reports it there

    def failed(what: str, err: Exception) -> None:
        failures.append(f"{what}: {type(err).__name__}: {err}")
        print(failures[-1], flush=True)

    helper, n_helpers = request["helper"], request["jobs"] - 1
    reads_seeds = pl.profile.seeds.over_backbones or any("seed-backbones" in MEASURES[s.measure].needs for s in todo)
    for name in seed_systems(pl.profile)[helper - 1 :: n_helpers] if reads_seeds else ():
        try:
            pl.token_probe(system=name)
        except MissingReference:  # a seed backbone a committed profile lacks: the run's verdict says so
            continue
        except Exception as err:
            failed(name, err)
    for i in start_order([MEASURES[s.measure].needs for s in todo], helper, request["jobs"]):
        try:
            evaluate(todo[i], pl, tier)
        except Exception as err:
            failed(todo[i].id, err)
    if failures:
        print(f"{len(failures)} failure(s) in this helper, the first: {failures[0]}", flush=True)
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    """A helper: the request (one JSON line) on stdin, which stays open while the run lasts. ``--where``
    prints the package folder it runs instead."""
    if list(argv or ()) == ["--where"]:
        print(Path(__file__).resolve().parent)
        return 0
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    request = json.loads(sys.stdin.readline())
    threading.Thread(target=_end_with_the_run, daemon=True).start()
    return run_helper(request)


if __name__ == "__main__":
    sys.exit(main())
