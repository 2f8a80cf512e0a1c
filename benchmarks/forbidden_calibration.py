"""How often each kind of 服务忌语 hit is right, on labelled text performances (label text, no recogniser).

Every hit the scorer finds is classed by `trainer.scoring.forbidden.hit_evidence` and compared
with the labels two ways:
- labelled: was that entry labelled in that turn? (Strict: labellers who held to the seed's 14
  entries write 这事我解决不了，我也没办法 as one entry where the list has two, and do not label list
  entries beyond the seed's, 规定就是规定, in a performance they fail for other words.)
- failing: is the performance one the labeller fails? A counted hit fails a performance, so this
  is the share of hits whose failing verdict is right: the `FORBIDDEN_CONFIDENCE` figures in
  decide.py, smoothed by Laplace's rule of succession.
`--list` prints every hit with its clause.

    python benchmarks/forbidden_calibration.py tests/data/heldout tests/data/heldout_b ../shared/audio/scenarios

Use development sets only: a set used here is no longer a measurement set.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.evidence_calibration import performances  # noqa: E402
from trainer.asr.base import Transcript  # noqa: E402
from trainer.config import load_settings  # noqa: E402
from trainer.evaluation.runner import resolve_forbidden_label  # noqa: E402
from trainer.pipeline import load_library, score_turns  # noqa: E402
from trainer.scoring.document import TurnText  # noqa: E402
from trainer.text.stage import without_stage_directions  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--list", action="store_true", help="print every hit")
    args = parser.parse_args()
    settings = load_settings()
    library = load_library(settings)
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # kind -> [hits, labelled, in failing performances]
    for folder in args.sets:
        for perf in performances(folder):
            turns = [
                TurnText(Transcript(text=without_stage_directions(t["text"]), engine="oracle"), customer=t.get("customer", ""))
                for t in perf["turns"]
            ]
            failing = perf.get("expect", {}).get("passed") is False
            result = score_turns(turns, perf["scenario"], settings, library=library)
            for hit in (*result.forbidden, *result.forbidden_doubtful):
                turn = perf["turns"][hit.turn - 1]
                detected = {h.id for h in (*result.forbidden, *result.forbidden_doubtful) if h.turn == hit.turn}
                labelled = {resolve_forbidden_label(f, library, perf["scenario"], detected) for f in turn.get("forbidden", [])}
                right = hit.id in labelled
                tally[hit.evidence][0] += 1
                tally[hit.evidence][1] += right
                tally[hit.evidence][2] += failing
                if args.list:
                    mark = ("✓" if right else "✗") + ("F" if failing else "P")
                    print(f"{mark} {hit.evidence:<10} {perf['id']:<24} {hit.id:<20} {hit.matched_text}  «{turn['text']}»")
    print(f"{'evidence':<16}{'hits':>6}{'labelled':>10}{'failing':>9}{'confidence':>12}")
    for key in sorted(tally):
        n, right, fails = tally[key]
        print(f"{key:<16}{n:>6}{right / n:>10.3f}{fails / n:>9.3f}{(fails + 1) / (n + 2):>12.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
