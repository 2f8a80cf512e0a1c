"""`trainer phrasebook record-lines SCENARIO`: record the customer's lines of a scenario in the terminal.

    trainer phrasebook record-lines SCENARIO [--list] [--line N ...] [--missing]
                                    [--device N|NAME | --from-files DIR | --input-file FILE ...]
                                    [--yes] [--no-playback] [--pause-seconds S]

Walks through the scenario's customer lines (steps, reactions, extra steps: `clips.written_lines`),
shows each one (stage directions shown, marked as not to be said), records it from the microphone
(a pause or Enter ends the take), checks it (`clips.prepare_clip`), plays it back and lets the
instructor keep it, record it again, skip the line or stop. Kept clips are stored at once where
the 话术库 page stores them (`clips.store_clip`: the centre's overlay, `customer_lines/`).

Without a microphone the takes come from files: `--from-files DIR` (file names start with the
line's number as `--list` shows it: 03.wav, 03-安抚情绪.flac) or `--input-file` (one file per line,
in the order of the lines walked). `--yes` keeps every take that passes the checks without asking.
Exit code 0; 1 when a file was refused; 130 after Ctrl-C (clips kept so far stay).
"""

from __future__ import annotations

import argparse
import io
import logging
import re
import sys
import wave
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from trainer.cli.console import output_console
from trainer.cli.phrasebook import warn_problems
from trainer.cli.practice import _positive_seconds
from trainer.config import Settings
from trainer.dialogue import line_parts
from trainer.errors import AudioError, TrainerError
from trainer.phrasebook.clips import CLIPS_DIR, MAX_CLIP_SECONDS, ClipError, PreparedClip, WrittenLine, load_clip, prepare_clip, store_clip, written_lines
from trainer.phrasebook.loader import library_from_settings
from trainer.phrasebook.model import Scenario
from trainer.endpoint import EndpointConfig, EndReason, NoiseFloor
from trainer.practice.keys import KeyWatcher
from trainer.practice.source import AudioSource, MicrophoneSource
from trainer.practice.take import record_take
from trainer.practice.voice import play_wav

log = logging.getLogger(__name__)

DEFAULT_PAUSE_SECONDS = 1.5
_NUMBERED = re.compile(r"^(\d+)(?:\D.*)?$")


