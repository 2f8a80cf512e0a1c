"""Session store under concurrency and crashes: parallel writers, and a save killed half-way."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from trainer.sessions import Review, SessionStore

from test_sessions_support import audio_for, make_record, reindex_loop, save_many

TESTS_DIR = Path(__file__).resolve().parent


def _all_folders(store: SessionStore) -> set[str]:
    return {p.name for p in store.root.glob("[0-9]*/[0-9]*/*") if p.is_dir()}


@pytest.mark.timeout(180)
def test_concurrent_writers_in_several_processes(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    store = SessionStore(root)
    earlier = store.save(make_record("E0"), audio_for(make_record()))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(5) as pool:
        reindexer = pool.apply_async(reindex_loop, (str(root), 15))
        results = pool.starmap(save_many, [(str(root), worker, 10) for worker in range(4)])
        reindexer.get(timeout=120)
    ids = [session_id for batch in results for session_id in batch]
    assert len(ids) == 40 and len(set(ids)) == 40

    listed = {s.id for s in store.list()}
    assert listed == set(ids) | {earlier.id} == _all_folders(store)
    for session_id in ids:
        record = store.load(session_id)
        assert store.verify_audio(session_id) == []
        assert record.trainee_id.startswith("W")
    # the live index matches one rebuilt from the folders
    before = sorted(s.to_dict().items().__repr__() for s in store.list())
    report = store.reindex(temp_max_age=0)
    assert report.indexed == 41 and report.corrupt == () and report.removed_temp == ()
    assert sorted(s.to_dict().items().__repr__() for s in store.list()) == before
    assert {s.trainee_id for s in store.list()} == {"E0", "W0", "W1", "W2", "W3"}


@pytest.mark.timeout(120)
def test_concurrent_saves_and_reviews_in_threads(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    target = store.save(make_record("T"), audio_for(make_record()))

    def save(n: int) -> str:
        record = make_record(f"T{n % 4}")
        return store.save(record, audio_for(record, 250.0 + n)).id

    def review(n: int) -> None:
        store.add_review(target.id, Review(session_id=target.id, reviewer=f"老师{n}", comment=f"第{n}条意见"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        saves = [pool.submit(save, n) for n in range(24)]
        reviews = [pool.submit(review, n) for n in range(8)]
        ids = [f.result() for f in saves]
        for f in reviews:
            f.result()
    assert len(set(ids)) == 24
    assert {s.id for s in store.list()} == set(ids) | {target.id}
    assert len(store.reviews(target.id)) == 8
    assert store.summary(target.id).review_count == 8


_CHILD = r"""
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from test_sessions_support import audio_for, make_record
from trainer.sessions import store as store_module

def hook(point, path):
    if point == sys.argv[2]:
        print("PAUSED", path, flush=True)
        time.sleep(120)

store_module._save_hook = hook
record = make_record("KILLED", "被中断")
store_module.SessionStore(Path(sys.argv[1])).save(record, audio_for(record))
print("DONE", flush=True)
"""


@pytest.mark.timeout(60)
@pytest.mark.parametrize("point", ["audio-written", "record-written", "before-rename", "after-rename"])
def test_save_killed_half_way(tmp_path: Path, point: str) -> None:
    store = SessionStore(tmp_path / "sessions")
    earlier = store.save(make_record("E0"), audio_for(make_record()))
    earlier_files = {p: p.read_bytes() for p in store.session_dir(earlier.id).rglob("*") if p.is_file()}
    store.reindex()  # a built index: what readers see next comes from it, not from a first-time rebuild

    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(store.root), point, str(TESTS_DIR)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = child.stdout.readline()
        assert line.startswith("PAUSED"), (line, child.stderr.read() if child.poll() is not None else "")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL

    # Nothing half-written is visible; the earlier session loads intact.
    visible = store.list()
    assert store.load(earlier.id) == earlier
    assert {p: p.read_bytes() for p in store.session_dir(earlier.id).rglob("*") if p.is_file()} == earlier_files
    leftovers = [p for p in store.temp_dir.iterdir() if p != store.pending_dir]
    if point == "after-rename":
        # the folder was complete when the process died; readers index it from its pending marker
        assert len(visible) == 2 and {s.trainee_id for s in visible} == {"E0", "KILLED"}
    else:
        assert [s.id for s in visible] == [earlier.id]

    report = store.reindex(temp_max_age=0)
    assert report.corrupt == ()
    listed = store.list()
    if point == "after-rename":
        # the folder was complete when the process died; only its index row was missing
        assert leftovers == [] and report.indexed == 2
        killed = next(s for s in listed if s.trainee_id == "KILLED")
        assert store.load(killed.id).trainee_name == "被中断"
        assert store.verify_audio(killed.id) == []
    else:
        assert len(leftovers) == 1 and leftovers[0].name.startswith("20261123T063015Z-KILLED-")
        assert report.indexed == 1 and report.removed_temp == tuple(leftovers)
        assert [s.id for s in listed] == [earlier.id]
        assert _all_folders(store) == {earlier.id}
    assert [p for p in store.temp_dir.iterdir() if p != store.pending_dir] == []
    assert list(store.pending_dir.iterdir()) == []


def test_young_temp_folders_are_kept_by_reindex(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    store.save(make_record(), audio_for(make_record()))
    in_progress = store.temp_dir / "20261123T063015Z-E1-abcdef.123.xyz"
    in_progress.mkdir()
    report = store.reindex()  # default age limit: an hour
    assert report.kept_temp == (in_progress,) and in_progress.is_dir()
    assert store.reindex(temp_max_age=0).removed_temp == (in_progress,)
