"""Exam records as read from the ledger: results, roster, attempts, overrides and extra attempts.

An exam result lives in its sealed ledger entry (paper, draw, verdict, digests of each question's
session); each question's audio, transcript and score live in the session store as a session of
kind "exam". Instructor overrides and extra attempts are new sealed entries; nothing is edited.

An exam's state is "pass", "fail" or "review" (待复核: the machine could not decide it, see
`trainer.exam.rules`). A 待复核 exam stays in the instructors' queue until an instructor decides
it: the decision is an "override" entry whose body says `"decides": "review"` (sealed, chained and
verified like any override). After that, the latest override or decision gives the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from trainer.errors import ExamError, SessionStoreError
from trainer.exam.draw import Draw
from trainer.exam.paper import Paper
from trainer.exam.rules import Verdict, verdict_from_dict
from trainer.exam.seal import Ledger, fingerprint, seal_matches
from trainer.scoring.advice import advice_of
from trainer.scoring.result import VERDICT_LABELS
from trainer.sessions.model import parse_utc
from trainer.sessions.store import SessionStore

HIDDEN_MESSAGE = "考试已完成并封存。本试卷不向考生显示评分明细，成绩由考核负责人通知。"
REVIEW_MESSAGE = "部分回答机器无法确定评分，已提交教师复核。复核完成前没有考试结果，最终结果以教师复核为准，由考核负责人通知。"
STATE_LABELS = VERDICT_LABELS  # one vocabulary for pass / fail / 待复核 on every screen
REVIEW_DECISION = "review"  # the `decides` value of an override entry that decides a 待复核 exam


def state_label(state: str) -> str:
    """"pass" -> 通过, "fail" -> 未通过, "review" -> 待复核."""
    return STATE_LABELS.get(state, state)


@dataclass(frozen=True)
class QuestionRecord:
    index: int  # 1-based
    scenario_id: str
    scenario_title: str
    session_id: str


@dataclass(frozen=True)
class Override:
    """An instructor's sealed change of an exam verdict (the machine verdict stays in the record),
    or, with `decides == "review"`, the decision of a 待复核 exam (`instructor` is the reviewer,
    `comment` the reason)."""

    seq: int
    time: str
    instructor: str
    passed: bool
    total: float | None
    comment: str
    decides: str = ""  # "review": the decision of a 待复核 exam; "": an override (改判)

    @property
    def is_review_decision(self) -> bool:
        return self.decides == REVIEW_DECISION

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ExamResult:
    exam_id: str
    seq: int  # number of the sealed result entry in the ledger
    seal: str
    sealed_at: str
    paper: Paper
    candidate_id: str
    candidate_name: str
    attempt: int
    draw: Draw
    started_at: str
    finished_at: str
    engine: str
    model: str
    verdict: Verdict  # the machine verdict under the paper's rules
    questions: tuple[QuestionRecord, ...]
    overrides: tuple[Override, ...] = ()
    scores: tuple[dict[str, Any], ...] = field(default=(), compare=False)  # each question's score dict, when loaded

    @property
    def override(self) -> Override | None:
        return self.overrides[-1] if self.overrides else None

    @property
    def passed(self) -> bool:
        """The effective result: the latest override, else the machine verdict (for a 待复核 exam
        not yet decided: the machine's best guess, never to be shown as a result; see `state`)."""
        return self.override.passed if self.override else self.verdict.passed

    @property
    def machine_state(self) -> str:
        """The machine's "pass" | "fail" | "review"."""
        return self.verdict.state

    @property
    def state(self) -> str:
        """The effective "pass" | "fail" | "review": the latest override or review decision, else the machine's."""
        if self.override:
            return "pass" if self.override.passed else "fail"
        return self.verdict.state

    @property
    def pending_review(self) -> bool:
        """待复核 and not yet decided by an instructor."""
        return self.state == "review"

    @property
    def decision(self) -> Override | None:
        """The instructor's decision of this 待复核 exam, if any."""
        decisions = [o for o in self.overrides if o.is_review_decision]
        return decisions[-1] if decisions else None

    @property
    def changes(self) -> tuple[Override, ...]:
        """The overrides (改判) proper, without the review decision."""
        return tuple(o for o in self.overrides if not o.is_review_decision)

    @property
    def total(self) -> float:
        if self.override and self.override.total is not None:
            return self.override.total
        return self.verdict.total

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.seal)

    @property
    def feedback_hidden(self) -> bool:
        return self.paper.rules.feedback_hidden

    def to_dict(self) -> dict[str, Any]:
        """Everything (instructor view, `trainer exam run --json`)."""
        return {
            "exam_id": self.exam_id,
            "seq": self.seq,
            "seal_fingerprint": self.fingerprint,
            "sealed_at": self.sealed_at,
            "paper": self.paper.to_dict(),
            "candidate_id": self.candidate_id,
            "candidate_name": self.candidate_name,
            "attempt": self.attempt,
            "draw": self.draw.to_dict(),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "engine": self.engine,
            "model": self.model,
            "passed": self.passed,
            "state": self.state,
            "machine_state": self.machine_state,
            "total": self.total,
            "machine": self.verdict.to_dict(),
            "overrides": [o.to_dict() for o in self.overrides],
            "questions": [
                {**q.__dict__, "score": self.scores[q.index - 1] if self.scores else None} for q in self.questions
            ],
        }

    def candidate_view(self) -> dict[str, Any]:
        """What the candidate may see after submitting. With `feedback: hidden` only pass/fail.
        While 待复核 (`state` "review"), no pass/fail at all (`passed` is None) and no reasons."""
        pending = self.pending_review
        view: dict[str, Any] = {
            "exam_id": self.exam_id,
            "paper_title": self.paper.title,
            "candidate_id": self.candidate_id,
            "candidate_name": self.candidate_name,
            "finished_at": self.finished_at,
            "state": self.state,
            "passed": None if pending else self.passed,
            "seal_fingerprint": self.fingerprint,
            "feedback_hidden": self.feedback_hidden,
        }
        if pending:
            view["review_message"] = REVIEW_MESSAGE
        if self.feedback_hidden:
            view["message"] = HIDDEN_MESSAGE
            return view
        questions = []
        for q, qv in zip(self.questions, self.verdict.questions):
            score = self.scores[q.index - 1] if self.scores else {}
            questions.append({
                "index": q.index,
                "scenario_id": q.scenario_id,
                "title": q.scenario_title,
                "total": qv.total,
                "dimensions": qv.dimensions,
                "forbidden": [
                    {"phrase": h.get("phrase", ""), "suggestion": h.get("suggestion", ""), "turn": h.get("turn")} for h in qv.forbidden
                ],
                "steps": [
                    {"id": s.get("id"), "status": s.get("status"), "expected": s.get("expected", "")} for s in score.get("steps", [])
                ],
                "feedback": list(score.get("feedback", [])),
                "advice": [group.to_dict() for group in advice_of(score)],  # the feedback grouped by turn, each piece once
            })
        view.update({
            "total": self.total,
            "pass_mark": self.verdict.pass_mark,
            "dimensions": self.verdict.dimensions,
            "reasons": [] if pending else list(self.verdict.reasons),  # while pending they are only a guess
            "notes": list(self.verdict.notes),
            "questions": questions,
        })
        if self.override:
            view["override"] = {
                "passed": self.override.passed,
                "total": self.override.total,
                "comment": self.override.comment,
                "decides": self.override.decides,
            }
        return view


