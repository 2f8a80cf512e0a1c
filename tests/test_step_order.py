"""Order without loss: a step said out of order is performed (and costs order points), never missing."""

from __future__ import annotations

import pytest

from trainer.config import Settings
from trainer.pipeline import score_text


@pytest.mark.parametrize(
    "text",
    ["您好，请坐。请问您办理什么业务？", "您好，请问您办理什么业务？请坐。"],
)
def test_greeting_seat_and_question_are_all_performed_in_either_order(text: str) -> None:
    result = score_text(text, "payment", Settings())
    statuses = {s.id: s.status for s in result.steps}
    assert statuses["greet"] == "hit"
    assert statuses["ask_business"] == "hit"
    assert statuses["offer_seat"] == "hit"
    assert statuses["ask_account"] == "missed"  # its words belong to 二问, not a partial 询问户号


def test_out_of_order_step_is_flagged_and_costs_order_points_only() -> None:
    result = score_text("您好，请坐。请问您办理什么业务？", "payment", Settings())
    late = [s.id for s in result.steps if s.out_of_order]
    assert len(late) == 1 and late[0] in ("ask_business", "offer_seat")
    assert result.score.dimensions["order"] < 100
    in_order = score_text("您好，请问您办理什么业务？请坐。", "payment", Settings())
    assert in_order.score.dimensions["coverage"] == result.score.dimensions["coverage"]
