"""What the pages do, without Streamlit: engine status, processing a recorded turn, saving, exporting.

Every failure the user can cause raises a `TrainerError` subclass whose `user_message`
the page shows with st.error.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from typing import TypeVar
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from trainer.asr.base import Recognizer, Transcript
from trainer.audio import load_audio, measure_levels
from trainer.config import Settings
from trainer.dialogue import Cue, first_cue, next_cue, played_scenario, remaining_turns
from trainer.errors import TrainerError
from trainer.fair_pool import FairPool, Ticket
from trainer.phrasebook.model import Library, Scenario
from trainer.sessions import SessionFilter, SessionRecord, SessionStore, turn_records, utc_now
from trainer.storage.factory import overlay_for, session_store
from trainer.sessions.export import export_sessions
from trainer.app.state import PracticeRun, TurnAttempt

log = logging.getLogger(__name__)

TURN_MAX_SECONDS = 120.0  # one answer; the whole-performance limit is settings.max_audio_seconds
UPLOAD_TYPES = None  # accept any file: load_audio names unsupported formats in Chinese


# --------------------------------------------------------------------------- engine


@dataclass(frozen=True)
class EngineStatus:
    engine: str
    model_path: Path
    ready: bool
    problem: str  # Chinese, "" when ready
    howto: str  # Chinese: how to install a model or switch engine

    @property
    def label(self) -> str:
        name = "Vosk" if self.engine == "vosk" else "Whisper (faster-whisper)"
        return f"{name} · 模型 {self.model_path.name}"


def _model_problem(engine: str, path: Path) -> str:
    if not path.is_dir():
        return f"找不到语音识别模型（{engine}）：{path}"
    if engine == "vosk":
        from trainer.asr.vosk_engine import missing_vosk_files

        missing = missing_vosk_files(path)
        return f"Vosk 模型文件夹 {path} 不完整（缺少 {'、'.join(missing)}）" if missing else ""
    missing = [name for name in ("model.bin", "config.json") if not (path / name).is_file()]
    return f"Whisper 模型文件夹 {path} 不完整（缺少 {'、'.join(missing)}）" if missing else ""


def install_howto(settings: Settings) -> str:
    return (
        "安装方法：① 联网后运行 `trainer models fetch vosk-small-cn`（默认引擎，约 40 MB）；"
        f"② 或把已下载的 vosk-model-small-cn-0.22 文件夹放到 {settings.models_dir}，或用环境变量 TRAINER_VOSK_MODEL 指向它；"
        "③ 或改用 Whisper 引擎：先安装 Whisper 支持（在 trainer 文件夹中运行 `pip install -e \".[whisper]\"`），"
        "再设置环境变量 TRAINER_ENGINE=whisper 和 TRAINER_WHISPER_MODEL=<faster-whisper 模型文件夹>，"
        "然后重新运行 `trainer app`。详见 models/README.md。"
    )


def engine_status(settings: Settings) -> EngineStatus:
    path = settings.model_path().expanduser()
    problem = _model_problem(settings.engine, path)
    return EngineStatus(settings.engine, path, not problem, problem, "" if not problem else install_howto(settings))


# --------------------------------------------------------------------------- practice


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def warm_up(settings: Settings, library: Library) -> None:
    """Score one short typed line so that the first real turn does not pay for loading the
    text tools (word segmentation, pinyin, OpenCC: about half a second)."""
    from trainer.pipeline import score_turns

    if not library.scenarios:
        return
    try:
        score_turns([Transcript(text="您好")], next(iter(library.scenarios)), settings, library=library)
    except TrainerError as exc:  # never block the page on a warm-up
        log.info("warm-up scoring failed: %s", exc.log_message)


def customer_voice(
    line: str, settings: Settings, key: str, *, once: bool, scenario: Scenario | None = None
) -> tuple[str, str]:
    """The element that says the customer's line in the browser (trainer.app.voice: the centre's
    recorded clips of `scenario`, else the browser's Chinese voice, else the server's espeak-ng
    audio) as HTML for st.iframe, "" when there is nothing to say; and a Chinese problem to show
    ("" when none)."""
    from trainer.app.voice import BROWSER_OFF, customer_voice_html
    from trainer.dialogue import spoken_text
    from trainer.phrasebook.clips import clips_for_line

    text = spoken_text(line)
    if not text:
        return "", ""
    clips = clips_for_line(settings.overlay_dir, scenario, line) if scenario is not None else []
    if clips:
        return customer_voice_html(text, None, key, once=once, browser_voice=settings.browser_voice, clips=clips), ""
    wav, problem = customer_audio(line, settings)
    if wav is None and settings.browser_voice.strip().lower() in BROWSER_OFF:
        return "", problem
    return customer_voice_html(text, wav, key, once=once, browser_voice=settings.browser_voice), ""


def customer_audio(line: str, settings: Settings) -> tuple[bytes | None, str]:
    """The customer's line as WAV for the page (offline TTS, cached), and a Chinese problem to show
    ("" when fine, when the line is only stage directions, or when speech is turned off)."""
    from trainer.speech import SpeechError, customer_wav, speech_problem, voice_of

    if not voice_of(settings):
        return None, ""
    problem = speech_problem(settings)
    if problem:
        return None, problem
    try:
        return customer_wav(line, settings), ""
    except SpeechError as exc:
        log.warning("customer line not synthesised: %s", exc.log_message)
        return None, exc.user_message


def run_cues(run: PracticeRun, scenario: Scenario) -> list[Cue]:
    """The customer's line each answered turn responded to (turns kept before reactions existed
    answered the step of their position)."""
    return [
        Cue(t.step_id or scenario.steps[min(t.index, len(scenario.steps)) - 1].id, t.prompt, t.reaction) for t in run.turns
    ]


def current_cue(run: PracticeRun, scenario: Scenario) -> Cue | None:
    """The customer's line the trainee answers now: the retried turn's own, else what the customer
    says next after the answers so far (`trainer.dialogue.next_cue`). None: the dialogue is over."""
    cues = run_cues(run, scenario)
    if run.redo is not None:
        return cues[run.redo - 1]
    if not cues:
        return first_cue(scenario)
    return next_cue(scenario, cues, run.score or {})


def refresh_total(run: PracticeRun, scenario: Scenario) -> None:
    """`steps_total` from the dialogue so far: the turns answered, the next one and the script after it."""
    cues = run_cues(run, scenario)
    pending = current_cue(run, scenario) if run.redo is None else next_cue(scenario, cues, run.score or {})
    run.steps_total = remaining_turns(scenario, cues, pending)


def score_run(
    run: PracticeRun,
    transcripts: list[Transcript],
    settings: Settings,
    library: Library,
    cues: list[Cue] | None = None,
    pending: Cue | None = None,
) -> dict:
    """Score the turns as the dialogue went: steps the customer's reactions inserted count too
    (`pending`: the customer's line left unanswered, see `trainer.dialogue.played_scenario`)."""
    scenario = library.scenario(run.scenario_id)
    return score_cues(scenario, transcripts, cues if cues is not None else run_cues(run, scenario), settings, library, pending)


def score_cues(
    scenario: Scenario,
    transcripts: list[Transcript],
    cues: list[Cue],
    settings: Settings,
    library: Library,
    pending: Cue | None = None,
) -> dict:
    """Score the transcripts, each answering the customer's line of the same position in `cues`."""
    from trainer.pipeline import score_turns

    played = played_scenario(scenario, cues, pending)
    answered = [c.step_id for c in cues]
    return score_turns(transcripts, scenario.id, settings, library=library, dialogue=True, played=played, answered=answered).to_dict()


@dataclass(frozen=True)
class ProcessedTurn:
    """A recognised and scored answer, not yet stored in the run."""

    turn: TurnAttempt
    score: dict


def recognise_turn(
    index: int,
    earlier: list[Transcript],
    cue: Cue,
    earlier_cues: list[Cue],
    data: bytes,
    name: str,
    source: str,
    scenario: Scenario,
    library: Library,
    recognizer: Recognizer,
    settings: Settings,
) -> ProcessedTurn:
    """Decode, recognise and score the answer in turn `index` to the customer's line `cue`;
    `earlier` and `earlier_cues` are the transcripts and lines of the turns answered so far (the
    score covers all of them, as the dialogue went). Touches no shared state, so it can run on a
    pool worker. Raises AudioError (silence, too long, unknown format…) or another TrainerError."""
    started = time.perf_counter()
    audio = load_audio(data, max_seconds=min(TURN_MAX_SECONDS, settings.max_audio_seconds), require_speech=True, name=name)
    warnings = tuple(measure_levels(audio).warnings())
    transcript = recognizer.transcribe(audio)
    transcripts = _with_turn(earlier, index, transcript)
    cues = _with_turn(earlier_cues, index, cue)
    score = score_cues(scenario, transcripts, cues, settings, library)
    turn = TurnAttempt(
        index=index,
        prompt=cue.line,
        step_id=cue.step_id,
        reaction=cue.reaction,
        audio=bytes(data),
        audio_name=name,
        source=source,
        transcript=transcript.to_dict(),
        seconds=round(audio.duration, 2),
        warnings=warnings,
        processing_seconds=round(time.perf_counter() - started, 3),
    )
    log.info("turn %d processed in %.2f s (%.1f s of audio)", index, turn.processing_seconds, audio.duration)
    return ProcessedTurn(turn, score)


T = TypeVar("T")


def _with_turn(items: list[T], index: int, item: T) -> list[T]:
    """`items` with turn `index` (1-based) replaced by `item` (a retry), or `item` appended (a new turn)."""
    out = list(items)
    if index <= len(out):
        out[index - 1] = item
    else:
        out.append(item)
    return out


def _earlier(run: PracticeRun) -> list[Transcript]:
    return [Transcript.from_dict(t.transcript) for t in run.turns]


def _next_cue(run: PracticeRun, scenario: Scenario) -> Cue:
    cue = current_cue(run, scenario)
    if cue is None:
        raise TrainerError("对话已经结束，所有轮次都已回答。请点击“结束并评分”。", "no step left to answer")
    return cue


def process_recording(
    run: PracticeRun,
    data: bytes,
    name: str,
    source: str,
    scenario: Scenario,
    library: Library,
    recognizer: Recognizer,
    settings: Settings,
) -> TurnAttempt:
    """Decode, recognise and score the answer to the current turn, in this thread; store it in
    `run`. The score covers every turn so far (the page shows this turn's part of it). Raises
    AudioError or another TrainerError; `run` is unchanged then."""
    done = recognise_turn(
        run.current, _earlier(run), _next_cue(run, scenario), run_cues(run, scenario), data, name, source, scenario, library, recognizer, settings
    )
    run.put_turn(done.turn, done.score)
    refresh_total(run, scenario)
    run.processed.add(digest(data))
    return done.turn


@dataclass
class PendingTurn:
    """A recording waiting in (or running on) the shared recognition pool for `run_id`'s turn `index`."""

    run_id: str
    index: int
    nonce: int  # the run's nonce when submitted: a retry or cancel since makes the result stale
    key: str  # digest of the recording
    ticket: Ticket[ProcessedTurn]
    submitted: float  # time.monotonic()
    scenario: Scenario | None = None  # to know the customer's next line once the turn is stored


def submit_recording(
    pool: FairPool,
    owner: str,
    run: PracticeRun,
    data: bytes,
    name: str,
    source: str,
    scenario: Scenario,
    library: Library,
    get_recognizer: Callable[[], Recognizer],
    settings: Settings,
) -> PendingTurn | None:
    """Queue a recording for the current turn on the shared pool, once (reruns show the same
    widget value again): the pending turn, or None when this recording was already handled."""
    key = digest(data)
    if key in run.processed:
        return None
    run.processed.add(key)
    index, earlier = run.current, _earlier(run)
    cue, earlier_cues = current_cue(run, scenario), run_cues(run, scenario)
    if cue is None:  # the dialogue is over (the page shows no recorder then)
        run.error = "对话已经结束，所有轮次都已回答。请点击“结束并评分”。"
        return None

    def job() -> ProcessedTurn:
        return recognise_turn(index, earlier, cue, earlier_cues, data, name, source, scenario, library, get_recognizer(), settings)

    return PendingTurn(run.run_id, index, run.nonce, key, pool.submit(owner, job), time.monotonic(), scenario)


def collect_recording(run: PracticeRun, pending: PendingTurn, timeout: float | None = None) -> TurnAttempt | None:
    """Wait for a pending turn and store it in `run`: the new turn, or None when it failed (its
    Chinese message is left in `run.error`) or is stale (the run moved on meanwhile).
    Raises TimeoutError when not finished within `timeout` seconds."""
    if not pending.ticket.wait(timeout):
        raise TimeoutError(f"turn {pending.index} of run {pending.run_id} still in the queue after {timeout} s")
    try:
        done = pending.ticket.result()
    except TrainerError as exc:
        log.info("recording rejected: %s", exc.log_message)
        run.error = exc.user_message
        return None
    except Exception:  # never a traceback on the trainee's page
        log.exception("unexpected error while processing a recording")
        run.error = "处理录音时出现意外错误，请重录一次；如果一直出现，请联系管理员查看日志。"
        return None
    if run.run_id != pending.run_id or run.nonce != pending.nonce or run.current != pending.index or run.finished:
        log.info("discarding a stale result for turn %d of run %s", pending.index, pending.run_id)
        return None
    run.put_turn(done.turn, done.score)
    if pending.scenario is not None:
        refresh_total(run, pending.scenario)
    run.error = ""
    return done.turn


def finish_practice(run: PracticeRun, settings: Settings, library: Library, recognizer: Recognizer | None) -> SessionRecord:
    """Score the whole performance (missing steps count as missed) and save it as a practice session."""
    if not run.turns:
        raise TrainerError("还没有录任何一轮，无法评分。请先录音回答。", "finish without turns")
    if run.saved_id:
        return session_store(settings).load(run.saved_id, check_audio=False)
    transcripts = [Transcript.from_dict(t.transcript) for t in run.turns]
    scenario = library.scenario(run.scenario_id)
    run.redo = None  # finishing ends a retry: the answer kept is the last processed one
    run.score = score_run(run, transcripts, settings, library, pending=current_cue(run, scenario))
    record = SessionRecord(
        kind="practice",
        trainee_id=run.trainee_id,
        trainee_name=run.trainee_name,
        scenario_id=run.scenario_id,
        scenario_title=run.scenario_title,
        started_at=run.started_at,
        finished_at=utc_now(),
        turns=turn_records([t.prompt for t in run.turns], [t.transcript for t in run.turns]),
        score=run.score,
        phrasebook_version=library.version,
        engine=recognizer.engine if recognizer is not None else settings.engine,
        model=recognizer.model_name if recognizer is not None else settings.model_path().name,
        extra={
            "client": "web",
            "inputs": [t.source for t in run.turns],
            "status": "completed" if run.all_answered else "partial",
            "steps_total": run.steps_total,
            "retries": run.retries,
            "processing_seconds": [t.processing_seconds for t in run.turns],
            "dialogue": [c.to_dict() for c in run_cues(run, library.scenario(run.scenario_id))],
        },
    )
    saved = session_store(settings).save(record, [t.audio for t in run.turns])
    run.saved_id = saved.id
    run.finished = True
    return saved


# --------------------------------------------------------------------------- instructor


def turn_audio(store: SessionStore, record: SessionRecord) -> list[tuple[bytes | None, str]]:
    """Each turn's stored audio bytes (None when missing) with a Chinese problem note ("" when fine)."""
    out: list[tuple[bytes | None, str]] = []
    for turn in record.turns:
        if not turn.audio_file:
            out.append((None, "该轮没有录音"))
            continue
        try:
            out.append((store.audio_bytes(record.id, turn.index), ""))
        except TrainerError as exc:
            out.append((None, exc.user_message))
        except OSError as exc:
            out.append((None, f"无法读取录音：{exc.strerror or exc}"))
    return out


AUDIO_MIME = {"wav": "audio/wav", "ogg": "audio/ogg", "webm": "audio/webm", "mp3": "audio/mpeg", "m4a": "audio/mp4", "flac": "audio/flac"}


def audio_mime(file_name: str) -> str:
    return AUDIO_MIME.get(file_name.rsplit(".", 1)[-1].lower(), "audio/wav")


@dataclass(frozen=True)
class ExportFile:
    file_name: str
    data: bytes
    mime: str
    label: str


def export_files(
    store: SessionStore, flt: SessionFilter | None, stem: str = "练习记录", library: Library | None = None
) -> tuple[list[ExportFile], list[str]]:
    """The selected sessions as an Excel workbook and two CSV files (sessions, steps), in memory
    (with the library: step titles beside the step ids)."""
    files: list[ExportFile] = []
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="trainer-export-") as tmp:
        xlsx = Path(tmp) / f"{stem}.xlsx"
        report = export_sessions(store, flt, xlsx, library)
        warnings.extend(report.warnings)
        files.append(ExportFile(xlsx.name, xlsx.read_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "导出 Excel"))
        csv_path = Path(tmp) / f"{stem}.csv"
        report = export_sessions(store, flt, csv_path, library)
        for path, label in zip(report.paths, ("导出 CSV（每次练习一行）", "导出 CSV（每个步骤一行）")):
            files.append(ExportFile(path.name, path.read_bytes(), "text/csv", label))
    return files, warnings


