"""Accounts and roles: login with growing delay and lockout, login sessions, roster import, OIDC mapping."""

from trainer.accounts.access import may_see, visible_trainees
from trainer.accounts.login import (
    LoginPolicy,
    LoginRefused,
    Resumed,
    authenticate,
    end_session,
    lock_state,
    resume_session,
    start_session,
    unlock,
)
from trainer.accounts.manage import (
    FIRST_ADMIN_ID,
    change_password,
    create_account,
    ensure_first_admin,
    new_account,
    open_accounts,
    require,
    reset_password,
    set_disabled,
    update_account,
)
from trainer.accounts.model import ADMIN, INSTRUCTOR, ROLE_LABELS, ROLES, STAFF_ROLES, TRAINEE, Account, AccountError
from trainer.accounts.oidc import account_for_claims
from trainer.accounts.store import AccountStore, SqlAccountStore, SqliteAccountStore

__all__ = [
    "ADMIN", "FIRST_ADMIN_ID", "INSTRUCTOR", "ROLES", "ROLE_LABELS", "STAFF_ROLES", "TRAINEE",
    "Account", "AccountError", "AccountStore", "LoginPolicy", "LoginRefused", "Resumed", "SqlAccountStore", "SqliteAccountStore",
    "account_for_claims", "authenticate", "change_password", "create_account", "end_session", "ensure_first_admin",
    "lock_state", "may_see", "new_account", "open_accounts", "require", "reset_password", "resume_session",
    "set_disabled", "start_session", "unlock", "update_account", "visible_trainees",
]
