"""Two `trainer app` servers behind one nginx (deploy/nginx-trainer.conf), on one PostgreSQL.

A throw-away PostgreSQL cluster, two `python -m trainer app` processes (this checkout) on their
own ports with the same database_url and exam key, and Debian's nginx in the foreground with the
shipped template rendered by `trainer deploy nginx --standalone` (TLS with the certificate of
`trainer tls init`, non-root port, its own pid/log/temp paths). Through nginx:
(a) both servers answer /_stcore/health (the X-Trainer-Server header names which);
(b) a trainee pinned to server A practises in a real browser (uploads go through nginx to A),
    the session is saved, and an instructor pinned to server B sees it listed;
(c) the same trainee takes and submits an exam (a one-question paper, one attempt) on A, a second
    candidate takes it on B, so the sealed ledger holds entries appended by both servers;
(d) server A is killed (SIGKILL, its whole process group) while the trainee's next answer is
    being recognised: both sessions acknowledged before (练习已保存) are readable through B with
    intact audio, the trainee's reload lands on B, logged in again from the login cookie, and B
    refuses them a second attempt at the exam; the instructor's roster on B lists both results;
    `trainer exam verify` on the shared database is clean and counts both exams, and the anchored
    ledger head is the last entry.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app_support import TEST_PASSWORD, browser_login, free_port, stop
from conftest import require

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("TRAINER_CHROMIUM", "/usr/bin/chromium")
EXAM_KEY = "multi-server-test-key-0123456789"
TRAINEE = ("E5001", "周五")
CANDIDATE = ("E5002", "郑六")
INSTRUCTOR = ("T5001", "吴老师")
PAPER_ID = "multi_server_reception"
PAPER_TITLE = "引导迎送单项考核（多服务器）"
PAPER = f"""id: {PAPER_ID}
title: {PAPER_TITLE}
questions: [reception]
time_limit_seconds: 120
attempts: 1
feedback: end
"""

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.postgres]


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).is_file()), None)


def trainer(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trainer", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def get(url: str, context: ssl.SSLContext, node: str = "") -> tuple[int, str, str]:
    """(status, body, X-Trainer-Server) of a GET through nginx, with the sticky key `node`."""
    request = urllib.request.Request(url, headers={"Cookie": f"trainer_node={node}"} if node else {})
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        return response.status, response.read().decode(), response.headers.get("X-Trainer-Server", "")


def wait_until(check, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    last: object = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"{what} not within {seconds:.0f} s (last error: {last})")


@pytest.fixture
def cluster_of_two(tmp_path: Path, pg_url: str, whisper_model_dir: Path):  # type: ignore[no-untyped-def]
    nginx = nginx_binary()
    require(nginx is not None, "nginx is not installed (apt-get install nginx)")
    config = tmp_path / "trainer.toml"
    config.write_text('storage = "postgres"\n', encoding="utf-8")
    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / f"{PAPER_ID}.yaml").write_text(PAPER, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TRAINER_CONFIG": str(config),
        "TRAINER_DATABASE_URL": pg_url,
        "TRAINER_EXAM_KEY": EXAM_KEY,
        "TRAINER_ENGINE": "whisper",
        "TRAINER_WHISPER_MODEL": str(whisper_model_dir),
        "TRAINER_ASR_WORKERS": "1",
        "TRAINER_EXAM_PAPER_DIRS": str(papers),
    }
    for name in ("TRAINER_STORAGE", "TRAINER_PHRASEBOOK_DIRS", "TRAINER_SESSIONS_DIR"):
        env.pop(name, None)
    tls = tmp_path / "tls"
    assert trainer(env, "tls", "init", "--dir", str(tls)).returncode == 0

    from trainer.accounts import create_account, new_account
    from trainer.accounts.manage import open_accounts
    from trainer.accounts.passwords import hash_password
    from trainer.config import load_settings

    settings = load_settings({**env, "TRAINER_SESSIONS_DIR": str(tmp_path / "sessions")})
    assert settings.storage == "postgres" and settings.database_url == pg_url
    accounts = open_accounts(settings)
    for (user_id, name), role in ((TRAINEE, "trainee"), (CANDIDATE, "trainee"), (INSTRUCTOR, "instructor")):
        create_account(accounts, new_account(user_id, name, role, "城东营业厅"), TEST_PASSWORD)
        accounts.set_password(user_id, hash_password(TEST_PASSWORD), must_change=False)

    servers: dict[str, subprocess.Popen] = {}
    processes: list[subprocess.Popen] = []
    try:
        ports = [free_port(), free_port()]
        for name, port, folder in zip("AB", ports, ("a", "b")):
            server_env = {**env, "TRAINER_SESSIONS_DIR": str(tmp_path / folder / "sessions")}  # drafts stay per server
            servers[name] = subprocess.Popen(
                [sys.executable, "-m", "trainer", "app", "--port", str(port), "--address", "127.0.0.1", "--no-fetch"],
                cwd=REPO, env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            )
            processes.append(servers[name])
        prefix = tmp_path / "nginx"
        prefix.mkdir()
        listen = free_port()
        rendered = trainer(
            env, "deploy", "nginx", "--app", f"127.0.0.1:{ports[0]}", "--app", f"127.0.0.1:{ports[1]}",
            "--listen", str(listen), "--server-name", "localhost", "--tls-dir", str(tls), "--standalone", str(prefix),
        )
        assert rendered.returncode == 0, rendered.stderr
        conf = rendered.stdout
        if os.geteuid() == 0:  # nginx's workers would run as nobody and could not write its temp folders here
            conf = "user root;\n" + conf
        (prefix / "nginx.conf").write_text(conf, encoding="utf-8")
        proxy = subprocess.Popen(
            [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )
        processes.append(proxy)
        context = ssl.create_default_context(cafile=str(tls / "ca.crt"))
        base = f"https://localhost:{listen}"
        for name, port in zip("AB", ports):
            wait_until(lambda port=port: urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status == 200,
                       120, f"server {name} on port {port}")
        wait_until(lambda: get(f"{base}/_stcore/health", context)[0] == 200, 30, "nginx")
        yield {
            "base": base, "context": context, "servers": servers, "addresses": dict(zip("AB", (f"127.0.0.1:{p}" for p in ports))),
            "env": {**env, "TRAINER_SESSIONS_DIR": str(tmp_path / "sessions")},
        }
    finally:
        for process in reversed(processes):
            stop(process)


def sticky_keys(base: str, context: ssl.SSLContext, addresses: dict[str, str]) -> dict[str, str]:
    """For each server, a trainer_node cookie value nginx sends to it (found by asking)."""
    keys: dict[str, str] = {}
    for i in range(200):
        status, body, upstream = get(f"{base}/_stcore/health", context, f"probe{i}")
        assert status == 200 and body.strip() == "ok"
        for name, address in addresses.items():
            if upstream == address:
                keys.setdefault(name, f"probe{i}")
        if len(keys) == len(addresses):
            return keys
    raise AssertionError(f"nginx sent every key to the same server: {keys}")


def practise_once(page, base: str, answer: Path) -> str:  # type: ignore[no-untyped-def]
    """One practice session on the page's server: one answer uploaded, ended early, saved; its number."""
    from playwright.sync_api import expect

    page.goto(f"{base}/练习?scenario=payment")
    expect(page.get_by_role("button", name="开始练习")).to_be_visible()
    page.get_by_role("button", name="开始练习").click()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(answer))
    expect(page.get_by_text("第 2 轮（共 10 轮）")).to_be_visible()
    page.get_by_role("button", name="提前结束并评分").click()
    saved = page.get_by_text("练习已保存")
    expect(saved).to_be_visible()
    return saved.inner_text().split("编号 ")[1].split("）")[0]