def register_action(actions: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = actions.add_parser(
        "record-lines",
        help="在终端为场景里客户的台词录音（练习和考试时播放录音）",
        description=(
            "逐句为场景里客户的台词录音（包括客户反应的台词）：显示台词（全角括号里的动作说明不用念），"
            "用麦克风录下一句（停顿或按 Enter 结束），回放后选择保存、重录、跳过或结束。"
            "录音保存在本中心话术文件夹的 customer_lines/ 里（和话术库页面的录音同一个位置），不改动内置的 phrasebooks/。"
            "没有麦克风时用 --from-files 或 --input-file 导入录音文件。"
        ),
    )
    parser.add_argument("scenario", metavar="SCENARIO", help="场景 id，例如 complaint（trainer phrasebook list 查看）")
    parser.add_argument("--list", action="store_true", help="只列出各句台词的编号和是否已有录音")
    parser.add_argument("--line", type=int, action="append", metavar="N", help="只录这一句（编号见 --list；可重复）")
    parser.add_argument("--missing", action="store_true", help="只录还没有录音的句子")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--device", metavar="N|NAME", help="录音设备编号或名称的一部分（trainer devices 查看；默认系统默认设备）")
    source.add_argument(
        "--from-files",
        type=Path,
        metavar="DIR",
        help="用文件夹里的录音代替麦克风：文件名以台词编号开头（编号见 --list），例如 03.wav、03-安抚情绪.flac",
    )
    source.add_argument("--input-file", type=Path, action="append", metavar="FILE", help="用录音文件代替麦克风：按顺序一句一个文件（可重复）")
    parser.add_argument("--yes", action="store_true", help="不逐句询问，直接保存通过检查的录音（只能和 --from-files / --input-file 一起用）")
    parser.add_argument("--no-playback", action="store_true", help="录完不回放")
    parser.add_argument(
        "--pause-seconds",
        type=_positive_seconds,
        default=DEFAULT_PAUSE_SECONDS,
        metavar="S",
        help=f"说完后停顿多少秒自动结束录音（默认 {DEFAULT_PAUSE_SECONDS:g}）",
    )
    parser.set_defaults(func=run)


# --------------------------------------------------------------------------- the lines


@dataclass(frozen=True)
class NumberedLine:
    number: int  # 1-based, as --list shows it
    line: WrittenLine


def numbered_lines(scenario: Scenario) -> list[NumberedLine]:
    return [NumberedLine(n, w) for n, w in enumerate(written_lines(scenario), start=1)]


def wav_seconds(data: bytes) -> float:
    try:
        with wave.open(io.BytesIO(data)) as reader:
            return reader.getnframes() / reader.getframerate()
    except (wave.Error, EOFError, ZeroDivisionError):
        return 0.0


def shown_line(line: str) -> str:
    """Rich markup: the line with its stage directions dimmed and marked as not to be said."""
    return "".join(f"[dim]{escape(text)}[/dim]" if stage else f"[bold]{escape(text)}[/bold]" for text, stage in line_parts(line))


def select_lines(lines: list[NumberedLine], numbers: list[int] | None, missing_only: bool, has_clip: Callable[[WrittenLine], bool]) -> list[NumberedLine]:
    if numbers:
        unknown = sorted({n for n in numbers if not 1 <= n <= len(lines)})
        if unknown:
            raise TrainerError(
                f"没有第 {'、'.join(map(str, unknown))} 句：这个场景的客户台词编号是 1–{len(lines)}（用 --list 查看）。",
                f"--line out of range: {unknown}",
            )
        lines = [n for n in lines if n.number in set(numbers)]
    if missing_only:
        lines = [n for n in lines if not has_clip(n.line)]
    return lines


def files_by_number(folder: Path, count: int) -> tuple[dict[int, Path], list[str]]:
    """The recordings in `folder` by the line number their names start with, and the names of
    the files left out (not starting with a number). Hidden files are not looked at; a number
    used twice or beyond `count` is an error."""
    if not folder.is_dir():
        raise TrainerError(f"找不到录音文件夹：{folder}。请检查 --from-files 给的路径。", f"--from-files {folder} is not a folder")
    found: dict[int, Path] = {}
    ignored: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        match = _NUMBERED.match(path.stem)
        if match is None:
            ignored.append(path.name)
            continue
        number = int(match.group(1))
        if not 1 <= number <= count:
            raise TrainerError(
                f"文件 {path.name} 的编号 {number} 不存在：这个场景的客户台词编号是 1–{count}（用 --list 查看）。请改文件名。",
                f"file {path} numbered {number}, scenario has {count} lines",
            )
        if number in found:
            raise TrainerError(
                f"第 {number} 句有两个录音文件：{found[number].name} 和 {path.name}。请只留一个。",
                f"two files for line {number}: {found[number]} and {path}",
            )
        found[number] = path
    if not found:
        raise TrainerError(
            f"{folder} 里没有以台词编号开头的录音文件（例如 01.wav、03-安抚情绪.wav；编号用 --list 查看）。",
            f"no numbered recordings in {folder}",
        )
    return found, ignored


# --------------------------------------------------------------------------- where takes come from


class Takes:
    """Recordings of lines, one take at a time: (bytes, name), or None when there is none."""

    live = False  # takes are spoken now (microphone): ask before recording, offer 重录

    def take(self, item: NumberedLine, console: Console) -> tuple[bytes, str] | None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class FileTakes(Takes):
    def __init__(self, files: dict[int, Path]) -> None:
        self.files = files

    def take(self, item: NumberedLine, console: Console) -> tuple[bytes, str] | None:
        path = self.files.get(item.number)
        if path is None:
            return None
        try:
            return path.read_bytes(), path.name
        except OSError as exc:
            raise AudioError(f"无法读取录音文件 {path}：{exc.strerror or exc}。请检查文件权限。", f"cannot read {path}: {exc}") from exc


class MicrophoneTakes(Takes):
    """Takes recorded from an audio source (the microphone; in tests a FileSource) until a pause."""

    live = True

    def __init__(self, source: AudioSource, pause_seconds: float) -> None:
        self.source = source
        self.config = EndpointConfig(pause_seconds=pause_seconds, max_answer_seconds=MAX_CLIP_SECONDS, no_speech_seconds=10.0)
        self.floor = NoiseFloor(self.config.floor_window_seconds)
        source.open()

    def take(self, item: NumberedLine, console: Console) -> tuple[bytes, str] | None:
        watcher = KeyWatcher() if self.source.live else nullcontext(None)
        with watcher as opened, console.status("[red]● 录音中[/red]：请说这句台词…") as status:
            keys = opened if opened is not None and opened.active else None
            stop = "，或按 Enter 结束" if keys is not None else ""

            def show(verdict) -> None:  # type: ignore[no-untyped-def]
                bars = max(0, min(20, int((verdict.level_dbfs + 60) / 3)))
                said = "说话中" if verdict.is_speech else ("停顿" if verdict.speech_started else "等待说话")
                status.update(
                    f"[red]● 录音中[/red] {verdict.elapsed:4.1f} 秒 [green]{'█' * bars}[/green]{'·' * (20 - bars)} {said}"
                    f"（说完停顿 {self.config.pause_seconds:g} 秒自动结束{stop}）"
                )

            take = record_take(self.source, self.config, floor=self.floor, keys=keys, on_chunk=show)
        if take is None:
            return None
        if take.device_error is not None:
            raise take.device_error
        if take.end_reason is EndReason.NO_SPEECH:
            console.print(f"[yellow]{self.config.no_speech_seconds:g} 秒内没有听到说话声。[/yellow]请检查麦克风，或用 --device 选择录音设备。")
        elif take.end_reason is EndReason.MAX_LENGTH:
            console.print(f"[yellow]录音达到 {MAX_CLIP_SECONDS:g} 秒上限，已停止。[/yellow]")
        return take.audio.to_wav_bytes(), f"第 {item.number} 句的录音"

    def close(self) -> None:
        self.source.close()


# --------------------------------------------------------------------------- the walk


@dataclass
class Outcome:
    kept: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)  # a file failed the checks
    stopped: bool = False


