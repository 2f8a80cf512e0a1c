"""`trainer practice --scenario ID`: practise a scenario in the terminal, with a microphone or WAV files.

    trainer practice --scenario ID [--trainee ID --name NAME] [--device N|NAME]
                     [--engine E] [--model PATH] [--input-file WAV [--input-file WAV ...] [--fast]]
                     [--pause-seconds S] [--max-answer-seconds S] [--no-save] [--voice | --no-voice]

With one --input-file the recording is split into answers at pauses, exactly as a
microphone recording would be; with several, each file is one answer. Exit code 0
when the session ran, 130 after Ctrl-C (completed turns are saved), 2 on errors
(a disconnected microphone or a failing recogniser: what was recorded is scored and
saved first).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from trainer.cli.console import output_console
from trainer.asr.factory import get_recognizer
from trainer.audio import load_audio
from trainer.cli.phrasebook import warn_problems
from trainer.config import ENGINES, Settings
from trainer.errors import TrainerError
from trainer.phrasebook.loader import library_from_settings
from trainer.practice.capture import select_input_device
from trainer.endpoint import EndpointConfig
from trainer.practice.session import STATUS_DEVICE_LOST, STATUS_FAILED, STATUS_INTERRUPTED, PracticeOptions, run_practice
from trainer.practice.source import AudioSource, FileSource, MicrophoneSource
from trainer.practice.ui import PracticeUI
from trainer.practice.voice import TerminalVoice
from trainer.sessions.model import trainee_problem


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为秒数，例如 1.2，而不是“{text}”") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"秒数必须大于 0，而不是 {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    defaults = EndpointConfig()
    parser = subparsers.add_parser(
        "practice",
        help="在终端里练习一个场景（麦克风实时识别，或用录音文件）",
        description=(
            "在终端里练习一个场景：先显示场景说明，每一轮显示顾客的话，录下你的回答并实时显示识别文字，"
            "停顿后自动结束本轮（也可按 Enter），显示本轮结果；最后显示总分和改进建议并保存练习记录。"
            "Ctrl-C 结束练习并保存已完成的轮次。"
        ),
    )
    parser.add_argument("--scenario", required=True, metavar="ID", help="场景编号（trainer phrasebook list 查看）")
    parser.add_argument("--trainee", default="anonymous", metavar="ID", help="学员工号（保存记录用，默认 anonymous）")
    parser.add_argument("--name", default="", metavar="NAME", help="学员姓名")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--device", metavar="N|NAME", help="录音设备编号或名称的一部分（trainer devices 查看；默认系统默认设备）")
    source.add_argument(
        "--input-file",
        action="append",
        type=Path,
        metavar="WAV",
        help="用录音文件代替麦克风：一个文件时按停顿切分成各轮回答；重复本参数时每个文件是一轮回答",
    )
    parser.add_argument("--fast", action="store_true", help="与 --input-file 一起使用：不按实时速度播放，尽快处理")
    parser.add_argument("--engine", choices=ENGINES, help="识别引擎（默认取配置 / TRAINER_ENGINE，否则 vosk）")
    parser.add_argument("--model", type=Path, metavar="PATH", help="模型文件夹（默认取配置 / 环境变量）")
    parser.add_argument(
        "--pause-seconds",
        type=_positive_seconds,
        default=defaults.pause_seconds,
        metavar="S",
        help=f"说话后停顿多少秒算本轮回答结束（默认 {defaults.pause_seconds:g}）",
    )
    parser.add_argument(
        "--max-answer-seconds",
        type=_positive_seconds,
        default=defaults.max_answer_seconds,
        metavar="S",
        help=f"每轮回答最长秒数（默认 {defaults.max_answer_seconds:g}）",
    )
    parser.add_argument("--no-save", action="store_true", help="不保存练习记录")
    voice = parser.add_mutually_exclusive_group()
    voice.add_argument("--voice", dest="voice", action="store_true", default=None, help="用扬声器朗读顾客的话（用麦克风练习时默认开启）")
    voice.add_argument("--no-voice", dest="voice", action="store_false", help="不朗读顾客的话，只显示文字")
    parser.set_defaults(func=run)


def build_source(args: argparse.Namespace, settings: Settings) -> AudioSource:
    if args.input_file:
        recordings = [load_audio(path, max_seconds=settings.max_audio_seconds) for path in args.input_file]
        return FileSource(recordings, names=[p.name for p in args.input_file], fast=args.fast)
    return MicrophoneSource(select_input_device(args.device))  # PortAudio and the device checked before the model loads


def run(args: argparse.Namespace, settings: Settings, console: Console | None = None) -> int:
    if args.fast and not args.input_file:
        raise TrainerError("--fast 只能与 --input-file 一起使用（麦克风总是实时的）。", "--fast given without --input-file")
    if problem := trainee_problem(args.trainee, args.name):
        raise TrainerError(problem, "unprintable --trainee/--name")
    console = console or output_console()
    library = library_from_settings(settings)
    warn_problems(library)
    scenario = library.scenario(args.scenario)
    source = build_source(args, settings)
    with console.status("正在加载语音识别模型…"):
        recognizer = get_recognizer(settings, engine=args.engine, model_path=args.model)
    options = PracticeOptions(
        endpoint=EndpointConfig(pause_seconds=args.pause_seconds, max_answer_seconds=args.max_answer_seconds),
        trainee_id=args.trainee,
        trainee_name=args.name,
        save=not args.no_save,
    )
    speak = args.voice if args.voice is not None else not args.input_file
    voice = TerminalVoice(settings, scenario=scenario) if speak else None
    result = run_practice(scenario, library, recognizer, source, PracticeUI(console), settings, options, voice=voice)
    if result.status == STATUS_INTERRUPTED:
        return 130
    if result.status in (STATUS_DEVICE_LOST, STATUS_FAILED):
        return 2
    return 0

