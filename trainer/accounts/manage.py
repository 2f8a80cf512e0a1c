"""Account administration: open the store, first admin on upgrade, create, change, reset, disable."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from trainer import auth
from trainer.accounts.model import (
    ADMIN,
    Account,
    AccountError,
    check_name,
    check_user_id,
    parse_groups,
    parse_role,
)
from trainer.accounts.passwords import check_new_password, generate_password, hash_password, verify
from trainer.accounts.store import AccountStore

log = logging.getLogger(__name__)

FIRST_ADMIN_ID = "admin"
FIRST_ADMIN_NAME = "管理员"
DB_FILE = "index.sqlite3"  # the session index's file (trainer.sessions.store.INDEX_FILE)


def database_path(settings: Any) -> Path:
    return Path(settings.sessions_dir) / DB_FILE


def open_accounts(settings: Any) -> AccountStore:
    """The account store the settings choose (beside the sessions, or the PostgreSQL database),
    migrated; on first use the configured instructor password (instructor_password_hash) becomes
    the admin account `admin`."""
    from trainer.storage.factory import account_store  # the storage layer sits above accounts

    store = account_store(settings)
    ensure_first_admin(store, getattr(settings, "instructor_password_hash", ""))
    return store


def ensure_first_admin(store: AccountStore, instructor_hash: str) -> Account | None:
    """Upgrade: with no account at all and an instructor password in trainer.toml, create the admin
    account `admin` with that password (same scrypt hash), to be changed at first login."""
    if not auth.is_configured(instructor_hash) or store.count():
        return None
    try:
        auth.verify_password("", instructor_hash)  # validates the format only
    except auth.AuthError:
        log.warning("instructor_password_hash is malformed: no admin account created from it")
        return None
    account = Account(FIRST_ADMIN_ID, FIRST_ADMIN_NAME, ADMIN, must_change_password=True)
    try:
        store.create(account, instructor_hash.strip())
    except AccountError:  # another process created it first
        return store.get(FIRST_ADMIN_ID)
    log.info("admin account created from instructor_password_hash")
    return account


def new_account(user_id: str, name: str, role: str, groups: Any = (), email: str = "") -> Account:
    """A validated Account (not stored)."""
    return Account(check_user_id(user_id), check_name(name), parse_role(role), parse_groups(groups), email.strip())


def create_account(store: AccountStore, account: Account, password: str | None = None) -> str:
    """Store `account` with `password`, or with a random initial password; returns the password.
    Either way the user must change it at first login."""
    password = generate_password() if password is None else password
    check_new_password(password, account.user_id)
    store.create(replace(account, must_change_password=True), hash_password(password))
    return password


def require(store: AccountStore, user_id: str) -> Account:
    account = store.get(str(user_id).strip())
    if account is None:
        raise AccountError(f"没有工号为 {str(user_id).strip()} 的账号。请先用 `trainer users list` 查看已有账号。", f"no account {user_id!r}")
    return account


def reset_password(store: AccountStore, user_id: str, password: str | None = None) -> str:
    """A new (random unless given) password the user must change at next login; ends their sessions
    and clears a lockout."""
    from trainer.accounts.login import unlock

    account = require(store, user_id)
    password = generate_password() if password is None else password
    check_new_password(password, account.user_id)
    store.set_password(account.user_id, hash_password(password), must_change=True)
    store.end_sessions_of(account.user_id)
    unlock(store, account.user_id)
    return password


def change_password(store: AccountStore, user_id: str, old: str, new: str, repeat: str | None = None) -> Account:
    """The user's own change (first login or later): checks the old password; AccountError otherwise."""
    account = require(store, user_id)
    if not verify(old, store.password_hash(account.user_id)):
        raise AccountError("原密码不正确。", "change password: old password wrong")
    if repeat is not None and new != repeat:
        raise AccountError("两次输入的新密码不一致。", "change password: new passwords differ")
    if new == old:
        raise AccountError("新密码不能与原密码相同。", "change password: unchanged")
    check_new_password(new, account.user_id)
    store.set_password(account.user_id, hash_password(new), must_change=False)
    return require(store, user_id)


def set_disabled(store: AccountStore, user_id: str, disabled: bool, by: str = "") -> Account:
    account = require(store, user_id)
    if disabled and by and account.user_id == by:
        raise AccountError("不能停用自己正在使用的账号。", "admin disabling self")
    if disabled and account.role == ADMIN and not _other_active_admin(store, account.user_id):
        raise AccountError("这是唯一可用的管理员账号，不能停用。请先创建另一个管理员。", "disabling the last admin")
    saved = store.update(replace(account, disabled=disabled))
    if disabled:
        store.end_sessions_of(account.user_id)
    return saved


def update_account(store: AccountStore, user_id: str, *, name: str | None = None, role: str | None = None,
                   groups: Any = None, email: str | None = None) -> Account:
    account = require(store, user_id)
    changed = replace(
        account,
        name=account.name if name is None else check_name(name),
        role=account.role if role is None else parse_role(role),
        groups=account.groups if groups is None else parse_groups(groups),
        email=account.email if email is None else email.strip(),
    )
    if account.role == ADMIN and changed.role != ADMIN and not _other_active_admin(store, account.user_id):
        raise AccountError("这是唯一可用的管理员账号，不能改为其他角色。请先创建另一个管理员。", "demoting the last admin")
    return store.update(changed)


def _other_active_admin(store: AccountStore, user_id: str) -> bool:
    return any(a.role == ADMIN and not a.disabled and a.user_id != user_id for a in store.accounts())
