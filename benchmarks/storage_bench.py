"""Storage backends side by side: the embedded store (folders + SQLite) and PostgreSQL.

    python benchmarks/storage_bench.py [--url postgresql://…] [--sessions 200] [--appends 200]

Without --url a throw-away PostgreSQL cluster is started from Debian's binaries (tests/pg_support.py;
as root it runs as the postgres account). Measures, per backend: saving a 3-turn session with about
1 MB of audio, listing with a filter, reading one turn's audio back, appending to the exam ledger
(one writer, then 4 writers at once), and `trainer exam verify`. PostgreSQL is measured twice: audio
in the database, then audio in a folder (audio_dir; here a local temporary folder, not a network
file system: a shared mount adds its own latency), the second run only on the throw-away cluster.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from exam_support import settings_for, wav_bytes  # noqa: E402
from pg_support import benchmark_server  # noqa: E402
from test_sessions_support import make_record  # noqa: E402
from trainer.exam.seal import exam_key  # noqa: E402
from trainer.exam.verify import verify_all  # noqa: E402
from trainer.sessions import SessionFilter  # noqa: E402
from trainer.storage.factory import ledger_for, session_store  # noqa: E402


def ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.1f} ms (p95 {sorted(samples)[int(len(samples) * 0.95) - 1] * 1000:.1f} ms)"


def bench(settings, sessions: int, appends: int) -> None:
    store = session_store(settings)
    audio = [wav_bytes(n, 10.0) for n in range(3)]  # 3 × 320 KB
    saves, reads, lists = [], [], []
    ids = []
    for n in range(sessions):
        record = make_record(trainee_id=f"E{n % 40}", started_at=f"2026-11-{10 + n % 18:02d}T06:30:15Z")
        t = time.perf_counter()
        ids.append(store.save(record, audio).id)
        saves.append(time.perf_counter() - t)
    for session_id in ids[:50]:
        t = time.perf_counter()
        store.audio_bytes(session_id, 2)
        reads.append(time.perf_counter() - t)
    for _ in range(30):
        t = time.perf_counter()
        store.list(SessionFilter(trainee="E7"))
        lists.append(time.perf_counter() - t)
    print(f"  save (3 turns, {sum(map(len, audio)) / 1e6:.2f} MB audio): {ms(saves)}")
    print(f"  read one turn's audio (320 KB): {ms(reads)}")
    print(f"  list with a filter ({sessions} sessions): {ms(lists)}")

    key = exam_key(settings)
    ledger = ledger_for(store)
    one = []
    for n in range(appends):
        t = time.perf_counter()
        ledger.append("grant", f"g{n}", {"paper_id": "p", "candidate_id": f"E{n}", "extra_attempts": 1}, key)
        one.append(time.perf_counter() - t)
    print(f"  ledger append, one writer (up to {appends} entries): {ms(one)}")

    def writer(w: int) -> None:
        own = ledger_for(session_store(settings))
        for n in range(appends // 4):
            own.append("grant", f"w{w}-{n}", {"paper_id": "p", "candidate_id": f"W{w}", "extra_attempts": 1}, key)

    t = time.perf_counter()
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    took = time.perf_counter() - t
    print(f"  ledger append, 4 writers at once: {appends} entries in {took:.2f} s ({appends / took:.0f} per second)")
    t = time.perf_counter()
    report = verify_all(store, key)
    print(f"  exam verify ({report.entries} entries): {time.perf_counter() - t:.2f} s, ok={report.ok}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="")
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--appends", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = settings_for(Path(tmp) / "sessions")
        print("embedded (folders + SQLite):")
        bench(base, args.sessions, args.appends)
        if args.url:
            print("postgres:")
            bench(dataclasses.replace(base, storage="postgres", database_url=args.url), args.sessions, args.appends)
            return 0
        with benchmark_server() as server:
            if server is None:
                print("PostgreSQL not installed: skipped")
                return 0
            print("postgres:")
            bench(dataclasses.replace(base, storage="postgres", database_url=server.create_database()), args.sessions, args.appends)
            audio_dir = Path(tmp) / "audio"
            audio_dir.mkdir()
            print("postgres, audio in a folder (audio_dir):")
            bench(dataclasses.replace(base, storage="postgres", database_url=server.create_database(), audio_dir=audio_dir),
                  args.sessions, args.appends)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
