"""Accounts: the SQLite store and its schema, password hashing, login delay and lockout, login
sessions with idle timeout, roles and visibility, roster import, the upgrade, OIDC mapping."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from trainer.accounts import (
    ADMIN,
    INSTRUCTOR,
    TRAINEE,
    Account,
    AccountError,
    LoginPolicy,
    LoginRefused,
    SqliteAccountStore,
    account_for_claims,
    authenticate,
    change_password,
    create_account,
    end_session,
    ensure_first_admin,
    new_account,
    reset_password,
    resume_session,
    set_disabled,
    start_session,
    unlock,
    update_account,
    visible_trainees,
)
from trainer.accounts.login import wait_seconds
from trainer.accounts.roster import import_roster, parse_roster, passwords_csv, write_private
from trainer.accounts.store import SCHEMA_VERSION
from trainer.auth import hash_password as instructor_hash
from trainer.sessions import SessionRecord, SessionStore, turn_records, utc_now

POLICY = LoginPolicy(max_failures=4, lockout_minutes=10, idle_minutes=30, session_hours=12)


@pytest.fixture
def store(tmp_path: Path) -> SqliteAccountStore:
    return SqliteAccountStore(tmp_path / "sessions" / "index.sqlite3")


def _add(store: SqliteAccountStore, user_id: str, role: str = TRAINEE, groups: str = "", password: str = "secret-1", name: str = "张三") -> Account:
    create_account(store, new_account(user_id, name, role, groups), password)
    account = store.get(user_id)
    assert account is not None
    return account


# --------------------------------------------------------------------------- store and schema


def test_store_round_trip_and_schema_version(store: SqliteAccountStore) -> None:
    account = _add(store, "E1024", TRAINEE, "城东营业厅、95598 一班")
    assert account.groups == ("95598 一班", "城东营业厅") and account.must_change_password and not account.disabled
    assert account.role_label == "学员" and account.label == "张三（E1024）"
    stored = store.password_hash("E1024")
    assert stored and stored.startswith("scrypt$") and "secret-1" not in stored
    with pytest.raises(AccountError, match="已经存在"):
        store.create(account, stored)
    changed = update_account(store, "E1024", name="张三丰", groups="城西营业厅", role="教师")
    assert (changed.name, changed.groups, changed.role) == ("张三丰", ("城西营业厅",), INSTRUCTOR)
    assert store.get("E1024") == changed
    assert store.members(["城西营业厅"]) == {"E1024"} and store.members(["城东营业厅"]) == set()
    assert [a.user_id for a in store.accounts()] == ["E1024"] and store.count() == 1
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600 and stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT version FROM account_schema WHERE component = 'accounts'").fetchone() == (SCHEMA_VERSION,)
    # opening again does not migrate twice; the accounts are still there
    assert SqliteAccountStore(store.path).get("E1024") == changed


def test_shares_the_session_index_file(tmp_path: Path) -> None:
    """The accounts live in the sessions' SQLite file; the index still builds and lists around them."""
    root = tmp_path / "sessions"
    accounts = SqliteAccountStore(root / "index.sqlite3")
    _add(accounts, "E1")
    sessions = SessionStore(root)
    record = SessionRecord(kind="practice", trainee_id="E1", trainee_name="张三", scenario_id="payment", scenario_title="收费",
                           started_at=utc_now(), finished_at=utc_now(), turns=turn_records(["x"], [{"text": "您好"}]))
    sessions.save(record, [b"RIFF0000WAVE"])
    assert [s.trainee_id for s in sessions.list()] == ["E1"]
    sessions.reindex()
    assert accounts.get("E1") is not None and len(sessions.list()) == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    SqliteAccountStore(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE account_schema SET version = 99")
    with pytest.raises(AccountError, match="更新的版本"):
        SqliteAccountStore(path)


@pytest.mark.parametrize("user_id", ["", " ", "工号一", "a b", "x" * 33, "-E1"])
def test_bad_user_ids(store: SqliteAccountStore, user_id: str) -> None:
    with pytest.raises(AccountError):
        new_account(user_id, "张三", "学员")


def test_password_rules(store: SqliteAccountStore) -> None:
    with pytest.raises(AccountError, match="太短"):
        create_account(store, new_account("E1", "张三", "学员"), "abc")
    with pytest.raises(AccountError, match="工号相同"):
        create_account(store, new_account("E123456", "张三", "学员"), "e123456")
    generated = create_account(store, new_account("E2", "李四", "学员"))
    assert len(generated) == 10 and not set(generated) & set("0O1lI")


# --------------------------------------------------------------------------- login rules


def test_delay_grows_and_lockout_after_n_failures(store: SqliteAccountStore) -> None:
    _add(store, "E1", password="right-pass")
    assert [POLICY.delay_seconds(k) for k in range(5)] == [0, 1, 2, 4, 8]
    assert LoginPolicy().delay_seconds(40) == 60.0
    now = 1_000_000.0
    with pytest.raises(LoginRefused, match="工号或密码不正确.*还可以再试 3 次") as info:
        authenticate(store, "E1", "wrong", POLICY, now)
    assert info.value.retry_after == 1.0
    # too early: refused without even checking the (right) password, and not counted
    with pytest.raises(LoginRefused, match="请在 1 秒后再试"):
        authenticate(store, "E1", "right-pass", POLICY, now + 0.5)
    assert store.attempts("E1").failures == 1
    with pytest.raises(LoginRefused):
        authenticate(store, "E1", "wrong", POLICY, now + 1.0)  # second failure: next wait 2 s
    with pytest.raises(LoginRefused, match="2 秒"):
        authenticate(store, "E1", "right-pass", POLICY, now + 1.5)
    with pytest.raises(LoginRefused):
        authenticate(store, "E1", "wrong", POLICY, now + 3.0)
    with pytest.raises(LoginRefused, match="已被锁定 10 分钟"):
        authenticate(store, "E1", "wrong", POLICY, now + 7.0)
    # locked: the right password does not help for 10 minutes
    with pytest.raises(LoginRefused, match="已被锁定") as info:
        authenticate(store, "E1", "right-pass", POLICY, now + 7.0 + 300)
    assert 290 < info.value.retry_after <= 300
    assert authenticate(store, "E1", "right-pass", POLICY, now + 7.0 + 601).user_id == "E1"
    assert store.attempts("E1") is None  # success clears the failures


def test_admin_unlock_and_unknown_ids_are_throttled_the_same(store: SqliteAccountStore) -> None:
    _add(store, "E1", password="right-pass")
    now = 2_000_000.0
    for i in range(4):
        with pytest.raises(LoginRefused):
            authenticate(store, "E1", "wrong", POLICY, now + 100 * i)
    with pytest.raises(LoginRefused, match="锁定"):
        authenticate(store, "E1", "right-pass", POLICY, now + 400)
    unlock(store, "E1")
    assert authenticate(store, "E1", "right-pass", POLICY, now + 401).user_id == "E1"
    # an unknown 工号 gets the same message, delay and lock
    with pytest.raises(LoginRefused) as unknown:
        authenticate(store, "NOBODY", "whatever", POLICY, now)
    assert unknown.value.user_message.startswith("工号或密码不正确") and wait_seconds(store.attempts("NOBODY"), POLICY, now) == 1.0


def test_disabled_account_cannot_log_in_and_its_sessions_end(store: SqliteAccountStore) -> None:
    _add(store, "A1", ADMIN, password="admin-pass")
    _add(store, "E1", password="right-pass")
    token = start_session(store, store.get("E1"), POLICY, now=10.0)
    set_disabled(store, "E1", True, by="A1")
    with pytest.raises(LoginRefused, match="已停用"):
        authenticate(store, "E1", "right-pass", POLICY, 20.0)
    assert resume_session(store, token, POLICY, 20.0).account is None
    set_disabled(store, "E1", False)
    assert authenticate(store, "E1", "right-pass", POLICY, 30.0).user_id == "E1"
    with pytest.raises(AccountError, match="自己"):
        set_disabled(store, "A1", True, by="A1")
    with pytest.raises(AccountError, match="唯一可用的管理员"):
        set_disabled(store, "A1", True, by="someone-else")
    with pytest.raises(AccountError, match="唯一可用的管理员"):
        update_account(store, "A1", role="学员")


def test_sessions_idle_timeout_expiry_and_logout(store: SqliteAccountStore) -> None:
    account = _add(store, "E1")
    token = start_session(store, account, POLICY, now=0.0)
    assert len(token) >= 40 and store.session(token) is None  # only the hash is stored
    assert resume_session(store, token, POLICY, 29 * 60).account == account
    assert resume_session(store, token, POLICY, 58 * 60).account == account  # activity at 29 min kept it alive
    idle = resume_session(store, token, POLICY, 58 * 60 + 30 * 60 + 1)
    assert idle.account is None and idle.reason == "idle"
    assert resume_session(store, token, POLICY, 58 * 60 + 30 * 60 + 2).reason == ""  # gone for good
    # the absolute limit
    token = start_session(store, account, POLICY, now=0.0)
    for minute in range(20, 12 * 60, 20):
        assert resume_session(store, token, POLICY, minute * 60.0).account is not None
    assert resume_session(store, token, POLICY, 12 * 3600.0 + 1).reason == "expired"
    # logout
    token = start_session(store, account, POLICY, now=100.0)
    end_session(store, token)
    assert resume_session(store, token, POLICY, 101.0).account is None
    assert resume_session(store, "forged-token", POLICY, 101.0).account is None


def test_change_and_reset_password(store: SqliteAccountStore) -> None:
    _add(store, "E1", password="first-pass")
    with pytest.raises(AccountError, match="原密码不正确"):
        change_password(store, "E1", "nope", "second-pass", "second-pass")
    with pytest.raises(AccountError, match="不一致"):
        change_password(store, "E1", "first-pass", "second-pass", "second-pazz")
    with pytest.raises(AccountError, match="不能与原密码相同"):
        change_password(store, "E1", "first-pass", "first-pass", "first-pass")
    changed = change_password(store, "E1", "first-pass", "second-pass", "second-pass")
    assert not changed.must_change_password
    assert authenticate(store, "E1", "second-pass", POLICY, 0.0).user_id == "E1"
    token = start_session(store, changed, POLICY, now=0.0)
    for i in range(4):
        with pytest.raises(LoginRefused):
            authenticate(store, "E1", "bad", POLICY, 100.0 * (i + 1))
    new = reset_password(store, "E1")
    assert store.get("E1").must_change_password and resume_session(store, token, POLICY, 1.0).account is None
    assert authenticate(store, "E1", new, POLICY, 500.0).user_id == "E1"  # reset also unlocked


# --------------------------------------------------------------------------- upgrade, roles, OIDC


def test_instructor_password_becomes_the_admin_account(store: SqliteAccountStore) -> None:
    assert ensure_first_admin(store, "") is None and store.count() == 0
    admin = ensure_first_admin(store, instructor_hash("教师密码-2026"))
    assert admin is not None and admin.user_id == "admin" and admin.role == ADMIN and admin.must_change_password
    assert authenticate(store, "admin", "教师密码-2026", POLICY, 0.0).role == ADMIN
    assert ensure_first_admin(store, instructor_hash("another")) is None  # only when there is no account at all
    assert store.count() == 1


def test_visibility_by_role(store: SqliteAccountStore) -> None:
    trainee = _add(store, "E1", TRAINEE, "城东营业厅")
    _add(store, "E2", TRAINEE, "城西营业厅")
    _add(store, "E3", TRAINEE, "城东营业厅、城西营业厅")
    teacher = _add(store, "T1", INSTRUCTOR, "城东营业厅")
    admin = _add(store, "A1", ADMIN)
    assert visible_trainees(trainee, store) == {"E1"}
    assert visible_trainees(teacher, store) == {"E1", "E3", "T1"}
    assert visible_trainees(admin, store) is None


def test_oidc_claims_map_to_accounts(store: SqliteAccountStore) -> None:
    account = _add(store, "E1")
    store.update(Account(**{**account.__dict__, "email": "Zhang.San@example.com"}))
    assert account_for_claims(store, {"email": "zhang.san@EXAMPLE.com", "sub": "x"}).user_id == "E1"
    assert account_for_claims(store, {"employee_id": "E1"}, claim="employee_id").user_id == "E1"
    with pytest.raises(AccountError, match="还没有在本系统登记"):
        account_for_claims(store, {"email": "other@example.com"})
    with pytest.raises(AccountError, match="没有提供"):
        account_for_claims(store, {"sub": "x"})
    set_disabled(store, "E1", True)
    with pytest.raises(AccountError, match="已停用"):
        account_for_claims(store, {"email": "zhang.san@example.com"})


# --------------------------------------------------------------------------- roster


ROSTER = "工号,姓名,班组/营业厅,角色\nE1001,张三,城东营业厅,学员\nE1002,李四,城东营业厅、95598 一班,\nT2001,王老师,城东营业厅,教师\n"


def test_roster_import_creates_and_updates(store: SqliteAccountStore) -> None:
    rows = parse_roster(ROSTER.encode("utf-8"), "roster.csv")
    assert [(r.line, r.account.user_id, r.account.role) for r in rows] == [(2, "E1001", TRAINEE), (3, "E1002", TRAINEE), (4, "T2001", INSTRUCTOR)]
    report = import_roster(store, rows)
    assert [a.user_id for a, _ in report.created] == ["E1001", "E1002", "T2001"]
    for account, password in report.created:
        assert authenticate(store, account.user_id, password, POLICY, 0.0).must_change_password
    # again, with a change: updated, password untouched
    again = ROSTER.replace("李四,城东营业厅、95598 一班,", "李四,城西营业厅,教师").encode("gb18030")
    report = import_roster(store, parse_roster(again, "roster.csv"))
    assert not report.created and [a.user_id for a in report.updated] == ["E1002"] and len(report.unchanged) == 2
    assert store.get("E1002").groups == ("城西营业厅",) and store.get("E1002").role == INSTRUCTOR


def test_roster_errors_name_their_lines(store: SqliteAccountStore) -> None:
    bad = "工号,姓名,班组/营业厅,角色\nE1,张三,城东,学员\n\n工号 2,李四,城东,学员\nE3,,城东,学员\nE4,赵六,城东,班长\nE1,张三,城东,学员\n"
    with pytest.raises(AccountError) as info:
        parse_roster(bad.encode("utf-8"), "r.csv")
    message = info.value.user_message
    assert "4 处错误，未导入任何账号" in message
    assert "第 4 行：工号“工号 2”含有不允许的字符" in message and "第 5 行：姓名不能为空" in message
    assert "第 6 行：未知的角色“班长”" in message and "第 7 行：工号 E1 与第 2 行重复" in message
    with pytest.raises(AccountError, match="缺少列：工号"):
        parse_roster("姓名,角色\n张三,学员\n".encode(), "r.csv")
    with pytest.raises(AccountError, match="不支持"):
        parse_roster(b"x", "r.pdf")
    assert store.count() == 0


def test_roster_from_excel_and_private_password_file(store: SqliteAccountStore, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["工号", "姓名", "班组/营业厅", "角色"])
    sheet.append([1001, "张三", "城东营业厅", "学员"])  # a number cell in Excel
    sheet.append(["A01", "管理者", "", "管理员"])
    path = tmp_path / "花名册.xlsx"
    book.save(path)
    rows = parse_roster(path.read_bytes(), path.name)
    assert [(r.line, r.account.user_id, r.account.role) for r in rows] == [(2, "1001", TRAINEE), (3, "A01", ADMIN)]
    report = import_roster(store, rows)
    out = write_private(tmp_path / "passwords.csv", passwords_csv(report.created))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "工号,姓名,角色,班组/营业厅,初始密码" and report.created[0][1] in text
    with pytest.raises(AccountError, match="已存在"):
        write_private(out, b"x")
