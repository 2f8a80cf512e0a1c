"""Trainee practice: choose a scenario, read the brief, answer the customer turn by turn, get scored."""

import streamlit as st

from trainer import recognition
from trainer.app import drafts, services, ui, views
from trainer.app import state as app_state
from trainer.app.markup import md
from trainer.app.login import require_user

ui.page_setup("练习")
settings = ui.settings_or_stop()
who = require_user(settings)  # the logged-in user is the trainee: never a typed id
st.title(":material/mic: 练习")
status = ui.engine_banner(settings)
library = ui.library_or_stop(settings)
ui.skipped_phrasebooks(library, "培训管理员")
owner = who.user_id  # whose unfinished run the server keeps: the logged-in account
ui.clean_old_drafts(settings)

run = app_state.practice_run(st.session_state)
if run is not None and run.trainee_id != who.user_id:
    app_state.end_practice(st.session_state)
    run = None
ui.draft_note()

# --------------------------------------------------------------------------- an unfinished run kept on the server
if run is None and ui.unfinished_run_panel(settings, library, owner):
    st.stop()

# --------------------------------------------------------------------------- choose a scenario
if run is None:
    st.subheader("选择场景")
    roles, domains, levels = views.filter_options(library)
    cols = st.columns(3)
    role = cols[0].selectbox("岗位", [None, *roles], format_func=lambda r: views.ALL if r is None else views.role_label(r), key="f-role")
    domain = cols[1].selectbox("领域", [None, *domains], format_func=lambda d: views.ALL if d is None else views.domain_label(d), key="f-domain")
    level = cols[2].selectbox("难度", [None, *levels], format_func=lambda n: views.ALL if n is None else views.difficulty_label(n), key="f-level")
    choices = views.filter_scenarios(library, role, domain, level)
    if not choices:
        st.info("没有符合条件的场景，请放宽筛选条件。")
        st.stop()
    ids = [s.id for s in choices]
    wanted = st.query_params.get("scenario")  # a link such as ?scenario=payment preselects a scenario
    scenario_id = st.selectbox(
        "场景",
        ids,
        index=ids.index(wanted) if wanted in ids else 0,
        format_func=lambda sid: views.scenario_label(library.scenarios[sid]),
        key="f-scenario",
    )
    scenario = library.scenarios[scenario_id]
    st.markdown(f"### {scenario.title}")
    st.caption(views.scenario_meta(scenario))
    st.info(scenario.brief, icon=":material/assignment:")
    if st.button("开始练习", type="primary", key="start", disabled=not status.ready):
        app_state.start_practice(
            st.session_state,
            app_state.PracticeRun(scenario.id, scenario.title, len(scenario.steps), who.user_id, who.name),
        )
        st.rerun()
    if not status.ready:
        st.caption("安装语音识别模型后才能开始练习（见上方说明）。")
    st.stop()

# --------------------------------------------------------------------------- the dialogue
scenario = library.scenarios.get(run.scenario_id)
if scenario is None:
    st.error(f"场景“{run.scenario_id}”已不在话术库中（话术库可能刚被修改）。请重新选择场景。")
    app_state.end_practice(st.session_state)
    st.stop()

head = st.columns([5, 1])
head[0].subheader(scenario.title)
if head[1].button("放弃本次练习", key="abandon"):
    if owner is not None and not run.finished:
        drafts.forget(settings, owner, run.run_id)
    app_state.end_practice(st.session_state)
    st.rerun()
with st.expander("场景说明", expanded=not run.turns):
    st.markdown(scenario.brief)
    st.caption(views.scenario_meta(scenario))

if run.finished and run.score:
    st.success(f"练习已保存（编号 {run.saved_id}）。可在“我的记录”中查看。")
    prompts = [views.say(t.prompt) for t in run.turns]
    ui.final_panel(views.final_result(run.score, scenario, library, settings.pass_mark, prompts=prompts))
    cols = st.columns(2)
    if cols[0].button("再练一次", type="primary", key="again"):
        app_state.start_practice(
            st.session_state, app_state.PracticeRun(scenario.id, scenario.title, len(scenario.steps), who.user_id, who.name)
        )
        st.rerun()
    if cols[1].button("选择其他场景", key="other"):
        app_state.end_practice(st.session_state)
        st.rerun()
    st.stop()

