"""Instructor page (instructors see the trainees of their groups, admins everyone): list and filter sessions, review one, progress and weak-step charts,
machine vs. instructor agreement, export."""

import streamlit as st

from trainer.accounts import STAFF_ROLES, visible_trainees
from trainer.app import services, ui, views
from trainer.app.login import accounts, require_user
from trainer.app.markup import md
from trainer.sessions import KIND_LABELS
from trainer.storage.factory import session_store

ui.page_setup("教师")
settings = ui.settings_or_stop()
user = require_user(settings, STAFF_ROLES)
st.title(":material/school: 教师")
scope = visible_trainees(user, accounts(settings))  # None: everyone (admin)
if scope is not None:
    st.caption(f"显示您所在班组/营业厅（{md('、'.join(user.groups)) or '未设置'}）学员的记录。")

store = session_store(settings)
library = ui.guarded(lambda: ui.library(settings), "加载话术库")

with st.expander("筛选", expanded=True):
    cols = st.columns(3)
    trainee = cols[0].text_input("学员（工号或姓名）", key="t-trainee")
    scenario_ids = sorted(library.scenarios) if library is not None else []
    scenario_id = cols[1].selectbox(
        "场景", [None, *scenario_ids], format_func=lambda s: views.ALL if s is None else library.scenarios[s].title, key="t-scenario"
    )
    kind = cols[2].selectbox("类型", [None, *KIND_LABELS], format_func=lambda k: views.ALL if k is None else KIND_LABELS[k], key="t-kind")
    cols = st.columns(3)
    span = ui.date_filter(cols[0], "日期范围", "t-dates")
    score_range = cols[1].slider("分数范围", 0.0, 100.0, (0.0, 100.0), step=1.0, format="%d 分", key="t-score")
    result = cols[2].radio("结果", (views.ALL, *views.RESULT_FILTERS), horizontal=True, key="t-passed")
flt = views.build_filter(trainee, scenario_id, span.since, span.until, score_range, result, kind, scope)

tab_list, tab_progress, tab_weak, tab_agree, tab_export = st.tabs(["会话与复核", "学员进度", "薄弱步骤", "机评一致性", "导出"])

with tab_list:
    summaries = ui.guarded(lambda: store.list(flt), "读取会话列表") or []
    st.caption(f"符合条件的会话：{len(summaries)} 个")
    if summaries:
        ui.dataframe(views.session_rows(summaries))
        labels = {s.id: views.session_label(s) for s in summaries}
        chosen = st.selectbox("打开会话", [None, *labels], format_func=lambda sid: "（请选择）" if sid is None else labels[sid], key="t-open")
        if chosen:
            record = ui.guarded(lambda: store.load(chosen, check_audio=False), "读取会话")
            if record is not None:
                ui.session_detail(record, store, library, settings.pass_mark)
                ui.review_list(store, chosen, "已有复核", record.verdict)
                ui.review_form(record, store, library, user.label)
                ui.session_proposals(settings, store, record, library)

with tab_progress:
    everyone = ui.guarded(lambda: store.list(views.build_filter(scenario_id=scenario_id, kind=kind, trainee_ids=scope)), "读取会话列表") or []
    trainees = {s.trainee_id: s.trainee_name for s in everyone}
    if not trainees:
        st.info("还没有会话。")
    else:
        who = st.selectbox("学员", sorted(trainees), format_func=lambda t: f"{trainees[t]}（{t}）" if trainees[t] else t, key="t-progress")
        history = ui.guarded(lambda: store.score_history(who, scenario_id), "读取成绩") or []
        points = views.history_points(history)
        if points:
            ui.score_history_chart(points, settings.pass_mark)
            st.caption(f"{len(points)} 次有成绩的练习/考试（复核改判后的分数优先）。")
        else:
            st.info("该学员还没有有成绩的会话。")

with tab_weak:
    stats = ui.guarded(lambda: store.step_miss_rates(flt), "统计薄弱步骤") or []
    rows = views.weak_step_rows(stats, library)
    if rows:
        st.markdown("按筛选条件统计：各场景中最常被遗漏或做得不完整的步骤。")
        ui.weak_steps_chart(rows)
        ui.dataframe(rows)
    else:
        st.info("按当前筛选条件，没有被遗漏或做得不完整的步骤。")

with tab_agree:
    st.markdown("机评与教师复核意见的一致程度（按筛选条件中的学员、场景、类型和日期；不按分数和结果筛选）。")
    report = ui.guarded(lambda: services.agreement(store, flt), "统计一致性")
    if report is not None:
        ui.agreement_panel(report, library)

with tab_export:
    st.markdown("按当前筛选条件导出（每次练习一行，以及每个步骤一行），供培训中心存档。")
    if st.button("生成导出文件", key="t-export"):
        result = ui.guarded(lambda: services.export_files(store, flt, library=library), "导出")
        if result is not None:
            st.session_state["export_files"] = result
    files, warnings = st.session_state.get("export_files", ([], []))
    for warning in warnings:
        st.warning(warning)
    for file in files:
        st.download_button(file.label, file.data, file_name=file.file_name, mime=file.mime, key=f"dl-{file.file_name}")
