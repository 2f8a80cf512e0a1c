"""Logging in: growing delay and lockout after failed attempts, and login sessions with idle timeout.

The rules (all enforced here, server-side, by refusing early: the server never sleeps):
- after k failed attempts in a row for a 工号 (known or not), the next attempt is accepted only
  `delay_seconds(k)` = 1, 2, 4, 8 … seconds (at most `max_delay_seconds`) after the last one;
- at `max_failures` failures the 工号 is locked for `lockout_minutes`; every further failure
  locks it again; an admin can unlock it at once (`unlock`);
- a success clears the failures.
A successful login makes a random token; only its SHA-256 is stored with the session, which
ends after `idle_minutes` without activity, after `session_hours` at most, or at logout.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any

from trainer.accounts.model import Account, AccountError
from trainer.accounts.passwords import verify
from trainer.accounts.store import AccountStore, Attempts, LoginSession

PRUNE_AFTER_SECONDS = 24 * 3600.0
TOUCH_EVERY_SECONDS = 30.0
TOKEN_BYTES = 32


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lockout_minutes: float = 15.0
    base_delay_seconds: float = 1.0
    max_delay_seconds: float = 60.0
    idle_minutes: float = 30.0
    session_hours: float = 12.0

    @classmethod
    def from_settings(cls, settings: Any) -> LoginPolicy:
        return cls(
            max_failures=settings.login_max_failures,
            lockout_minutes=settings.login_lockout_minutes,
            idle_minutes=settings.login_idle_minutes,
            session_hours=settings.login_session_hours,
        )

    def delay_seconds(self, failures: int) -> float:
        """How long after the last failure the next attempt is accepted (0 with no failures)."""
        if failures <= 0:
            return 0.0
        return min(self.base_delay_seconds * 2 ** min(failures - 1, 30), self.max_delay_seconds)

    @property
    def idle_seconds(self) -> float:
        return self.idle_minutes * 60.0


def wait_seconds(attempts: Attempts | None, policy: LoginPolicy, now: float) -> float:
    """Seconds until the next attempt is accepted (0: now). Pure."""
    if attempts is None:
        return 0.0
    ready = max(attempts.locked_until, attempts.last_failure_at + policy.delay_seconds(attempts.failures))
    return max(0.0, ready - now)


def wait_text(seconds: float) -> str:
    seconds = math.ceil(seconds)
    return f"{seconds} 秒" if seconds < 120 else f"{math.ceil(seconds / 60)} 分钟"


class LoginRefused(AccountError):
    """A login attempt was refused: wrong id or password, too early, locked, or disabled."""

    def __init__(self, user_message: str, log_message: str, retry_after: float = 0.0) -> None:
        super().__init__(user_message, log_message)
        self.retry_after = retry_after


WRONG = "工号或密码不正确。"


def _key(user_id: str) -> str:
    return user_id.strip()[:64]


def authenticate(store: AccountStore, user_id: str, password: str, policy: LoginPolicy, now: float | None = None) -> Account:
    """The account when `password` is right and the 工号 may log in now; LoginRefused (Chinese) otherwise.

    An unknown 工号 is treated exactly like a wrong password (same message, same delay and lock),
    so trying names tells nothing.
    """
    now = time.time() if now is None else now
    key = _key(user_id)
    if not key or not password:
        raise LoginRefused("请填写工号和密码。", "empty login")
    waiting = wait_seconds(store.attempts(key), policy, now)
    if waiting > 0:
        state = store.attempts(key)
        if state is not None and state.locked_until > now:
            raise LoginRefused(
                f"连续输错密码次数过多，该工号已被锁定。请在 {wait_text(waiting)}后再试，或请管理员解锁。",
                f"login {key!r} locked", waiting,
            )
        raise LoginRefused(f"刚才输错了密码。为防止猜测密码，请在 {wait_text(waiting)}后再试。", f"login {key!r} too early", waiting)
    account = store.get(key)
    if not verify(password, store.password_hash(key) if account is not None else None):
        state = store.record_failure(key, now)
        if state.failures >= policy.max_failures:
            until = now + policy.lockout_minutes * 60.0
            store.lock(key, until)
            raise LoginRefused(
                f"{WRONG}连续输错 {state.failures} 次，该工号已被锁定 {wait_text(until - now)}。请稍后再试，或请管理员解锁。",
                f"login {key!r} failed {state.failures} times: locked", until - now,
            )
        left = policy.max_failures - state.failures
        delay = policy.delay_seconds(state.failures)
        raise LoginRefused(
            f"{WRONG}还可以再试 {left} 次，之后该工号将被锁定 {wait_text(policy.lockout_minutes * 60)}。",
            f"login {key!r} failed {state.failures} times", delay,
        )
    assert account is not None
    if account.disabled:
        raise LoginRefused("该账号已停用。如有疑问请联系管理员。", f"login {key!r}: account disabled")
    store.clear_attempts(key)
    store.prune_attempts(now - PRUNE_AFTER_SECONDS)
    return account


def unlock(store: AccountStore, user_id: str) -> None:
    store.clear_attempts(_key(user_id))


def lock_state(store: AccountStore, user_id: str, policy: LoginPolicy, now: float | None = None) -> tuple[int, float]:
    """(failures in a row, seconds the 工号 stays locked) for the account screen."""
    now = time.time() if now is None else now
    state = store.attempts(_key(user_id))
    if state is None:
        return 0, 0.0
    return state.failures, max(0.0, state.locked_until - now)


# --------------------------------------------------------------------------- login sessions


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(store: AccountStore, account: Account, policy: LoginPolicy, method: str = "password", now: float | None = None) -> str:
    """A new login session for `account`: the token to give the browser (only its hash is stored)."""
    now = time.time() if now is None else now
    token = secrets.token_urlsafe(TOKEN_BYTES)
    store.prune_sessions(now, policy.idle_seconds)
    store.add_session(LoginSession(token_hash(token), account.user_id, method, now, now, now + policy.session_hours * 3600.0))
    return token


@dataclass(frozen=True)
class Resumed:
    account: Account | None
    reason: str = ""  # why not ("" when resumed, or when the token was unknown): idle | expired | disabled


def resume_session(store: AccountStore, token: str, policy: LoginPolicy, now: float | None = None) -> Resumed:
    """The account a token belongs to, when its session is still valid (activity is recorded)."""
    now = time.time() if now is None else now
    if not token or len(token) > 200:
        return Resumed(None)
    digest = token_hash(token)
    session = store.session(digest)
    if session is None:
        return Resumed(None)
    if now - session.last_seen_at > policy.idle_seconds:
        store.end_session(digest)
        return Resumed(None, "idle")
    if now >= session.expires_at:
        store.end_session(digest)
        return Resumed(None, "expired")
    account = store.get(session.user_id)
    if account is None or account.disabled:
        store.end_session(digest)
        return Resumed(None, "disabled")
    if now - session.last_seen_at >= TOUCH_EVERY_SECONDS:
        store.touch_session(digest, now)
    return Resumed(account)


def end_session(store: AccountStore, token: str) -> None:
    if token:
        store.end_session(token_hash(token))


RESUME_REASONS = {
    "idle": "由于长时间没有操作，您已自动退出。请重新登录。",
    "expired": "登录已过期，请重新登录。",
    "disabled": "该账号已停用。如有疑问请联系管理员。",
}
