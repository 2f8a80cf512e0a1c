"""What the exam pages show, built by pure functions (no Streamlit, no I/O).

Candidate side: the rules to confirm, the question/turn progress, the answer timer, the result
(only what `ExamResult.candidate_view()` allows; 待复核 instead of pass/fail until an instructor
decides). Instructor side: roster table rows (with the 待复核 queue), the per-question breakdown
of one result, the turn-by-turn timing notes and the seal check report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trainer.app.views import AdviceView, advice_view
from trainer.scoring.display import passed_label, round_score, score_text
from trainer.exam.paper import DIMENSIONS, Paper
from trainer.exam.records import ExamResult, Override, RosterRow, state_label
from trainer.exam.rules import effective_pass_mark
from trainer.exam.verify import VerifyReport
from trainer.sessions.export import local_time

DIMENSION_ORDER = tuple(DIMENSIONS)
TURN_STATUS_LABELS = {"answered": "已作答", "late": "超时提交（未评分）", "skipped": "未作答"}
STATE_FILTERS = {"全部": None, "通过": "pass", "未通过": "fail", "待复核": "review"}
PASSED_FILTERS = STATE_FILTERS  # the roster's result filter (label -> state); kept under its old name
CANDIDATE_REVIEW_LABEL = "待复核（等待教师复核）"


def yes_no(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


def row_state(row: RosterRow) -> str:
    return row.state or ("pass" if row.passed else "fail")


def dimension_label(key: str) -> str:
    return DIMENSIONS.get(key, key)


def ordered_dimensions(keys: Iterable[str]) -> list[str]:
    seen = set(keys)
    return [d for d in DIMENSION_ORDER if d in seen] + sorted(seen - set(DIMENSION_ORDER))


FORBIDDEN_COUNT = "忌语次数"


def cell(value: Any) -> Any:
    """A score table cell: "—" for a dimension that does not apply (never the word None); numbers
    written as every screen writes scores (num), so 100 never sits beside 100.0."""
    if value is None:
        return "—"
    return num(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def num(value: float | None) -> str:
    """A score as every screen writes it (scoring.display.score_text): 55.0 -> "55", 55.25 -> "55.3"; None -> ""."""
    return score_text(value)


# --------------------------------------------------------------------------- before the exam


def paper_label(paper: Paper) -> str:
    return f"{paper.title}（{paper.question_count} 道题）"


def rules_lines(paper: Paper, default_pass_mark: float) -> list[str]:
    """The rules a candidate confirms before starting (Chinese, one per line)."""
    rules = paper.rules
    how = "从题库中为您抽取" if paper.is_drawn else "固定"
    lines = [
        f"本试卷共 {paper.question_count} 道题（{how}），每道题是一个服务场景，需逐轮回答“客户”的话。",
        "每轮回答只录一次：录音提交后不能重录、不能修改。",
        "考试中不显示标准用语、提示和得分。",
        f"每轮回答的时限为 {num(rules.time_limit_seconds)} 秒，从该轮客户的话出现时开始计时；"
        "超时提交的录音不予采用，该轮按未作答计。",
        "如果录音没有声音或无法识别格式，可以在时限内重新录制（该录音不算作答）。",
        f"及格线：{num(effective_pass_mark(rules, default_pass_mark))} 分（总分为各题得分的平均值）。",
    ]
    if rules.forbidden_fails:
        lines.append("一票否决：任何一句服务忌语即判为不通过。")
    if rules.min_dimension:
        parts = "、".join(f"{dimension_label(k)}不低于 {num(v)} 分" for k, v in rules.min_dimension.items())
        lines.append(f"单项要求（每道题）：{parts}。")
    lines.append(
        "交卷后只显示是否通过，评分明细由考核负责人通知。" if rules.feedback_hidden else "交卷后显示总分、各题得分和改进意见。"
    )
    lines.append(
        f"本试卷允许参加 {rules.attempts} 次。点击“开始考试”即计为一次；开始后刷新或关闭页面，本次考试作废且仍计入次数。"
    )
    return lines


def attempt_line(attempt: int, allowed: int) -> str:
    return f"这将是您第 {attempt} 次参加本考试（共可参加 {allowed} 次）。"


# --------------------------------------------------------------------------- during the exam


@dataclass(frozen=True)
class Progress:
    question: int  # 1-based
    questions: int
    turn: int  # 1-based
    turns: int
    answered: int  # turns answered over the whole exam
    total_turns: int

    @property
    def fraction(self) -> float:
        return self.answered / self.total_turns if self.total_turns else 1.0

    @property
    def label(self) -> str:
        return f"第 {self.question}/{self.questions} 题 · 第 {self.turn}/{self.turns} 轮（全卷已答 {self.answered}/{self.total_turns} 轮）"


def progress(turns_per_question: Sequence[int], answered_per_question: Sequence[int]) -> Progress:
    """Where the candidate is: the first question with a turn left (or the last one when all is answered)."""
    total = sum(turns_per_question)
    done = sum(answered_per_question)
    for index, (turns, answered) in enumerate(zip(turns_per_question, answered_per_question), 1):
        if answered < turns:
            return Progress(index, len(turns_per_question), answered + 1, turns, done, total)
    last = len(turns_per_question)
    return Progress(last, last, turns_per_question[-1] if last else 0, turns_per_question[-1] if last else 0, done, total)


def format_clock(seconds: float) -> str:
    """Whole seconds as m:ss (rounded up, never negative): 35.2 -> "0:36"."""
    whole = max(0, int(-(-float(seconds) // 1)))
    return f"{whole // 60}:{whole % 60:02d}"


def remaining_seconds(limit: float, elapsed: float) -> float:
    return max(0.0, float(limit) - float(elapsed))


def timer_text(limit: float, elapsed: float) -> str:
    left = remaining_seconds(limit, elapsed)
    if left <= 0:
        return f"时间到（时限 {num(limit)} 秒）。请立即停止录音并提交。"
    return f"剩余 {format_clock(left)}（时限 {num(limit)} 秒）"


def timer_html(limit: float, elapsed: float) -> str:
    """A self-contained countdown (runs in the browser) starting from the time left now."""
    left = remaining_seconds(limit, elapsed)
    data = json.dumps({"left": round(left, 1), "limit": num(limit)})
    return (
        '<div id="t" style="font:600 1.6rem sans-serif;color:#1a7f37;padding:4px 0"></div>'
        '<div id="s" style="font:0.85rem sans-serif;color:#666"></div>'
        "<script>"
        f"const d={data};const end=Date.now()+d.left*1000;"
        "const t=document.getElementById('t'),s=document.getElementById('s');"
        "function f(x){x=Math.max(0,Math.ceil(x));return Math.floor(x/60)+':'+String(x%60).padStart(2,'0');}"
        "function tick(){const x=(end-Date.now())/1000;"
        "if(x<=0){t.textContent='时间到';t.style.color='#cf222e';s.textContent='请立即停止录音并提交；超时提交的录音不予采用。';return;}"
        "t.textContent='剩余 '+f(x);t.style.color=x<=10?'#cf222e':'#1a7f37';"
        "s.textContent='本轮时限 '+d.limit+' 秒';setTimeout(tick,250);}"
        "tick();</script>"
    )


def late_message(turn: int, elapsed: float, limit: float) -> str:
    return (
        f"第 {turn} 轮超时：从客户的话出现到提交录音用了 {num(round(elapsed, 1))} 秒，超过时限 {num(limit)} 秒。"
        "按考试规则，这段录音不予采用，本轮按未作答计。"
    )


def accepted_message(turn: int, seconds: float) -> str:
    return f"第 {turn} 轮已提交（录音 {num(round(seconds, 1))} 秒）。"


# --------------------------------------------------------------------------- result for the candidate


@dataclass(frozen=True)
class CandidateResult:
    passed: bool  # False while 待复核: look at `state`
    verdict: str  # 通过 / 未通过 / 待复核（等待教师复核）
    hidden: bool
    message: str  # the hidden-feedback note ("" when the breakdown is shown)
    total: float | None
    pass_mark: float | None
    reasons: tuple[str, ...]
    notes: tuple[str, ...]
    dimensions: list[dict[str, Any]]  # rows: 维度, 平均分
    questions: list[dict[str, Any]]  # rows: 题号, 场景, 总分, one column per dimension
    exam_id: str
    fingerprint: str
    override: str  # "" when not overridden
    state: str = "pass"  # "pass" | "fail" | "review" (待复核: no pass/fail shown)
    review_message: str = ""  # what 待复核 means for the candidate ("" otherwise)
    advice: list[tuple[str, AdviceView]] = field(default_factory=list)  # (question title, its advice by turn)

    @property
    def pending_review(self) -> bool:
        return self.state == "review"


def candidate_result(view: Mapping[str, Any]) -> CandidateResult:
    """What the result page shows, from `ExamResult.candidate_view()` only (it already hides what
    the paper does not allow)."""
    hidden = bool(view.get("feedback_hidden"))
    questions = list(view.get("questions") or [])
    dims = ordered_dimensions(view.get("dimensions") or {})
    q_dims = ordered_dimensions(k for q in questions for k in (q.get("dimensions") or {}))
    question_rows = []
    for q in questions:
        row: dict[str, Any] = {"题号": q.get("index"), "场景": q.get("title", ""), "本题总分": cell(q.get("total"))}
        for d in q_dims:
            row[dimension_label(d)] = cell((q.get("dimensions") or {}).get(d))
        question_rows.append(row)
    override = view.get("override")
    override_text = ""
    if override:
        total = f"，{num(override.get('total'))} 分" if override.get("total") is not None else ""
        if override.get("decides") == "review":
            override_text = f"考评员复核结论为“{passed_label(bool(override.get('passed')))}”{total}。理由：{override.get('comment', '')}"
        else:
            override_text = f"考评员改判为“{passed_label(bool(override.get('passed')))}”{total}。说明：{override.get('comment', '')}"
    state = str(view.get("state") or ("pass" if view.get("passed") else "fail"))
    pending = state == "review"
    return CandidateResult(
        passed=bool(view.get("passed")) and not pending,
        verdict=CANDIDATE_REVIEW_LABEL if pending else passed_label(bool(view.get("passed"))),
        hidden=hidden,
        message=str(view.get("message", "")) if hidden else "",
        total=None if hidden else view.get("total"),
        pass_mark=None if hidden else view.get("pass_mark"),
        reasons=() if pending else tuple(view.get("reasons") or ()),
        notes=tuple(view.get("notes") or ()),
        dimensions=[{"维度": dimension_label(d), "平均分": view["dimensions"][d]} for d in dims],
        questions=question_rows,
        exam_id=str(view.get("exam_id", "")),
        fingerprint=str(view.get("seal_fingerprint", "")),
        override=override_text,
        state=state,
        review_message=str(view.get("review_message", "")) if pending else "",
        advice=[
            (f"第 {q.get('index')} 题 · {q.get('title', '')}", advice)
            for q in questions
            if not (advice := advice_view(q, transcripts=False)).empty
        ],
    )


# --------------------------------------------------------------------------- instructor


def roster_rows(rows: Sequence[RosterRow]) -> list[dict[str, Any]]:
    """The roster table (newest first, as given), Chinese column names."""
    out = []
    for r in rows:
        out.append({
            "交卷时间": local_time(r.finished_at),
            "考生编号": r.candidate_id,
            "考生姓名": r.candidate_name,
            "试卷": r.paper_title,
            "第几次": r.attempt,
            "总分": round_score(r.total),
            "结果": state_label(row_state(r)),
            "改判": "是（机评 " + machine_label(r) + f" {num(r.machine_total)} 分）" if r.overridden else "",
            "复核": review_cell(r),
            "未通过原因": r.reasons,
            "封印": "" if r.seal_ok is None else ("√ 完好" if r.seal_ok else "× 不符"),  # glyphs every CJK font has
            "考试编号": r.exam_id,
        })
    return out


def machine_label(row: RosterRow) -> str:
    guess = passed_label(row.machine_passed)
    return f"待复核（倾向{guess}）" if row.machine_state == "review" else guess


def review_cell(row: RosterRow) -> str:
    """The roster's 复核 column: the reasons while pending, the decision once made, "" otherwise."""
    if row.pending_review:
        return f"待复核：{row.review_reasons}" if row.review_reasons else "待复核"
    if row.reviewer:
        return f"{row.reviewer}：{row.review_comment}"
    return ""


