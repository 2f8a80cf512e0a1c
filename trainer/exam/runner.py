"""Conducting and marking an exam.

Two ways in, one way out:
- the app: `start_exam` (checks the key and the attempts left, draws the questions, records a
  sealed "start" entry: from here on the attempt counts), then `submit_exam` with the audio of
  every answer once the candidate has answered everything;
- batch marking of recordings made elsewhere: `run_exam` marks every answer first (bad audio
  fails before anything is recorded), then records the start and the result.

Either way each question becomes a stored session of kind "exam" (audio, transcripts, score), and
the verdict under the paper's rules is sealed in the ledger with the digests of those sessions.
Nothing about the score is shown during the exam; `ExamResult.candidate_view()` is what the
candidate may see afterwards.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainer.config import Settings
from trainer.errors import ExamError
from trainer.exam.draw import Draw, draw_questions
from trainer.exam.paper import Paper
from trainer.exam.records import (
    REVIEW_DECISION,
    ExamResult,
    Override,
    attempts_used,
    exam_results,
    override_from_entry,
    result_from_entry,
    results_from_entries,
    state_label,
)
from trainer.exam.rules import judge, overtime_turns
from trainer.exam.seal import exam_key, session_digests
from trainer.phrasebook.model import Library, Scenario
from trainer.sessions.model import SessionRecord, new_session_id, utc_now
from trainer.sessions.store import turn_records
from trainer.storage.factory import ledger_for, session_store
from trainer.usertext import clean_input, input_problem

if TYPE_CHECKING:
    from trainer.storage.factory import AnySessionStore

log = logging.getLogger(__name__)

MAX_CANDIDATE_ID = 32
_CANDIDATE_RE = re.compile(r"^[A-Za-z0-9_\-]+$")

Answer = bytes | Path


class AttemptsExhaustedError(ExamError):
    """The candidate has no attempt left on this paper."""


@dataclass(frozen=True)
class ExamQuestion:
    """What the app shows for one question. No standard phrases, no hints."""

    index: int  # 1-based
    scenario_id: str
    title: str
    role: str
    brief: str
    prompts: tuple[str, ...]  # the customer's line before each answer turn ("" = the candidate speaks first)
    time_limit_seconds: float  # per answer turn


@dataclass(frozen=True)
class ExamPlan:
    exam_id: str
    paper: Paper
    candidate_id: str
    candidate_name: str
    attempt: int  # 1-based
    attempts_allowed: int
    draw: Draw
    questions: tuple[ExamQuestion, ...]
    started_at: str
    start_seq: int = 0  # ledger number of the sealed start entry; 0 until started


@dataclass(frozen=True)
class MarkedAnswer:
    """One question marked: what is stored and sealed."""

    audio: tuple[bytes, ...]  # each turn's audio exactly as recorded
    transcripts: tuple[dict[str, Any], ...]  # Transcript.to_dict() per turn
    durations: tuple[float, ...]  # seconds per turn
    score: dict[str, Any]  # the `trainer score --json` dict
    engine: str = ""
    model: str = ""
    phrasebook_version: str = ""


Marker = Callable[[Scenario, Sequence[Answer]], MarkedAnswer]


def check_candidate(candidate_id: str, candidate_name: str = "") -> tuple[str, str]:
    """Normalised (id, name), or a Chinese error naming what is wrong."""
    cid = clean_input(candidate_id or "")
    name = clean_input(candidate_name or "")
    if not cid:
        raise ExamError("请填写考生编号（工号）。", "empty candidate id")
    if len(cid) > MAX_CANDIDATE_ID or not _CANDIDATE_RE.match(cid):
        raise ExamError(
            f"考生编号“{cid}”无效：只能使用字母、数字、下划线和连字符，最多 {MAX_CANDIDATE_ID} 个字符。",
            f"bad candidate id {cid!r}",
        )
    if len(name) > 64:
        raise ExamError("考生姓名最多 64 个字符。", "candidate name too long")
    if problem := input_problem(name, "考生姓名"):
        raise ExamError(problem, f"unprintable candidate name {name!r}")
    return cid, name


def _check_typed(*fields: tuple[str, str, bool]) -> None:
    """(label, text, multiline) of what an instructor typed: printable text only, before it is sealed."""
    for label, text, multiline in fields:
        if problem := input_problem(text.strip(), label, multiline=multiline):
            raise ExamError(problem, f"unprintable {label}")


def _questions(paper: Paper, draw: Draw, library: Library) -> tuple[ExamQuestion, ...]:
    out = []
    for index, scenario_id in enumerate(draw.scenarios, 1):
        scenario = library.scenario(scenario_id)
        out.append(ExamQuestion(
            index=index,
            scenario_id=scenario.id,
            title=scenario.title,
            role=scenario.role,
            brief=scenario.brief,
            prompts=tuple(step.customer for step in scenario.steps),
            time_limit_seconds=paper.rules.time_limit_seconds,
        ))
    return tuple(out)


def _library(settings: Settings, library: Library | None) -> Library:
    if library is not None:
        return library
    from trainer.phrasebook.loader import library_from_settings

    return library_from_settings(settings)


def _refuse_if_exhausted(entries: list[dict[str, Any]], paper: Paper, candidate_id: str) -> int:
    """The number of this attempt; raises when none is left."""
    started, granted = attempts_used(entries, paper.id, candidate_id)
    allowed = paper.rules.attempts + granted
    if started >= allowed:
        raise AttemptsExhaustedError(
            f"考生 {candidate_id} 已参加过“{paper.title}”考试 {started} 次，本试卷允许 {allowed} 次，不能再次参加。"
            "如确需补考，请考核负责人登记补考机会（trainer exam grant）。",
            f"candidate {candidate_id} used {started}/{allowed} attempts on paper {paper.id}",
        )
    return started + 1


def plan_exam(
    paper: Paper,
    candidate_id: str,
    candidate_name: str,
    settings: Settings,
    library: Library | None = None,
    store: "AnySessionStore | None" = None,
) -> ExamPlan:
    """Check the key and attempts, draw the questions. Records nothing (see `start_exam`)."""
    candidate_id, candidate_name = check_candidate(candidate_id, candidate_name)
    key = exam_key(settings)
    store = store or session_store(settings)
    library = _library(settings, library)
    entries = ledger_for(store).entries()
    attempt = _refuse_if_exhausted(entries, paper, candidate_id)
    _, granted = attempts_used(entries, paper.id, candidate_id)
    draw = draw_questions(paper, candidate_id, key)
    started_at = utc_now()
    return ExamPlan(
        exam_id=new_session_id(candidate_id, started_at),
        paper=paper,
        candidate_id=candidate_id,
        candidate_name=candidate_name,
        attempt=attempt,
        attempts_allowed=paper.rules.attempts + granted,
        draw=draw,
        questions=_questions(paper, draw, library),
        started_at=started_at,
    )


def _record_start(plan: ExamPlan, key: bytes, store: "AnySessionStore") -> ExamPlan:
    body = {
        "paper_id": plan.paper.id,
        "paper_version": plan.paper.version,
        "paper_digest": plan.paper.digest,
        "candidate_id": plan.candidate_id,
        "candidate_name": plan.candidate_name,
        "attempt": plan.attempt,
        "draw": plan.draw.to_dict(),
        "started_at": plan.started_at,
    }
    attempt_box: list[int] = []

    def check(entries: list[dict[str, Any]]) -> None:
        attempt_box.append(_refuse_if_exhausted(entries, plan.paper, plan.candidate_id))
        body["attempt"] = attempt_box[-1]

    entry = ledger_for(store).append("start", plan.exam_id, body, key, check=check)
    return replace(plan, attempt=attempt_box[-1], start_seq=entry["seq"])


def start_exam(
    paper: Paper,
    candidate_id: str,
    candidate_name: str,
    settings: Settings,
    library: Library | None = None,
    store: "AnySessionStore | None" = None,
) -> ExamPlan:
    """Begin an attempt in the app: from this call on the attempt counts, even if never submitted."""
    store = store or session_store(settings)
    plan = plan_exam(paper, candidate_id, candidate_name, settings, library, store)
    return _record_start(plan, exam_key(settings), store)


def _mark_all(
    plan: ExamPlan, answers: Sequence[Sequence[Answer]], library: Library, marker: Marker
) -> list[MarkedAnswer]:
    if len(answers) != len(plan.questions):
        raise ExamError(
            f"本场考试共 {len(plan.questions)} 道题（{'、'.join(q.title for q in plan.questions)}），但提供了 {len(answers)} 道题的录音。",
            f"{len(plan.questions)} questions, {len(answers)} answers",
        )
    marked = []
    for question, turns in zip(plan.questions, answers):
        if not turns:
            raise ExamError(f"第 {question.index} 题（{question.title}）没有录音。", f"question {question.index}: no audio")
        marked.append(marker(library.scenario(question.scenario_id), list(turns)))
    return marked


def _finish(
    plan: ExamPlan,
    marked: list[MarkedAnswer],
    settings: Settings,
    library: Library,
    store: "AnySessionStore",
    key: bytes,
) -> ExamResult:
    rules = plan.paper.rules
    scenarios = [library.scenario(q.scenario_id) for q in plan.questions]
    overtime = [overtime_turns(m.durations, rules, len(s.steps)) for m, s in zip(marked, scenarios)]
    verdict = judge(rules, [q.scenario_id for q in plan.questions], [m.score for m in marked], settings.pass_mark, overtime)
    _ensure_open(ledger_for(store).entries(), plan)
    finished_at = utc_now()
    sealed_questions = []
    for question, scenario, answer in zip(plan.questions, scenarios, marked):
        prompts = [s.customer for s in scenario.steps] if len(answer.audio) == len(scenario.steps) else [""] * len(answer.audio)
        record = SessionRecord(
            kind="exam",
            trainee_id=plan.candidate_id,
            trainee_name=plan.candidate_name,
            scenario_id=scenario.id,
            scenario_title=scenario.title,
            started_at=plan.started_at,
            finished_at=finished_at,
            turns=turn_records(prompts, list(answer.transcripts)),
            score=answer.score,
            phrasebook_version=answer.phrasebook_version or library.version,
            engine=answer.engine,
            model=answer.model,
            extra={"exam": {
                "exam_id": plan.exam_id,
                "paper_id": plan.paper.id,
                "paper_version": plan.paper.version,
                "question": question.index,
                "questions": len(plan.questions),
                "attempt": plan.attempt,
            }},
        )
        saved = store.save(record, list(answer.audio))
        digests = session_digests(store, saved.id)  # read back from disk: seal what is actually stored
        sealed_questions.append({"index": question.index, "scenario_id": scenario.id, "scenario_title": scenario.title, **digests})
    body = {
        "paper": plan.paper.to_dict(),
        "paper_digest": plan.paper.digest,
        "candidate_id": plan.candidate_id,
        "candidate_name": plan.candidate_name,
        "attempt": plan.attempt,
        "draw": plan.draw.to_dict(),
        "started_at": plan.started_at,
        "finished_at": finished_at,
        "engine": marked[0].engine,
        "model": marked[0].model,
        "phrasebook_version": marked[0].phrasebook_version or library.version,
        "questions": sealed_questions,
        "verdict": verdict.to_dict(),
    }
    entry = ledger_for(store).append("result", plan.exam_id, body, key, check=lambda entries: _ensure_open(entries, plan))
    return replace(result_from_entry(entry), scores=tuple(m.score for m in marked))


def _ensure_open(entries: list[dict[str, Any]], plan: ExamPlan) -> None:
    """The plan was started (sealed start entry) and not yet submitted."""
    started = any(e["kind"] == "start" and e["exam_id"] == plan.exam_id for e in entries)
    if not started:
        raise ExamError("这场考试没有登记开始，不能交卷。请重新开始考试。", f"exam {plan.exam_id} has no start entry")
    if any(e["kind"] == "result" and e["exam_id"] == plan.exam_id for e in entries):
        raise ExamError("这场考试已经交卷，不能重复提交。", f"exam {plan.exam_id} already submitted")


def submit_exam(
    plan: ExamPlan,
    answers: Sequence[Sequence[Answer]],
    settings: Settings,
    library: Library | None = None,
    marker: Marker | None = None,
    store: "AnySessionStore | None" = None,
) -> ExamResult:
    """Mark a started exam: `answers[i]` holds the audio of question i+1's turns, in order."""
    key = exam_key(settings)
    store = store or session_store(settings)
    library = _library(settings, library)
    _ensure_open(ledger_for(store).entries(), plan)
    marked = _mark_all(plan, answers, library, marker or default_marker(settings, library))
    return _finish(plan, marked, settings, library, store, key)


