"""Who may see whose records: a trainee their own, an instructor the trainees of their groups
(and their own), an admin everyone."""

from __future__ import annotations

from trainer.accounts.model import ADMIN, INSTRUCTOR, Account
from trainer.accounts.store import AccountStore


def visible_trainees(viewer: Account, store: AccountStore) -> frozenset[str] | None:
    """The 工号 whose sessions and exams `viewer` may see; None means everyone (admin)."""
    if viewer.role == ADMIN:
        return None
    if viewer.role == INSTRUCTOR:
        return frozenset(store.members(viewer.groups) | {viewer.user_id})
    return frozenset({viewer.user_id})


def may_see(viewer: Account, trainee_id: str, store: AccountStore) -> bool:
    allowed = visible_trainees(viewer, store)
    return allowed is None or trainee_id in allowed
