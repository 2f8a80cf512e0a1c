"""The embedded session index (SQLite): listing, filtering and statistics over many sessions.

    python benchmarks/index_bench.py [--sessions 1000] [--repeat 30]

Saves N 3-turn sessions (small audio; 40 trainees, 2 scenarios, 60 days, a review on every tenth)
into a throw-away sessions folder through `SessionStore`, then times, each `--repeat` times, what
the listing pages and exports ask of the index: the whole list, a trainee filter, one local day,
a score range, the first page (limit 50), one summary, the step rows of one trainee and the
weak-step statistics of everything; and once, a full `reindex` from the folders. Uses the public
store API only, so the same script measures any version of the index.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_sessions_support import audio_for, make_record, make_score  # noqa: E402
from trainer.sessions import Review, SessionFilter, SessionStore  # noqa: E402


def timed(label: str, action: Callable[[], Any], repeat: int) -> None:
    samples = []
    result = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = action()
        samples.append(time.perf_counter() - t)
    size = f"{len(result)} rows" if isinstance(result, list) else "1 row"
    p95 = sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]
    print(f"  {label} ({size}): median {statistics.median(samples) * 1000:.2f} ms (p95 {p95 * 1000:.2f} ms)")


def fill(store: SessionStore, sessions: int) -> list[str]:
    statuses = [{}, {"seat": "missed"}, {"receive": "partial"}, {"seat": "missed", "change": "partial"}]
    ids = []
    for n in range(sessions):
        record = make_record(
            trainee_id=f"E{n % 40}", trainee_name=f"学员{n % 40}", started_at=f"2026-{10 + (n % 60) // 30:02d}-{1 + n % 30:02d}T0{n % 10}:30:15Z",
            scenario_id=("payment", "complaint")[n % 2], kind=("practice", "exam")[n % 7 == 0],
            score=make_score(statuses[n % 4], total=float(40 + n % 60), passed=n % 60 >= 40),
        )
        saved = store.save(record, audio_for(record))
        if n % 10 == 0:
            store.add_review(saved.id, Review(saved.id, "李老师", steps={}, comment="同意"))
        ids.append(saved.id)
    return ids


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = SessionStore(Path(tmp) / "sessions")
        t = time.perf_counter()
        ids = fill(store, args.sessions)
        print(f"embedded index, {args.sessions} sessions (saved in {time.perf_counter() - t:.1f} s):")
        r = args.repeat
        timed("list everything", lambda: store.list(), r)
        timed("list, trainee filter", lambda: store.list(SessionFilter(trainee="E7")), r)
        timed("list, one local day", lambda: store.list(SessionFilter(since=date(2026, 10, 15), until=date(2026, 10, 15))), r)
        timed("list, score 60-80 and failed", lambda: store.list(SessionFilter(min_total=60, max_total=80, result="fail")), r)
        timed("list, first page (limit 50)", lambda: store.list(SessionFilter(limit=50)), r)
        timed("one summary", lambda: store.summary(ids[len(ids) // 2]), r)
        timed("step rows, one trainee", lambda: store.step_rows(SessionFilter(trainee="E7")), r)
        timed("weak-step statistics, everything", lambda: store.step_miss_rates(), r)
        t = time.perf_counter()
        report = store.reindex()
        print(f"  reindex from the folders: {report.indexed} sessions in {time.perf_counter() - t:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
