"""The account store on both backends: the calls a login makes, and failed logins from 4 processes at once.

    python benchmarks/account_bench.py [--url postgresql://…] [--calls 300]

Without --url a throw-away PostgreSQL cluster is started from Debian's binaries (tests/pg_support.py,
fsync on). Measures, per backend (the one SqlAccountStore, opened through the storage factory):
opening the store (the page does it on every run), reading an account with its password hash,
counting a failed login (the atomic upsert), a login session's lookup and touch, and 4 processes
counting failures for the same user id at once (every one must be counted).
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from exam_support import settings_for  # noqa: E402
from pg_support import benchmark_server  # noqa: E402
from trainer.accounts import Account  # noqa: E402
from trainer.accounts.store import LoginSession  # noqa: E402
from trainer.storage.factory import account_store  # noqa: E402


def ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.2f} ms (p95 {sorted(samples)[int(len(samples) * 0.95) - 1] * 1000:.2f} ms)"


def timed(calls: int, action: Any) -> list[float]:
    samples = []
    for n in range(calls):
        t = time.perf_counter()
        action(n)
        samples.append(time.perf_counter() - t)
    return samples


def _fail(settings: Any, ready: Any, done: Any, count: int) -> None:
    store = account_store(settings)
    ready.wait()
    for n in range(count):
        store.record_failure("someone", float(n))
    done.wait()


def bench(settings: Any, calls: int) -> None:
    store = account_store(settings)
    for n in range(40):
        store.create(Account(f"E{n}", "张三", "trainee", ("一班",)), "scrypt$hash")
    store.add_session(LoginSession("t" * 64, "E1", "password", 0.0, 0.0, 1e12))
    print(f"  open the store: {ms(timed(calls, lambda n: account_store(settings)))}")
    print(f"  account + password hash: {ms(timed(calls, lambda n: (store.get(f'E{n % 40}'), store.password_hash(f'E{n % 40}'))))}")
    print(f"  count a failed login: {ms(timed(calls, lambda n: store.record_failure(f'e{n % 40}', float(n))))}")
    print(f"  login session lookup + touch: {ms(timed(calls, lambda n: (store.session('t' * 64), store.touch_session('t' * 64, float(n)))))}")

    context = multiprocessing.get_context("spawn")
    ready, done = context.Barrier(5), context.Barrier(5)  # stores opened / failures counted (process start and exit not timed)
    per_process = calls // 4
    workers = [context.Process(target=_fail, args=(settings, ready, done, per_process)) for _ in range(4)]
    for worker in workers:
        worker.start()
    ready.wait()
    t = time.perf_counter()
    done.wait()
    took = time.perf_counter() - t
    for worker in workers:
        worker.join()
    counted = store.attempts("someone").failures
    print(f"  4 processes at once: {4 * per_process} failures in {took:.2f} s ({4 * per_process / took:.0f} per second), counted {counted}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="")
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = settings_for(Path(tmp) / "sessions")
        print("embedded (SQLite file):")
        bench(base, args.calls)
        with benchmark_server() if not args.url else nullcontext(None) as server:
            if server is None and not args.url:
                print("PostgreSQL not installed: skipped")
                return 0
            print("postgres:")
            bench(dataclasses.replace(base, storage="postgres", database_url=args.url or server.create_database()), args.calls)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
