import pytest

from ssb.artifacts import ArtifactStore
from ssb.config import load_profile


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
