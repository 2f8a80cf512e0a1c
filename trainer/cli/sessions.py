"""`trainer sessions list|show|review|export|delete|reindex`: stored practice and exam sessions."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from trainer.cli.console import print_json, output_console
from trainer.config import Settings
from trainer.dialogue import record_dialogue
from trainer.phrasebook.model import REACTION_LABELS
from trainer.errors import SessionStoreError
from trainer.phrasebook.model import Library
from trainer.scoring.advice import advice_lines, advice_of
from trainer.scoring.display import SCALING_NOTE, dimension_views, machine_and_override, round_score, score_text
from trainer.sessions.export import STATUS_LABELS, export_sessions, local_time, step_title
from trainer.text.normalize import to_simplified
from trainer.scoring.result import FAIL, PASS, REVIEW, VERDICT_LABELS
from trainer.sessions.model import KIND_LABELS, KINDS, SessionFilter, shown_result
from trainer.sessions.review import OVERALL_LABELS, VERDICTS, build_decision, build_review, review_outcome
from trainer.sessions.review import VERDICT_LABELS as STEP_VERDICT_LABELS
from trainer.sessions.store import TEMP_MAX_AGE, SessionStore
from trainer.storage.factory import session_store, storage_label

if TYPE_CHECKING:
    from trainer.storage.pg_sessions import PostgresSessionStore


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期“{text}”格式不对，请写成 2026-11-23") from None


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"分数“{text}”不是数字") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"分数 {text} 应在 0–100 之间")
    return value


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trainee", help="学员工号，或姓名中的一部分")
    parser.add_argument("--scenario", help="场景编号")
    parser.add_argument("--kind", choices=KINDS, help="practice（练习）或 exam（考试）")
    parser.add_argument("--since", type=_date, help="从这一天起（含），如 2026-11-01")
    parser.add_argument("--until", type=_date, help="到这一天止（含），如 2026-11-30")
    parser.add_argument("--min-score", type=_score, help="最终分数不低于")
    parser.add_argument("--max-score", type=_score, help="最终分数不高于")
    result = parser.add_mutually_exclusive_group()
    result.add_argument("--passed", dest="result", action="store_const", const=PASS, help="只看通过的（以复核结果为准）")
    result.add_argument("--failed", dest="result", action="store_const", const=FAIL, help="只看未通过的（以复核结果为准）")
    result.add_argument("--review", dest="result", action="store_const", const=REVIEW, help="只看待复核的（机器无法确定、教师尚未作出结论）")


def _filter(args: argparse.Namespace, limit: int | None = None) -> SessionFilter:
    return SessionFilter(
        trainee=args.trainee,
        scenario_id=args.scenario,
        kind=args.kind,
        since=args.since,
        until=args.until,
        min_total=args.min_score,
        max_total=args.max_score,
        result=args.result,
        limit=limit,
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sessions", help="查看、导出、删除已保存的练习与考试记录", description="已保存的练习与考试记录")
    commands = parser.add_subparsers(dest="sessions_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args, settings: (parser.print_help(), 2)[1])

    p = commands.add_parser("list", help="列出会话（可筛选）")
    _add_filters(p)
    p.add_argument("--limit", type=int, default=None, help="最多列出多少条（默认全部）")
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.set_defaults(func=cmd_list)

    p = commands.add_parser("show", help="显示一次会话的详情")
    p.add_argument("id", metavar="ID", help="会话编号")
    p.add_argument("--json", action="store_true", help="输出 JSON（记录与复核意见）")
    p.set_defaults(func=cmd_show)

    p = commands.add_parser(
        "review",
        help="复核一次练习会话：同意机评，或改判；机评待复核的会话须作出复核结论（通过或未通过）",
        description="复核一次练习会话。复核另存为一条记录，机评成绩不变；列表和导出显示复核后的结果。"
        "考试成绩的改判请用 `trainer exam override`。",
    )
    p.add_argument("id", metavar="ID", help="会话编号")
    p.add_argument("--reviewer", required=True, help="复核人姓名")
    choice = p.add_mutually_exclusive_group(required=True)
    choice.add_argument("--agree", action="store_true", help="同意机评（机评为待复核的会话不能用：机器没有作出结论）")
    choice.add_argument("--pass", dest="passed", action="store_const", const=True, help="通过：改判或复核结论，须写 --comment")
    choice.add_argument("--fail", dest="passed", action="store_const", const=False, help="未通过：改判或复核结论，须写 --comment")
    p.add_argument("--total", type=_score, default=None, help="改判或复核的分数 0–100（默认沿用机评分数）")
    p.add_argument("--comment", default="", help="复核意见（改判或复核结论时必填）")
    p.add_argument(
        "--step", action="append", default=[], metavar="STEP=agree|disagree[:备注]", type=_step_verdict,
        help="对一个步骤的意见，可重复，例如 --step ask_account=disagree:说了户号",
    )
    p.set_defaults(func=cmd_review)

    p = commands.add_parser("export", help="导出为 CSV 或 Excel（每次会话一行、每个步骤一行）")
    p.add_argument("path", metavar="PATH", type=Path, help="以 .csv 或 .xlsx 结尾的文件名")
    _add_filters(p)
    p.set_defaults(func=cmd_export)

    p = commands.add_parser("delete", help="删除一次会话（移入回收目录 .trash）")
    p.add_argument("id", metavar="ID", help="会话编号")
    p.add_argument("--yes", action="store_true", help="不再询问确认")
    p.add_argument("--force", action="store_true", help="也删除密封的考试记录（之后 exam verify 会报告缺失）")
    p.set_defaults(func=cmd_delete)

    p = commands.add_parser("reindex", help="根据会话文件夹重建索引")
    p.add_argument(
        "--temp-max-age", type=float, default=TEMP_MAX_AGE, metavar="SECONDS",
        help=f"保存进程已不在的临时文件夹随时清理；无法判断时（Windows）清理早于此秒数的（默认 {TEMP_MAX_AGE:.0f}）",
    )
    p.set_defaults(func=cmd_reindex)


def _store(settings: Settings) -> "SessionStore | PostgresSessionStore":
    return session_store(settings)


def _console() -> Console:
    # piped or redirected output: wide enough that ids and names are never cut
    return output_console()


def _fmt_score(value: float | None) -> str:
    return score_text(value, "—")


def _library(settings: Settings) -> "Library | None":
    """The phrase library for step titles; None (ids only) when it cannot be loaded."""
    from trainer.errors import TrainerError
    from trainer.phrasebook.loader import library_from_settings

    try:
        return library_from_settings(settings)
    except TrainerError:
        return None


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    rows = _store(settings).list(_filter(args, args.limit))
    if args.json:
        print_json([row.to_dict() for row in rows], indent=2)
        return 0
    console = _console()
    if not rows:
        console.print(f"没有符合条件的会话（数据存储：{storage_label(settings)}）。")
        return 0
    table = Table(show_edge=False)
    table.add_column("会话编号", no_wrap=True)
    for title in ("时间", "类型", "学员", "场景", "机评", "教师改判", "结果", "复核"):
        table.add_column(title, overflow="fold")
    for row in rows:
        review = "" if not row.review_count else OVERALL_LABELS.get(row.review_overall, "") + f"（{row.last_reviewer}）"
        table.add_row(
            row.id, local_time(row.started_at), KIND_LABELS.get(row.kind, row.kind),
            f"{row.trainee_name} {row.trainee_id}", row.scenario_title or row.scenario_id,
            _fmt_score(row.total), _fmt_score(row.override_total) if row.review_overall == "override" else "",
            row.result_label or "—", review,
        )
    console.print(table)
    console.print(f"共 {len(rows)} 条。")
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings)
    record = store.load(args.id, check_audio=False)
    reviews = store.reviews(args.id)
    problems = store.verify_audio(args.id)
    if args.json:
        data = {"record": record.to_dict(), "reviews": [r.to_dict() for r in reviews], "audio_problems": problems}
        print_json(data, indent=2)
        return 0
    console = _console()
    console.print(f"会话 {record.id}（{KIND_LABELS.get(record.kind, record.kind)}）")
    console.print(f"学员：{record.trainee_name}（{record.trainee_id}）  场景：{record.scenario_title}（{record.scenario_id}）")
    console.print(f"时间：{local_time(record.started_at)} — {local_time(record.finished_at)}")
    console.print(f"识别：{record.engine} {record.model}  话术库版本：{record.phrasebook_version or '—'}")
    last = reviews[-1] if reviews else None
    overridden = last is not None and last.overall == "override"
    console.print(
        f"{machine_and_override(record.total, last.override_total if last else None, overridden)}，"
        f"机评结果：{VERDICT_LABELS.get(record.verdict, '—')}，"
        f"最终结果：{VERDICT_LABELS.get(shown_result(record.verdict, last.override_passed if overridden and last else None), '—')}"
    )
    dims = dimension_views(record.dimensions)
    for dim in dims:
        console.print(f"  {dim.label}：{dim.text}")
    if any(d.scaled for d in dims):
        console.print(f"  （{SCALING_NOTE}）")
    library = _library(settings)
    path = record_dialogue(record.extra, len(record.turns))
    for turn in record.turns:
        console.print(f"第 {turn.index} 轮  客户：{turn.prompt or '—'}")
        if path and path[turn.index - 1][1]:
            step_id, reaction = path[turn.index - 1]
            title = step_title(library, record.scenario_id, step_id)
            console.print(
                f"  （客户的反应：{REACTION_LABELS.get(reaction.rsplit('.', 1)[-1], reaction)}；"
                f"本轮应做：{f'{title}（{step_id}）' if title else step_id}）"
            )
        console.print(f"  学员：{to_simplified(str(turn.transcript.get('text', '')))}")
        if turn.audio_file:
            console.print(f"  录音：{store.audio_location(record.id, turn.audio_file)}")
    steps = record.steps
    if steps:
        table = Table(title="步骤", show_edge=False)
        for title in ("步骤", "结果", "相似度", "识别文本", "标准用语"):
            table.add_column(title, overflow="fold")
        for step in steps:
            similarity = step.get("similarity")
            title = step_title(library, record.scenario_id, str(step.get("id")))
            table.add_row(
                f"{title}（{step.get('id')}）" if title else str(step.get("id")),
                STATUS_LABELS.get(step.get("status"), str(step.get("status"))),
                f"{similarity:.2f}" if isinstance(similarity, (int, float)) else "—",
                to_simplified(str(step.get("matched_text") or "")), str(step.get("expected") or ""),
            )
        console.print(table)
    scenario = library.scenarios.get(record.scenario_id) if library is not None else None
    reasons = {e.id: e.reason for e in library.forbidden} if library is not None else {}
    for line in advice_lines(advice_of(record.score, scenario, reasons)):  # grouped by turn, each piece once
        console.print(to_simplified(line), markup=False, highlight=False)
    for review in reviews:
        head = f"复核（{review.reviewer}，{local_time(review.created_at)}）：{review_outcome(review, record.verdict)}"
        console.print(head + (f"。{review.comment}" if review.comment else ""))
        for step_id, verdict in review.steps.items():
            console.print(f"  {step_id}：{STEP_VERDICT_LABELS[verdict.verdict]}" + (f"（{verdict.comment}）" if verdict.comment else ""))
    for problem in problems:
        console.print(f"[bold red]警告：{problem}[/]")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    report = export_sessions(_store(settings), _filter(args), args.path)
    for warning in report.warnings:
        print(f"警告：{warning}", file=sys.stderr)
    print(f"已导出 {report.sessions} 次会话、{report.steps} 个步骤：{'、'.join(str(p) for p in report.paths)}")
    return 0


def _step_verdict(text: str) -> tuple[str, tuple[str, str]]:
    """`--step ID=agree|disagree[:备注]` -> (step id, (verdict, note))."""
    step_id, sep, rest = text.partition("=")
    verdict, _, note = rest.partition(":")
    if not sep or not step_id.strip() or verdict.strip() not in VERDICTS:
        raise argparse.ArgumentTypeError(f"步骤意见“{text}”格式有误：应为 步骤编号=agree 或 步骤编号=disagree:备注")
    return step_id.strip(), (verdict.strip(), note.strip())


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings)
    record = store.load(args.id, check_audio=False)
    steps = dict(args.step)
    total = args.total if args.total is not None else round_score(record.total) or 0.0
    if args.agree:
        if record.verdict == REVIEW:
            raise SessionStoreError(
                "机器无法确定这次会话的结果（待复核），“同意机评”不能作出结论：请听录音后用 --pass 或 --fail 作出复核结论，并用 --comment 写明理由。",
                f"--agree on session {record.id} whose machine verdict is review",
            )
        review = build_review(record.id, args.reviewer, steps, "agree", None, None, args.comment)
    elif record.verdict == REVIEW:
        review = build_decision(record.id, args.reviewer, steps, total, args.passed, args.comment)
    else:
        review = build_review(record.id, args.reviewer, steps, "override", total, args.passed, args.comment)
    store.add_review(record.id, review)
    print(f"已保存 {review.reviewer} 对会话 {record.id} 的复核（{review_outcome(review, record.verdict)}）。机评成绩保持不变，列表和导出中显示复核后的结果。")
    return 0


def cmd_delete(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings)
    record = store.load(args.id, check_audio=False)
    if not args.yes:
        if not sys.stdin.isatty():
            raise SessionStoreError("删除需要确认：请在命令后加 --yes。", "delete without --yes on a non-interactive stdin")
        answer = input(f"确定删除 {record.trainee_name}（{record.trainee_id}）的会话 {record.id}？[y/N] ")
        if answer.strip().lower() not in ("y", "yes", "是"):
            print("已取消。")
            return 1
    target = store.delete(args.id, allow_exam=args.force)
    print(f"已删除会话 {args.id}（已移入 {target}，需要时可移回原处并运行 `trainer sessions reindex` 恢复）。")
    return 0


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    report = _store(settings).reindex(temp_max_age=args.temp_max_age)
    print(f"已重建索引：{report.indexed} 次会话，用时 {report.seconds:.2f} 秒。")
    for item in report.corrupt:
        print(f"跳过 {item.path}：{item.reason}")
    if report.removed_temp:
        print(f"已清理 {len(report.removed_temp)} 个中断的保存留下的临时文件夹。")
    if report.removed_review_temp:
        print(f"已清理 {len(report.removed_review_temp)} 个中断的复核保存留下的临时文件。")
    if report.kept_temp:
        print(f"保留 {len(report.kept_temp)} 个临时文件夹（正在保存，或刚创建）。")
    return 0
