"""What the pages show, built by pure functions from scores, scenarios and stored summaries.

Nothing here imports Streamlit: every function takes plain data (the score dict in the
`trainer score --json` shape, `Scenario`/`Library`, `SessionSummary`/`StepStat`) and
returns dataclasses, row dicts for tables and charts, or strings. Pages only render them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from trainer.dialogue import describe_reaction
from trainer.app.highlight import highlight_html, turn_html
from trainer.phrasebook.model import REACTION_LABELS, ROLES, Library, Scenario, Step
from trainer.phrasebook.parse import DOMAIN_LABELS, DOMAINS, ROLE_LABELS, SEVERITY_LABELS, SLOT_KIND_LABELS
from trainer.scoring.advice import advice_of
from trainer.scoring.feedback import fill_slots
from trainer.scoring.display import SCALING_NOTE, dimension_views, forbidden_name, forbidden_quote, machine_and_override, passed_label, round_score, score_text, steps_heard_in, stored_certain
from trainer.scoring.result import ADVICE_FORBIDDEN, FAIL, PASS, REVIEW, VERDICT_LABELS, AmountCheck, verdict_of
from trainer.sessions.export import STATUS_LABELS, local_time
from trainer.sessions.model import SessionFilter, SessionSummary, StepStat
from trainer.sessions.review import OVERALL_LABELS, Review, review_outcome
from trainer.text.normalize import to_simplified

STATUS_ICONS = {"hit": "√", "partial": "△", "missed": "×"}  # glyphs every CJK font has
UNSURE_ICON = "？"
UNSURE_LABEL = "可能没听清"
ADVICE_ICONS = {"forbidden": "⚠", "forbidden_doubtful": "？", "missed": "×", "partial": "△", "unsure": "？"}  # glyphs every CJK font has
GOOD_PERFORMANCE = "表现很好：步骤完整、顺序正确，没有服务忌语。"
DIFFICULTY_LABELS = {1: "★☆☆ 基础", 2: "★★☆ 进阶", 3: "★★★ 困难"}
ALL = "全部"


# --------------------------------------------------------------------------- scenarios


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def domain_label(domain: str) -> str:
    return DOMAIN_LABELS.get(domain, domain)


def difficulty_label(level: int) -> str:
    return DIFFICULTY_LABELS.get(level, f"难度 {level}")


def filter_options(library: Library) -> tuple[list[str], list[str], list[int]]:
    """The roles, domains and difficulties present in the library (for the filter widgets)."""
    scenarios = list(library.scenarios.values())
    roles = sorted({s.role for s in scenarios}, key=lambda r: ROLES.index(r) if r in ROLES else 99)
    domains = sorted({s.domain for s in scenarios}, key=lambda d: list(DOMAIN_LABELS).index(d) if d in DOMAIN_LABELS else 99)
    return roles, domains, sorted({s.difficulty for s in scenarios})


def filter_scenarios(library: Library, role: str | None = None, domain: str | None = None, difficulty: int | None = None) -> list[Scenario]:
    """Scenarios matching the filters (None: any): power first (the main audience), then gas, water,
    general; easier first; otherwise in library order."""
    chosen = [
        s
        for s in library.scenarios.values()
        if (role is None or s.role == role) and (domain is None or s.domain == domain) and (difficulty is None or s.difficulty == difficulty)
    ]
    return sorted(chosen, key=lambda s: (_domain_rank(s.domain), s.difficulty))


def _domain_rank(domain: str) -> int:
    return DOMAINS.index(domain) if domain in DOMAINS else len(DOMAINS)


def scenario_label(scenario: Scenario) -> str:
    return f"{scenario.title}（{role_label(scenario.role)} · {domain_label(scenario.domain)} · {'★' * scenario.difficulty}）"


def scenario_meta(scenario: Scenario) -> str:
    return f"岗位：{role_label(scenario.role)}　领域：{domain_label(scenario.domain)}　难度：{difficulty_label(scenario.difficulty)}　共 {len(scenario.steps)} 轮"


def customer_line(scenario: Scenario, index: int) -> str:
    """What the simulated customer says before turn `index` (1-based) as scripted."""
    step = scenario.steps[index - 1]
    return say(step.customer)


def say(line: str) -> str:
    """A customer line as shown: "" reads as an invitation to open the conversation."""
    return line or "（客户没有说话——请您主动开口。）"


REACTION_NOTES = {
    "forbidden": "客户对上一轮的服务忌语有反应",
    "missed": "上一轮漏了“{title}”，客户有反应",
    "well": "上一轮“{title}”做得好，客户有反应",
}


def reaction_note(scenario: Scenario, reaction: str) -> str:
    """Why the customer said this line (Chinese), "" when the line is as scripted.
    `reaction` is trainer.dialogue.Cue.reaction: "<step id>.<kind>"."""
    if not reaction or "." not in reaction:
        return ""
    step_id, kind = reaction.rsplit(".", 1)
    try:
        title = scenario.step(step_id).title
    except KeyError:
        title = step_id
    return REACTION_NOTES.get(kind, "客户对上一轮有反应").format(title=title)


def turn_hint(scenario: Scenario, step_id: str) -> str:
    """The optional 本轮提示 for the turn that asks for step `step_id`: what this turn is for, as the
    terminal says it (本轮：二问：问明客户要办的业务), with the step's tip when it has one. Never shown in exams."""
    try:
        step = scenario.step(step_id)
    except KeyError:
        return ""
    return f"本轮：{step.title}" + (f"。{step.tip}" if step.tip else "")


