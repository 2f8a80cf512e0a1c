"""The simulated customer's side of a dialogue: which line comes next, given how the trainee answered.

Pure functions, no I/O. A dialogue is the list of `Cue`s said so far; each answered turn is
scored (over all turns so far) and `next_cue` picks what the customer says next:

    cue = first_cue(scenario)
    while cue is not None:
        ... the customer says cue.line, the trainee answers step cue.step_id ...
        score = score of the turns so far, against `played_scenario(scenario, cues)`
        cue = next_cue(scenario, cues, score)

The step a turn answers may have `reactions` (see `trainer.phrasebook.model.Reactions`):
- `forbidden`: a 忌语 was said in this turn (checked first);
- `missed`: the step has not been performed in any turn so far;
- `well`: the step was performed (status hit) in this very turn.
A reaction's line is said before the next step's own line; a reaction that inserts an extra
step makes that step the next one (its line: the reaction's, else the extra step's own). After
an extra step the script goes on with the step following the last script step answered.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trainer.phrasebook.model import Reaction, Scenario, Step
from trainer.text.stage import STAGE_DIRECTION



@dataclass(frozen=True)
class Cue:
    """One customer turn: the line said and the step the trainee's answer to it should perform."""

    step_id: str
    line: str  # what the customer says ("" = nothing; the trainee opens)
    reaction: str = ""  # "<step id>.<kind>" of the reaction that changed it, "" = as scripted

    def to_dict(self) -> dict[str, str]:
        return {"step": self.step_id, "line": self.line, "reaction": self.reaction}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Cue":
        return cls(str(data.get("step", "")), str(data.get("line", "")), str(data.get("reaction", "")))


def describe_reaction(reaction: Reaction, scenario: Scenario, separator: str = " ") -> str:
    """What a reaction does, for people: “你这什么态度！” 并要求先做「再次致歉安抚」."""
    text = f"“{reaction.line}”" if reaction.line else ""
    if reaction.insert:
        try:
            title = scenario.step(reaction.insert).title
        except KeyError:
            title = reaction.insert
        text += f"{separator if text else ''}并要求先做「{title}」"
    return text


def line_parts(line: str) -> list[tuple[str, bool]]:
    """A customer line cut into (text, is_stage_direction) parts, in order. Stage directions are
    written in full-width brackets, e.g. （递上客户服务卡）: shown, never spoken."""
    parts: list[tuple[str, bool]] = []
    position = 0
    for match in STAGE_DIRECTION.finditer(line):
        if match.start() > position and line[position : match.start()].strip():
            parts.append((line[position : match.start()].strip(), False))
        parts.append((match.group(0), True))
        position = match.end()
    if line[position:].strip():
        parts.append((line[position:].strip(), False))
    return parts


def spoken_text(line: str) -> str:
    """What the customer says aloud: the line without its stage directions ("" when only those)."""
    return "".join(text for text, stage in line_parts(line) if not stage)


def join_lines(*lines: str) -> str:
    return "".join(line for line in lines if line)


def first_cue(scenario: Scenario) -> Cue:
    step = scenario.steps[0]
    return Cue(step.id, step.customer)


def _next_script_step(scenario: Scenario, cues: Sequence[Cue]) -> Step | None:
    """The script step after the last script step answered (the first one when none was)."""
    ids = [s.id for s in scenario.steps]
    answered = [ids.index(c.step_id) for c in cues if c.step_id in ids]
    position = answered[-1] + 1 if answered else 0
    return scenario.steps[position] if position < len(scenario.steps) else None


def reaction_kind(step_id: str, turn: int, score: Mapping[str, Any]) -> str:
    """Which reaction applies to the answer in turn `turn` (1-based) to step `step_id`, from the
    score of the turns so far: "forbidden", "missed", "well" or "" (none)."""
    if any(hit.get("turn") == turn for hit in score.get("forbidden") or ()):
        return "forbidden"
    entry = next((s for s in score.get("steps") or () if s.get("id") == step_id), None)
    if entry is None or entry.get("status") == "missed":
        return "missed"
    if entry.get("status") == "hit" and entry.get("turn") == turn:
        return "well"
    return ""


def next_cue(scenario: Scenario, cues: Sequence[Cue], score: Mapping[str, Any]) -> Cue | None:
    """What the customer says after the trainee answered the last of `cues`; None: the dialogue ends."""
    if not cues:
        return first_cue(scenario)
    if len(cues) > len(scenario.steps) * (1 + len(scenario.extra_steps)):
        return None  # more turns than a validated scenario can have (its inserts form no loop)
    last = cues[-1]
    step = scenario.step(last.step_id)
    kind = reaction_kind(step.id, len(cues), score)
    reaction: Reaction | None = step.reactions.get(kind) if kind else None
    tag = f"{step.id}.{kind}" if reaction is not None else ""
    if reaction is not None and reaction.insert:
        extra = scenario.step(reaction.insert)
        return Cue(extra.id, reaction.line or extra.customer, tag)
    following = _next_script_step(scenario, cues)
    if following is None:
        return None
    return Cue(following.id, join_lines(reaction.line if reaction else "", following.customer), tag)


def played_scenario(scenario: Scenario, cues: Sequence[Cue], pending: Cue | None = None) -> Scenario:
    """The scenario as this dialogue plays it, for scoring: the steps asked so far in their order
    (inserted extra steps included, as required steps; a step asked twice is scored once), then
    the script steps still to come. `pending`: the line the customer has said that was not
    answered (the session ended there): its step counts too, e.g. an apology the customer demanded."""
    cues = [*cues, pending] if pending is not None else list(cues)
    steps: list[Step] = []
    for cue in cues:
        step = scenario.step(cue.step_id)
        if step not in steps:
            steps.append(step)
    following = _next_script_step(scenario, cues)
    if following is not None:
        steps += [s for s in scenario.steps[scenario.steps.index(following):] if s not in steps]
    return dataclasses.replace(scenario, steps=tuple(steps))


def record_dialogue(extra: Mapping[str, Any], turns: int) -> list[tuple[str, str]]:
    """(step id, reaction) of each turn of a stored session, from its `extra["dialogue"]` (the
    `Cue.to_dict()` of each turn); [] for records without it or with a malformed one."""
    items = extra.get("dialogue")
    if not isinstance(items, list) or len(items) != turns or not all(isinstance(i, Mapping) for i in items):
        return []
    return [(str(i.get("step") or ""), str(i.get("reaction") or "")) for i in items]


def remaining_turns(scenario: Scenario, cues: Sequence[Cue], pending: Cue | None) -> int:
    """How many turns the dialogue has if no further reaction inserts a step: the turns so far,
    the pending one, then the script steps after it."""
    if pending is None:
        return len(cues)
    following = _next_script_step(scenario, [*cues, pending])
    after = len(scenario.steps) - scenario.steps.index(following) if following is not None else 0
    return len(cues) + 1 + after
