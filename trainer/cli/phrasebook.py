"""`trainer phrasebook check|show|list`: validate phrasebook files and show scenarios as trainees see them.
(`record-lines` lives in trainer/cli/record_lines.py, proposals in phrasebook_proposals.py.)"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from trainer.cli.console import output_console
from trainer.config import Settings
from trainer.dialogue import describe_reaction
from trainer.phrasebook.loader import check_paths, library_from_settings, load_library, phrasebook_files
from trainer.phrasebook.model import REACTION_LABELS, Library, Scenario, Step
from trainer.phrasebook.parse import DOMAIN_LABELS, ROLE_LABELS, SEVERITY_LABELS, SLOT_KIND_LABELS

_SLOT = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("phrasebook", help="词库：检查文件、列出和查看场景", description="词库（文明服务用语、服务忌语）工具")
    actions = parser.add_subparsers(dest="phrasebook_action", metavar="ACTION")

    check = actions.add_parser("check", help="检查词库文件，逐行报告错误", description="检查词库文件。不给路径时检查配置的全部词库目录。有错误时退出码为 1。")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="词库文件或目录（默认：内置 phrasebooks/ 和配置的目录）")
    check.set_defaults(func=_check)

    show = actions.add_parser("show", help="按学员看到的样子显示一个场景")
    show.add_argument("scenario", metavar="SCENARIO", help="场景 id，例如 payment")
    show.set_defaults(func=_show)

    listing = actions.add_parser("list", help="列出全部场景")
    listing.set_defaults(func=_list)

    from trainer.cli.phrasebook_proposals import register_actions  # proposals / approve / reject
    from trainer.cli.record_lines import register_action as register_record_lines

    register_actions(actions)
    register_record_lines(actions)

    def _usage(args: argparse.Namespace, settings: Settings) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=_usage)


def _check(args: argparse.Namespace, settings: Settings) -> int:
    paths: list[Path] = list(args.paths)
    if paths:
        problems = check_paths(paths, settings.placeholders, context=settings.all_phrasebook_dirs)
        library = load_library([*settings.all_phrasebook_dirs, *paths], settings.placeholders)
    else:
        paths = list(settings.all_phrasebook_dirs)
        library = library_from_settings(settings)
        problems = list(library.problems)
    for problem in problems:
        print(problem)
    if problems:
        files = {p.path for p in problems}
        print(f"共 {len(problems)} 个问题，涉及 {len(files)} 个文件。有问题的文件不会被加载，请按上面的行号修改后再检查。")
        return 1
    checked = {f.resolve() for f in phrasebook_files(paths)}
    scenarios = [s for s in library.scenarios.values() if s.source is not None and s.source.resolve() in checked]
    forbidden = [e for e in library.forbidden if e.source is not None and e.source.resolve() in checked]
    print(
        f"词库检查通过：{len(checked)} 个文件，{len(scenarios)} 个场景，{sum(len(s.steps) for s in scenarios)} 个步骤，"
        f"{len(forbidden)} 条通用服务忌语，{sum(len(s.forbidden) for s in scenarios)} 条场景专用忌语（词库版本 {library.version or '-'}）。"
    )
    return 0


def warn_problems(library: Library) -> None:
    """One line on stderr when phrasebook files were skipped (stdout stays clean for --json)."""
    if library.problems:
        files = len({p.path for p in library.problems})
        print(f"注意：{files} 个词库文件有错误，已跳过。运行 trainer phrasebook check 查看详情。", file=sys.stderr)


def _slot_label(step: Step, text: str) -> str:
    slots = {s.name: s for s in step.slots}

    def label(match: re.Match[str]) -> str:
        slot = slots.get(match.group(1))
        if slot is None:
            return match.group(0)
        return f"〔{slot.description or SLOT_KIND_LABELS.get(slot.kind, slot.kind)}〕"

    return _SLOT.sub(label, text)


def _unwrap(text: str) -> str:
    """Join hard-wrapped lines of Chinese prose (YAML `|` blocks); keep blank-line paragraph breaks."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join("".join(line.strip() for line in p.splitlines()) for p in paragraphs)