Ask = Callable[[str], str]


def ask_stdin(prompt: str) -> str:
    """One answer typed by the instructor; EOF (stdin closed) means stop."""
    try:
        return input(prompt)
    except EOFError:
        print(file=sys.stderr)
        return "q"


def _choice(ask: Ask, prompt: str, allowed: str, default: str, console: Console) -> str:
    while True:
        answer = ask(prompt).strip().lower()[:1] or default
        if answer in allowed:
            return answer
        console.print(f"[yellow]请输入 {'、'.join(allowed)} 之一（直接按 Enter 等于 {default}）。[/yellow]")


class Player:
    """Plays WAV bytes; the first failure is reported and playback stops for the rest of the walk."""

    def __init__(self, play: Callable[[bytes], None] | None) -> None:
        self._play = play

    def __call__(self, wav: bytes, console: Console) -> None:
        if self._play is None:
            return
        try:
            self._play(wav)
        except Exception as exc:  # no output device, PortAudio missing: recording still works
            log.info("clip not played back: %r", exc)
            message = exc.user_message if isinstance(exc, TrainerError) else "没有可用的播放设备？"
            console.print(f"[yellow]无法回放录音（{escape(message)}），之后不再回放。可以在话术库页面试听已保存的录音。[/yellow]")
            self._play = None


