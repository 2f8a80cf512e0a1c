"""Exam administration (instructors: the candidates of their groups; admins: everyone): roster with filters (and the 待复核 queue), one record
(audio, transcript, scores), the decision of a 待复核 exam, seal verification, override, extra
attempt, roster export and the printable report."""

import tempfile
from pathlib import Path

import streamlit as st

from trainer.accounts import STAFF_ROLES, visible_trainees
from trainer.app import exam_views, services, ui, views
from trainer.app.login import accounts, require_user
from trainer.app.markup import md
from trainer.exam import (
    ExamKeyError,
    decide_review,
    exam_key,
    export_roster,
    grant_attempt,
    load_papers,
    load_result,
    override_exam,
    render_report,
    roster,
    verify_all,
)
from trainer.scoring.display import passed_label
from trainer.storage.factory import ledger_for, session_store

ui.page_setup("考试管理")
settings = ui.settings_or_stop()
user = require_user(settings, STAFF_ROLES)
st.title(":material/fact_check: 考试管理")
scope = visible_trainees(user, accounts(settings))  # None: everyone (admin)
if scope is not None:
    st.caption(f"显示您所在班组/营业厅（{md('、'.join(user.groups)) or '未设置'}）考生的考试记录。")


def in_scope(results: list) -> list:  # type: ignore[type-arg]
    return results if scope is None else [r for r in results if r.candidate_id in scope]


store = session_store(settings)
library = ui.guarded(lambda: ui.library(settings), "加载话术库")
key: bytes | None = None
try:
    key = exam_key(settings)
except ExamKeyError as exc:  # the roster still shows; seals cannot be checked
    st.warning(f"{exc.user_message}\n\n没有考试密钥时仍可查看成绩，但不能校验封印、复核、改判或登记补考。", icon=":material/key:")
papers = load_papers(settings.all_exam_paper_dirs, library.scenarios if library is not None else None).papers

tab_roster, tab_verify, tab_grant = st.tabs(["成绩名单与记录", "封印校验", "登记补考"])

