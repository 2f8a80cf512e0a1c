"""Exam records as read from the ledger: results, roster, attempts, overrides and extra attempts.

An exam result lives in its sealed ledger entry (paper, draw, verdict, digests of each question's
session); each question's audio, transcript and score live in the session store as a session of
kind "exam". Instructor overrides and extra attempts are new sealed entries; nothing is edited.
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
from trainer.sessions.model import parse_utc
from trainer.sessions.store import SessionStore

HIDDEN_MESSAGE = "考试已完成并封存。本试卷不向考生显示评分明细，成绩由考核负责人通知。"


@dataclass(frozen=True)
class QuestionRecord:
    index: int  # 1-based
    scenario_id: str
    scenario_title: str
    session_id: str


@dataclass(frozen=True)
class Override:
    """An instructor's sealed change of an exam verdict (the machine verdict stays in the record)."""

    seq: int
    time: str
    instructor: str
    passed: bool
    total: float | None
    comment: str


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
        """The effective result: the latest override, else the machine verdict."""
        return self.override.passed if self.override else self.verdict.passed

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
            "total": self.total,
            "machine": self.verdict.to_dict(),
            "overrides": [o.__dict__ for o in self.overrides],
            "questions": [
                {**q.__dict__, "score": self.scores[q.index - 1] if self.scores else None} for q in self.questions
            ],
        }

    def candidate_view(self) -> dict[str, Any]:
        """What the candidate may see after submitting. With `feedback: hidden` only pass/fail."""
        view: dict[str, Any] = {
            "exam_id": self.exam_id,
            "paper_title": self.paper.title,
            "candidate_id": self.candidate_id,
            "candidate_name": self.candidate_name,
            "finished_at": self.finished_at,
            "passed": self.passed,
            "seal_fingerprint": self.fingerprint,
            "feedback_hidden": self.feedback_hidden,
        }
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
            })
        view.update({
            "total": self.total,
            "pass_mark": self.verdict.pass_mark,
            "dimensions": self.verdict.dimensions,
            "reasons": list(self.verdict.reasons),
            "notes": list(self.verdict.notes),
            "questions": questions,
        })
        if self.override:
            view["override"] = {"passed": self.override.passed, "total": self.override.total, "comment": self.override.comment}
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


def _overrides(entries: list[dict[str, Any]]) -> dict[str, tuple[Override, ...]]:
    found: dict[str, list[Override]] = {}
    for e in entries:
        if e["kind"] == "override":
            b = e["body"]
            found.setdefault(e["exam_id"], []).append(
                Override(e["seq"], e["time"], b.get("instructor", ""), bool(b.get("passed")), b.get("total"), b.get("comment", ""))
            )
    return {k: tuple(v) for k, v in found.items()}


def exam_results(root: Path) -> list[ExamResult]:
    """Every exam result in the ledger, in ledger order, with its overrides (unreadable lines skipped)."""
    entries = Ledger(root).entries()
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
    machine_passed: bool
    total: float  # effective (after override)
    passed: bool  # effective (after override)
    overridden: bool
    override_comment: str
    reasons: str
    seq: int
    seal_fingerprint: str
    seal_ok: bool | None = None  # None: not checked (no key given)

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
    "passed": "最终是否通过",
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
) -> list[RosterRow]:
    """Exam results, newest first, filtered by paper, local date range (inclusive), candidate
    (id, or part of the name) and effective pass/fail. With `key`, each row's seal is checked."""
    entries = {e["exam_id"]: e for e in Ledger(root).entries() if e["kind"] == "result"}
    rows = []
    for result in reversed(exam_results(root)):
        if paper_id and result.paper.id != paper_id:
            continue
        day = parse_utc(result.finished_at).astimezone().date()
        if (since and day < since) or (until and day > until):
            continue
        if candidate and candidate != result.candidate_id and candidate not in result.candidate_name:
            continue
        if passed is not None and result.passed != passed:
            continue
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
            overridden=result.override is not None,
            override_comment=result.override.comment if result.override else "",
            reasons="；".join(result.verdict.reasons),
            seq=result.seq,
            seal_fingerprint=result.fingerprint,
            seal_ok=seal_matches(entries[result.exam_id], key) if key is not None else None,
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
