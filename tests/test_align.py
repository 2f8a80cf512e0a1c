"""Assigning each step its words (trainer/scoring/align.py): every step found wherever it was said."""

from __future__ import annotations

from trainer.scoring.align import align_steps
from trainer.scoring.match import Candidate, StepCandidate
from trainer.scoring.patterns import Pattern
from trainer.scoring.result import HIT, PARTIAL

PATTERN = Pattern("x", "x", "xx", "xx")


def hit(step: int, start: int, end: int, similarity: float) -> StepCandidate:
    return StepCandidate(step, HIT, Candidate(start, end, similarity, similarity, similarity, PATTERN))


def test_a_step_said_before_an_earlier_one_is_performed_out_of_order() -> None:
    # step 1 said at 0-4, step 0 at 10-14: both performed, step 1 reported out of order
    first, second = hit(0, 10, 14, 0.9), hit(1, 0, 4, 0.9)
    assignments = align_steps([[first], [second]])
    assert [a.candidate for a in assignments] == [first, second]
    assert [a.out_of_order for a in assignments] == [False, True]


def test_a_step_whose_words_sit_inside_another_steps_wide_match_gets_them_when_that_step_fits_the_rest() -> None:
    # step 0's best match reaches back over step 1's words (0-12 over 2-4); step 0 also fits 8-12 alone
    wide, narrow = hit(0, 0, 12, 0.73), hit(0, 8, 12, 0.67)
    seat = hit(1, 2, 4, 0.65)
    assignments = align_steps([[wide, narrow], [seat]], clause_starts=[6])  # a clause begins at 6
    assert [a.candidate for a in assignments] == [narrow, seat]


def test_a_match_that_runs_into_the_next_clause_gives_it_up_to_the_step_said_there() -> None:
    # step 0's best match (0-12) runs over the clause boundary at 9 into the clause where step 1 is
    # said (9-16); without those words step 0 is only a partial match: step 0 keeps it, step 1 is performed
    wide = hit(0, 0, 12, 0.61)
    part = StepCandidate(0, PARTIAL, Candidate(0, 8, 0.55, 0.55, 0.55, PATTERN))
    redirect = hit(1, 9, 16, 0.65)
    assert [a.candidate for a in align_steps([[wide, part], [redirect]], [1.5, 1.0], clause_starts=[9])] == [part, redirect]
    # no clause boundary between them: the wider match keeps its words
    assert [a.candidate for a in align_steps([[wide, part], [redirect]], [1.5, 1.0], clause_starts=[])] == [wide, None]


def test_words_within_one_clause_are_not_shared() -> None:
    # one clause said as one step's phrasing: another step's hit inside it stays a miss
    whole, tail = hit(0, 0, 12, 1.0), hit(0, 8, 12, 0.65)
    inside = hit(1, 0, 6, 0.8)
    assert [a.candidate for a in align_steps([[whole, tail], [inside]], clause_starts=[])] == [whole, None]
    # the same spans with a clause boundary between them: both performed
    assert [a.candidate for a in align_steps([[whole, tail], [inside]], clause_starts=[7])] == [tail, inside]


def test_words_are_not_shared_when_the_other_step_has_no_hit_on_the_rest() -> None:
    wide, elsewhere = hit(0, 0, 12, 0.73), hit(0, 20, 24, 0.66)  # its other hit is not within its words
    seat = hit(1, 2, 4, 0.65)
    assignments = align_steps([[wide, elsewhere], [seat]], clause_starts=[6])
    assert [a.candidate for a in assignments] == [wide, None]


def test_a_wide_cue_gives_up_words_when_its_step_has_a_hit_that_runs_on_past_them() -> None:
    # 您的+地址 caught 里的问题，我派师傅上门看一下。地址 (0-12) over 派师傅 (2-5); 地址跟电话 (10-16) is
    # step 0's too and leaves them free: both performed
    wide, onward = hit(0, 0, 12, 0.65), hit(0, 10, 16, 0.65)
    dispatch = hit(1, 2, 5, 0.65)
    assignments = align_steps([[wide, onward], [dispatch]], clause_starts=[8])
    assert [a.candidate for a in assignments] == [onward, dispatch]


def test_a_step_takes_its_own_free_hit_before_asking_another_step_to_share() -> None:
    wide, narrow = hit(0, 0, 12, 0.73), hit(0, 8, 12, 0.67)
    inside, own = hit(1, 2, 6, 0.8), hit(1, 30, 34, 0.7)  # step 1's best is inside step 0's words
    assignments = align_steps([[wide, narrow], [inside, own]], clause_starts=[6])
    assert [a.candidate for a in assignments] == [wide, own]


def test_between_equal_matches_the_words_said_as_written_win_over_words_that_only_sound_the_same() -> None:
    # 再见 at 20-22 and 再讲 (zai jiang: the same pinyin under the an/ang tolerance) at 10-12: both similarity 1.0
    sounds_alike = StepCandidate(0, HIT, Candidate(10, 12, 1.0, 0.0, 1.0, PATTERN))
    as_written = StepCandidate(0, HIT, Candidate(20, 22, 1.0, 1.0, 1.0, PATTERN))
    assert align_steps([[sounds_alike, as_written]])[0].candidate == as_written
    # a real difference in similarity still decides
    closer = StepCandidate(0, HIT, Candidate(10, 12, 0.9, 0.0, 0.9, PATTERN))
    written_but_worse = StepCandidate(0, HIT, Candidate(20, 22, 0.89, 0.89, 0.7, PATTERN))
    assert align_steps([[closer, written_but_worse]])[0].candidate == closer


def test_the_farewell_is_the_goodbye_not_an_offer_to_explain_again() -> None:
    from trainer.pipeline import score_text

    result = score_text(
        ["您好，您慢慢来，我给您办完再下班。", "办什么业务？", "好了。您看清楚吗？不清楚我再讲一遍。", "不客气，路上慢点，再见。"],
        "closing_time",
    )
    farewell = next(s for s in result.steps if s.id == "farewell")
    assert farewell.turn == 4 and "再见" in farewell.matched_text
