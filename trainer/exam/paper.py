"""Exam papers (试卷): YAML data files in `exam_papers/`, validated with line-precise errors.

A paper names either a fixed list of scenarios (`questions`, same for every candidate, in that
order) or a pool to draw from (`pool` + `draw`, drawn per candidate, see `draw.py`), plus the
rules of the exam (see `rules.py`). Example::

    id: counter_cashier_onboarding
    version: 1
    title: 供电营业厅收费员上岗考核
    questions: [payment, reception]
    time_limit_seconds: 45
    attempts: 1
    pass_mark: 80
    feedback: end            # end: breakdown shown after submitting; hidden: pass/fail only
    rules:
      forbidden_fails: true  # 一票否决: any 服务忌语 fails the exam
      min_dimension: {coverage: 60}

Validation walks the nodes of `yaml.compose` so every problem carries its line. A paper with
errors raises `PaperError` listing all of them; `load_papers` reports bad files and keeps the rest.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from trainer.bounded_yaml import YamlLimitError, compose
from trainer.config import SHIPPED_EXAM_PAPERS
from trainer.errors import ExamError

SHIPPED_PAPERS = SHIPPED_EXAM_PAPERS
FEEDBACK_MODES = ("end", "hidden")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
MAX_TIME_LIMIT = 600.0
MAX_PAPER_BYTES = 256 * 1024  # the shipped papers are about 1 KB
TOP_KEYS = (
    "id",
    "version",
    "title",
    "description",
    "questions",
    "pool",
    "draw",
    "time_limit_seconds",
    "attempts",
    "pass_mark",
    "feedback",
    "rules",
)
RULE_KEYS = ("forbidden_fails", "min_dimension")
# Scoring dimensions of `trainer score --json` (issue 4); a minimum may be set for each.
DIMENSIONS = {
    "coverage": "用语覆盖",
    "order": "顺序",
    "forbidden": "服务忌语",
    "politeness": "礼貌用语",
    "amounts": "唱收唱付",
    "fluency": "流利度",
}


@dataclass(frozen=True)
class PaperProblem:
    """One validation error: file, line, field and what is wrong (Chinese)."""

    path: Path | None
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = str(self.path) if self.path else "<试卷>"
        if self.line:
            where = f"{where}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class PaperError(ExamError):
    """An exam paper file is invalid; `problems` lists every error with its line."""

    def __init__(self, problems: Iterable[PaperProblem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"试卷有 {len(self.problems)} 处错误，请修正：\n{lines}", f"invalid exam paper: {lines}")


@dataclass(frozen=True)
class ExamRules:
    """How an exam is marked and conducted. `pass_mark` None: use the configured pass mark."""

    pass_mark: float | None = None
    forbidden_fails: bool = True
    min_dimension: dict[str, float] = field(default_factory=dict)  # per question, per scoring dimension
    attempts: int = 1
    time_limit_seconds: float = 60.0  # per answer (turn)
    feedback: str = "end"  # "end" | "hidden"

    @property
    def feedback_hidden(self) -> bool:
        return self.feedback == "hidden"


@dataclass(frozen=True)
class Paper:
    id: str
    title: str
    version: int = 1
    description: str = ""
    questions: tuple[str, ...] = ()  # fixed list (every candidate answers these, in order)
    pool: tuple[str, ...] = ()  # or: a pool to draw `draw` scenarios from
    draw: int = 0
    rules: ExamRules = field(default_factory=ExamRules)
    source: Path | None = None
    scenario_lines: dict[str, int] = field(default_factory=dict, compare=False)  # scenario id -> line, for errors

    @property
    def is_drawn(self) -> bool:
        return bool(self.pool)

    @property
    def question_count(self) -> int:
        return self.draw if self.is_drawn else len(self.questions)

    def to_dict(self) -> dict[str, Any]:
        """The paper's content (no file path): what is sealed with every exam record."""
        data: dict[str, Any] = {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "description": self.description,
            "time_limit_seconds": self.rules.time_limit_seconds,
            "attempts": self.rules.attempts,
            "pass_mark": self.rules.pass_mark,
            "feedback": self.rules.feedback,
            "rules": {"forbidden_fails": self.rules.forbidden_fails, "min_dimension": dict(self.rules.min_dimension)},
        }
        if self.is_drawn:
            data["pool"] = list(self.pool)
            data["draw"] = self.draw
        else:
            data["questions"] = list(self.questions)
        return data

    @property
    def digest(self) -> str:
        """sha256 of the paper's canonical content: two files with the same content have the same digest."""
        text = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Paper":
        """Rebuild a paper from `to_dict()` (e.g. the snapshot sealed in an exam record)."""
        rules = data.get("rules", {})
        return cls(
            id=data["id"],
            title=data["title"],
            version=int(data.get("version", 1)),
            description=data.get("description", ""),
            questions=tuple(data.get("questions", ())),
            pool=tuple(data.get("pool", ())),
            draw=int(data.get("draw", 0)),
            rules=ExamRules(
                pass_mark=data.get("pass_mark"),
                forbidden_fails=bool(rules.get("forbidden_fails", True)),
                min_dimension={k: float(v) for k, v in rules.get("min_dimension", {}).items()},
                attempts=int(data.get("attempts", 1)),
                time_limit_seconds=float(data.get("time_limit_seconds", 60.0)),
                feedback=data.get("feedback", "end"),
            ),
        )


