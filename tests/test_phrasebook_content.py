"""The shipped phrasebooks: they validate, hold the required scenarios and steps, and are consistent."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer.config import SHIPPED_PHRASEBOOKS, Settings
from trainer.phrasebook import Library, check_paths, load_library
from trainer.phrasebook.model import ROLES, SEVERITIES

REQUIRED = {
    "payment": ["greet", "ask_business", "offer_seat", "ask_account", "state_bill", "ask_payment_method", "sing_receive", "sing_change", "offer_more_help", "farewell"],
    "complaint": ["greet", "soothe", "apologize", "listen_confirm", "collect_contact", "promise_deadline", "thank_feedback", "farewell"],
    "wrong_number": ["answer_greet", "inform_wrong_number", "redirect", "farewell"],
    "business": ["greet", "offer_seat", "ask_need", "verify_identity", "inform_materials", "receive_documents", "ask_wait", "return_documents", "request_signature", "offer_more_help", "farewell"],
    "fault_report": ["answer_greet", "ask_fault_details", "collect_address_contact", "promise_dispatch", "inform_arrival_time", "farewell"],
    "reception": ["greet_welcome", "ask_need", "guide_queue", "farewell"],
}

# Every 服务忌语 of the seeds (燃气客服中心管理办法 1.3.3) and common ones of the trade, as canonical text.
SEED_FORBIDDEN = [
    "喂", "我就这个态度", "不知道", "随便", "你懂不懂", "你问我我问谁", "你是谁", "你找谁", "这是领导定的",
    "这不是我的事情", "该下班了你快点", "你去找领导吧", "你去投诉吧", "我们也没有办法", "没上班等会儿再说",
    "这事解决不了", "我也没办法", "这是规定", "着什么急", "不是写着吗", "刚才不是告诉你了吗", "听懂了吗",
]


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library([SHIPPED_PHRASEBOOKS], Settings().placeholders)


def test_shipped_phrasebooks_have_no_problems(library: Library) -> None:
    assert library.problems == (), "\n".join(map(str, library.problems))
    assert check_paths([SHIPPED_PHRASEBOOKS], Settings().placeholders) == []
    assert sorted(p.name for p in SHIPPED_PHRASEBOOKS.glob("*.yaml")) == [
        "forbidden.yaml", "gas.yaml", "lexicon.yaml", "power_counter.yaml", "power_field.yaml",
        "power_guide.yaml", "power_hotline.yaml", "water.yaml",
    ]


@pytest.mark.parametrize("scenario_id", sorted(REQUIRED))
def test_required_scenario_has_its_steps_in_order(library: Library, scenario_id: str) -> None:
    ids = [step.id for step in library.scenario(scenario_id).steps]
    positions = [ids.index(step_id) for step_id in REQUIRED[scenario_id] if step_id in ids]
    missing = [s for s in REQUIRED[scenario_id] if s not in ids]
    assert not missing, f"{scenario_id} lacks {missing}"
    assert positions == sorted(positions), f"{scenario_id} steps out of order: {ids}"


def test_payment_declares_the_amount_slots(library: Library) -> None:
    payment = library.scenario("payment")
    assert [s.name for s in payment.step("state_bill").slots] == ["bill"]
    assert [s.name for s in payment.step("sing_receive").slots] == ["received"]
    assert [s.name for s in payment.step("sing_change").slots] == ["change"]
    assert payment.checks_amounts
    assert all(s.kind == "amount" for step in payment.steps for s in step.slots)
    assert ("收",) in payment.step("sing_receive").keywords
    assert all("发票" in text for text in payment.step("sing_change").all_phrasings)  # 唱付: change and invoice
    assert [s.name for s in library.scenario("complaint").step("promise_deadline").slots] == ["days"]


def test_enough_scenarios_across_roles_domains_and_difficulties(library: Library) -> None:
    scenarios = list(library.scenarios.values())
    assert len(scenarios) >= len(REQUIRED) + 6
    assert {s.role for s in scenarios} == set(ROLES)
    assert {"power", "gas", "water"} <= {s.domain for s in scenarios}
    assert {s.difficulty for s in scenarios} == {1, 2, 3}


def test_every_step_is_usable_for_practice(library: Library) -> None:
    for scenario in library.scenarios.values():
        assert scenario.brief and scenario.title
        assert any(step.required for step in scenario.steps)
        for step in scenario.steps:
            where = f"{scenario.id}.{step.id}"
            assert step.customer, f"{where}: no customer line"
            assert step.tip, f"{where}: no coaching tip"
            assert step.keywords or step.slots, f"{where}: nothing essential to listen for (no key words, no slots)"
            assert len(step.all_phrasings) >= 3, f"{where}: fewer than three accepted wordings"
            assert all(len(p) <= 60 for p in step.all_phrasings), f"{where}: phrasings are short spoken sentences"
            assert "{" not in step.tip + step.customer + step.title, f"{where}: unfilled placeholder"


def test_forbidden_list_covers_the_seeds(library: Library) -> None:
    assert len(library.forbidden) >= 30
    texts = {text for entry in library.forbidden for text in entry.all_phrasings}
    assert [p for p in SEED_FORBIDDEN if p not in texts] == []
    for entry in library.forbidden:
        assert entry.severity in SEVERITIES and entry.reason and entry.replacement
    ids = [e.id for e in library.forbidden] + [e.id for s in library.scenarios.values() for e in s.forbidden]
    assert len(ids) == len(set(ids))


def _hits(library: Library, scenario_id: str, text: str) -> list[str]:
    """Forbidden wordings found in `text` that no exception of their entry covers."""
    found = []
    for entry in library.forbidden_for(scenario_id):
        for wording in entry.all_phrasings:
            if wording in text and not any(wording in exc and exc in text for exc in entry.exceptions):
                found.append(f"{entry.id}:{wording}")
    return found


def test_standard_phrasings_never_contain_forbidden_phrases(library: Library) -> None:
    """No false alarm on the library's own polite speech (exceptions must cover any overlap)."""
    alarms = [
        f"{scenario.id}.{step.id}: {text} -> {_hits(library, scenario.id, text)}"
        for scenario in library.scenarios.values()
        for step in scenario.steps
        for text in step.all_phrasings
        if _hits(library, scenario.id, text)
    ]
    assert alarms == []


