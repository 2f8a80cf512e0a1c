"""A full exam from the labelled recordings in ../shared/audio/scenarios, marked by whisper-base.

One paper from exam_papers/ (fixed questions) passes with the good performances; a rude
performance fails by 一票否决 through `trainer exam run`; the sealed records verify, and a changed
audio byte is named.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from trainer.cli import main
from trainer.config import Settings
from trainer.exam.paper import SHIPPED_PAPERS, load_papers
from trainer.exam.records import load_result
from trainer.exam.runner import AttemptsExhaustedError, run_exam
from trainer.exam.seal import exam_key
from trainer.exam.verify import verify_all
from trainer.phrasebook.loader import library_from_settings
from trainer.sessions.store import SessionStore

KEY = "e2e-exam-key-0123456789abcdef"
pytestmark = pytest.mark.slow


def turns(folder: Path) -> list[Path]:
    return sorted(folder.glob("turn*.wav"))


@pytest.fixture(scope="module")
def exam_env(scenarios_audio_dir, whisper_model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("exam_e2e") / "sessions"
    settings = dataclasses.replace(Settings(), engine="whisper", whisper_model=whisper_model_dir, sessions_dir=root, exam_key=KEY)
    library = library_from_settings(settings)
    return settings, library, SessionStore(root), scenarios_audio_dir


def test_counter_paper_passes_with_good_performances(exam_env):
    settings, library, store, audio = exam_env
    paper = load_papers([SHIPPED_PAPERS], library.scenarios).get("counter_cashier_onboarding")
    answers = [turns(audio / f"dev_{s}_full") for s in paper.questions]
    result = run_exam(paper, "E0001", "王小明", answers, settings, library, store=store)
    assert result.passed, (result.verdict.reasons, [q.total for q in result.verdict.questions])
    assert result.verdict.total >= paper.rules.pass_mark and result.engine == "whisper"
    assert not any(q.forbidden for q in result.verdict.questions)
    stored = store.load(result.questions[0].session_id)
    assert stored.kind == "exam" and len(stored.turns) == 10 and all(t.audio_sha256 and t.transcript["text"] for t in stored.turns)
    assert stored.score["score"]["total"] == result.verdict.questions[0].total
    assert verify_all(store, exam_key(settings)).ok
    with pytest.raises(AttemptsExhaustedError):
        run_exam(paper, "E0001", "王小明", answers, settings, library, store=store)


def test_rude_performance_fails_through_the_cli_and_tampering_is_named(exam_env, tmp_path, monkeypatch, capsys):
    settings, library, store, audio = exam_env
    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "payment_only.yaml").write_text(
        "id: payment_only\ntitle: 收费单项考核\nquestions: [payment]\nfeedback: hidden\n", encoding="utf-8"
    )
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(store.root))
    monkeypatch.setenv("TRAINER_EXAM_KEY", KEY)
    monkeypatch.setenv("TRAINER_ENGINE", "whisper")
    monkeypatch.setenv("TRAINER_WHISPER_MODEL", str(settings.whisper_model))
    monkeypatch.delenv("TRAINER_CONFIG", raising=False)
    folder = audio / "dev_payment_rude"
    code = main(["exam", "run", "payment_only", "--papers-dir", str(papers), "--candidate", "E0002", "--name", "赵六",
                 "--turns", str(len(turns(folder))), *map(str, turns(folder)), "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["passed"] is False
    assert any("一票否决" in r for r in result["machine"]["reasons"])
    phrases = {hit["phrase"] for q in result["machine"]["questions"] for hit in q["forbidden"]}
    assert phrases & {"喂", "该下班了你快点"}
    hidden = load_result(store, result["exam_id"]).candidate_view()
    assert hidden["passed"] is False and "questions" not in hidden and "total" not in hidden

    assert main(["exam", "verify"]) == 0
    capsys.readouterr()
    session_id = result["questions"][0]["session_id"]
    wav = store.audio_path(session_id, 1)
    data = bytearray(wav.read_bytes())
    data[-1] ^= 0xFF
    wav.write_bytes(bytes(data))
    assert main(["exam", "verify"]) == 1
    out = capsys.readouterr().out
    assert session_id in out and result["exam_id"] in out and "第 1 段录音" in out
