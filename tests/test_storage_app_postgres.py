"""The web app on PostgreSQL (storage = "postgres"): pages reach the shared database through the
storage factory. A session saved by one app server is listed, played and reviewed on another
server's instructor page, and the trainee sees the review on theirs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_support import TEST_PASSWORD, no_exception, page_text
from test_sessions_support import audio_for, make_record
from trainer.accounts import LoginPolicy, create_account, new_account, start_session
from trainer.accounts.manage import open_accounts
from trainer.accounts.passwords import hash_password
from trainer.config import load_settings
from trainer.storage.factory import session_store

pytestmark = pytest.mark.postgres

APP_DIR = Path(__file__).resolve().parent.parent / "trainer" / "app"
HOME = APP_DIR / "首页.py"
HISTORY = APP_DIR / "pages" / "2_我的记录.py"
INSTRUCTOR = APP_DIR / "pages" / "3_教师.py"


@pytest.fixture
def pg_app(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "trainer.toml"
    config.write_text('pass_mark = 80\nstorage = "postgres"\n', encoding="utf-8")
    monkeypatch.setenv("TRAINER_CONFIG", str(config))
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(tmp_path / "sessions"))
    monkeypatch.setenv("TRAINER_DATABASE_URL", pg_url)
    monkeypatch.delenv("TRAINER_STORAGE", raising=False)
    settings = load_settings()
    assert settings.storage == "postgres"
    accounts = open_accounts(settings)
    for user_id, role, name in (("E1024", "trainee", "张三"), ("T1", "instructor", "王老师")):
        create_account(accounts, new_account(user_id, name, role, "城东营业厅"), TEST_PASSWORD)
        accounts.set_password(user_id, hash_password(TEST_PASSWORD), must_change=False)
    return settings


def _page(settings, page: Path, user: str) -> AppTest:
    at = AppTest.from_file(str(HOME), default_timeout=120)
    at.switch_page(str(page.relative_to(APP_DIR)))
    accounts = open_accounts(settings)
    at.session_state["auth_token"] = start_session(accounts, accounts.get(user), LoginPolicy())
    at.session_state["auth_method"] = "password"
    return at


def test_session_saved_on_one_server_is_reviewed_on_another(pg_app) -> None:
    settings = pg_app
    record = make_record(trainee_id="E1024", trainee_name="张三")
    saved = session_store(settings).save(record, audio_for(record))
    assert not (settings.sessions_dir / "2026").exists()  # nothing went into the folders

    at = _page(settings, INSTRUCTOR, "T1")
    at.run()
    no_exception(at)
    assert list(at.dataframe[0].value["编号"]) == [saved.id]
    at.selectbox(key="t-open").set_value(saved.id).run()
    no_exception(at)
    assert len(at.get("audio")) == len(saved.turns)  # each turn's audio, read from the database
    key = f"review-{saved.id}"
    at.radio(key=f"{key}-overall").set_value("override")
    at.number_input(key=f"{key}-total").set_value(72.0)
    at.radio(key=f"{key}-passed").set_value(False)
    at.text_area(key=f"{key}-comment").input("按录音改判")
    next(b for b in at.button if b.label == "保存复核").click().run()
    no_exception(at)
    assert "复核已保存" in page_text(at), page_text(at)

    [summary] = session_store(settings).list()
    assert summary.effective_total == 72.0 and summary.review_count == 1
    history = _page(settings, HISTORY, "E1024")
    history.run()
    no_exception(history)
    assert "王老师（T1） 改判为 72 分（未通过）" in page_text(history)
