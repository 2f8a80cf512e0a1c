"""ASR benchmark: real-time factor, pipeline overhead, model load time, peak RSS, CER.

Runs one engine over the real recordings in ../shared/audio/real/aishell_sample_2spk.
For every file it times
  direct   — the engine called the plain way: stdlib `wave` reads the file, then
             faster-whisper's `WhisperModel.transcribe` / Vosk's `KaldiRecognizer`
             on the samples (same model object, same decoding options);
  pipeline — what the app does: `trainer.audio.load_audio` (validation, level and
             speech checks) + our recogniser's `transcribe` (Transcript building).
The two runs alternate per file so that CPU contention affects both alike.

    python benchmarks/asr_bench.py --engine whisper --model ../shared/models/whisper-base
    python benchmarks/asr_bench.py --engine vosk --model <vosk model folder>

See benchmarks/README.md for results and how to read them.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import time
import wave
from pathlib import Path

import numpy as np
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from trainer.audio import load_audio  # noqa: E402
from trainer.text.cer import corpus_cer  # noqa: E402

DEFAULT_AUDIO = REPO.parent / "shared" / "audio" / "real" / "aishell_sample_2spk"


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        assert wav.getframerate() == 16000 and wav.getnchannels() == 1 and wav.getsampwidth() == 2
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


def direct_whisper(model, path: Path, vad: bool) -> str:
    samples = read_wav(path).astype(np.float32) / 32768.0
    segments, _ = model.transcribe(samples, language="zh", word_timestamps=True, vad_filter=vad)
    return "".join(s.text for s in segments)


def direct_vosk(model, path: Path) -> str:
    import vosk

    data = read_wav(path).tobytes()
    rec = vosk.KaldiRecognizer(model, 16000)
    rec.SetWords(True)
    step = 16000  # bytes = 0.5 s, the same chunk size the adapter uses
    for i in range(0, len(data), step):
        rec.AcceptWaveform(data[i : i + step])
    return json.loads(rec.FinalResult())["text"].replace(" ", "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("vosk", "whisper"), required=True)
    parser.add_argument("--model", type=Path, required=True, help="model folder")
    parser.add_argument("--audio", type=Path, default=DEFAULT_AUDIO, help="folder with manifest.tsv")
    parser.add_argument("--limit", type=int, default=0, help="only the first N files (0: all)")
    parser.add_argument("--repeat", type=int, default=1, help="time each file N times and keep the fastest (default 1)")
    parser.add_argument("--vad", action="store_true", help="whisper: turn on faster-whisper's VAD filter")
    parser.add_argument("--no-direct", action="store_true", help="skip the direct runs (RTF and CER only)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()

    with (args.audio / "manifest.tsv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if args.limit:
        rows = rows[: args.limit]
    proc = psutil.Process()
    rss_start = proc.memory_info().rss

    t0 = time.perf_counter()
    if args.engine == "whisper":
        from trainer.asr.whisper_engine import WhisperRecognizer

        recognizer = WhisperRecognizer(args.model, vad_filter=args.vad)
    else:
        from trainer.asr.vosk_engine import VoskRecognizer

        recognizer = VoskRecognizer(args.model)
    load_seconds = time.perf_counter() - t0
    rss_model = proc.memory_info().rss
    engine_model = recognizer._model  # the same shared model object for the direct runs

    audio_seconds = direct_total = pipeline_total = load_audio_total = 0.0
    pairs_all, pairs_zh = [], []
    for i, row in enumerate(rows):
        path = args.audio / row["file"]
        direct_times, pipeline_times, load_times = [], [], []
        for rep in range(args.repeat):
            runs = ("direct", "pipeline") if (i + rep) % 2 == 0 else ("pipeline", "direct")
            for run in runs:
                if run == "direct":
                    if args.no_direct:
                        continue
                    t = time.perf_counter()
                    if args.engine == "whisper":
                        direct_whisper(engine_model, path, args.vad)
                    else:
                        direct_vosk(engine_model, path)
                    direct_times.append(time.perf_counter() - t)
                else:
                    t = time.perf_counter()
                    audio = load_audio(path)
                    load_times.append(time.perf_counter() - t)
                    transcript = recognizer.transcribe(audio)
                    pipeline_times.append(time.perf_counter() - t)
        # the fastest of the repeats: the least disturbed by other processes on the machine
        direct_total += min(direct_times, default=0.0)
        pipeline_total += min(pipeline_times)
        load_audio_total += min(load_times)
        audio_seconds += audio.duration
        pairs_all.append((row["transcript_plain"], transcript.text))
        if row.get("has_latin") == "0":
            pairs_zh.append((row["transcript_plain"], transcript.text))
        print(f"\r{i + 1}/{len(rows)} files", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    figures = {
        "engine": args.engine,
        "model": str(args.model),
        "vad_filter": args.vad if args.engine == "whisper" else None,
        "files": len(rows),
        "audio_seconds": round(audio_seconds, 2),
        "cpu_count": os.cpu_count(),
        "model_load_seconds": round(load_seconds, 3),
        "repeat": args.repeat,
        "rtf_pipeline": round(pipeline_total / audio_seconds, 4),
        "load_audio_seconds_total": round(load_audio_total, 3),
        "cer_all": round(corpus_cer(pairs_all), 4),
        "cer_without_latin": round(corpus_cer(pairs_zh), 4) if pairs_zh else None,
        "rss_before_model_mb": round(rss_start / 2**20, 1),
        "rss_after_model_mb": round(rss_model / 2**20, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if not args.no_direct:
        figures["rtf_direct"] = round(direct_total / audio_seconds, 4)
        figures["pipeline_overhead_percent"] = round(100 * (pipeline_total - direct_total) / direct_total, 2)
        figures["load_audio_percent_of_direct"] = round(100 * load_audio_total / direct_total, 2)
    for key, value in figures.items():
        print(f"{key:28} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
