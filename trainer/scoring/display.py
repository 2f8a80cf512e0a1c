"""How scores read on every screen: one rounding rule, labelled machine vs. instructor scores,
Chinese dimension names, and the coverage scaling of the conduct dimensions stated.

Every page, the CLI, the exports and the exam results format a score with `score_text` (or
store `round_score` in a table cell), so one session never shows 98.7, 99 and 100 at once.
The rule: round half up to one decimal; a whole number drops its ".0" (100, 98.7).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

DIMENSION_LABELS = {
    "coverage": "用语覆盖",
    "order": "顺序",
    "forbidden": "服务忌语",
    "politeness": "礼貌用语",
    "amounts": "唱收唱付",
    "fluency": "流利度",
}
DIMENSION_ORDER = ("coverage", "order", "forbidden", "politeness", "amounts", "fluency")
# Kept in step with scoring/score.py CONDUCT_DIMENSIONS (a test checks): earned in proportion to coverage.
SCALED_DIMENSIONS = ("order", "forbidden", "politeness", "fluency")
MACHINE_LABEL = "机评"
OVERRIDE_LABEL = "教师改判"
SCALING_NOTE = (
    "顺序、服务忌语、礼貌用语、流利度按完成的用语比例折算：括号里是该项本身的得分 × 用语覆盖率。"
    "服务忌语本身 100 分表示没有说服务忌语。"
)


def round_score(value: float | None) -> float | None:
    """A score rounded half up to one decimal (59.95 -> 60.0, never banker's rounding); None stays None."""
    if value is None:
        return None
    return float(Decimal(repr(float(value))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def below_mark(score: float, mark: float) -> bool:
    """The one comparison of a score with a pass mark (or a minimum), made on the score as every screen
    shows it (`round_score`): 79.96 reads "80" and reaches a pass mark of 80; 79.94 reads "79.9" and
    does not. So no trainee sees a total at or above the pass mark next to 未通过."""
    return float(round_score(score) or 0.0) < float(round_score(mark) or 0.0)


def score_text(value: float | None, empty: str = "") -> str:
    """The one way a score is written: 98.7, 100, 59.5 (`empty` for None)."""
    rounded = round_score(value)
    if rounded is None:
        return empty
    text = f"{rounded:.1f}"
    return text[:-2] if text.endswith(".0") else text


def passed_label(value: bool | None) -> str:
    """通过 / 未通过 for a pass/fail result ("" when none was given)."""
    return "" if value is None else ("通过" if value else "未通过")


def machine_and_override(machine: float | None, override: float | None = None, overridden: bool = False) -> str:
    """'机评 98.7 分' or '机评 98.7 分 · 教师改判 100 分': both, labelled, never one silently replacing the other."""
    text = f"{MACHINE_LABEL} {score_text(machine, '—')} 分"
    if overridden:
        text += f" · {OVERRIDE_LABEL} {score_text(override, '—')} 分"
    return text


@dataclass(frozen=True)
class DimensionView:
    key: str
    label: str
    value: float  # as scored (conduct dimensions scaled by coverage)
    own: float | None = None  # conduct dimension before scaling (None: not scaled, or coverage 0)
    coverage: float | None = None  # the coverage it was scaled by, when below 100 (None: not scaled)

    @property
    def scaled(self) -> bool:
        return self.coverage is not None

    @property
    def text(self) -> str:
        """'68' or, when scaled, '68（100 × 68%）' ('0（覆盖率 0%，不计）' when nothing was performed)."""
        if not self.scaled:
            return score_text(self.value)
        if self.own is None:
            return f"{score_text(self.value)}（覆盖率 0%，不计）"
        return f"{score_text(self.value)}（{score_text(self.own)} × {score_text(self.coverage)}%）"


def dimension_views(dimensions: Mapping[str, float]) -> list[DimensionView]:
    """The dimensions of a score in a fixed order with Chinese names; a conduct dimension scaled by
    coverage (below 100) carries its own value and the factor, so 服务忌语 68 with no 忌语 said
    reads as 100 × 68%, not as "something forbidden was said"."""
    keys = [k for k in DIMENSION_ORDER if k in dimensions] + sorted(k for k in dimensions if k not in DIMENSION_ORDER)
    coverage = dimensions.get("coverage")
    views = []
    for key in keys:
        value = float(dimensions[key])
        own, factor = None, None
        if key in SCALED_DIMENSIONS and coverage is not None and float(coverage) < 100:
            factor = max(0.0, float(coverage))
            own = min(100.0, value * 100.0 / factor) if factor > 0 else None
        views.append(DimensionView(key, DIMENSION_LABELS.get(key, key), value, own, factor))
    return views


def any_scaled(views: list[DimensionView]) -> bool:
    return any(v.scaled for v in views)


# A counted 服务忌语 the machine is not sure of (ForbiddenHit.certain False): it sends the verdict to
# 待复核, so no screen states it as certain. Every screen names it with these words.
FORBIDDEN_NAME, UNSURE_FORBIDDEN_NAME = "服务忌语", "可能是服务忌语"
UNSURE_FORBIDDEN_NOTE = "机器不能确定，请教师复核"


def stored_certain(entry: Mapping[str, Any]) -> bool:
    """Whether a stored 服务忌语 hit (a score dict's entry) was certain; a score stored before the field
    existed was shown as certain, so it still is."""
    return entry.get("certain", True) is not False


def forbidden_name(certain: bool) -> str:
    """服务忌语, or 可能是服务忌语 for a counted hit the machine is not sure of."""
    return FORBIDDEN_NAME if certain else UNSURE_FORBIDDEN_NAME


def forbidden_quote(phrase: str, heard: str) -> str:
    """A 服务忌语 as the list has it, and what the recogniser heard when that differs:
    「喂」（识别为“为”）. What was heard may be a misrecognition, so it is never shown as the
    trainee's own words on its own."""
    phrase, heard = phrase.strip(), heard.strip()
    if not phrase:
        return f"“{heard}”"
    if not heard or heard == phrase:
        return f"「{phrase}」"
    return f"「{phrase}」（识别为“{heard}”）"


def steps_heard_in(score: Mapping[str, Any], turn: int) -> list[Mapping[str, Any]]:
    """The step entries of a score dict said in turn `turn` (1-based), hit or partial: each step decided
    on that turn, and each performed step heard again there (its `also_heard`), with those words as its
    `matched_text`. What a turn's panel lists and its transcript highlights."""
    found: list[Mapping[str, Any]] = []
    for step in score.get("steps") or []:
        if step.get("turn") == turn and step.get("status") in ("hit", "partial"):
            found.append(step)
            continue
        for again in step.get("also_heard") or ():
            if isinstance(again, Mapping) and again.get("turn") == turn and step.get("status") == "hit":
                found.append({**step, "turn": turn, "matched_text": str(again.get("text") or "")})
                break
    return found
