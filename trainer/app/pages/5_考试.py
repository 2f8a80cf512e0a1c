"""Certification exam (the candidate is the logged-in user): choose the paper, confirm the rules, answer each turn
once against the clock, submit; the result shows what the paper allows."""

import time

import streamlit as st

from trainer import recognition
from trainer.app import exam_flow, exam_views, services, ui
from trainer.app.login import require_user
from trainer.app.markup import md
from trainer.errors import TrainerError
from trainer.exam import exam_key, load_papers, plan_exam, start_exam, submit_exam
from trainer.sessions import SessionStore

PENDING = "exam_pending"

ui.page_setup("考试")
settings = ui.settings_or_stop()
user = require_user(settings)  # the candidate: never a typed id
st.title(":material/assignment: 考试")
status = ui.engine_banner(settings)
library = ui.library_or_stop(settings)
store = SessionStore(settings.sessions_dir)
run: exam_flow.ExamRun | None = st.session_state.get(exam_flow.EXAM_RUN)
if run is not None and run.plan.candidate_id != user.user_id:  # another account logged in on this browser session
    st.session_state.pop(exam_flow.EXAM_RUN, None)
    run = None

# --------------------------------------------------------------------------- result
if run is not None and run.result is not None:
    shown = exam_views.candidate_result(run.result.candidate_view())
    st.subheader(run.plan.paper.title)
    st.caption(md(f"考生 {run.plan.candidate_name}（{run.plan.candidate_id}）· 考试编号 {shown.exam_id}"))
    if shown.pending_review:
        st.warning(f"## 考试结果：{shown.verdict}", icon=":material/hourglass_top:")
        st.info(shown.review_message, icon=":material/rate_review:")
    elif shown.passed:
        st.success(f"## 考试结果：{shown.verdict}", icon=":material/check_circle:")
    else:
        st.error(f"## 考试结果：{shown.verdict}", icon=":material/cancel:")
    if shown.hidden:
        st.info(shown.message, icon=":material/lock:")
    else:
        cols = st.columns(3)
        cols[0].metric("总分", exam_views.num(shown.total))
        cols[1].metric("及格线", exam_views.num(shown.pass_mark))
        cols[2].metric("结果", "待复核" if shown.pending_review else shown.verdict)
        if shown.override:
            st.warning(shown.override)
        if shown.reasons:
            st.markdown("**未通过原因**")
            st.markdown("\n".join(f"- {md(r)}" for r in shown.reasons))
        if shown.notes:
            st.markdown("**备注**")
            st.markdown("\n".join(f"- {md(n)}" for n in shown.notes))
        st.markdown("**各题得分**")
        ui.dataframe(shown.questions)
        if shown.dimensions:
            st.markdown("**各维度平均分**")
            ui.dataframe(shown.dimensions)
        for title, advice in shown.advice:  # one advice list per question, grouped by turn
            ui.advice_list(advice, heading=f"建议 · {md(title)}")
    st.caption(f"成绩已封存，封印指纹 {shown.fingerprint}。如对结果有疑问，请联系考核负责人并提供考试编号。")
    if st.button("完成", type="primary", key="exam-done"):
        st.session_state.pop(exam_flow.EXAM_RUN, None)
        st.rerun()
    st.stop()