def instructor_count(page, base: str) -> str:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(f"{base}/教师")
    caption = page.get_by_text("符合条件的会话：")
    expect(caption).to_be_visible()
    return caption.inner_text()


def open_exam_rules(page, base: str) -> None:  # type: ignore[no-untyped-def]
    """On the exam page: choose the test paper and ask for its rules (下一步)."""
    from playwright.sync_api import expect

    page.goto(f"{base}/考试")
    paper = page.get_by_role("combobox", name="试卷")
    expect(paper).to_be_visible()
    paper.click()
    page.get_by_role("option", name=f"{PAPER_TITLE}（1 道题）").click()
    expect(paper).to_have_value(f"{PAPER_TITLE}（1 道题）")
    page.get_by_role("button", name="下一步：阅读考试规则").click()


def take_exam(page, base: str, answers: list[Path]) -> str:  # type: ignore[no-untyped-def]
    """The test paper taken and submitted on the page's server, one uploaded recording a turn; its exam id."""
    from playwright.sync_api import expect

    open_exam_rules(page, base)
    expect(page.get_by_text(f"确认考试规则 · {PAPER_TITLE}")).to_be_visible()
    page.get_by_text("我已阅读并遵守以上考试规则").click()
    page.get_by_role("button", name="开始考试").click()
    page.get_by_role("button", name="开始作答").click()
    for turn, answer in enumerate(answers, 1):
        expect(page.get_by_text(f"第 {turn} 轮（共 {len(answers)} 轮）")).to_be_visible()
        # this turn's uploader (its key names question 1, this turn): the last turn's may still be on the page
        uploader = page.locator(f'[class*="st-key-exam-upl-"][class*="-1-{turn}-"] [data-testid="stFileUploaderDropzoneInput"]')
        uploader.set_input_files(str(answer))
        after = f"第 {turn + 1} 轮（共 {len(answers)} 轮）" if turn < len(answers) else "所有题目都已作答"
        expect(page.get_by_text(after)).to_be_visible()
    page.get_by_role("button", name="交卷").click()
    expect(page.get_by_text("考试结果：")).to_be_visible()
    caption = page.get_by_text("· 考试编号 ")
    exam_id = caption.inner_text().split("考试编号 ")[1].strip()
    page.get_by_role("button", name="完成").click()
    return exam_id


