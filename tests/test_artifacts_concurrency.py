"""Two processes building the same key at once: both succeed, the builder runs once, one entry remains; a
process that waits for a stopped holder says whom it waits for and gives up after its timeout."""

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ssb.artifacts import ArtifactStore, LockTimeout, verify


def _build(root: str, log: str, queue) -> None:
    def builder(folder: Path):
        with open(log, "a") as handle:
            handle.write("built\n")
        time.sleep(0.5)  # the other process arrives while this one is building
        (folder / "data.txt").write_text("x" * 1000)
        return {}

    folder, reused = ArtifactStore(Path(root)).build("thing", "k", builder)
    queue.put((str(folder), reused, (folder / "data.txt").read_text() == "x" * 1000))


def test_concurrent_builds_of_one_key(tmp_path):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_build, args=(str(tmp_path / "store"), str(tmp_path / "log"), queue)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert (tmp_path / "log").read_text().count("built") == 1
    assert sorted(r[1] for r in results) == [False, True] and all(r[2] for r in results)
    entries = [p.name for p in (tmp_path / "store" / "thing").iterdir() if not p.name.endswith(".lock")]
    assert entries == ["k"] and verify(tmp_path / "store" / "thing" / "k") is None


def test_a_killed_build_leaves_no_entry_and_its_temporary_is_swept(tmp_path):
    store = ArtifactStore(tmp_path)
    stale = tmp_path / "thing" / "k.tmp-dead"
    stale.mkdir(parents=True)  # what a killed build leaves behind

    def failing(folder: Path):
        (folder / "half").write_text("x")
        raise KeyboardInterrupt

    try:
        store.build("thing", "k", failing)
    except KeyboardInterrupt:
        pass
    assert not (tmp_path / "thing" / "k").exists() and not stale.exists()
    assert not list((tmp_path / "thing").glob("k.tmp*"))
    folder, reused = store.build("thing", "k", lambda f: (f / "ok").write_text("1") and None)
    assert not reused and (folder / "ok").read_text() == "1"


HOLDER = """
import sys, time
from pathlib import Path
from ssb.artifacts import ArtifactStore

def builder(folder):
    (folder / "half.txt").write_text("work in progress")
    Path(sys.argv[2]).write_text("building")
    time.sleep(120)

ArtifactStore(Path(sys.argv[1])).build("thing", "k", builder)
"""


def test_a_lock_wait_says_who_holds_it_and_gives_up_leaving_the_holders_work(tmp_path, capfd):
    started = tmp_path / "started"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "store"), str(started)])
    try:
        deadline = time.time() + 60
        while not started.exists():
            assert time.time() < deadline and holder.poll() is None, "the holder did not start building"
            time.sleep(0.05)
        os.kill(holder.pid, signal.SIGSTOP)  # a stopped holder never lets go
        store = ArtifactStore(tmp_path / "store", lock_timeout_s=1.0)
        t0 = time.time()
        with pytest.raises(LockTimeout, match=rf"gave up after 1 s waiting for thing/k, which pid {holder.pid} on"):
            store.build("thing", "k", lambda folder: pytest.fail("built while another process holds the key"))
        assert 1.0 <= time.time() - t0 < 10
        said = capfd.readouterr().err
        assert f"waiting for thing/k: being built by pid {holder.pid} on" in said and "giving up after 1 s" in said
        tmp = list((tmp_path / "store" / "thing").glob("k.tmp-*"))
        assert len(tmp) == 1 and (tmp[0] / "half.txt").read_text() == "work in progress"  # untouched
        assert holder.poll() is None
    finally:
        os.kill(holder.pid, signal.SIGCONT)
        holder.kill()
        holder.wait()


def test_an_entry_is_hashed_once_a_process_and_a_later_edit_is_still_caught(tmp_path, monkeypatch, capsys):
    """A store verifies an entry at every lookup; a file this process found matching is not hashed again while
    its inode, size, mtime and ctime stand, once settled. An edit afterwards (same size) changes them and is
    caught; a file written within ``SETTLED_NS`` of its check is hashed at every lookup; another store (another
    process) hashes it again."""
    import ssb.artifacts as artifacts

    hashed = []
    real = artifacts.file_sha256
    monkeypatch.setattr(artifacts, "file_sha256", lambda path, *a: hashed.append(path.name) or real(path, *a))
    store = ArtifactStore(tmp_path / "s")
    folder, _ = store.build("k", "key", lambda f: (f / "w.bin").write_bytes(b"weights!") and None)
    hashed.clear()
    store.lookup("k", "key"), store.lookup("k", "key")
    assert hashed == ["w.bin", "w.bin"]  # just written: not settled, hashed each time
    monkeypatch.setattr(artifacts, "SETTLED_NS", 0)  # settled as soon as written before the check
    time.sleep(0.05)
    hashed.clear()
    store.lookup("k", "key"), store.lookup("k", "key"), store.lookup("k", "key")
    assert hashed == ["w.bin"]  # settled: once
    ArtifactStore(tmp_path / "s").lookup("k", "key")
    assert hashed == ["w.bin", "w.bin"]  # a store of its own hashes it again
    time.sleep(0.05)
    (folder / "w.bin").write_bytes(b"weightz!")  # the same size
    assert store.lookup("k", "key") is None and "is corrupted and will be rebuilt" in capsys.readouterr().err