def roster_label(row: RosterRow) -> str:
    who = f"{row.candidate_name}（{row.candidate_id}）" if row.candidate_name else row.candidate_id
    return f"{local_time(row.finished_at)} · {who} · {row.paper_title} · {num(row.total)} 分 {state_label(row_state(row))}"


def roster_summary(rows: Sequence[RosterRow]) -> str:
    if not rows:
        return "没有符合条件的考试记录。"
    states = [row_state(r) for r in rows]
    passed, failed, pending = states.count("pass"), states.count("fail"), states.count("review")
    decided = passed + failed
    rate = f"通过率 {passed / decided:.0%}" if decided else "尚无结论"
    if not pending:
        return f"共 {len(rows)} 场考试，通过 {passed} 场，未通过 {failed} 场（{rate}）。"
    return f"共 {len(rows)} 场考试，通过 {passed} 场，未通过 {failed} 场，待复核 {pending} 场（{rate}，不含待复核）。"


def pending_summary(rows: Sequence[RosterRow]) -> str:
    """A line for the instructors' queue ("" when nothing waits)."""
    pending = [r for r in rows if r.pending_review]
    if not pending:
        return ""
    return f"有 {len(pending)} 场考试待复核：机器无法确定结果，请打开记录，听录音后作出复核结论。"


