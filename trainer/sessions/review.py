"""Instructor reviews: per-step agree/disagree and an overall agree or overridden score.

A review never edits the machine score. Each review is its own append-only file
(`reviews/<time>-<reviewer>-<hex>.json`, canonical JSON) beside `session.json`; the latest
review decides the effective result shown in lists and exports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from collections.abc import Mapping
from typing import Any

from trainer.errors import SessionStoreError
from trainer.scoring.display import passed_label, score_text
from trainer.scoring.result import REVIEW
from trainer.sessions.model import SessionRecord, canonical_json, slug

VERDICTS = ("agree", "disagree")
OVERALL = ("agree", "override")
VERDICT_LABELS = {"agree": "同意", "disagree": "不同意"}
OVERALL_LABELS = {"agree": "同意机评", "override": "改判"}
_REVIEW_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def review_now() -> str:
    """Review timestamps carry microseconds so that reviews of one session sort in the order they were made."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class StepVerdict:
    verdict: str  # agree | disagree
    comment: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "comment": self.comment}


@dataclass(frozen=True)
class Review:
    """One instructor's review of one session."""

    session_id: str
    reviewer: str
    overall: str = "agree"  # agree (with the machine score) | override
    override_total: float | None = None  # required with "override", 0–100
    override_passed: bool | None = None  # required with "override"
    comment: str = ""  # required with "override"
    steps: dict[str, StepVerdict] = field(default_factory=dict)  # step id -> verdict
    created_at: str = field(default_factory=review_now)

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "reviewer": self.reviewer,
            "created_at": self.created_at,
            "overall": self.overall,
            "override_total": self.override_total,
            "override_passed": self.override_passed,
            "comment": self.comment,
            "steps": {key: value.to_dict() for key, value in self.steps.items()},
        }

    def canonical_bytes(self) -> bytes:
        return canonical_json(self.to_dict())

    def file_name(self, unique: str) -> str:
        stamp = self.created_at.replace("-", "").replace(":", "")
        return f"{stamp}-{slug(self.reviewer, 'reviewer', 24)}-{unique}.json"

    @classmethod
    def from_dict(cls, data: Any) -> "Review":
        keys = {"session_id", "reviewer", "created_at", "overall", "override_total", "override_passed", "comment", "steps"}
        if not isinstance(data, dict) or data.keys() != keys:
            raise SessionStoreError("复核记录格式有误（字段不完整或多余）。", f"review keys {sorted(data) if isinstance(data, dict) else type(data)}")
        steps_raw = data["steps"]
        if not isinstance(steps_raw, dict) or not all(
            isinstance(v, dict) and v.keys() == {"verdict", "comment"} for v in steps_raw.values()
        ):
            raise SessionStoreError("复核记录的步骤意见格式有误。", "review steps malformed")
        total = data["override_total"]
        review = cls(
            session_id=data["session_id"],
            reviewer=data["reviewer"],
            overall=data["overall"],
            override_total=float(total) if isinstance(total, (int, float)) and not isinstance(total, bool) else total,
            override_passed=data["override_passed"],
            comment=data["comment"],
            steps={k: StepVerdict(**v) for k, v in steps_raw.items()},
            created_at=data["created_at"],
        )
        review.validate()
        return review

    def validate(self, record: SessionRecord | None = None) -> None:
        """Raise SessionStoreError (Chinese) when the review is incomplete or does not fit the record."""
        if not isinstance(self.reviewer, str) or not self.reviewer.strip():
            raise SessionStoreError("请填写复核人姓名。", "review without reviewer")
        if not isinstance(self.created_at, str) or not _REVIEW_TIME_RE.match(self.created_at):
            raise SessionStoreError("复核时间格式有误。", f"bad review created_at {self.created_at!r}")
        if self.overall not in OVERALL:
            raise SessionStoreError(f"总体意见“{self.overall}”无效，应为同意机评（agree）或改判（override）。", f"bad overall {self.overall!r}")
        if not isinstance(self.comment, str):
            raise SessionStoreError("复核意见应为文本。", "comment not a string")
        if self.overall == "override":
            total = self.override_total
            if not isinstance(total, (int, float)) or isinstance(total, bool) or not 0 <= total <= 100:
                raise SessionStoreError("改判时请填写 0–100 之间的分数。", f"override_total {total!r} out of range")
            if not isinstance(self.override_passed, bool):
                raise SessionStoreError("改判时请选择“通过”或“未通过”。", "override without override_passed")
            if not self.comment.strip():
                raise SessionStoreError("改判时必须填写理由。", "override without comment")
        elif self.override_total is not None or self.override_passed is not None:
            raise SessionStoreError("只有改判时才能填写改判分数。", "override values given with overall=agree")
        for step_id, verdict in self.steps.items():
            if verdict.verdict not in VERDICTS:
                raise SessionStoreError(f"步骤“{step_id}”的意见“{verdict.verdict}”无效，应为同意或不同意。", f"bad verdict {verdict.verdict!r}")
            if not isinstance(verdict.comment, str):
                raise SessionStoreError(f"步骤“{step_id}”的备注应为文本。", "step comment not a string")
        if record is not None:
            if self.session_id != record.id:
                raise SessionStoreError("复核记录与会话编号不一致。", f"review for {self.session_id!r} given to {record.id!r}")
            known = {step.get("id") for step in record.steps}
            unknown = sorted(set(self.steps) - known)
            if unknown:
                raise SessionStoreError(
                    f"该会话的评分中没有步骤 {', '.join(unknown)}，无法对其给出意见。",
                    f"review names unknown steps {unknown}",
                )