def run_exam(
    paper: Paper,
    candidate_id: str,
    candidate_name: str,
    audio_files_per_question: Sequence[Sequence[Answer]],
    settings: Settings,
    library: Library | None = None,
    marker: Marker | None = None,
    store: "AnySessionStore | None" = None,
) -> ExamResult:
    """Batch marking: a complete exam from recordings, one list of turn files per question."""
    key = exam_key(settings)
    store = store or session_store(settings)
    library = _library(settings, library)
    plan = plan_exam(paper, candidate_id, candidate_name, settings, library, store)
    marked = _mark_all(plan, audio_files_per_question, library, marker or default_marker(settings, library))
    plan = _record_start(plan, key, store)
    return _finish(plan, marked, settings, library, store, key)


def _find_result(entries: list[dict[str, Any]], exam_id: str) -> ExamResult:
    for result in results_from_entries(entries):
        if result.exam_id == exam_id:
            return result
    raise ExamError(f"找不到考试记录 {exam_id}。请用 `trainer exam list` 查看考试记录编号。", f"no exam result {exam_id}")


def _append_override(
    settings: Settings,
    exam_id: str,
    body: dict[str, Any],
    check: Callable[[ExamResult], None],
    store: "AnySessionStore | None",
) -> Override:
    """Seal an override entry after `check(result)` passed on the ledger as it is, under its lock."""
    key = exam_key(settings)
    store = store or session_store(settings)
    _find_result(ledger_for(store).entries(), exam_id)  # a clear error before taking the lock
    entry = ledger_for(store).append("override", exam_id, body, key, check=lambda entries: check(_find_result(entries, exam_id)))
    return override_from_entry(entry)


