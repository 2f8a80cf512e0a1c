"""Phrasebook browser: scenarios with their steps and phrases (the centre's approved phrasings marked
本中心新增), the forbidden-phrase list, and the instructors' review of proposed phrasings."""

import streamlit as st

from trainer.app import services, ui, views
from trainer.app.login import require_user
from trainer.app.markup import md

ui.page_setup("话术库")
settings = ui.settings_or_stop()
user = require_user(settings)
st.title(":material/menu_book: 话术库")
library = ui.library_or_stop(settings)

problems = views.problem_lines(library)
if problems:
    st.error("以下话术库文件有错误，已跳过（请修改后刷新本页）：\n\n" + "\n".join(f"- {md(line)}" for line in problems))
st.caption(
    f"共 {len(library.scenarios)} 个场景、{len(library.forbidden)} 条通用服务忌语 · 话术库版本 {library.version} · "
    "修改标准用语请编辑 phrasebooks/ 中的 YAML 文件；教师复核中提出的新说法在“本中心新增说法”中审核。"
)
new_phrasings = ui.guarded(lambda: services.overlay_phrasings(settings, library), "读取本中心新增说法") or {}

query = st.text_input(
    "搜索话术库", placeholder="输入字词，例如：请坐、电费、不知道（多个词用空格隔开）", key="pb-search",
    help="在场景、步骤、标准用语、其他说法、客户台词、提示和服务忌语中查找；繁体、简体都可以。",
)
if query.strip():
    hits = views.search_library(library, query, new_phrasings)
    if hits:
        st.caption(f"找到 {len(hits)} 处" + ("（只显示前 200 处，请再加一个词缩小范围）" if len(hits) >= 200 else "") + "：")
        ui.static_table([hit.row() for hit in hits])
    else:
        st.info(f"话术库中没有找到“{md(query.strip())}”。可以换一个词，或少输入几个字。", icon=":material/search_off:")

tab_scenarios, tab_forbidden, tab_overlay, tab_lines = st.tabs(["场景与标准用语", "服务忌语", "本中心新增说法", "客户台词录音"])
with tab_scenarios:
    roles, domains, levels = views.filter_options(library)
    cols = st.columns(3)
    role = cols[0].selectbox("岗位", [None, *roles], format_func=lambda r: views.ALL if r is None else views.role_label(r), key="pb-role")
    domain = cols[1].selectbox("领域", [None, *domains], format_func=lambda d: views.ALL if d is None else views.domain_label(d), key="pb-domain")
    level = cols[2].selectbox("难度", [None, *levels], format_func=lambda n: views.ALL if n is None else views.difficulty_label(n), key="pb-level")
    for scenario in views.filter_scenarios(library, role, domain, level):
        with st.expander(views.scenario_label(scenario)):
            st.caption(f"编号 {scenario.id} · {views.scenario_meta(scenario)}")
            st.markdown(scenario.brief)
            ui.static_table(services.phrasebook_step_rows(scenario, new_phrasings))  # wrapped, so whole phrases can be read
            own = views.forbidden_rows(library, scenario.id)
            if own:
                st.markdown("**本场景适用的服务忌语**")
                ui.static_table(own)

with tab_forbidden:
    ui.static_table(views.forbidden_rows(library))

with tab_overlay:
    ui.overlay_panel(settings, library, user.label if user.is_staff else None)

with tab_lines:
    ui.customer_lines_panel(settings, library, user.is_staff)