def build_review(
    session_id: str,
    reviewer: str,
    step_verdicts: Mapping[str, tuple[str, str]],
    overall: str,
    override_total: float | None,
    override_passed: bool | None,
    comment: str,
) -> Review:
    """A Review from a review form (web page or command line): step_verdicts maps step id -> (agree|disagree|"" for no opinion, comment)."""
    steps = {sid: StepVerdict(verdict, note.strip()) for sid, (verdict, note) in step_verdicts.items() if verdict}
    override = overall == "override"
    return Review(
        session_id=session_id,
        reviewer=reviewer.strip(),
        overall=overall,
        override_total=float(override_total) if override and override_total is not None else None,
        override_passed=override_passed if override else None,
        comment=comment.strip(),
        steps=steps,
    )


def build_decision(
    session_id: str,
    reviewer: str,
    step_verdicts: Mapping[str, tuple[str, str]],
    total: float | None,
    passed: bool | None,
    comment: str,
) -> Review:
    """The review that decides a session the machine sent to review (待复核): stored like a 改判
    (overall "override" with the score and pass/fail), but pass or fail must be chosen (nothing
    defaults to 通过) and the reason given. Raises SessionStoreError (Chinese) when either is missing."""
    if passed is None:
        raise SessionStoreError("请选择复核结论：通过或未通过（机器无法确定本次结果，须由教师决定）。", "review decision without pass/fail")
    if not comment.strip():
        raise SessionStoreError("请填写复核意见：为什么通过或未通过。", "review decision without a reason")
    return build_review(session_id, reviewer, step_verdicts, "override", total, passed, comment)


def review_outcome(review: Review, machine_verdict: str = "") -> str:
    """What a review decided, in the words every screen uses: for a session the machine sent to review
    (`machine_verdict` "review") a 改判 is the instructor's decision (复核结论), and 同意机评 decides nothing."""
    passed = passed_label(review.override_passed)
    if review.overall == "override" and machine_verdict == REVIEW:
        return f"复核结论：{passed}（{score_text(review.override_total)} 分）"
    if review.overall == "override":
        return f"改判为 {score_text(review.override_total)} 分（{passed}）"
    if machine_verdict == REVIEW:
        return "同意机评（未作出结论，仍待复核）"
    return "同意机评"


def latest_review(reviews: list[Review]) -> Review | None:
    """The review that decides the effective result (reviews are kept in the order they were made)."""
    return reviews[-1] if reviews else None
