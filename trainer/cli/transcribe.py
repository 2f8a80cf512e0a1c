"""`trainer transcribe FILE... [--engine vosk|whisper] [--model PATH] [--json]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from trainer.asr.base import Recognizer
from trainer.asr.factory import get_recognizer
from trainer.audio import load_audio
from trainer.cli.console import print_json
from trainer.config import ENGINES, Settings
from trainer.errors import TrainerError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "transcribe",
        help="把录音转写成文字",
        description="把录音文件转写成文字（每个文件一行；多个文件时行首是文件名）。",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="录音文件（WAV、MP3、M4A、WebM 等）")
    parser.add_argument("--engine", choices=ENGINES, help="识别引擎（默认取配置 / TRAINER_ENGINE，否则 vosk）")
    parser.add_argument("--model", type=Path, metavar="PATH", help="模型文件夹（默认取配置 / 环境变量）")
    parser.add_argument("--json", action="store_true", help="输出 JSON：每个文件的文字、逐词时间和置信度")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    # Each file is read before the model is loaded, so a bad file is reported as such
    # (not hidden behind a missing model) and no model is loaded for nothing.
    recognizer: Recognizer | None = None
    results: list[dict[str, Any]] = []
    failed = 0
    for path in args.files:
        try:
            audio = load_audio(path, max_seconds=settings.max_audio_seconds)
        except TrainerError as exc:
            if len(args.files) == 1:
                raise
            failed += 1
            print(f"错误：{path}：{exc.user_message}", file=sys.stderr)
            results.append({"file": str(path), "error": exc.user_message})
            continue
        if recognizer is None:
            recognizer = get_recognizer(settings, engine=args.engine, model_path=args.model)  # a model problem stops everything
        transcript = recognizer.transcribe(audio)
        if args.json:
            results.append({"file": str(path), **transcript.to_dict()})
        elif len(args.files) == 1:
            print(transcript.text)
        else:
            print(f"{path}\t{transcript.text}")
        sys.stdout.flush()
    if args.json:
        engine = recognizer.engine if recognizer else (args.engine or settings.engine)
        model = recognizer.model_name if recognizer else ""
        print_json({"engine": engine, "model": model, "files": results}, indent=1)
    return 2 if failed else 0
