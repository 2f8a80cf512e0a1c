"""Streamlit building blocks shared by the pages: cached resources, banners, result panels.

Everything shown here is computed by `trainer.app.views` / `highlight`; these functions
only lay it out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from trainer.app import state as app_state
from trainer.app import views
from trainer.app.dates import DateRange
from trainer.app.highlight import legend_html
from trainer.app.markup import html_text, md
from trainer.app.services import EngineStatus, engine_status
from trainer.app.views import AdviceLine, AdviceView, FinalResult, ForbiddenLine, StepLine, TurnResult
from trainer.asr.base import Recognizer
from trainer.config import Settings, load_settings
from trainer.dialogue import record_dialogue
from trainer.errors import TrainerError
from trainer.fair_pool import QUEUED, FairPool, Ticket
from trainer.phrasebook.model import Library
from trainer.scoring.display import UNSURE_FORBIDDEN_NOTE, passed_label, round_score, score_text
from trainer.scoring.result import REVIEW
from trainer.sessions import SessionRecord, SessionStore
from trainer.sessions.review import build_decision, build_review

log = logging.getLogger("trainer.app")
T = TypeVar("T")

PAGE_PRACTICE = "pages/1_练习.py"
PAGE_HISTORY = "pages/2_我的记录.py"
PAGE_INSTRUCTOR = "pages/3_教师.py"
PAGE_PHRASEBOOK = "pages/4_话术库.py"
PAGE_EXAM = "pages/5_考试.py"
PAGE_EXAM_ADMIN = "pages/6_考试管理.py"
PAGE_ACCOUNTS = "pages/8_账号管理.py"


# Streamlit's file uploader has fixed English texts ("Upload", "200MB per file"); show Chinese instead.
LOCALIZE_CSS = """<style>
[data-testid="stFileUploaderDropzone"] button p { font-size: 0; }
[data-testid="stFileUploaderDropzone"] button p::after { content: "选择文件"; font-size: 0.875rem; }
[data-testid="stFileUploaderDropzoneInstructions"] span { font-size: 0; }
[data-testid="stFileUploaderDropzoneInstructions"] span::after { content: "或把文件拖到这里"; font-size: 0.875rem; }
</style>"""


def page_setup(title: str) -> None:
    st.set_page_config(page_title=f"{title} · 文明服务用语训练", page_icon=":material/record_voice_over:", layout="wide")
    st.html(LOCALIZE_CSS)


# --------------------------------------------------------------------------- resources


def settings_or_stop() -> Settings:
    """The settings (re-read each run: cheap). A broken config file stops the page with its message."""
    try:
        settings = load_settings()
    except TrainerError as exc:
        st.error(exc.user_message)
        st.stop()
        raise  # unreachable: st.stop() raises
    _clean_leftovers_once(str(settings.sessions_dir))
    return settings


@st.cache_resource(show_spinner=False)
def _clean_leftovers_once(sessions_dir: str) -> int:
    """Start-up of the web app (first page run of the server process, per sessions folder): remove
    what killed saves and reviews left behind (never a save in progress)."""
    try:
        return len(SessionStore(Path(sessions_dir)).cleanup_leftovers().removed)
    except (OSError, TrainerError) as exc:
        log.warning("start-up cleanup of %s failed: %s", sessions_dir, exc)
        return 0


def library_or_stop(settings: Settings) -> Library:
    """The phrase library; if it cannot be loaded, the page shows why and stops."""
    loaded = guarded(lambda: library(settings), "加载话术库")
    if loaded is None:
        st.stop()
    return loaded  # type: ignore[return-value]  # st.stop() raised otherwise


@st.cache_resource(show_spinner="正在加载话术库……")
def _library(key: tuple, _settings: Settings) -> Library:
    from trainer.app.services import warm_up
    from trainer.phrasebook.loader import library_from_settings

    loaded = library_from_settings(_settings)
    warm_up(_settings, loaded)
    return loaded


def library(settings: Settings) -> Library:
    """The phrase library, loaded once per set of phrasebook files (reloaded when a file changes,
    including the centre's overlay: an approved phrasing applies at once)."""
    from trainer.phrasebook.loader import library_cache_key

    return _library(library_cache_key(settings), settings)


@st.cache_resource(show_spinner="正在加载语音识别模型（只在第一次使用时加载）……")
def _recognizer(engine: str, model_path: str, workers: int, threads: int) -> Recognizer:
    from pathlib import Path

    from trainer.asr.factory import get_recognizer

    plan = Settings(engine=engine, asr_workers=workers, asr_threads=threads)
    return get_recognizer(plan, engine=engine, model_path=Path(model_path))


def recognizer(settings: Settings) -> Recognizer:
    """The recogniser for the configured engine and model, loaded once per process and shared
    by every browser session."""
    return _recognizer(settings.engine, str(settings.model_path().expanduser().resolve()), settings.asr_workers, settings.asr_threads)


def recognition_pool(settings: Settings) -> FairPool:
    """The process's bounded, fair recognition queue (trainer/recognition.py)."""
    from trainer.recognition import shared_pool

    return shared_pool(settings)


QUEUE_POLL_SECONDS = 0.5


def wait_in_queue(ticket: Ticket) -> None:
    """Block until `ticket` has finished, showing 前面还有 N 人 while it waits and the elapsed time
    while it runs (refreshed twice a second instead of a frozen spinner)."""
    started = time.monotonic()
    slot = st.empty()
    while not ticket.wait(QUEUE_POLL_SECONDS):
        status = ticket.status()
        waited = time.monotonic() - started
        if status.state == QUEUED:
            slot.info(
                f"排队等待识别：前面还有 {status.people_ahead} 人（已等 {waited:.0f} 秒）。请不要离开本页面。",
                icon=":material/hourglass_top:",
            )
        else:
            slot.info(f"正在识别和评分……（已用 {waited:.0f} 秒）", icon=":material/graphic_eq:")
    slot.empty()


def guarded(action: Callable[[], T], what: str = "操作") -> T | None:
    """Run `action`; show a TrainerError as a Chinese st.error, anything else as a generic message (logged)."""
    try:
        return action()
    except TrainerError as exc:
        log.info("%s", exc.log_message)
        st.error(exc.user_message)
    except Exception:  # never show a traceback to a trainee
        log.exception("unexpected error during %s", what)
        st.error(f"{what}时出现意外错误，请重试；如果一直出现，请联系管理员查看日志。")
    return None


# --------------------------------------------------------------------------- banners


def admin_problem(headline: str, detail: str) -> None:
    """A problem only the administrator can fix: one plain line for whoever is at the page (a
    trainee, a candidate), then the administrator's instructions with their line breaks kept."""
    st.error(headline, icon=":material/error:")
    with st.expander("给管理员 / 考核负责人的处理方法"):
        st.text(detail)


def skipped_phrasebooks(library: Library, whom: str) -> None:
    """A warning when phrasebook files (e.g. the centre's own) were skipped: their scenarios are
    missing from this page, and whoever is at it should know why and whom to tell. The details
    (file, line, problem) go in an expander as plain text."""
    if not library.problems:
        return
    files = sorted({p.path.name for p in library.problems})
    st.warning(
        f"有 {len(files)} 个话术库文件有错误，已跳过（{'、'.join(md(f) for f in files[:3])}{'等' if len(files) > 3 else ''}），"
        f"其中的场景暂时不能使用。请告诉{whom}。",
        icon=":material/warning:",
    )
    with st.expander("给管理员的处理方法"):
        st.text("\n".join(views.problem_lines(library)) + "\n\n按上面的行号修改文件，运行 trainer phrasebook check 检查，然后刷新本页。")


def microphone_origin_warning() -> None:
    """Beside a record button: warn when this page's address (plain http on a LAN name) rules out the microphone."""
    from trainer.tls.guide import microphone_blocked_hint

    hint = microphone_blocked_hint(st.context.url)
    if hint:
        st.warning(hint, icon=":material/mic_off:")


def engine_banner(settings: Settings) -> EngineStatus:
    status = engine_status(settings)
    if not status.ready:
        st.warning(f"**语音识别模型未安装，暂时无法识别录音。** {status.problem}。\n\n{status.howto}", icon=":material/warning:")
    return status


# --------------------------------------------------------------------------- unfinished practice runs

DRAFT_NOTE = "draft_note"  # session_state: a one-off message shown after the rerun that follows resume/discard


@st.cache_resource(show_spinner=False)
def _drafts_cleaned(sessions_dir: str, max_age_days: float) -> tuple[str, ...]:
    from pathlib import Path

    from trainer.app import drafts

    return tuple(drafts.cleanup(Path(sessions_dir), max_age_days))


def clean_old_drafts(settings: Settings) -> None:
    """Remove practice drafts older than settings.draft_max_age_days, once per server process."""
    _drafts_cleaned(str(settings.sessions_dir), settings.draft_max_age_days)


def unfinished_run_panel(settings: Settings, library: Library, owner: str) -> bool:
    """When `owner` has an unfinished practice run on the server: the notice with 继续 / 放弃.
    True when the notice is shown (the page waits for the choice); a corrupt draft is reported
    and skipped."""
    from trainer.app import drafts
    from trainer.sessions.drafts import DraftError

    try:
        draft = drafts.store(settings).load(owner)
    except DraftError as exc:
        log.warning("%s", exc.log_message)
        st.warning(exc.user_message, icon=":material/warning:")
        return False
    if draft is None:
        return False
    st.subheader("未完成的练习")
    st.info(drafts.notice_text(draft, library), icon=":material/history:")
    problem = drafts.resume_problem(draft, library)
    if problem:
        st.warning(problem)
    cols = st.columns([1, 1, 4])
    if cols[0].button("继续", type="primary", key="draft-resume", disabled=bool(problem)):
        resumed = guarded(lambda: drafts.resume(draft, library, settings), "继续练习")
        if resumed is not None:
            run, note = resumed
            app_state.start_practice(st.session_state, run)
            if note:
                drafts.keep(settings, owner, run, library)  # scored with this library now: say it once
                st.session_state[DRAFT_NOTE] = note
            st.rerun()
    if cols[1].button("放弃", key="draft-discard"):
        if guarded(lambda: drafts.store(settings).delete(owner, draft.run_id), "放弃练习") is not None:
            st.session_state[DRAFT_NOTE] = "已放弃上次未完成的练习。"
            st.rerun()
    return True


def draft_note() -> None:
    """The message left by resuming or discarding an unfinished run, shown once."""
    note = st.session_state.pop(DRAFT_NOTE, "")
    if note:
        st.info(note, icon=":material/info:")


# --------------------------------------------------------------------------- filters


def date_filter(where: Any, label: str, key: str) -> "DateRange":
    """The Chinese date filter (trainer.app.dates) in the container `where`: a preset range, or two
    typed dates under 指定日期. A wrongly typed date is named below the fields (the range stays open)."""
    from trainer.app import dates

    preset = where.selectbox(label, dates.PRESETS, key=key)
    if preset != dates.CHOSEN:
        return dates.date_range(preset)
    left, right = where.columns(2)
    start = left.text_input("从", placeholder=dates.EXAMPLE, key=f"{key}-from")
    end = right.text_input("到（含当天）", placeholder=dates.EXAMPLE, key=f"{key}-to")
    span = dates.date_range(preset, start, end)
    if span.problem:
        where.warning(span.problem, icon=":material/event_busy:")
    return span


# --------------------------------------------------------------------------- result panels


def highlighted(html: str) -> None:
    st.markdown(f'<div style="font-size:1.15rem;line-height:2">{html}</div>', unsafe_allow_html=True)


def legend() -> None:
    st.markdown(f'<div style="font-size:0.85rem">图例：{legend_html()}（鼠标悬停查看说明）</div>', unsafe_allow_html=True)


def step_lines(lines: tuple[StepLine, ...]) -> None:
    for line in lines:
        text = f"{line.icon} **{line.title}**：“{md(line.said)}”"
        if line.status == "partial":
            text += f" —— 不完整，标准说法：“{line.expected}”"
        st.markdown(text)


def forbidden_lines(lines: tuple[ForbiddenLine, ...]) -> None:
    for line in lines:
        reason = f"（{line.reason}）" if line.reason else ""
        text = f"{line.name}（{line.severity}）：{md(line.quote)}{reason}\n\n建议说：“{line.suggestion}”"
        if line.certain:
            st.error(text, icon=":material/block:")
        else:
            st.warning(f"{text}\n\n{UNSURE_FORBIDDEN_NOTE}。", icon=":material/hearing:")


def turn_panel(result: TurnResult) -> None:
    highlighted(result.html)
    if result.steps:
        step_lines(result.steps)
    missing = result.expected_here
    if result.unsure_here is not None:
        st.warning(
            f"「{result.unsure_here.title}」可能没听清：机器对这一轮的识别没有把握，这不算你的错。"
            "请播放上面的录音听一听；确实说到了就不用改，没录清楚可以点“重录这一轮”。",
            icon=":material/hearing:",
        )
    elif missing is not None:
        lead = "" if result.steps or result.forbidden else "这一轮没有对上任何标准用语。"
        tip = f"\n\n提示：{missing.tip}" if missing.tip else ""
        st.info(f"{lead}本轮应做到「{missing.title}」，标准说法：“{missing.expected}”{tip}\n\n可以点“重录这一轮”再试一次。", icon=":material/lightbulb:")
    elif not result.steps and not result.forbidden:
        st.info("这一轮没有对上任何标准用语。可以点“重录这一轮”再试一次。")
    forbidden_lines(result.forbidden)


def final_panel(result: FinalResult, turn_extra: Callable[[int], None] | None = None) -> None:
    """Machine score and verdict (and an instructor's 改判), dimensions, the step checklist and the one
    advice list by turn (`turn_extra(index)` adds to a turn's box, e.g. its recording)."""
    override = result.override
    cols = st.columns([1, 1, 1, 1, 2] if override else [1, 1, 3])
    cols[0].metric("机评总分", result.total_text)
    cols[1].metric("机评结果", result.verdict, delta=None)
    if override is not None:  # for a 待复核 result the instructor's decision, else a 改判 of the machine's
        deciding = result.decision == REVIEW
        cols[2].metric("复核分数" if deciding else "教师改判", score_text(override.total, "—"), help=f"复核人：{override.reviewer}" if override.reviewer else None)
        cols[3].metric("复核结论" if deciding else "改判结果", override.verdict or "—")
    if result.pass_mark is not None:
        settled = "" if override is None else ("；以教师复核结论为准。" if result.decision == REVIEW else "；以教师改判为准。")
        cols[-1].caption(f"及格线 {score_text(result.pass_mark)} 分{settled}")
    st.markdown("**各维度得分**")
    if result.dimensions:  # one row across the page: the checklist below gets the full width
        static_table([{row["维度"]: row["得分"] for row in result.dimensions}])
        if result.scaling_note:
            st.caption(result.scaling_note)
    with st.expander(f"步骤完成情况（{result.steps_summary}）"):  # each missed step is also in the advice below
        static_table(result.checklist)
    if result.review_note:
        st.info(result.review_note, icon=":material/rate_review:")
    advice_list(result.advice, turn_extra)


def advice_list(view: AdviceView, turn_extra: Callable[[int], None] | None = None, heading: str = "逐轮建议") -> None:
    """The one advice list: per turn what the customer said, what the trainee said (highlighted) and the
    advice for that turn; then the advice about the whole performance. `turn_extra(index)` adds to a
    turn's box (e.g. its recording)."""
    if view.turns:
        st.markdown(f"**{heading}**")
        if any(turn.html for turn in view.turns):
            legend()
    for turn in view.turns:
        head = f"**第 {turn.index} 轮**" + (f" · 客户：{md(turn.customer)}" if turn.customer else "")
        said = f'学员：<span style="line-height:1.8">{turn.html}</span>' if turn.html else ""
        advice = advice_markdown(turn.items)
        if turn_extra is None:  # one block per turn: the page stays short
            st.markdown("  \n".join(x for x in (head, said) if x) + (f"\n\n{advice}" if advice else ""), unsafe_allow_html=True)
            continue
        with st.container(border=True):
            st.markdown(head)
            turn_extra(turn.index)
            st.markdown(said + (f"\n\n{advice}" if advice else ""), unsafe_allow_html=True)
    if view.whole:
        st.markdown("**整体建议**")
        st.markdown(advice_markdown(view.whole))
    if view.empty:
        st.success(views.GOOD_PERFORMANCE, icon=":material/thumb_up:")


def advice_markdown(lines: Sequence[AdviceLine]) -> str:
    """A Markdown list, one item per piece of advice; a 服务忌语 in red."""
    items = []
    for line in lines:
        text = f"{line.icon} {md(line.text)}" if line.icon else md(line.text)
        items.append(f"- :red[{text}]" if line.forbidden else f"- {text}")
    return "\n".join(items)


SCORE_FORMAT = "%g"  # printf style: 64.9, 98.7, 100 — never 64.89999999999999


def dataframe(rows: list[dict[str, Any]], **kwargs: Any) -> None:
    """A sortable table; score columns (views.SCORE_COLUMNS) show as rounded (100, 98.7), like score_text.
    Their values are already rounded (round_score); "%g" writes them as such. Streamlit's "plain" format
    wrote 64.9 as 64.89999999999999 and 59.5 as 59.50000000000001 in Chromium (checked in a screenshot)."""
    present = {key for row in rows for key in row}
    config = {name: st.column_config.NumberColumn(name, format=SCORE_FORMAT) for name in views.SCORE_COLUMNS if name in present}
    if config:
        kwargs["column_config"] = {**config, **kwargs.get("column_config", {})}
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", **kwargs)


def session_detail(record: SessionRecord, store: SessionStore, library: Library | None, pass_mark: float | None) -> None:
    """One stored session: the score panel, then each turn (customer line, recording, highlighted
    transcript, advice) and the whole-performance advice."""
    from trainer.app import views
    from trainer.app.services import audio_mime, turn_audio
    from trainer.sessions.export import local_time

    scenario = library.scenarios.get(record.scenario_id) if library is not None else None
    st.markdown(f"### {md(record.scenario_title or record.scenario_id)}")
    st.caption(md(
        f"{record.trainee_name}（{record.trainee_id}）· {local_time(record.started_at)} · "
        f"识别引擎 {record.engine} / {record.model} · 话术库版本 {record.phrasebook_version} · 编号 {record.id}"
    ))
    if scenario is None and library is not None:
        st.caption("该场景已不在当前话术库中：步骤名称按编号显示。")
    path = record_dialogue(record.extra, len(record.turns))
    turns = {t.index: t for t in record.turns}
    audio = dict(zip((t.index for t in record.turns), turn_audio(store, record)))

    def recording(index: int) -> None:  # in each turn's box: the customer's reaction and the recording
        reaction = path[index - 1][1] if path and 0 < index <= len(path) else ""
        if reaction and scenario is not None:
            st.caption(md(views.reaction_note(scenario, reaction)))
        data, problem = audio.get(index, (None, ""))
        if data is not None and index in turns:
            st.audio(data, format=audio_mime(turns[index].audio_file))
        elif problem:
            st.warning(problem)

    prompts = [t.prompt or "（无台词）" for t in sorted(record.turns, key=lambda t: t.index)]
    if record.score:
        reviews = guarded(lambda: store.reviews(record.id), "读取复核意见") or []
        final = views.final_result(record.score, scenario, library, pass_mark, views.instructor_decision(reviews), prompts)
        final_panel(final, recording)
    else:
        st.info("该会话没有评分结果。")
        st.markdown("#### 逐轮录音与识别文本")
        for turn in record.turns:
            with st.container(border=True):
                st.markdown(f"**第 {turn.index} 轮** · 客户：{md(turn.prompt or '（无台词）')}")
                recording(turn.index)
                highlighted(views.plain_html(str(turn.transcript.get("text", ""))))


VERDICT_CHOICES = ("", "agree", "disagree")
VERDICT_TEXT = {"": "不评", "agree": "同意", "disagree": "不同意"}
REVIEW_SAVED = "review_saved"  # session_state: the confirmation shown after the rerun that follows a save


def review_list(store: SessionStore, session_id: str, heading: str, machine_verdict: str = "") -> None:
    """The instructor reviews stored beside a session, newest first, under `heading` (nothing if none);
    `machine_verdict`: the session's (a 改判 of a 待复核 session reads as the instructor's decision)."""
    from trainer.app import views

    reviews = guarded(lambda: store.reviews(session_id), "读取复核意见") or []
    if reviews:
        st.markdown(f"#### {heading}")
        for line in views.review_lines(reviews, machine_verdict):
            st.markdown(f"- {md(line)}")


def review_form(record: SessionRecord, store: SessionStore, library: Library | None, reviewer: str) -> None:
    """Per-step agree/disagree with comments and an overall agree/override; saved as a new review
    signed by `reviewer` (the logged-in instructor). For a session the machine sent to review
    (待复核) the overall part is the instructor's decision instead: 通过 or 未通过, none chosen
    beforehand, and a reason (trainer.sessions.review.build_decision)."""
    from trainer.app import views

    scenario = library.scenarios.get(record.scenario_id) if library is not None else None
    deciding = record.verdict == REVIEW
    key = f"review-{record.id}"
    if st.session_state.get(REVIEW_SAVED, (None, ""))[0] == record.id:
        st.success(st.session_state.pop(REVIEW_SAVED)[1], icon=":material/check_circle:")
    with st.form(key):
        st.markdown("#### 复核")
        st.caption(f"复核人：{md(reviewer)}")
        verdicts: dict[str, tuple[str, str]] = {}
        for n, step in enumerate(record.steps, start=1):
            line = views.step_line(step, scenario)
            cols = st.columns([3, 3, 3])
            cols[0].markdown(f"{line.icon} **{line.title}**（机评：{line.status_label}）")
            verdict = cols[1].radio(
                "意见", VERDICT_CHOICES, format_func=VERDICT_TEXT.get, horizontal=True, key=f"{key}-v-{n}", label_visibility="collapsed"
            )
            note = cols[2].text_input("备注", key=f"{key}-c-{n}", label_visibility="collapsed", placeholder="备注（可选）")
            verdicts[line.step_id] = (verdict or "", note)
        machine_total = round_score(record.total) or 0.0
        if deciding:  # the machine decided nothing: no 同意机评, and no choice made for the instructor
            st.markdown("机器无法确定本次结果（**待复核**）：请听录音后作出复核结论，通过或未通过。")
            cols = st.columns(2)
            total = cols[0].number_input("复核分数（0–100）", min_value=0.0, max_value=100.0, value=machine_total, step=1.0, format=SCORE_FORMAT, key=f"{key}-total")
            passed = cols[1].radio("复核结论", (True, False), index=None, format_func=passed_label, horizontal=True, key=f"{key}-passed")
            comment = st.text_area("复核意见（必填：为什么通过或未通过）", key=f"{key}-comment")
        else:
            overall = st.radio("总体意见", ("agree", "override"), format_func={"agree": "同意机评", "override": "改判"}.get, horizontal=True, key=f"{key}-overall")
            cols = st.columns(2)
            total = cols[0].number_input("改判分数（0–100，仅改判时填写）", min_value=0.0, max_value=100.0, value=machine_total, step=1.0, format=SCORE_FORMAT, key=f"{key}-total")
            passed = cols[1].radio("改判结果", (True, False), format_func=passed_label, horizontal=True, key=f"{key}-passed")
            comment = st.text_area("复核意见（改判时必填）", key=f"{key}-comment")
        submitted = st.form_submit_button("保存复核", type="primary")
    if submitted:
        if deciding:
            review = guarded(lambda: build_decision(record.id, reviewer, verdicts, total, passed, comment), "保存复核")
        else:
            review = build_review(record.id, reviewer, verdicts, overall, total, passed, comment)
        path = None if review is None else guarded(lambda: store.add_review(record.id, review), "保存复核")
        if path is not None:
            # rerun so the list, the review lines above the form and the charts show the new review at once
            st.session_state[REVIEW_SAVED] = (record.id, "复核已保存。机评成绩保持不变，列表和导出中显示复核后的结果。")
            st.rerun()


def static_table(rows: list[dict[str, Any]]) -> None:
    """A small table rendered as HTML (wraps long Chinese text; prints and screenshots reliably).
    Its cells are Markdown in Streamlit: text cells are escaped (`md`)."""
    frame = pd.DataFrame([{k: md(v) if isinstance(v, str) else v for k, v in row.items()} for row in rows])  # cells are Markdown
    if frame.empty:
        st.caption("（无）")
        return
    st.table(frame, hide_index=True)


def score_history_chart(points: list[dict[str, Any]], pass_mark: float | None = None) -> None:
    """Scores over time (rows from views.history_points): a point per session, a line per scenario in
    distinct colours, the sessions' times on the axis (never the same label twice), the pass mark
    drawn and named, and room around the data so no end point is cut."""
    import altair as alt

    axis = views.history_axis([p["时间"] for p in points])
    frame = pd.DataFrame(points)
    frame["时间"] = pd.to_datetime(frame["时间"])
    scenarios = list(dict.fromkeys(frame["场景"]))
    colours = [views.SERIES_COLOURS[i % len(views.SERIES_COLOURS)] for i in range(len(scenarios))]
    ticks = [pd.Timestamp(t).isoformat() for t in axis.ticks]
    base = alt.Chart(frame).encode(
        x=alt.X(
            "时间:T",
            title=axis.title,
            scale=alt.Scale(padding=28, nice=False),
            axis=alt.Axis(format=axis.format, values=ticks, labelAngle=0, labelOverlap="greedy", grid=False),
        ),
        y=alt.Y("得分:Q", title="得分", scale=alt.Scale(domain=[0, 100], padding=10, nice=False), axis=alt.Axis(values=[0, 20, 40, 60, 80, 100])),
        color=alt.Color("场景:N", title="场景", scale=alt.Scale(domain=scenarios, range=colours), legend=alt.Legend(orient="bottom", labelLimit=400)),
        tooltip=[alt.Tooltip("时间:T", title="时间", format="%Y/%m/%d %H:%M"), alt.Tooltip("场景:N", title="场景"), alt.Tooltip("得分:Q", title="得分")],
    )
    chart = base.mark_line(strokeWidth=2.5) + base.mark_point(filled=True, size=90, opacity=1)
    if pass_mark is not None:
        mark = pd.DataFrame({"及格线": [pass_mark], "说明": [f"及格线 {score_text(pass_mark)} 分"]})
        rule = alt.Chart(mark).mark_rule(strokeDash=[6, 4], color="#6b7280", strokeWidth=1.5).encode(y="及格线:Q")
        label = alt.Chart(mark).mark_text(align="right", baseline="top", dy=4, color="#4b5563", fontSize=12).encode(
            y="及格线:Q", x=alt.value("width"), text="说明:N"
        )
        chart = chart + rule + label
    st.altair_chart(chart.properties(height=360), width="stretch")


def weak_steps_chart(rows: list[dict[str, Any]]) -> None:
    """Horizontal stacked bars: missed and partial rates per step (full step names on the axis)."""
    import altair as alt

    frame = pd.DataFrame(rows).melt(id_vars=["步骤"], value_vars=["遗漏率%", "不完整率%"], var_name="情况", value_name="比例")
    frame["情况"] = frame["情况"].map({"遗漏率%": "遗漏", "不完整率%": "不完整"})
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("步骤:N", sort=[r["步骤"] for r in rows], title=None, axis=alt.Axis(labelLimit=420)),
            x=alt.X("比例:Q", title="比例（%）", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("情况:N", scale=alt.Scale(domain=["遗漏", "不完整"], range=["#dc2626", "#f59e0b"]), title=None),
            tooltip=["步骤", "情况", "比例"],
        )
        .properties(height=32 * len(rows) + 40)
    )
    st.altair_chart(chart, width="stretch")


