"""`trainer eval DIR [--engine E] [--model PATH] [--mode turns|full|both] [--json]`.

Runs every labelled performance in DIR (format: ../shared/audio/README.md)
through the recogniser and the scorer and prints step and forbidden-phrase
precision/recall, forbidden hits on clean turns, pass/fail and amount
agreement, and the disagreements. Transcripts are cached (see
trainer.evaluation.cache; `--no-cache` turns it off). `--oracle` uses the label
texts instead of audio: it measures the matcher alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from trainer.asr.base import Transcript
from trainer.config import ENGINES, Settings
from trainer.evaluation.cache import TranscriptCache
from trainer.evaluation.dataset import load_dataset
from trainer.evaluation.runner import MODES, ModeReport, run_evaluation
from trainer.pipeline import load_library, score_turns, transcribe_turns
from trainer.scoring.document import TurnText


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="在标注好的录音上测量评分准确率",
        description="对 DIR 下每个带 labels.json 的表演评分，并与标注比较（步骤、忌语、及格、唱收唱付）。",
    )
    parser.add_argument("dir", type=Path, metavar="DIR", help="评测文件夹，例如 ../shared/audio/scenarios")
    parser.add_argument("--engine", choices=ENGINES, help="识别引擎（默认取配置，否则 vosk）")
    parser.add_argument("--model", type=Path, metavar="PATH", help="模型文件夹")
    parser.add_argument("--mode", choices=("turns", "full", "both"), default="both", help="逐句文件、整段 full.wav，或两者（默认）")
    parser.add_argument("--oracle", action="store_true", help="不识别录音，直接用标注文字（只测匹配本身）")
    parser.add_argument("--no-cache", action="store_true", help="不使用转写缓存")
    parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    performances = load_dataset(args.dir)
    library = load_library(settings)
    for perf in performances:
        library.scenario(perf.scenario)
    modes = MODES if args.mode == "both" else (args.mode,)
    engine = "oracle" if args.oracle else (args.engine or settings.engine)

    if args.oracle:
        texts = {perf.folder / t.file: t.text for perf in performances for t in perf.turns}
        full = {perf.full_path: "".join(t.text for t in perf.turns) for perf in performances}

        def transcribe(paths: Sequence[Path]) -> list[Transcript]:
            return [Transcript(text=texts.get(p, full.get(p, "")), engine="oracle") for p in paths]

    else:
        from trainer.asr.factory import get_recognizer

        recognizer = get_recognizer(settings, engine=engine, model_path=args.model)
        cache = None if args.no_cache else TranscriptCache()

        def transcribe(paths: Sequence[Path]) -> list[Transcript]:
            turns = transcribe_turns(list(paths), settings, engine, model_path=args.model, recognizer=recognizer, cache=cache)
            return [t.transcript for t in turns]

    def score(turns: Sequence[TurnText], scenario_id: str):  # type: ignore[no-untyped-def]
        return score_turns(turns, scenario_id, settings, library=library, engine=engine)

    progress = None if args.json else (lambda msg: print(f"  {msg}", file=sys.stderr))
    reports = run_evaluation(performances, transcribe, score, library, modes, progress)
    if args.json:
        document = {
            "dir": str(args.dir),
            "engine": engine,
            "model": "" if args.oracle else str(args.model or settings.model_path(engine)),
            "performances": len(performances),
            "modes": {mode: report.to_dict() for mode, report in reports.items()},
        }
        print(json.dumps(document, ensure_ascii=False))
    else:
        print_reports(reports, engine)
    return 0


def print_reports(reports: dict[str, ModeReport], engine: str, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"评测结果（引擎 {engine}）")
    for column in ("模式", "表演数", "步骤 P", "步骤 R", "忌语 P", "忌语 R", "干净句误报", "及格一致", "金额一致"):
        table.add_column(column)
    for mode, r in reports.items():
        table.add_row(
            mode,
            str(r.performances),
            f"{r.steps.precision:.3f}",
            f"{r.steps.recall:.3f}",
            f"{r.forbidden.precision:.3f}",
            f"{r.forbidden.recall:.3f}",
            f"{r.clean_false_hits}/{r.clean_units}",
            f"{r.passed.agree}/{r.passed.total}",
            f"{r.amounts.agree}/{r.amounts.total}",
        )
    console.print(table)
    for mode, r in reports.items():
        if r.disagreements:
            console.print(f"[bold]不一致（{mode}）：[/bold]")
            for d in r.disagreements:
                console.print(f"  {d.performance}  {d.kind}  {d.detail}")
