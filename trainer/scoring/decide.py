"""How evidence becomes a step decision, and step decisions a verdict: the one place to read it.

1. Evidence for a step (`StepEvidence.kind`), strongest first:
   - ``phrasing``: a standard phrasing or variant said closely, its key words heard;
   - ``cue``: one of the step's cues said (the trainee's own words that carry the step);
   - ``amount``: 四总 — the bill amount was said, whatever the wording;
   - ``brush_off``: a counted 服务忌语 that still meets the step's purpose (`ForbiddenEntry.performs`:
     等着 asks the customer to wait, 走吧 ends the contact): performed, in the wrong manner. The
     performance fails on the 忌语, not on a missing step, and the step carries the manner finding;
   - ``content``: no phrasing or cue, but one clause holds every key word group of the step
     ("服务卡有吗？" for 询问户号, "坐这儿" for 请坐); surer when the clerk confirms it with the
     customer (`confirmed`: the clause ends in a confirming tag, "新装是吧？") and when it is said
     where the step belongs (`in_place`: between the steps performed before and after it);
     in recognised speech, whose clauses are only as good as the recogniser's punctuation, the
     pieces of a clause around another step's words count as clauses too (match._free_clauses).
     Own words that answer the customer's line are content too, and surer (`answers`: the line says
     what they are for): a step's `on_handover` words (谢谢) said to a customer who hands something
     over (给你。（递上资料）), a time said to a customer asking when (几点来电？下午五点。) for a step that
     promises one;
   - ``restatement``: for a 复述确认 step, the customer's facts said back and a question to confirm
     them ("上周五多收二十，是吧？", restate.py);
   - ``own_turn``: nothing performs the step (none, or only a trace), but it is the only required
     step found nowhere, and where it belongs (between the turns of the steps found before and
     after it, or the turn answering its customer line) a whole turn of the trainee's words serves
     no step: most likely the step said in words nothing here knows. Never certain: an instructor
     decides if it matters. Not for a step that promises a time (回复时限, 到达时间): own words that
     hold a time are found as content, and a turn without one (尽快处理) is the promise not made;
   - ``own_words``: the same where no whole turn is free: where the step belongs (between the evidence
     of the steps performed before and after it) a run of words that serves no step
     (`OWN_WORDS_MIN_CHARS`). Never certain. In recognised speech the best guess is performed (the
     words most likely the step, misheard or in unknown words); in typed text, where every word was
     read as written, it is missed. Used in a whole recording, in typed text and,
     since the manner review went (item 5), inside a turn of recognised turn files too: on the turn
     files of sets O-AB right where decided 94.4 % -> 96.6 %, reviews 12.1 % -> 18.9 % (sets D-O,
     before: 22.5 % reviews, over the budget of 20 %);
   - ``near_heard``: recognised speech only. Nothing performs the step, but where it belongs (between
     the evidence of the steps performed before and after it, or in the turn answering its customer
     line) every key word group of the step was heard, at least one only as a near-homophone
     (户后 for 户号, 收等 for 稍等): the step said and misheard. Not the trainee's fault,
     so it counts as performed;
   - ``partial``: a phrasing said only in part; surer where the step belongs (`in_place`, as for
     content);
   - ``untimed``: a step that promises a time (回复时限, 到达时间) whose words were said without
     one (我们会尽快回复您): the promise without its time is not made;
   - ``trace``: nothing that performs the step, but some of its key words were said. In recognised
     speech (`recognised`) the rest of the step was most likely misheard: performed (TRACE_HEARD);
   - ``none``: nothing at all.
   Two facts change how sure that makes us: whether the words were said in the turn that answers
   the step's customer line (`expected_turn`: in practice and exams turn i answers step i), and
   whether the recogniser may have misheard them (`heard`: word confidences; a key word heard
   only as a near-homophone such as 交贴费 for 交电费).

2. A step decision (`decide_step`) is the best guess (hit / partial / missed), the probability
   that it is right (`confidence`), and whether that is sure enough to decide alone (`certain`).
   The probabilities of each kind are measured, not guessed: `EVIDENCE_CONFIDENCE` holds the
   share of decisions of that kind that were right on the development sets (label text, or the
   audio for what only recognised speech has; each figure's comment says which sets), see
   `benchmarks/evidence_calibration.py`. A recognition doubt never
   becomes a certain miss: the machine may have misheard, and that is not the trainee's fault.

3. A 服务忌语 hit is decided the same way (`decide_forbidden`): its kind of evidence
   (`forbidden.hit_evidence`: a long phrasing or a short one, alone in its clause or inside a longer
   one, reordered words, a homophone of 喂) has a measured probability that the failing verdict
   it brings is right (`FORBIDDEN_CONFIDENCE`, benchmarks/forbidden_calibration.py). Below one half
   the best guess is "not a 忌语" (不是随便说的, 写得不清楚): the hit is not counted, but kept as
   doubtful. Either best guess is certain at `FORBIDDEN_CERTAIN`: a hit certainly not a 忌语 here
   (a short one inside a longer clause, negated words, someone else's words reported) leaves no doubt
   for an instructor.

4. The verdict (`decide_verdict`) applies the pass rule twice: the best case (uncertain steps
   performed, uncertain 忌语 not said) and the worst case (uncertain steps missed, every uncertain
   忌语 said). Both pass -> ``pass``; both fail -> ``fail``; they differ -> ``review`` (an
   instructor decides). A 唱收唱付 check that fails where the recogniser may have garbled an amount
   (`AmountCheck.misheard`, amounts.amounts_misheard: 收您… heard but not its amount; every amount
   read and adding up with its 收您/找您 not heard; a payment as heard that cannot happen; an amount in a
   form nobody says; a 角 digit that may have been lost after 块; a unit garbled, 一人三角 or 12元6.5分) counts as
   adding up in the best case, as read in the worst. `passed` stays the best single guess (the rule applied to the best-guess
   statuses and the counted hits). For a review it is the machine's leaning (倾向, shown to the instructor), and
   leans to pass only when the doubts taken together more likely than not fall the pass way (`pass_probability`):
   two doubts of 0.7 each lean to fail, and a doubt that decides a verdict counts with what such doubts
   measured (`DECIDING_CONFIDENCE`: of the reviews whose one doubt was own words in a whole recording, 40 of 96
   were passed). A review of a performance with little courtesy leans to fail: its chance is at most
   `LITTLE_COURTESY_PASSED` (the writers passed 6 of 48 such reviews; item 5).

5. Manner is not a doubt. A performance with almost no courtesy words (`Politeness.little_courtesy`)
   used to go to ``review`` when it would pass, since on sets A-E most such performances were rude.
   On the later sets the pass rule already fails rude clerks on other findings (a brush-off 忌语, a
   curt step missed), and of the 31 performances this review alone sent to the instructors (label
   text A-AB and audio O-AB) the instructor passed 30. The trainee still reads the courtesy finding,
   the 礼貌用语 dimension still counts in the total, and an exam paper that must fail a curt clerk
   sets a minimum for that dimension (`min_dimension`). Where the machine is in doubt for another
   reason, little courtesy does speak: such reviews lean to fail (item 4).

Pass rule (`fail_reasons`): total >= pass mark (compared as shown, rounded: display.below_mark), no required step missed (a partial one costs
coverage but does not fail), no major or critical 服务忌语 (in exams none at all), and 唱收唱付
amounts that add up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from trainer.phrasebook.model import SEVERITY_LABELS
from trainer.scoring.display import below_mark, score_text
from trainer.scoring.feedback import short_title
from trainer.scoring.restate import CONFIRM_TAGS
from trainer.scoring.result import EVIDENCE_BRUSH_OFF, FAIL, HIT, MISSED, PARTIAL, PASS, REVIEW, WHY_ASR, WHY_WEAK, AmountCheck, ForbiddenHit, StepResult

PHRASING, CUE, AMOUNT, CONTENT, RESTATEMENT = "phrasing", "cue", "amount", "content", "restatement"
OWN_TURN, OWN_WORDS, NEAR_HEARD, BRUSH_OFF = "own_turn", "own_words", "near_heard", EVIDENCE_BRUSH_OFF
PARTIAL_MATCH, UNTIMED, TRACE, NONE = "partial", "untimed", "trace", "none"
EVIDENCE_KINDS = (PHRASING, CUE, AMOUNT, BRUSH_OFF, CONTENT, RESTATEMENT, OWN_TURN, OWN_WORDS, NEAR_HEARD, PARTIAL_MATCH, UNTIMED, TRACE, NONE)
MISS_KINDS = (UNTIMED, TRACE, NONE)  # evidence whose best guess is "missed"

# P(best guess right | kind of evidence), measured on the development sets' label text (sets A, B, C
# and the dev labels: 1,026 step decisions, with the phrasebook of 2026-12-05, second round of curt,
# colloquial wording) by benchmarks/evidence_calibration.py, smoothed with Laplace's rule of
# succession ((right + 1) / (n + 2)) so that a small count is not read as certainty.
EVIDENCE_CONFIDENCE: dict[str, float] = {
    PHRASING: 0.998,  # 654 of 654
    CUE: 0.979,  # 183 of 186
    AMOUNT: 0.923,  # 11 of 11
    # Label text of sets A-Q (development sets, 2026-12-05, with the brush-offs that perform a step): 28 of 34
    # were labelled performed; the other 6 were 等着/走吧 in curt or rude performances whose writers did not
    # credit the step. The performance fails on the 忌语 either way.
    BRUSH_OFF: 0.806,
    CONTENT: 0.613,  # 18 of 29
    RESTATEMENT: 0.750,  # 2 of 2 (4 of 4 with set D): too few to decide alone yet
    PARTIAL_MATCH: 0.667,  # 3 of 4 were performed (a partial does not fail: it costs coverage)
    # Measured over sets A-I (development sets; set I after its first use): 10 of 10 not performed.
    UNTIMED: 0.917,
    TRACE: 0.800,  # 7 of 8 were not performed
    # Not seen on sets A-C with this phrasebook; over sets A-F 14 of 16 were performed.
    OWN_TURN: 0.833,
    # Typed text (label text of sets A-O, development sets, 2026-12-06): 25 of 60 such required steps were
    # performed, so the best guess is "missed" (35 of 60). Recognised speech: OWN_WORDS_HEARD.
    OWN_WORDS: 0.58,
    # Recognised speech (whisper-base on audio sets D-L, development sets, turn files and full.wav, which
    # have no label text to measure it on): 68 of 71 such steps were performed (0.945).
    NEAR_HEARD: 0.945,
    NONE: 0.933,  # 124 of 132 were not performed
}
# Checked on more data (sets A-I after their first uses, the dev labels; 2026-12-05): phrasing 0.998,
# cue 0.989, content 0.887 (required steps), own_turn 0.765, restatement 0.875, untimed 0.917 - and
# none 0.825 step by step, lower than above because the newer writers credit steps a rude clerk did
# in words no phrasebook holds, in performances that fail anyway. What a miss decides is the
# verdict: a fail resting on misses alone (no 忌语, amounts right) was right 95 of 103 times (0.92),
# so a miss stays decided alone.
# Own-words evidence in the very turn that answers the step's customer line: the customer asked
# for exactly this, so the clause that holds the step's key words is the answer.
CONTENT_IN_EXPECTED_TURN = 0.95
# Own words that the clerk confirms with the customer, the clause ending in a confirming tag (新装是吧？
# 要办增容对伐？): the clerk says the step's very content back as a question. Sets A-J and the dev labels
# (development sets, label text): 16 of 16 such required-step decisions right, against 107 of 122 for
# other content. (A bare question particle is not enough: 还有零钱吗 is not 还有别的要办吗.)
CONTENT_CONFIRMED = 0.944
# Own words answering the customer's line (`StepEvidence.answers`), label text of sets A-V (development
# sets, 2026-12-06), Laplace-smoothed:
HANDOVER, WHEN = "handover", "when"
CONTENT_ANSWERING = {
    # 谢谢 to a customer handing over documents: in all 34 business performances with one, 接收资料并致谢 was
    # performed (on that very turn in 28)
    HANDOVER: 0.972,
    # a time (五点, 三天, 下午) said to a customer asking when: the time step labelled on that turn in 52 of 55
    # (the others: 今儿没法当场回您, and the customer's own times said back in a complaint)
    WHEN: 0.930,
}
# Own words said where the step belongs: after the evidence of a step performed before it (in the
# scenario's order) and before that of a step performed after it. All the development sets' label text
# (sets A-L after their first uses and the dev labels, 2026-12-05): 94 of 95 required-step decisions
# right, against 39 of 47 elsewhere (benchmarks/evidence_calibration.py). Recognised speech, audio
# sets D-L: 4 wrong where 51 reviews were decided right.
CONTENT_IN_PLACE = 0.979
# A phrasing said only in part, where the step belongs (as for CONTENT_IN_PLACE). Label text of sets A-M
# and audio of sets D-M, both modes (development sets, 2026-12-05): 62 of 64 such steps performed, against
# 53 of 65 elsewhere (PARTIAL_MATCH). A partial fails nothing (it costs coverage), so being sure of it
# only keeps a performed step from review.
PARTIAL_IN_PLACE = 0.955
# A trace in recognised speech: some of the step's key words heard in a clause no other step holds, the
# rest most likely misheard (a recognition error is not the trainee's fault). Audio of sets D-M, turn files
# and full.wav (development sets, 2026-12-05): 57 of 59 such required steps were performed.
TRACE_HEARD = 0.951
# Own words in recognised speech (whisper-base, audio sets D-O, development sets, 2026-12-06): in full.wav,
# 96 of 135 such required steps were performed (in turn files, where it is not used, 61 of 86).
OWN_WORDS_HEARD = 0.708
# A doubt that decides a verdict (the one doubt of a performance sent to review): the share of such reviews
# the labeller passed, by the evidence of that step (benchmarks/deciding_calibration.py, sets used before,
# 2026-12-06, Laplace-smoothed). Lower than the same evidence step by step (EVIDENCE_CONFIDENCE): a
# performance that skips one step and does every other leaves words where the skipped step belongs, and
# those are the performances such a doubt decides; and some fail on what the machine does not judge
# (manner, a 忌语 misheard). It is that step's factor in `pass_probability`, so it shapes only the machine's
# leaning (`Verdict.passed`) of a review; each step's own best guess is unchanged.
DECIDING_CONFIDENCE: dict[str, float] = {
    # label text of sets A-Z: 41 of 63 passed; whisper-base turn files of sets O-Z: 25 of 36
    OWN_TURN: 0.663,
    # whisper-base full.wav of sets O-Z (recognised speech, where own words are the best guess performed):
    # 40 of 96 passed
    OWN_WORDS: 0.418,
}
CONFIRMING_TAGS = CONFIRM_TAGS  # restate.py: 是吧、对吧、对伐、对不对、没错吧…
CERTAIN = 0.9  # decide alone at or above this probability; below it an instructor decides
LOW_HEARD = 0.6  # mean word confidence below which the recogniser may have misheard
ASR_DOUBT = 0.6  # confidence of a miss or partial when the recogniser may have misheard

# P(a failing verdict is right | kind of hit): a counted 忌语 fails the performance, so each kind is
# measured as the share of its hits that lie in a performance the labeller fails, on the development
# sets' label text (sets A-I after their first uses, and the dev labels: 165 hits) by
# benchmarks/forbidden_calibration.py, Laplace-smoothed. (Hit by hit, "was that entry labelled in that
# turn" is stricter and lower, 0.79 for phrase_alone: the seed-only labellers write 这事我解决不了，我也没
# 办法 as one entry where the list has two, and leave list entries beyond the seed's 14, 规定就是规定,
# unlabelled in performances they fail for other words. No phrase_alone hit was in a passing one.)
FORBIDDEN_CONFIDENCE: dict[str, float] = {
    "phrase_alone": 0.987,  # 76 of 76
    "phrase_embedded": 0.912,  # 30 of 32
    "short_alone": 0.951,  # 38 of 39
    # 8 of 9 on sets A-I. Sets A-AP (2026-12-07): 32 of 34 (0.917 smoothed), which would decide them alone; kept
    # below FORBIDDEN_CERTAIN because the 2 in passing performances explain a rule in the same words (逾期不交是可以
    # 停电的): at 0.917 the label text of A-AP has 6 fewer reviews but fails those 2 good trainees.
    "reordered": 0.818,
    # negated, quoted: sets A-AJ (development sets, label text), 2026-12-07: 2 of 27 and 0 of 8 in failing
    # performances (the 2: 没事走吧 of rude clerks failed on manner); below 0.15, so certainly no 忌语
    "negated": 0.103,
    "short_embedded": 0.143,  # 0 of 5
    "homophone": 0.5,  # none in label text (a recogniser's spelling): unmeasured, so an instructor decides
    "quoted": 0.100,
    "conditional": 0.5,  # 要是不清楚，可以…: not seen in sets A-J (set K after its first use: 0 of 1), so an instructor decides
    "wondering": 0.333,  # 我也不知道怎么就少录了一位: sets A-M (development sets, label text), 0 of 1
    "capability": 0.25,  # 我们这儿没有办法办 / 没办法在电话里判断: sets A-Q (development sets, label text), 0 of 2 in failing performances
    "conceded": 0.2,  # 按钟点是该下班了，不过您来了就给您办: sets A-AH (development sets, label text), 0 of 3 in failing performances (W, AC, AH)
    "other_knower": 0.333,  # 光看谁也不知道，得验: none in sets A-X (set Y after its first use: 0 of 1, a passing performance)
    "hedged": 0.333,  # 那可能是您家里的问题，我派师傅上门看一下: sets A-Q (development sets, label text), 0 of 1 in failing performances
}
# A review of a performance with little courtesy (Politeness.little_courtesy): the share the writers passed
# (benchmarks/deciding_calibration.py, 2026-12-06, Laplace-smoothed): label text of sets A-AB 3 of 18,
# whisper-base turn files of sets O-AB 2 of 15, full.wav 1 of 15. The doubts such a review turns on are
# mostly a rude clerk's curt steps, which the writers fail on manner. It caps the leaning only.
LITTLE_COURTESY_PASSED = 0.14

# A 忌语 alone fails a performance; it is decided alone at or above this probability (either way:
# counted, or certainly not a 忌语). A hit below it goes to an instructor.
FORBIDDEN_CERTAIN = 0.85

# 服务忌语: points off the 忌语 dimension per hit, and the severities that fail a performance even in
# practice (an instructor would not pass a trainee who said it to a customer); a minor one costs
# points only, except in exams.
SEVERITY_PENALTY = {"minor": 20.0, "major": 40.0, "critical": 100.0}
FAILING_SEVERITIES = frozenset({"major", "critical"})


@dataclass(frozen=True)
class StepEvidence:
    kind: str  # one of EVIDENCE_KINDS
    expected_turn: int | None = None  # 1-based turn answering the step's customer line; None = unknown
    turn: int | None = None  # 1-based turn of the evidence
    heard: float = 1.0  # recogniser confidence in the words that matter (1.0 for typed text)
    near_homophone: bool = False  # a key word was heard only as a near-homophone
    confirmed: bool = False  # own words (content) confirmed with the customer by a tag (新装是吧)
    answers: str = ""  # own words (content) that answer the customer's line: HANDOVER (谢谢 to 给你), WHEN (下午五点 to 几点来电)
    in_place: bool = False  # own words (content) or a partial phrasing said where the step belongs, between the steps performed before and after it
    recognised: bool = False  # recognised speech (a recogniser's words), not typed text


@dataclass(frozen=True)
class StepDecision:
    status: str  # hit | partial | missed: the best guess
    confidence: float  # probability that the best guess is right, 0..1
    certain: bool
    doubt: str = ""  # WHY_ASR | WHY_WEAK when not certain


def decide_step(evidence: StepEvidence) -> StepDecision:
    kind = evidence.kind
    status = {PHRASING: HIT, CUE: HIT, AMOUNT: HIT, BRUSH_OFF: HIT, CONTENT: HIT, RESTATEMENT: HIT, OWN_TURN: HIT, OWN_WORDS: MISSED, NEAR_HEARD: HIT, PARTIAL_MATCH: PARTIAL, UNTIMED: MISSED, TRACE: MISSED, NONE: MISSED}[kind]
    confidence = EVIDENCE_CONFIDENCE[kind]
    if kind == CONTENT and evidence.expected_turn is not None and evidence.turn == evidence.expected_turn:
        confidence = CONTENT_IN_EXPECTED_TURN
    if kind == CONTENT and evidence.confirmed:
        confidence = max(confidence, CONTENT_CONFIRMED)
    if kind == CONTENT and evidence.in_place:
        confidence = max(confidence, CONTENT_IN_PLACE)
    if kind == CONTENT and evidence.answers:
        confidence = max(confidence, CONTENT_ANSWERING[evidence.answers])
    if kind == PARTIAL_MATCH and evidence.in_place:
        confidence = max(confidence, PARTIAL_IN_PLACE)
    if kind == TRACE and evidence.recognised:
        status, confidence = HIT, TRACE_HEARD
    if kind == OWN_WORDS and evidence.recognised:
        status, confidence = HIT, OWN_WORDS_HEARD
    misheard = evidence.heard < LOW_HEARD or evidence.near_homophone
    if status != HIT and misheard:
        return StepDecision(status, min(confidence, ASR_DOUBT), False, WHY_ASR)
    certain = confidence >= CERTAIN
    return StepDecision(status, confidence, certain, "" if certain else WHY_WEAK)


@dataclass(frozen=True)
class ForbiddenDecision:
    counted: bool  # best guess: the 忌语 was said (it costs points and can fail the performance)
    confidence: float  # probability that the best guess is right
    certain: bool


def decide_forbidden(kind: str) -> ForbiddenDecision:
    said = FORBIDDEN_CONFIDENCE.get(kind, 0.5)
    counted = said >= 0.5
    confidence = said if counted else 1.0 - said
    return ForbiddenDecision(counted, confidence, confidence >= FORBIDDEN_CERTAIN)


# ---------------------------------------------------------------------------------------- verdict

# The pass rule: (step statuses, counted 忌语, 唱收唱付 taken as adding up (True) or as read (None)) -> fail reasons
Judge = Callable[..., tuple[str, ...]]


@dataclass(frozen=True)
class Verdict:
    verdict: str  # pass | fail | review
    passed: bool  # best single guess
    fail_reasons: tuple[str, ...]  # Chinese, for the best guess
    doubts: tuple[str, ...] = ()  # step ids whose uncertainty decides the outcome (review only)


def fail_reasons(
    steps: Sequence[StepResult],
    total: float,
    pass_mark: float,
    hits: Sequence[ForbiddenHit],
    amounts: AmountCheck | None,
    *,
    exam: bool,
) -> tuple[str, ...]:
    """Why a performance with these step statuses fails (empty: it passes)."""
    reasons: list[str] = []
    if below_mark(total, pass_mark):
        reasons.append(f"总分 {score_text(total)} 低于及格线 {score_text(pass_mark)}")
    for result in steps:
        if result.required and result.status == MISSED:
            reasons.append(f"漏掉必做步骤「{short_title(result.title) or result.id}」")
    failing = [h for h in hits if h.severity in FAILING_SEVERITIES]
    if failing:
        worst = max(failing, key=lambda h: SEVERITY_PENALTY.get(h.severity, 0.0))
        reasons.append(f"使用了服务忌语「{worst.phrase}」（{SEVERITY_LABELS.get(worst.severity, worst.severity)}）")
    elif exam and hits:
        reasons.append(f"考试中使用了服务忌语「{hits[0].phrase}」")
    if amounts is not None and not amounts.consistent:
        reasons.append("唱收唱付金额不符或没有唱收唱付")
    return tuple(reasons)


def pass_probability(
    steps: Sequence[StepResult], hits: Sequence[ForbiddenHit], doubtful_hits: Sequence[ForbiddenHit], *, little_courtesy: bool = False
) -> float:
    """Probability that every doubt falls the way of a pass, the doubts taken as independent.

    An uncertain required step must have been performed (a partial one fails nothing), an uncertain
    counted 忌语 not said, an uncertain uncounted one not a 忌语 after all. With little courtesy
    (`Politeness.little_courtesy`) it is at most `LITTLE_COURTESY_PASSED`."""
    chance = 1.0
    for step in steps:
        if step.certain or not step.required:
            continue
        if step.status == MISSED:
            chance *= 1.0 - step.confidence
        elif step.status == HIT:
            chance *= DECIDING_CONFIDENCE.get(step.evidence, step.confidence)
    for hit in hits:
        if not hit.certain and hit.severity in FAILING_SEVERITIES:
            chance *= 1.0 - hit.confidence
    for hit in doubtful_hits:  # not counted: its confidence is that of "not a 忌语"
        if not hit.certain and hit.severity in FAILING_SEVERITIES:
            chance *= hit.confidence
    return min(chance, LITTLE_COURTESY_PASSED) if little_courtesy else chance


def decide_verdict(
    steps: Sequence[StepResult],
    hits: Sequence[ForbiddenHit],
    doubtful_hits: Sequence[ForbiddenHit],
    judge: Judge,
    *,
    amounts_doubt: bool = False,
    little_courtesy: bool = False,
) -> Verdict:
    """Pass, fail or review, from the decisions and the pass rule `judge` ((statuses, hits) -> fail reasons).

    `steps` carry their best-guess status and `certain`; `hits` are the counted 忌语 (some of them
    uncertain), `doubtful_hits` the uncounted ones. The rule is applied to the best guess, to the
    best case (uncertain steps performed, no uncertain 忌语) and to the worst case (uncertain steps
    missed, every uncertain 忌语 said).
    """
    best_reasons = judge(steps, hits)
    doubtful = [s for s in steps if not s.certain]
    unsure_hits = [h for h in hits if not h.certain]
    doubtful_hits = [h for h in doubtful_hits if not h.certain]  # certainly not a 忌语 here: no doubt left
    if not doubtful and not unsure_hits and not doubtful_hits and not amounts_doubt:
        return Verdict(FAIL if best_reasons else PASS, not best_reasons, best_reasons)
    best_case = [dataclasses.replace(s, status=HIT) if not s.certain else s for s in steps]
    worst_case = [dataclasses.replace(s, status=MISSED) if not s.certain else s for s in steps]
    sure_hits = [h for h in hits if h.certain]
    if judge(worst_case, [*hits, *doubtful_hits]) == ():
        verdict = PASS
    elif (judge(best_case, sure_hits, True) if amounts_doubt else judge(best_case, sure_hits)) != ():
        verdict = FAIL
    else:
        verdict = REVIEW
    passed = not best_reasons
    if verdict == REVIEW and passed:
        passed = pass_probability(steps, hits, doubtful_hits, little_courtesy=little_courtesy) >= 0.5
    doubts = (
        (*(s.id for s in doubtful), *(f"forbidden:{h.id}" for h in [*unsure_hits, *doubtful_hits]), *(["amounts"] if amounts_doubt else []))
        if verdict == REVIEW
        else ()
    )
    return Verdict(verdict, passed, best_reasons, tuple(doubts))