def result_from_entry(entry: dict[str, Any], overrides: tuple[Override, ...] = ()) -> ExamResult:
    body = entry["body"]
    return ExamResult(
        exam_id=entry["exam_id"],
        seq=entry["seq"],
        seal=entry["seal"],
        sealed_at=entry["time"],
        paper=Paper.from_dict(body["paper"]),
        candidate_id=body["candidate_id"],
        candidate_name=body.get("candidate_name", ""),
        attempt=int(body.get("attempt", 1)),
        draw=Draw.from_dict(body["draw"]),
        started_at=body["started_at"],
        finished_at=body["finished_at"],
        engine=body.get("engine", ""),
        model=body.get("model", ""),
        verdict=verdict_from_dict(body["verdict"]),
        questions=tuple(
            QuestionRecord(int(q["index"]), q["scenario_id"], q.get("scenario_title", q["scenario_id"]), q["session_id"])
            for q in body["questions"]
        ),
        overrides=overrides,
    )


def override_from_entry(entry: dict[str, Any]) -> Override:
    b = entry["body"]
    return Override(
        entry["seq"], entry["time"], b.get("instructor", ""), bool(b.get("passed")), b.get("total"), b.get("comment", ""),
        str(b.get("decides", "")),
    )


def _overrides(entries: list[dict[str, Any]]) -> dict[str, tuple[Override, ...]]:
    found: dict[str, list[Override]] = {}
    for e in entries:
        if e["kind"] == "override":
            found.setdefault(e["exam_id"], []).append(override_from_entry(e))
    return {k: tuple(v) for k, v in found.items()}


