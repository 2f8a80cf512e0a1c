"""Login in a real browser (headless Chromium via Playwright): the login page, a wrong password,
staying logged in across a reload (the session cookie), the admin's account screen, logout
(the cookie is cleared and the token ended server-side). Screenshots go to test-artifacts/."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from app_support import TEST_PASSWORD, browser_login, make_account, serve_app, stop
from conftest import require
from trainer.accounts import SqliteAccountStore
from trainer.accounts.login import token_hash

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = os.environ.get("TRAINER_CHROMIUM", "/usr/bin/chromium")

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = tmp_path / "trainer.toml"
    config.write_text("", encoding="utf-8")
    env = {**os.environ, "TRAINER_CONFIG": str(config), "TRAINER_SESSIONS_DIR": str(tmp_path / "sessions")}
    env.pop("TRAINER_PHRASEBOOK_DIRS", None)
    sessions = tmp_path / "sessions"
    make_account(sessions, "A1", "admin", name="王管理")
    make_account(sessions, "E1024", "trainee", "城东营业厅", name="张三")
    make_account(sessions, "T1", "instructor", "城东营业厅", name="李老师")
    process, port = serve_app(tmp_path, env)
    try:
        yield f"http://localhost:{port}", sessions
    finally:
        stop(process)


def test_login_reload_accounts_screen_and_logout(served) -> None:  # type: ignore[no-untyped-def]
    require(Path(CHROMIUM).is_file() or shutil.which("chromium") is not None, f"Chromium not found at {CHROMIUM}")
    require(importlib.util.find_spec("playwright") is not None, "Playwright's Python package is not installed")
    from playwright.sync_api import expect, sync_playwright

    base, sessions = served
    ARTIFACTS.mkdir(exist_ok=True)
    store = SqliteAccountStore(sessions / "index.sqlite3")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium"),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(60_000)

            # a trainee's address with ?trainee=: still only the login form
            page.goto(f"{base}/我的记录?trainee=E1024")
            expect(page.get_by_role("button", name="登录")).to_be_visible()
            expect(page.get_by_text("练习列表")).to_have_count(0)
            page.screenshot(path=str(ARTIFACTS / "login_page.png"), full_page=True)

            page.get_by_label("工号").fill("A1")
            page.get_by_label("密码").fill("wrong-password")
            page.get_by_role("button", name="登录").click()
            expect(page.get_by_text("工号或密码不正确")).to_be_visible()
            page.wait_for_timeout(1200)  # the growing delay: 1 s after the first failure
            browser_login(page, base, "A1", TEST_PASSWORD)
            expect(page.get_by_text("当前用户：王管理（A1） · 管理员")).to_be_visible()
            cookie = next(c for c in context.cookies() if c["name"] == "trainer_login")
            assert cookie["sameSite"] == "Strict" and cookie["expires"] == -1  # a session cookie
            assert store.session(token_hash(cookie["value"])) is not None
            assert cookie["value"] not in page.url

            # F5: a new Streamlit session resumes the login from the cookie
            page.goto(f"{base}/账号管理")
            expect(page.get_by_role("heading", name="账号管理")).to_be_visible()
            expect(page.get_by_text("当前用户：王管理（A1） · 管理员")).to_be_visible()
            expect(page.get_by_role("tab", name="账号列表")).to_be_visible()
            page.wait_for_timeout(800)
            page.screenshot(path=str(ARTIFACTS / "accounts_page.png"), full_page=True)

            page.get_by_role("button", name="退出登录").click()
            expect(page.get_by_text("您已退出登录")).to_be_visible()
            assert store.session(token_hash(cookie["value"])) is None
            page.wait_for_timeout(500)
            assert not [c for c in context.cookies() if c["name"] == "trainer_login" and c["value"]]
            page.reload()
            expect(page.get_by_role("button", name="登录")).to_be_visible()
            expect(page.get_by_text("当前用户：")).to_have_count(0)
        finally:
            browser.close()