def result_header(result: ExamResult) -> list[tuple[str, str]]:
    """(label, value) pairs describing one exam record."""
    pairs = [
        ("考生", f"{result.candidate_name}（{result.candidate_id}）" if result.candidate_name else result.candidate_id),
        ("试卷", f"{result.paper.title}（{result.paper.id} 第 {result.paper.version} 版）"),
        ("第几次参加", f"第 {result.attempt} 次"),
        ("开始 / 交卷", f"{local_time(result.started_at)} / {local_time(result.finished_at)}"),
        ("结果", f"{state_label(result.state)}，总分 {num(result.total)} 分（及格线 {num(result.verdict.pass_mark)} 分）"),
        ("机评", f"{machine_state_label(result)}，{num(result.verdict.total)} 分"),
        ("识别引擎", f"{result.engine} {result.model}".strip()),
        ("考试编号", result.exam_id),
        ("封印指纹", f"{result.fingerprint}（账本第 {result.seq} 号记录）"),
    ]
    return pairs


def machine_state_label(result: ExamResult) -> str:
    guess = passed_label(result.verdict.passed)
    return f"待复核（倾向{guess}，仅供参考）" if result.verdict.under_review else guess


def result_banner(result: ExamResult) -> tuple[str, str]:
    """(kind, text) of the record's headline: kind is "success" | "error" | "warning" (待复核)."""
    text = f"结果：{state_label(result.state)}，总分 {num(result.total)} 分"
    if result.pending_review:
        return "warning", text + "。机器无法确定结果，请复核后作出结论。"
    return ("success" if result.state == "pass" else "error"), text