def test_replacements_are_clean(library: Library) -> None:
    for scenario in library.scenarios.values():
        for entry in library.forbidden_for(scenario.id):
            assert not _hits(library, scenario.id, entry.replacement), f"{entry.id} replacement is itself forbidden"


def test_exceptions_keep_polite_speech_clean(library: Library) -> None:
    polite = ["不知道您今天方便吗？", "如果您有不清楚的地方，请随时问我。", "我们不会随便停电的。", "请问您找谁？"]
    for text in polite:
        assert _hits(library, "payment", text) == [], text
    assert _hits(library, "payment", "我也不知道。")
    assert _hits(library, "payment", "喂，你找谁？")


def test_lexicon(library: Library) -> None:
    lexicon = library.lexicon
    assert {"您好", "请", "谢谢", "对不起", "再见"} <= set(lexicon.politeness_words)
    assert {"嗯", "啊", "那个", "就是说"} <= set(lexicon.fillers)
    assert (lexicon.rate_min, lexicon.rate_max) == (150, 220)
    assert lexicon.long_pause_seconds > 0


def test_company_placeholder_is_filled_from_config(tmp_path: Path) -> None:
    library = load_library([SHIPPED_PHRASEBOOKS], {"company": "城南供电公司", "hotline": "12345"})
    greet = library.scenario("wrong_number").step("answer_greet")
    assert "城南供电公司" in greet.expected
    assert any("城南供电公司" in group for group in greet.keywords)
    assert "12345" in library.scenario("fault_report").step("answer_greet").expected


def test_pointing_to_the_paper_is_no_reproach() -> None:
    """上面写着呢 / 单上写着呢 tells where to look; the 忌语 is the reproach 不是写着吗 (every seed-only
    labeller held so: it was a false alarm in sets G and H)."""
    from trainer.pipeline import score_text

    settings = Settings()
    pointing = score_text(["结清单上写着呢，截止上个月都交清了。", "您看，上面写着呢，这一栏就是。"], "business", settings)
    assert [h.id for h in pointing.forbidden] == []
    reproach = score_text(["单子上不是写着吗？自己不会看吗？"], "business", settings)
    assert "its_written" in [h.id for h in reproach.forbidden]
