"""The account-management page (admins) driven by AppTest, and the login cookie script."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_support import log_in, make_account, no_exception, page_text
from trainer.accounts import LoginPolicy, LoginRefused, SqliteAccountStore, authenticate

APP_DIR = Path(__file__).resolve().parent.parent / "trainer" / "app"
HOME = APP_DIR / "首页.py"
ACCOUNTS = APP_DIR / "pages" / "8_账号管理.py"


@pytest.fixture
def env(own_config: Path) -> Path:
    tmp_path = own_config
    make_account(tmp_path / "sessions", "A1", "admin", name="管理员")
    make_account(tmp_path / "sessions", "E1", "trainee", "城东营业厅", name="张三")
    make_account(tmp_path / "sessions", "T1", "instructor", "城东营业厅", name="王老师")
    return tmp_path


def _store(env: Path) -> SqliteAccountStore:
    return SqliteAccountStore(env / "sessions" / "index.sqlite3")


def _page(env: Path, user: str) -> AppTest:
    at = AppTest.from_file(str(HOME), default_timeout=120)
    at.switch_page(str(ACCOUNTS.relative_to(APP_DIR)))
    log_in(at, env / "sessions", user)
    at.run()
    no_exception(at)
    return at


def _new_password(at: AppTest) -> str:
    line = next(w.value for w in at.warning if "的新密码" in w.value)
    return line.split("**")[1]


@pytest.mark.parametrize("user", ["E1", "T1"])
def test_only_admins(env: Path, user: str) -> None:
    at = _page(env, user)
    assert "本页面只对管理员开放" in page_text(at) and not at.dataframe and not at.get("tabs")


def test_create_edit_disable_reset_unlock(env: Path) -> None:
    at = _page(env, "A1")
    assert list(at.dataframe[0].value["工号"]) == ["A1", "E1", "T1"]

    at.text_input(key="acc-a-id").input("E2")
    at.text_input(key="acc-a-name").input("李四")
    at.text_input(key="acc-a-groups").input("城西营业厅")
    next(b for b in at.button if b.label == "添加账号").click().run()
    no_exception(at)
    assert "已添加账号 李四（E2）" in page_text(at)
    password = _new_password(at)
    account = authenticate(_store(env), "E2", password, LoginPolicy())
    assert account.groups == ("城西营业厅",) and account.must_change_password
    at.run()
    assert not any("的新密码" in w.value for w in at.warning)  # shown once only

    # a bad 工号 is refused with the reason
    at.text_input(key="acc-a-id").input("工号 3")
    at.text_input(key="acc-a-name").input("王五")
    next(b for b in at.button if b.label == "添加账号").click().run()
    assert any("不允许的字符" in e.value for e in at.error)

    # edit: E1 becomes an instructor of two groups
    at.selectbox(key="acc-pick").set_value("E1").run()
    at.selectbox(key="acc-e-role-E1").set_value("instructor")
    at.text_input(key="acc-e-groups-E1").input("城东营业厅、城西营业厅")
    next(b for b in at.button if b.label == "保存修改").click().run()
    no_exception(at)
    edited = _store(env).get("E1")
    assert edited.role == "instructor" and edited.groups == ("城东营业厅", "城西营业厅")

    # disable and enable
    at.selectbox(key="acc-pick").set_value("E1").run()
    at.button(key="acc-disable").click().run()
    assert _store(env).get("E1").disabled and "已停用 张三（E1）" in page_text(at)
    at.selectbox(key="acc-pick").set_value("E1").run()
    at.button(key="acc-enable").click().run()
    assert not _store(env).get("E1").disabled

    # lock T1 out, then unlock; reset its password
    now = time.time()
    for i in range(5):
        with pytest.raises(LoginRefused):
            authenticate(_store(env), "T1", "wrong", LoginPolicy(), now - 100 + 20 * i)
    at.run()
    assert "已锁定" in " ".join(at.dataframe[0].value["状态"])
    at.selectbox(key="acc-pick").set_value("T1").run()
    at.button(key="acc-unlock").click().run()
    assert "已解除 王老师（T1） 的登录锁定" in page_text(at) and "已锁定" not in " ".join(at.dataframe[0].value["状态"])
    at.selectbox(key="acc-pick").set_value("T1").run()
    at.button(key="acc-reset").click().run()
    assert authenticate(_store(env), "T1", _new_password(at), LoginPolicy()).must_change_password

    # the admin cannot disable their own account
    at.selectbox(key="acc-pick").set_value("A1").run()
    at.button(key="acc-disable").click().run()
    assert any("不能停用自己" in e.value for e in at.error) and not _store(env).get("A1").disabled


def test_import_roster_in_the_app(env: Path) -> None:
    at = _page(env, "A1")
    bad = "工号,姓名,班组/营业厅,角色\nE5,赵六,城东营业厅,学员\nE6,,城东营业厅,学员\n".encode("utf-8")
    at.file_uploader(key="acc-roster").set_value(("花名册.csv", bad, "text/csv")).run()
    at.button(key="acc-import").click().run()
    no_exception(at)
    assert any("第 3 行：姓名不能为空" in e.value for e in at.error) and _store(env).get("E5") is None

    good = "工号,姓名,班组/营业厅,角色\nE5,赵六,城东营业厅,学员\nE1,张三,城北营业厅,学员\n".encode("utf-8")
    at.file_uploader(key="acc-roster").set_value(("花名册.csv", good, "text/csv")).run()
    at.button(key="acc-import").click().run()
    no_exception(at)
    assert "新建 1 个账号，更新 1 个" in page_text(at)
    [download] = [d for d in at.get("download_button") if d.proto.label == "下载初始密码（CSV）"]
    assert _store(env).get("E1").groups == ("城北营业厅",) and _store(env).get("E5").must_change_password


def test_cookie_script_sets_and_clears_only_the_login_cookie() -> None:
    from trainer.app.login import COOKIE, _cookie_script

    token = "AbC-123_xyz"
    script = _cookie_script(token)
    assert f"{COOKIE}={token}; Path=/; SameSite=Strict" in script and "Secure" in script and "Max-Age" not in script
    assert f"{COOKIE}=; Path=/; Max-Age=0" in _cookie_script(None)
    with pytest.raises(ValueError):
        _cookie_script("x'; alert(1); '")


def test_oidc_identity_logs_in_the_matching_account(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Streamlit's st.login is not reachable here (no identity provider): its claims are stood in for
    at the one place the gate reads them; everything after (mapping, session, role) is the real code."""
    import dataclasses

    from trainer.app import login

    store = _store(env)
    store.update(dataclasses.replace(store.get("T1"), email="wang@example.com"))
    monkeypatch.setattr(login, "_oidc_claims", lambda: {"email": "WANG@example.com", "is_logged_in": True})
    at = AppTest.from_file(str(HOME), default_timeout=120)
    at.switch_page("pages/3_教师.py")
    at.run()
    no_exception(at)
    assert at.session_state["auth_method"] == "oidc" and "当前用户：王老师（T1） · 教师" in page_text(at)
    assert at.get("tabs")  # an instructor: the 教师 page itself

    monkeypatch.setattr(login, "_oidc_claims", lambda: {"email": "nobody@example.com", "is_logged_in": True})
    stranger = AppTest.from_file(str(HOME), default_timeout=120)
    stranger.run()
    no_exception(stranger)
    assert "还没有在本系统登记" in page_text(stranger) and stranger.text_input(key="login-id") is not None
    assert any(b.key == "login-oidc" for b in stranger.button)  # configured: the 统一身份认证 button is offered
