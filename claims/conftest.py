"""pytest options, the per-check parametrisation, and the verdict summary of the paper's claims.

``pytest claims/`` collects one case per (claim, check) of the profile's expectation tier (``expect`` in
its TOML), named ``claim/check``; a claim with no expectation at that tier gives one skipped case. Each
claim is measured once per session and shared by its checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ssb.api import pipeline as make_pipeline
from ssb.claims import TierError, load_specs, tier_of, verdict_table
from ssb.config import ConfigError, load_profile, with_device
from ssb.device import DeviceError, runtime_for
from ssb.environment import matmul_speed
from ssb.helpers import build_helpers
from ssb.paths import cache_dir
from ssb.pipeline import Pipeline
from ssb.report_tables import speed_line
from ssb.verdicts import decided_line

SPECS = load_specs(Path(__file__).parent)
VERDICTS: dict = {}  # claim id -> Verdict, filled as the claims are measured (printed at the end)


def pytest_addoption(parser):
    group = parser.getgroup("ssb", "ssb claims")
    group.addoption(
        "--ssb-profile",
        default="cpu",
        help="profile: a name in ssb/profiles/ (smoke, cpu, ...) or a TOML file (default cpu)",
    )
    group.addoption("--ssb-data-dir", default=None, help="local data folder (default $SSB_DATA_DIR)")
    group.addoption("--ssb-cache-dir", default=None, help="artifact store (default $SSB_CACHE_DIR or ~/.cache/ssb)")
    group.addoption(
        "--ssb-retrain", action="store_true", help="retrain every backbone instead of the committed reference"
    )
    group.addoption(
        "--ssb-model", default=None, help="evaluate a local BERT-family checkpoint instead of the profile's backbone"
    )
    group.addoption("--ssb-quiet", action="store_true", help="no progress bars")
    group.addoption("--ssb-device", default=None, help="auto, cpu, cuda or cuda:N (default: the profile's, auto)")


def _profile(config):
    """The profile and tier of the options, or one usage error for the whole session (not one per test): a
    malformed profile, a tier no claim has, a device this machine does not have."""
    try:
        profile = with_device(load_profile(config.getoption("--ssb-profile")), config.getoption("--ssb-device"))
        runtime_for(profile.runtime)  # a GPU asked for and absent is refused here
        cache_dir(config.getoption("--ssb-cache-dir"))  # a file there is refused
        return profile, tier_of(profile, SPECS)
    except (ConfigError, TierError, DeviceError) as err:
        raise pytest.UsageError(f"ssb: {err}") from None


def pytest_configure(config):
    """Bad options are one usage error before collection (pytest exits 4), not an error per test."""
    _profile(config)


def pytest_generate_tests(metafunc):
    if "claim_check" not in metafunc.fixturenames:
        return
    _, tier = _profile(metafunc.config)
    params = []
    for spec in SPECS:
        expectation = spec.expect.get(tier)
        if expectation is None or expectation.undecided:
            what = "undecided" if expectation is not None else "no-expectation"
            params.append(pytest.param((spec, None), id=f"{spec.id}/{what}"))
            continue
        params += [pytest.param((spec, check.name), id=f"{spec.id}/{check.name}") for check in expectation.checks]
    metafunc.parametrize("claim_check", params)


@pytest.fixture(scope="session")
def pipeline(request) -> Iterator[Pipeline]:
    opt = request.config.getoption
    model = opt("--ssb-model")
    profile, _ = _profile(request.config)
    pl = make_pipeline(
        profile,
        model or None,
        cache_dir=opt("--ssb-cache-dir"),
        data_dir=opt("--ssb-data-dir"),
        retrain=opt("--ssb-retrain"),
        progress=not opt("--ssb-quiet"),
    )
    # [runtime] jobs > 1 (ssb/helpers.py): helpers build what the selected claims read, stopped at the end
    with build_helpers(pl, Path(__file__).parent, only=_selected_claims(request.session)):
        yield pl


def _selected_claims(session) -> list[str]:
    """The ids of the claims this session measures (``-k`` may select a few)."""
    ids = set()
    for item in session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        spec, check = params.get("claim_check", (None, None))
        if check is not None:  # a check to decide (an undecided claim's one case measures nothing)
            ids.add(spec.id)
    return sorted(ids)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if VERDICTS:
        verdicts = list(VERDICTS.values())
        terminalreporter.section("ssb claim verdicts")
        terminalreporter.write_line(f"profile: {config.getoption('--ssb-profile')}, tier: {verdicts[0].tier}")
        terminalreporter.write_line(verdict_table(verdicts))
        terminalreporter.write_line(decided_line(verdicts))
        # the rate this session's times were taken at (~1 s): a cold run's minutes are the machine's as much as ours
        device = runtime_for(_profile(config)[0].runtime).device
        terminalreporter.write_line(speed_line(matmul_speed(device), at="the session's end"))