def test_two_servers_behind_nginx_share_one_database(cluster_of_two, scenarios_audio_dir: Path) -> None:  # type: ignore[no-untyped-def]
    require(Path(CHROMIUM).is_file() or shutil.which("chromium") is not None, f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    require(importlib.util.find_spec("playwright") is not None, "Playwright's Python package is not installed (pip install playwright)")
    from playwright.sync_api import expect, sync_playwright

    base, context, addresses = cluster_of_two["base"], cluster_of_two["context"], cluster_of_two["addresses"]
    performance = scenarios_audio_dir / "dev_payment_full"
    exam_answers = sorted((scenarios_audio_dir / "dev_reception_full").glob("turn*.wav"))
    assert len(exam_answers) == 4

    # (a) both servers answer through nginx; a browser keeps its server (sticky key)
    keys = sticky_keys(base, context, addresses)
    for name in "AB":
        for _ in range(3):
            assert get(f"{base}/_stcore/health", context, keys[name])[2] == addresses[name]

    expect.set_options(timeout=120_000)
    host = base.removeprefix("https://")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium"), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        try:
            pages = {}
            for who, server in ((TRAINEE, "A"), (INSTRUCTOR, "B"), (CANDIDATE, "B")):
                ctx = browser.new_context(ignore_https_errors=True, locale="zh-CN", viewport={"width": 1280, "height": 1400})
                ctx.add_cookies([{"name": "trainer_node", "value": keys[server], "domain": host.split(":")[0], "path": "/", "secure": True}])
                page = ctx.new_page()
                page.set_default_timeout(120_000)
                response = page.goto(base)
                assert response is not None and response.headers.get("x-trainer-server") == addresses[server]
                browser_login(page, base, who[0])
                pages[who[0]] = page
            trainee, instructor, candidate = pages[TRAINEE[0]], pages[INSTRUCTOR[0]], pages[CANDIDATE[0]]

            # (b) saved through A, listed by the instructor on B
            first = practise_once(trainee, base, performance / "turn01.wav")
            assert instructor_count(instructor, base) == "符合条件的会话：1 个"
            second = practise_once(trainee, base, performance / "turn02.wav")

            # (c) an exam sealed by each server: the trainee's on A, the second candidate's on B
            exams = {TRAINEE: take_exam(trainee, base, exam_answers), CANDIDATE: take_exam(candidate, base, exam_answers)}

            # (d) A dies while the next answer is being recognised
            trainee.goto(f"{base}/练习?scenario=payment")
            trainee.get_by_role("button", name="开始练习").click()
            trainee.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(performance / "turn03.wav"))
            trainee.wait_for_timeout(300)
            os.killpg(cluster_of_two["servers"]["A"].pid, signal.SIGKILL)
            cluster_of_two["servers"]["A"].wait(timeout=10)

            assert instructor_count(instructor, base) == "符合条件的会话：4 个"  # 2 practice sessions, 2 exam questions
            _, _, upstream = get(f"{base}/_stcore/health", context, keys["A"])
            assert upstream.endswith(addresses["B"])  # A's browsers now reach B (the failed try on A is listed first)
            trainee.goto(f"{base}/我的记录")
            expect(trainee.get_by_text(f"当前用户：{TRAINEE[1]}（{TRAINEE[0]}）").first).to_be_visible()  # resumed from the login cookie

            # one attempt across servers: the attempt used on A counts on B
            open_exam_rules(trainee, base)
            expect(trainee.get_by_text(f"考生 {TRAINEE[0]} 已参加过“{PAPER_TITLE}”考试 1 次")).to_be_visible()
            expect(trainee.get_by_role("button", name="开始考试")).to_have_count(0)

            # the instructor on B sees both results (A's was sealed before A died)
            instructor.goto(f"{base}/考试管理")
            expect(instructor.get_by_text("共 2 场考试")).to_be_visible()
            instructor.get_by_role("combobox", name="打开考试记录").click()
            for who in (TRAINEE, CANDIDATE):
                expect(instructor.get_by_role("option", name=f"{who[1]}（{who[0]}） · {PAPER_TITLE}")).to_be_visible()
        finally:
            browser.close()

    from trainer.config import load_settings
    from trainer.storage.factory import session_store

    env = cluster_of_two["env"]
    store = session_store(load_settings(env))
    listed = store.list()
    assert sorted(s.id for s in listed if s.kind != "exam") == sorted([first, second])  # the unacknowledged answer was never a session
    assert sorted(s.trainee_id for s in listed if s.kind == "exam") == sorted([TRAINEE[0], CANDIDATE[0]])
    for session_id in (first, second):
        record = store.load(session_id)
        assert record.trainee_id == TRAINEE[0] and len(record.turns) == 1
        assert store.verify_audio(session_id) == []
    verify = trainer(env, "exam", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "全部通过：账本 4 条记录，2 场考试" in verify.stdout, verify.stdout  # a start and a result for each exam

    from trainer.exam import load_result
    from trainer.storage.factory import ledger_for

    ledger = ledger_for(store)
    entries = ledger.entries()
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]
    by_exam = {(who, e["kind"]) for who, exam_id in exams.items() for e in entries if e["exam_id"] == exam_id}
    assert by_exam == {(who, kind) for who in (TRAINEE, CANDIDATE) for kind in ("start", "result")}
    head = ledger.head()
    assert head is not None and ledger.read_anchor() == head and head.seq == entries[-1]["seq"] and head.seal == entries[-1]["seal"]
    for who, exam_id in exams.items():
        assert load_result(store, exam_id).candidate_id == who[0]