# --------------------------------------------------------------------------- the exam in progress
if run is not None:
    plan = run.plan
    # No way to the phrase library or practice pages from the exam (a deterrent: pages are still reachable by URL).
    st.html("<style>[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl']{display:none}</style>")
    head = st.columns([4, 2])
    head[0].subheader(plan.paper.title)
    head[1].caption(md(f"考生 {plan.candidate_name}（{plan.candidate_id}）· 第 {plan.attempt} 次"))
    prog = exam_views.progress(run.turns_per_question, run.answered_per_question)
    st.progress(prog.fraction, text=prog.label)
    if run.notice:
        st.info(run.notice)
        run.notice = ""

    if run.complete:
        st.success("所有题目都已作答。请点击“交卷”。交卷后不能再修改。")
        if st.button("交卷", type="primary", key="exam-submit"):
            with st.spinner("正在识别、评分并封存成绩，请稍候（可能需要一两分钟）……"):
                queued = recognition.QueuedRecognizer(ui.recognizer(settings), ui.recognition_pool(settings), recognition.owner_key(plan.candidate_id))
                marker = exam_flow.app_marker(settings, library, lambda: queued, run.slots_by_scenario())
                result = ui.guarded(
                    lambda: submit_exam(plan, run.submission(), settings, library, marker=marker, store=store), "交卷"
                )
            if result is not None:
                run.result = result
                st.rerun()
        st.stop()

    q_index, t_index = run.position
    question = plan.questions[q_index - 1]
    st.markdown(f"### 第 {q_index} 题 · {question.title}")
    st.info(question.brief, icon=":material/assignment:")
    if run.needs_opening():
        st.markdown(f"本题共 {len(question.prompts)} 轮，每轮时限 {exam_views.num(question.time_limit_seconds)} 秒。读完场景说明后点击“开始作答”，第 1 轮随即开始计时。")
        if st.button("开始作答", type="primary", key=f"exam-open-{run.run_id}-{q_index}"):
            run.open_question()
            st.rerun()
        st.stop()

    for done in range(1, t_index):
        with st.chat_message("客户", avatar=":material/support_agent:"):
            st.markdown(f"**第 {done} 轮** · {question.prompts[done - 1] or '（客户没有说话——请您主动开口。）'}")
        slot = run.answers[q_index - 1][done - 1]
        st.caption(f":material/check: 已提交 · {exam_views.TURN_STATUS_LABELS.get(slot.status, slot.status)}")

    with st.chat_message("客户", avatar=":material/support_agent:"):
        st.markdown(f"**第 {t_index} 轮（共 {len(question.prompts)} 轮）** · {question.prompts[t_index - 1] or '（客户没有说话——请您主动开口。）'}")
        voice, _ = services.customer_voice(
            question.prompts[t_index - 1], settings, f"{run.run_id}-{q_index}-{t_index}", once=True,
            scenario=library.scenarios.get(question.scenario_id),
        )
        if voice:  # in exams the line is heard once, as the paper says: no 重听
            st.iframe(voice, height=40)
    elapsed = run.show_turn()
    st.iframe(exam_views.timer_html(run.time_limit, elapsed), height=70)
    if elapsed >= run.time_limit:
        st.warning(exam_views.timer_text(run.time_limit, elapsed))
    else:
        st.caption("计时从本轮客户的话出现时开始；超时提交的录音不予采用。")

    ui.microphone_origin_warning()
    recording = st.audio_input("点击麦克风开始录音，说完再点一次结束（只能提交一次）", key=run.recorder_key)
    upload = st.file_uploader("或者上传录音文件", type=None, key=run.uploader_key)
    given = (recording, "microphone") if recording is not None else (upload, "upload") if upload is not None else None
    if given is not None:
        file, source = given
        data = file.getvalue()
        if exam_flow.digest(data) not in run.processed:
            received = time.time()
            name = file.name or "录音"
            try:
                seconds = exam_flow.check_recording(data, settings, name)
            except TrainerError as exc:
                ui.log.info("exam recording refused: %s", exc.log_message)
                run.refuse(data, f"{exc.user_message}\n\n这段录音没有被采用，本轮尚未作答。请在剩余时间内重新录制。")
                st.rerun()
            except Exception:  # never a traceback during an exam
                ui.log.exception("unexpected error while checking an exam recording")
                run.refuse(data, "检查录音时出现意外错误，这段录音没有被采用。请在剩余时间内重新录制；如果一直出现，请联系考务人员。")
                st.rerun()
            slot = run.accept(data, name, source, seconds, now=received)
            run.error = ""
            run.notice = (
                exam_views.late_message(t_index, slot.elapsed, question.time_limit_seconds)
                if slot.status == "late"
                else exam_views.accepted_message(t_index, slot.seconds)
            )
            st.rerun()
    if run.error:
        st.warning(run.error)
    st.divider()
    if st.button("本轮不作答，进入下一轮", key=f"exam-skip-{run.run_id}-{q_index}-{t_index}"):
        run.skip()
        run.notice = f"第 {t_index} 轮未作答。"
        st.rerun()
    st.caption("请勿刷新或关闭页面：考试一旦开始即计入次数，刷新后本次考试作废。")
    st.stop()