def _check_total(total: float | None, what: str) -> float | None:
    if total is None:
        return None
    if not 0 <= float(total) <= 100:
        raise ExamError(f"{what}分数应在 0 到 100 之间。", f"{what} total {total} out of range")
    return float(total)


def override_exam(
    settings: Settings,
    exam_id: str,
    instructor: str,
    passed: bool,
    comment: str,
    total: float | None = None,
    store: "AnySessionStore | None" = None,
) -> Override:
    """An instructor's change of an exam verdict, appended as a new sealed entry (never an edit).
    A 待复核 exam not yet decided is decided with `decide_review`, not overridden."""
    if not instructor.strip():
        raise ExamError("请填写改判的考评员姓名。", "override without instructor")
    if not comment.strip():
        raise ExamError("改判必须填写说明（为什么改判）。", "override without comment")
    _check_typed(("考评员姓名", instructor, False), ("改判说明", comment, True))
    body = {"instructor": instructor.strip(), "passed": bool(passed), "total": _check_total(total, "改判"), "comment": comment.strip()}

    def check(result: ExamResult) -> None:
        if result.pending_review:
            raise ExamError(
                f"考试 {exam_id} 待复核，请先作出复核结论（trainer exam decide 或“考试管理”页面的复核），不能改判。",
                f"override of exam {exam_id} pending review",
            )

    return _append_override(settings, exam_id, body, check, store)


