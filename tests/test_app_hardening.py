"""The web pages against hostile or broken input (issue 13): a bad centre phrasebook is named on
the practice and exam pages, user text is never rendered as Markdown, bad names are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from app_support import no_exception, page_text
from test_app_exam import EXAM, exam_env  # noqa: F401  (fixture)
from test_app_exam import _app as _exam_app
from test_app_pages import PRACTICE, _app, app_env  # noqa: F401  (fixture)

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
    at.run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert any("话术库文件" in w.value and "已跳过" in w.value for w in at.warning)
    assert "x.yaml" in "\n".join(t.value for t in at.text)
    assert at.selectbox(key="exam-paper").options