def render_scenario(scenario: Scenario, console: Console) -> None:
    """Print a scenario as a trainee reads it: the situation, then the dialogue step by step."""
    meta = f"{ROLE_LABELS.get(scenario.role, scenario.role)} · {DOMAIN_LABELS.get(scenario.domain, scenario.domain)} · 难度 {'★' * scenario.difficulty}{'☆' * (3 - scenario.difficulty)}"
    console.print(Panel(f"[dim]{meta}[/dim]\n\n{escape(_unwrap(scenario.brief))}", title=f"[bold]{escape(scenario.title)}[/bold]（{scenario.id}）", title_align="left"))
    for number, step in enumerate(scenario.steps, start=1):
        if step.customer:
            console.print(f"  [cyan]客户：[/cyan]{escape(step.customer)}")
        optional = "（可选）" if not step.required else ""
        console.print(f"[bold]{number}. {escape(step.title)}{optional}[/bold]")
        console.print(f"   [green]标准用语：[/green]{escape(_slot_label(step, step.expected))}")
        others = [_slot_label(step, p) for p in step.all_phrasings[1:3]]
        if others:
            console.print(f"   [dim]也可以说：{escape(' / '.join(others))}[/dim]")
        if step.tip:
            console.print(f"   [yellow]提示：[/yellow]{escape(step.tip)}")
        if step.source:
            console.print(f"   [dim]依据：{escape(step.source)}[/dim]")
        _render_reactions(step, scenario, console)
    if scenario.extra_steps:
        console.print("[bold]补救步骤（只在客户的反应插入时出现，出现后计入评分）[/bold]")
        for step in scenario.extra_steps:
            console.print(f"[bold]· {escape(step.title)}[/bold]（{step.id}）")
            console.print(f"   [green]标准用语：[/green]{escape(_slot_label(step, step.expected))}")
            if step.tip:
                console.print(f"   [yellow]提示：[/yellow]{escape(step.tip)}")
            _render_reactions(step, scenario, console)
    if scenario.forbidden:
        console.print("[bold red]本场景特别注意（服务忌语）[/bold red]")
        for entry in scenario.forbidden:
            console.print(f"  ✗ {escape(entry.phrase)}（{SEVERITY_LABELS.get(entry.severity, entry.severity)}） → 应说：{escape(entry.replacement)}")


def _render_reactions(step: Step, scenario: Scenario, console: Console) -> None:
    """How the customer reacts to this step: 说了忌语 → the line, and the step it inserts."""
    for kind, reaction in step.reactions.items():
        text = escape(describe_reaction(reaction, scenario, "，"))
        console.print(f"   [magenta]客户反应（{REACTION_LABELS[kind]}）：[/magenta]{text}")


def _show(args: argparse.Namespace, settings: Settings) -> int:
    library = library_from_settings(settings)
    warn_problems(library)
    scenario = library.scenario(args.scenario)  # ScenarioNotFoundError lists the known ids
    render_scenario(scenario, output_console())
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    library = library_from_settings(settings)
    warn_problems(library)
    table = Table(title=f"场景（共 {len(library.scenarios)} 个，词库版本 {library.version or '-'}）")
    table.add_column("id", no_wrap=True)
    table.add_column("标题", overflow="fold")
    for column in ("岗位", "领域", "难度", "步骤"):
        table.add_column(column, no_wrap=True)
    for scenario in library.scenarios.values():
        table.add_row(
            scenario.id,
            escape(scenario.title),
            ROLE_LABELS.get(scenario.role, scenario.role),
            DOMAIN_LABELS.get(scenario.domain, scenario.domain),
            str(scenario.difficulty),
            str(len(scenario.steps)),
        )
    output_console().print(table)
    return 0
