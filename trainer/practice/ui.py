"""The terminal display of a practice session, with rich.

The session loop hands plain view objects (below) to `PracticeUI`; the `render_*`
functions turn them into rich renderables and hold all colours:

- hit: green ✓   partial: yellow ◐   missed: red ✗   forbidden: bold white on red ⚠
- while recording: a level meter (green; yellow when loud; red when clipping; grey
  while silent), the settled transcript in white and the still-changing part dim.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from trainer.dialogue import line_parts
from trainer.phrasebook.model import SEVERITY_LABELS as SEVERITY_LABEL
from trainer.endpoint import ChunkVerdict, EndReason
from trainer.scoring.display import SCALING_NOTE, UNSURE_FORBIDDEN_NOTE, dimension_views, forbidden_name, forbidden_quote, score_text

STATUS_STYLE = {"hit": "bold green", "partial": "bold yellow", "missed": "bold red"}
STATUS_MARK = {"hit": "✓", "partial": "◐", "missed": "✗"}
STATUS_LABEL = {"hit": "做到", "partial": "部分做到", "missed": "未做到"}
FORBIDDEN_STYLE = "bold white on red"
END_REASON_LABEL = {
    EndReason.PAUSE: "检测到停顿",
    EndReason.MAX_LENGTH: "已达到最长回答时间",
    EndReason.NO_SPEECH: "没有检测到说话",
    EndReason.KEY: "按键结束",
    EndReason.END_OF_INPUT: "录音结束",
    EndReason.DEVICE_LOST: "录音设备中断",
    EndReason.INTERRUPTED: "已中断",
}
METER_FLOOR_DBFS = -60.0


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class StepLine:
    """A scenario step as judged: in one turn, or in the whole session."""

    title: str
    status: str  # hit | partial | missed
    expected: str = ""
    said: str = ""  # the part of the transcript that matched
    tip: str = ""


@dataclass(frozen=True)
class ForbiddenLine:
    phrase: str
    said: str
    severity: str
    reason: str = ""
    replacement: str = ""
    certain: bool = True  # False: counted, but the machine is not sure (可能是服务忌语, an instructor decides)


@dataclass(frozen=True)
class TurnView:
    index: int  # 1-based
    total: int
    text: str  # what was recognised
    end_reason: EndReason
    seconds: float
    steps: tuple[StepLine, ...] = ()  # steps performed in this turn
    forbidden: tuple[ForbiddenLine, ...] = ()


@dataclass(frozen=True)
class AdviceTurn:
    """One group of the advice list (scoring/advice.py): a turn (`index` None: the whole performance),
    what the customer said and what was recognised, and the advice as (kind, Chinese text)."""

    index: int | None
    customer: str = ""
    said: str = ""
    items: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FinalView:
    total: float
    passed: bool
    pass_mark: float
    steps: tuple[StepLine, ...]
    advice: tuple[AdviceTurn, ...] = ()  # the one advice list, by turn, whole performance last
    dimensions: dict[str, float] = field(default_factory=dict)
    completed_turns: int = 0
    total_turns: int = 0


@dataclass
class LiveState:
    """What the recording panel shows; updated chunk by chunk."""

    index: int
    total: int
    live_input: bool  # microphone: the stop key applies
    level_dbfs: float = -100.0
    threshold_dbfs: float = -55.0
    speaking: bool = False
    speech_started: bool = False
    elapsed: float = 0.0
    silence: float = 0.0
    pause_seconds: float = 1.0
    final_text: str = ""
    partial_text: str = ""
    recognising: bool = False


# --------------------------------------------------------------------------- renderers


def level_meter(level_dbfs: float, speaking: bool, width: int = 24) -> RenderableType:
    fraction = min(1.0, max(0.0, (level_dbfs - METER_FLOOR_DBFS) / -METER_FLOOR_DBFS))
    if level_dbfs > -1.0:
        style = "red"
    elif level_dbfs > -6.0:
        style = "yellow"
    else:
        style = "green" if speaking else "grey50"
    return ProgressBar(total=100, completed=round(fraction * 100), width=width, complete_style=style, finished_style=style)


def render_live(state: LiveState) -> RenderableType:
    status = Table.grid(padding=(0, 1))
    status.add_column()
    status.add_column()
    status.add_column()
    status.add_column()
    if state.recognising:
        head = Text("⏳ 识别中…", style="bold cyan")
    else:
        head = Text("● 录音中", style="bold red")
    clock = Text(f"{state.elapsed:5.1f} 秒", style="cyan")
    level = Text(f"{state.level_dbfs:4.0f} dBFS", style="dim")
    status.add_row(head, clock, level_meter(state.level_dbfs, state.speaking), level)

    if state.recognising:
        hint = Text("")
    elif state.speaking:
        hint = Text("正在说话", style="green")
    elif state.speech_started:
        hint = Text(f"停顿 {state.silence:.1f} / {state.pause_seconds:.1f} 秒后结束本轮", style="yellow")
    else:
        hint = Text("请开始回答…", style="dim")

    words = Text()
    words.append(state.final_text, style="bold white")
    words.append(state.partial_text, style="italic grey62")
    if not words.plain:
        words = Text("（实时字幕）", style="dim")
    keys = "按 Enter 结束本轮回答 · Ctrl-C 结束练习并保存已完成的轮次" if state.live_input else "Ctrl-C 结束练习并保存已完成的轮次"
    return Panel(
        Group(status, hint, words, Text(keys, style="dim")),
        title=f"第 {state.index}/{state.total} 轮 · 你的回答",
        title_align="left",
        border_style="cyan",
    )


def render_brief(title: str, brief: str, source: str, turns: int, pause_seconds: float) -> RenderableType:
    body = Text()
    body.append(brief.strip() + "\n\n")
    body.append(f"共 {turns} 轮：顾客说完后请作答，停顿 {pause_seconds:g} 秒自动结束本轮。\n", style="cyan")
    body.append(f"声音来源：{source}", style="dim")
    return Panel(body, title=f"场景：{title}", title_align="left", border_style="blue")


def render_customer(index: int, total: int, line: str, step_title: str, reacted: bool = False) -> RenderableType:
    """The customer's line: stage directions （…） in italics, speech in quotes; `reacted` marks a
    line the customer says because of the trainee's last answer (a reaction)."""
    text = Text()
    text.append(f"[{index}/{total}] ", style="bold blue")
    parts = line_parts(line.strip())
    if not parts:
        text.append("（顾客没有说话）", style="dim")
    elif any(not stage for _, stage in parts):
        text.append("顾客：", style="bold magenta")
    for part, stage in parts:
        if stage:
            text.append(part, style="italic magenta")  # a stage direction, not speech
        else:
            text.append(f"“{part}”", style="magenta")
    if reacted:
        text.append("   ↳ 顾客对你上一句的反应", style="bold yellow")
    text.append(f"   本轮：{step_title}", style="dim")
    return text