class _Checker:
    """Collects problems while reading a composed YAML document."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.problems: list[PaperProblem] = []
        self._constructor = SafeConstructor()

    def add(self, node: yaml.Node | None, field_name: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 0
        self.problems.append(PaperProblem(self.path, line, field_name, message))

    def value(self, node: yaml.Node) -> Any:
        return self._constructor.construct_object(node, deep=True)

    def mapping(self, node: yaml.Node, field_name: str, allowed: tuple[str, ...]) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """Keys of a mapping node -> (key node, value node); unknown and duplicate keys reported."""
        if not isinstance(node, yaml.MappingNode):
            self.add(node, field_name, "应为“键: 值”形式的映射")
            return {}
        result: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else ""
            where = f"{field_name}.{key}" if field_name else key
            if key in result:
                self.add(key_node, where, f"重复的字段“{key}”（第 {result[key][0].start_mark.line + 1} 行已有）")
                continue
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"，是否想写“{close[0]}”？" if close else f"。可用字段：{'、'.join(allowed)}"
                self.add(key_node, where, f"未知字段“{key}”{hint}")
                continue
            result[key] = (key_node, value_node)
        return result

    def text(self, node: yaml.Node, field_name: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str" or not str(node.value).strip():
            self.add(node, field_name, "应为非空文字")
            return None
        return str(node.value).strip()

    def integer(self, node: yaml.Node, field_name: str, low: int, high: int | None = None) -> int | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:int":
            self.add(node, field_name, f"应为整数，实际是“{getattr(node, 'value', '')}”")
            return None
        value = int(self.value(node))
        if value < low or (high is not None and value > high):
            bound = f" {low} 到 {high} 之间" if high is not None else f"不小于 {low} "
            self.add(node, field_name, f"应为{bound}的整数，实际是 {value}")
            return None
        return value

    def number(self, node: yaml.Node, field_name: str, low: float, high: float, low_open: bool = False) -> float | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
            self.add(node, field_name, f"应为数字，实际是“{getattr(node, 'value', '')}”")
            return None
        value = float(self.value(node))
        if value != value or value > high or value < low or (low_open and value == low):
            left = "大于" if low_open else "不小于"
            self.add(node, field_name, f"应{left} {low:g} 且不大于 {high:g}，实际是 {value:g}")
            return None
        return value

    def boolean(self, node: yaml.Node, field_name: str) -> bool | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            self.add(node, field_name, "应为 true 或 false")
            return None
        return bool(self.value(node))

    def scenario_list(self, node: yaml.Node, field_name: str, lines: dict[str, int]) -> tuple[str, ...] | None:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.add(node, field_name, "应为至少包含一个场景编号的列表，例如 [payment, complaint]")
            return None
        ids: list[str] = []
        for item in node.value:
            scenario_id = self.text(item, field_name)
            if scenario_id is None:
                continue
            if scenario_id in ids:
                self.add(item, field_name, f"场景“{scenario_id}”重复出现")
                continue
            ids.append(scenario_id)
            lines[scenario_id] = item.start_mark.line + 1
        return tuple(ids)


def parse_paper(text: str, path: Path | None = None, scenario_ids: Iterable[str] | None = None) -> Paper:
    """Parse and validate a paper. `scenario_ids`: the known scenarios (None: not checked here)."""
    check = _Checker(path)
    try:
        root = compose(text)
    except YamlLimitError as exc:
        raise PaperError([PaperProblem(path, exc.line, "", exc.user_message)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise PaperError([PaperProblem(path, line, "", f"YAML 语法错误：{exc.problem or exc}")]) from exc
    except yaml.YAMLError as exc:
        raise PaperError([PaperProblem(path, 0, "", f"YAML 语法错误：{exc}")]) from exc
    if root is None:
        raise PaperError([PaperProblem(path, 0, "", "文件是空的，请按 exam_papers/README.md 填写试卷")])
    fields = check.mapping(root, "", TOP_KEYS)
    if not fields and check.problems:
        raise PaperError(check.problems)

    def node(key: str) -> yaml.Node | None:
        return fields[key][1] if key in fields else None

    paper_id = ""
    if (n := node("id")) is None:
        check.add(root, "id", "缺少试卷编号 id（小写字母、数字、下划线）")
    elif (value := check.text(n, "id")) is not None:
        if ID_PATTERN.match(value):
            paper_id = value
        else:
            check.add(n, "id", f"试卷编号“{value}”只能包含小写字母、数字、下划线和连字符")
    title = ""
    if (n := node("title")) is None:
        check.add(root, "title", "缺少试卷名称 title")
    else:
        title = check.text(n, "title") or ""
    version = 1
    if (n := node("version")) is not None:
        version = check.integer(n, "version", 1) or 1
    description = ""
    if (n := node("description")) is not None:
        description = check.text(n, "description") or ""

    lines: dict[str, int] = {}
    questions: tuple[str, ...] = ()
    pool: tuple[str, ...] = ()
    draw = 0
    q_node, p_node, d_node = node("questions"), node("pool"), node("draw")
    if q_node is not None and p_node is not None:
        check.add(p_node, "pool", "questions（固定题目）与 pool（抽题题库）只能二选一")
    elif q_node is not None:
        questions = check.scenario_list(q_node, "questions", lines) or ()
        if d_node is not None:
            check.add(d_node, "draw", "固定题目（questions）不需要 draw；抽题请改用 pool + draw")
    elif p_node is not None:
        pool = check.scenario_list(p_node, "pool", lines) or ()
        if d_node is None:
            check.add(p_node, "draw", "使用 pool 抽题时必须写 draw（抽几道题）")
        elif (value := check.integer(d_node, "draw", 1)) is not None:
            if pool and value > len(pool):
                check.add(d_node, "draw", f"抽题数 {value} 超过题库中的场景数 {len(pool)}")
            else:
                draw = value
    else:
        check.add(root, "questions", "缺少题目：请写 questions（固定题目列表）或 pool + draw（从题库抽题）")

    rules_values: dict[str, Any] = {}
    if (n := node("time_limit_seconds")) is not None:
        if (value := check.number(n, "time_limit_seconds", 0, MAX_TIME_LIMIT, low_open=True)) is not None:
            rules_values["time_limit_seconds"] = value
    if (n := node("attempts")) is not None:
        if (value := check.integer(n, "attempts", 1, 10)) is not None:
            rules_values["attempts"] = value
    if (n := node("pass_mark")) is not None:
        if (value := check.number(n, "pass_mark", 0, 100)) is not None:
            rules_values["pass_mark"] = value
    if (n := node("feedback")) is not None:
        value = check.text(n, "feedback")
        if value is not None and value not in FEEDBACK_MODES:
            check.add(n, "feedback", f"应为 end（交卷后显示评分明细）或 hidden（只显示是否通过），实际是“{value}”")
        elif value is not None:
            rules_values["feedback"] = value
    if (n := node("rules")) is not None:
        rule_fields = check.mapping(n, "rules", RULE_KEYS)
        if "forbidden_fails" in rule_fields:
            value = check.boolean(rule_fields["forbidden_fails"][1], "rules.forbidden_fails")
            if value is not None:
                rules_values["forbidden_fails"] = value
        if "min_dimension" in rule_fields:
            dim_node = rule_fields["min_dimension"][1]
            if not isinstance(dim_node, yaml.MappingNode):
                check.add(dim_node, "rules.min_dimension", "应为“评分维度: 最低分”的映射，例如 {coverage: 60}")
            else:
                minimums: dict[str, float] = {}
                for key_node, value_node in dim_node.value:
                    name = str(key_node.value)
                    if name in minimums:
                        check.add(key_node, f"rules.min_dimension.{name}", f"重复的维度“{name}”")
                        continue
                    if name not in DIMENSIONS:
                        known = "、".join(f"{k}（{v}）" for k, v in DIMENSIONS.items())
                        check.add(key_node, f"rules.min_dimension.{name}", f"未知的评分维度“{name}”。可用：{known}")
                        continue
                    value = check.number(value_node, f"rules.min_dimension.{name}", 0, 100)
                    if value is not None:
                        minimums[name] = value
                rules_values["min_dimension"] = minimums

    if scenario_ids is not None:
        known = set(scenario_ids)
        for scenario_id in (*questions, *pool):
            if scenario_id not in known:
                close = difflib.get_close_matches(scenario_id, sorted(known), n=1)
                hint = f"，是否想写“{close[0]}”？" if close else f"。可用场景：{'、'.join(sorted(known)) or '（无）'}"
                field_name = "pool" if pool else "questions"
                check.problems.append(PaperProblem(path, lines.get(scenario_id, 0), field_name, f"未知的场景“{scenario_id}”{hint}"))

    if check.problems:
        raise PaperError(sorted(check.problems, key=lambda p: p.line))
    return Paper(
        id=paper_id,
        title=title,
        version=version,
        description=description,
        questions=questions,
        pool=pool,
        draw=draw,
        rules=ExamRules(**rules_values),
        source=path,
        scenario_lines=lines,
    )


def load_paper(path: Path, scenario_ids: Iterable[str] | None = None) -> Paper:
    try:
        size = Path(path).stat().st_size
        if size > MAX_PAPER_BYTES:
            raise PaperError([PaperProblem(Path(path), 0, "", f"文件过大（{size // 1024} KB，上限 {MAX_PAPER_BYTES // 1024} KB）。试卷只列场景和规则，请检查是否放错了文件")])
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExamError(f"找不到试卷文件 {path}。", f"paper file {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExamError(f"无法读取试卷文件 {path}：{exc}。请确认它是 UTF-8 编码的 YAML 文件。", f"cannot read {path}: {exc}") from exc
    return parse_paper(text, Path(path), scenario_ids)


@dataclass(frozen=True)
class PaperSet:
    """All papers of some folders. Bad files are listed in `problems` and skipped."""

    papers: dict[str, Paper]
    problems: tuple[PaperProblem, ...] = ()

    def get(self, paper_id: str) -> Paper:
        try:
            return self.papers[paper_id]
        except KeyError:
            known = "、".join(sorted(self.papers)) or "（无）"
            raise ExamError(f"未知的试卷“{paper_id}”。可用的试卷：{known}。", f"unknown paper {paper_id!r}") from None


def paper_files(folders: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for folder in folders:
        if Path(folder).is_dir():
            files.extend(sorted(p for p in Path(folder).iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()))
    return files


def load_papers(folders: Iterable[Path] = (SHIPPED_PAPERS,), scenario_ids: Iterable[str] | None = None) -> PaperSet:
    known = None if scenario_ids is None else tuple(scenario_ids)
    papers: dict[str, Paper] = {}
    problems: list[PaperProblem] = []
    for path in paper_files(folders):
        try:
            paper = load_paper(path, known)
        except PaperError as exc:
            problems.extend(exc.problems)
            continue
        except ExamError as exc:
            problems.append(PaperProblem(path, 0, "", exc.user_message))
            continue
        if paper.id in papers:
            other = papers[paper.id].source
            problems.append(PaperProblem(path, 1, "id", f"试卷编号“{paper.id}”与 {other} 重复，本文件已跳过"))
            continue
        papers[paper.id] = paper
    return PaperSet(papers, tuple(problems))


def resolve_paper(name: str, folders: Iterable[Path] = (SHIPPED_PAPERS,), scenario_ids: Iterable[str] | None = None) -> Paper:
    """A paper by file path, or by id among the papers of `folders`."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        return load_paper(path, scenario_ids)
    paper_set = load_papers(folders, scenario_ids)
    if name not in paper_set.papers:
        bad = [p for p in paper_set.problems if p.path and p.path.stem == name]
        if bad:
            raise PaperError(bad)
    return paper_set.get(name)
