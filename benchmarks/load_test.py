"""Load benchmark: N simulated trainees practising at once against one recogniser.

Each simulated trainee answers the 10 turns of a shared development performance (default
../shared/audio/scenarios/dev_payment_full, turn01.wav … turn10.wav) through the code the
practice page runs: `services.submit_recording` on the process's shared, fair recognition
pool (`trainer.recognition.shared_pool`), `services.collect_recording` into its own
`PracticeRun`, then `services.finish_practice`, which saves the session. Between turns it
"thinks" for a random 3–8 s (seeded) and then "speaks" for the length of the recording.

Per N it reports per-turn latency (recording handed over → scored turn stored; the browser's
upload and page redraw are not included) p50/p95/max, the part of it spent waiting in the
queue, throughput, errors, lost sessions (each trainee's session must be in the store with all
10 turns, completed, under its own 工号) and the process's peak RSS. Every N runs in a fresh
process, so the model load and peak RSS are its own.

    python benchmarks/load_test.py --users 1,5,10,20 --engine whisper \\
        --model ../shared/models/whisper-base --json load.json
    # options: --think 3,8 --seed 1 --workers N --threads N (default: settings / one per core)
    #          --performance DIR --scenario payment --background-load K (K busy-loop processes)

Several app servers on PostgreSQL (issue 16): `--servers K --postgres` runs K server processes
(each its own recognition pool: --workers/--threads are per server) sharing one throw-away
PostgreSQL cluster (Debian's binaries, fsync on; or `--database-url URL`, a database the run
may fill), the trainees split between them. The figures then merge all servers' turns; lost
sessions are checked in the shared database and the exam ledger is verified there.

    python benchmarks/load_test.py --users 20 --servers 2 --postgres --workers 1 --threads 1 \
        --engine whisper --model ../shared/models/whisper-base --json load_pg.json

Goal (issue 12) with whisper-base on 2 cores: p95 ≤ 5 s at 10 users, no errors, no lost
session, RSS ≤ 1 GB. The machine may be shared: the load average before and after is reported.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's trainer package, not an installed one

DEFAULT_PERFORMANCE = REPO.parent / "shared" / "audio" / "scenarios" / "dev_payment_full"
TURN_TIMEOUT = 600.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _burn(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@dataclasses.dataclass
class TraineeResult:
    trainee_id: str
    latencies: list[float]
    queued: list[float]
    errors: list[str]
    saved_id: str = ""


def simulate(args: argparse.Namespace) -> dict:
    """One server process with args.users trainees (numbered from args.first_trainee); the figures
    as a dict, with the raw per-turn times and the saved sessions for merging across servers."""
    from trainer.app import services
    from trainer.app.state import PracticeRun
    from trainer.asr.factory import get_recognizer
    from trainer.audio import load_audio
    from trainer.config import load_settings
    from trainer.pipeline import load_library
    from trainer.recognition import owner_key, shared_pool, worker_plan
    from trainer.storage.factory import session_store
    users = args.users[0]
    sessions_dir = Path(tempfile.mkdtemp(prefix="trainer-load-"))
    storage = {"storage": "postgres", "database_url": args.database_url} if args.database_url else {}
    settings = dataclasses.replace(
        load_settings(),
        **storage,
        engine=args.engine,
        **{f"{args.engine}_model": args.model.resolve()},
        sessions_dir=sessions_dir,
        asr_workers=args.workers,
        asr_threads=args.threads,
    )
    plan = worker_plan(settings)
    library = load_library(settings)
    scenario = library.scenario(args.scenario)
    files = sorted(args.performance.glob("turn*.wav"))[: len(scenario.steps)]
    if len(files) != len(scenario.steps):
        raise SystemExit(f"{args.performance}: {len(files)} turn*.wav files, the scenario has {len(scenario.steps)} steps")
    turns = [(path.name, path.read_bytes()) for path in files]
    speak = [load_audio(data, require_speech=False).duration for _, data in turns]

    started = time.perf_counter()
    recognizer = get_recognizer(settings)
    model_load = time.perf_counter() - started
    services.warm_up(settings, library)
    pool = shared_pool(settings)
    recognizer.transcribe(load_audio(turns[0][1]))  # first-call warm-up, as the first trainee of the day pays it

    load_before = os.getloadavg()
    results = [TraineeResult(f"LT{args.first_trainee + i:03d}", [], [], []) for i in range(users)]

    def trainee(result: TraineeResult, rng: random.Random) -> None:
        run = PracticeRun(scenario.id, scenario.title, len(scenario.steps), result.trainee_id, f"压测{result.trainee_id}")
        time.sleep(rng.uniform(0, args.think[1]))  # trainees do not all start in the same second
        for (name, data), seconds in zip(turns, speak):
            time.sleep(rng.uniform(*args.think) + seconds)
            handed = time.monotonic()
            try:
                pending = services.submit_recording(
                    pool, owner_key(result.trainee_id), run, data, name, "upload", scenario, library, lambda: recognizer, settings
                )
                if pending is None:
                    result.errors.append(f"{name}: recording not queued")
                    continue
                while pending.ticket.status().state == "queued" and not pending.ticket.done():
                    time.sleep(0.02)
                result.queued.append(time.monotonic() - handed)
                turn = services.collect_recording(run, pending, timeout=TURN_TIMEOUT)
            except Exception as exc:  # counted, never fatal for the other trainees
                result.errors.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
            result.latencies.append(time.monotonic() - handed)
            if turn is None:
                result.errors.append(f"{name}: {run.error}")
        try:
            result.saved_id = services.finish_practice(run, settings, library, recognizer).id
        except Exception as exc:
            result.errors.append(f"finish: {type(exc).__name__}: {exc}")

    threads = [
        threading.Thread(target=trainee, args=(result, random.Random(args.seed * 1000 + args.first_trainee + i)), name=result.trainee_id)
        for i, result in enumerate(results)
    ]
    run_started = time.perf_counter()
    cpu_started = _cpu_seconds()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - run_started
    cpu = _cpu_seconds() - cpu_started
    load_after = os.getloadavg()

    saved = {r.trainee_id: r.saved_id for r in results}
    lost = lost_sessions(settings, saved, len(turns))
    listed = session_store(settings).list()
    latencies = [x for r in results for x in r.latencies]
    queued = [x for r in results for x in r.queued]
    errors = [f"{r.trainee_id} {e}" for r in results for e in r.errors]
    pool.shutdown()
    return {
        "users": users,
        "engine": args.engine,
        "model": args.model.name,
        "workers": plan.workers,
        "threads_per_worker": plan.threads,
        "cores": len(os.sched_getaffinity(0)),
        "think_seconds": list(args.think),
        "seed": args.seed,
        "background_load_processes": args.background_load,
        "model_load_seconds": round(model_load, 2),
        "turns": len(latencies),
        "latency_p50": round(statistics.median(latencies), 2) if latencies else None,
        "latency_p95": round(percentile(latencies, 95), 2) if latencies else None,
        "latency_max": round(max(latencies), 2) if latencies else None,
        "queue_wait_p50": round(statistics.median(queued), 2) if queued else None,
        "queue_wait_p95": round(percentile(queued, 95), 2) if queued else None,
        "wall_seconds": round(wall, 1),
        "throughput_turns_per_minute": round(len(latencies) / wall * 60, 1),
        # CPU this process used per processed turn (recognition, scoring, saving): with C free
        # cores the pool can serve at most C / cpu_seconds_per_turn turns a second
        "cpu_seconds_per_turn": round(cpu / len(latencies), 2) if latencies else None,
        "cpu_share_of_cores": round(cpu / wall / len(os.sched_getaffinity(0)), 2),
        "errors": len(errors),
        "error_samples": errors[:5],
        "sessions_saved": len(listed),
        "lost_sessions": len(lost),
        "lost_trainees": lost,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "storage": settings.storage,
        "raw_latencies": latencies,
        "raw_queued": queued,
        "raw_errors": errors,
        "saved": saved,
        "cpu_seconds": cpu,
    }


def lost_sessions(settings, saved: dict[str, str], turns: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Trainees whose session is not in the store complete: listed, their own 工号, every turn with
    its audio intact (the store checks each turn's hash), marked completed."""
    from trainer.storage.factory import session_store

    store = session_store(settings)
    listed = {s.id for s in store.list()}
    lost: list[str] = []
    for trainee_id, saved_id in saved.items():
        if not saved_id or saved_id not in listed:
            lost.append(trainee_id)
            continue
        record = store.load(saved_id)
        if (
            record.trainee_id != trainee_id
            or len(record.turns) != turns
            or record.extra.get("status") != "completed"
            or store.verify_audio(saved_id)
        ):
            lost.append(trainee_id)
    return lost