# --------------------------------------------------------------------------- confirm the rules
try:
    exam_key(settings)
except TrainerError as exc:  # the candidate cannot fix this: say whom to ask, keep the how-to for the admin
    ui.log.info("exam page: %s", exc.log_message)
    ui.admin_problem("考试暂时不能开始：考试系统的密钥没有设置好。请联系考核负责人处理。", exc.user_message)
    st.stop()
papers = load_papers(settings.all_exam_paper_dirs, library.scenarios)
if papers.problems:
    st.caption(f"有 {len(papers.problems)} 处试卷文件错误，相关试卷已跳过。请考核负责人运行 `trainer exam papers` 检查。")
if not papers.papers:
    st.error("没有可用的试卷。请考核负责人在 exam_papers 文件夹中添加试卷（见 exam_papers/README.md）。")
    st.stop()

pending = st.session_state.get(PENDING)
if pending is not None and pending["candidate_id"] != user.user_id:
    st.session_state.pop(PENDING, None)
    pending = None
if pending is not None:
    paper = papers.papers.get(pending["paper_id"])
    if paper is None:
        st.session_state.pop(PENDING, None)
        st.rerun()
    st.subheader(f"确认考试规则 · {paper.title}")
    st.markdown(f"考生：**{md(pending['name'] or '（未填姓名）')}**（编号 {md(pending['candidate_id'])}）")
    if paper.description:
        st.caption(paper.description)
    st.markdown("\n".join(f"{i}. {line}" for i, line in enumerate(exam_views.rules_lines(paper, settings.pass_mark), 1)))
    st.warning(exam_views.attempt_line(pending["attempt"], pending["allowed"]), icon=":material/warning:")
    agreed = st.checkbox("我已阅读并遵守以上考试规则", key="exam-agree")
    cols = st.columns(2)
    if cols[0].button("开始考试", type="primary", key="exam-start", disabled=not (agreed and status.ready)):
        plan = ui.guarded(
            lambda: start_exam(paper, pending["candidate_id"], pending["name"], settings, library, store), "开始考试"
        )
        if plan is not None:
            st.session_state[exam_flow.EXAM_RUN] = exam_flow.ExamRun(plan)
            st.session_state.pop(PENDING, None)
            st.rerun()
    if cols[1].button("返回选择试卷", key="exam-back"):
        st.session_state.pop(PENDING, None)
        st.rerun()
    if not status.ready:
        st.caption("安装语音识别模型后才能开始考试（见上方说明）。")
    st.stop()

ui.skipped_phrasebooks(library, "考核负责人")
# --------------------------------------------------------------------------- choose the paper
st.subheader("选择试卷")
ids = sorted(papers.papers)
paper_id = st.selectbox("试卷", ids, format_func=lambda pid: exam_views.paper_label(papers.papers[pid]), key="exam-paper")
paper = papers.papers[paper_id]
if paper.description:
    st.caption(paper.description)
st.markdown(f"考生：**{md(user.name or user.user_id)}**（工号 {md(user.user_id)}）")
if st.button("下一步：阅读考试规则", type="primary", key="exam-next"):
    preview = ui.guarded(lambda: plan_exam(paper, user.user_id, user.name, settings, library, store), "检查考生信息")
    if preview is not None:
        st.session_state[PENDING] = {
            "paper_id": paper.id,
            "candidate_id": preview.candidate_id,
            "name": preview.candidate_name,
            "attempt": preview.attempt,
            "allowed": preview.attempts_allowed,
        }
        st.rerun()