# --------------------------------------------------------------------------- one scored turn


@dataclass(frozen=True)
class StepLine:
    step_id: str
    title: str
    status: str  # hit | partial | missed
    said: str  # what the trainee said for it ("" when missed)
    expected: str  # the standard phrase, slots filled with this performance's amounts or ××
    tip: str = ""
    turn: int | None = None
    certain: bool = True  # False: the machine is not sure (可能没听清): replay, re-record or an instructor decides

    @property
    def icon(self) -> str:
        return STATUS_ICONS.get(self.status, "") if self.certain else UNSURE_ICON

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status) if self.certain else UNSURE_LABEL


@dataclass(frozen=True)
class ForbiddenLine:
    phrase: str
    said: str
    severity: str  # Chinese label
    reason: str
    suggestion: str
    turn: int
    certain: bool = True  # False: counted, but the machine is not sure (可能是服务忌语, an instructor decides)

    @property
    def name(self) -> str:
        return forbidden_name(self.certain)

    @property
    def quote(self) -> str:
        """「喂」（识别为“为”）: the list's phrase, and what the recogniser heard when different."""
        return forbidden_quote(self.phrase, self.said)


@dataclass(frozen=True)
class TurnResult:
    index: int
    html: str  # highlighted transcript
    text: str  # plain transcript
    steps: tuple[StepLine, ...]  # steps performed (hit or partial) in this turn
    forbidden: tuple[ForbiddenLine, ...]
    expected_here: StepLine | None = None  # the step this turn's customer line asks for, when not done yet
    unsure_here: StepLine | None = None  # that step, when the machine cannot tell whether it was done (可能没听清)


def _amounts(score: Mapping[str, Any]) -> AmountCheck | None:
    data = score.get("amounts")
    if not isinstance(data, Mapping):
        return None
    return AmountCheck(
        data.get("bill"), data.get("received"), data.get("change"), bool(data.get("consistent")), misheard=bool(data.get("misheard"))
    )


def step_titles(scenario: Scenario | None) -> dict[str, str]:
    return {s.id: s.title for s in scenario.steps + scenario.extra_steps} if scenario is not None else {}


def step_line(step: Mapping[str, Any], scenario: Scenario | None, amounts: AmountCheck | None = None) -> StepLine:
    step_id = str(step.get("id", ""))
    title, tip = step_id, ""
    if scenario is not None:
        try:
            found = scenario.step(step_id)
            title, tip = found.title, found.tip
        except KeyError:
            pass
    return StepLine(
        step_id=step_id,
        title=title,
        status=str(step.get("status", "missed")),
        said=to_simplified(str(step.get("matched_text") or "")),
        expected=fill_slots(str(step.get("expected") or ""), amounts),
        tip=tip,
        turn=step.get("turn") if isinstance(step.get("turn"), int) else None,
        certain=bool(step.get("certain", True)),
    )


