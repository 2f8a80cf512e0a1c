"""Scoring speed: a 3-minute transcript against the library (target: well under 50 ms).

The transcript is built from the shipped phrasebooks' own phrasings (turns of
~10–25 characters with word timings at ~200 字/分钟) until it covers three
minutes, Vosk-style (words separated by spaces). Measured:
- one scoring call against its scenario and the full forbidden list (what the
  app does after a performance), from transcript to ScoreResult;
- the same transcript scored against every scenario of the library.
Phrasebook patterns are compiled and cached on first use, so one warm-up
call precedes the timings; the first (cold) call is reported separately.

Run: python benchmarks/scoring_bench.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer.asr.base import Transcript, Word  # noqa: E402
from trainer.config import Settings  # noqa: E402
from trainer.evaluation.noise import fill_slots  # noqa: E402
from trainer.pipeline import load_library, score_turns  # noqa: E402
from trainer.scoring.document import TurnText  # noqa: E402

CHARS_PER_SECOND = 200 / 60


def three_minute_turns(library, scenario_id: str, seconds: float = 180.0) -> list[TurnText]:  # type: ignore[no-untyped-def]
    rng = random.Random(42)
    scenario = library.scenario(scenario_id)
    phrasings = [fill_slots(p, scenario, rng) for step in scenario.steps for p in step.all_phrasings]
    others = [fill_slots(p, s, rng) for s in library.scenarios.values() for step in s.steps for p in step.phrases]
    turns: list[TurnText] = []
    total = 0.0
    while total < seconds:
        text = rng.choice(phrasings if rng.random() < 0.6 else others)
        chars = [c for c in text if not c.isspace()]
        words, t = [], 0.2
        for k in range(0, len(chars), 2):
            piece = "".join(chars[k : k + 2])
            duration = len(piece) / CHARS_PER_SECOND
            words.append(Word(piece, t, t + duration))
            t += duration
        transcript = Transcript(text=" ".join(w.text for w in words), words=tuple(words), duration=t + 0.3, engine="vosk")
        turns.append(TurnText(transcript, f"turn{len(turns) + 1:02d}.wav"))
        total += transcript.duration
    return turns


def timed(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--scenario", default="payment")
    args = parser.parse_args()
    settings = Settings()
    library = load_library(settings)
    turns = three_minute_turns(library, args.scenario)
    chars = sum(len(t.transcript.text.replace(" ", "")) for t in turns)
    duration = sum(t.transcript.duration for t in turns)

    start = time.perf_counter()
    score_turns(turns, args.scenario, settings, library=library)
    cold = (time.perf_counter() - start) * 1000

    one = timed(lambda: score_turns(turns, args.scenario, settings, library=library), args.repeat)
    ids = sorted(library.scenarios)
    for sid in ids:  # warm every scenario's patterns once
        score_turns(turns, sid, settings, library=library)
    every = timed(lambda: [score_turns(turns, sid, settings, library=library) for sid in ids], max(3, args.repeat // 4))

    print(f"transcript: {len(turns)} turns, {chars} characters, {duration:.0f} s")
    print(f"forbidden entries: {len(library.forbidden_for(args.scenario))}; scenarios: {len(ids)}")
    print(f"cold first call (patterns compiled): {cold:.1f} ms")
    print(f"score vs '{args.scenario}' + forbidden list: median {statistics.median(one):.1f} ms, min {min(one):.1f} ms, max {max(one):.1f} ms")
    print(
        f"score vs all {len(ids)} scenarios: median {statistics.median(every):.1f} ms "
        f"({statistics.median(every) / len(ids):.1f} ms per scenario)"
    )


if __name__ == "__main__":
    main()