def exam_results(root: Path) -> list[ExamResult]:
    """Every exam result in the ledger, in ledger order, with its overrides (unreadable lines skipped)."""
    return results_from_entries(Ledger(root).entries())


def results_from_entries(entries: list[dict[str, Any]]) -> list[ExamResult]:
    """`exam_results` from ledger entries already read (e.g. while the ledger is locked)."""
    overrides = _overrides(entries)
    results = []
    for e in entries:
        if e["kind"] == "result":
            try:
                results.append(result_from_entry(e, overrides.get(e["exam_id"], ())))
            except (KeyError, TypeError, ValueError):
                continue  # a damaged entry: `trainer exam verify` names it
    return results


def load_result(store: SessionStore, exam_id: str, with_scores: bool = True) -> ExamResult:
    """One exam result; with_scores also reads each question's score from its stored session."""
    for result in exam_results(store.root):
        if result.exam_id == exam_id:
            break
    else:
        raise ExamError(f"找不到考试记录 {exam_id}。请用 `trainer exam list` 查看考试记录编号。", f"no exam result {exam_id}")
    if not with_scores:
        return result
    scores = []
    for q in result.questions:
        try:
            scores.append(store.load(q.session_id, check_audio=False).score)
        except SessionStoreError as exc:
            raise ExamError(
                f"考试 {exam_id} 第 {q.index} 题的会话记录无法读取：{exc.user_message} 请运行 `trainer exam verify` 检查。",
                f"exam {exam_id} question {q.index}: {exc.log_message}",
            ) from exc
    return replace(result, scores=tuple(scores))


@dataclass(frozen=True)
class RosterRow:
    """One line of the instructor's roster (one exam result)."""

    exam_id: str
    paper_id: str
    paper_title: str
    paper_version: int
    candidate_id: str
    candidate_name: str
    attempt: int
    started_at: str
    finished_at: str
    scenarios: str  # "payment、complaint"
    machine_total: float
    machine_passed: bool  # the machine's best guess (also when it sent the exam to review)
    total: float  # effective (after override)
    passed: bool  # effective (after override); while 待复核 only the machine's best guess: see `state`
    overridden: bool  # changed by an override (改判); a review decision is not an override
    override_comment: str
    reasons: str
    seq: int
    seal_fingerprint: str
    seal_ok: bool | None = None  # None: not checked (no key given); covers the result and its overrides/decision
    state: str = ""  # effective "pass" | "fail" | "review" (待复核, not yet decided)
    machine_state: str = ""  # the machine's "pass" | "fail" | "review"
    review_reasons: str = ""  # why the machine sent it to review
    reviewer: str = ""  # who decided the review
    review_comment: str = ""  # the reviewer's reason

    @property
    def pending_review(self) -> bool:
        return self.state == "review"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


