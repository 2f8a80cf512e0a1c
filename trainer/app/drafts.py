"""Keeping the practice run in progress on the server, without Streamlit: a `PracticeRun` to and from
a stored draft (trainer.sessions.drafts), the notice shown when one is waiting, and resuming it.

A run is saved after every answered turn (a retry included) and forgotten when it is finished
(saved as a session) or given up. Resuming restores the turns with their audio, transcripts and
score; when the phrase library changed since the draft was saved, the stored transcripts are
scored again with the current library (recordings are not transcribed again).
"""

from __future__ import annotations

import logging
from pathlib import Path

from trainer.app.state import PracticeRun, TurnAttempt
from trainer.asr.base import Transcript
from trainer.config import Settings
from trainer.errors import TrainerError
from trainer.phrasebook.model import Library
from trainer.sessions.drafts import Draft, DraftError, DraftStore, DraftTurn, drafts_dir
from trainer.sessions.export import local_time
from trainer.sessions.model import utc_now

log = logging.getLogger(__name__)


def store(settings: Settings) -> DraftStore:
    return DraftStore(drafts_dir(settings.sessions_dir))


def draft_of(run: PracticeRun, owner: str, library_version: str) -> Draft:
    return Draft(
        owner=owner,
        run_id=run.run_id,
        scenario_id=run.scenario_id,
        scenario_title=run.scenario_title,
        steps_total=run.steps_total,
        trainee_id=run.trainee_id,
        trainee_name=run.trainee_name,
        started_at=run.started_at,
        phrasebook_version=library_version,
        turns=tuple(
            DraftTurn(
                t.index, t.prompt, t.audio, t.audio_name, t.source, t.transcript, t.seconds, t.warnings, t.processing_seconds,
                t.step_id, t.reaction,
            )
            for t in run.turns
        ),
        score=run.score,
        retries=run.retries,
        last_turn=run.last_turn if run.last_turn is not None and 0 < run.last_turn <= len(run.turns) else 0,
        updated_at=utc_now(),
    )


def keep(settings: Settings, owner: str, run: PracticeRun, library: Library) -> str:
    """Save the run's answered turns as the owner's draft. "" when kept, else the Chinese problem
    (also left in `run.draft_problem` for the page); never raises."""
    try:
        store(settings).save(draft_of(run, owner, library.version))
        run.draft_problem = ""
    except TrainerError as exc:
        log.warning("practice progress not kept: %s", exc.log_message)
        run.draft_problem = exc.user_message
    except Exception:  # the turn itself is scored and shown: never lose it to a traceback
        log.exception("unexpected error while keeping the practice progress")
        run.draft_problem = "本轮已评分，但没能在服务器上保存练习进度（意外错误，详见日志）。刷新页面会丢失本次练习，请尽快“结束并评分”。"
    return run.draft_problem


def forget(settings: Settings, owner: str, run_id: str) -> bool:
    """Remove the owner's draft of run `run_id` (finished or given up). False when there was none
    or it could not be removed (logged: the notice would offer a run that no longer matters)."""
    try:
        return store(settings).delete(owner, run_id)
    except DraftError as exc:
        log.warning("draft of run %s not removed: %s", run_id, exc.log_message)
        return False


def resume_problem(draft: Draft, library: Library) -> str:
    """Why the draft cannot be continued with this library (Chinese), "" when it can."""
    scenario = library.scenarios.get(draft.scenario_id)
    if scenario is None:
        return f"这次练习的场景“{draft.scenario_title or draft.scenario_id}”已不在话术库中，无法继续，只能放弃。"
    known = {s.id for s in scenario.steps + scenario.extra_steps}
    if any(t.step_id and t.step_id not in known for t in draft.turns):
        return f"话术库中场景“{scenario.title}”的步骤已改动，和已答的轮次对不上，无法继续，只能放弃。"
    if not scenario.reacts and draft.answered > len(scenario.steps):
        return (
            f"话术库中场景“{scenario.title}”现在只有 {len(scenario.steps)} 步，少于已答的 {draft.answered} 轮，"
            "无法继续，只能放弃。"
        )
    return ""


def library_changed(draft: Draft, library: Library) -> bool:
    return draft.phrasebook_version != library.version


def notice_text(draft: Draft, library: Library) -> str:
    """你有一次未完成的练习（场景、已答 N/M 轮、时间）, with what resuming will do."""
    scenario = library.scenarios.get(draft.scenario_id)
    total = max(len(scenario.steps), draft.steps_total) if scenario is not None else draft.steps_total
    text = (
        f"你有一次未完成的练习：{draft.scenario_title or draft.scenario_id}，已答 {draft.answered}/{total} 轮，"
        f"最后保存于 {local_time(draft.updated_at)}。可以继续，也可以放弃后重新选择场景。"
    )
    if resume_problem(draft, library):
        return text
    if library_changed(draft, library):
        text += "\n\n注意：话术库在那之后已更新。继续时，已答各轮会按新的话术库重新评分（用保存的识别文本，不重新识别录音）。"
    return text


def resume(draft: Draft, library: Library, settings: Settings) -> tuple[PracticeRun, str]:
    """The run as it was, and a Chinese note ("" when none) when it had to be scored again.
    Raises TrainerError when the scenario can no longer be continued (see resume_problem)."""
    from trainer.app.services import digest, refresh_total, score_run

    problem = resume_problem(draft, library)
    if problem:
        raise TrainerError(problem, f"draft {draft.run_id} of {draft.owner!r} cannot be resumed")
    scenario = library.scenarios[draft.scenario_id]
    run = PracticeRun(
        scenario_id=draft.scenario_id,
        scenario_title=scenario.title,
        steps_total=max(len(scenario.steps), draft.steps_total),
        trainee_id=draft.trainee_id,
        trainee_name=draft.trainee_name,
        started_at=draft.started_at,
        run_id=draft.run_id,
        turns=[
            TurnAttempt(
                t.index, t.prompt, t.audio, t.audio_name, t.source, t.transcript, t.seconds, t.warnings, t.processing_seconds,
                t.step_id or (scenario.steps[t.index - 1].id if t.index <= len(scenario.steps) else ""), t.reaction,
            )
            for t in draft.turns
        ],
        score=draft.score,
        last_turn=draft.last_turn or draft.turns[-1].index,
        retries=draft.retries,
        processed={digest(t.audio) for t in draft.turns},
    )
    note = ""
    if library_changed(draft, library) or draft.score is None:
        run.score = score_run(run, [Transcript.from_dict(t.transcript) for t in run.turns], settings, library)
        note = (
            f"话术库在你上次练习后已更新，已按新的话术库重新评分已答的 {len(run.turns)} 轮"
            "（用保存的识别文本，没有重新识别录音）。"
        )
    refresh_total(run, scenario)
    return run, note


def cleanup(sessions_dir: Path, max_age_days: float) -> list[str]:
    """Remove drafts older than `max_age_days` (start-up); the problems, in Chinese."""
    report = DraftStore(drafts_dir(sessions_dir)).cleanup(max_age_days)
    for problem in report.problems:
        log.warning("%s", problem)
    return list(report.problems)