def breakdown_rows(result: ExamResult) -> list[dict[str, Any]]:
    """One row per question: scenario, each dimension, total, forbidden count, below-minimum dimensions,
    then an average row."""
    verdict = result.verdict
    dims = ordered_dimensions(d for q in verdict.questions for d in q.dimensions)
    review = any(q.under_review for q in verdict.questions)  # the column only when some question was unsure
    rows = []
    for q, qv in zip(result.questions, verdict.questions):
        row: dict[str, Any] = {"题号": str(q.index), "场景": q.scenario_title}
        for d in dims:
            row[dimension_label(d)] = cell(qv.dimensions.get(d))
        row["本题总分"] = cell(qv.total)
        row[FORBIDDEN_COUNT] = len(qv.forbidden)  # not "服务忌语": that is the dimension's score column
        row["低于单项要求"] = "、".join(dimension_label(d) for d in qv.below_minimum)
        row["超时轮次"] = "、".join(map(str, qv.overtime_turns))
        if review:
            row["机评把握"] = "待复核" if qv.under_review else "确定"
        rows.append(row)
    average: dict[str, Any] = {"题号": "平均", "场景": ""}
    for d in dims:
        average[dimension_label(d)] = cell(verdict.dimensions.get(d))
    average.update({"本题总分": cell(verdict.total), FORBIDDEN_COUNT: sum(len(q.forbidden) for q in verdict.questions), "低于单项要求": "", "超时轮次": ""})
    if review:
        average["机评把握"] = ""
    rows.append(average)
    return rows


