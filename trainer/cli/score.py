"""`trainer score AUDIO... --scenario ID [--engine E] [--model PATH] [--json]` and `trainer score --text "..." --scenario ID`.

Several audio files are the turns of one performance, in order; one file is a
whole performance, cut into its answers at pauses of `--pause-seconds` (default 1 s,
as terminal practice) and scored answer by answer (`--no-split`: as one turn). `--text` may be repeated, one turn each. `--json` prints
exactly one JSON object (the contract in trainer.scoring.result); otherwise a
readable report. Exit 0 when scoring ran, whatever the score; 2 with a one-line
reason on bad input or an unknown scenario.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from trainer.cli.console import print_json, output_console
from trainer.cli.phrasebook import warn_problems
from trainer.config import ENGINES, Settings
from trainer.endpoint import EndpointConfig
from trainer.errors import TrainerError
from trainer.evaluation.cache import TranscriptCache
from trainer.pipeline import load_library, score_text, transcribe_and_score
from trainer.phrasebook.model import SEVERITY_LABELS
from trainer.scoring import display
from trainer.scoring.advice import advice_lines
from trainer.scoring.result import FAIL, HIT, MISSED, PARTIAL, PASS, REVIEW, VERDICT_LABELS, ScoreResult


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score",
        help="给一段表演（录音或文字）评分",
        description="按场景的标准用语、服务忌语、唱收唱付和语速给学员的表演评分。多个录音文件依次是同一次表演的各句。",
    )
    parser.add_argument("audio", nargs="*", type=Path, metavar="AUDIO", help="录音文件（按顺序，每个文件一句；只给一个文件时是整段表演）")
    parser.add_argument("--scenario", metavar="ID", help="场景编号，例如 payment（见 trainer phrasebook list）")
    parser.add_argument("--text", action="append", metavar="TEXT", help="直接给文字评分（可重复，每个一句）")
    parser.add_argument("--engine", choices=ENGINES, help="识别引擎（默认取配置，否则 vosk）")
    parser.add_argument("--model", type=Path, metavar="PATH", help="模型文件夹（默认取配置 / 环境变量）")
    parser.add_argument(
        "--pause-seconds",
        type=float,
        default=EndpointConfig().pause_seconds,
        metavar="S",
        help="只给一个录音文件时，在至少 S 秒的停顿处切成一句一句分别识别、评分（默认 %(default)s 秒，与终端练习相同）",
    )
    parser.add_argument("--no-split", action="store_true", help="只给一个录音文件时不切分，把整段录音当作一句评分")
    parser.add_argument("--exam", action="store_true", help="考试规则：出现任何服务忌语即不及格")
    parser.add_argument("--cache", action="store_true", help="缓存转写结果（~/.cache/trainer），重复评分同一录音时更快")
    parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not args.scenario:
        raise TrainerError("请用 --scenario 指定场景编号（可用 trainer phrasebook list 查看）。", "--scenario is required")
    if args.text and args.audio:
        raise TrainerError("请只给录音文件或 --text 文字中的一种，不要同时给。", "both AUDIO and --text given")
    if not args.text and not args.audio:
        raise TrainerError("请给出录音文件，或用 --text 给出要评分的文字。", "neither AUDIO nor --text given")
    if not args.pause_seconds > 0:
        raise TrainerError(f"--pause-seconds 必须大于 0（现在是 {args.pause_seconds}），例如 --pause-seconds 1.0。", f"--pause-seconds {args.pause_seconds}")
    library = load_library(settings)
    warn_problems(library)
    library.scenario(args.scenario)
    if args.text:
        result = score_text(args.text, args.scenario, settings, library=library, exam=args.exam)
    else:
        for path in args.audio:
            _check_audio_argument(path)
        result = transcribe_and_score(
            list(args.audio),
            args.scenario,
            settings,
            args.engine,
            model_path=args.model,
            library=library,
            exam=args.exam,
            cache=TranscriptCache() if args.cache else None,
            split_pauses=None if args.no_split else args.pause_seconds,
        )
    if args.json:
        print_json(result.to_dict())
    else:
        print_report(result)
    return 0


def _check_audio_argument(path: Path) -> None:
    """Name what is wrong with an AUDIO argument: missing, a folder, or not a regular file."""
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir() if p.is_file())[:5]
        hint = f"（文件夹里有：{'、'.join(inside)}{' 等' if len(inside) == 5 else ''}）" if inside else "（文件夹是空的）"
        raise TrainerError(
            f"{path} 是一个文件夹，不是录音文件{hint}。请逐个给出录音文件，按顺序每个文件一句，例如 {path / 'turn01.wav'} {path / 'turn02.wav'}。",
            f"audio argument {path} is a directory",
        )
    if not path.exists():
        raise TrainerError(f"找不到录音文件 {path}。请检查路径。", f"audio file {path} does not exist")
    if not path.is_file():
        raise TrainerError(f"{path} 不是普通文件（可能是设备或管道），请给出录音文件。", f"audio argument {path} is not a regular file")


_STATUS = {HIT: "[green]✓ 完成[/green]", PARTIAL: "[yellow]△ 不完整[/yellow]", MISSED: "[red]✗ 缺少[/red]"}


def _yuan(value: float | None) -> str:
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}s"


def print_report(result: ScoreResult, console: Console | None = None) -> None:
    console = console or output_console()
    colour = {PASS: "green", FAIL: "red", REVIEW: "yellow"}[result.decision]
    verdict = f"[bold {colour}]{VERDICT_LABELS[result.decision]}[/bold {colour}]"
    if result.decision == REVIEW:
        verdict += f"（机器无法确定，由教师复核；机评倾向：{display.passed_label(result.passed)}）"
    title = result.scenario_title or result.scenario
    console.print(f"[bold]{title}[/bold]（{result.scenario}）  总分 [bold]{display.score_text(result.score.total)}[/bold]  {verdict}")
    if result.fail_reasons and not result.passed:
        console.print("  " + "；".join(result.fail_reasons))
    for turn_no, turn in enumerate(result.turns, 1):
        name = f"{turn.file} " if turn.file else ""
        console.print(f"  [dim]{turn_no}. {name}[/dim]{turn.text}")

    steps = Table(title="标准用语步骤", show_lines=False)
    for column in ("步骤", "结果", "相似度", "听到", "句", "时间", "标准说法"):
        steps.add_column(column)
    for step in result.steps:
        status = _STATUS.get(step.status, step.status)
        if step.out_of_order:
            status += " [yellow](顺序)[/yellow]"
        if not step.required:
            status += " [dim](可选)[/dim]"
        steps.add_row(
            step.title or step.id,
            status,
            f"{step.similarity:.2f}" if step.status != MISSED else "",
            step.matched_text,
            str(step.turn or ""),
            _seconds(step.start),
            step.expected,
        )
    console.print(steps)

    if result.forbidden:
        table = Table(title="服务忌语")
        for column in ("忌语", "听到", "句", "时间", "严重程度", "应改为"):
            table.add_column(column)
        for hit in result.forbidden:
            severity = SEVERITY_LABELS.get(hit.severity, hit.severity)
            if not hit.certain:
                severity += f"（{display.UNSURE_FORBIDDEN_NAME}，{display.UNSURE_FORBIDDEN_NOTE}）"
            table.add_row(hit.phrase, hit.matched_text, str(hit.turn), _seconds(hit.start), severity, hit.suggestion)
        console.print(table)
    else:
        console.print("服务忌语：[green]无[/green]")

    if result.amounts is not None:
        a = result.amounts
        mark = "[green]一致[/green]" if a.consistent else "[red]不一致[/red]"
        console.print(f"唱收唱付：应交 {_yuan(a.bill)}  实收 {_yuan(a.received)}  找零 {_yuan(a.change)}  {mark}")

    f = result.fluency
    rate = f"{f.chars_per_min:.0f} 字/分钟" if f.timed else "（文字输入，无语速）"
    console.print(f"流利度：语速 {rate}，口头语 {f.fillers} 次，长停顿 {f.long_pauses} 处")
    dims = "  ".join(f"{_DIMENSION_NAMES.get(k, k)} {v:.0f}" for k, v in result.score.dimensions.items())
    console.print(f"分项：{dims}")
    console.print("[bold]建议（按轮次，每条只写一次）：[/bold]")
    for line in advice_lines(result.advice) or ["表现很好：步骤完整、顺序正确，没有服务忌语。"]:
        console.print(f"  {line}", markup=False, highlight=False)


_DIMENSION_NAMES = {
    "coverage": "步骤完整",
    "order": "顺序",
    "forbidden": "忌语",
    "politeness": "礼貌",
    "amounts": "唱收唱付",
    "fluency": "流利度",
}
