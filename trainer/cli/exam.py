"""`trainer exam …`: certification exams — papers, batch marking, roster, verification, reports.

How audio files map to questions in `trainer exam run PAPER --candidate ID AUDIO...`:
- without --turns, each AUDIO argument is one question, in question order: a file is the whole
  answer in one recording; a folder holds one file per turn (its turn*.wav / turn*.* files in
  name order, or all its audio files when there is none named turn*);
- with --turns 10,4, the AUDIO arguments are files, one per turn: the first 10 are question 1's
  turns, the next 4 question 2's, and so on.
For a paper that draws questions, `trainer exam draw PAPER --candidate ID` tells which
scenarios the candidate gets, in order (the same draw `run` uses).

An exam the machine cannot decide is 待复核 (see trainer.exam.rules): `trainer exam list --pending`
lists the queue, `trainer exam decide EXAM_ID --pass|--fail --reason … --reviewer NAME [--total N]`
seals the decision (an override entry marked as the decision of the review).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from datetime import date
from pathlib import Path
from typing import Any

from rich.table import Table

from trainer.scoring.display import passed_label, score_text
from trainer.cli.console import print_json, output_console
from trainer.config import ENGINES, Settings
from trainer.errors import ExamError
from trainer.exam.draw import draw_questions
from trainer.exam.paper import SHIPPED_PAPERS, DIMENSIONS, load_papers, resolve_paper
from trainer.exam.records import load_result, roster, state_label
from trainer.exam.report import export_roster, local_time, write_report
from trainer.exam.runner import check_candidate, decide_review, grant_attempt, override_exam, run_exam
from trainer.exam.anchor import parse_head_ref
from trainer.exam.seal import exam_key, exam_key_if_available
from trainer.exam.verify import verify_all
from trainer.storage.factory import ledger_for, session_store

RUN_DESCRIPTION = """\
按录音给一场考试阅卷并封存（适用于在别处录好的考试录音）。录音与题目的对应关系：
  不加 --turns：每个 AUDIO 参数是一道题，按题目顺序排列。
    · 文件：该题的全部回答录在一个文件里；
    · 文件夹：一段回答一个文件，取其中 turn*.wav（turn01.wav、turn02.wav…）按文件名顺序；
      没有 turn 开头的文件时取文件夹中全部录音文件。
  加 --turns 10,4：AUDIO 逐个列出每段回答的文件，前 10 个是第 1 题的各段，后 4 个是第 2 题的各段。
