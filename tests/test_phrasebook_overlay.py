"""Learning from instructors: phrasings proposed from reviews, approved or rejected, merged by the loader."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from trainer.asr.base import Transcript
from trainer.cli import main
from trainer.config import Settings, load_settings
from trainer.phrasebook.loader import library_cache_key, library_from_settings, load_library
from trainer.phrasebook.overlay import (
    MAX_TEXT_CHARS,
    Overlay,
    OverlayError,
    Proposal,
    clean_text,
    keyword_gaps,
    proposal_id,
    text_problem,
)
from trainer.sessions import Review, SessionRecord, SessionStore, StepVerdict, turn_records, utc_now
from trainer.sessions.proposals import ReviewCandidate, review_candidates, store_candidates
from test_sessions_support import audio_for, make_record, make_score

DEMO = """\
scenarios:
  - id: overlay_demo
    title: 演示请稍候
    role: counter
    domain: general
    difficulty: 1
    brief: 客户来办业务，请客户稍候。
    steps:
      - id: greet
        title: 问候
        customer: 你好。
        phrases:
          - 您好！
        keywords:
          - [您好, 你好]
      - id: ask_wait
        title: 请客户稍候
        customer: 我要办业务。
        phrases:
          - 请您稍等一下。
      - id: farewell
        title: 道别
        customer: 谢谢。
        phrases:
          - 请慢走，再见！
        keywords:
          - [慢走, 再见]
"""
NEW_WORDS = "麻烦您在这边坐会儿，马上就好"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Our own config file, a tiny extra phrasebook, sessions in tmp_path; the overlay beside them."""
    config = tmp_path / "trainer.toml"
    config.write_text("pass_mark = 80\n", encoding="utf-8")
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "demo.yaml").write_text(DEMO, encoding="utf-8")
    monkeypatch.setenv("TRAINER_CONFIG", str(config))
    monkeypatch.setenv("TRAINER_PHRASEBOOK_DIRS", str(tmp_path / "book"))
    monkeypatch.setenv("TRAINER_SESSIONS_DIR", str(tmp_path / "sessions"))
    monkeypatch.delenv("TRAINER_PHRASEBOOK_OVERLAY_DIR", raising=False)
    return tmp_path


def _candidate(step_id: str = "ask_wait", text: str = NEW_WORDS, session_id: str = "20261123T063015Z-E1024-a1b2c3", status: str = "missed") -> ReviewCandidate:
    return ReviewCandidate("overlay_demo", step_id, session_id, 2, status, text, "王老师", "学员请客户稍候了")


def _score(texts: list[str]) -> dict:
    code_settings = load_settings()
    from trainer.pipeline import score_text

    return score_text(texts, "overlay_demo", code_settings).to_dict()


def _statuses(capsys: pytest.CaptureFixture[str], *texts: str) -> dict[str, str]:
    """`trainer score --text …` as a fresh process runs it (trainer.pipeline keeps a per-process
    library cache keyed on the phrasebook files only)."""
    from trainer import pipeline

    pipeline._library_cache.clear()
    argv = ["score", "--scenario", "overlay_demo", "--json"]
    for text in texts:
        argv += ["--text", text]
    assert main(argv) == 0
    # an uncertain decision is marked with "?" (hit? = performed in the machine's best guess, not sure)
    return {s["id"]: s["status"] + ("" if s["certain"] else "?") for s in json.loads(capsys.readouterr().out)["steps"]}


# --------------------------------------------------------------------------- settings and text


def test_overlay_dir_setting(tmp_path: Path) -> None:
    assert Settings(sessions_dir=tmp_path / "s").overlay_dir == tmp_path / "phrasebook_overlay"
    assert Settings(phrasebook_overlay_dir=tmp_path / "o").overlay_dir == tmp_path / "o"
    config = tmp_path / "trainer.toml"
    config.write_text('phrasebook_overlay_dir = "centre/overlay"\n', encoding="utf-8")
    assert load_settings({"TRAINER_CONFIG": str(config)}).overlay_dir == (tmp_path / "centre" / "overlay").resolve()
    env = {"TRAINER_CONFIG": str(config), "TRAINER_PHRASEBOOK_OVERLAY_DIR": str(tmp_path / "env")}
    assert load_settings(env).overlay_dir == tmp_path / "env"


