"""#34: on a warm store, a change to the training code re-ran nothing (the keys covered config and data, not
code). Here a copy of the package with one edited line (the probe's learning rate set to 0, a planted bug)
runs on a store the unedited code filled: it builds its own probe, and leaves the old one alone."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ssb

# fast-tf4 does not rerun this (tox.ini): it tests the code keys and the store, not transformers' API (a probe's
# training is rerun under 4.x by test_regression.py)
pytestmark = pytest.mark.no_tf4_rerun

SCRIPT = """
import sys
from pathlib import Path
if len(sys.argv) > 3:  # the edited copy first, ahead of an editable install's finder too
    sys.meta_path = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()]
    sys.path.insert(0, sys.argv[3])
from ssb.artifacts import ArtifactStore
from ssb.config import load_profile
from ssb.pipeline import Pipeline
pl = Pipeline(load_profile("smoke"), ArtifactStore(Path(sys.argv[1])), Path(sys.argv[2]), progress=False)
print(pl.token_probe()[1], Path(__import__("ssb").__file__).parent)
"""


def _run(store: Path, data_dir: Path, first: Path | None = None) -> str:
    argv = [sys.executable, "-c", SCRIPT, str(store), str(data_dir), *([str(first)] if first else [])]
    run = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.strip()


def test_an_edited_copy_of_the_code_builds_its_own_probe_on_a_warm_store(tmp_path, data_dir):
    store = tmp_path / "store"
    _run(store, data_dir)  # the warm store: everything the unedited code builds for a smoke token probe
    package = Path(ssb.__file__).parent
    copy = tmp_path / "edited" / "ssb"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("reference", "__pycache__"))
    (copy / "reference").symlink_to(package / "reference")
    probe = copy / "probe.py"
    source = probe.read_text()
    assert source.count("lr=lr,") == 1
    probe.write_text(source.replace("lr=lr,", "lr=0.0,"))  # the planted bug: the probe never learns
    printed = _run(store, data_dir, first=copy.parent)
    assert printed.endswith(str(copy))  # the edited copy ran
    entries = sorted(p for p in (store / "token-probe").iterdir() if p.is_dir() and "." not in p.name)
    assert len(entries) == 2  # the unedited code's probe, untouched, and the edited code's own
    metas = [json.loads((p / "manifest.json").read_text())["meta"] for p in entries]
    edited = [m for m in metas if "code" in m]
    assert len(edited) == 1 and "token-probe" in edited[0]["code"]["live"]
    assert len([p for p in (store / "backbone").iterdir() if p.is_dir() and "." not in p.name]) == 1  # upstream kept
