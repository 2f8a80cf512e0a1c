"""Account management (admins only): the accounts, create one, import a roster, and per account:
edit, disable/enable, reset the password, unlock."""

from datetime import datetime

import streamlit as st

from trainer.accounts import (
    ADMIN,
    ROLE_LABELS,
    ROLES,
    AccountError,
    LoginPolicy,
    create_account,
    lock_state,
    new_account,
    reset_password,
    set_disabled,
    unlock,
    update_account,
)
from trainer.accounts.roster import import_roster, parse_roster, passwords_csv
from trainer.app import ui
from trainer.app.account_views import account_rows
from trainer.app.login import accounts, require_user
from trainer.app.markup import md

DONE = "accounts_done"  # session_state: (kind, message) shown after the rerun that follows a change
SECRET = "accounts_secret"  # session_state: a new password / the initial-password file, shown once

ui.page_setup("账号管理")
settings = ui.settings_or_stop()
user = require_user(settings, (ADMIN,))
st.title(":material/manage_accounts: 账号管理")
store = accounts(settings)
policy = LoginPolicy.from_settings(settings)


def done(message: str, secret: object = None) -> None:
    st.session_state[DONE] = message
    if secret is not None:
        st.session_state[SECRET] = secret
    st.rerun()


if message := st.session_state.pop(DONE, ""):
    st.success(message, icon=":material/check_circle:")
secret = st.session_state.pop(SECRET, None)
if isinstance(secret, tuple) and secret[0] == "password":
    st.warning(f"{md(secret[1])} 的新密码：**{secret[2]}**　（只显示这一次，请转告本人；首次登录时必须修改。）", icon=":material/key:")
elif isinstance(secret, tuple) and secret[0] == "file":
    st.warning("新账号的初始密码只能下载这一次，请妥善保管并分发给本人。", icon=":material/key:")
    st.download_button("下载初始密码（CSV）", secret[1], file_name=secret[2], mime="text/csv", key="acc-pw-download")

everyone = ui.guarded(store.accounts, "读取账号") or []
locks = {a.user_id: lock_state(store, a.user_id, policy) for a in everyone}
tab_list, tab_add, tab_import = st.tabs(["账号列表", "添加账号", "导入花名册"])

with tab_list:
    st.caption(f"共 {len(everyone)} 个账号。学员只看自己的记录；教师看本班组/营业厅学员的记录；管理员看全部并管理账号。")
    if everyone:
        ui.dataframe(account_rows(everyone, locks))
        ids = [a.user_id for a in everyone]
        chosen_id = st.selectbox("选择账号", ids, format_func=lambda i: next(a.label for a in everyone if a.user_id == i), key="acc-pick")
        chosen = next(a for a in everyone if a.user_id == chosen_id)
        with st.form(f"acc-edit-{chosen.user_id}"):
            st.markdown(f"**修改 {md(chosen.label)}**")
            cols = st.columns(2)
            name = cols[0].text_input("姓名", value=chosen.name, key=f"acc-e-name-{chosen.user_id}")
            role = cols[1].selectbox("角色", ROLES, index=ROLES.index(chosen.role), format_func=ROLE_LABELS.get, key=f"acc-e-role-{chosen.user_id}")
            cols = st.columns(2)
            groups = cols[0].text_input("班组/营业厅（多个用、分隔）", value="、".join(chosen.groups), key=f"acc-e-groups-{chosen.user_id}")
            email = cols[1].text_input("邮箱（统一身份认证用，可空）", value=chosen.email, key=f"acc-e-email-{chosen.user_id}")
            if st.form_submit_button("保存修改"):
                if ui.guarded(lambda: update_account(store, chosen.user_id, name=name, role=role, groups=groups, email=email), "保存账号"):
                    done(f"已保存 {chosen.user_id} 的修改。")
        cols = st.columns(3)
        if chosen.disabled:
            if cols[0].button("启用账号", key="acc-enable"):
                if ui.guarded(lambda: set_disabled(store, chosen.user_id, False, by=user.user_id), "启用账号"):
                    done(f"已启用 {md(chosen.label)}。")
        elif cols[0].button("停用账号", key="acc-disable"):
            if ui.guarded(lambda: set_disabled(store, chosen.user_id, True, by=user.user_id), "停用账号"):
                done(f"已停用 {md(chosen.label)}：已退出登录，不能再登录；记录保留。")
        if cols[1].button("重置密码", key="acc-reset"):
            password = ui.guarded(lambda: reset_password(store, chosen.user_id), "重置密码")
            if password:
                done(f"已重置 {md(chosen.label)} 的密码，并解除锁定、退出其所有登录。", ("password", chosen.label, password))
        failures, locked = locks.get(chosen.user_id, (0, 0.0))
        if cols[2].button("解除锁定", key="acc-unlock", disabled=not (failures or locked)):
            unlock(store, chosen.user_id)
            done(f"已解除 {md(chosen.label)} 的登录锁定。")

with tab_add:
    with st.form("acc-add"):
        cols = st.columns(2)
        new_id = cols[0].text_input("工号", key="acc-a-id")
        new_name = cols[1].text_input("姓名", key="acc-a-name")
        cols = st.columns(2)
        new_role = cols[0].selectbox("角色", ROLES, format_func=ROLE_LABELS.get, key="acc-a-role")
        new_groups = cols[1].text_input("班组/营业厅（多个用、分隔）", key="acc-a-groups")
        new_email = st.text_input("邮箱（统一身份认证用，可空）", key="acc-a-email")
        if st.form_submit_button("添加账号", type="primary"):
            def add() -> str:
                return create_account(store, new_account(new_id, new_name, new_role, new_groups, new_email))

            password = ui.guarded(add, "添加账号")
            if password:
                added = store.get(new_id.strip())
                label = added.label if added is not None else new_id.strip()
                done(f"已添加账号 {md(label)}。", ("password", label, password))

with tab_import:
    st.markdown("花名册为 Excel（.xlsx）或 CSV 文件，第一行为表头：**工号、姓名、班组/营业厅、角色**（学员/教师/管理员，空白为学员），可选列“邮箱”。"
                "任何一行有错都不会导入。新账号生成随机初始密码（首次登录必须修改）；已有账号只更新姓名、班组和角色。")
    upload = st.file_uploader("花名册文件", type=["xlsx", "csv"], key="acc-roster")
    if upload is not None and st.button("导入", type="primary", key="acc-import"):
        try:
            rows = parse_roster(upload.getvalue(), upload.name)
        except AccountError as exc:  # one line per bad row
            st.error(exc.user_message.replace("\n", "  \n"))
            rows = None
        report = None
        if rows:
            with st.spinner(f"正在导入 {len(rows)} 人（每个新账号的密码哈希约需 0.1 秒）……"):
                report = ui.guarded(lambda: import_roster(store, rows), "导入花名册")
        if report is not None:
            summary = f"已导入花名册：新建 {len(report.created)} 个账号，更新 {len(report.updated)} 个，未变 {len(report.unchanged)} 个。"
            file_name = f"初始密码-{datetime.now():%Y%m%d-%H%M%S}.csv"
            done(summary, ("file", passwords_csv(report.created), file_name) if report.created else None)