def override_lines(result: ExamResult) -> list[str]:
    """Overrides (改判) and the review decision, in ledger order."""
    return [
        f"{local_time(o.time)} · {o.instructor} {'复核为' if o.is_review_decision else '改判为'}“{passed_label(o.passed)}”"
        f"{'，' + num(o.total) + ' 分' if o.total is not None else ''}。{'理由' if o.is_review_decision else '说明'}：{o.comment}（账本第 {o.seq} 号记录）"
        for o in result.overrides
    ]


def override_kind(o: Override) -> str:
    return "复核结论" if o.is_review_decision else "改判"


def turn_notes(score: Mapping[str, Any]) -> dict[int, str]:
    """Turn (1-based) -> how it was answered, from the app's sealed `exam_turns` annotation
    (absent for exams marked from files)."""
    notes = {}
    for item in score.get("exam_turns") or []:
        try:
            turn = int(item["turn"])
        except (KeyError, TypeError, ValueError):
            continue
        status = str(item.get("status", ""))
        text = TURN_STATUS_LABELS.get(status, status)
        elapsed = item.get("elapsed_seconds")
        if elapsed is not None and status != "skipped":
            text += f"，用时 {num(round(float(elapsed), 1))} 秒"
        source = {"microphone": "麦克风", "upload": "上传文件"}.get(str(item.get("source", "")), "")
        if source:
            text += f"，{source}"
        notes[turn] = text
    return notes


def verify_rows(report: VerifyReport) -> list[dict[str, Any]]:
    return [
        {
            "问题": p.message,
            "类型": p.kind,
            "账本行": p.line or "",
            "考试编号": p.exam_id,
            "会话编号": p.session_id,
            "考生编号": p.candidate_id,
        }
        for p in report.problems
    ]


def verify_headline(report: VerifyReport) -> str:
    if report.ok:
        return report.summary()
    names = "、".join(report.named) or "（见下表）"
    return f"{report.summary()}被改动或缺失的记录：{names}"


def unfinished_line(report: VerifyReport) -> str:
    if not report.unfinished:
        return ""
    return f"已开始但未交卷的考试（计入考试次数，不属于篡改）：{'、'.join(report.unfinished)}"


def pending_review_line(report: VerifyReport) -> str:
    if not report.pending_review:
        return ""
    return f"待复核、尚未作出结论的考试（不属于篡改）：{'、'.join(report.pending_review)}"