def forbidden_reasons(library: Library | None, scenario_id: str = "") -> dict[str, str]:
    if library is None:
        return {}
    entries = library.forbidden_for(scenario_id) if scenario_id in library.scenarios else library.forbidden
    return {e.id: e.reason for e in entries}


def forbidden_line(hit: Mapping[str, Any], reasons: Mapping[str, str]) -> ForbiddenLine:
    return ForbiddenLine(
        phrase=str(hit.get("phrase") or ""),
        said=to_simplified(str(hit.get("matched_text") or "")),
        severity=SEVERITY_LABELS.get(str(hit.get("severity", "")), str(hit.get("severity", ""))),
        reason=reasons.get(str(hit.get("id", "")), ""),
        suggestion=str(hit.get("suggestion") or ""),
        turn=int(hit.get("turn") or 0),
        certain=stored_certain(hit),
    )


def turn_text(score: Mapping[str, Any], index: int) -> str:
    turns = score.get("turns") or []
    return str(turns[index - 1].get("text", "")) if 0 < index <= len(turns) else ""


def plain_html(text: str) -> str:
    """A transcript without a score: escaped, simplified, nothing highlighted."""
    return highlight_html(text, [])


def turn_result(
    score: Mapping[str, Any], index: int, scenario: Scenario | None = None, library: Library | None = None, step_id: str = ""
) -> TurnResult:
    """Turn `index` (1-based) of a scored performance: its highlighted text, the steps it performed, its forbidden phrases.
    `step_id`: the step the customer's line asked for in this turn (default: the scenario's step `index`)."""
    amounts = _amounts(score)
    reasons = forbidden_reasons(library, str(score.get("scenario", "")))
    text = turn_text(score, index)
    return TurnResult(
        index=index,
        html=turn_html(score, index, text, step_titles(scenario)),
        text=text,
        steps=tuple(step_line(s, scenario, amounts) for s in steps_heard_in(score, index)),
        forbidden=tuple(forbidden_line(f, reasons) for f in score.get("forbidden") or [] if f.get("turn") == index),
        expected_here=_expected_here(score, index, scenario, amounts, step_id),
        unsure_here=_unsure_here(score, index, scenario, amounts, step_id),
    )


def _wanted(index: int, scenario: Scenario | None, step_id: str) -> str:
    if step_id or scenario is None or not 0 < index <= len(scenario.steps):
        return step_id
    return scenario.steps[index - 1].id


def _expected_here(
    score: Mapping[str, Any], index: int, scenario: Scenario | None, amounts: AmountCheck | None, step_id: str = ""
) -> StepLine | None:
    """The step whose customer line opens turn `index`, with its standard phrase, when the performance
    so far has missed it (so the trainee sees right away what to say)."""
    wanted = _wanted(index, scenario, step_id)
    if scenario is None or not wanted:
        return None
    for step in score.get("steps") or []:
        if step.get("id") == wanted and step.get("status") == "missed" and step.get("certain", True):
            return step_line(step, scenario, amounts)
    return None


def _unsure_here(
    score: Mapping[str, Any], index: int, scenario: Scenario | None, amounts: AmountCheck | None, step_id: str = ""
) -> StepLine | None:
    """The step this turn answers, when the machine is not sure whether it was done (never taught as a mistake)."""
    wanted = _wanted(index, scenario, step_id)
    if scenario is None or not wanted:
        return None
    for step in score.get("steps") or []:
        if step.get("id") == wanted and step.get("status") != "hit" and not step.get("certain", True):
            return step_line(step, scenario, amounts)
    return None


# --------------------------------------------------------------------------- advice, grouped by turn


@dataclass(frozen=True)
class AdviceLine:
    kind: str  # result.ADVICE_KINDS
    text: str  # Chinese, simplified (it may quote the transcript)
    severity: str = ""  # 轻微 / 严重 / 极严重 for a counted 服务忌语

    @property
    def icon(self) -> str:
        return ADVICE_ICONS.get(self.kind, "")

    @property
    def forbidden(self) -> bool:
        return self.kind == ADVICE_FORBIDDEN