def decide_review(
    settings: Settings,
    exam_id: str,
    reviewer: str,
    passed: bool,
    reason: str,
    total: float | None = None,
    store: "AnySessionStore | None" = None,
) -> Override:
    """An instructor's decision of a 待复核 exam: an override entry with `"decides": "review"`,
    sealed and chained like any override. Only a pending exam can be decided, once (checked with
    the ledger locked, so two reviewers cannot both decide it); a decided result is changed with
    `override_exam`."""
    if not reviewer.strip():
        raise ExamError("请填写复核教师姓名。", "review decision without reviewer")
    if not reason.strip():
        raise ExamError("复核结论必须填写理由。", "review decision without reason")
    _check_typed(("复核教师姓名", reviewer, False), ("复核理由", reason, True))
    body = {
        "instructor": reviewer.strip(),
        "passed": bool(passed),
        "total": _check_total(total, "复核"),
        "comment": reason.strip(),
        "decides": REVIEW_DECISION,
    }

    def check(result: ExamResult) -> None:
        if result.pending_review:
            return
        if result.decision is not None:
            d = result.decision
            raise ExamError(
                f"考试 {exam_id} 已由 {d.instructor} 复核为“{state_label('pass' if d.passed else 'fail')}”（账本第 {d.seq} 号记录）。"
                "如需改变结果，请使用改判（trainer exam override）。",
                f"exam {exam_id} already decided (seq {d.seq})",
            )
        raise ExamError(
            f"考试 {exam_id} 不是待复核状态（当前结果：{state_label(result.state)}），不需要复核。如需改变结果，请使用改判（trainer exam override）。",
            f"exam {exam_id} is not pending review (state {result.state})",
        )

    return _append_override(settings, exam_id, body, check, store)


def pending_reviews(root: "Path | AnySessionStore") -> list[ExamResult]:
    """The 待复核 exams no instructor has decided yet, oldest first (the instructors' queue)."""
    return [r for r in exam_results(root) if r.pending_review]


def grant_attempt(
    settings: Settings,
    paper: Paper,
    candidate_id: str,
    instructor: str,
    reason: str,
    extra_attempts: int = 1,
    store: "AnySessionStore | None" = None,
) -> dict[str, Any]:
    """Allow a candidate more attempts on a paper (补考), as a new sealed entry."""
    key = exam_key(settings)
    candidate_id, _ = check_candidate(candidate_id)
    store = store or session_store(settings)
    if not instructor.strip() or not reason.strip():
        raise ExamError("登记补考须填写考评员姓名和原因。", "grant without instructor or reason")
    _check_typed(("考评员姓名", instructor, False), ("补考原因", reason, True))
    if not 1 <= extra_attempts <= 5:
        raise ExamError("一次可登记 1 到 5 次补考机会。", f"extra_attempts {extra_attempts}")
    body = {
        "paper_id": paper.id,
        "candidate_id": candidate_id,
        "instructor": instructor.strip(),
        "reason": reason.strip(),
        "extra_attempts": extra_attempts,
    }
    return ledger_for(store).append("grant", f"grant-{paper.id}-{candidate_id}", body, key)


def default_marker(settings: Settings, library: Library) -> Marker:
    """Marks answers with the configured recogniser and the scoring pipeline."""
    from trainer.exam.marking import pipeline_marker

    return pipeline_marker(settings, library)
