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
    """One run with args.users trainees in this process; the figures as a dict."""
    from trainer.app import services
    from trainer.app.state import PracticeRun
    from trainer.asr.factory import get_recognizer
    from trainer.audio import load_audio
    from trainer.config import load_settings
    from trainer.pipeline import load_library
    from trainer.recognition import owner_key, shared_pool, worker_plan
    from trainer.sessions import SessionStore

    users = args.users[0]
    sessions_dir = Path(tempfile.mkdtemp(prefix="trainer-load-"))
    settings = dataclasses.replace(
        load_settings(),
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
    results = [TraineeResult(f"LT{i + 1:03d}", [], [], []) for i in range(users)]

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
        threading.Thread(target=trainee, args=(result, random.Random(args.seed * 1000 + i)), name=result.trainee_id)
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

    store = SessionStore(sessions_dir)
    listed = {s.id for s in store.list()}
    lost: list[str] = []
    for result in results:
        if not result.saved_id or result.saved_id not in listed:
            lost.append(result.trainee_id)
            continue
        record = store.load(result.saved_id)
        audio_ok = all(store.audio_path(record.id, t.index).is_file() for t in record.turns)
        if (
            record.trainee_id != result.trainee_id
            or len(record.turns) != len(turns)
            or record.extra.get("status") != "completed"
            or not audio_ok
        ):
            lost.append(result.trainee_id)

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
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(simulate(args), ensure_ascii=False))
        return 0
    burners = [multiprocessing.Process(target=_burn, args=(7200.0,), daemon=True) for _ in range(args.background_load)]
    for burner in burners:
        burner.start()
    runs = []
    try:
        for users in args.users:
            command = [
                sys.executable, str(Path(__file__).resolve()), "--child", "--users", str(users), "--engine", args.engine,
                "--model", str(args.model), "--performance", str(args.performance), "--scenario", args.scenario,
                "--think", f"{args.think[0]},{args.think[1]}", "--seed", str(args.seed), "--workers", str(args.workers),
                "--threads", str(args.threads), "--background-load", str(args.background_load),
            ]
            out = subprocess.run(command, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(out.stderr, file=sys.stderr)
                return out.returncode
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            runs.append(figures)
            print(
                f"users {users:>3}: p50 {figures['latency_p50']} s, p95 {figures['latency_p95']} s, max {figures['latency_max']} s "
                f"(queue p95 {figures['queue_wait_p95']} s); {figures['throughput_turns_per_minute']} turns/min, "
                f"{figures['cpu_seconds_per_turn']} CPU s/turn; "
                f"errors {figures['errors']}, lost sessions {figures['lost_sessions']}, peak RSS {figures['peak_rss_mb']} MB; "
                f"load {figures['load_before'][0]} → {figures['load_after'][0]}",
                flush=True,
            )
    finally:
        for burner in burners:
            burner.terminate()
    if args.json:
        args.json.write_text(json.dumps({"runs": runs}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
