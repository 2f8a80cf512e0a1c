"""The login gate every page passes: `require_user(settings, roles)`.

A login makes a random token (only its hash is stored server-side, see trainer/accounts/login.py).
The token is kept in st.session_state and, so that a reload (F5, which starts a new Streamlit
session) does not ask for the password again, in a browser cookie `trainer_login`:
session-only (gone when the browser closes), SameSite=Strict, Secure on https. Streamlit can read
cookies (st.context.cookies) but not set them, so a tiny script sets or clears it
(st.html with JavaScript). Such a cookie is not HttpOnly: the server-side idle timeout, the
absolute session limit and logout (which deletes the token server-side) bound what a stolen
cookie is worth. The token never appears in the page address.

With Streamlit's own OIDC login configured ([auth] in .streamlit/secrets.toml), the login page
also offers 统一身份认证 (st.login); the provider's claim is matched to an account
(trainer/accounts/oidc.py) and that account's role applies.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import streamlit as st

from trainer.accounts import (
    ROLE_LABELS,
    Account,
    AccountError,
    LoginPolicy,
    LoginRefused,
    AccountStore,
    account_for_claims,
    authenticate,
    change_password,
    end_session,
    open_accounts,
    resume_session,
    start_session,
)
from trainer.accounts.login import RESUME_REASONS
from trainer.config import Settings
from trainer.app.markup import md

log = logging.getLogger("trainer.app")

AUTH_TOKEN = "auth_token"  # session_state: this browser session's login token
AUTH_METHOD = "auth_method"  # session_state: "password" | "oidc"
AUTH_NOTICE = "auth_notice"  # session_state: a message for the login page (logged out, timed out)
COOKIE = "trainer_login"


def accounts(settings: Settings) -> AccountStore:
    return open_accounts(settings)


def _cookie_script(token: str | None) -> str:
    """JavaScript that sets (token) or clears (None) the login cookie. The token is URL-safe base64."""
    if token is not None and not token.replace("-", "").replace("_", "").isalnum():
        raise ValueError("unexpected token characters")
    value = f"{COOKIE}={token}; Path=/; SameSite=Strict" if token else f"{COOKIE}=; Path=/; Max-Age=0; SameSite=Strict"
    return (
        "<script>(function(){var secure=location.protocol==='https:'?'; Secure':'';"
        f"document.cookie='{value}'+secure;}})();</script>"
    )


def _browser_cookie() -> str:
    try:
        return str(st.context.cookies.get(COOKIE, "") or "")
    except Exception:  # no browser context (tests, bare mode)
        return ""


def _oidc_claims() -> Mapping[str, Any] | None:
    """The identity provider's claims when Streamlit's OIDC login is configured and the user logged in
    there; {} when configured but not logged in; None when not configured."""
    try:
        info = st.user.to_dict()
    except Exception:
        return None
    if "is_logged_in" not in info:
        return None
    return info if info.get("is_logged_in") else {}


def current_user(settings: Settings, store: AccountStore, policy: LoginPolicy) -> Account | None:
    """The logged-in account of this browser session (resumed from the cookie after a reload)."""
    token = st.session_state.get(AUTH_TOKEN)
    if token:
        resumed = resume_session(store, token, policy)
        if resumed.account is not None:
            return resumed.account
        _forget(RESUME_REASONS.get(resumed.reason, "请重新登录。"))
    cookie = _browser_cookie()
    if cookie and cookie != st.session_state.get("auth_dead_cookie"):
        resumed = resume_session(store, cookie, policy)
        if resumed.account is not None:
            st.session_state[AUTH_TOKEN] = cookie
            st.session_state[AUTH_METHOD] = "password"
            return resumed.account
        st.session_state["auth_dead_cookie"] = cookie
        if resumed.reason:
            st.session_state[AUTH_NOTICE] = RESUME_REASONS[resumed.reason]
    claims = _oidc_claims()
    if claims:
        try:
            account = account_for_claims(store, claims, settings.oidc_claim)
        except AccountError as exc:
            log.info("%s", exc.log_message)
            st.session_state[AUTH_NOTICE] = exc.user_message
            return None
        st.session_state[AUTH_TOKEN] = start_session(store, account, policy, method="oidc")
        st.session_state[AUTH_METHOD] = "oidc"
        return account
    return None


def _forget(notice: str = "") -> None:
    for key in (AUTH_TOKEN, AUTH_METHOD):
        st.session_state.pop(key, None)
    if notice:
        st.session_state[AUTH_NOTICE] = notice


def require_user(settings: Settings, roles: tuple[str, ...] | None = None) -> Account:
    """The logged-in account; otherwise the login page (or the forced password change) and st.stop().
    With `roles`, an account of another role is told this page is not for it."""
    policy = LoginPolicy.from_settings(settings)
    try:
        store = accounts(settings)
        account = current_user(settings, store, policy)
    except AccountError as exc:
        st.error(exc.user_message)
        st.stop()
        raise
    if account is None:
        if _browser_cookie():
            st.html(_cookie_script(None), unsafe_allow_javascript=True)
        login_page(settings, store, policy)
        st.stop()
        # st.stop() returns only outside `streamlit run` (bare mode): never go on without a user
        raise SystemExit("网页需要用 `trainer app` 启动，并先登录。")
    if st.session_state.get(AUTH_METHOD) == "password":
        st.html(_cookie_script(st.session_state[AUTH_TOKEN]), unsafe_allow_javascript=True)
    sidebar(account, store)
    if account.must_change_password and st.session_state.get(AUTH_METHOD) != "oidc":
        st.warning("首次登录（或密码被管理员重置）后必须先修改密码，才能继续使用。", icon=":material/key:")
        password_form(store, account)
        st.stop()
    if account.is_staff:
        from trainer.config import secret_file_warnings

        for warning in secret_file_warnings(settings):  # a password hash or exam key other accounts can read
            st.warning(warning, icon=":material/key:")
    if roles and account.role not in roles:
        allowed = "、".join(ROLE_LABELS[r] for r in roles)
        st.error(f"本页面只对{allowed}开放。您当前登录的是{account.role_label}账号 {md(account.label)}。", icon=":material/lock:")
        st.stop()
    return account


def login_page(settings: Settings, store: AccountStore, policy: LoginPolicy) -> None:
    st.title(":material/record_voice_over: 文明服务用语训练")
    st.subheader("登录")
    notice = st.session_state.pop(AUTH_NOTICE, "")
    if notice:
        st.info(notice, icon=":material/info:")
    if store.count() == 0:
        st.warning("还没有任何账号，暂时无法登录。", icon=":material/person_off:")
        st.markdown("请管理员在装有本系统的电脑上打开终端，创建第一个管理员账号（按提示记下初始密码），然后刷新本页面：")
        st.code("trainer users add admin --name 管理员 --role 管理员", language="bash")
        st.caption("也可以用 `trainer users import 花名册.xlsx` 一次导入全部人员。原来设置过教师密码的，升级后教师密码自动成为管理员账号 admin 的密码。")
        return
    with st.form("login"):
        user_id = st.text_input("工号", key="login-id")
        password = st.text_input("密码", type="password", key="login-password")
        submitted = st.form_submit_button("登录", type="primary")
    if submitted:
        try:
            account = authenticate(store, user_id, password, policy)
        except LoginRefused as exc:
            log.info("%s", exc.log_message)
            st.error(exc.user_message, icon=":material/block:")
            return
        except AccountError as exc:
            st.error(exc.user_message)
            return
        st.session_state[AUTH_TOKEN] = start_session(store, account, policy)
        st.session_state[AUTH_METHOD] = "password"
        st.session_state.pop("auth_dead_cookie", None)
        log.info("login %s (%s)", account.user_id, account.role)
        st.rerun()
    st.caption("忘记密码或账号被锁定时，请联系管理员重置或解锁。在公用电脑上用完请点击左侧的“退出登录”。")
    if _oidc_claims() is not None:
        st.divider()
        if st.button("使用单位统一身份认证登录", key="login-oidc"):
            st.login()


def sidebar(account: Account, store: AccountStore) -> None:
    with st.sidebar:
        st.caption(f"当前用户：{md(account.label)} · {account.role_label}")
        if st.button("退出登录", key="logout", icon=":material/logout:"):
            logout(store)


def logout(store: AccountStore) -> None:
    """End the login session server-side, clear the cookie, and show the login page."""
    token = st.session_state.get(AUTH_TOKEN, "")
    method = st.session_state.get(AUTH_METHOD)
    try:
        end_session(store, token)
    except AccountError as exc:
        log.warning("logout: %s", exc.log_message)
    st.session_state.clear()  # nothing of this person stays in the browser session
    st.session_state[AUTH_NOTICE] = "您已退出登录。"
    st.session_state["auth_dead_cookie"] = token
    if method == "oidc":
        st.logout()
    st.rerun()


def password_form(store: AccountStore, account: Account, key: str = "pw") -> None:
    with st.form(key):
        st.markdown("**修改密码**")
        old = st.text_input("原密码", type="password", key=f"{key}-old")
        new = st.text_input("新密码（至少 6 个字符，不能与工号相同）", type="password", key=f"{key}-new")
        repeat = st.text_input("再输入一次新密码", type="password", key=f"{key}-repeat")
        submitted = st.form_submit_button("修改密码", type="primary")
    if submitted:
        try:
            change_password(store, account.user_id, old, new, repeat)
        except AccountError as exc:
            st.error(exc.user_message)
            return
        st.success("密码已修改。")
        if account.must_change_password:
            st.rerun()
