"""How often the machine and the instructors agree, over reviewed sessions (issue 11, item 6).

Per step of each reviewed session:

- machine decision: the step was performed when its status is "hit" (partial and missed: not);
- instructor decision: the machine decision when the step's verdict is "agree", the opposite when
  it is "disagree". The verdict is the one of the latest review that gives the step a verdict
  (as in lists and exports);
- a step no review gave a verdict counts as "agree" when the latest review's overall opinion is
  "agree" (同意机评: the instructor accepted the machine score as a whole); when it is "override"
  (改判) the step is left out, since the instructor changed the result without saying which steps.

Pass/fail: the machine's `passed` against the effective result after review (the override's
result when the latest review overrides, else the machine's). Sessions without a machine result
are left out.

Agreement is reported as a percentage and as Cohen's kappa, per scenario step and over all steps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from trainer.sessions.model import SessionFilter, SessionSummary, StepRow
from trainer.sessions.store import SessionStore

KAPPA_EPSILON = 1e-12


def cohen_kappa(pairs: Iterable[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's kappa of two raters' labels, one (rater A, rater B) pair per item.

    None when it is undefined: no items, or chance agreement of 1 (both raters gave every
    item the same single label, so there is no variation to agree on beyond chance).
    """
    items = list(pairs)
    n = len(items)
    if n == 0:
        return None
    observed = sum(1 for a, b in items if a == b) / n
    first = Counter(a for a, _ in items)
    second = Counter(b for _, b in items)
    expected = sum(first[label] * second[label] for label in first) / (n * n)
    if expected >= 1.0 - KAPPA_EPSILON:
        return None
    return (observed - expected) / (1.0 - expected)


@dataclass(frozen=True)
class Agreement:
    """Agreement of machine and instructor on yes/no decisions (performed / passed)."""

    both_yes: int = 0
    machine_only: int = 0  # machine yes, instructor no
    instructor_only: int = 0  # machine no, instructor yes
    both_no: int = 0
    kappa: float | None = None

    @classmethod
    def of(cls, pairs: Iterable[tuple[bool, bool]]) -> "Agreement":
        items = [(bool(m), bool(i)) for m, i in pairs]
        counts = Counter(items)
        return cls(
            both_yes=counts[(True, True)],
            machine_only=counts[(True, False)],
            instructor_only=counts[(False, True)],
            both_no=counts[(False, False)],
            kappa=cohen_kappa(items),
        )

    @property
    def n(self) -> int:
        return self.both_yes + self.machine_only + self.instructor_only + self.both_no

    @property
    def agree(self) -> int:
        return self.both_yes + self.both_no

    @property
    def percent(self) -> float | None:
        return 100.0 * self.agree / self.n if self.n else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "agree": self.agree,
            "percent": self.percent,
            "kappa": self.kappa,
            "both_yes": self.both_yes,
            "machine_only": self.machine_only,
            "instructor_only": self.instructor_only,
            "both_no": self.both_no,
        }


@dataclass(frozen=True)
class StepAgreement:
    scenario_id: str
    step_id: str
    expected: str  # the standard phrase, as stored with the score
    agreement: Agreement

    def to_dict(self) -> dict[str, Any]:
        return {"scenario_id": self.scenario_id, "step_id": self.step_id, "expected": self.expected, **self.agreement.to_dict()}


@dataclass(frozen=True)
class AgreementReport:
    sessions: int  # reviewed sessions considered
    steps: tuple[StepAgreement, ...]  # per scenario step: by scenario id, then step order
    overall: Agreement  # every step pair pooled
    passed: Agreement  # pass/fail per session
    skipped_steps: int = 0  # steps without a verdict under an overriding review (left out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "skipped_steps": self.skipped_steps,
            "overall": self.overall.to_dict(),
            "passed": self.passed.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
        }


def step_pair(status: str, verdict: str, review_overall: str) -> tuple[bool, bool] | None:
    """(machine performed, instructor performed) for one step, or None when the step is left out."""
    machine = status == "hit"
    if verdict == "agree":
        return machine, machine
    if verdict == "disagree":
        return machine, not machine
    if review_overall == "agree":
        return machine, machine
    return None


def agreement_report(sessions: Iterable[SessionSummary], steps: Iterable[StepRow]) -> AgreementReport:
    """The report over the reviewed sessions among `sessions`, from their index step rows."""
    reviewed = {s.id: s for s in sessions if s.review_count > 0}
    per_step: dict[tuple[str, str], list[tuple[bool, bool]]] = {}
    expected: dict[tuple[str, str], str] = {}
    order: dict[tuple[str, str], int] = {}
    pooled: list[tuple[bool, bool]] = []
    skipped = 0
    for row in steps:
        summary = reviewed.get(row.session_id)
        if summary is None:
            continue
        pair = step_pair(row.status, row.review_verdict, summary.review_overall)
        if pair is None:
            skipped += 1
            continue
        key = (row.scenario_id, row.step_id)
        per_step.setdefault(key, []).append(pair)
        expected.setdefault(key, row.expected)
        order[key] = min(order.get(key, row.position), row.position)
        pooled.append(pair)
    passes = [
        (s.passed, s.effective_passed)
        for s in reviewed.values()
        if isinstance(s.passed, bool) and isinstance(s.effective_passed, bool)
    ]
    return AgreementReport(
        sessions=len(reviewed),
        steps=tuple(
            StepAgreement(sid, step, expected[(sid, step)], Agreement.of(per_step[(sid, step)]))
            for sid, step in sorted(per_step, key=lambda k: (k[0], order[k], k[1]))
        ),
        overall=Agreement.of(pooled),
        passed=Agreement.of(passes),  # type: ignore[arg-type]  # filtered to bools above
        skipped_steps=skipped,
    )


def agreement_from_store(store: SessionStore, flt: SessionFilter | None = None) -> AgreementReport:
    """The report over the store's reviewed sessions matching `flt`."""
    flt = replace(flt or SessionFilter(), reviewed=True, limit=None)
    summaries: Sequence[SessionSummary] = store.list(flt, newest_first=False)
    rows: Sequence[StepRow] = store.step_rows(flt)
    return agreement_report(summaries, rows)
