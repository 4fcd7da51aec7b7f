"""Build helpers (ssb/helpers.py): the order each process measures the claims in, and when a run takes them."""

from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ssb.artifacts import ArtifactStore
from ssb.config import load_profile
from ssb.helpers import build_helpers, helper_argv, helpers_apply, job_count, seed_systems, start_order
from ssb.resolver import Resolver

NEEDS = st.lists(st.sets(st.sampled_from(["heads", "token-nodes", "fewrel", "depth"])), max_size=30)


@given(NEEDS, st.integers(2, 8), st.data())
def test_every_process_measures_every_claim_once(needs, n_jobs, data):
    helper = data.draw(st.integers(0, n_jobs - 1))
    order = start_order(needs, helper, n_jobs)
    assert sorted(order) == list(range(len(needs)))


def test_the_run_goes_forward_and_its_helper_from_the_end_apart_first():
    needs = [{"heads"}, {"fewrel"}, {"heads", "depth"}, {"depth"}, {"heads"}]
    assert start_order(needs, 0, 2) == [0, 1, 2, 3, 4]
    # the claims that need nothing the first one needs (3, 1), last first; then the others, last first
    assert start_order(needs, 1, 2) == [3, 1, 4, 2, 0]
    assert [start_order(needs, k, 3)[0] for k in (0, 1, 2)] == [0, 3, 4]  # three starting points, spread


def test_jobs_zero_is_one_per_core_up_to_four():
    assert (job_count(0, 2), job_count(0, 16), job_count(3, 2)) == (2, 4, 3)


def test_the_seed_backbones_come_last_listed_first():
    profile = load_profile("regression")  # [seeds] backbone = [1, 2], data_order = [1]
    assert seed_systems(profile) == ["data-order:1", "init-seed:2", "init-seed:1"]
    assert seed_systems(load_profile("cpu")) == []


@pytest.fixture(autouse=True)
def _threads_restored():
    """A resolver at ``[runtime] threads`` sets this process's torch threads: the tests after these keep theirs."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _resolver(tmp_path: Path, **changes) -> Resolver:
    profile = load_profile("smoke").replace(runtime={"threads": 1, "jobs": 2})
    return Resolver(profile, ArtifactStore(tmp_path / "store"), tmp_path / "data", **changes)


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"retrain": True}, "--retrain"),
        ({"valid_texts": ("one paragraph of one's own",)}, "validation texts"),
        ({"seed_index": 1}, "one seed run's resolver"),
        ({"profile_changes": {"runtime": {"time_budget_s": 60.0}}}, "a time budget"),
        ({"profile_changes": {"pretrain": {"lr": 1}}}, "its JSON does not give back"),  # an int in a float field
    ],
)
def test_runs_that_measure_alone_say_why(tmp_path, capsys, changes, why):
    profile_changes = changes.pop("profile_changes", {})
    pl = _resolver(tmp_path, **changes)
    pl.profile = pl.profile.replace(**profile_changes)
    assert why in helpers_apply(pl)
    with build_helpers(pl, tmp_path) as procs:
        assert procs == []
    err = capsys.readouterr().err
    assert "runtime.jobs = 2, but a run on " in err and why in err and err.count("\n") == 1


def test_one_job_or_a_selection_deciding_nothing_starts_nothing_and_says_nothing(tmp_path, capsys):
    pl = _resolver(tmp_path)
    with build_helpers(pl, tmp_path, only=[]) as procs:  # pytest -k of undecided claims only
        assert procs == []
    pl.profile = pl.profile.replace(runtime={"jobs": 1})
    with build_helpers(pl, tmp_path) as procs:
        assert procs == []
    assert capsys.readouterr().err == ""


def test_a_helper_runs_the_runs_own_copy_of_the_package(tmp_path):
    """An edited copy first on the path (tests/mutants.py) is what its helpers import too, not the install."""
    import shutil
    import subprocess

    import ssb

    installed = Path(ssb.__file__).resolve().parent
    copy = tmp_path / "ssb"
    shutil.copytree(installed, copy, ignore=shutil.ignore_patterns("reference", "__pycache__"))
    argv = helper_argv("--where")
    argv[3:5] = [str(copy / "__init__.py"), str(copy)]  # as a helper of the copy gets them
    where = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where) == copy.resolve() != installed
    own = subprocess.run(helper_argv("--where"), capture_output=True, text=True, check=True).stdout.strip()
    assert Path(own) == installed