ROSTER_COLUMNS = {
    "exam_id": "考试编号",
    "candidate_id": "考生编号",
    "candidate_name": "考生姓名",
    "paper_id": "试卷编号",
    "paper_title": "试卷名称",
    "paper_version": "试卷版本",
    "attempt": "第几次",
    "started_at": "开始时间(UTC)",
    "finished_at": "交卷时间(UTC)",
    "scenarios": "考题场景",
    "machine_total": "机评总分",
    "machine_passed": "机评是否通过",
    "total": "最终总分",
    "passed": "最终是否通过",  # 通过 / 未通过 / 待复核
    "review_reasons": "待复核原因",
    "reviewer": "复核人",
    "review_comment": "复核理由",
    "overridden": "是否改判",
    "override_comment": "改判说明",
    "reasons": "未通过原因",
    "seq": "账本序号",
    "seal_fingerprint": "封印指纹",
    "seal_ok": "封印校验",
}


def roster(
    root: Path,
    paper_id: str | None = None,
    since: date | None = None,
    until: date | None = None,
    candidate: str | None = None,
    passed: bool | None = None,
    key: bytes | None = None,
    state: str | None = None,
) -> list[RosterRow]:
    """Exam results, newest first, filtered by paper, local date range (inclusive), candidate
    (id, or part of the name) and effective state ("pass" | "fail" | "review"; `passed=True/False`
    is the same as state "pass"/"fail": a 待复核 exam is neither). With `key`, each row's seal
    (its result entry and every override or decision of it) is checked."""
    all_entries = Ledger(root).entries()
    entries = {e["exam_id"]: e for e in all_entries if e["kind"] == "result"}
    changes: dict[str, list[dict[str, Any]]] = {}
    for e in all_entries:
        if e["kind"] == "override":
            changes.setdefault(e["exam_id"], []).append(e)
    if passed is not None and state is None:
        state = "pass" if passed else "fail"
    rows = []
    for result in reversed(results_from_entries(all_entries)):
        if paper_id and result.paper.id != paper_id:
            continue
        day = parse_utc(result.finished_at).astimezone().date()
        if (since and day < since) or (until and day > until):
            continue
        if candidate and candidate != result.candidate_id and candidate not in result.candidate_name:
            continue
        if state is not None and result.state != state:
            continue
        last_change = result.changes[-1] if result.changes else None
        decision = result.decision
        rows.append(RosterRow(
            exam_id=result.exam_id,
            paper_id=result.paper.id,
            paper_title=result.paper.title,
            paper_version=result.paper.version,
            candidate_id=result.candidate_id,
            candidate_name=result.candidate_name,
            attempt=result.attempt,
            started_at=result.started_at,
            finished_at=result.finished_at,
            scenarios="、".join(q.scenario_id for q in result.questions),
            machine_total=result.verdict.total,
            machine_passed=result.verdict.passed,
            total=result.total,
            passed=result.passed,
            overridden=last_change is not None,
            override_comment=last_change.comment if last_change else "",
            reasons="；".join(result.verdict.reasons),
            seq=result.seq,
            seal_fingerprint=result.fingerprint,
            seal_ok=(
                all(seal_matches(e, key) for e in [entries[result.exam_id], *changes.get(result.exam_id, ())])
                if key is not None else None
            ),
            state=result.state,
            machine_state=result.machine_state,
            review_reasons="；".join(result.verdict.review_reasons),
            reviewer=decision.instructor if decision else "",
            review_comment=decision.comment if decision else "",
        ))
    return rows


def attempts_used(entries: list[dict[str, Any]], paper_id: str, candidate_id: str) -> tuple[int, int]:
    """(attempts started, extra attempts granted) for a candidate on a paper."""
    started = sum(
        1 for e in entries
        if e["kind"] == "start" and e["body"].get("paper_id") == paper_id and e["body"].get("candidate_id") == candidate_id
    )
    granted = sum(
        int(e["body"].get("extra_attempts", 1)) for e in entries
        if e["kind"] == "grant" and e["body"].get("paper_id") == paper_id and e["body"].get("candidate_id") == candidate_id
    )
    return started, granted