@dataclass(frozen=True)
class TurnAdviceView:
    index: int
    customer: str  # what the customer said before this turn ("" when not known)
    html: str  # what the trainee said, highlighted ("" when not shown)
    items: tuple[AdviceLine, ...]


@dataclass(frozen=True)
class AdviceView:
    """One advice list: each turn (customer, trainee, advice), then the whole performance, each piece once."""

    turns: tuple[TurnAdviceView, ...]
    whole: tuple[AdviceLine, ...]

    @property
    def empty(self) -> bool:
        return not self.whole and not any(t.items for t in self.turns)

    @property
    def lines(self) -> tuple[AdviceLine, ...]:
        return tuple(line for t in self.turns for line in t.items) + self.whole


def advice_view(
    score: Mapping[str, Any],
    scenario: Scenario | None = None,
    library: Library | None = None,
    prompts: Sequence[str] | None = None,
    *,
    transcripts: bool = True,
) -> AdviceView:
    """The advice of a score grouped by turn (scoring/advice.py), with each turn's customer line
    (`prompts`, in turn order) and, when `transcripts`, the trainee's words highlighted. Every turn of
    the performance is listed (with or without advice) when transcripts are shown; otherwise only the
    turns that have advice."""
    groups = advice_of(score, scenario, forbidden_reasons(library, str(score.get("scenario", ""))))
    by_turn = {g.turn: g.items for g in groups}
    count = len(score.get("turns") or []) if transcripts else 0
    indexes = sorted(set(range(1, count + 1)) | {t for t in by_turn if t is not None})
    titles = step_titles(scenario)
    prompts = list(prompts or ())

    def lines(items: Sequence[Any]) -> tuple[AdviceLine, ...]:
        return tuple(AdviceLine(i.kind, to_simplified(i.text), i.severity) for i in items)

    turns = tuple(
        TurnAdviceView(
            index=index,
            customer=prompts[index - 1] if 0 < index <= len(prompts) else "",
            html=turn_html(score, index, turn_text(score, index), titles) if transcripts else "",
            items=lines(by_turn.get(index, ())),
        )
        for index in indexes
    )
    return AdviceView(turns, lines(by_turn.get(None, ())))


# --------------------------------------------------------------------------- the whole performance


@dataclass(frozen=True)
class FinalResult:
    total: float
    passed: bool
    pass_mark: float | None
    dimensions: list[dict[str, Any]]  # rows for the dimension table
    checklist: list[dict[str, Any]]  # rows for the step checklist
    steps: tuple[StepLine, ...]
    missed: tuple[StepLine, ...]  # missed or partial steps with the standard phrase to say
    forbidden: tuple[ForbiddenLine, ...]
    feedback: tuple[str, ...]
    fail_reasons: tuple[str, ...] = field(default=())
    decision: str = ""  # pass | fail | review ("" = from `passed`)
    unsure: tuple[StepLine, ...] = ()  # steps the machine could not decide alone (可能没听清)
    amounts_unsure: bool = False  # the 唱收唱付 amounts may have been misheard (AmountCheck.misheard)
    scaling_note: str = ""  # why a conduct dimension is below 100 with nothing wrong said ("" when none is scaled)
    override: "InstructorDecision | None" = None  # the instructor's latest 改判, shown beside the machine score
    advice: AdviceView = field(default_factory=lambda: AdviceView((), ()))  # the one advice list, by turn

    @property
    def total_text(self) -> str:
        return score_text(self.total)

    @property
    def steps_summary(self) -> str:
        """'做到 7/10 步' (certain hits; the checklist holds the rest)."""
        done = sum(1 for s in self.steps if s.status == "hit" and s.certain)
        return f"做到 {done}/{len(self.steps)} 步"

    @property
    def verdict(self) -> str:
        return VERDICT_LABELS.get(self.decision or verdict_of({"passed": self.passed}), "")

    @property
    def review_note(self) -> str:
        """Why a 待复核 result waits for an instructor, beside the score ("" when nothing the machine
        may have misheard decides it; "" once an instructor has decided it)."""
        if self.decision != "review" or self.override is not None:
            return ""
        what = [
            part
            for part, unsure in (("下面标为“可能没听清”的步骤", bool(self.unsure)), ("唱收唱付的金额（机器可能没听清）", self.amounts_unsure))
            if unsure
        ]
        return f"结果待复核：是否通过取决于{'和'.join(what)}，将由教师听录音后决定。" if what else ""


