"""Entry page of the web app: what this is, who is logged in, engine status, links, password change."""

import streamlit as st

from trainer.app import ui
from trainer.app.markup import md
from trainer.app.login import accounts, password_form, require_user

ui.page_setup("首页")
settings = ui.settings_or_stop()
user = require_user(settings)

st.title(":material/record_voice_over: 文明服务用语训练")
st.markdown(
    "供电营业厅、95598 热线、燃气和供水客服的**服务用语与礼仪**练习：选一个服务场景，听“客户”说话，"
    "对着麦克风回答。系统离线识别您说的话，对照**文明服务用语**和**服务忌语**逐轮给出结果，"
    "结束时给出总分、各维度得分和具体的改进建议。录音和成绩保存在本机，教师可以复核。"
)

status = ui.engine_banner(settings)
if status.ready:
    st.caption(f"语音识别：{status.label}（已安装）")

st.success(md(f"当前用户：{user.label} · {user.role_label}" + (f" · {'、'.join(user.groups)}" if user.groups else "")))

st.subheader("开始")
links = [(ui.PAGE_PRACTICE, "练习", ":material/mic:"), (ui.PAGE_HISTORY, "我的记录", ":material/show_chart:"),
         (ui.PAGE_PHRASEBOOK, "话术库", ":material/menu_book:"), (ui.PAGE_EXAM, "考试", ":material/assignment:")]
if user.is_staff:
    links += [(ui.PAGE_INSTRUCTOR, "教师", ":material/school:"), (ui.PAGE_EXAM_ADMIN, "考试管理", ":material/fact_check:")]
if user.role == "admin":
    links.append((ui.PAGE_ACCOUNTS, "账号管理", ":material/manage_accounts:"))
cols = st.columns(4)
for i, (page, label, icon) in enumerate(links):
    cols[i % 4].page_link(page, label=label, icon=icon)
st.caption("提示：第一次录音时浏览器会询问是否允许使用麦克风，请选择“允许”。也可以上传录好的音频文件。")

with st.expander("修改密码"):
    password_form(accounts(settings), user, key="home-pw")