# --------------------------------------------------------------------------- learning from instructors

PROPOSAL_DONE = "proposal_done"  # session_state: the confirmation shown after the rerun that follows a decision


def session_proposals(settings: Settings, store: SessionStore, record: SessionRecord, library: Library | None) -> None:
    """Under the review form: the phrasings this session's reviews proposed to the phrasebook."""
    from trainer.app.services import propose_from_session

    notes = guarded(lambda: propose_from_session(settings, store, record, library), "提交新说法") or []
    if notes:
        st.markdown("#### 提交到话术库的新说法")
        st.caption("复核时把“遗漏/不完整”的步骤判为“不同意”（学员其实做到了），该轮的原话会作为这一步的新说法提交，由教师在“话术库”页面审核。")
        for note in notes:
            st.markdown(f"- {md(note.message)}")


def overlay_panel(settings: Settings, library: Library, reviewer: str | None) -> None:
    """The 话术库 page's review of proposed phrasings: approve (with edits) or reject. `reviewer` is the
    logged-in instructor or admin (None: anyone else, who only reads that instructors decide here)."""
    from trainer.app.services import approve_proposal, proposal_views, reject_proposal, sync_proposals

    st.markdown("教师复核时认为学员其实做到了的步骤，学员的原话会提交到这里。采用后立即作为该步骤的说法生效（标记为“本中心新增”），"
                "保存在本中心话术文件夹中，不会改动内置的 phrasebooks/ 文件。")
    st.caption(f"本中心话术文件夹：{settings.overlay_dir}")
    if reviewer is None:
        st.info("新说法由教师或管理员审核。", icon=":material/lock:")
        return
    done = st.session_state.pop(PROPOSAL_DONE, "")
    if done:
        st.success(done, icon=":material/check_circle:")
    guarded(lambda: sync_proposals(settings, library), "收集新说法")
    loaded = guarded(lambda: proposal_views(settings, library, "pending"), "读取新说法")
    pending = loaded[0] if loaded is not None else []  # malformed files: listed at the top of the page
    by = reviewer
    st.caption(f"审核人：{md(by)}")
    if not pending:
        st.info("没有待审核的新说法。")
    for view in pending:
        with st.container(border=True):
            st.markdown(f"**{md(view.where)}**")
            st.caption(md(view.origin))
            if view.expected:
                st.markdown(f"标准用语：“{md(view.expected)}”")
            if view.warning:
                st.warning(md(view.warning))
            text = st.text_input("新说法（可修改后采用）", value=view.text, key=f"ov-text-{view.id}")
            cols = st.columns([1, 1, 4])
            if cols[0].button("采用", key=f"ov-approve-{view.id}", type="primary"):
                _decide(lambda: approve_proposal(settings, view.id, by, text, library), by)
            if cols[1].button("不采用", key=f"ov-reject-{view.id}"):
                _decide(lambda: reject_proposal(settings, view.id, by), by)
    loaded = guarded(lambda: proposal_views(settings, library, "approved"), "读取新说法")
    approved = loaded[0] if loaded is not None else []
    if approved:
        st.markdown("**已采用的本中心新增说法**")
        for view in approved:
            cols = st.columns([5, 1])
            cols[0].markdown(f"- {html_text(view.where)}：“{html_text(view.text)}”  \n  <small>{html_text(view.origin)}</small>", unsafe_allow_html=True)
            if cols[1].button("撤销", key=f"ov-withdraw-{view.id}"):
                _decide(lambda: reject_proposal(settings, view.id, by), by)


