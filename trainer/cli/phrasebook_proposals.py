"""`trainer phrasebook proposals|approve|reject`: phrasings proposed from instructor reviews.

Registered by `trainer.cli.phrasebook`. The proposals live in the centre's overlay folder
(`Settings.overlay_dir`, see trainer/phrasebook/overlay.py), never in phrasebooks/.
`proposals` first collects new proposals from reviewed sessions, then lists them.
"""

from __future__ import annotations

import argparse
import sys

from rich.markup import escape
from rich.table import Table

from trainer.cli.console import print_json, output_console
from trainer.cli.phrasebook import warn_problems
from trainer.config import Settings
from trainer.phrasebook.loader import library_from_settings
from trainer.phrasebook.model import Library
from trainer.phrasebook.overlay import MACHINE_STATUS_LABELS, keyword_gaps
from trainer.storage.factory import overlay_for, session_store
from trainer.sessions.proposals import store_candidates


def register_actions(actions: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    proposals = actions.add_parser(
        "proposals",
        help="列出教师复核中提出的新说法（待审核）",
        description="先从已复核的会话中收集新的建议（教师把“遗漏/不完整”的步骤判为“不同意”时，该轮的原话），再列出待审核的建议。",
    )
    proposals.add_argument("--all", action="store_true", help="也列出已采用和未采用的建议")
    proposals.add_argument("--json", action="store_true", help="输出 JSON")
    proposals.set_defaults(func=_proposals)

    approve = actions.add_parser("approve", help="采用一条建议（立即作为该步骤的本中心新增说法）")
    approve.add_argument("id", metavar="ID", help="建议编号（见 trainer phrasebook proposals）")
    approve.add_argument("--text", help="采用修改后的说法（默认：原话）")
    approve.add_argument("--by", help="审核人姓名（默认：当前系统用户名）")
    approve.set_defaults(func=_approve)

    reject = actions.add_parser("reject", help="不采用一条建议（已采用的则撤销）")
    reject.add_argument("id", metavar="ID", help="建议编号")
    reject.add_argument("--by", help="审核人姓名（默认：当前系统用户名）")
    reject.add_argument("--note", default="", help="理由（可选）")
    reject.set_defaults(func=_reject)


def _decider(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)
    import getpass

    try:
        return getpass.getuser() or "命令行"
    except Exception:  # no user name in this environment
        return "命令行"


def _step_title(library: Library, scenario_id: str, step_id: str) -> str:
    scenario = library.scenarios.get(scenario_id)
    step = next((s for s in scenario.steps if s.id == step_id), None) if scenario else None
    return f"{scenario.title} · {step.title}" if scenario and step else f"{scenario_id} · {step_id}"


def _proposals(args: argparse.Namespace, settings: Settings) -> int:
    library = library_from_settings(settings)
    warn_problems(library)
    overlay = overlay_for(settings)
    known = {(p.session_id, p.step_id) for p in overlay.read().proposals}
    candidates, skipped = store_candidates(session_store(settings), lambda sid, step: (sid, step) in known)
    outcomes = overlay.propose_all(candidates, library)
    not_proposed = [(o.session_id, o.step_id, o.reason) for o in outcomes if o.proposal is None]
    not_proposed += [(s.session_id, s.step_id, s.reason) for s in skipped]
    state = overlay.read()
    shown = list(state.proposals) if args.all else state.pending
    if args.json:
        document = {
            "overlay_dir": str(overlay.root),
            "proposals": [p.to_dict() for p in shown],
            "not_proposed": [{"session_id": s, "step_id": t, "reason": r} for s, t, r in not_proposed],
        }
        print_json(document)
        return 0
    console = output_console()
    new = sum(1 for o in outcomes if o.created)
    if new:
        console.print(f"从复核意见中新收集了 {new} 条建议。")
    if not shown:
        console.print("没有待审核的新说法。" if not args.all else "还没有任何新说法建议。")
    else:
        table = Table(title=f"{'全部' if args.all else '待审核的'}新说法建议（{len(shown)} 条，保存在 {escape(str(overlay.root))}）")
        for column in ("编号", "场景 · 步骤", "说法", "机评", "来源", "复核人", "状态"):
            table.add_column(column, overflow="fold")
        for p in shown:
            scenario = library.scenarios.get(p.scenario_id)
            step = next((s for s in scenario.steps if s.id == p.step_id), None) if scenario else None
            text = escape(p.phrasing)
            gaps = keyword_gaps(step, p.phrasing) if step is not None else []
            if gaps and p.status == "pending":
                text += f"\n[yellow]缺少关键词：{escape('、'.join(gaps))}（照此说只能判“不完整”）[/yellow]"
            if p.review_comment:
                text += f"\n[dim]复核备注：{escape(p.review_comment)}[/dim]"
            table.add_row(
                p.id,
                escape(_step_title(library, p.scenario_id, p.step_id)),
                text,
                MACHINE_STATUS_LABELS.get(p.machine_status, p.machine_status),
                f"{p.session_id} 第 {p.turn} 轮",
                escape(p.reviewer),
                p.status_label + (f"（{escape(p.decided_by)}）" if p.decided_by else ""),
            )
        console.print(table)
        if any(p.status == "pending" for p in shown):
            console.print("采用：trainer phrasebook approve 编号 [--text 修改后的说法]　不采用：trainer phrasebook reject 编号")
    if not_proposed:
        console.print(f"[dim]另有 {len(not_proposed)} 处“不同意”的复核意见没有生成建议：[/dim]")
        for session_id, step_id, reason in not_proposed:
            console.print(f"[dim]  {session_id} 步骤 {escape(step_id)}：{escape(reason)}[/dim]")
    return 0


def _approve(args: argparse.Namespace, settings: Settings) -> int:
    library = library_from_settings(settings)
    proposal = overlay_for(settings).approve(args.id, _decider(args), text=args.text, library=library)
    print(f"已采用建议 {proposal.id}：“{proposal.phrasing}”现在是 {_step_title(library, proposal.scenario_id, proposal.step_id)} 的本中心新增说法。")
    scenario = library.scenarios.get(proposal.scenario_id)
    step = next((s for s in scenario.steps if s.id == proposal.step_id), None) if scenario else None
    gaps = keyword_gaps(step, proposal.phrasing) if step is not None else []
    if gaps:
        print(f"注意：这个说法缺少本步骤的关键词 {'、'.join(gaps)}：学员原样说出时算完成；换个说法又缺这些关键词时只能判为“不完整”。", file=sys.stderr)
    return 0


def _reject(args: argparse.Namespace, settings: Settings) -> int:
    before = overlay_for(settings).get(args.id)
    proposal = overlay_for(settings).reject(args.id, _decider(args), note=args.note)
    done = "已撤销采用" if before.status == "approved" else "已不采用"
    print(f"{done}建议 {proposal.id}（“{proposal.text}”）。")
    return 0
