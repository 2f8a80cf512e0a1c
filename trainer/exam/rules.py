"""Exam rules: turn the per-question scores into the exam verdict. Pure functions.

- The exam total is the mean of the question totals (each question weighs the same).
- Pass: total >= pass mark, and (一票否决) no forbidden phrase in any answer when the paper says
  `forbidden_fails`, and every question reaches each `min_dimension` minimum (a dimension the
  scorer does not report for a scenario, e.g. amounts without 唱收唱付, does not apply there).
- Answers longer than the time limit are listed (the app stops recording at the limit; a longer
  file in batch marking is flagged in the record and the report).

A question score is the dict of `trainer score --json`: {"score": {"total", "dimensions"},
"forbidden": [...], "verdict": "pass" | "fail" | "review", ...}.

Three outcomes (`Verdict.state`): "pass", "fail" and "review" (待复核). A certification result
must never rest on evidence the machine itself is unsure of, in either direction: a candidate is
neither certified on an uncertain pass nor failed (with a retake and a record) on an uncertain
fail. So:

1. Each question carries the scorer's verdict (`question_verdict`): "pass" or "fail" when the
   scorer is sure of its marking, "review" when it is not. Scores stored before the scorer gave a
   verdict count as "pass" if `passed` else "fail" (sure, as they were always treated).
2. The reasons to fail are those of the paper's rules above, exactly as before. A reason is
   *certain* when it does not depend on a question under review:
   - a 服务忌语 (with `forbidden_fails`) or a dimension under its minimum counts as certain only in
     a question whose verdict is "pass" or "fail" (the scorer tells how sure it is per question
     and per step, not per phrase, so nothing of a question under review is certain evidence);
   - the total under the pass mark is certain only when the exam would still miss the mark if
     every question under review had scored the full 100.
3. Any certain reason: the exam fails ("fail"), whatever the questions under review would give
   (they are named in the notes; no review is needed to decide the exam).
   Otherwise, any question under review: the exam is 待复核 ("review"): an instructor decides it
   (`trainer exam decide`, sealed in the ledger); it is never passed or failed by the machine alone.
   Otherwise: pass or fail as the rules above say.
4. A question verdict "fail" is certain evidence about that question but, as before this rule,
   it does not by itself fail the exam: the paper's rules decide (an exam passes with one weaker
   question when the mean and the per-question minimums allow it).

`Verdict.passed` stays the best single guess (the rules applied to the scores as they are); for a
"review" exam it is only a hint for the reviewer and is never shown to the candidate as a result.
An uncertain reason is marked as such in `Verdict.reasons`; `Verdict.review_reasons` says which
questions need review. An unknown verdict value counts as "review".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from trainer.scoring.display import below_mark, score_text
from trainer.errors import ExamError
from trainer.exam.paper import DIMENSIONS, ExamRules
from trainer.scoring.result import verdict_of

OVERTIME_GRACE_SECONDS = 1.0
FULL_MARKS = 100.0
UNCERTAIN_QUESTION = "（该题待复核，此项不能确定）"
UNCERTAIN_TOTAL = "（含待复核的题目，此项不能确定）"


# The scorer's three-way verdict of one question's score dict (old scores without one: from "passed").
question_verdict = verdict_of


def uncertain_steps(score: Mapping[str, Any]) -> tuple[str, ...]:
    """Ids of the steps the scorer marked `"certain": false` (none in scores from before)."""
    return tuple(
        str(s.get("id", "")) for s in score.get("steps") or () if isinstance(s, Mapping) and s.get("certain") is False
    )


@dataclass(frozen=True)
class QuestionVerdict:
    index: int  # 1-based
    scenario_id: str
    total: float
    dimensions: dict[str, float]
    forbidden: tuple[dict[str, Any], ...] = ()
    below_minimum: dict[str, float] = field(default_factory=dict)  # dimension -> score under its minimum
    overtime_turns: tuple[int, ...] = ()  # 1-based turns longer than the time limit
    verdict: str = ""  # the scorer's "pass" | "fail" | "review" ("" in records sealed before it existed)
    uncertain_steps: tuple[str, ...] = ()  # step ids the scorer is not sure of

    @property
    def under_review(self) -> bool:
        return self.verdict == "review"


@dataclass(frozen=True)
class Verdict:
    passed: bool
    total: float
    pass_mark: float
    dimensions: dict[str, float]  # mean over questions
    reasons: tuple[str, ...]  # why it failed (Chinese); empty when passed; uncertain ones say so
    notes: tuple[str, ...]  # remarks that do not decide (over-time answers)
    questions: tuple[QuestionVerdict, ...]
    state: str = ""  # "pass" | "fail" | "review" (待复核); records sealed before it existed: from `passed`
    review_reasons: tuple[str, ...] = ()  # why an instructor must decide (Chinese); only when state is "review"

    def __post_init__(self) -> None:
        if not self.state:
            object.__setattr__(self, "state", "pass" if self.passed else "fail")

    @property
    def under_review(self) -> bool:
        return self.state == "review"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reasons"] = list(self.reasons)
        data["notes"] = list(self.notes)
        data["review_reasons"] = list(self.review_reasons)
        data["questions"] = [
            {**asdict(q), "forbidden": list(q.forbidden), "overtime_turns": list(q.overtime_turns), "uncertain_steps": list(q.uncertain_steps)}
            for q in self.questions
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
    """The exam verdict from each question's score dict (in question order); see the module docstring."""
    if len(scenario_ids) != len(scores) or not scores:
        raise ExamError("考试题目数与评分结果数不一致。", f"{len(scenario_ids)} questions, {len(scores)} scores")
    names = dimension_names or DIMENSIONS
    pass_mark = effective_pass_mark(rules, default_pass_mark)
    reasons: list[tuple[str, bool]] = []  # (Chinese reason, certain)
    notes: list[str] = []
    questions: list[QuestionVerdict] = []
    for index, (scenario_id, score) in enumerate(zip(scenario_ids, scores), 1):
        total, dims = _score_parts(score, index)
        verdict = question_verdict(score)
        sure = verdict != "review"
        forbidden = tuple(dict(hit) for hit in score.get("forbidden") or ())
        below: dict[str, float] = {}
        for dim, minimum in rules.min_dimension.items():
            if dim not in dims:
                continue  # the dimension does not apply to this scenario (e.g. amounts without 唱收唱付)
            if below_mark(dims[dim], minimum):
                below[dim] = dims[dim]
                reasons.append(_reason(f"第 {index} 题“{names.get(dim, dim)}”得分 {score_text(dims[dim])}，低于最低要求 {score_text(minimum)} 分", sure, UNCERTAIN_QUESTION))
        if rules.forbidden_fails and forbidden:
            phrases = "、".join(f"“{hit.get('phrase') or hit.get('matched_text') or hit.get('id')}”" for hit in forbidden)
            reasons.append(_reason(f"第 {index} 题使用了服务忌语 {phrases}（一票否决）", sure, UNCERTAIN_QUESTION))
        late = tuple(overtime[index - 1]) if overtime else ()
        if late:
            notes.append(f"第 {index} 题第 {'、'.join(map(str, late))} 段回答超过时限 {rules.time_limit_seconds:g} 秒")
        questions.append(QuestionVerdict(index, scenario_id, total, dims, forbidden, below, late, verdict, uncertain_steps(score)))
    total = round(sum(q.total for q in questions) / len(questions), 1)
    dim_names = list(dict.fromkeys(d for q in questions for d in q.dimensions))
    mean_dims = {
        d: round(sum(q.dimensions[d] for q in questions if d in q.dimensions) / sum(1 for q in questions if d in q.dimensions), 1)
        for d in dim_names
    }
    review = [q for q in questions if q.under_review]
    if below_mark(total, pass_mark):
        # Certain only if the mark stays out of reach with full marks on every question under review.
        best_case = round(sum(FULL_MARKS if q.under_review else q.total for q in questions) / len(questions), 1)
        reasons.insert(0, _reason(f"总分 {score_text(total)} 分，低于及格线 {score_text(pass_mark)} 分", not review or below_mark(best_case, pass_mark), UNCERTAIN_TOTAL))
    passed = not reasons  # the best single guess
    certain_fail = any(sure for _, sure in reasons)
    state = "fail" if certain_fail else "review" if review else "pass" if passed else "fail"
    about = [_review_reason(q) for q in review]
    if state == "review":
        review_reasons = tuple(about)
    else:
        review_reasons = ()
        notes.extend(f"{line}；已有确定的未通过原因，无需复核即判定未通过" for line in about)
    texts = tuple(text for text, _ in reasons)
    return Verdict(passed, total, pass_mark, mean_dims, texts, tuple(notes), tuple(questions), state, review_reasons)


def _reason(text: str, sure: bool, uncertain_note: str) -> tuple[str, bool]:
    """(the reason as shown, certain): an uncertain reason says so."""
    return (text if sure else text + uncertain_note, sure)


def _review_reason(question: QuestionVerdict) -> str:
    steps = f"（{len(question.uncertain_steps)} 个步骤无法确定是否做到）" if question.uncertain_steps else ""
    return f"第 {question.index} 题机器评分把握不足{steps}"


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
                verdict=str(q.get("verdict", "")),
                uncertain_steps=tuple(q.get("uncertain_steps", ())),
            )
            for q in data.get("questions", ())
        ),
        state=str(data.get("state", "")),  # "" in records sealed before: from `passed`
        review_reasons=tuple(data.get("review_reasons", ())),
    )