def _describe(clip: PreparedClip) -> str:
    parts = [f"录音 {clip.seconds:.1f} 秒（说话 {clip.levels.speech_duration:.1f} 秒，音量 {clip.levels.speech_rms_dbfs or clip.levels.rms_dbfs:.0f} dBFS）"]
    if clip.source:
        parts.append(f"原文件：{clip.source}")
    parts.extend(clip.notes)
    return "；".join(parts)


def record_line(
    item: NumberedLine,
    scenario: Scenario,
    overlay_dir: Path,
    takes: Takes,
    console: Console,
    ask: Ask,
    player: Player,
    keep_all: bool,
) -> str:
    """Record one line until kept, skipped or stopped: returns "kept", "skipped", "refused" or "quit"."""
    written = item.line
    existing = load_clip(overlay_dir, scenario.id, written.line)
    if takes.live:
        actions = "Enter（r）开始录音" + (" / p 听已有录音" if existing else "") + " / s 跳过 / q 结束："
        while True:
            answer = _choice(ask, actions, "rpsq" if existing else "rsq", "r", console)
            if answer == "p" and existing is not None:
                player(existing, console)
                continue
            if answer == "s":
                return "skipped"
            if answer == "q":
                return "quit"
            break
    while True:
        got = takes.take(item, console)
        if got is None:
            console.print("[dim]没有这句的录音文件，跳过。[/dim]")
            return "skipped"
        data, name = got
        try:
            clip = prepare_clip(written.line, data, name)
        except (ClipError, AudioError) as exc:
            console.print(f"[red]✗ {escape(exc.user_message)}[/red]")
            if not takes.live:
                return "refused"
            answer = _choice(ask, "r 重录 / s 跳过 / q 结束：", "rsq", "r", console)
            if answer == "r":
                continue
            return "skipped" if answer == "s" else "quit"
        console.print(f"  {escape(_describe(clip))}")
        for warning in clip.warnings:
            console.print(f"  [yellow]注意：{escape(warning)}[/yellow]")
        player(clip.audio.to_wav_bytes(), console)
        if keep_all:
            answer = "k"
        else:
            again = "r 重录" if takes.live else "r 重新读取文件"
            answer = _choice(ask, f"Enter（k）保存 / {again} / s 跳过 / q 结束：", "krsq", "k", console)
        if answer == "r":
            continue
        if answer == "s":
            return "skipped"
        if answer == "q":
            return "quit"
        path = store_clip(overlay_dir, scenario.id, written.line, clip)
        console.print(f"  [green]✓ 已保存[/green]{'（替换了原来的录音）' if existing else ''}：{escape(str(path))}")
        return "kept"


def walk(
    items: list[NumberedLine],
    scenario: Scenario,
    overlay_dir: Path,
    takes: Takes,
    console: Console,
    ask: Ask = ask_stdin,
    player: Player | None = None,
    keep_all: bool = False,
) -> Outcome:
    player = player or Player(None)
    outcome = Outcome()
    for position, item in enumerate(items, start=1):
        existing = load_clip(overlay_dir, scenario.id, item.line.line)
        had = f"（已有录音 {wav_seconds(existing):.1f} 秒）" if existing else ""
        console.rule(f"[{position}/{len(items)}] 第 {item.number} 句 · {escape(item.line.where)}{had}", align="left")
        console.print(f"  客户：{shown_line(item.line.line)}")
        if item.line.line != item.line.spoken:
            console.print("  [dim]（灰色的动作说明不用念）[/dim]")
        result = record_line(item, scenario, overlay_dir, takes, console, ask, player, keep_all)
        if result == "quit":
            outcome.stopped = True
            break
        getattr(outcome, result).append(item.number)
    return outcome


# --------------------------------------------------------------------------- the command


