"""Account passwords: the salted scrypt hash of `trainer.auth`, and random initial passwords."""

from __future__ import annotations

import secrets

from trainer import auth
from trainer.accounts.model import AccountError

# No 0/O, 1/l/I: initial passwords are read off a printed list and typed in.
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
INITIAL_LENGTH = 10
MIN_LENGTH = auth.MIN_PASSWORD_LENGTH

# Checked against when the user id is unknown, so that a wrong id costs as long as a wrong password.
_DUMMY_HASH = auth.hash_password(secrets.token_hex(8))


def generate_password(length: int = INITIAL_LENGTH) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def check_new_password(password: str, user_id: str = "") -> None:
    """AccountError (Chinese) when `password` may not be set."""
    try:
        auth.check_new_password(password)
    except auth.AuthError as exc:
        raise AccountError(exc.user_message, exc.log_message) from exc
    if user_id and password.strip().casefold() == user_id.strip().casefold():
        raise AccountError("密码不能与工号相同。", "password equals user id")


def hash_password(password: str) -> str:
    return auth.hash_password(password)


def verify(password: str, stored: str | None) -> bool:
    """True when `password` matches `stored`; with no stored hash, spends the same time and says False."""
    if not stored:
        auth.verify_password(password, _DUMMY_HASH)
        return False
    try:
        return auth.verify_password(password, stored)
    except auth.AuthError as exc:
        raise AccountError("该账号的密码记录已损坏，无法登录。请管理员重置密码（trainer users reset-password 工号）。", exc.log_message) from exc