# --------------------------------------------------------------------------- learning from instructors


@dataclass(frozen=True)
class ProposalNote:
    """One flipped step of a reviewed session and what became of it (Chinese), for the instructor page."""

    step_id: str
    text: str  # the proposed phrasing ("" when none)
    status: str  # "" (not proposed) | pending | approved | rejected
    message: str


def _overlay(settings: Settings):  # type: ignore[no-untyped-def]
    return overlay_for(settings)


def propose_from_session(settings: Settings, store: SessionStore, record: SessionRecord, library: Library | None) -> list[ProposalNote]:
    """Propose the words of every step of `record` its reviews flipped from missed/partial to
    performed (idempotent: an already proposed step keeps its proposal)."""
    from trainer.phrasebook.overlay import STATUS_LABELS
    from trainer.sessions.proposals import review_candidates

    candidates, skipped = review_candidates(record, store.reviews(record.id))
    notes = [ProposalNote(s.step_id, "", "", f"没有提交新说法：{s.reason}") for s in skipped]
    for outcome in _overlay(settings).propose_all(candidates, library):
        p = outcome.proposal
        if p is None:
            notes.append(ProposalNote(outcome.step_id, "", "", f"没有提交新说法：{outcome.reason}"))
        else:
            label = STATUS_LABELS.get(p.status, p.status)
            where = "，请到“话术库”页面审核" if p.status == "pending" else ""
            notes.append(ProposalNote(outcome.step_id, p.phrasing, p.status, f"“{p.phrasing}”已作为新说法提交（{label}{where}）"))
    return notes


