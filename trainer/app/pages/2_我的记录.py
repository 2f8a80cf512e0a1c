"""The logged-in user's own practice sessions: score over time, the list, and one session opened.

Whoever is logged in sees only their own records (no address parameter chooses another
trainee). Exam sessions are not listed: an exam's result is shown on the 考试 page as its
paper allows (a paper with hidden feedback shows only pass/fail)."""

import streamlit as st

from trainer.app import ui, views
from trainer.app.login import require_user
from trainer.app.markup import md
from trainer.storage.factory import session_store

ui.page_setup("我的记录")
settings = ui.settings_or_stop()
who = require_user(settings)
st.title(":material/show_chart: 我的记录")
st.caption(f"{md(who.label)} 的练习记录")

store = session_store(settings)
history = ui.guarded(lambda: store.score_history(who.user_id), "读取练习记录")
if history is None:
    st.stop()
history = [s for s in history if s.kind == "practice"]
if not history:
    st.info("还没有练习记录。到“练习”页面完成一次练习后，成绩会显示在这里。")
    st.page_link(ui.PAGE_PRACTICE, label="去练习", icon=":material/mic:")
    st.stop()

points = views.history_points(history)
st.subheader("成绩变化")
if points:
    ui.score_history_chart(points, settings.pass_mark)
scenario_ids = sorted({s.scenario_id for s in history})
st.caption(f"共 {len(history)} 次练习，{len(scenario_ids)} 个场景。")

st.subheader("练习列表")
newest = list(reversed(history))
ui.dataframe(views.session_rows(newest))

chosen = st.selectbox("查看某次练习", [s.id for s in newest], format_func=lambda sid: views.session_label(next(s for s in newest if s.id == sid)), key="history-open")
if chosen:
    library = ui.guarded(lambda: ui.library(settings), "加载话术库")
    record = ui.guarded(lambda: store.load(chosen, check_audio=False), "读取练习")
    if record is not None:
        ui.session_detail(record, store, library, settings.pass_mark)
        ui.review_list(store, chosen, "教师复核", record.verdict)
