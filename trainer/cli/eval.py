"""`trainer eval DIR [--engine E] [--model PATH] [--mode turns|full|both] [--json]`.

Runs every labelled performance in DIR (format: ../shared/audio/README.md)
through the recogniser and the scorer and prints step and forbidden-phrase
precision/recall, forbidden hits on clean turns, pass/fail and amount
agreement, and the disagreements. Transcripts are cached (see
trainer.evaluation.cache; `--no-cache` turns it off). `--oracle` uses the label
texts instead of audio: it measures the matcher alone. `--split-pauses S` cuts
full.wav into answers at pauses of S seconds and scores them as turns (full mode; the
metrics stay per performance, plus how many answers each full.wav gave).

`trainer eval --reviews [--sessions DIR] [--json]` instead reports how often the machine and
the instructors agree over reviewed sessions (per step and overall, % and Cohen's kappa, and
pass/fail); the rule is in trainer/sessions/agreement.py.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from trainer.asr.base import Transcript
from trainer.config import ENGINES, Settings
from trainer.errors import TrainerError
from trainer.evaluation.cache import TranscriptCache
from trainer.evaluation.dataset import load_dataset
from trainer.evaluation.runner import MODES, ModeReport, run_evaluation
from trainer.audio import Audio, load_audio
from trainer.cli.console import print_json, output_console
from trainer.endpoint import EndpointConfig
from trainer.pipeline import answer_turns, load_library, score_turns, transcribe_turns
from trainer.segment import split_at_pauses
from trainer.scoring.document import TurnText
from trainer.text.stage import without_stage_directions


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="在标注好的录音上测量评分准确率",
        description="对 DIR 下每个带 labels.json 的表演评分，并与标注比较（步骤、忌语、及格、唱收唱付）。",
    )
    parser.add_argument("dir", type=Path, nargs="?", metavar="DIR", help="评测文件夹，例如 ../shared/audio/scenarios（用 --reviews 时不需要）")
    parser.add_argument("--engine", choices=ENGINES, help="识别引擎（默认取配置，否则 vosk）")
    parser.add_argument("--model", type=Path, metavar="PATH", help="模型文件夹")
    parser.add_argument("--mode", choices=("turns", "full", "both"), default="both", help="逐句文件、整段 full.wav，或两者（默认）")
    parser.add_argument(
        "--split-pauses",
        type=float,
        metavar="S",
        help="整段模式：先在至少 S 秒的停顿处把 full.wav 切成一句一句，再逐句识别、评分（默认不切，与以往的数字可比）",
    )
    parser.add_argument("--oracle", action="store_true", help="不识别录音，直接用标注文字（只测匹配本身）")
    parser.add_argument("--no-cache", action="store_true", help="不使用转写缓存")
    parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
    parser.add_argument("--reviews", action="store_true", help="改为统计机评与教师复核的一致性（一致率、Cohen's kappa）")
    parser.add_argument("--sessions", type=Path, metavar="DIR", help="与 --reviews 一起用：会话目录（默认取配置 sessions_dir）")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if getattr(args, "reviews", False):
        return run_reviews(args, settings)
    if args.dir is None:
        raise TrainerError(
            "请给出评测文件夹 DIR（例如 ../shared/audio/scenarios），或用 --reviews 统计机评与教师复核的一致性。",
            "eval without DIR and without --reviews",
        )
    performances = load_dataset(args.dir)
    library = load_library(settings)
    for perf in performances:
        library.scenario(perf.scenario)
    modes = MODES if args.mode == "both" else (args.mode,)
    engine = "oracle" if args.oracle else (args.engine or settings.engine)
    split = getattr(args, "split_pauses", None)
    if split is not None:
        if not split > 0:
            raise TrainerError(f"--split-pauses 必须大于 0（现在是 {split}），例如 --split-pauses 1.0。", f"--split-pauses {split}")
        if args.oracle:
            raise TrainerError("--split-pauses 在录音的停顿处切分，不能与 --oracle（直接用标注文字）一起用。", "--split-pauses with --oracle")
        if "full" not in modes:
            raise TrainerError("--split-pauses 只切分整段录音 full.wav：请用 --mode full 或 --mode both。", "--split-pauses with --mode turns")
    split_full: Callable[[Path], list[Transcript]] | None = None  # full.wav shared out at pauses (--split-pauses)

    if args.oracle:
        # The label text as a recogniser would hear it: stage directions (（拉闸换表）) are done, not said.
        texts = {perf.folder / t.file: without_stage_directions(t.text) for perf in performances for t in perf.turns}
        full = {perf.full_path: "".join(without_stage_directions(t.text) for t in perf.turns) for perf in performances}

        def transcribe(paths: Sequence[Path]) -> list[Transcript]:
            return [Transcript(text=texts.get(p, full.get(p, "")), engine="oracle") for p in paths]

    else:
        from trainer.asr.factory import get_recognizer

        recognizer = get_recognizer(settings, engine=engine, model_path=args.model)
        cache = None if args.no_cache else TranscriptCache()

        def load(path: Path) -> Audio:
            # A labelled turn may be (nearly) silent — a bare 嗯 — which is data here, not a recording to refuse.
            return load_audio(path, max_seconds=settings.max_audio_seconds, require_speech=False, name=path.name)

        def transcribe_audios(audios: Sequence[Audio], names: Sequence[str]) -> list[Transcript]:
            turns = transcribe_turns(audios, settings, engine, model_path=args.model, recognizer=recognizer, cache=cache, names=names)
            return [t.transcript for t in turns]

        def transcribe(paths: Sequence[Path]) -> list[Transcript]:
            return transcribe_audios([load(p) for p in paths], [p.name for p in paths])

        if split is not None:

            def recognise_and_split(path: Path) -> list[Transcript]:
                """full.wav recognised whole, its words shared out among the answers found at pauses."""
                audio = load(path)
                whole = transcribe_audios([audio], [path.name])
                answers = split_at_pauses(audio, EndpointConfig(pause_seconds=split))
                if not answers:  # no speech found: the whole recording, as without splitting
                    return whole
                return [t.transcript for t in answer_turns(whole[0], [(a.start, a.end) for a in answers])]

            split_full = recognise_and_split

    def score(turns: Sequence[TurnText], scenario_id: str):  # type: ignore[no-untyped-def]
        return score_turns(turns, scenario_id, settings, library=library, engine=engine)

    progress = None if args.json else (lambda msg: print(f"  {msg}", file=sys.stderr))
    reports = run_evaluation(performances, transcribe, score, library, modes, progress, split_full)
    if args.json:
        document = {
            "dir": str(args.dir),
            "engine": engine,
            "model": "" if args.oracle else str(args.model or settings.model_path(engine)),
            "performances": len(performances),
            "split_pauses": split,
            "modes": {mode: report.to_dict() for mode, report in reports.items()},
        }
        print_json(document)
    else:
        print_reports(reports, engine)
    return 0


def print_reports(reports: dict[str, ModeReport], engine: str, console: Console | None = None) -> None:
    console = console or output_console()
    table = Table(title=f"评测结果（引擎 {engine}）")
    for column in ("模式", "表演数", "步骤 P", "步骤 R", "忌语 P", "忌语 R", "干净句误报", "其中及格表演", "及格一致", "待复核", "机判一致", "金额一致"):
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
            str(r.passing_false_hits),
            f"{r.passed.agree}/{r.passed.total}",
            f"{r.review}/{r.passed.total}",
            f"{r.decided.agree}/{r.decided.total}",
            f"{r.amounts.agree}/{r.amounts.total}",
        )
    console.print(table)
    for mode, r in reports.items():
        if mode == "turns":
            sp = r.steps_in_performance
            console.print(f"步骤按整段表演比较（{mode}，在任一轮说到即算）：P {sp.precision:.3f}，R {sp.recall:.3f}")
            sa = r.steps_any_turn
            console.print(f"步骤逐轮比较，算上同一步骤又说到的各轮（{mode}）：P {sa.precision:.3f}，R {sa.recall:.3f}")
    for mode, r in reports.items():
        if r.split is not None:
            sp = r.split
            console.print(
                f"整段录音按停顿切分（{mode}）：切出 {sp.pieces} 句，标注 {sp.turns} 句；"
                f"句数相同 {sp.exact}，多切 {sp.over}，少切 {sp.under}"
            )
    for mode, r in reports.items():
        if r.disagreements:
            console.print(f"[bold]不一致（{mode}）：[/bold]")
            for d in r.disagreements:
                console.print(f"  {d.performance}  {d.kind}  {d.detail}")


# --- machine vs. instructor agreement over reviewed sessions (--reviews) ---------------------------


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _kappa(value: float | None) -> str:
    return "无法计算" if value is None else f"{value:.3f}"


def run_reviews(args: argparse.Namespace, settings: Settings) -> int:
    from trainer.sessions import SessionStore
    from trainer.sessions.agreement import agreement_from_store

    root = args.sessions or settings.sessions_dir
    if not Path(root).is_dir():
        raise TrainerError(f"会话目录 {root} 不存在。请用 --sessions 指定，或检查配置项 sessions_dir。", f"sessions dir {root} missing")
    if args.dir is not None:
        print(f"注意：使用 --reviews 时忽略评测文件夹 {args.dir}。", file=sys.stderr)
    report = agreement_from_store(SessionStore(Path(root)))
    if args.json:
        print_json({"sessions_dir": str(root), **report.to_dict()})
        return 0
    print_agreement(report, load_library(settings))
    return 0


def print_agreement(report, library=None, console: Console | None = None) -> None:  # type: ignore[no-untyped-def]
    console = console or output_console()
    if not report.sessions:
        console.print("还没有复核过的会话：请先在“教师”页面复核会话，再统计一致性。")
        return
    titles = {
        (sid, step.id): f"{scenario.title} · {step.title}"
        for sid, scenario in (library.scenarios.items() if library is not None else ())
        for step in scenario.steps
    }
    table = Table(title=f"机评与教师复核的一致性（{report.sessions} 个已复核的会话）")
    for column in ("场景 · 步骤", "样本数", "一致", "一致率", "kappa", "机评完成、教师否定", "机评未完成、教师认可"):
        table.add_column(column, overflow="fold")
    for s in report.steps:
        a = s.agreement
        table.add_row(
            titles.get((s.scenario_id, s.step_id), f"{s.scenario_id} · {s.step_id}"),
            str(a.n), str(a.agree), _percent(a.percent), _kappa(a.kappa),
            str(a.machine_only), str(a.instructor_only),
        )
    console.print(table)
    o, p = report.overall, report.passed
    console.print(f"全部步骤：{o.agree}/{o.n} 一致（{_percent(o.percent)}），kappa {_kappa(o.kappa)}")
    console.print(f"及格/不及格：{p.agree}/{p.n} 一致（{_percent(p.percent)}），kappa {_kappa(p.kappa)}")
    if report.skipped_steps:
        console.print(f"[dim]另有 {report.skipped_steps} 个步骤未计入：复核为“改判”且没有对这些步骤给出意见。[/dim]")
    console.print(
        "[dim]规则：机评“完成”= 步骤判为命中；教师意见“同意”则与机评相同，“不同意”则相反；"
        "未给意见的步骤在总体意见为“同意机评”时计为同意，“改判”时不计入。kappa 在两方对所有样本给出同一结论时无法计算。[/dim]"
    )