def _decide(action: Callable[[], str], by: str) -> None:
    message = guarded(action, "保存审核结果")
    if message is not None:
        st.session_state[PROPOSAL_DONE] = message
        st.rerun()  # the library reloads (its cache key includes the overlay files)


def agreement_panel(report: Any, library: Library | None) -> None:
    """Machine vs. instructor agreement: overall metrics, then one row per scenario step."""
    from trainer.app.services import AGREEMENT_RULE, agreement_rows, kappa_label

    if not report.sessions:
        st.info("按当前筛选条件还没有复核过的会话。复核会话后，这里显示机评与教师意见的一致程度。")
        return
    o, p = report.overall, report.passed
    cols = st.columns(4)
    cols[0].metric("已复核的会话", report.sessions)
    cols[1].metric("步骤一致率", "—" if o.percent is None else f"{o.percent:.1f}%", help=f"{o.agree}/{o.n} 个步骤一致")
    cols[2].metric("步骤 kappa", kappa_label(o.kappa))
    cols[3].metric("及格一致率", "—" if p.percent is None else f"{p.percent:.1f}%", help=f"{p.agree}/{p.n} 个会话一致，kappa {kappa_label(p.kappa)}")
    st.caption(f"及格/不及格：{p.agree}/{p.n} 一致，kappa {kappa_label(p.kappa)}。" + (f"另有 {report.skipped_steps} 个步骤未计入（改判且未给步骤意见）。" if report.skipped_steps else ""))
    static_table(agreement_rows(report, library))
    st.caption(AGREEMENT_RULE)


