"""The web pages against hostile or broken input (issue 13): a bad centre phrasebook is named on
the practice and exam pages, user text is never rendered as Markdown, bad names are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from app_support import log_in, make_account, no_exception, page_source, page_text
from test_app_exam import EXAM, _account, _admin, _sealed_exam, exam_env  # noqa: F401  (fixture)
from test_app_exam import _app as _exam_app
from test_app_pages import HISTORY, INSTRUCTOR, PRACTICE, _app, _saved_session, app_env  # noqa: F401  (fixture)
from trainer.app.markup import md
from trainer.sessions import Review, SessionStore

BEACON = "![t](http://127.0.0.1:8999/beacon.png)"
GREEN = "**考试通过 100分** :green[✓]"

CORPUS = Path(__file__).parent / "corpus" / "bad_inputs"


def _deep_phrasebook(folder: Path) -> Path:
    folder.mkdir()
    path = folder / "x.yaml"
    path.write_text("scenarios: " + "[" * 600 + "]" * 600 + "\n", encoding="utf-8")
    return path


def test_practice_page_names_a_skipped_centre_phrasebook_and_keeps_the_shipped_scenarios(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    _deep_phrasebook(app_env / "pb")
    monkeypatch.setenv("TRAINER_PHRASEBOOK_DIRS", str(app_env / "pb"))
    at = _app(PRACTICE)
    at.run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert any("话术库文件" in w.value and "已跳过" in w.value for w in at.warning)
    assert "x.yaml" in "\n".join(t.value for t in at.text)  # the details, for whoever fixes it
    assert any(o.startswith("柜台收费") for o in at.selectbox(key="f-scenario").options)


def test_exam_page_names_a_skipped_centre_phrasebook(exam_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    _deep_phrasebook(exam_env / "pb")
    monkeypatch.setenv("TRAINER_PHRASEBOOK_DIRS", str(exam_env / "pb"))
    at = _exam_app(EXAM)
    _account("E1", "张三")
    log_in(at, exam_env / "sessions", "E1")
    at.run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert any("话术库文件" in w.value and "已跳过" in w.value for w in at.warning)
    assert "x.yaml" in "\n".join(t.value for t in at.text)
    assert at.selectbox(key="exam-paper").options


# --------------------------------------------------------------------------- Markdown in user text


def _shown_as_text(at, *hostile: str) -> None:  # type: ignore[no-untyped-def]
    """Every hostile text appears only escaped (literal), never as raw Markdown."""
    source = page_source(at) + "\n".join(str(e.label) for e in at.expander)
    for h in hostile:
        assert h not in source, h
        assert md(h) in source, h
        assert h in page_text(at) or h in "\n".join(str(e.label) for e in at.expander), h  # what a reader sees


def test_trainee_name_is_text_on_the_practice_page(app_env: Path) -> None:  # noqa: F811
    make_account(app_env / "sessions", "E1", "trainee", name=BEACON)
    at = _app(PRACTICE, user="E1")
    at.run()
    no_exception(at)
    _shown_as_text(at, BEACON)


def test_instructor_sees_names_reviews_and_transcripts_as_text(app_env: Path) -> None:  # noqa: F811
    make_account(app_env / "sessions", "E1", "trainee", name=GREEN)
    record = _saved_session(app_env, trainee=("E1", GREEN), texts=("您好！", ":red[请问] 您是来交电费的吗？"))
    store = SessionStore(app_env / "sessions")
    store.add_review(record.id, Review(session_id=record.id, reviewer=BEACON, overall="agree", comment="<b>好</b> $x^2$"))
    at = _app(INSTRUCTOR, user="A1")
    at.run()
    at.selectbox(key="t-open").set_value(record.id).run()
    no_exception(at)
    _shown_as_text(at, GREEN, BEACON, "<b>好</b> $x^2$")
    history = _app(HISTORY, user="E1")
    history.run()
    no_exception(history)
    _shown_as_text(history, GREEN, BEACON)


def test_exam_admin_shows_the_candidate_name_as_text(exam_env: Path) -> None:  # noqa: F811
    result = _sealed_exam(exam_env, "reception_check", "E7001", GREEN, total=91.0)
    at = _admin(exam_env)
    at.run()
    at.selectbox(key="x-open").set_value(result.exam_id).run()
    no_exception(at)
    _shown_as_text(at, GREEN)


def test_exam_confirmation_shows_the_candidate_name_as_text(exam_env: Path) -> None:  # noqa: F811
    from test_app_exam import _to_confirmation

    at = _exam_app(EXAM)
    _to_confirmation(at, "reception_check", "E7002", BEACON)
    _shown_as_text(at, BEACON)


def test_md_keeps_every_corpus_name_readable_and_inert() -> None:
    import html
    import re
    import string

    from app_support import visible
    from test_export_safety import NAMES
    from trainer.app.markup import JOINER, html_text

    for name, _ in NAMES:
        escaped = md(name)
        assert visible(escaped) == name  # a reader sees exactly the name
        unescaped = re.sub(r"\\.", "", escaped)
        assert not set(unescaped) & set(string.punctuation), (name, escaped)  # no Markdown can start
        assert "://" not in escaped.replace("\\", "") and "http" + "\\:" + "\\/" not in escaped  # no live autolink
        assert html.unescape(html_text(name)).replace(JOINER, "") == name and "<" not in html_text(name)