def test_clean_text_and_problems() -> None:
    assert clean_text("  您好 请 坐 ，") == "您好请坐"  # Vosk's spaces between words go, edge punctuation goes
    assert clean_text("「請您稍等。」") == "请您稍等"  # simplified Chinese
    assert clean_text("……麻烦您 OK 稍等一下！！") == "麻烦您 OK 稍等一下"
    assert clean_text("您好，请坐。") == "您好，请坐"  # inner punctuation is kept
    assert "为空" in text_problem(clean_text(" 。！ "))
    long = "请" * (MAX_TEXT_CHARS + 1)
    assert "过长" in text_problem(long) and str(MAX_TEXT_CHARS) in text_problem(long)
    assert text_problem("请" * MAX_TEXT_CHARS) == ""
    assert "花括号" in text_problem("收您{received}元")


# --------------------------------------------------------------------------- proposals from a review


def test_review_candidates_pick_the_right_turn(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    record = make_record(score=make_score({"seat": "missed", "farewell": "partial", "confirm": "missed", "receive": "partial"}))
    record = store.save(record, audio_for(record))
    store.add_review(record.id, Review(record.id, "王老师", steps={
        "greet": StepVerdict("disagree", "其实没问好"),  # hit flipped: no proposal
        "seat": StepVerdict("disagree", "说了请坐"),  # missed, position 2 -> turn 2
        "confirm": StepVerdict("agree"),  # missed and agreed: nothing
        "farewell": StepVerdict("agree"),
    }))
    # a later review decides the steps it names; earlier verdicts on other steps stand
    store.add_review(record.id, Review(record.id, "李老师", steps={"farewell": StepVerdict("disagree", "道别了")}))
    candidates, skipped = review_candidates(record, store.reviews(record.id))
    assert skipped == []
    got = {c.step_id: c for c in candidates}
    assert set(got) == {"seat", "farewell"}
    assert (got["seat"].turn, got["seat"].machine_status, got["seat"].reviewer) == (2, "missed", "王老师")
    assert got["seat"].text == record.turns[1].transcript["text"]
    assert (got["farewell"].turn, got["farewell"].machine_status, got["farewell"].reviewer) == (3, "partial", "李老师")
    assert got["farewell"].review_comment == "道别了"

    # a hit the machine was not sure of proposes its turn's words when the instructor confirms it;
    # a sure hit confirmed, or an unsure one denied, proposes nothing
    unsure_score = make_score()
    for step in unsure_score["steps"]:
        step["certain"] = step["id"] != "confirm"
    unsure = store.save(make_record(trainee_id="E3", score=unsure_score), audio_for(make_record(trainee_id="E3")))
    store.add_review(unsure.id, Review(unsure.id, "王老师", steps={
        "confirm": StepVerdict("agree", "核对了"), "greet": StepVerdict("agree"), "seat": StepVerdict("disagree")}))
    [confirmed], _ = review_candidates(unsure, store.reviews(unsure.id))
    step = next(s for s in unsure_score["steps"] if s["id"] == "confirm")
    assert (confirmed.step_id, confirmed.machine_status, confirmed.turn) == ("confirm", "uncertain", step["turn"])
    assert confirmed.text == unsure.turns[step["turn"] - 1].transcript["text"]

    # a missed step whose answering turn does not exist proposes nothing, with a reason
    short = make_record(trainee_id="E2", turns=2, score=make_score({"farewell": "missed"}))
    short = store.save(short, audio_for(short))
    store.add_review(short.id, Review(short.id, "王老师", steps={"farewell": StepVerdict("disagree")}))
    candidates, skipped = review_candidates(short, store.reviews(short.id))
    assert candidates == [] and "只有 2 轮" in skipped[0].reason

    # the whole store, through the index; known steps are not proposed again
    found, skips = store_candidates(store)
    assert {(c.session_id, c.step_id) for c in found} == {(record.id, "seat"), (record.id, "farewell"), (unsure.id, "confirm")}
    assert len(skips) == 1
    found, _ = store_candidates(store, lambda sid, step: step in ("seat", "confirm"))
    assert [c.step_id for c in found] == ["farewell"]


def test_propose_is_idempotent_and_validated(env: Path) -> None:
    overlay = Overlay(env / "overlay")
    library = library_from_settings(load_settings())
    first = overlay.propose(_candidate(), library)
    assert first.created and first.proposal is not None
    proposal = first.proposal
    assert proposal.id == proposal_id(proposal.session_id, "ask_wait") and proposal.status == "pending"
    assert proposal.text == NEW_WORDS and proposal.reviewer == "王老师"
    # the file is the canonical JSON of the proposal, nothing else is left in the folder
    assert sorted(p.name for p in (env / "overlay").iterdir()) == [f"{proposal.id}.json"]
    assert (env / "overlay" / f"{proposal.id}.json").read_bytes() == proposal.canonical_bytes()
    again = overlay.propose(_candidate(text="别的话"), library)
    assert not again.created and again.proposal == proposal  # one proposal per session step
    assert len(overlay.read().proposals) == 1

    too_long = overlay.propose(_candidate(step_id="farewell", text="请" * 61), library)
    assert too_long.proposal is None and "过长" in too_long.reason
    empty = overlay.propose(_candidate(step_id="farewell", text="。。"), library)
    assert empty.proposal is None and "为空" in empty.reason
    known = overlay.propose(_candidate(step_id="farewell", text="请慢走，再见！"), library)
    assert known.proposal is None and "已有" in known.reason
    gone = overlay.propose(_candidate(step_id="no_such_step"), library)
    assert gone.proposal is None and "不在当前话术库" in gone.reason
    assert len(overlay.read().proposals) == 1


# --------------------------------------------------------------------------- approve / reject


def test_approve_and_reject(env: Path) -> None:
    overlay = Overlay(env / "overlay")
    library = library_from_settings(load_settings())
    pid = overlay.propose(_candidate(), library).proposal.id  # type: ignore[union-attr]
    with pytest.raises(OverlayError, match="过长"):
        overlay.approve(pid, "王老师", text="请" * 61, library=library)
    with pytest.raises(OverlayError, match="审核人"):
        overlay.approve(pid, "  ", library=library)
    with pytest.raises(OverlayError, match="已有"):
        overlay.approve(pid, "王老师", text="请您稍等一下。", library=library)
    assert overlay.get(pid).status == "pending"  # failed approvals change nothing

    approved = overlay.approve(pid, "王老师", text=" 麻烦您在这边坐会儿。 ", library=library)
    assert approved.status == "approved" and approved.approved_text == "麻烦您在这边坐会儿" and approved.text == NEW_WORDS
    assert approved.decided_by == "王老师" and overlay.get(pid) == approved
    with pytest.raises(OverlayError, match="已采用"):
        overlay.approve(pid, "李老师")

    withdrawn = overlay.reject(pid, "李老师", note="太口语")
    assert withdrawn.status == "rejected" and withdrawn.approved_text == "" and withdrawn.decision_note == "太口语"
    with pytest.raises(OverlayError, match="未采用"):
        overlay.reject(pid, "李老师")
    with pytest.raises(OverlayError, match="找不到编号"):
        overlay.approve("0000abcd", "王老师")
    with pytest.raises(OverlayError, match="格式不正确"):
        overlay.reject("../x", "王老师")
    assert not [p for p in (env / "overlay").iterdir() if p.name.startswith(".tmp-")]


def test_a_failed_write_keeps_the_previous_file(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    overlay = Overlay(env / "overlay")
    pid = overlay.propose(_candidate()).proposal.id  # type: ignore[union-attr]
    before = overlay.path(pid).read_bytes()

    def no_space(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(OverlayError, match="保存审核结果失败"):
        overlay.approve(pid, "王老师")
    assert overlay.path(pid).read_bytes() == before
    assert not [p for p in (env / "overlay").iterdir() if p.name.startswith(".tmp-")]


# --------------------------------------------------------------------------- the loader


def test_approved_phrasing_is_merged_and_scores(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings()
    assert settings.overlay_dir == env / "phrasebook_overlay"
    before = library_from_settings(settings)
    key_before = library_cache_key(settings)
    # the only step found nowhere, with a turn of its own: performed in the machine's guess, not sure
    assert _statuses(capsys, "您好！", NEW_WORDS, "请慢走")["ask_wait"] == "hit?"

    # a practice session scored by the machine, then reviewed: the instructor confirms ask_wait was done
    record = SessionRecord(
        kind="practice", trainee_id="E1024", trainee_name="张三", scenario_id="overlay_demo", scenario_title="演示请稍候",
        started_at=utc_now(), finished_at=utc_now(),
        turns=turn_records(["你好。", "我要办业务。", "谢谢。"], [Transcript(text=t).to_dict() for t in ("您好！", NEW_WORDS, "请慢走")]),
        score=_score(["您好！", NEW_WORDS, "请慢走"]), phrasebook_version=before.version, engine="text", model="",
    )
    store = SessionStore(settings.sessions_dir)
    record = store.save(record, [None, None, None])
    store.add_review(record.id, Review(record.id, "王老师", steps={"ask_wait": StepVerdict("agree", "请客户稍候了")}))

    # `trainer phrasebook proposals` collects it from the review and lists it
    assert main(["phrasebook", "proposals", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    [proposal] = listed["proposals"]
    assert (proposal["step_id"], proposal["text"], proposal["turn"], proposal["status"]) == ("ask_wait", NEW_WORDS, 2, "pending")
    assert proposal["machine_status"] == "uncertain"
    assert main(["phrasebook", "proposals"]) == 0
    assert proposal["id"] in capsys.readouterr().out

    # nothing changes before approval; approval applies at once, and changes the version and cache key
    assert library_from_settings(settings).version == before.version
    assert main(["phrasebook", "approve", proposal["id"], "--by", "王老师"]) == 0
    assert "已采用" in capsys.readouterr().out
    after = library_from_settings(settings)
    step = after.scenario("overlay_demo").step("ask_wait")
    assert step.variants[-1] == NEW_WORDS and step.phrases == ("请您稍等一下。",)
    assert after.version != before.version and library_cache_key(settings) != key_before
    assert after.scenario("payment") == before.scenario("payment")  # other scenarios untouched
    assert _statuses(capsys, "您好！", NEW_WORDS, "请慢走")["ask_wait"] == "hit"
    # the shipped phrasebooks and the centre's YAML are never written
    assert (env / "book" / "demo.yaml").read_text(encoding="utf-8") == DEMO
    assert main(["phrasebook", "proposals"]) == 0
    assert "没有待审核的新说法" in capsys.readouterr().out

    # withdrawing it takes it out again
    assert main(["phrasebook", "reject", proposal["id"], "--by", "李老师"]) == 0
    assert "撤销" in capsys.readouterr().out
    assert library_from_settings(settings).version == before.version
    assert _statuses(capsys, "您好！", NEW_WORDS, "请慢走")["ask_wait"] == "hit?"
    assert main(["phrasebook", "approve", proposal["id"]]) == 2
    assert "不能再采用" in capsys.readouterr().err


def test_malformed_overlay_file_is_reported_and_skipped(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings()
    overlay = Overlay(settings.overlay_dir)
    good = overlay.propose(_candidate()).proposal
    assert good is not None
    overlay.approve(good.id, "王老师")
    (settings.overlay_dir / "broken.json").write_text("{not json", encoding="utf-8")
    wrong = {**good.to_dict(), "id": "0123abcd", "status": "maybe"}
    (settings.overlay_dir / "0123abcd.json").write_text(json.dumps(wrong, ensure_ascii=False), encoding="utf-8")
    (settings.overlay_dir / "deadbeef.json").write_bytes(b"\xff\xfe")

    library = library_from_settings(settings)
    assert NEW_WORDS in library.scenario("overlay_demo").step("ask_wait").variants  # the good one still applies
    assert len(library.scenarios) > 1
    messages = {p.path.name: p.message for p in library.problems}
    assert set(messages) == {"broken.json", "0123abcd.json", "deadbeef.json"}
    assert "本中心新增说法文件有误" in messages["broken.json"] and "JSON" in messages["broken.json"]
    assert "状态“maybe”无效" in messages["0123abcd.json"]
    assert "UTF-8" in messages["deadbeef.json"]
    assert [p.id for p in overlay.read().proposals] == [good.id]

    # `trainer phrasebook check` names the file; `list` still works
    assert main(["phrasebook", "check"]) == 1
    out = capsys.readouterr().out
    assert "broken.json" in out and "本中心新增说法文件有误" in out
    assert main(["phrasebook", "list"]) == 0
    capsys.readouterr()

    # an approved phrasing whose step is gone is reported, not applied
    stale = Proposal(**{**overlay.get(good.id).to_dict(), "id": "00aa11bb", "step_id": "gone"})
    overlay.path("00aa11bb").write_bytes(stale.canonical_bytes())
    problems = [p for p in library_from_settings(settings).problems if p.path.name == "00aa11bb.json"]
    assert problems and "已不在话术库中" in problems[0].message and "reject 00aa11bb" in problems[0].message


def test_overlay_path_that_is_a_file(env: Path) -> None:
    (env / "phrasebook_overlay").write_text("oops", encoding="utf-8")
    library = library_from_settings(load_settings())
    assert "overlay_demo" in library.scenarios
    assert any("不是文件夹" in p.message for p in library.problems)


def test_load_library_alone_ignores_the_overlay(env: Path) -> None:
    overlay = Overlay(load_settings().overlay_dir)
    overlay.approve(overlay.propose(_candidate()).proposal.id, "王老师")  # type: ignore[union-attr]
    plain = load_library([env / "book"], {})
    assert NEW_WORDS not in plain.scenario("overlay_demo").step("ask_wait").variants


def test_keyword_gaps() -> None:
    library = library_from_settings(Settings(sessions_dir=Path("/nonexistent/sessions")))
    step = library.scenario("payment").step("offer_seat")
    assert keyword_gaps(step, "您这边歇会儿") == ["坐"]
    assert keyword_gaps(step, "您先坐一下") == []


def test_a_damaged_file_in_the_proposals_place_is_not_overwritten(env: Path) -> None:
    overlay = Overlay(env / "overlay")
    (env / "overlay").mkdir()
    candidate = _candidate()
    path = overlay.path(proposal_id(candidate.session_id, candidate.step_id))
    path.write_text("{damaged", encoding="utf-8")
    outcome = overlay.propose(candidate)
    assert outcome.proposal is None and path.name in outcome.reason and "JSON" in outcome.reason
    assert path.read_text(encoding="utf-8") == "{damaged"


def test_an_approved_phrasing_without_the_key_words_is_a_hit_as_a_cue(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keyed = DEMO.replace("          - 请您稍等一下。\n", "          - 请您稍等一下。\n        keywords:\n          - [稍等, 稍候]\n")
    (env / "book" / "demo.yaml").write_text(keyed, encoding="utf-8")
    settings = load_settings()
    # no farewell either: two required steps found nowhere, so the free turn is given to neither
    assert _statuses(capsys, "您好！", NEW_WORDS)["ask_wait"] == "missed"
    record = SessionRecord(
        kind="practice", trainee_id="E1024", trainee_name="张三", scenario_id="overlay_demo", scenario_title="演示请稍候",
        started_at=utc_now(), finished_at=utc_now(),
        turns=turn_records(["你好。", "我要办业务。"], [Transcript(text=t).to_dict() for t in ("您好！", NEW_WORDS)]),
        score=_score(["您好！", NEW_WORDS]), phrasebook_version=library_from_settings(settings).version, engine="text", model="",
    )
    store = SessionStore(settings.sessions_dir)
    record = store.save(record, [None, None])
    store.add_review(record.id, Review(record.id, "王老师", steps={"ask_wait": StepVerdict("disagree", "请客户稍候了")}))
    assert main(["phrasebook", "proposals", "--json"]) == 0
    [proposal] = json.loads(capsys.readouterr().out)["proposals"]
    assert proposal["machine_status"] == "missed"
    assert main(["phrasebook", "approve", proposal["id"], "--by", "王老师"]) == 0
    capsys.readouterr()
    step = library_from_settings(settings).scenario("overlay_demo").step("ask_wait")
    assert "麻烦您在这边坐会儿马上就好" in step.cues
    assert _statuses(capsys, "您好！", NEW_WORDS, "请慢走")["ask_wait"] == "hit"
