"""Single sign-on with Streamlit's own `st.login` (OpenID Connect): the identity provider's claims
are matched to an existing account, whose role decides what the person may see.

`oidc_claim` (trainer.toml) names the claim: "email" matches the account's 邮箱 (case-insensitive);
any other claim (e.g. "employee_id", "preferred_username") must equal the account's 工号. Nobody
gets in without an account an admin created; roles are never taken from the provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trainer.accounts.model import Account, AccountError
from trainer.accounts.store import AccountStore

DEFAULT_CLAIM = "email"


def account_for_claims(store: AccountStore, claims: Mapping[str, Any], claim: str = DEFAULT_CLAIM) -> Account:
    """The account the provider's identity maps to; AccountError (Chinese) when none or disabled."""
    value = str(claims.get(claim) or "").strip()
    if not value:
        raise AccountError(
            f"统一身份认证没有提供“{claim}”信息，无法对应到本系统的账号。请管理员检查 oidc_claim 设置。",
            f"OIDC claims lack {claim!r}",
        )
    if claim == "email":
        wanted = value.casefold()
        found = next((a for a in store.accounts() if a.email and a.email.casefold() == wanted), None)
    else:
        found = store.get(value)
    if found is None:
        raise AccountError(f"您的统一身份账号（{value}）还没有在本系统登记。请联系管理员创建账号。", f"no account for OIDC {claim}={value!r}")
    if found.disabled:
        raise AccountError("该账号已停用。如有疑问请联系管理员。", f"OIDC login of disabled {found.user_id}")
    return found
