"""The account tests of test_accounts.py that do not look at the SQLite file itself, run again on
PostgreSQL: the same test functions, collected here with this module's `store` fixture (the one
`SqlAccountStore`, on a fresh database from tests/pg_support.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from test_accounts import (  # noqa: F401 - collected again here, on PostgreSQL
    test_admin_unlock_and_unknown_ids_are_throttled_the_same,
    test_change_and_reset_password,
    test_delay_grows_and_lockout_after_n_failures,
    test_disabled_account_cannot_log_in_and_its_sessions_end,
    test_instructor_password_becomes_the_admin_account,
    test_oidc_claims_map_to_accounts,
    test_password_rules,
    test_roster_errors_name_their_lines,
    test_roster_import_creates_and_updates,
    test_sessions_idle_timeout_expiry_and_logout,
    test_visibility_by_role,
)
from trainer.accounts import AccountStore, SqlAccountStore
from trainer.config import Settings
from trainer.storage.factory import account_store

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(pg_url: str, tmp_path: Path) -> AccountStore:
    settings = dataclasses.replace(Settings(), sessions_dir=tmp_path / "sessions", storage="postgres", database_url=pg_url)
    opened = account_store(settings)
    assert isinstance(opened, SqlAccountStore) and opened.engine.dialect.name == "postgresql"
    assert not (tmp_path / "sessions").exists()  # nothing written beside the sessions
    return opened
