"""How often a review whose one doubt is a step of each kind of evidence is passed: DECIDING_CONFIDENCE.

A performance goes to review when its uncertain decisions decide the outcome. Where exactly one
doubt decides it (one uncertain required step; no uncertain 服务忌语, no amount the recogniser may
have garbled), the labels say whether the instructor passes the performance. Prints, per evidence
kind of that step, how many such reviews there were and the share passed, Laplace-smoothed
((passed + 1) / (n + 2)): the figures `DECIDING_CONFIDENCE` in trainer/scoring/decide.py uses for the
machine's leaning (`passed`) of a review. Compare them with `EVIDENCE_CONFIDENCE`, the same kind of
evidence step by step (benchmarks/evidence_calibration.py).

A last row counts every review (whatever its doubts) of a performance with little courtesy
(`Politeness.little_courtesy`): its share passed is `LITTLE_COURTESY_PASSED`, the cap on such a
review's leaning.

    python benchmarks/deciding_calibration.py tests/data/heldout tests/data/heldout_b       # label text
    python benchmarks/deciding_calibration.py --engine whisper --model ../shared/models/whisper-base \\
        --mode full /tmp/heldout_o_audio /tmp/heldout_p_audio                                 # recognised audio

Label text: each argument is a folder with performances.json (a held-out set) or a folder of labels.json
folders. Audio: folders made by benchmarks/make_heldout_audio.py (turn files and full.wav); transcripts
come from the same cache as `trainer eval`. Use development sets only: a set used here is no longer a
measurement set.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from trainer.asr.base import Transcript  # noqa: E402
from trainer.audio import load_audio  # noqa: E402
from trainer.config import load_settings  # noqa: E402
from trainer.evaluation.cache import TranscriptCache  # noqa: E402
from trainer.pipeline import load_library, score_turns, transcribe_turns  # noqa: E402
from trainer.scoring.document import TurnText, build_doc  # noqa: E402
from trainer.scoring.politeness import measure_politeness  # noqa: E402
from trainer.scoring.result import REVIEW, ScoreResult  # noqa: E402
from trainer.text.stage import without_stage_directions  # noqa: E402


def labelled_performances(folder: Path) -> list[tuple[dict, Path | None]]:
    """(labels, the folder of its audio or None) for each performance in `folder`."""
    if (folder / "performances.json").exists():
        return [(perf, None) for perf in json.loads((folder / "performances.json").read_text(encoding="utf-8"))]
    return [(json.loads(p.read_text(encoding="utf-8")), p.parent) for p in sorted(folder.glob("*/labels.json"))]


def deciding_step(result: ScoreResult) -> str | None:
    """The evidence kind of a review's one doubt, when that doubt is a single required step (else None)."""
    if result.verdict != REVIEW:
        return None
    doubtful = [s for s in result.steps if s.required and not s.certain]
    forbidden_doubts = [h for h in (*result.forbidden, *result.forbidden_doubtful) if not h.certain]
    garbled = result.amounts is not None and result.amounts.misheard
    if len(doubtful) != 1 or forbidden_doubts or garbled:
        return None
    return f"{doubtful[0].evidence} ({doubtful[0].status})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--engine", help="recognise the audio with this engine (default: score the label text)")
    parser.add_argument("--model", type=Path, help="model folder for --engine")
    parser.add_argument("--mode", choices=("turns", "full"), default="turns", help="audio: turn files or full.wav as one recording")
    args = parser.parse_args()
    settings = load_settings()
    library = load_library(settings)
    cache = TranscriptCache()
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # kind -> [reviews, passed by the labeller]
    courtesy = [0, 0]  # reviews of performances with little courtesy, passed by the labeller
    for folder in args.sets:
        for perf, audio in labelled_performances(folder):
            if args.engine:
                if audio is None:
                    parser.error(f"{folder}: --engine needs audio folders (benchmarks/make_heldout_audio.py), not performances.json")
                files = [t["file"] for t in perf["turns"]] if args.mode == "turns" else ["full.wav"]
                # a labelled turn may be (nearly) silent, a bare 嗯: data here, as in `trainer eval`
                audios = [load_audio(audio / f, max_seconds=settings.max_audio_seconds, require_speech=False, name=f) for f in files]
                heard = transcribe_turns(audios, settings, args.engine, model_path=args.model, cache=cache, names=files)
                customers = [t.get("customer", "") for t in perf["turns"]] if args.mode == "turns" else [""]
                turns = [TurnText(t.transcript, t.file, customer=c) for t, c in zip(heard, customers)]
            else:
                # what a recogniser would hear: stage directions are done, not said
                turns = [
                    TurnText(Transcript(text=without_stage_directions(t["text"]), engine="oracle"), customer=t.get("customer", ""))
                    for t in perf["turns"]
                ]
            result = score_turns(turns, perf["scenario"], settings, library=library)
            passed = perf["expect"].get("passed") is True
            kind = deciding_step(result)
            if kind is not None:
                tally[kind][0] += 1
                tally[kind][1] += passed
            if result.verdict == REVIEW and measure_politeness(build_doc(turns, library.lexicon.fillers), library.lexicon).little_courtesy:
                courtesy[0] += 1
                courtesy[1] += passed
    print(f"{'the one doubt':<24}{'reviews':>8}{'passed':>8}{'share':>8}{'smoothed':>10}")
    for kind in sorted(tally):
        n, passed = tally[kind]
        print(f"{kind:<24}{n:>8}{passed:>8}{passed / n:>8.3f}{(passed + 1) / (n + 2):>10.3f}")
    n, passed = courtesy
    share = f"{passed / n:>8.3f}" if n else f"{'-':>8}"
    print(f"{'little courtesy (any)':<24}{n:>8}{passed:>8}{share}{(passed + 1) / (n + 2):>10.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
