"""Exam rules: turn the per-question scores into the exam verdict. Pure functions.

- The exam total is the mean of the question totals (each question weighs the same).
- Pass: total >= pass mark, and (一票否决) no forbidden phrase in any answer when the paper says
  `forbidden_fails`, and every question reaches each `min_dimension` minimum (a dimension the
  scorer does not report for a scenario, e.g. amounts without 唱收唱付, does not apply there).
- Answers longer than the time limit are listed (the app stops recording at the limit; a longer
  file in batch marking is flagged in the record and the report).

A question score is the dict of `trainer score --json`: {"score": {"total", "dimensions"},
"forbidden": [...], ...}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from trainer.errors import ExamError
from trainer.exam.paper import DIMENSIONS, ExamRules

OVERTIME_GRACE_SECONDS = 1.0


@dataclass(frozen=True)
class QuestionVerdict:
    index: int  # 1-based
    scenario_id: str
    total: float
    dimensions: dict[str, float]
    forbidden: tuple[dict[str, Any], ...] = ()
    below_minimum: dict[str, float] = field(default_factory=dict)  # dimension -> score under its minimum
    overtime_turns: tuple[int, ...] = ()  # 1-based turns longer than the time limit


@dataclass(frozen=True)
class Verdict:
    passed: bool
    total: float
    pass_mark: float
    dimensions: dict[str, float]  # mean over questions
    reasons: tuple[str, ...]  # why it failed (Chinese); empty when passed
    notes: tuple[str, ...]  # remarks that do not decide (over-time answers)
    questions: tuple[QuestionVerdict, ...]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reasons"] = list(self.reasons)
        data["notes"] = list(self.notes)
        data["questions"] = [
            {**asdict(q), "forbidden": list(q.forbidden), "overtime_turns": list(q.overtime_turns)} for q in self.questions
        ]
        return data


def effective_pass_mark(rules: ExamRules, default: float) -> float:
    return float(rules.pass_mark if rules.pass_mark is not None else default)


def overtime_turns(durations: Sequence[float], rules: ExamRules, steps_if_single_file: int = 1) -> tuple[int, ...]:
    """Turns (1-based) longer than the time limit. One file for a whole answer gets limit x steps."""
    limit = rules.time_limit_seconds * (steps_if_single_file if len(durations) == 1 else 1)
    return tuple(i for i, d in enumerate(durations, 1) if d > limit + OVERTIME_GRACE_SECONDS)


def _score_parts(score: Mapping[str, Any], index: int) -> tuple[float, dict[str, float]]:
    try:
        total = float(score["score"]["total"])
        dims = {str(k): float(v) for k, v in score["score"].get("dimensions", {}).items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise ExamError(f"第 {index} 题的评分结果不完整，无法判定。", f"question {index}: malformed score dict: {exc}") from exc
    return total, dims


def judge(
    rules: ExamRules,
    scenario_ids: Sequence[str],
    scores: Sequence[Mapping[str, Any]],
    default_pass_mark: float,
    overtime: Sequence[Sequence[int]] | None = None,
    dimension_names: Mapping[str, str] | None = None,
) -> Verdict:
    """The exam verdict from each question's score dict (in question order)."""
    if len(scenario_ids) != len(scores) or not scores:
        raise ExamError("考试题目数与评分结果数不一致。", f"{len(scenario_ids)} questions, {len(scores)} scores")
    names = dimension_names or DIMENSIONS
    pass_mark = effective_pass_mark(rules, default_pass_mark)
    reasons: list[str] = []
    notes: list[str] = []
    questions: list[QuestionVerdict] = []
    for index, (scenario_id, score) in enumerate(zip(scenario_ids, scores), 1):
        total, dims = _score_parts(score, index)
        forbidden = tuple(dict(hit) for hit in score.get("forbidden") or ())
        below: dict[str, float] = {}
        for dim, minimum in rules.min_dimension.items():
            if dim not in dims:
                continue  # the dimension does not apply to this scenario (e.g. amounts without 唱收唱付)
            if dims[dim] < minimum:
                below[dim] = dims[dim]
                reasons.append(f"第 {index} 题“{names.get(dim, dim)}”得分 {dims[dim]:.0f}，低于最低要求 {minimum:g} 分")
        if rules.forbidden_fails and forbidden:
            phrases = "、".join(f"“{hit.get('phrase') or hit.get('matched_text') or hit.get('id')}”" for hit in forbidden)
            reasons.append(f"第 {index} 题使用了服务忌语 {phrases}（一票否决）")
        late = tuple(overtime[index - 1]) if overtime else ()
        if late:
            notes.append(f"第 {index} 题第 {'、'.join(map(str, late))} 段回答超过时限 {rules.time_limit_seconds:g} 秒")
        questions.append(QuestionVerdict(index, scenario_id, total, dims, forbidden, below, late))
    total = round(sum(q.total for q in questions) / len(questions), 1)
    dim_names = list(dict.fromkeys(d for q in questions for d in q.dimensions))
    mean_dims = {
        d: round(sum(q.dimensions[d] for q in questions if d in q.dimensions) / sum(1 for q in questions if d in q.dimensions), 1)
        for d in dim_names
    }
    if total < pass_mark:
        reasons.insert(0, f"总分 {total:g} 分，低于及格线 {pass_mark:g} 分")
    return Verdict(not reasons, total, pass_mark, mean_dims, tuple(reasons), tuple(notes), tuple(questions))


def verdict_from_dict(data: Mapping[str, Any]) -> Verdict:
    """Rebuild a verdict from `Verdict.to_dict()` (as sealed in the ledger)."""
    return Verdict(
        passed=bool(data["passed"]),
        total=float(data["total"]),
        pass_mark=float(data["pass_mark"]),
        dimensions={k: float(v) for k, v in data.get("dimensions", {}).items()},
        reasons=tuple(data.get("reasons", ())),
        notes=tuple(data.get("notes", ())),
        questions=tuple(
            QuestionVerdict(
                index=int(q["index"]),
                scenario_id=q["scenario_id"],
                total=float(q["total"]),
                dimensions={k: float(v) for k, v in q.get("dimensions", {}).items()},
                forbidden=tuple(q.get("forbidden", ())),
                below_minimum={k: float(v) for k, v in q.get("below_minimum", {}).items()},
                overtime_turns=tuple(q.get("overtime_turns", ())),
            )
            for q in data.get("questions", ())
        ),
    )