@dataclass(frozen=True)
class InstructorDecision:
    """The latest review's 改判 (override) of a stored session."""

    total: float | None
    passed: bool | None
    reviewer: str = ""

    @property
    def verdict(self) -> str:
        return passed_label(self.passed)


def instructor_decision(reviews: Sequence[Review]) -> InstructorDecision | None:
    """The override in force (the latest review, as the session index counts it), or None."""
    last = reviews[-1] if reviews else None
    if last is None or last.overall != "override":
        return None
    return InstructorDecision(last.override_total, last.override_passed, last.reviewer)


def dimension_rows(score: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per scored dimension, in a fixed order, with Chinese names; a conduct dimension scaled
    by coverage shows its own score and the factor (服务忌语 68（100 × 68%））."""
    dims = dict((score.get("score") or {}).get("dimensions") or {})
    return [{"维度": view.label, "得分": view.text} for view in dimension_views(dims)]


def scaling_note(score: Mapping[str, Any]) -> str:
    dims = dict((score.get("score") or {}).get("dimensions") or {})
    return SCALING_NOTE if any(view.scaled for view in dimension_views(dims)) else ""


def checklist_rows(steps: Sequence[StepLine]) -> list[dict[str, Any]]:
    """One row per step: done or not, and where. The standard phrasing of a step not done is in the
    advice list (advice_view), once."""
    return [
        {
            "": s.icon,
            "步骤": s.title,
            "结果": s.status_label,
            "学员说的": s.said,
            "轮次": str(s.turn) if s.turn is not None else "—",
        }
        for s in steps
    ]


def final_result(
    score: Mapping[str, Any],
    scenario: Scenario | None = None,
    library: Library | None = None,
    pass_mark: float | None = None,
    override: InstructorDecision | None = None,
    prompts: Sequence[str] | None = None,
) -> FinalResult:
    """The result panel of a scored performance; `prompts`: the customer's line before each turn."""
    amounts = _amounts(score)
    steps = tuple(step_line(s, scenario, amounts) for s in score.get("steps") or [])
    reasons = forbidden_reasons(library, str(score.get("scenario", "")))
    return FinalResult(
        total=float((score.get("score") or {}).get("total") or 0.0),
        passed=bool(score.get("passed")),
        pass_mark=pass_mark,
        dimensions=dimension_rows(score),
        checklist=checklist_rows(steps),
        steps=steps,
        missed=tuple(s for s in steps if s.status != "hit" and s.certain),
        forbidden=tuple(forbidden_line(f, reasons) for f in score.get("forbidden") or []),
        feedback=tuple(to_simplified(str(x)) for x in score.get("feedback") or []),  # quotes the transcript: simplified like the rest
        decision=verdict_of(score),
        unsure=tuple(s for s in steps if not s.certain),
        amounts_unsure=amounts is not None and amounts.misheard,
        scaling_note=scaling_note(score),
        override=override,
        advice=advice_view(score, scenario, library, prompts),
    )


# --------------------------------------------------------------------------- stored sessions


def _overridden(summary: SessionSummary) -> bool:
    return summary.review_overall == "override"


def session_label(summary: SessionSummary) -> str:
    total = "" if summary.total is None and not _overridden(summary) else machine_and_override(summary.total, summary.override_total, _overridden(summary))
    return f"{local_time(summary.started_at)} · {summary.trainee_name or summary.trainee_id} · {summary.scenario_title or summary.scenario_id} · {total}"


SCORE_COLUMNS = ("机评", "总分")  # numbers in session and roster tables, shown with one decimal (ui.dataframe)


def session_rows(summaries: Iterable[SessionSummary]) -> list[dict[str, Any]]:
    """Rows of a session list: the machine score and the instructor's 改判 side by side, and the
    result in force (the 改判 when an instructor overrode the machine)."""
    return [
        {
            "时间": local_time(s.started_at),
            "工号": s.trainee_id,
            "姓名": s.trainee_name,
            "场景": s.scenario_title or s.scenario_id,
            "机评": round_score(s.total),
            "教师改判": score_text(s.override_total, "—") if _overridden(s) else "",  # text: empty when not overridden
            "结果": s.result_label,  # 通过 / 未通过 / 待复核: the instructor's decision, else the machine verdict
            "复核": review_text(s),
            "轮数": s.turns,
            "编号": s.id,
        }
        for s in summaries
    ]


def history_points(summaries: Iterable[SessionSummary]) -> list[dict[str, Any]]:
    """Chart rows (oldest first): one point per scored session, coloured by scenario."""
    points = [
        {"时间": local_time(s.started_at), "得分": round_score(s.effective_total), "场景": s.scenario_title or s.scenario_id}
        for s in summaries
        if s.effective_total is not None
    ]
    return sorted(points, key=lambda p: p["时间"])


# Distinct colours for the scenarios of a chart (the theme's default blues look alike).
SERIES_COLOURS = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d")


@dataclass(frozen=True)
class TimeAxis:
    format: str  # strftime-style (d3) label format
    ticks: tuple[str, ...]  # the times to label ("YYYY-MM-DD HH:MM:SS", as in history_points), no two with the same label
    title: str  # what the labels leave out (the day, when all are on one day)


def history_axis(times: Sequence[str], max_ticks: int = 8) -> TimeAxis:
    """A readable time axis for a score history: label the sessions' own times (at most `max_ticks`,
    evenly spread, never two alike), as hours:minutes on one day, month-day and time within a
    year, with the year otherwise."""
    ordered = sorted(set(times))
    if not ordered:
        return TimeAxis("%m-%d %H:%M", (), "")
    days = {t[:10] for t in ordered}
    years = {t[:4] for t in ordered}
    if len(days) == 1:
        fmt, label, title = "%H:%M", (lambda t: t[11:16]), f"时间（{ordered[0][:10].replace('-', '/')}）"
    elif len(years) == 1:
        fmt, label, title = "%m/%d %H:%M", (lambda t: t[5:16]), f"时间（{ordered[0][:4]} 年）"
    else:
        fmt, label, title = "%Y/%m/%d", (lambda t: t[:10]), "日期"
    step = max(1, -(-len(ordered) // max_ticks))
    chosen = ordered[::step]
    if ordered[-1] not in chosen:
        chosen.append(ordered[-1])
    ticks: list[str] = []
    seen: set[str] = set()
    for t in chosen:
        if label(t) not in seen:
            seen.add(label(t))
            ticks.append(t)
    return TimeAxis(fmt, tuple(ticks), title)


def weak_step_rows(stats: Iterable[StepStat], library: Library | None = None, limit: int = 12) -> list[dict[str, Any]]:
    """The most often missed steps across the group: rows for a bar chart (percentages)."""
    rows = []
    for stat in stats:
        if not stat.attempts or not (stat.misses or stat.partials):  # never missed: not a weak step
            continue
        scenario = library.scenarios.get(stat.scenario_id) if library is not None else None
        title = stat.step_id
        if scenario is not None:
            try:
                title = scenario.step(stat.step_id).title
            except KeyError:
                pass
        scenario_title = scenario.title if scenario is not None else stat.scenario_id
        rows.append(
            {
                "步骤": f"{title}（{scenario_title}）",
                "遗漏率%": round(100 * stat.miss_rate, 1),
                "不完整率%": round(100 * stat.partials / stat.attempts, 1),
                "次数": stat.attempts,
                "标准用语": fill_slots(stat.expected, None),
            }
        )
    rows.sort(key=lambda r: (-(r["遗漏率%"] + r["不完整率%"]), -r["次数"], r["步骤"]))
    return rows[:limit]


# The 结果 filter's choices after 全部: the result shown in the list (SessionSummary.result).
RESULT_FILTERS = {VERDICT_LABELS[PASS]: PASS, VERDICT_LABELS[FAIL]: FAIL, VERDICT_LABELS[REVIEW]: REVIEW}


def build_filter(
    trainee: str = "",
    scenario_id: str | None = None,
    since: date | None = None,
    until: date | None = None,
    score_range: tuple[float, float] = (0.0, 100.0),
    result: str = ALL,
    kind: str | None = None,
    trainee_ids: frozenset[str] | None = None,
) -> SessionFilter:
    """The store filter from the instructor's filter widgets (全部 / 通过 / 未通过 / 待复核 for
    `result`), limited to `trainee_ids` (the trainees the instructor may see; None: everyone)."""
    low, high = score_range
    return SessionFilter(
        trainee_ids=trainee_ids,
        trainee=trainee.strip() or None,
        scenario_id=scenario_id or None,
        kind=kind,
        since=since,
        until=until,
        min_total=low if low > 0 else None,
        max_total=high if high < 100 else None,
        result=RESULT_FILTERS.get(result),
    )


def review_text(summary: SessionSummary) -> str:
    """The 复核 column of a session list: 未复核, 同意机评, 改判, or 已复核 for a 待复核 session an
    instructor decided ("同意机评" on a 待复核 session decided nothing: it stays 待复核)."""
    if not summary.review_count:
        return "未复核"
    if summary.verdict == REVIEW and _overridden(summary):
        return "已复核"
    return OVERALL_LABELS.get(summary.review_overall, "未复核")


def review_lines(reviews: Sequence[Review], machine_verdict: str = "") -> list[str]:
    """Earlier reviews, newest first, one line each; for a session the machine sent to review
    (`machine_verdict` "review") a 改判 is the instructor's decision (复核结论)."""
    lines = []
    for review in reversed(reviews):
        when = local_time(review.created_at.split(".")[0] + "Z") if review.created_at else ""
        verdict = review_outcome(review, machine_verdict)
        disagreed = [sid for sid, v in review.steps.items() if v.verdict == "disagree"]
        extra = f"；不同意步骤：{'、'.join(disagreed)}" if disagreed else ""
        note = f"：{review.comment}" if review.comment else ""
        lines.append(f"{when} {review.reviewer} {verdict}{extra}{note}")
    return lines


# --------------------------------------------------------------------------- phrasebook browser


_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def show_slots(step: Step, text: str) -> str:
    """'收您{received}元' -> '收您〔收到的金额〕元': slots named by their description or kind."""
    slots = {slot.name: slot for slot in step.slots}

    def label(match: re.Match[str]) -> str:
        slot = slots.get(match.group(1))
        return match.group(0) if slot is None else f"〔{slot.description or SLOT_KIND_LABELS.get(slot.kind, slot.kind)}〕"

    return _SLOT.sub(label, text)


def reaction_text(step: Step, scenario: Scenario) -> str:
    """A step's reactions, one per line: 说了忌语 → “你这什么态度！” 并要求先做「再次致歉安抚」."""
    return "\n".join(f"{REACTION_LABELS[kind]} → {describe_reaction(reaction, scenario)}" for kind, reaction in step.reactions.items())


def step_rows(scenario: Scenario) -> list[dict[str, Any]]:
    """The steps of a scenario for the read-only phrasebook view; with reactions, a 客户反应 column
    and the extra steps (补救) after the script."""
    rows = [
        {
            "序号": n,
            "步骤": step.title,
            "客户说": step.customer,
            "标准用语": "\n".join(show_slots(step, p) for p in step.phrases),
            "其他说法": "\n".join(show_slots(step, p) for p in step.variants),
            "关键词": "；".join("/".join(group) for group in step.keywords),
            "必做": "是" if step.required else "否",
            "提示": step.tip,
        }
        for n, step in enumerate(scenario.steps + scenario.extra_steps, start=1)
    ]
    if scenario.reacts:
        for row, step in zip(rows, scenario.steps + scenario.extra_steps):
            row["客户反应"] = reaction_text(step, scenario)
            row["序号"] = "补救" if step.extra else str(row["序号"])  # one type per column (the table is Arrow)
            if step.extra:
                row["必做"] = "插入后必做"
    return rows


def forbidden_rows(library: Library, scenario_id: str | None = None) -> list[dict[str, Any]]:
    """服务忌语 with what to say instead: the shared list, or (with scenario_id) the entries written for that scenario."""
    if scenario_id:
        own = library.scenarios[scenario_id].forbidden if scenario_id in library.scenarios else ()
        entries = tuple(own) + tuple(e for e in library.forbidden if scenario_id in e.scenarios)
    else:
        entries = library.forbidden
    return [
        {
            "忌语": entry.phrase,
            "类似说法": "、".join(entry.variants),
            "严重程度": SEVERITY_LABELS.get(entry.severity, entry.severity),
            "原因": entry.reason,
            "应该说": entry.replacement,
            "适用场景": "、".join(library.scenarios[s].title if s in library.scenarios else s for s in entry.scenarios) or "全部",
        }
        for entry in entries
    ]


def problem_lines(library: Library) -> list[str]:
    return [str(problem) for problem in library.problems]


# --------------------------------------------------------------------------- phrasebook search


@dataclass(frozen=True)
class SearchHit:
    scenario: str  # scenario title ("" for a shared 服务忌语)
    where: str  # 场景 / 步骤「…」 / 服务忌语
    field: str  # what matched: 标题, 标准用语, 其他说法, 客户说, 提示, 忌语, 原因, 应该说 …
    text: str  # the matching text (slots shown readably)

    def row(self) -> dict[str, str]:
        return {"场景": self.scenario or "通用", "位置": self.where, "内容": self.field, "文字": self.text}


def _query_terms(query: str) -> list[str]:
    """Words of a search (separated by spaces), simplified and lower-cased; empty: nothing to search."""
    return [to_simplified(term).lower() for term in query.split() if term.strip()]


def _matches(text: str, terms: Sequence[str]) -> bool:
    plain = to_simplified(text).lower()
    return bool(terms) and all(term in plain for term in terms)


def search_library(
    library: Library, query: str, extra: Mapping[tuple[str, str], Sequence[str]] | None = None, limit: int = 200
) -> list[SearchHit]:
    """Everything in the library a search matches (every word of `query`, traditional or simplified
    alike): scenario titles and briefs, step titles, standard phrasings, other phrasings (with the
    centre's approved ones, `extra`), customer lines, tips, and 服务忌语 with their variants, reasons
    and replacements. In library order, at most `limit`."""
    terms = _query_terms(query)
    if not terms:
        return []
    hits: list[SearchHit] = []

    def add(scenario: str, where: str, field_name: str, text: str) -> None:
        if text and _matches(text, terms):
            hits.append(SearchHit(scenario, where, field_name, text))

    for scenario in filter_scenarios(library):
        add(scenario.title, "场景", "标题", scenario.title)
        add(scenario.title, "场景", "说明", scenario.brief)
        for step in scenario.steps:
            where = f"步骤「{step.title}」"
            add(scenario.title, where, "步骤名称", step.title)
            for phrase in step.phrases:
                add(scenario.title, where, "标准用语", show_slots(step, phrase))
            variants = list(step.variants) + [v for v in (extra or {}).get((scenario.id, step.id), ()) if v not in step.variants]
            for variant in variants:
                add(scenario.title, where, "其他说法", show_slots(step, variant))
            add(scenario.title, where, "客户说", step.customer)
            add(scenario.title, where, "提示", step.tip)
        for entry in scenario.forbidden:
            _add_forbidden(add, scenario.title, entry)
    for entry in library.forbidden:
        scope = "、".join(library.scenarios[s].title if s in library.scenarios else s for s in entry.scenarios)
        _add_forbidden(add, scope, entry)
    return hits[:limit]


def _add_forbidden(add: Any, scenario: str, entry: Any) -> None:
    where = f"服务忌语「{entry.phrase}」"
    add(scenario, where, "忌语", entry.phrase)
    for variant in entry.variants:
        add(scenario, where, "类似说法", variant)
    add(scenario, where, "原因", entry.reason)
    add(scenario, where, "应该说", entry.replacement)
