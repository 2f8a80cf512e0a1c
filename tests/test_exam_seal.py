"""Sealing, the hash chain, verification, attempts, overrides and hidden feedback (no speech model)."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path

import pytest

from exam_support import KEY, FakeMarker, score_dict, settings_for, small_library, wav_bytes
from trainer.errors import ExamError
from trainer.exam.paper import parse_paper
from trainer.exam.records import exam_results, load_result, roster
from trainer.exam.runner import (
    AttemptsExhaustedError,
    grant_attempt,
    override_exam,
    run_exam,
    start_exam,
    submit_exam,
)
from trainer.exam.seal import LEDGER_NAME, ExamKeyError, Ledger, compute_seal, exam_key
from trainer.exam.verify import verify_all
from trainer.sessions.model import canonical_json
from trainer.sessions.store import SessionStore

PAPER = """\
id: unit_fixed
title: 单元测试固定试卷
questions: [payment, reception]
attempts: 1
pass_mark: 80
feedback: end
"""

HIDDEN_PAPER = """\
id: unit_hidden
title: 单元测试抽题试卷
pool: [payment, complaint, wrong_number, reception]
draw: 2
attempts: 2
feedback: hidden
"""


@pytest.fixture()
def env(tmp_path: Path):
    settings = settings_for(tmp_path / "sessions")
    return settings, SessionStore(settings.sessions_dir), small_library()


def answers(n_questions: int, seed: int = 0, turns: int = 2) -> list[list[bytes]]:
    return [[wav_bytes(seed * 100 + q * 10 + t) for t in range(turns)] for q in range(n_questions)]


def run(env, candidate: str, paper_text: str = PAPER, marker: FakeMarker | None = None, seed: int = 0):
    settings, store, library = env
    paper = parse_paper(paper_text)
    return run_exam(paper, candidate, f"考生{candidate}", answers(paper.question_count, seed), settings, library, marker or FakeMarker(), store)


def session_json(store: SessionStore, session_id: str) -> Path:
    return store.session_dir(session_id) / "session.json"


def rewrite_record(path: Path, change) -> None:
    data = json.loads(path.read_bytes())
    change(data)
    path.write_bytes(canonical_json(data))


def test_full_exam_is_sealed_and_verifies(env):
    settings, store, _ = env
    result = run(env, "E1001")
    assert result.passed and result.total == 90.0
    assert [q.scenario_id for q in result.questions] == ["payment", "reception"]
    entries = Ledger(store.root).entries()
    assert [e["kind"] for e in entries] == ["start", "result"]
    assert entries[1]["prev"] == entries[0]["seal"]
    record = store.load(result.questions[0].session_id)
    assert record.kind == "exam" and record.extra["exam"]["exam_id"] == result.exam_id
    assert [t.prompt for t in record.turns] == ["", ""]  # 2 turns for 3 steps: turns are not steps
    report = verify_all(store, exam_key(settings))
    assert report.ok, report.problems
    assert report.exams == 1 and report.sessions == 2 and report.head_seq == 2
    # The key is not stored anywhere under the sessions root.
    for path in store.root.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("part", ["audio", "transcript", "score", "name", "raw_byte"])
def test_tampering_with_any_part_of_a_record_is_named(env, part):
    settings, store, _ = env
    other = run(env, "E2001", seed=1)
    result = run(env, "E2002", seed=2)
    target = result.questions[1].session_id
    path = session_json(store, target)
    if part == "audio":
        audio = store.audio_path(target, 2)
        data = bytearray(audio.read_bytes())
        data[100] ^= 0x01  # one bit of one sample
        audio.write_bytes(bytes(data))
    elif part == "transcript":
        rewrite_record(path, lambda d: d["turns"][0]["transcript"].update(text="您好，请问办理什么业务"))
    elif part == "score":
        rewrite_record(path, lambda d: d["score"]["score"].update(total=99.0))
    elif part == "name":
        rewrite_record(path, lambda d: d.update(trainee_name="别人"))
    else:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x20
        path.write_bytes(bytes(data))
    report = verify_all(store, exam_key(settings))
    assert not report.ok
    assert target in report.named and result.exam_id in report.named
    assert other.exam_id not in report.named and other.questions[0].session_id not in report.named
    assert all(p.kind == "changed" for p in report.problems)
    expected_words = {"audio": "录音", "transcript": "识别文字", "score": "评分", "name": "其他内容", "raw_byte": ""}[part]
    assert any(expected_words in p.message for p in report.problems)


def test_deleted_session_is_named(env):
    settings, store, _ = env
    result = run(env, "E3001")
    store.delete(result.questions[0].session_id, allow_exam=True)
    report = verify_all(store, exam_key(settings))
    assert [p.kind for p in report.problems] == ["missing"]
    assert report.problems[0].session_id == result.questions[0].session_id


def _ledger_lines(store: SessionStore) -> list[bytes]:
    return (store.root / LEDGER_NAME).read_bytes().splitlines(keepends=True)


def test_deleted_ledger_entry_is_detected_and_its_sessions_named(env):
    settings, store, _ = env
    results = [run(env, f"E40{i}", seed=i) for i in range(3)]
    lines = _ledger_lines(store)
    assert len(lines) == 6
    del lines[3]  # the result entry of the second exam
    (store.root / LEDGER_NAME).write_bytes(b"".join(lines))
    report = verify_all(store, exam_key(settings))
    kinds = {p.kind for p in report.problems}
    assert "deleted" in kinds and "unsealed" in kinds
    deleted = next(p for p in report.problems if p.kind == "deleted")
    assert "第 4 号" in deleted.message
    unsealed = {p.session_id for p in report.problems if p.kind == "unsealed"}
    assert unsealed == {q.session_id for q in results[1].questions}
    assert results[1].exam_id in report.named


def test_cutting_off_the_last_result_leaves_its_sessions_unsealed(env):
    settings, store, _ = env
    run(env, "E4101")
    last = run(env, "E4102", seed=1)
    lines = _ledger_lines(store)
    (store.root / LEDGER_NAME).write_bytes(b"".join(lines[:-1]))
    report = verify_all(store, exam_key(settings))
    assert {p.session_id for p in report.problems if p.kind == "unsealed"} == {q.session_id for q in last.questions}
    assert report.unfinished == (last.exam_id,)


def test_reordered_ledger_entries_are_detected(env):
    settings, store, _ = env
    first = run(env, "E5001")
    second = run(env, "E5002", seed=1)
    lines = _ledger_lines(store)
    lines[1], lines[3] = lines[3], lines[1]  # swap the two results
    (store.root / LEDGER_NAME).write_bytes(b"".join(lines))
    report = verify_all(store, exam_key(settings))
    assert {p.kind for p in report.problems} == {"reordered"}
    assert {first.exam_id, second.exam_id} <= set(report.named)


def test_edited_or_inserted_ledger_entry_is_detected(env):
    settings, store, _ = env
    run(env, "E6001")
    failing = run(env, "E6002", marker=FakeMarker(default=50.0), seed=1)
    assert not failing.passed
    lines = _ledger_lines(store)
    entry = json.loads(lines[3])
    entry["body"]["verdict"]["passed"] = True  # someone turns a fail into a pass
    lines[3] = canonical_json(entry) + b"\n"
    (store.root / LEDGER_NAME).write_bytes(b"".join(lines))
    report = verify_all(store, exam_key(settings))
    assert [p.kind for p in report.problems] == ["forged"]
    assert report.problems[0].exam_id == failing.exam_id and report.problems[0].line == 4

    # An entry sealed with another key inserted in the middle.
    lines = _ledger_lines(store)
    lines[3] = lines[3].replace(b'"passed":true', b'"passed":false', 1)
    fake = json.loads(lines[3])
    fake["seq"] = 3
    fake["seal"] = compute_seal(fake, b"attacker-key-attacker-key")
    lines.insert(2, canonical_json(fake) + b"\n")
    (store.root / LEDGER_NAME).write_bytes(b"".join(lines))
    kinds = [p.kind for p in verify_all(store, exam_key(settings)).problems]
    assert "wrong_key" in kinds or "forged" in kinds
    assert len(kinds) >= 2


def test_reformatted_ledger_line_is_reported(env):
    settings, store, _ = env
    run(env, "E6101")
    lines = _ledger_lines(store)
    lines[1] = json.dumps(json.loads(lines[1]), ensure_ascii=False, indent=None).encode() + b"\n"
    (store.root / LEDGER_NAME).write_bytes(b"".join(lines))
    report = verify_all(store, exam_key(settings))
    assert [p.kind for p in report.problems] == ["changed"] and report.problems[0].line == 2


def test_wrong_key_is_told_apart(env):
    settings, store, _ = env
    run(env, "E7001")
    report = verify_all(store, b"another-key-another-key")
    assert [p.kind for p in report.problems] == ["wrong_key"]
    assert "TRAINER_EXAM_KEY" in report.problems[0].message


def test_second_attempt_refused_when_paper_allows_one(env):
    settings, store, library = env
    run(env, "E8001")
    marker = FakeMarker()
    with pytest.raises(AttemptsExhaustedError) as err:
        run(env, "E8001", marker=marker, seed=5)
    assert "E8001" in err.value.user_message and "1 次" in err.value.user_message
    assert marker.calls == []  # refused before any marking
    # A started but never submitted attempt counts too.
    start_exam(parse_paper(PAPER), "E8002", "", settings, library, store)
    with pytest.raises(AttemptsExhaustedError):
        start_exam(parse_paper(PAPER), "E8002", "", settings, library, store)
    # An instructor can grant one more attempt; it is a sealed entry.
    grant_attempt(settings, parse_paper(PAPER), "E8001", "王老师", "设备故障，准予补考", store=store)
    again = run(env, "E8001", seed=6)
    assert again.attempt == 2
    with pytest.raises(AttemptsExhaustedError):
        run(env, "E8001", seed=7)
    assert verify_all(store, exam_key(settings)).ok


def test_two_attempts_allowed_when_paper_says_so(env):
    first = run(env, "E8101", HIDDEN_PAPER)
    second = run(env, "E8101", HIDDEN_PAPER, seed=1)
    assert (first.attempt, second.attempt) == (1, 2)
    assert first.draw == second.draw  # same candidate, same paper version: same questions
    with pytest.raises(AttemptsExhaustedError):
        run(env, "E8101", HIDDEN_PAPER, seed=2)


def test_concurrent_starts_cannot_exceed_attempts(env):
    settings, store, library = env
    paper = parse_paper(PAPER)
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            start_exam(paper, "E8201", "", settings, library, store)
            outcomes.append("ok")
        except AttemptsExhaustedError:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] + ["refused"] * 5
    assert verify_all(store, exam_key(settings)).ok


def test_app_flow_start_then_submit_once(env):
    settings, store, library = env
    plan = start_exam(parse_paper(PAPER), "E9001", "张三", settings, library, store)
    assert plan.start_seq == 1 and [q.scenario_id for q in plan.questions] == ["payment", "reception"]
    assert plan.questions[0].prompts == ("", "我来交电费。", "")
    # What the app shows carries no standard phrase (no hints during the exam).
    shown = json.dumps([dataclasses.asdict(q) for q in plan.questions], ensure_ascii=False)
    assert "您好" not in shown and "请慢走" not in shown
    with pytest.raises(ExamError):
        submit_exam(plan, answers(1), settings, library, FakeMarker(), store)  # one question missing
    result = submit_exam(plan, answers(2), settings, library, FakeMarker(), store)
    assert result.passed
    with pytest.raises(ExamError) as err:
        submit_exam(plan, answers(2, seed=3), settings, library, FakeMarker(), store)
    assert "重复" in err.value.user_message
    assert verify_all(store, exam_key(settings)).ok


def test_feedback_hidden_when_paper_says_so(env):
    hidden = run(env, "E9101", HIDDEN_PAPER, marker=FakeMarker(default=60.0))
    view = hidden.candidate_view()
    assert view["passed"] is False and view["feedback_hidden"] is True
    for key in ("total", "dimensions", "questions", "reasons", "pass_mark"):
        assert key not in view
    # the total must not leak; ids, times and the seal's hex fingerprint may contain "60" by chance
    shown_text = json.dumps(view, ensure_ascii=False)
    for incidental in (view["exam_id"], view["finished_at"], view["seal_fingerprint"]):
        shown_text = shown_text.replace(incidental, "")
    assert "60" not in shown_text
    shown = run(env, "E9102", PAPER, marker=FakeMarker(default=60.0)).candidate_view()
    assert shown["feedback_hidden"] is False and shown["total"] == 60.0
    assert shown["questions"][0]["dimensions"] == {"coverage": 60.0, "order": 60.0, "politeness": 60.0}
    assert any("及格线" in r for r in shown["reasons"])


def test_forbidden_phrase_fails_whatever_the_total(env):
    marker = FakeMarker({"payment": score_dict(95.0, forbidden=["喂"])})
    result = run(env, "E9201", marker=marker)
    assert result.total >= 90 and not result.passed
    assert any("一票否决" in r and "喂" in r for r in result.verdict.reasons)


def test_override_is_a_new_sealed_entry(env):
    settings, store, _ = env
    result = run(env, "E9301", marker=FakeMarker(default=70.0))
    assert not result.passed
    override_exam(settings, result.exam_id, "李考评", True, "录音设备故障导致识别错误，人工复核通过", total=85.0, store=store)
    reloaded = load_result(store, result.exam_id)
    assert reloaded.passed and reloaded.total == 85.0
    assert reloaded.verdict.passed is False and reloaded.verdict.total == 70.0  # the machine verdict stays
    assert [e["kind"] for e in Ledger(store.root).entries()] == ["start", "result", "override"]
    assert verify_all(store, exam_key(settings)).ok
    rows = roster(store.root, key=exam_key(settings))
    assert rows[0].overridden and rows[0].passed and not rows[0].machine_passed and rows[0].seal_ok
    with pytest.raises(ExamError):
        override_exam(settings, result.exam_id, "李考评", True, "  ", store=store)


def test_missing_or_short_key_gives_chinese_instructions(env, tmp_path):
    _, store, library = env
    settings = settings_for(tmp_path / "s2", key="short")
    with pytest.raises(ExamKeyError) as err:
        run_exam(parse_paper(PAPER), "E9401", "", answers(2), settings, library, FakeMarker(), store)
    assert "TRAINER_EXAM_KEY" in err.value.user_message and "exam_key" in err.value.user_message
    assert not (store.root / LEDGER_NAME).exists()
    # No key at all while the ledger already holds entries: a new key would make them unverifiable.
    run(env, "E9402")
    keyless = dataclasses.replace(env[0], exam_key="", exam_key_file=tmp_path / "none.key")
    with pytest.raises(ExamKeyError) as err:
        run_exam(parse_paper(PAPER), "E9403", "", answers(2), keyless, library, FakeMarker(), store)
    assert "TRAINER_EXAM_KEY" in err.value.user_message and "exam_key_file" in err.value.user_message


def test_torn_last_line_is_repaired_by_the_next_append_and_chain_continues(env):
    settings, store, _ = env
    run(env, "E9501")
    with open(store.root / LEDGER_NAME, "ab") as fh:
        fh.write(b'{"seq":3,"kind":"sta')  # a write cut off by a crash
    assert verify_all(store, exam_key(settings)).torn_tail is not None
    later = run(env, "E9502", seed=1)
    report = verify_all(store, exam_key(settings))
    assert report.ok and report.torn_tail is None  # the next append cut it off and recorded that
    assert [e["kind"] for e in Ledger(store.root).entries()].count("repair") == 1
    assert later.exam_id in [r.exam_id for r in exam_results(store.root)]


def test_roster_filters(env):
    settings, store, _ = env
    run(env, "E9601")
    run(env, "E9602", HIDDEN_PAPER, marker=FakeMarker(default=50.0))
    assert [r.candidate_id for r in roster(store.root)] == ["E9602", "E9601"]
    assert [r.candidate_id for r in roster(store.root, paper_id="unit_fixed")] == ["E9601"]
    assert [r.candidate_id for r in roster(store.root, passed=False)] == ["E9602"]
    assert [r.candidate_id for r in roster(store.root, candidate="考生E9601")] == ["E9601"]


def test_flipping_any_byte_of_a_sealed_session_or_the_ledger_is_detected(env):
    settings, store, _ = env
    result = run(env, "E9701")
    key = exam_key(settings)
    target = result.questions[0].session_id
    files = [session_json(store, target), store.audio_path(target, 1), store.root / LEDGER_NAME]
    for path in files:
        original = path.read_bytes()
        step = max(1, len(original) // 60)
        for position in range(0, len(original), step):
            data = bytearray(original)
            data[position] ^= 0x04
            path.write_bytes(bytes(data))
            report = verify_all(store, key)
            assert not report.ok, (path.name, position)
            assert result.exam_id in report.named or any(p.kind == "broken" for p in report.problems), (path.name, position)
        path.write_bytes(original)
    assert verify_all(store, key).ok


def test_check_answer_accepts_a_recording_and_names_a_broken_one(env):
    from trainer.errors import AudioError
    from trainer.exam.marking import check_answer

    settings, _, _ = env
    assert check_answer(wav_bytes(1, seconds=1.5), settings) == pytest.approx(1.5)
    with pytest.raises(AudioError):
        check_answer(b"RIFF\x00\x00garbage", settings, "第 3 段")
