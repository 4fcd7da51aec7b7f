"""pytest options and fixtures for the paper's claims (``pytest claims/``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssb.artifacts import ArtifactStore
from ssb.claims import verdict_table
from ssb.config import load_profile
from ssb.experiments import Pipeline
from ssb.paths import cache_dir, data_dir

VERDICTS: list = []


def pytest_addoption(parser):
    group = parser.getgroup("ssb", "ssb claims")
    group.addoption("--ssb-profile", default="cpu", help="profile: smoke, cpu, paper or a TOML file (default cpu)")
    group.addoption("--ssb-data-dir", default=None, help="local data folder (default $SSB_DATA_DIR)")
    group.addoption("--ssb-cache-dir", default=None, help="artifact store (default $SSB_CACHE_DIR or ~/.cache/ssb)")
    group.addoption("--ssb-retrain", action="store_true", help="retrain every backbone instead of the committed reference")
    group.addoption("--ssb-model", default=None, help="evaluate a local HF BERT checkpoint instead of the profile's backbone")
    group.addoption("--ssb-quiet", action="store_true", help="no progress bars")


@pytest.fixture(scope="session")
def pipeline(request) -> Pipeline:
    opt = request.config.getoption
    model = opt("--ssb-model")
    return Pipeline(
        profile=load_profile(opt("--ssb-profile")),
        store=ArtifactStore(cache_dir(opt("--ssb-cache-dir"))),
        data_dir=data_dir(opt("--ssb-data-dir")),
        model_dir=Path(model).resolve() if model else None,
        retrain=opt("--ssb-retrain"),
        progress=not opt("--ssb-quiet"),
    )


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if VERDICTS:
        terminalreporter.section("ssb claim verdicts")
        terminalreporter.write_line(f"profile: {VERDICTS[0].profile}")
        terminalreporter.write_line(verdict_table(VERDICTS))