# --------------------------------------------------------------------------- roster
with tab_roster:
    every = in_scope(ui.guarded(lambda: roster(store), "读取考试记录") or [])
    paper_titles = {r.paper_id: r.paper_title for r in every} | {p.id: p.title for p in papers.values()}
    with st.expander("筛选", expanded=True):
        cols = st.columns(4)
        paper_id = cols[0].selectbox(
            "试卷", [None, *sorted(paper_titles)], format_func=lambda p: views.ALL if p is None else paper_titles[p], key="x-paper"
        )
        span = ui.date_filter(cols[1], "交卷日期", "x-dates")
        candidate = cols[2].text_input("考生（编号或姓名）", key="x-candidate")
        state_choice = cols[3].radio("结果", tuple(exam_views.STATE_FILTERS), horizontal=True, key="x-passed")
    since, until = span.since, span.until
    rows = in_scope(ui.guarded(
        lambda: roster(store, paper_id, since, until, candidate.strip() or None,
                       key=key, state=exam_views.STATE_FILTERS[state_choice]),
        "读取考试记录",
    ) or [])
    if waiting := exam_views.pending_summary(every):
        st.warning(waiting, icon=":material/rate_review:")
    st.caption(exam_views.roster_summary(rows))
    if rows:
        ui.dataframe(exam_views.roster_rows(rows))
        cols = st.columns(2)
        with tempfile.TemporaryDirectory(prefix="trainer-roster-") as tmp:
            exports = []
            for name, mime, label in (
                ("考试成绩.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "导出 Excel"),
                ("考试成绩.csv", "text/csv", "导出 CSV"),
            ):
                path = ui.guarded(lambda: export_roster(rows, Path(tmp) / name, head=ledger_for(store).head()), "导出成绩")
                if path is not None:
                    exports.append((name, path.read_bytes(), mime, label))
        for col, (name, data, mime, label) in zip(cols, exports):
            col.download_button(label, data, file_name=name, mime=mime, key=f"x-export-{name}")

        labels = {r.exam_id: exam_views.roster_label(r) for r in rows}
        chosen = st.selectbox("打开考试记录", [None, *labels], format_func=lambda e: "（请选择）" if e is None else labels[e], key="x-open")
        result = ui.guarded(lambda: load_result(store, chosen), "读取考试记录") if chosen else None
        if result is not None:
            st.markdown(f"### {md(result.candidate_name or result.candidate_id)} · {md(result.paper.title)}")
            for label, value in exam_views.result_header(result):
                st.markdown(f"**{label}**：{md(value)}")
            kind, banner = exam_views.result_banner(result)
            {"success": st.success, "error": st.error, "warning": st.warning}[kind](banner)
            if result.verdict.review_reasons:
                st.markdown("**待复核原因（机评）**\n" + "\n".join(f"- {md(r)}" for r in result.verdict.review_reasons))
            for o, line in zip(result.overrides, exam_views.override_lines(result)):
                st.warning(f"{exam_views.override_kind(o)} · {md(line)}")
            if result.verdict.reasons:
                heading = "机评未通过的依据（机器无法确定，仅供复核参考）" if result.verdict.under_review else "未通过原因（机评）"
                st.markdown(f"**{heading}**\n" + "\n".join(f"- {md(r)}" for r in result.verdict.reasons))
            if result.verdict.notes:
                st.markdown("**备注**\n" + "\n".join(f"- {md(n)}" for n in result.verdict.notes))
            st.markdown("**各题各维度得分**")
            ui.dataframe(exam_views.breakdown_rows(result))

            report_html = render_report(result, library, head=ledger_for(store).head())
            st.download_button(
                "下载成绩单（HTML，可在浏览器中打印为 PDF）", report_html.encode("utf-8"),
                file_name=f"成绩单-{result.candidate_id}-{result.paper.id}-{result.exam_id}.html", mime="text/html", key="x-report",
            )
            with st.expander("成绩单预览（打印版）"):
                st.iframe(report_html, height=900)

            for q in result.questions:
                with st.expander(f"第 {q.index} 题 · {md(q.scenario_title)}：逐轮录音与识别文字"):
                    record = ui.guarded(lambda: store.load(q.session_id, check_audio=False), "读取答题记录")
                    if record is None:
                        continue
                    scenario = library.scenarios.get(record.scenario_id) if library is not None else None
                    score = record.score or {}
                    notes = exam_views.turn_notes(score)
                    ui.dataframe(views.dimension_rows(score))
                    ui.legend()
                    for turn, (audio, problem) in zip(record.turns, services.turn_audio(store, record)):
                        with st.container(border=True):
                            st.markdown(f"**第 {turn.index} 轮** · 客户：{md(turn.prompt or '（无台词）')}")
                            if turn.index in notes:
                                st.caption(notes[turn.index])
                            if audio is not None:
                                st.audio(audio, format=services.audio_mime(turn.audio_file))
                            elif problem:
                                st.warning(problem)
                            ui.highlighted(views.turn_result(score, turn.index, scenario, library).html)

            if key is not None and result.pending_review:
                with st.form(f"x-review-{result.exam_id}"):
                    st.markdown("#### 复核结论（作为新的封存记录追加，原机评结果保留）")
                    st.caption("机器无法确定这场考试的结果。请听录音、看识别文字后作出结论；结论封存前这场考试没有结果（考生看到的是“待复核”）。")
                    cols = st.columns(3)
                    reviewer = user.label
                    cols[0].caption(f"复核教师：{md(reviewer)}")
                    decided = cols[1].radio("复核结论", (True, False), index=None, format_func=passed_label, horizontal=True, key="x-rv-passed")
                    set_total = cols[2].checkbox("同时给出总分", key="x-rv-change-total")
                    decided_total = st.number_input("复核后的总分", 0.0, 100.0, float(result.total), step=1.0, key="x-rv-total")
                    reason = st.text_area("复核理由（必填）", key="x-rv-reason")
                    if st.form_submit_button("封存复核结论", type="primary"):
                        if decided is None:
                            st.error("请选择复核结论：通过或未通过。")
                        else:
                            done = ui.guarded(
                                lambda: decide_review(settings, result.exam_id, reviewer, decided, reason, decided_total if set_total else None, store),
                                "复核",
                            )
                            if done is not None:
                                st.success(f"复核结论已封存（账本第 {done.seq} 号记录）。")
                                st.rerun()
            elif key is not None:
                with st.form(f"x-override-{result.exam_id}"):
                    st.markdown("#### 改判（作为新的封存记录追加，原机评结果保留）")
                    cols = st.columns(3)
                    instructor = user.label
                    cols[0].caption(f"考评员：{md(instructor)}")
                    new_passed = cols[1].radio("改判结果", (True, False), format_func=passed_label, horizontal=True, key="x-ov-passed")
                    change_total = cols[2].checkbox("同时修改总分", key="x-ov-change-total")
                    new_total = st.number_input("改判后的总分", 0.0, 100.0, float(result.total), step=1.0, key="x-ov-total")
                    comment = st.text_area("改判说明（必填）", key="x-ov-comment")
                    if st.form_submit_button("封存改判", type="primary"):
                        done = ui.guarded(
                            lambda: override_exam(settings, result.exam_id, instructor, new_passed, comment, new_total if change_total else None, store),
                            "改判",
                        )
                        if done is not None:
                            st.success(f"改判已封存（账本第 {done.seq} 号记录）。")
                            st.rerun()

# --------------------------------------------------------------------------- seals
with tab_verify:
    st.markdown("检查账本中每条考试记录的封印（HMAC）、记录之间的哈希链，以及每道题保存的录音、识别文字和评分是否被改动、删除或调换顺序。")
    if key is None:
        st.info("未配置考试密钥，无法校验封印。")
    elif st.button("校验全部考试记录", type="primary", key="x-verify"):
        report = ui.guarded(lambda: verify_all(store, key), "校验封印")
        if report is not None:
            if report.ok:
                st.success(exam_views.verify_headline(report), icon=":material/verified:")
            else:
                st.error(exam_views.verify_headline(report), icon=":material/gpp_bad:")
                for problem in report.problems:
                    st.markdown(f"- {md(problem.message)}")
                ui.dataframe(exam_views.verify_rows(report))
            if line := exam_views.unfinished_line(report):
                st.caption(line)
            if line := exam_views.pending_review_line(report):
                st.caption(line)
            for notice in ([report.torn_message] if report.torn_tail else []) + list(report.notices):
                st.warning(notice, icon=":material/info:")

# --------------------------------------------------------------------------- extra attempt
with tab_grant:
    if key is None:
        st.info("未配置考试密钥，无法登记补考。")
    elif not papers:
        st.info("没有可用的试卷。")
    else:
        with st.form("x-grant"):
            st.markdown("登记后，该考生可在这份试卷上多参加一次（或多次）考试。登记作为新的封存记录保存。")
            cols = st.columns(2)
            g_paper = cols[0].selectbox("试卷", sorted(papers), format_func=lambda p: papers[p].title, key="x-g-paper")
            g_candidate = cols[1].text_input("考生编号", key="x-g-candidate")
            cols = st.columns(2)
            g_instructor = user.label
            cols[0].caption(f"考评员：{md(g_instructor)}")
            g_extra = cols[1].number_input("补考次数", 1, 5, 1, key="x-g-extra")
            g_reason = st.text_area("原因（必填）", key="x-g-reason")
            if st.form_submit_button("登记补考", type="primary"):
                if scope is not None and g_candidate.strip() not in scope:
                    st.error(f"考生 {md(g_candidate.strip()) or '（未填）'} 不在您的班组/营业厅中，不能为其登记补考。")
                    st.stop()
                entry = ui.guarded(
                    lambda: grant_attempt(settings, papers[g_paper], g_candidate, g_instructor, g_reason, int(g_extra), store), "登记补考"
                )
                if entry is not None:
                    st.success(f"已登记：考生 {md(g_candidate.strip())} 可在“{papers[g_paper].title}”上补考 {int(g_extra)} 次（账本第 {entry['seq']} 号记录）。")