def list_lines(scenario: Scenario, overlay_dir: Path, console: Console) -> None:
    items = numbered_lines(scenario)
    table = Table(title=f"{escape(scenario.title)}（{scenario.id}）的客户台词")
    table.add_column("编号", justify="right", no_wrap=True)
    table.add_column("位置", overflow="fold")
    table.add_column("台词（灰色的动作说明不用念）", overflow="fold")
    table.add_column("录音", no_wrap=True)
    recorded = 0
    for item in items:
        clip = load_clip(overlay_dir, scenario.id, item.line.line)
        recorded += clip is not None
        table.add_row(str(item.number), escape(item.line.where), shown_line(item.line.line), f"✓ {wav_seconds(clip):.1f} 秒" if clip else "—")
    console.print(table)
    console.print(f"已录 {recorded}/{len(items)} 句。录音文件夹：{escape(str(overlay_dir / CLIPS_DIR / scenario.id))}")


def _takes(args: argparse.Namespace, items: list[NumberedLine], count: int, console: Console) -> tuple[Takes, list[NumberedLine]]:
    if args.from_files is not None:
        files, ignored = files_by_number(args.from_files, count)
        if ignored:
            console.print(f"[dim]文件名不以台词编号开头，没有使用：{escape('、'.join(ignored))}[/dim]")
        return FileTakes(files), [i for i in items if i.number in files]
    if args.input_file:
        if len(args.input_file) > len(items):
            raise TrainerError(
                f"给了 {len(args.input_file)} 个录音文件，但要录的台词只有 {len(items)} 句。请检查 --input-file 的数量（或 --line / --missing）。",
                f"{len(args.input_file)} input files for {len(items)} lines",
            )
        chosen = items[: len(args.input_file)]
        return FileTakes({i.number: path for i, path in zip(chosen, args.input_file)}), chosen
    return MicrophoneTakes(MicrophoneSource(args.device), args.pause_seconds), items


def run(args: argparse.Namespace, settings: Settings, console: Console | None = None, ask: Ask = ask_stdin, play: Callable[[bytes], None] | None = play_wav) -> int:
    console = console or output_console()
    library = library_from_settings(settings)
    warn_problems(library)
    scenario = library.scenario(args.scenario)  # ScenarioNotFoundError lists the known ids
    overlay_dir = settings.overlay_dir
    if args.list:
        list_lines(scenario, overlay_dir, console)
        return 0
    from_files = args.from_files is not None or bool(args.input_file)
    if args.yes and not from_files:
        raise TrainerError("--yes 只能和 --from-files 或 --input-file 一起用：用麦克风录音时请听一遍再决定是否保存。", "--yes without file input")
    every = numbered_lines(scenario)
    if not every:
        console.print("这个场景的客户没有要说的话（只有动作说明），不需要录音。")
        return 0
    items = select_lines(every, args.line, args.missing, lambda w: load_clip(overlay_dir, scenario.id, w.line) is not None)
    if not items:
        console.print("选中的台词都已经有录音了。要重录，请用 --line 指定编号（--list 查看）。")
        return 0
    takes, items = _takes(args, items, len(every), console)
    if not items:
        console.print("没有要录的台词：文件夹里的文件对应的句子不在这次选中的范围里（--line / --missing）。")
        return 0
    console.print(f"为“{escape(scenario.title)}”录客户台词：{len(items)} 句。录音保存到 {escape(str(overlay_dir / CLIPS_DIR / scenario.id))}")
    outcome = Outcome()
    try:
        outcome = walk(items, scenario, overlay_dir, takes, console, ask, Player(None if args.no_playback else play), args.yes)
    except KeyboardInterrupt:
        console.print("\n已中断：已保存的录音保留。")
        return 130
    finally:
        takes.close()
    summary = f"保存 {len(outcome.kept)} 句，跳过 {len(outcome.skipped)} 句"
    if outcome.refused:
        summary += f"，{len(outcome.refused)} 个文件没有通过检查（第 {'、'.join(map(str, outcome.refused))} 句）"
    if outcome.stopped:
        summary += "，已提前结束"
    console.print(summary + "。用 --list 查看全部台词的录音情况。")
    return 1 if outcome.refused else 0
