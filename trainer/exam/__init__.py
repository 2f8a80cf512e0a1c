"""Certification exam mode (上岗/复训考核): papers, reproducible draws, rules, sealed records, verification.

What an app page calls (all raise `TrainerError` subclasses with a Chinese `user_message`):

    papers = load_papers([SHIPPED_PAPERS], library.scenarios)      # PaperSet: .papers, .problems
    plan = start_exam(paper, candidate_id, candidate_name, settings, library, store)
        # ExamPlan: .questions[i].title/.brief/.prompts/.time_limit_seconds; the attempt now counts
        # AttemptsExhaustedError when no attempt is left; ExamKeyError when no key is configured
    check_answer(audio_bytes, settings)   # after each recording: decodable, not too long -> seconds; no score
    result = submit_exam(plan, answers, settings, library, store=store)
        # answers[i] = the audio (bytes or Path) of question i+1's turns, in order
    result.candidate_view()    # what the candidate may see (pass/fail only with `feedback: hidden`;
                               # 待复核 and no pass/fail while result.state == "review")
    rows = roster(store, paper_id, since, until, candidate, passed, key, state)  # instructor list
    queue = pending_reviews(store)                       # 待复核 exams not yet decided
    result = load_result(store, exam_id)                 # full record with each question's score
    store.load(result.questions[i].session_id)           # audio / transcript of a question
    html = render_report(result, library)                # printable report
    export_roster(rows, Path("成绩.xlsx"))
    override_exam(settings, exam_id, instructor, passed, comment, total)
    decide_review(settings, exam_id, reviewer, passed, reason, total)   # decides a 待复核 exam (sealed)
    question_verdict(score)    # a score dict's "pass" | "fail" | "review" (old scores: from "passed")
    grant_attempt(settings, paper, candidate_id, instructor, reason)
    report = verify_all(store, exam_key(settings))       # VerifyReport: .ok, .problems, .named
"""

from trainer.exam.draw import Draw, draw_questions
from trainer.exam.marking import check_answer
from trainer.exam.paper import SHIPPED_PAPERS, ExamRules, Paper, PaperError, PaperSet, load_paper, load_papers, resolve_paper
from trainer.exam.records import ExamResult, Override, RosterRow, exam_results, load_result, roster, state_label
from trainer.exam.report import export_roster, render_report, write_report
from trainer.exam.rules import Verdict, judge, question_verdict
from trainer.exam.runner import (
    AttemptsExhaustedError,
    ExamPlan,
    ExamQuestion,
    MarkedAnswer,
    decide_review,
    grant_attempt,
    override_exam,
    pending_reviews,
    plan_exam,
    run_exam,
    start_exam,
    submit_exam,
)
from trainer.exam.seal import ExamKeyError, exam_key
from trainer.exam.verify import VerifyProblem, VerifyReport, verify_all

__all__ = [
    "SHIPPED_PAPERS",
    "AttemptsExhaustedError",
    "Draw",
    "ExamKeyError",
    "ExamPlan",
    "ExamQuestion",
    "ExamResult",
    "ExamRules",
    "MarkedAnswer",
    "Override",
    "Paper",
    "PaperError",
    "PaperSet",
    "RosterRow",
    "Verdict",
    "check_answer",
    "decide_review",
    "VerifyProblem",
    "VerifyReport",
    "draw_questions",
    "exam_key",
    "exam_results",
    "export_roster",
    "grant_attempt",
    "judge",
    "load_paper",
    "load_papers",
    "load_result",
    "override_exam",
    "pending_reviews",
    "plan_exam",
    "question_verdict",
    "render_report",
    "resolve_paper",
    "roster",
    "run_exam",
    "start_exam",
    "state_label",
    "submit_exam",
    "verify_all",
    "write_report",
]