def merge_servers(runs: list[dict], database_url: str, turns: int) -> dict:
    """One figure set for K server processes that shared a database: percentiles over all their
    turns, sessions checked in the shared store, the exam ledger verified there."""
    from trainer.config import load_settings
    from trainer.exam.seal import exam_key
    from trainer.exam.verify import verify_all
    from trainer.storage.factory import ledger_for, session_store

    settings = dataclasses.replace(load_settings(), storage="postgres", database_url=database_url, exam_key="load-test-key-not-secret")
    latencies = [x for r in runs for x in r["raw_latencies"]]
    queued = [x for r in runs for x in r["raw_queued"]]
    saved = {k: v for r in runs for k, v in r["saved"].items()}
    lost = lost_sessions(settings, saved, turns)
    store = session_store(settings)
    report = verify_all(store, exam_key(settings))
    wall = max(r["wall_seconds"] for r in runs)
    first = runs[0]
    return {
        "users": sum(r["users"] for r in runs),
        "servers": len(runs),
        "storage": "postgres",
        "engine": first["engine"],
        "model": first["model"],
        "workers_per_server": first["workers"],
        "threads_per_worker": first["threads_per_worker"],
        "cores": first["cores"],
        "think_seconds": first["think_seconds"],
        "seed": first["seed"],
        "model_load_seconds": max(r["model_load_seconds"] for r in runs),
        "turns": len(latencies),
        "latency_p50": round(statistics.median(latencies), 2) if latencies else None,
        "latency_p95": round(percentile(latencies, 95), 2) if latencies else None,
        "latency_max": round(max(latencies), 2) if latencies else None,
        "queue_wait_p50": round(statistics.median(queued), 2) if queued else None,
        "queue_wait_p95": round(percentile(queued, 95), 2) if queued else None,
        "wall_seconds": wall,
        "throughput_turns_per_minute": round(len(latencies) / wall * 60, 1),
        "cpu_seconds_per_turn": round(sum(r["cpu_seconds"] for r in runs) / len(latencies), 2) if latencies else None,
        "errors": sum(r["errors"] for r in runs),
        "error_samples": [e for r in runs for e in r["raw_errors"]][:5],
        "sessions_saved": len(store.list()),
        "lost_sessions": len(lost),
        "lost_trainees": lost,
        "ledger_ok": report.ok,
        "ledger_entries": len(ledger_for(store).scan().lines),
        "peak_rss_mb_per_server": [r["peak_rss_mb"] for r in runs],
        "load_before": min((r["load_before"] for r in runs), key=lambda x: x[0]),
        "load_after": max((r["load_after"] for r in runs), key=lambda x: x[0]),
    }


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _think(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    return float(low), float(high or low)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=_ints, default=[1, 5, 10, 20], help="comma-separated, e.g. 1,5,10,20")
    parser.add_argument("--engine", choices=("vosk", "whisper"), required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--performance", type=Path, default=DEFAULT_PERFORMANCE, help="folder with turn01.wav …")
    parser.add_argument("--scenario", default="payment")
    parser.add_argument("--think", type=_think, default=(3.0, 8.0), help="seconds between turns, min,max (plus speaking time)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="recognitions at once (0: settings, else one per core)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads per recognition (0: settings, else cores/workers)")
    parser.add_argument("--background-load", type=int, default=0, help="busy-loop processes to run alongside")
    parser.add_argument("--servers", type=int, default=1, help="server processes sharing one PostgreSQL (needs --postgres or --database-url)")
    parser.add_argument("--postgres", action="store_true", help="store in a throw-away PostgreSQL cluster (Debian's binaries, fsync on)")
    parser.add_argument("--database-url", default="", help="store in this PostgreSQL database instead (it gets filled)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--first-trainee", type=int, default=1, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


RAW = ("raw_latencies", "raw_queued", "raw_errors", "saved", "cpu_seconds")


def child_command(args: argparse.Namespace, users: int, first: int, database_url: str) -> list[str]:
    return [
        sys.executable, str(Path(__file__).resolve()), "--child", "--users", str(users), "--first-trainee", str(first),
        "--engine", args.engine, "--model", str(args.model), "--performance", str(args.performance),
        "--scenario", args.scenario, "--think", f"{args.think[0]},{args.think[1]}", "--seed", str(args.seed),
        "--workers", str(args.workers), "--threads", str(args.threads), "--background-load", str(args.background_load),
        *(["--database-url", database_url] if database_url else []),
    ]


def run_servers(args: argparse.Namespace, users: int, database_url: str) -> dict | None:
    """`args.servers` server processes at once, the trainees split between them; None on failure."""
    shares = [users // args.servers + (1 if i < users % args.servers else 0) for i in range(args.servers)]
    firsts = [1 + sum(shares[:i]) for i in range(args.servers)]
    children = [
        subprocess.Popen(child_command(args, n, first, database_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n, first in zip(shares, firsts)
        if n
    ]
    outputs = [child.communicate() for child in children]
    runs = []
    for child, (out, err) in zip(children, outputs):
        if child.returncode != 0:
            print(err, file=sys.stderr)
            return None
        runs.append(json.loads(out.strip().splitlines()[-1]))
    if len(runs) == 1 and not database_url:
        return runs[0]
    return merge_servers(runs, database_url, _steps(args))


def _steps(args: argparse.Namespace) -> int:
    from trainer.config import load_settings
    from trainer.pipeline import load_library

    return len(load_library(load_settings()).scenario(args.scenario).steps)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(simulate(args), ensure_ascii=False))
        return 0
    if args.servers > 1 and not (args.postgres or args.database_url):
        raise SystemExit("--servers > 1 needs a shared database: add --postgres or --database-url")
    cluster = None
    if args.postgres and not args.database_url:
        sys.path.insert(0, str(REPO / "tests"))
        from pg_support import Cluster, Server, pg_bin

        bindir = pg_bin()
        if bindir is None:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
        cluster = Cluster(bindir, durable=True).start()
    burners = [multiprocessing.Process(target=_burn, args=(7200.0,), daemon=True) for _ in range(args.background_load)]
    for burner in burners:
        burner.start()
    runs = []
    try:
        for users in args.users:
            database_url = args.database_url or (Server(cluster.url()).create_database() if cluster else "")
            figures = run_servers(args, users, database_url)
            if figures is None:
                return 1
            for key in RAW:
                figures.pop(key, None)
            runs.append(figures)
            ledger = f"; ledger ok {figures['ledger_ok']} ({figures['ledger_entries']} entries)" if "ledger_ok" in figures else ""
            rss = figures.get("peak_rss_mb", figures.get("peak_rss_mb_per_server"))
            print(
                f"users {users:>3} on {figures.get('servers', 1)} server(s), {figures['storage']}: "
                f"p50 {figures['latency_p50']} s, p95 {figures['latency_p95']} s, max {figures['latency_max']} s "
                f"(queue p95 {figures['queue_wait_p95']} s); {figures['throughput_turns_per_minute']} turns/min, "
                f"{figures['cpu_seconds_per_turn']} CPU s/turn; "
                f"errors {figures['errors']}, lost sessions {figures['lost_sessions']} of {figures['sessions_saved']} saved{ledger}, "
                f"peak RSS {rss} MB; load {figures['load_before'][0]} → {figures['load_after'][0]}",
                flush=True,
            )
    finally:
        for burner in burners:
            burner.terminate()
        if cluster is not None:
            from trainer.storage.engine import dispose_all

            dispose_all()
            cluster.stop()
    if args.json:
        args.json.write_text(json.dumps({"runs": runs}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