ADVICE_MARK = {"forbidden": "⚠", "missed": "✗", "partial": "◐", "unsure": "?", "forbidden_doubtful": "?"}
ADVICE_STYLE = {"forbidden": FORBIDDEN_STYLE, "missed": "red", "partial": "yellow", "unsure": "yellow", "forbidden_doubtful": "yellow"}


def _advice_text(kind: str, text: str) -> Text:
    line = Text("    ")
    line.append(f"{ADVICE_MARK.get(kind, '•')} {text}", style=ADVICE_STYLE.get(kind, ""))
    return line


def _step_text(step: StepLine, show_tip: bool, show_expected: bool = True) -> Text:
    style = STATUS_STYLE.get(step.status, "")
    text = Text("  ")
    text.append(f"{STATUS_MARK.get(step.status, '?')} {step.title}", style=style)
    text.append(f"  {STATUS_LABEL.get(step.status, step.status)}", style=style.replace("bold ", ""))
    if step.said:
        text.append(f"  你说：“{step.said}”", style="white")
    if show_expected and step.status != "hit" and step.expected:
        text.append(f"\n      标准说法：“{step.expected}”", style="cyan")
    if show_tip and step.status != "hit" and step.tip:
        text.append(f"\n      提示：{step.tip}", style="dim")
    return text


def _forbidden_text(entry: ForbiddenLine) -> Text:
    text = Text("  ")
    text.append(f"⚠ {forbidden_name(entry.certain)}：{forbidden_quote(entry.phrase, entry.said)}", style=FORBIDDEN_STYLE)
    severity = SEVERITY_LABEL.get(entry.severity, entry.severity)
    if severity:
        text.append(f"  （{severity}）", style="red")
    if entry.reason:
        text.append(f"  {entry.reason}", style="red")
    if not entry.certain:
        text.append(f"\n      {UNSURE_FORBIDDEN_NOTE}", style="yellow")
    if entry.replacement:
        text.append(f"\n      应改说：“{entry.replacement}”", style="cyan")
    return text