抽题试卷请先用 `trainer exam draw 试卷 --candidate 考生编号` 查看该考生抽到的题目和顺序。
每位考生在每份试卷上的考试次数受试卷 attempts 限制；需要考试密钥（TRAINER_EXAM_KEY）。
"""

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".webm", ".opus")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期“{text}”格式不对，请写成 2026-11-23") from None


def _turn_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--turns“{text}”格式不对，请写成每题的段数，用逗号分隔，如 10,4") from None
    if not counts or any(n < 1 for n in counts):
        raise argparse.ArgumentTypeError("--turns 中每题至少 1 段")
    return counts


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("exam", help="考核：试卷、批量阅卷、成绩、防篡改验证、成绩单", description="上岗/复训考核")
    commands = parser.add_subparsers(dest="exam_command", metavar="ACTION")
    parser.set_defaults(func=lambda args, settings: (parser.print_help(), 2)[1])
    dirs = argparse.ArgumentParser(add_help=False)
    dirs.add_argument("--papers-dir", type=Path, action="append", help=f"试卷目录（默认 {SHIPPED_PAPERS} 及配置 exam_paper_dirs），可重复")

    p = commands.add_parser("papers", parents=[dirs], help="列出并校验试卷（有错误时退出码非 0）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_papers)

    p = commands.add_parser("draw", parents=[dirs], help="查看某考生在某试卷上抽到的题目")
    p.add_argument("paper", metavar="PAPER", help="试卷编号或试卷文件")
    p.add_argument("--candidate", required=True, help="考生编号（工号）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_draw)

    p = commands.add_parser(
        "run", parents=[dirs], help="按录音批量阅卷：完整考一场并封存",
        description=RUN_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paper", metavar="PAPER", help="试卷编号或试卷文件")
    p.add_argument("audio", metavar="AUDIO", nargs="+", type=Path, help="各题录音（文件或文件夹，按题目顺序）")
    p.add_argument("--candidate", required=True, help="考生编号（工号）")
    p.add_argument("--name", default="", help="考生姓名")
    p.add_argument("--turns", type=_turn_counts, help="每题的录音段数，如 10,4（此时 AUDIO 为逐段的文件）")
    p.add_argument("--engine", choices=ENGINES, help="识别引擎（默认按配置）")
    p.add_argument("--json", action="store_true", help="输出完整考试记录 JSON")
    p.set_defaults(func=cmd_run)

    p = commands.add_parser("list", help="考试成绩名册")
    p.add_argument("--paper", help="试卷编号")
    p.add_argument("--candidate", help="考生编号，或姓名中的一部分")
    p.add_argument("--since", type=_date, help="从这一天起（含），如 2026-11-01")
    p.add_argument("--until", type=_date, help="到这一天止（含）")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--passed", dest="state", action="store_const", const="pass", help="只看通过的")
    group.add_argument("--failed", dest="state", action="store_const", const="fail", help="只看未通过的")
    group.add_argument("--pending", dest="state", action="store_const", const="review", help="只看待复核的（等待考评员复核）")
    p.add_argument("--export", type=Path, metavar="FILE", help="导出为 .csv 或 .xlsx")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = commands.add_parser("show", help="查看一场考试的记录")
    p.add_argument("exam_id", metavar="EXAM_ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = commands.add_parser(
        "verify", help="核对全部考试记录的封印与哈希链（发现篡改时退出码非 0）",
        description="核对全部考试记录的封印与哈希链。账本末尾（最后一条记录的序号与指纹）每次写入后记在索引数据库中，"
        "也印在成绩单和导出的名册上：用 --head 给出其中之一，可以发现末尾被删掉的记录（例如最后的改判）。",
    )
    p.add_argument("--head", action="append", default=[], metavar="N|HASH",
                   help="账本至少应有的末尾：序号（如 12）或封印指纹（如 1A2B-3C4D-5E6F-7A8B），可重复")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verify)

    p = commands.add_parser(
        "repair", help="清除账本末尾写入中断留下的残行（记入账本）",
        description="磁盘写满、断电或进程被终止时，账本最后一行可能只写了一半。本命令只删除这种未封存的残行，"
        "并把删除的字节数与校验值作为一条封存记录写入账本；完整的记录永远不会被删除。",
    )
    p.set_defaults(func=cmd_repair)

    p = commands.add_parser("report", help="生成可打印的考生成绩单（HTML，可在浏览器中打印为 PDF）")
    p.add_argument("exam_id", metavar="EXAM_ID")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.html")
    p.set_defaults(func=cmd_report)

    p = commands.add_parser("override", help="考评员改判（作为新的封存记录追加，不修改原记录）")
    p.add_argument("exam_id", metavar="EXAM_ID")
    p.add_argument("--instructor", required=True, help="考评员姓名")
    verdict = p.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--pass", dest="passed", action="store_const", const=True, help="改判为通过")
    verdict.add_argument("--fail", dest="passed", action="store_const", const=False, help="改判为未通过")
    p.add_argument("--total", type=float, help="改判分数（0–100，可选）")
    p.add_argument("--comment", required=True, help="改判说明")
    p.set_defaults(func=cmd_override)

    p = commands.add_parser("decide", help="复核待复核的考试：作出通过/未通过的结论（作为新的封存记录追加）")
    p.add_argument("exam_id", metavar="EXAM_ID")
    p.add_argument("--reviewer", required=True, help="复核教师姓名")
    decision = p.add_mutually_exclusive_group(required=True)
    decision.add_argument("--pass", dest="passed", action="store_const", const=True, help="复核为通过")
    decision.add_argument("--fail", dest="passed", action="store_const", const=False, help="复核为未通过")
    p.add_argument("--reason", required=True, help="复核理由（必填）")
    p.add_argument("--total", type=float, help="复核后的总分（0–100，可选；不填则保留机评总分）")
    p.set_defaults(func=cmd_decide)

    p = commands.add_parser("grant", parents=[dirs], help="登记补考机会（作为新的封存记录追加）")
    p.add_argument("paper", metavar="PAPER")
    p.add_argument("--candidate", required=True)
    p.add_argument("--instructor", required=True)
    p.add_argument("--reason", required=True)
    p.add_argument("--extra", type=int, default=1, help="补考次数（默认 1）")
    p.set_defaults(func=cmd_grant)


def _dirs(args: argparse.Namespace, settings: Settings) -> list[Path]:
    return list(args.papers_dir) if getattr(args, "papers_dir", None) else list(settings.all_exam_paper_dirs)


def _library(settings: Settings):
    from trainer.phrasebook.loader import library_from_settings

    return library_from_settings(settings)


def _print_json(data: Any) -> None:
    print_json(data, indent=2)


def cmd_papers(args: argparse.Namespace, settings: Settings) -> int:
    library = _library(settings)
    paper_set = load_papers(_dirs(args, settings), library.scenarios)
    if args.json:
        _print_json({
            "papers": [{**p.to_dict(), "file": str(p.source), "digest": p.digest} for p in paper_set.papers.values()],
            "problems": [{"file": str(p.path), "line": p.line, "field": p.field, "message": p.message} for p in paper_set.problems],
        })
    else:
        console = output_console()
        table = Table(title="试卷")
        for column in ("编号", "名称", "题目", "时限/段", "次数", "及格线", "明细", "规则"):
            table.add_column(column)
        for p in paper_set.papers.values():
            questions = f"从 {'、'.join(p.pool)} 中抽 {p.draw} 道" if p.is_drawn else "、".join(p.questions)
            rules = ["一票否决" if p.rules.forbidden_fails else "忌语不否决"]
            rules += [f"{DIMENSIONS.get(k, k)}≥{v:g}" for k, v in p.rules.min_dimension.items()]
            table.add_row(
                p.id, p.title, questions, f"{p.rules.time_limit_seconds:g} 秒", str(p.rules.attempts),
                f"{p.rules.pass_mark:g}" if p.rules.pass_mark is not None else f"{settings.pass_mark:g}（配置）",
                "隐藏" if p.rules.feedback_hidden else "交卷后显示", "，".join(rules),
            )
        console.print(table)
        for problem in paper_set.problems:
            print(f"错误：{problem}", file=sys.stderr)
    return 1 if paper_set.problems else 0


def cmd_draw(args: argparse.Namespace, settings: Settings) -> int:
    library = _library(settings)
    paper = resolve_paper(args.paper, _dirs(args, settings), library.scenarios)
    candidate, _ = check_candidate(args.candidate)
    draw = draw_questions(paper, candidate, exam_key(settings))
    if args.json:
        _print_json(draw.to_dict())
    else:
        print(f"{paper.title}（{paper.id} 第 {paper.version} 版）考生 {candidate} 的题目：")
        for i, scenario_id in enumerate(draw.scenarios, 1):
            scenario = library.scenario(scenario_id)
            print(f"  第 {i} 题  {scenario_id}  {scenario.title}（{len(scenario.steps)} 个步骤）")
    return 0


def _folder_turns(folder: Path) -> list[Path]:
    audio = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
    turns = [p for p in audio if p.name.lower().startswith("turn")]
    chosen = turns or audio
    if not chosen:
        raise ExamError(f"文件夹 {folder} 中没有录音文件（{'、'.join(AUDIO_SUFFIXES)}）。", f"no audio in {folder}")
    return chosen


def group_audio(paths: list[Path], turns: list[int] | None) -> list[list[Path]]:
    """The turn files of each question, as documented in this module."""
    for path in paths:
        if not path.exists():
            raise ExamError(f"找不到录音 {path}。", f"{path} does not exist")
    if turns is None:
        return [_folder_turns(p) if p.is_dir() else [p] for p in paths]
    if any(p.is_dir() for p in paths):
        raise ExamError("使用 --turns 时请逐个列出每段录音文件，不要给文件夹。", "--turns with a folder")
    if sum(turns) != len(paths):
        raise ExamError(
            f"--turns {','.join(map(str, turns))} 共 {sum(turns)} 段，但给出了 {len(paths)} 个录音文件。",
            f"--turns sums to {sum(turns)}, {len(paths)} files given",
        )
    groups, start = [], 0
    for n in turns:
        groups.append(paths[start : start + n])
        start += n
    return groups


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if args.engine:
        settings = dataclasses.replace(settings, engine=args.engine)
    exam_key(settings)  # a missing key is reported before anything else
    library = _library(settings)
    paper = resolve_paper(args.paper, _dirs(args, settings), library.scenarios)
    groups = group_audio(list(args.audio), args.turns)
    result = run_exam(paper, args.candidate, args.name, groups, settings, library)
    if args.json:
        _print_json(result.to_dict())
        return 0
    _print_result(result)
    return 0


def _print_result(result) -> None:
    console = output_console()
    verdict = result.verdict
    console.print(f"[bold]{result.paper.title}[/bold]  考生 {result.candidate_id} {result.candidate_name}  第 {result.attempt} 次")
    table = Table()
    table.add_column("题")
    table.add_column("场景")
    seen = {d for q in verdict.questions for d in q.dimensions}
    dims = [d for d in DIMENSIONS if d in seen] + sorted(seen - set(DIMENSIONS))
    for d in dims:
        table.add_column(DIMENSIONS.get(d, d), justify="right")
    table.add_column("总分", justify="right")
    for q, qv in zip(result.questions, verdict.questions):
        title = q.scenario_title + ("（待复核）" if qv.under_review else "")
        table.add_row(str(q.index), title, *[score_text(qv.dimensions.get(d)) for d in dims], score_text(qv.total))
    console.print(table)
    colour = {"pass": "green", "fail": "red"}.get(result.state, "yellow")
    console.print(f"总分 {score_text(result.total)}（及格线 {score_text(verdict.pass_mark)}）：[bold {colour}]{state_label(result.state)}[/bold {colour}]")
    if result.pending_review:
        console.print(f"机器无法确定结果，等待考评员复核（机评倾向：{passed_label(verdict.passed)}，仅供参考）。"
                      f"复核：trainer exam decide {result.exam_id} --pass|--fail --reason … --reviewer 姓名", soft_wrap=True)
    for reason in verdict.review_reasons:
        console.print(f"  [yellow]?[/yellow] {reason}")
    for reason in verdict.reasons:
        console.print(f"  [red]·[/red] {reason}")
    for note in verdict.notes:
        console.print(f"  · {note}")
    for o in result.overrides:
        what = "复核为" if o.is_review_decision else "改判为"
        total = f"，{score_text(o.total)} 分" if o.total is not None else ""
        console.print(f"  {local_time(o.time)} {o.instructor} {what}“{state_label('pass' if o.passed else 'fail')}”{total}：{o.comment}（账本第 {o.seq} 号）", soft_wrap=True)
    console.print(f"考试编号 {result.exam_id}，账本第 {result.seq} 号，封印指纹 {result.fingerprint}", soft_wrap=True)


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    store = session_store(settings)
    key = exam_key_if_available(settings)
    rows = roster(store, args.paper, args.since, args.until, args.candidate, key=key, state=args.state)
    if args.export:
        export_roster(rows, args.export, head=ledger_for(store).head())
        print(f"已导出 {len(rows)} 条考试记录到 {args.export}")
        return 0
    if args.json:
        _print_json([r.to_dict() for r in rows])
        return 0
    if not rows:
        print("没有待复核的考试。" if args.state == "review" else "没有符合条件的考试记录。")
        return 0
    pending = sum(1 for r in rows if r.pending_review)
    title = f"待复核的考试（{len(rows)} 条）" if args.state == "review" else f"考试成绩（{len(rows)} 条{f'，其中待复核 {pending} 条' if pending else ''}）"
    table = Table(title=title)
    table.add_column("考试编号", overflow="fold")  # the id is needed for `report`/`show`/`decide`: never cut it
    for column in ("交卷时间", "考生", "试卷", "次", "总分", "结果", "封印"):
        table.add_column(column)
    for r in rows:
        result = state_label(r.state) + ("（改判）" if r.overridden else "（已复核）" if r.reviewer else "")
        seal = {True: "完好", False: "不符", None: "未校验"}[r.seal_ok]
        table.add_row(r.exam_id, local_time(r.finished_at), f"{r.candidate_id} {r.candidate_name}", r.paper_title,
                      str(r.attempt), score_text(r.total), result, seal)
    output_console().print(table)
    for r in rows:
        if r.pending_review:
            print(f"待复核 {r.exam_id}（{r.candidate_id} {r.candidate_name}）：{r.review_reasons or '机器无法确定结果'}")
    if pending:
        print("复核：trainer exam decide 考试编号 --pass 或 --fail --reason \"理由\" --reviewer 姓名")
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    result = load_result(session_store(settings), args.exam_id)
    if args.json:
        _print_json(result.to_dict())
    else:
        _print_result(result)
        for q in result.questions:
            print(f"第 {q.index} 题会话：{q.session_id}（trainer sessions show {q.session_id}）")
    return 0


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    heads = [parse_head_ref(text) for text in args.head]
    report = verify_all(session_store(settings), exam_key(settings), heads)
    if args.json:
        _print_json(report.to_dict())
        return 0 if report.ok else 1
    print(report.summary())
    for problem in report.problems:
        print(f"  ✗ {problem.message}")
    if report.torn_tail is not None:
        print(f"提示：{report.torn_message}")
    for notice in report.notices:
        print(f"提示：{notice}")
    if report.unfinished:
        print(f"已开始但未交卷的考试（计入考试次数）：{'、'.join(report.unfinished)}")
    if report.pending_review:
        print(f"待复核、尚未作出结论的考试（不属于篡改）：{'、'.join(report.pending_review)}")
    if not report.ok:
        print(f"涉及的记录：{'、'.join(report.named) or '（见上）'}", file=sys.stderr)
    return 0 if report.ok else 1


def cmd_repair(args: argparse.Namespace, settings: Settings) -> int:
    ledger = ledger_for(session_store(settings))
    done = ledger.repair(exam_key(settings))
    if done.action == "none":
        print(f"账本 {ledger.path} 末尾完好，无需修复。")
    elif done.action == "newline":
        print("账本最后一条记录完整，只缺换行符：已补上换行符，没有删除任何内容。")
    else:
        assert done.entry is not None
        print(f"已删除账本末尾写入中断留下的残行（{done.removed_bytes} 字节），并记入账本第 {done.entry['seq']} 号记录。")
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    store = session_store(settings)
    result = load_result(store, args.exam_id)
    path = write_report(result, args.out, _library(settings), head=ledger_for(store).head())
    print(f"成绩单已写入 {path}（用浏览器打开后可打印或另存为 PDF）")
    return 0


def cmd_override(args: argparse.Namespace, settings: Settings) -> int:
    override = override_exam(settings, args.exam_id, args.instructor, args.passed, args.comment, args.total)
    print(f"已追加改判记录（账本第 {override.seq} 号）：考试 {args.exam_id} → {passed_label(override.passed)}")
    return 0


def cmd_decide(args: argparse.Namespace, settings: Settings) -> int:
    decision = decide_review(settings, args.exam_id, args.reviewer, args.passed, args.reason, args.total)
    total = f"，{score_text(decision.total)} 分" if decision.total is not None else ""
    print(f"已封存复核结论（账本第 {decision.seq} 号）：考试 {args.exam_id} → {state_label('pass' if decision.passed else 'fail')}{total}")
    return 0


def cmd_grant(args: argparse.Namespace, settings: Settings) -> int:
    library = _library(settings)
    paper = resolve_paper(args.paper, _dirs(args, settings), library.scenarios)
    entry = grant_attempt(settings, paper, args.candidate, args.instructor, args.reason, args.extra)
    print(f"已登记补考机会（账本第 {entry['seq']} 号）：考生 {args.candidate} 可再参加“{paper.title}” {args.extra} 次")
    return 0