def sync_proposals(settings: Settings, library: Library | None) -> int:
    """Collect proposals from every reviewed session not proposed yet; the number of new proposals."""
    from trainer.sessions.proposals import store_candidates

    overlay = _overlay(settings)
    known = {(p.session_id, p.step_id) for p in overlay.read().proposals}
    candidates, _ = store_candidates(session_store(settings), lambda sid, step: (sid, step) in known)
    return sum(1 for outcome in overlay.propose_all(candidates, library) if outcome.created)


@dataclass(frozen=True)
class ProposalView:
    """A proposal as the 话术库 page shows it."""

    id: str
    text: str  # proposed (pending/rejected) or approved phrasing
    status: str
    where: str  # 场景 · 步骤
    expected: str  # the step's standard phrase ("" when the step is gone)
    origin: str  # Chinese: machine status, session and turn, reviewer and comment
    warning: str  # Chinese: missing key words ("" when none)


def proposal_views(settings: Settings, library: Library | None, status: str = "pending") -> tuple[list[ProposalView], list[str]]:
    """The proposals with `status`, newest first, and the overlay's problems (Chinese lines)."""
    from trainer.phrasebook.overlay import MACHINE_STATUS_LABELS, keyword_gaps

    state = _overlay(settings).read()
    views_: list[ProposalView] = []
    for p in reversed(state.by_status(status)):
        scenario = library.scenarios.get(p.scenario_id) if library is not None else None
        step = next((s for s in scenario.steps if s.id == p.step_id), None) if scenario is not None else None
        where = f"{scenario.title} · {step.title}" if scenario is not None and step is not None else f"{p.scenario_id} · {p.step_id}（已不在话术库中）"
        origin = f"机评：{MACHINE_STATUS_LABELS.get(p.machine_status, p.machine_status)} · 会话 {p.session_id} 第 {p.turn} 轮"
        if p.reviewer:
            origin += f" · 复核人 {p.reviewer}"
        if p.review_comment:
            origin += f" · 备注：{p.review_comment}"
        if p.decided_by:
            origin += f" · {p.status_label}：{p.decided_by}"
        gaps = keyword_gaps(step, p.phrasing) if step is not None else []
        warning = f"这个说法缺少本步骤的关键词 {'、'.join(gaps)}：学员原样说出时算完成，换个说法又缺这些关键词时只能判为“不完整”。可以在采用前修改。" if gaps else ""
        views_.append(ProposalView(p.id, p.phrasing, p.status, where, step.expected if step is not None else "", origin, warning))
    return views_, [str(problem) for problem in state.problems]


