import pytest

from ssb.artifacts import ArtifactStore
from ssb.config import load_profile
from ssb.pipeline import Pipeline


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/slow" in str(item.fspath):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def smoke():
    return load_profile("smoke")


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    return ArtifactStore(tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="session")
def new_pipeline(tmp_path_factory, data_dir):
    """``new_pipeline(profile, name)``: a quiet pipeline on the tests' data with a store of its own (a module's
    experiments do not see another module's artifacts)."""

    def make(profile, name: str) -> Pipeline:
        return Pipeline(profile, ArtifactStore(tmp_path_factory.mktemp(name)), data_dir, progress=False)

    return make
