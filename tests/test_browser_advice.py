"""Real-browser check of issue 14 item 3: a stored practice session opened on 我的记录 shows one
advice list grouped by turn in Chromium — each turn's customer line, the trainee's highlighted
words and that turn's advice, the standard phrasing of a missed step once, every 服务忌语 once with
one severity word — at 1280×800 and 1366×768. Screenshots go to test-artifacts/.

The session is a real scoring of typed turns (the scorer, not a made-up score dict).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from pathlib import Path

import pytest

from app_support import ensure_logged_in, make_account, serve_app, stop
from conftest import require
from test_sessions_support import wav_bytes
from trainer.asr.base import Transcript
from trainer.config import load_settings
from trainer.pipeline import load_library, score_turns
from trainer.sessions import SessionRecord, SessionStore, TurnRecord

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = os.environ.get("TRAINER_CHROMIUM", "/usr/bin/chromium")
TEXTS = ["喂", "你要办什么业务", "嗯", "户号多少", "一共52元", "现金还是扫码", "收您100元", "不知道你自己看，找您38元", "慢走"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


CURT_TEXTS = ["你好，办啥业务？", "坐这儿。", "户号报一下。", "一共五十二块。", "现金扫码都行。", "收你一百块。", "找你四十八块，拿好。", "还有别的事吗？", "慢走。"]


# 工作差错: 请客户稍候 said as the brush-off 等着 (a 忌语 that still performs the step, ForbiddenEntry.performs)
BRUSH_OFF_TEXTS = ["真是对不起，是我打错了。", "我马上给您重新开一张。", "行，等着。", "改好了，请您核对一下。", "给您添麻烦了，谢谢您的理解。", "您慢走，再见。"]


# A complete payment whose first turn says 我们也没有办法 with its words reordered (evidence "reordered"): a
# 服务忌语 the machine counts but is not sure of, so the verdict is 待复核 and no line states it as certain.
REORDERED_TEXTS = [
    "您好，系统慢，办法嘛，我们也没有，您多担待。", "请问您办理什么业务？", "您请坐。", "请问您的户号是多少？", "您本月的电费是52元。",
    "您用现金还是扫码？", "收您100元。", "这是您的发票和找您的48元，请点清收好。", "请慢走，再见！",
]


# A business performance whose clerk asks for the ID card in turn 2 and checks it (您是本人吧) in turn 3: the step
# is decided on turn 2 and heard again on turn 3 (steps[].also_heard), and both turns show it.
HEARD_AGAIN_TEXTS = [
    "您好，请坐，请问您办理什么业务？", "过户需要身份证和房产证，身份证给我看一下。", "收到了，谢谢。您是张强本人吧？",
    "请您稍等。", "这是您的证件，请收好。请在这里签字。", "还有别的需要吗？请慢走，再见。",
]


@pytest.fixture
def served_heard_again(own_config: Path):  # type: ignore[no-untyped-def]
    yield from _serve_session(own_config, HEARD_AGAIN_TEXTS, "business")


@pytest.fixture
def served_reordered(own_config: Path):  # type: ignore[no-untyped-def]
    yield from _serve_session(own_config, REORDERED_TEXTS)


@pytest.fixture
def served(own_config: Path):  # type: ignore[no-untyped-def]
    yield from _serve_session(own_config, TEXTS)


@pytest.fixture
def served_brush_off(own_config: Path):  # type: ignore[no-untyped-def]
    yield from _serve_session(own_config, BRUSH_OFF_TEXTS, "work_error")


@pytest.fixture
def served_curt(own_config: Path):  # type: ignore[no-untyped-def]
    yield from _serve_session(own_config, CURT_TEXTS)


def _serve_session(tmp_path: Path, texts: list[str], scenario_id: str = "payment"):  # type: ignore[no-untyped-def]
    """One stored practice session of these typed turns (really scored), served by `trainer app`
    (`tmp_path`: the test's own config and sessions, the own_config fixture)."""
    config = tmp_path / "trainer.toml"
    settings = load_settings()
    library = load_library(settings)
    scenario = library.scenario(scenario_id)
    result = score_turns([Transcript(text=t) for t in texts], scenario_id, settings, library=library, engine="text", dialogue=True)
    turns = tuple(
        TurnRecord(index=i + 1, prompt=step.customer, transcript={"text": text, "words": [], "duration": 2.0, "engine": "text", "model": ""})
        for i, (text, step) in enumerate(zip(texts, scenario.steps))
    )
    record = SessionRecord(
        kind="practice", trainee_id="E1", trainee_name="张三", scenario_id=scenario_id, scenario_title=scenario.title,
        started_at="2026-12-05T02:30:15Z", finished_at="2026-12-05T02:31:59Z", turns=turns, score=result.to_dict(),
        phrasebook_version=library.version, engine="text", model="", extra={},
    )
    store = SessionStore(tmp_path / "sessions")
    store.save(record, [wav_bytes(0.3, 300 + 20 * i) for i in range(len(turns))])
    make_account(tmp_path / "sessions", "E1", "trainee", name="张三")
    env = {**os.environ, "TRAINER_CONFIG": str(config), "TRAINER_SESSIONS_DIR": str(tmp_path / "sessions")}
    process, port = serve_app(tmp_path, env)
    try:
        yield port, result
    finally:
        stop(process)


def test_one_advice_list_by_turn_in_chromium(served) -> None:  # type: ignore[no-untyped-def]
    port, result = served
    shown = _screens(port, "browser_advice")
    for size, text in shown.items():
        assert "逐轮建议" in text and "第 3 轮 · 客户：对，我来交电费。" in text, size
        assert "改进建议" not in text and "没做到或不完整的步骤" not in text, size
        assert text.count("您先请坐。") == 1, size  # the missed step's standard phrasing, once
        for hit in result.forbidden:
            quoted = re.findall(rf"服务忌语「{re.escape(hit.phrase)}」（(极严重|严重|轻微)）", text)
            assert len(quoted) == 1, (size, hit.phrase, quoted)  # once, with one severity word


def test_a_curt_complete_performance_passes_and_shows_its_courtesy_finding(served_curt) -> None:  # type: ignore[no-untyped-def]
    """Every step performed, almost no courtesy: 通过 by the pass rule, with the courtesy finding (decide.py, item 5)."""
    port, result = served_curt
    assert (result.verdict, result.passed) == ("pass", True)
    for size, text in _screens(port, "browser_manner").items():
        assert "通过" in text and "待复核" not in text and "未通过" not in text, size
        assert text.count("只听到 1 个文明用语（慢走），服务态度显得生硬") == 1, size


def test_a_brush_off_shows_as_a_step_done_in_the_wrong_manner(served_brush_off) -> None:  # type: ignore[no-untyped-def]
    """等着 performs 请客户稍候 and fails on the 忌语: the trainee reads the manner, not a missed step or 可能没听清."""
    port, result = served_brush_off
    assert result.decision == "fail" and result.step("ask_wait").status == "hit"
    for size, text in _screens(port, "browser_brush_off", "第 3 轮").items():
        assert "未通过" in text and "待复核" not in text, size
        assert text.count("做到了「请客户稍候」，但说的是服务忌语「等着吧」") == 1, size
        assert len(re.findall(r"服务忌语「等着吧」(?:（识别为“等着”）)?（严重）", text)) == 1, size
        assert "可能没听清" not in text and "缺少步骤「请客户稍候」" not in text, size


def test_an_uncertain_forbidden_phrase_reads_as_possible(served_reordered) -> None:  # type: ignore[no-untyped-def]
    """Counted but not sure (待复核): 可能是服务忌语 … 机器不能确定，请教师复核, never a bare 服务忌语「…」."""
    port, result = served_reordered
    [hit] = result.forbidden
    assert result.verdict == "review" and not hit.certain
    for size, text in _screens(port, "browser_unsure_forbidden", "第 1 轮").items():
        assert "待复核" in text and "不及格" not in text, size
        assert text.count(f"可能是服务忌语「{hit.phrase}」") == 1, size
        assert "机器不能确定，请教师复核；如确实这样说了，应改说" in text, size
        assert len(re.findall(rf"(?<!可能是)服务忌语「{re.escape(hit.phrase)}」", text)) == 0, size


def test_a_step_heard_in_two_turns_is_highlighted_in_both(served_heard_again) -> None:  # type: ignore[no-untyped-def]
    port, result = served_heard_again
    assert result.step("verify_identity").also_heard == ((3, "本人吧"),)
    for size, html in _screens(port, "browser_heard_again", "第 3 轮", html=True).items():
        marks = re.findall(r'<mark class="hl-hit"[^>]*title="([^"]*)"[^>]*>([^<]*)</mark>', html)
        identity = [shown for title, shown in marks if "核实客户身份" in title]
        assert "身份证给我看一下" in identity and "本人吧" in identity, (size, identity)


def _screens(port: int, name: str, section: str = "整体建议", *, html: bool = False) -> dict[str, str]:
    """The stored session on 我的记录 in Chromium at two window sizes: screenshot and page text, or with `html`
    the page's HTML (`section`: the heading waited for and scrolled to for the second screenshot)."""
    require(Path(CHROMIUM).is_file() or shutil.which("chromium") is not None, f"Chromium not found at {CHROMIUM}")
    require(importlib.util.find_spec("playwright") is not None, "Playwright's Python package is not installed")
    from playwright.sync_api import expect, sync_playwright

    shown: dict[str, str] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium"),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        try:
            for width, height in ((1280, 800), (1366, 768)):
                page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
                page.set_default_timeout(60_000)
                page.goto(f"http://localhost:{port}/我的记录")
                ensure_logged_in(page, "E1", "张三")
                expect(page.get_by_text(section)).to_be_visible(timeout=60_000)  # a busy machine renders slowly
                page.wait_for_timeout(1500)
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"{name}_{width}x{height}.png"), full_page=True)
                page.get_by_text(section).scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / f"{name}_{width}x{height}_advice.png"))
                shown[f"{width}x{height}"] = page.content() if html else page.inner_text("body").replace("\u2060", "")
                page.close()
        finally:
            browser.close()
    return shown