def approve_proposal(settings: Settings, proposal_id: str, by: str, text: str, library: Library | None) -> str:
    """Approve (with the possibly edited text); the Chinese confirmation."""
    p = _overlay(settings).approve(proposal_id, by, text=text, library=library)
    return f"已采用“{p.phrasing}”：从现在起，这一步也接受这个说法（标记为本中心新增）。"


def reject_proposal(settings: Settings, proposal_id: str, by: str) -> str:
    p = _overlay(settings).reject(proposal_id, by)
    return f"已不采用“{p.text}”。"


def overlay_phrasings(settings: Settings, library: Library) -> dict[tuple[str, str], tuple[str, ...]]:
    """(scenario id, step id) -> the approved overlay phrasings the library carries (本中心新增)."""
    from trainer.phrasebook.overlay import overlay_phrasings_of

    return dict(overlay_phrasings_of(library, _overlay(settings).read()))


def phrasebook_step_rows(scenario: Scenario, new: dict[tuple[str, str], tuple[str, ...]]) -> list[dict]:
    """`views.step_rows` with the centre's approved phrasings marked 本中心新增 and, when the
    library gives one, where the norms require the step (依据)."""
    from trainer.app import views
    from trainer.phrasebook.overlay import SOURCE_LABEL

    rows = views.step_rows(scenario)
    for row, step in zip(rows, scenario.steps):
        added = set(new.get((scenario.id, step.id), ()))
        if added:
            row["其他说法"] = "\n".join(
                views.show_slots(step, v) + (f"（{SOURCE_LABEL}）" if v in added else "") for v in step.variants
            )
        source = getattr(step, "source", "")
        if isinstance(source, str) and source and "依据" not in row:
            row["依据"] = source
    return rows


