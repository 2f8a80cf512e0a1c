"""What the pages do, without Streamlit: engine status, processing a recorded turn, saving, exporting.

Every failure the user can cause raises a `TrainerError` subclass whose `user_message`
the page shows with st.error.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from trainer.asr.base import Recognizer, Transcript
from trainer.audio import load_audio, measure_levels
from trainer.config import Settings
from trainer.errors import TrainerError
from trainer.phrasebook.model import Library, Scenario
from trainer.sessions import SessionFilter, SessionRecord, SessionStore, turn_records, utc_now
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
        "③ 或改用 Whisper 引擎：设置环境变量 TRAINER_ENGINE=whisper 和 TRAINER_WHISPER_MODEL=<faster-whisper 模型文件夹>，"
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


def score_run(run: PracticeRun, transcripts: list[Transcript], settings: Settings, library: Library) -> dict:
    from trainer.pipeline import score_turns

    return score_turns(transcripts, run.scenario_id, settings, library=library).to_dict()


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
    """Decode, recognise and score the answer to the current turn; store it in `run`.

    The score covers every turn so far (the page shows this turn's part of it). Raises
    AudioError (silence, too long, unknown format…) or another TrainerError; `run` is
    unchanged then.
    """
    started = time.perf_counter()
    index = run.current
    if index > len(scenario.steps):
        raise TrainerError("所有步骤都已回答。请点击“结束并评分”。", "no step left to answer")
    audio = load_audio(data, max_seconds=min(TURN_MAX_SECONDS, settings.max_audio_seconds), require_speech=True, name=name)
    warnings = tuple(measure_levels(audio).warnings())
    transcript = recognizer.transcribe(audio)
    transcripts = [Transcript.from_dict(t.transcript) for t in run.turns]
    if index <= len(transcripts):
        transcripts[index - 1] = transcript
    else:
        transcripts.append(transcript)
    score = score_run(run, transcripts, settings, library)
    turn = TurnAttempt(
        index=index,
        prompt=scenario.steps[index - 1].customer,
        audio=bytes(data),
        audio_name=name,
        source=source,
        transcript=transcript.to_dict(),
        seconds=round(audio.duration, 2),
        warnings=warnings,
        processing_seconds=round(time.perf_counter() - started, 3),
    )
    run.put_turn(turn, score)
    run.processed.add(digest(data))
    log.info("turn %d processed in %.2f s (%.1f s of audio)", index, turn.processing_seconds, audio.duration)
    return turn


def handle_recording(
    run: PracticeRun,
    data: bytes,
    name: str,
    source: str,
    scenario: Scenario,
    library: Library,
    get_recognizer: Callable[[], Recognizer],
    settings: Settings,
) -> TurnAttempt | None:
    """Process a recording once (reruns show the same widget value again): the new turn, or None
    when it was already handled or failed. A failure's Chinese message is left in `run.error`."""
    key = digest(data)
    if key in run.processed:
        return None
    run.processed.add(key)
    try:
        turn = process_recording(run, data, name, source, scenario, library, get_recognizer(), settings)
    except TrainerError as exc:
        log.info("recording rejected: %s", exc.log_message)
        run.error = exc.user_message
        return None
    except Exception:  # never a traceback on the trainee's page
        log.exception("unexpected error while processing a recording")
        run.error = "处理录音时出现意外错误，请重录一次；如果一直出现，请联系管理员查看日志。"
        return None
    run.error = ""
    return turn


def finish_practice(run: PracticeRun, settings: Settings, library: Library, recognizer: Recognizer | None) -> SessionRecord:
    """Score the whole performance (missing steps count as missed) and save it as a practice session."""
    if not run.turns:
        raise TrainerError("还没有录任何一轮，无法评分。请先录音回答。", "finish without turns")
    if run.saved_id:
        return SessionStore(settings.sessions_dir).load(run.saved_id, check_audio=False)
    transcripts = [Transcript.from_dict(t.transcript) for t in run.turns]
    run.score = score_run(run, transcripts, settings, library)
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
        },
    )
    saved = SessionStore(settings.sessions_dir).save(record, [t.audio for t in run.turns])
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
            out.append((store.audio_path(record.id, turn.index).read_bytes(), ""))
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


def export_files(store: SessionStore, flt: SessionFilter | None, stem: str = "练习记录") -> tuple[list[ExportFile], list[str]]:
    """The selected sessions as an Excel workbook and two CSV files (sessions, steps), in memory."""
    files: list[ExportFile] = []
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="trainer-export-") as tmp:
        xlsx = Path(tmp) / f"{stem}.xlsx"
        report = export_sessions(store, flt, xlsx)
        warnings.extend(report.warnings)
        files.append(ExportFile(xlsx.name, xlsx.read_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "导出 Excel"))
        csv_path = Path(tmp) / f"{stem}.csv"
        report = export_sessions(store, flt, csv_path)
        for path, label in zip(report.paths, ("导出 CSV（每次练习一行）", "导出 CSV（每个步骤一行）")):
            files.append(ExportFile(path.name, path.read_bytes(), "text/csv", label))
    return files, warnings
