"""Accounts: who may log in, with which role, in which groups (班组/营业厅).

The user id is the 工号. Roles: a trainee practises and sees only their own records; an
instructor also sees the trainees of their groups; an admin sees everything and manages
accounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from trainer.errors import TrainerError
from trainer.usertext import clean_input, input_problem

TRAINEE = "trainee"
INSTRUCTOR = "instructor"
ADMIN = "admin"
ROLES = (TRAINEE, INSTRUCTOR, ADMIN)
ROLE_LABELS = {TRAINEE: "学员", INSTRUCTOR: "教师", ADMIN: "管理员"}
STAFF_ROLES = (INSTRUCTOR, ADMIN)

MAX_USER_ID = 32
MAX_NAME = 40
MAX_GROUP = 40
_USER_ID_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]*$")
_GROUP_SPLIT_RE = re.compile(r"[、,，;；\n]+")


class AccountError(TrainerError):
    """An account cannot be created, changed, found or used."""


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Account:
    user_id: str  # 工号
    name: str
    role: str  # trainee | instructor | admin
    groups: tuple[str, ...] = ()  # 班组/营业厅
    email: str = ""  # optional: matched against the identity provider's email claim (OIDC)
    disabled: bool = False
    must_change_password: bool = True
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def label(self) -> str:
        return f"{self.name}（{self.user_id}）" if self.name else self.user_id

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


def check_user_id(user_id: str) -> str:
    """The stripped 工号, or AccountError (Chinese) when it is empty, too long or has odd characters."""
    user_id = clean_input(str(user_id))
    if not user_id:
        raise AccountError("工号不能为空。", "empty user id")
    if problem := input_problem(user_id, "工号"):
        raise AccountError(problem, "user id not printable")
    if len(user_id) > MAX_USER_ID:
        raise AccountError(f"工号“{user_id}”太长：最多 {MAX_USER_ID} 个字符。", f"user id too long: {user_id!r}")
    if not _USER_ID_RE.match(user_id):
        raise AccountError(
            f"工号“{user_id}”含有不允许的字符：只能用字母、数字和 . _ -，并以字母或数字开头。", f"bad user id {user_id!r}"
        )
    return user_id


def check_name(name: str) -> str:
    """The cleaned 姓名 (printable text only, like every name the app stores); AccountError otherwise."""
    name = clean_input(str(name))
    if problem := input_problem(name, "姓名"):
        raise AccountError(problem, "name not printable")
    if len(name) > MAX_NAME:
        raise AccountError(f"姓名“{name}”太长：最多 {MAX_NAME} 个字符。", "name too long")
    return name


def parse_role(text: str) -> str:
    """A role from its Chinese label (学员/教师/管理员) or English name; AccountError otherwise."""
    value = str(text).strip()
    for role, label in ROLE_LABELS.items():
        if value in (role, label):
            return role
    raise AccountError(
        f"未知的角色“{value}”。可选：学员、教师、管理员。", f"unknown role {value!r}"
    )


def parse_groups(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Groups from a cell such as "城东营业厅、95598 一班" (separated by 、 , ， ; ； or new lines)."""
    parts = _GROUP_SPLIT_RE.split(text) if isinstance(text, str) else [str(p) for p in text]
    groups: list[str] = []
    for part in (clean_input(p) for p in parts):
        if not part:
            continue
        if problem := input_problem(part, "班组/营业厅"):
            raise AccountError(problem, "group not printable")
        if len(part) > MAX_GROUP:
            raise AccountError(f"班组/营业厅名称“{part}”太长：最多 {MAX_GROUP} 个字符。", "group name too long")
        if part not in groups:
            groups.append(part)
    return tuple(groups)