# --------------------------------------------------------------------------- machine vs. instructor agreement


def agreement(store: SessionStore, flt: SessionFilter | None):  # type: ignore[no-untyped-def]
    """The agreement report over the reviewed sessions the filter selects; score and pass/fail
    conditions are dropped (they would select on the very results being compared)."""
    import dataclasses

    from trainer.sessions.agreement import agreement_from_store

    base = dataclasses.replace(flt, min_total=None, max_total=None, result=None) if flt is not None else None
    return agreement_from_store(store, base)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def kappa_label(value: float | None) -> str:
    return "无法计算" if value is None else f"{value:.2f}"


def agreement_rows(report, library: Library | None) -> list[dict]:  # type: ignore[no-untyped-def]
    """One row per scenario step for the agreement table."""
    rows = []
    for s in report.steps:
        scenario = library.scenarios.get(s.scenario_id) if library is not None else None
        step = next((x for x in scenario.steps if x.id == s.step_id), None) if scenario is not None else None
        a = s.agreement
        rows.append({
            "场景": scenario.title if scenario is not None else s.scenario_id,
            "步骤": step.title if step is not None else s.step_id,
            "样本数": a.n,
            "一致率": _pct(a.percent),
            "kappa": kappa_label(a.kappa),
            "机评完成、教师否定": a.machine_only,
            "机评未完成、教师认可": a.instructor_only,
        })
    return rows


AGREEMENT_RULE = (
    "统计规则：机评“完成”指步骤判为命中（不完整、遗漏都算未完成）；教师意见“同意”则与机评相同，“不同意”则相反，"
    "以最近一次对该步骤给出意见的复核为准；复核时没有对某步骤给出意见的，若总体意见为“同意机评”计为同意，为“改判”则不计入。"
    "及格一致性比较机评的通过/未通过与复核后的结果。kappa（Cohen's kappa）扣除了偶然一致的部分：1 为完全一致，0 相当于随机；"
    "双方对所有样本给出同一结论时无法计算。"
)
