"""Which words an instructor's review proposes as new accepted phrasings (issue 11, item 6).

A step the machine scored missed or partial, that the instructor marked "disagree" (it was
performed), proposes the words of one turn of the session; so does a step the machine thought
performed but was not sure of (`certain: false`: own words, no phrasing or cue of the step), that
the instructor marked "agree":

- partial, or an uncertain hit: the turn the machine matched (`step["turn"]`);
- missed: the turn that answered the step's customer line. In practice and exams turn i
  answers step i's customer line, so this is the step's 1-based position in the score
  (the score lists the scenario's steps in order), if the session has that many turns.

Per step, the latest review that gives the step a verdict decides (as in the session index,
lists and exports). Storing the proposals is `trainer.phrasebook.overlay`'s job; this module
only reads sessions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from trainer.errors import SessionStoreError
from trainer.sessions.model import SessionFilter, SessionRecord
from trainer.sessions.review import Review, StepVerdict
from trainer.sessions.store import SessionStore

PROPOSING_STATUSES = ("missed", "partial")
UNCERTAIN = "uncertain"  # machine_status of a confirmed uncertain hit


def proposing_status(step: dict, verdict: str) -> str | None:
    """The machine status a step verdict proposes words for (missed | partial | uncertain), or None."""
    status = step.get("status")
    if status in PROPOSING_STATUSES and verdict == "disagree":
        return str(status)
    if status == "hit" and step.get("certain") is False and verdict == "agree":
        return UNCERTAIN
    return None


@dataclass(frozen=True)
class ReviewCandidate:
    """The words of one turn proposed for one step (shape of `trainer.phrasebook.overlay.Candidate`)."""

    scenario_id: str
    step_id: str
    session_id: str
    turn: int  # 1-based
    machine_status: str  # missed | partial | uncertain
    text: str  # the turn's transcript text as stored (cleaned by the overlay)
    reviewer: str
    review_comment: str


@dataclass(frozen=True)
class CandidateSkip:
    """A disagreeing verdict that proposes nothing, and why (Chinese)."""

    session_id: str
    step_id: str
    reason: str


def step_verdicts(reviews: Sequence[Review]) -> dict[str, tuple[Review, StepVerdict]]:
    """Step id -> the latest review giving that step a verdict, and the verdict (reviews oldest first)."""
    out: dict[str, tuple[Review, StepVerdict]] = {}
    for review in reviews:
        for step_id, verdict in review.steps.items():
            out[step_id] = (review, verdict)
    return out


def proposal_turn(step: dict, position: int) -> int | None:
    """The turn whose words a flipped step proposes (see the module docstring), before checking it exists."""
    if step.get("status") in ("partial", "hit"):
        turn = step.get("turn")
        if isinstance(turn, int) and not isinstance(turn, bool):
            return turn
    return position


def review_candidates(record: SessionRecord, reviews: Sequence[Review]) -> tuple[list[ReviewCandidate], list[CandidateSkip]]:
    """The phrasings a session's reviews propose, and the flipped steps that propose nothing."""
    verdicts = step_verdicts(reviews)
    candidates: list[ReviewCandidate] = []
    skipped: list[CandidateSkip] = []
    for position, step in enumerate(record.steps, start=1):
        step_id = str(step.get("id", ""))
        found = verdicts.get(step_id)
        status = proposing_status(step, found[1].verdict) if found is not None else None
        if found is None or status is None:
            continue
        review, verdict = found
        turn = proposal_turn(step, position)
        if turn is None or not 1 <= turn <= len(record.turns):
            skipped.append(CandidateSkip(record.id, step_id, f"会话只有 {len(record.turns)} 轮，没有回答这一步的第 {turn} 轮"))
            continue
        text = str(record.turns[turn - 1].transcript.get("text") or "")
        candidates.append(
            ReviewCandidate(
                scenario_id=record.scenario_id,
                step_id=step_id,
                session_id=record.id,
                turn=turn,
                machine_status=status,
                text=text,
                reviewer=review.reviewer,
                review_comment=verdict.comment,
            )
        )
    return candidates, skipped


def store_candidates(
    store: SessionStore, known: Callable[[str, str], bool] = lambda session_id, step_id: False
) -> tuple[list[ReviewCandidate], list[CandidateSkip]]:
    """Candidates from every reviewed session in the store, found through the index; sessions whose
    flipped steps are all `known` (already proposed) are not opened."""
    rows = store.step_rows(SessionFilter(reviewed=True))
    wanted: dict[str, set[str]] = {}
    for row in rows:
        # an agreed hit may be an uncertain one (the index does not keep certainty): the record tells
        maybe = (row.review_verdict == "disagree" and row.status in PROPOSING_STATUSES) or (
            row.review_verdict == "agree" and row.status == "hit"
        )
        if maybe and not known(row.session_id, row.step_id):
            wanted.setdefault(row.session_id, set()).add(row.step_id)
    candidates: list[ReviewCandidate] = []
    skipped: list[CandidateSkip] = []
    for session_id in sorted(wanted):
        try:
            record = store.load(session_id, check_audio=False)
            reviews = store.reviews(session_id)
        except SessionStoreError as exc:  # a broken folder: `trainer sessions reindex` reports it
            skipped += [CandidateSkip(session_id, step_id, exc.user_message) for step_id in sorted(wanted[session_id])]
            continue
        found, skips = review_candidates(record, reviews)
        candidates += [c for c in found if c.step_id in wanted[session_id]]
        skipped += [s for s in skips if s.step_id in wanted[session_id]]
    return candidates, skipped
