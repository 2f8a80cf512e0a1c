"""Entry page of the web app: what this is, who is practising, engine status, links."""

import streamlit as st

from trainer.app import ui

ui.page_setup("首页")
settings = ui.settings_or_stop()

st.title(":material/record_voice_over: 文明服务用语训练")
st.markdown(
    "供电营业厅、95598 热线、燃气和供水客服的**服务用语与礼仪**练习：选一个服务场景，听“客户”说话，"
    "对着麦克风回答。系统离线识别您说的话，对照**文明服务用语**和**服务忌语**逐轮给出结果，"
    "结束时给出总分、各维度得分和具体的改进建议。录音和成绩保存在本机，教师可以复核。"
)

status = ui.engine_banner(settings)
if status.ready:
    st.caption(f"语音识别：{status.label}（已安装）")

st.subheader("学员登记")
who = ui.identity_form("home-identify")

st.subheader("开始")
cols = st.columns(4)
cols[0].page_link(ui.PAGE_PRACTICE, label="练习", icon=":material/mic:")
cols[1].page_link(ui.PAGE_HISTORY, label="我的记录", icon=":material/show_chart:")
cols[2].page_link(ui.PAGE_INSTRUCTOR, label="教师", icon=":material/school:")
cols[3].page_link(ui.PAGE_PHRASEBOOK, label="话术库", icon=":material/menu_book:")
st.caption("提示：第一次录音时浏览器会询问是否允许使用麦克风，请选择“允许”。也可以上传录好的音频文件。")