def customer_lines_panel(settings: Settings, library: Library, staff: bool) -> None:
    """The 话术库 page's recordings of customer lines: a recorded clip is played instead of
    synthesised speech wherever the line is said (practice and exams). `staff`: the logged-in user
    is an instructor or admin (others only read what the tab is for)."""
    from trainer.errors import AudioError
    from trainer.phrasebook.clips import ClipError, delete_clip, load_clip, prepare_clip, store_clip, written_lines

    st.markdown(
        "为客户的台词录音（或上传录音）：练习和考试中说到这句时，先播放录音；没有录音的句子用浏览器或服务器的语音合成朗读。"
        "动作说明（全角括号里的内容）不用录。"
    )
    st.caption(f"录音保存在本中心话术文件夹：{settings.overlay_dir / 'customer_lines'}（不会改动内置的 phrasebooks/ 文件）")
    if not staff:
        st.info("教师专用：请用教师或管理员账号登录后录音。", icon=":material/lock:")
        return
    ids = sorted(library.scenarios)
    scenario_id = st.selectbox(
        "场景", ids, format_func=lambda sid: views.scenario_label(library.scenarios[sid]), key="clip-scenario"
    )
    scenario = library.scenarios[scenario_id]
    lines = written_lines(scenario)
    if not lines:
        st.info("这个场景的客户没有要说的话（只有动作说明）。")
        return
    recorded = {w.spoken for w in lines if load_clip(settings.overlay_dir, scenario.id, w.line) is not None}
    chosen = st.selectbox(
        f"台词（已录 {len(recorded)}/{len(lines)} 句）",
        range(len(lines)),
        format_func=lambda i: f"{'🎙 ' if lines[i].spoken in recorded else ''}{lines[i].where}：{lines[i].spoken}",
        key="clip-line",
    )
    line = lines[chosen]
    existing = load_clip(settings.overlay_dir, scenario.id, line.line)
    if existing is not None:
        st.audio(existing, format="audio/wav")
        if st.button("删除这句录音", key=f"clip-delete-{scenario.id}-{chosen}"):
            if guarded(lambda: delete_clip(settings.overlay_dir, scenario.id, line.line), "删除录音"):
                st.rerun()
    nonce = st.session_state.get("clip-nonce", 0)
    recording = st.audio_input("录一句（点击麦克风开始，说完再点一次）", key=f"clip-rec-{nonce}")
    upload = st.file_uploader("或者上传录音文件", type=None, key=f"clip-upl-{nonce}")
    given = recording if recording is not None else upload
    if saved := st.session_state.pop("clip-saved", None):  # the clip saved just before the rerun
        st.success(f"已保存：{md(saved)}")
    for warning in st.session_state.pop("clip-warnings", ()):
        st.warning(f"刚保存的录音：{warning}可以重新录一遍。")
    if given is not None and st.button("保存为这句台词的录音", type="primary", key=f"clip-save-{nonce}"):
        try:
            clip = prepare_clip(line.line, given.getvalue(), given.name or "录音")
            store_clip(settings.overlay_dir, scenario.id, line.line, clip)
        except (AudioError, ClipError) as exc:
            st.error(exc.user_message)
        else:
            st.session_state["clip-nonce"] = nonce + 1
            st.session_state["clip-saved"] = line.spoken
            st.session_state["clip-warnings"] = clip.warnings
            st.rerun()