def render_turn_result(view: TurnView) -> RenderableType:
    lines: list[RenderableType] = []
    head = Text()
    head.append(f"  识别：“{view.text}”" if view.text else "  识别：（没有识别到内容）", style="white" if view.text else "dim")
    head.append(f"   {view.seconds:.1f} 秒 · {END_REASON_LABEL.get(view.end_reason, view.end_reason.value)}", style="dim")
    lines.append(head)
    for step in view.steps:
        lines.append(_step_text(step, show_tip=False))
    for entry in view.forbidden:
        lines.append(_forbidden_text(entry))
    if not view.steps and not view.forbidden:
        lines.append(Text("  本轮没有对上任何标准步骤", style="yellow"))
    return Group(*lines)


def render_final(view: FinalView) -> RenderableType:
    verdict = Text()
    verdict.append(f"总分 {score_text(view.total)}", style="bold")
    verdict.append(f"（合格线 {score_text(view.pass_mark)}）  ")
    verdict.append("合格" if view.passed else "不合格", style="bold green" if view.passed else "bold red")
    if view.total_turns and view.completed_turns < view.total_turns:
        verdict.append(f"   只完成了 {view.completed_turns}/{view.total_turns} 轮", style="yellow")
    parts: list[RenderableType] = [verdict]
    if view.dimensions:
        shown = dimension_views(view.dimensions)  # Chinese headers; scaled conduct dimensions say so
        dims = Table(show_header=True, header_style="bold", box=None, padding=(0, 2))
        for dim in shown:
            dims.add_column(dim.label)
        dims.add_row(*(dim.text for dim in shown))
        parts.append(dims)
        if any(dim.scaled for dim in shown):
            parts.append(Text(SCALING_NOTE, style="dim"))
    parts.append(Rule("步骤", style="dim"))
    parts.extend(_step_text(step, show_tip=False, show_expected=False) for step in view.steps)
    turns = [group for group in view.advice if group.index is not None]
    if turns:
        parts.append(Rule("逐轮建议", style="dim"))
    for group in turns:
        head = Text(f"  第 {group.index} 轮", style="bold")
        if group.customer:
            head.append(f"  顾客：{group.customer}", style="magenta")
        parts.append(head)
        if group.said:
            parts.append(Text(f"    你说：“{group.said}”", style="white"))
        parts.extend(_advice_text(kind, text) for kind, text in group.items)
    whole = [item for group in view.advice if group.index is None for item in group.items]
    if whole:
        parts.append(Rule("整体建议", style="dim"))
        parts.extend(_advice_text(kind, text) for kind, text in whole)
    if not turns and not whole:
        parts.append(Text("  表现很好：步骤完整、顺序正确，没有服务忌语。", style="green"))
    return Panel(Group(*parts), title="本次练习结果", title_align="left", border_style="green" if view.passed else "red")


# --------------------------------------------------------------------------- the display


class PracticeUI:
    """Prints to a rich Console; one Live panel while an answer is being recorded."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()

    def show_brief(self, title: str, brief: str, source: str, turns: int, pause_seconds: float) -> None:
        self.console.print(render_brief(title, brief, source, turns, pause_seconds))

    def show_customer(self, index: int, total: int, line: str, step_title: str, reacted: bool = False) -> None:
        self.console.print()
        self.console.print(render_customer(index, total, line, step_title, reacted))

    @contextmanager
    def recording(self, state: LiveState) -> Iterator["LiveHandle"]:
        with Live(render_live(state), console=self.console, refresh_per_second=12, transient=True) as live:
            yield LiveHandle(live, state)

    def show_turn_result(self, view: TurnView) -> None:
        self.console.print(render_turn_result(view))

    def show_final(self, view: FinalView) -> None:
        self.console.print()
        self.console.print(render_final(view))

    def notice(self, message: str, style: str = "yellow") -> None:
        self.console.print(Text(message, style=style))

    def error(self, message: str) -> None:
        self.console.print(Text(f"错误：{message}", style="bold red"))


class LiveHandle:
    def __init__(self, live: Live, state: LiveState) -> None:
        self.live = live
        self.state = state

    def update(self, verdict: ChunkVerdict | None = None, final_text: str | None = None, partial_text: str | None = None) -> None:
        state = self.state
        if verdict is not None:
            state.level_dbfs = verdict.level_dbfs
            state.threshold_dbfs = verdict.threshold_dbfs
            state.speaking = verdict.is_speech
            state.speech_started = verdict.speech_started
            state.elapsed = verdict.elapsed
            state.silence = verdict.silence
        if final_text is not None:
            state.final_text = final_text
        if partial_text is not None:
            state.partial_text = partial_text
        self.live.update(render_live(state))

    def recognising(self) -> None:
        self.state.recognising = True
        self.state.level_dbfs = -100.0
        self.state.speaking = False
        self.live.update(render_live(self.state), refresh=True)

