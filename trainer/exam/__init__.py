"""Certification exam mode (上岗/复训考核): papers, reproducible draws, rules, sealed records, verification.

What an app page calls (all raise `TrainerError` subclasses with a Chinese `user_message`):

    papers = load_papers([SHIPPED_PAPERS], library.scenarios)      # PaperSet: .papers, .problems
    plan = start_exam(paper, candidate_id, candidate_name, settings, library, store)
        # ExamPlan: .questions[i].title/.brief/.prompts/.time_limit_seconds; the attempt now counts
        # AttemptsExhaustedError when no attempt is left; ExamKeyError when no key is configured
    check_answer(audio_bytes, settings)   # after each recording: decodable, not too long -> seconds; no score
    result = submit_exam(plan, answers, settings, library, store=store)
        # answers[i] = the audio (bytes or Path) of question i+1's turns, in order
    result.candidate_view()    # what the candidate may see (pass/fail only with `feedback: hidden`)
    rows = roster(store.root, paper_id, since, until, candidate, passed, key)      # instructor list
    result = load_result(store, exam_id)                 # full record with each question's score
    store.load(result.questions[i].session_id)           # audio / transcript of a question
    html = render_report(result, library)                # printable report
    export_roster(rows, Path("成绩.xlsx"))
    override_exam(settings, exam_id, instructor, passed, comment, total)
    grant_attempt(settings, paper, candidate_id, instructor, reason)
    report = verify_all(store, exam_key(settings))       # VerifyReport: .ok, .problems, .named
"""

from trainer.exam.draw import Draw, draw_questions
from trainer.exam.marking import check_answer
from trainer.exam.paper import SHIPPED_PAPERS, ExamRules, Paper, PaperError, PaperSet, load_paper, load_papers, resolve_paper
from trainer.exam.records import ExamResult, Override, RosterRow, exam_results, load_result, roster
from trainer.exam.report import export_roster, render_report, write_report
from trainer.exam.rules import Verdict, judge
from trainer.exam.runner import (
    AttemptsExhaustedError,
    ExamPlan,
    ExamQuestion,
    MarkedAnswer,
    grant_attempt,
    override_exam,
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
    "plan_exam",
    "render_report",
    "resolve_paper",
    "roster",
    "run_exam",
    "start_exam",
    "submit_exam",
    "verify_all",
    "write_report",
]
