"""What the account-management page shows, as plain rows (pure functions, tested without Streamlit)."""

from __future__ import annotations

from trainer.accounts import Account
from trainer.accounts.login import wait_text


def status_text(account: Account, failures: int, locked_seconds: float) -> str:
    parts = ["已停用" if account.disabled else "正常"]
    if account.must_change_password:
        parts.append("待改密码")
    if locked_seconds > 0:
        parts.append(f"已锁定（还剩 {wait_text(locked_seconds)}）")
    elif failures:
        parts.append(f"连续输错 {failures} 次")
    return "，".join(parts)


def account_rows(accounts: list[Account], locks: dict[str, tuple[int, float]]) -> list[dict[str, str]]:
    """One row per account for the table; `locks` maps user id -> (failures, seconds still locked)."""
    return [
        {
            "工号": a.user_id,
            "姓名": a.name,
            "角色": a.role_label,
            "班组/营业厅": "、".join(a.groups),
            "邮箱": a.email,
            "状态": status_text(a, *locks.get(a.user_id, (0, 0.0))),
        }
        for a in accounts
    ]