ui.legend()
for turn in run.turns:
    with st.chat_message("客户", avatar=":material/support_agent:"):
        st.markdown(f"**第 {turn.index} 轮** · {md(views.say(turn.prompt))}")
        if turn.reaction:
            st.caption(md(views.reaction_note(scenario, turn.reaction)))
    with st.chat_message("学员", avatar=":material/record_voice_over:"):
        result = views.turn_result(run.score or {}, turn.index, scenario, library, turn.step_id)
        if turn.index == run.last_turn:
            ui.turn_panel(result)
            for warning in turn.warnings:
                st.warning(warning)
            st.caption(f"录音 {turn.seconds:.1f} 秒，识别和评分用时 {turn.processing_seconds:.1f} 秒")
        else:
            ui.highlighted(result.html)
        cols = st.columns([3, 1])
        with cols[0]:
            st.audio(turn.audio, format=services.audio_mime(turn.audio_name))
        if run.redo is None and cols[1].button("重录这一轮", key=f"retry-{run.run_id}-{turn.index}"):
            run.start_retry(turn.index)
            st.rerun()

cue = services.current_cue(run, scenario)
if cue is not None:
    index = run.current
    with st.chat_message("客户", avatar=":material/support_agent:"):
        st.markdown(f"**第 {index} 轮（共 {run.steps_total} 轮）** · {md(views.say(cue.line))}")
        if cue.reaction:
            st.caption(md(views.reaction_note(scenario, cue.reaction)))
        if st.toggle("本轮提示", key="practice-hint", help="显示这一轮要做到的步骤（考试中没有提示）"):
            st.caption(views.turn_hint(scenario, cue.step_id))
        voice, voice_problem = services.customer_voice(cue.line, settings, f"{run.run_id}-{index}-{cue.step_id}", once=False, scenario=scenario)
        if voice:
            st.iframe(voice, height=40)  # says the line once on arrival; 重听 repeats it
        elif voice_problem:
            st.caption(voice_problem)
    if run.redo is not None:
        cols = st.columns([4, 1])
        cols[0].info(f"正在重录第 {index} 轮：新的录音会替换原来的录音。")
        if cols[1].button("取消重录", key="cancel-retry"):
            run.cancel_retry()
            st.rerun()
    ui.microphone_origin_warning()
    recording = st.audio_input("点击麦克风开始录音，说完再点一次结束", key=run.recorder_key)
    upload = st.file_uploader("或者上传录音文件（WAV、MP3、M4A、OGG、WebM 等）", type=services.UPLOAD_TYPES, key=run.uploader_key)
    st.caption("如果浏览器提示无法使用麦克风：请点击地址栏左侧的图标，允许本网站使用麦克风，然后刷新页面；也可以改用上传录音文件。")
    given = (recording, "microphone") if recording is not None else (upload, "upload") if upload is not None else None
    pending = st.session_state.get(app_state.PENDING_TURN)
    if pending is not None and pending.run_id != run.run_id:  # left over from an abandoned run
        st.session_state.pop(app_state.PENDING_TURN, None)
        pending = None
    if given is not None and pending is None:
        file, source = given
        shared = ui.recognizer(settings)  # loaded here (with its spinner), used on a pool worker
        pending = services.submit_recording(
            ui.recognition_pool(settings), recognition.owner_key(who.user_id), run, file.getvalue(), file.name or "录音",
            source, scenario, library, lambda: shared, settings,
        )
        if pending is not None:
            st.session_state[app_state.PENDING_TURN] = pending
    if pending is not None:  # also after a rerun that interrupted the wait: the job keeps its place
        ui.wait_in_queue(pending.ticket)
        st.session_state.pop(app_state.PENDING_TURN, None)
        if services.collect_recording(run, pending) is not None:
            if owner is not None:
                drafts.keep(settings, owner, run, library)  # a reload or a closed tab loses nothing
            st.rerun()
    if run.error:
        st.error(run.error)
if run.draft_problem:
    st.warning(run.draft_problem, icon=":material/cloud_off:")

if run.turns:
    st.divider()
    label = "结束并评分" if run.all_answered else f"提前结束并评分（已答 {len(run.turns)}/{run.steps_total} 轮，其余按未完成计）"
    if st.button(label, type="primary" if run.all_answered else "secondary", key="finish"):
        with st.spinner("正在评分并保存……"):
            saved = ui.guarded(lambda: services.finish_practice(run, settings, library, ui.recognizer(settings)), "保存练习")
        if saved is not None:
            if owner is not None:
                drafts.forget(settings, owner, run.run_id)
            st.rerun()
