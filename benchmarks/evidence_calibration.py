"""How often each kind of step evidence is right, on labelled text performances (label text, no recogniser).

For every labelled performance and every step of its scenario, the scorer's evidence kind
(trainer/scoring/decide.py) is compared with the label: was the step performed anywhere in the
performance? Prints, per kind (and per similarity band for partial matches), how many decisions
there were and the share in which the step was labelled performed. These shares are the
`EVIDENCE_CONFIDENCE` figures in decide.py: P(the best guess is right): P(performed) for a hit or partial, P(not performed) for a miss,
smoothed by Laplace's rule of succession.

    python benchmarks/evidence_calibration.py tests/data/heldout tests/data/heldout_b ../shared/audio/scenarios

Each argument is a folder with performances.json (a held-out set) or a folder of labels.json folders
(the dev set). Use development sets only: a set used here is no longer a measurement set.
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
from trainer.pipeline import load_library, score_turns  # noqa: E402
from trainer.config import load_settings  # noqa: E402
from trainer.scoring.document import TurnText  # noqa: E402
from trainer.text.stage import without_stage_directions  # noqa: E402


def performances(folder: Path) -> list[dict]:
    if (folder / "performances.json").exists():
        return json.loads((folder / "performances.json").read_text(encoding="utf-8"))
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*/labels.json"))]


from trainer.scoring.decide import CONTENT_CONFIRMED, CONTENT_IN_EXPECTED_TURN, CONTENT_IN_PLACE, PARTIAL_IN_PLACE  # noqa: E402
from trainer.scoring.result import MISSED  # noqa: E402  a best guess of "missed" is right when the step was not performed


def band(similarity: float) -> str:
    low = int(similarity * 20) / 20
    return f"{low:.2f}-{low + 0.05:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    args = parser.parse_args()
    settings = load_settings()
    library = load_library(settings)
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # kind -> [n, labelled performed, best guess right]
    for folder in args.sets:
        for perf in performances(folder):
            # what a recogniser would hear: stage directions are done, not said
            turns = [
                TurnText(Transcript(text=without_stage_directions(t["text"]), engine="oracle"), customer=t.get("customer", ""))
                for t in perf["turns"]
            ]
            result = score_turns(turns, perf["scenario"], settings, library=library)
            labelled = {s for t in perf["turns"] for s in t["steps"]}
            for step in result.steps:
                keys = [step.evidence, f"{step.evidence}, {'required' if step.required else 'optional'}"]
                if step.evidence == "partial":
                    keys.append(f"partial {band(step.similarity)}")
                    # said where the step belongs (decide.PARTIAL_IN_PLACE), or elsewhere
                    keys.append("partial, in place" if step.confidence == PARTIAL_IN_PLACE else "partial, elsewhere")
                if step.evidence == "content":  # said in the turn answering the step's customer line, or elsewhere
                    answering = step.confidence == CONTENT_IN_EXPECTED_TURN  # decide.py raises it there
                    keys.append("content, answering turn" if answering else "content, other turn")
                    if step.required:  # confirmed with the customer by a tag (decide.CONTENT_CONFIRMED), or not
                        keys.append("content, required, confirmed" if step.confidence == CONTENT_CONFIRMED else "content, required, not confirmed")
                        # said where the step belongs, between the steps performed before and after it (decide.CONTENT_IN_PLACE)
                        keys.append("content, required, in place" if step.confidence == CONTENT_IN_PLACE else "content, required, elsewhere")
                guessed_performed = step.status != MISSED  # a partial guesses performed, in part
                for key in keys:
                    tally[key][0] += 1
                    tally[key][1] += step.id in labelled
                    tally[key][2] += (step.id in labelled) == guessed_performed
    print(f"{'evidence':<20}{'n':>6}{'labelled performed':>20}{'confidence':>12}")
    for key in sorted(tally):
        n, performed, right = tally[key]
        # Laplace's rule of succession: (right + 1) / (n + 2), so a small count is not read as certainty
        print(f"{key:<20}{n:>6}{performed / n:>20.3f}{(right + 1) / (n + 2):>12.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
