"""How long keeping a practice run on the server costs per answered turn (trainer/sessions/drafts.py).

Saves a 10-turn run turn by turn, as the practice page does after every answer, with the real
recordings of ../shared/audio/scenarios/dev_payment_full, then loads it back (what 继续 reads).
Every save is fsynced: the figure depends on the disk.

    python benchmarks/draft_bench.py [--audio DIR] [--repeat N] [--dir TMPDIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from trainer.sessions.drafts import Draft, DraftStore, DraftTurn  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, default=REPO_ROOT.parent / "shared" / "audio" / "scenarios" / "dev_payment_full")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: a temporary folder)")
    args = parser.parse_args()
    files = sorted(args.audio.glob("turn*.wav"))
    if not files:
        print(f"no turn*.wav in {args.audio}", file=sys.stderr)
        return 2
    audio = [f.read_bytes() for f in files]
    saves: list[float] = []
    loads: list[float] = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for rep in range(args.repeat):
            store = DraftStore(Path(tmp) / f"drafts{rep}")
            turns: list[DraftTurn] = []
            for n, data in enumerate(audio, start=1):
                turns.append(DraftTurn(n, "客户的话", data, f"turn{n}.wav", "microphone", {"text": "您好" * 10, "segments": []}, 3.0))
                draft = Draft("E1024", "run", "payment", "柜台收费", len(audio), "E1024", "张三", "2026-12-05T00:00:00Z", "v", tuple(turns), {"total": 1.0})
                started = time.perf_counter()
                store.save(draft)
                saves.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert store.load("E1024") == draft
            loads.append(time.perf_counter() - started)
    size = sum(len(a) for a in audio)
    print(f"{len(audio)} turns, {size / 1024:.0f} KiB of audio, {args.repeat} runs")
    print(f"save after a turn: median {statistics.median(saves) * 1000:.1f} ms, max {max(saves) * 1000:.1f} ms")
    print(f"load a 10-turn draft: median {statistics.median(loads) * 1000:.1f} ms, max {max(loads) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
