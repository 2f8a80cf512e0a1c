"""Validate one phrasebook file (YAML bytes) into domain objects.

Checks that need only this file live here: syntax, types, required/unknown fields,
ids, empty phrases, weights, choices, placeholders, keyword consistency. Checks
across files (duplicate ids, forbidden entries naming unknown scenarios) are in
`loader.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from trainer.bounded_yaml import YamlLimitError, compose
from trainer.phrasebook.model import (
    SEVERITY_LABELS,
    CUE_ADDRESS,
    CUE_EXACT,
    CUE_SEPARATOR,
    CUE_WORD_MAX,
    ROLES,
    SEVERITIES,
    SLOT_KINDS,
    ForbiddenEntry,
    REACTION_KINDS,
    REACTION_LABELS,
    PhrasebookProblem,
    Reaction,
    Reactions,
    Scenario,
    Slot,
    Step,
)
from trainer.phrasebook.nodes import NodeReader, line_of
from trainer.phrasebook.placeholders import fill, placeholder_names

DOMAINS = ("power", "gas", "water", "general")
ROLE_LABELS = {"counter": "柜台", "hotline": "热线", "guide": "引导", "field": "上门/现场"}
DOMAIN_LABELS = {"power": "供电", "gas": "燃气", "water": "供水", "general": "通用"}
SLOT_KIND_LABELS = {
    "amount": "金额",
    "number": "数量",
    "digits": "号码",
    "name": "姓名",
    "days": "天数",
    "time": "时间",
    "text": "文字",
}

TOP_KEYS = ("scenarios", "forbidden", "lexicon")
SCENARIO_REQUIRED = ("id", "title", "role", "brief", "steps")
SCENARIO_OPTIONAL = ("domain", "difficulty", "forbidden")
STEP_REQUIRED = ("id", "title", "phrases")
STEP_OPTIONAL = ("required", "source", "weight", "customer", "variants", "keywords", "cues", "slots", "tip", "reactions", "extra", "restates", "restates_numbers", "on_handover")
REACTION_FIELDS = ("customer", "insert")
SLOT_REQUIRED = ("name", "kind")
SLOT_OPTIONAL = ("description",)
FORBIDDEN_REQUIRED = ("id", "phrase", "severity", "reason", "replacement")
FORBIDDEN_OPTIONAL_SHARED = ("variants", "exceptions", "scenarios", "performs")
FORBIDDEN_OPTIONAL_OWN = ("variants", "exceptions", "performs")
LEXICON_OPTIONAL = ("politeness_words", "fillers", "rate_min", "rate_max", "long_pause_seconds", "synonyms", "handover_words", "when_words")


@dataclass(frozen=True)
class ScenarioRef:
    """A shared forbidden entry's `scenarios:` item, checked once every file is loaded."""

    entry_id: str
    scenario_id: str
    line: int


@dataclass(frozen=True)
class StepRef:
    """A forbidden entry's `performs:` item (a step id), checked once every file is loaded."""

    entry_id: str
    step_id: str
    line: int


@dataclass
class ParsedFile:
    path: Path
    data: bytes
    scenarios: list[Scenario] = field(default_factory=list)
    forbidden: list[ForbiddenEntry] = field(default_factory=list)
    lexicon: dict[str, Any] = field(default_factory=dict)
    refs: list[ScenarioRef] = field(default_factory=list)
    step_refs: list[StepRef] = field(default_factory=list)
    problems: list[PhrasebookProblem] = field(default_factory=list)

    @property
    def all_forbidden(self) -> list[ForbiddenEntry]:
        """Shared entries and every scenario's own entries."""
        return self.forbidden + [e for s in self.scenarios for e in s.forbidden]


def parse_file(path: Path, data: bytes, placeholders: Mapping[str, str]) -> ParsedFile:
    parsed = ParsedFile(path, data)
    reader = NodeReader(path)
    root = _compose(reader, data)
    if root is not None:
        _FileParser(reader, placeholders, parsed).parse(root)
    parsed.problems = reader.problems
    return parsed


def _compose(reader: NodeReader, data: bytes) -> Node | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        reader.problem(line, "", "文件不是 UTF-8 编码。请在编辑器里用“UTF-8”编码重新保存")
        return None
    try:
        root = compose(text)
    except YamlLimitError as exc:
        reader.problem(exc.line, "", exc.user_message)
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "quoted scalar" in str(exc.context):
            mark = exc.context_mark  # an unclosed quote: point at where it opens, not at the end of the file
        line = mark.line + 1 if mark is not None else 0
        detail = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        hint = _syntax_hint(detail)
        if exc.context_mark is not None and exc.context_mark.line + 1 != line:
            hint += f"（相关位置：第 {exc.context_mark.line + 1} 行）"
        reader.problem(line, "", f"YAML 语法错误（{detail}）。{hint}")
        return None
    except yaml.YAMLError as exc:
        reader.problem(0, "", f"YAML 语法错误：{exc}")
        return None
    if root is None:
        reader.problem(1, "", "文件是空的（或只有注释）。请写入 scenarios、forbidden 或 lexicon，或删除此文件")
        return None
    return root


def _peek_id(node: Node) -> str | None:
    """The `id:` of a mapping node, to name its fields in problems before it is validated."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == "id" and isinstance(value, ScalarNode) and value.value.strip():
                return value.value.strip()
    return None


def _syntax_hint(detail: str) -> str:
    if "\\t" in detail or "'\\t'" in detail or "tab" in detail.lower():
        return "不要用 Tab 缩进，请改用空格"
    if "mapping values are not allowed" in detail:
        return "常见原因：冒号后少了空格，或文字里含“: ”——请给这段文字加引号"
    if "expected <block end>" in detail or "did not find expected" in detail:
        return "常见原因：缩进不齐，或列表项“- ”与上一项没有对齐"
    if "found unexpected end of stream" in detail or "while scanning a quoted scalar" in detail:
        return "常见原因：引号没有成对闭合"
    if "expected a single document" in detail:
        return "一个文件只能有一个文档，请删掉多余的“---”"
    return "请检查这一行的缩进、冒号和引号"


class _FileParser:
    def __init__(self, reader: NodeReader, placeholders: Mapping[str, str], parsed: ParsedFile) -> None:
        self.r = reader
        self.config = dict(placeholders)
        self.parsed = parsed

    def parse(self, root: Node) -> None:
        top = self.r.mapping(root, "", (), TOP_KEYS)
        if top is None:
            return
        if not top:
            self.r.problem(root, "", "文件里没有内容：顶层应有 scenarios、forbidden 或 lexicon")
            return
        if "scenarios" in top:
            self.parsed.scenarios = self._scenarios(top["scenarios"])
        if "forbidden" in top:
            self.parsed.forbidden = self._forbidden_list(top["forbidden"], "forbidden", shared=True)
        if "lexicon" in top:
            self.parsed.lexicon = self._lexicon(top["lexicon"])

    # -- texts --------------------------------------------------------------------------------

    def _text(self, node: Node, fld: str, slots: frozenset[str] = frozenset(), allow_empty: bool = False) -> str | None:
        value = self.r.text(node, fld, allow_empty=allow_empty)
        if value is None:
            return None
        filled, errors = fill(value, self.config, slots)
        for message in errors:
            self.r.problem(node, fld, message)
        if errors:
            return None
        if not filled.strip() and not allow_empty:
            self.r.problem(node, fld, "填入占位符后为空")
            return None
        return filled

    def _texts(self, node: Node, fld: str, slots: frozenset[str] = frozenset(), allow_empty_list: bool = False) -> list[tuple[str, Node]] | None:
        return self._unique_items(
            node, fld, lambda item, f: self._text(item, f, slots), "“{value}”重复（第 {line} 行已有）", allow_empty_list
        )

    def _unique_items(
        self,
        node: Node,
        fld: str,
        parse_item: Callable[[Node, str], str | None],
        duplicate: str,
        allow_empty: bool,
    ) -> list[tuple[str, Node]] | None:
        """A list whose items are parsed by `parse_item` and must not repeat; None when any item is bad.
        `duplicate` is the message for a repeat, with {value} and {line} (where it was first written)."""
        items = self.r.sequence(node, fld, allow_empty=allow_empty)
        if items is None:
            return None
        out: list[tuple[str, Node]] = []
        seen: dict[str, int] = {}
        ok = True
        for i, item in enumerate(items):
            value = parse_item(item, f"{fld}[{i}]")
            if value is None:
                ok = False
                continue
            if value in seen:
                self.r.problem(item, f"{fld}[{i}]", duplicate.format(value=value, line=seen[value]))
                ok = False
                continue
            seen[value] = line_of(item)
            out.append((value, item))
        return out if ok else None

    # -- scenarios ----------------------------------------------------------------------------

    def _scenarios(self, node: Node) -> list[Scenario]:
        items = self.r.sequence(node, "scenarios")
        if items is None:
            return []
        scenarios: list[Scenario] = []
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            scenario = self._scenario(item, i)
            if scenario is None:
                continue
            if scenario.id in seen:
                self.r.problem(scenario.line, f"scenarios[{scenario.id}].id", f"场景 id“{scenario.id}”重复（第 {seen[scenario.id]} 行已定义）")
                continue
            seen[scenario.id] = scenario.line
            scenarios.append(scenario)
        return scenarios

    def _scenario(self, node: Node, index: int) -> Scenario | None:
        fld = f"scenarios[{_peek_id(node) or index}]"
        values = self.r.mapping(node, fld, SCENARIO_REQUIRED, SCENARIO_OPTIONAL)
        if values is None:
            return None
        sid = self.r.identifier(values["id"], f"{fld}.id")
        title = self._text(values["title"], f"{fld}.title")
        role = self.r.choice(values["role"], f"{fld}.role", ROLES, ROLE_LABELS)
        brief = self._text(values["brief"], f"{fld}.brief")
        domain = self.r.choice(values["domain"], f"{fld}.domain", DOMAINS, DOMAIN_LABELS) if "domain" in values else "general"
        difficulty = self.r.integer(values["difficulty"], f"{fld}.difficulty", 1, 3) if "difficulty" in values else 1
        steps = self._steps(values["steps"], f"{fld}.steps")
        forbidden: list[ForbiddenEntry] | None = []
        if "forbidden" in values:
            forbidden = self._forbidden_list(values["forbidden"], f"{fld}.forbidden", shared=False)
        parts = (sid, title, role, brief, domain, difficulty, steps, forbidden)
        if any(p is None for p in parts):
            return None
        return Scenario(
            id=sid,  # type: ignore[arg-type]
            title=title,  # type: ignore[arg-type]
            role=role,  # type: ignore[arg-type]
            brief=brief,  # type: ignore[arg-type]
            steps=tuple(s for s in steps if not s.extra),  # type: ignore[union-attr]
            extra_steps=tuple(s for s in steps if s.extra),  # type: ignore[union-attr]
            domain=domain,  # type: ignore[arg-type]
            difficulty=difficulty,  # type: ignore[arg-type]
            forbidden=tuple(forbidden),  # type: ignore[arg-type]
            source=self.parsed.path,
            line=line_of(node),
        )

    def _steps(self, node: Node, fld: str) -> list[Step] | None:
        items = self.r.sequence(node, fld)
        if items is None:
            return None
        steps: list[Step] = []
        seen: dict[str, int] = {}
        ok = True
        for i, item in enumerate(items):
            step = self._step(item, f"{fld}[{_peek_id(item) or i}]")
            if step is None:
                ok = False
                continue
            if step.id in seen:
                self.r.problem(step.line, f"{fld}[{step.id}].id", f"步骤 id“{step.id}”在本场景中重复（第 {seen[step.id]} 行已定义）")
                ok = False
                continue
            seen[step.id] = step.line
            steps.append(step)
        if ok and not _ReactionGraph(self.r, fld, steps).check():
            ok = False
        return steps if ok else None

    def _step(self, node: Node, fld: str) -> Step | None:
        values = self.r.mapping(node, fld, STEP_REQUIRED, STEP_OPTIONAL)
        if values is None:
            return None
        step_id = self.r.identifier(values["id"], f"{fld}.id")
        title = self._text(values["title"], f"{fld}.title")
        slots = self._slots(values["slots"], f"{fld}.slots") if "slots" in values else []
        slot_names = frozenset(s.name for s in slots or ())
        phrases = self._texts(values["phrases"], f"{fld}.phrases", slot_names)
        variants = self._texts(values["variants"], f"{fld}.variants", slot_names, allow_empty_list=True) if "variants" in values else []
        keywords = self._keywords(values["keywords"], f"{fld}.keywords") if "keywords" in values else []
        cues = self._cues(values["cues"], f"{fld}.cues", slot_names) if "cues" in values else []
        customer = self._text(values["customer"], f"{fld}.customer", allow_empty=True) if "customer" in values else ""
        tip = self._text(values["tip"], f"{fld}.tip", allow_empty=True) if "tip" in values else ""
        source = self._text(values["source"], f"{fld}.source") if "source" in values else ""
        required = self.r.boolean(values["required"], f"{fld}.required") if "required" in values else True
        weight = self.r.positive(values["weight"], f"{fld}.weight") if "weight" in values else 1.0
        extra = self.r.boolean(values["extra"], f"{fld}.extra") if "extra" in values else False
        restates = self.r.boolean(values["restates"], f"{fld}.restates") if "restates" in values else False
        numbers = self.r.boolean(values["restates_numbers"], f"{fld}.restates_numbers") if "restates_numbers" in values else False
        reactions = self._reactions(values["reactions"], f"{fld}.reactions") if "reactions" in values else Reactions()
        on_handover = self._texts(values["on_handover"], f"{fld}.on_handover") if "on_handover" in values else []
        parts = (step_id, title, slots, phrases, variants, keywords, cues, customer, tip, source, required, weight, extra, restates, numbers, reactions, on_handover)
        if any(p is None for p in parts):
            return None
        assert phrases is not None and variants is not None and keywords is not None and slots is not None
        if not self._consistent(fld, phrases, variants, keywords, slot_names):
            return None
        return Step(
            id=step_id,  # type: ignore[arg-type]
            title=title,  # type: ignore[arg-type]
            phrases=tuple(p for p, _ in phrases),
            required=required,  # type: ignore[arg-type]
            weight=weight,  # type: ignore[arg-type]
            variants=tuple(v for v, _ in variants),
            keywords=tuple(group for group, _ in keywords),
            slots=tuple(slots),
            customer=customer,  # type: ignore[arg-type]
            tip=tip,  # type: ignore[arg-type]
            source=source,  # type: ignore[arg-type]
            file=self.parsed.path,
            line=line_of(node),
            cues=tuple(cues),  # type: ignore[arg-type]
            reactions=reactions,  # type: ignore[arg-type]
            extra=extra,  # type: ignore[arg-type]
            restates=restates,  # type: ignore[arg-type]
            restates_numbers=numbers,  # type: ignore[arg-type]
            on_handover=tuple(w for w, _ in on_handover or ()),
        )

    def _reactions(self, node: Node, fld: str) -> Reactions | None:
        """`reactions:` — per kind (forbidden / missed / well) either the customer's line as text, or
        a mapping with `customer` (the line) and/or `insert` (an extra step's id)."""
        values = self.r.mapping(node, fld, (), REACTION_KINDS)
        if values is None:
            return None
        if not values:
            kinds = "、".join(f"{k}（{REACTION_LABELS[k]}）" for k in REACTION_KINDS)
            self.r.problem(node, fld, f"reactions 里没有内容：可写 {kinds}，或删掉 reactions")
            return None
        out: dict[str, Reaction] = {}
        ok = True
        for kind, value in values.items():
            sub = f"{fld}.{kind}"
            if isinstance(value, ScalarNode):
                line = self._text(value, sub)
                if line is None:
                    ok = False
                    continue
                out[kind] = Reaction(line=line, file_line=line_of(value))
                continue
            fields_ = self.r.mapping(value, sub, (), REACTION_FIELDS)
            if fields_ is None:
                ok = False
                continue
            if not fields_:
                self.r.problem(value, sub, "至少写 customer（客户接着说的话）或 insert（要插入的补救步骤 id）中的一项")
                ok = False
                continue
            line = self._text(fields_["customer"], f"{sub}.customer") if "customer" in fields_ else ""
            insert = self.r.identifier(fields_["insert"], f"{sub}.insert") if "insert" in fields_ else ""
            if line is None or insert is None:
                ok = False
                continue
            out[kind] = Reaction(line=line, insert=insert, file_line=line_of(fields_.get("insert", value)))
        return Reactions(**out) if ok else None

    def _consistent(
        self,
        fld: str,
        phrases: list[tuple[str, Node]],
        variants: list[tuple[str, Node]],
        keywords: list[tuple[tuple[str, ...], Node]],
        slot_names: frozenset[str],
    ) -> bool:
        """Every accepted wording must hold every keyword group and every declared slot."""
        ok = True
        standard = {text: node for text, node in phrases}
        for i, (text, node) in enumerate(variants):
            if text in standard:
                self.r.problem(node, f"{fld}.variants[{i}]", f"“{text}”已在 phrases 中（第 {line_of(standard[text])} 行），变体里不用再写")
                ok = False
        wordings = [(f"{fld}.phrases[{i}]", text, node) for i, (text, node) in enumerate(phrases)]
        wordings += [(f"{fld}.variants[{i}]", text, node) for i, (text, node) in enumerate(variants)]
        for sub, text, node in wordings:
            for group, _ in keywords:
                if not any(word in text for word in group):
                    self.r.problem(node, sub, f"“{text}”不含关键词组［{'/'.join(group)}］中的任何一个词：请改写这句用语，或调整 keywords")
                    ok = False
            for name in sorted(slot_names):
                if "{" + name + "}" not in text:
                    self.r.problem(node, sub, f"“{text}”缺少空位 {{{name}}}：本步骤声明了这个空位，每条用语都要在说出数值的位置写上它")
                    ok = False
        return ok

    def _slots(self, node: Node, fld: str) -> list[Slot] | None:
        items = self.r.sequence(node, fld, allow_empty=True)
        if items is None:
            return None
        slots: list[Slot] = []
        seen: set[str] = set()
        ok = True
        for i, item in enumerate(items):
            sub = f"{fld}[{i}]"
            values = self.r.mapping(item, sub, SLOT_REQUIRED, SLOT_OPTIONAL)
            if values is None:
                ok = False
                continue
            name = self.r.identifier(values["name"], f"{sub}.name")
            kind = self.r.choice(values["kind"], f"{sub}.kind", SLOT_KINDS, SLOT_KIND_LABELS)
            description = self._text(values["description"], f"{sub}.description", allow_empty=True) if "description" in values else ""
            if name is None or kind is None or description is None:
                ok = False
                continue
            if name in self.config:
                self.r.problem(values["name"], f"{sub}.name", f"空位名“{name}”与配置占位符 {{{name}}} 重名，请换一个名字")
                ok = False
                continue
            if name in seen:
                self.r.problem(values["name"], f"{sub}.name", f"空位“{name}”在本步骤中重复")
                ok = False
                continue
            seen.add(name)
            slots.append(Slot(name=name, kind=kind, description=description))
        return slots if ok else None

    def _cues(self, node: Node, fld: str, slot_names: frozenset[str]) -> list[str] | None:
        """`cues:` — a list of "word+word" texts; config placeholders filled, slot placeholders refused."""
        items = self._unique_items(
            node,
            fld,
            lambda item, f: self._cue(item, f, slot_names),
            "线索“{value}”重复（第 {line} 行已写过）；请删掉一条",
            allow_empty=True,
        )
        return None if items is None else [cue for cue, _ in items]

    def _cue(self, node: Node, fld: str, slot_names: frozenset[str]) -> str | None:
        raw = self.r.text(node, fld)
        if raw is None:
            return None
        if CUE_ADDRESS in raw:
            word = raw.strip().removeprefix(CUE_ADDRESS).strip()
            if not word or CUE_ADDRESS in word or CUE_SEPARATOR in word or CUE_EXACT in word or "{" in word or "}" in word or len(word) > CUE_WORD_MAX:
                self.r.problem(node, fld, f"线索“{raw}”写法不对：“{CUE_ADDRESS}”只能写在开头，后面跟一个词，表示开场白是“称呼＋这个词”，例如 {CUE_ADDRESS}好（张叔好、刘姐好）")
                return None
            return CUE_ADDRESS + word
        words = [w.strip() for w in raw.split(CUE_SEPARATOR)]
        if any(not w for w in words):
            self.r.problem(node, fld, f"线索“{raw}”里有空词：词与词之间只用一个“{CUE_SEPARATOR}”连接，开头和结尾不要写“{CUE_SEPARATOR}”，例如 办+什么")
            return None
        filled_words: list[str] = []
        for marked in words:
            exact = marked.startswith(CUE_EXACT)
            word = marked.removeprefix(CUE_EXACT).strip()
            if not word:
                self.r.problem(node, fld, f"线索“{raw}”里的“{CUE_EXACT}”后面没有词：“{CUE_EXACT}”写在词的前面，表示这个词必须一字不差，例如 {CUE_EXACT}再会")
                return None
            try:
                names = placeholder_names(word)
            except ValueError:
                names = []
            slots_used = [n for n in names if n in slot_names]
            if slots_used:
                self.r.problem(node, fld, f"线索里不能用空位占位符 {{{slots_used[0]}}}：线索只写固定的词，数值由 phrases 里的空位检查")
                return None
            filled, errors = fill(word, self.config, ())
            if errors:
                for message in errors:
                    self.r.problem(node, fld, message)
                return None
            filled = filled.strip()
            if not names and len(filled) > CUE_WORD_MAX:
                self.r.problem(node, fld, f"线索词“{filled}”有 {len(filled)} 个字，太长（最多 {CUE_WORD_MAX} 个字）：线索是几个短词，整句请写进 phrases 或 variants")
                return None
            if not filled:
                self.r.problem(node, fld, "填入占位符后为空")
                return None
            filled_words.append(CUE_EXACT + filled if exact else filled)
        return CUE_SEPARATOR.join(filled_words)

    def _keywords(self, node: Node, fld: str) -> list[tuple[tuple[str, ...], Node]] | None:
        items = self.r.sequence(node, fld, allow_empty=True)
        if items is None:
            return None
        groups: list[tuple[tuple[str, ...], Node]] = []
        ok = True
        for i, item in enumerate(items):
            sub = f"{fld}[{i}]"
            words_nodes = item.value if isinstance(item, SequenceNode) else [item]
            if isinstance(item, SequenceNode) and not words_nodes:
                self.r.problem(item, sub, "关键词组不能为空：写成 [您好] 或 [您好, 你好]")
                ok = False
                continue
            words: list[str] = []
            for word_node in words_nodes:
                word = self._text(word_node, sub)  # slot placeholders are not allowed here: empty slot set
                if word is None:
                    ok = False
                    continue
                words.append(word)
            if len(words) == len(words_nodes):
                groups.append((tuple(words), item))
        return groups if ok else None

    # -- forbidden ----------------------------------------------------------------------------

    def _forbidden_list(self, node: Node, fld: str, shared: bool) -> list[ForbiddenEntry] | None:
        items = self.r.sequence(node, fld, allow_empty=not shared)
        if items is None:
            return None
        entries: list[ForbiddenEntry] = []
        seen: dict[str, int] = {}
        ok = True
        for i, item in enumerate(items):
            entry = self._forbidden(item, f"{fld}[{_peek_id(item) or i}]", shared)
            if entry is None:
                ok = False
                continue
            if entry.id in seen:
                self.r.problem(entry.line, f"{fld}[{entry.id}].id", f"忌语 id“{entry.id}”重复（第 {seen[entry.id]} 行已定义）")
                ok = False
                continue
            seen[entry.id] = entry.line
            entries.append(entry)
        return entries if ok else None

    def _identifiers(self, node: Node, fld: str) -> list[tuple[str, Node]] | None:
        """A list of ids (scenario or step ids), each with its node for line numbers; None after a problem."""
        items = self.r.sequence(node, fld, allow_empty=True)
        if items is None:
            return None
        ids: list[tuple[str, Node]] = []
        ok = True
        for i, item in enumerate(items):
            value = self.r.identifier(item, f"{fld}[{i}]")
            if value is None:
                ok = False
                continue
            ids.append((value, item))
        return ids if ok else None

    def _forbidden(self, node: Node, fld: str, shared: bool) -> ForbiddenEntry | None:
        optional = FORBIDDEN_OPTIONAL_SHARED if shared else FORBIDDEN_OPTIONAL_OWN
        values = self.r.mapping(node, fld, FORBIDDEN_REQUIRED, optional)
        if values is None:
            return None
        entry_id = self.r.identifier(values["id"], f"{fld}.id")
        phrase = self._text(values["phrase"], f"{fld}.phrase")
        severity = self.r.choice(values["severity"], f"{fld}.severity", SEVERITIES, SEVERITY_LABELS)
        reason = self._text(values["reason"], f"{fld}.reason")
        replacement = self._text(values["replacement"], f"{fld}.replacement")
        variants = self._texts(values["variants"], f"{fld}.variants", allow_empty_list=True) if "variants" in values else []
        exceptions = self._texts(values["exceptions"], f"{fld}.exceptions", allow_empty_list=True) if "exceptions" in values else []
        scenario_ids = self._identifiers(values["scenarios"], f"{fld}.scenarios") if "scenarios" in values else []
        performs = self._identifiers(values["performs"], f"{fld}.performs") if "performs" in values else []
        parts = (entry_id, phrase, severity, reason, replacement, variants, exceptions, scenario_ids, performs)
        if any(p is None for p in parts):
            return None
        assert phrase is not None and variants is not None and exceptions is not None and scenario_ids is not None and performs is not None
        wordings = [phrase, *(v for v, _ in variants)]
        if phrase in wordings[1:]:
            self.r.problem(values["variants"], f"{fld}.variants", f"变体里重复了原文“{phrase}”")
            return None
        ok = True
        for i, (text, item) in enumerate(exceptions):
            parts = re.split("…+", text)
            if len(parts) > 1 and any(not part.strip(" ，,。") for part in parts):
                self.r.problem(item, f"{fld}.exceptions[{i}]", f"例外“{text}”里的省略号“…”表示“中间隔几个字”，只能写在两段文字之间，例如 不知道…也没关系")
                ok = False
                continue
            if not any(w in part for part in parts for w in wordings):
                self.r.problem(item, f"{fld}.exceptions[{i}]", f"例外“{text}”不包含这条忌语的原文或变体，写了也不起作用。例外应是含有忌语文字、但本身礼貌的说法")
                ok = False
        if not ok:
            return None
        for sid, item in scenario_ids:
            self.parsed.refs.append(ScenarioRef(entry_id, sid, line_of(item)))  # type: ignore[arg-type]
        for step_id, item in performs:
            self.parsed.step_refs.append(StepRef(entry_id, step_id, line_of(item)))  # type: ignore[arg-type]
        return ForbiddenEntry(
            id=entry_id,  # type: ignore[arg-type]
            phrase=phrase,
            severity=severity,  # type: ignore[arg-type]
            reason=reason,  # type: ignore[arg-type]
            replacement=replacement,  # type: ignore[arg-type]
            variants=tuple(v for v, _ in variants),
            exceptions=tuple(e for e, _ in exceptions),
            scenarios=tuple(s for s, _ in scenario_ids),
            source=self.parsed.path,
            line=line_of(node),
            performs=tuple(step_id for step_id, _ in performs),
        )

    # -- lexicon ------------------------------------------------------------------------------

    def _lexicon(self, node: Node) -> dict[str, Any]:
        values = self.r.mapping(node, "lexicon", (), LEXICON_OPTIONAL)
        if values is None:
            return {}
        out: dict[str, Any] = {}
        if "politeness_words" in values:
            words = self._texts(values["politeness_words"], "lexicon.politeness_words")
            if words is not None:
                out["politeness_words"] = tuple(w for w, _ in words)
        for name in ("fillers", "handover_words", "when_words"):
            if name in values:
                words = self._texts(values[name], f"lexicon.{name}", allow_empty_list=True)
                if words is not None:
                    out[name] = tuple(w for w, _ in words)
        if "synonyms" in values:
            groups = self._keywords(values["synonyms"], "lexicon.synonyms")
            if groups is not None:
                for group, node in groups:
                    if len(group) < 2:
                        self.r.problem(node, "lexicon.synonyms", f"同义词组［{'/'.join(group)}］至少要有两个词")
                out["synonyms"] = tuple(group for group, _ in groups if len(group) >= 2)
        has_min, has_max = "rate_min" in values, "rate_max" in values
        if has_min != has_max:
            present = "rate_min" if has_min else "rate_max"
            self.r.problem(values[present], f"lexicon.{present}", "rate_min 和 rate_max（语速下限、上限，字/分钟）必须同时给出")
        elif has_min:
            low = self.r.positive(values["rate_min"], "lexicon.rate_min")
            high = self.r.positive(values["rate_max"], "lexicon.rate_max")
            if low is not None and high is not None:
                if low >= high:
                    self.r.problem(values["rate_max"], "lexicon.rate_max", f"语速上限 {high:g} 必须大于下限 {low:g}")
                else:
                    out["rate_min"], out["rate_max"] = low, high
        if "long_pause_seconds" in values:
            pause = self.r.positive(values["long_pause_seconds"], "lexicon.long_pause_seconds")
            if pause is not None:
                out["long_pause_seconds"] = pause
        return out


class _ReactionGraph:
    """Checks a scenario's reactions across its steps: inserts name extra steps of this scenario,
    inserts form no loop, and every extra step and every customer line can actually be reached."""

    def __init__(self, reader: NodeReader, fld: str, steps: list[Step]) -> None:
        self.r = reader
        self.fld = fld
        self.steps = steps
        self.by_id = {s.id: s for s in steps}
        self.main = [s for s in steps if not s.extra]
        self.extra = [s for s in steps if s.extra]

    def _where(self, step: Step, kind: str) -> str:
        return f"{self.fld}[{step.id}].reactions.{kind}"

    def check(self) -> bool:
        if not self.main:
            self.r.problem(self.steps[0].line, f"{self.fld}[{self.steps[0].id}].extra", "场景里的步骤都是 extra（补救步骤）：至少要有一个正常对话步骤")
            return False
        return self._targets() and self._loops() and self._reachable()

    def _targets(self) -> bool:
        ok = True
        extra_ids = "、".join(s.id for s in self.extra) or "（本场景还没有 extra: true 的步骤）"
        for step in self.steps:
            for kind, reaction in step.reactions.items():
                if not reaction.insert:
                    continue
                target = self.by_id.get(reaction.insert)
                if target is None:
                    self.r.problem(reaction.file_line, f"{self._where(step, kind)}.insert", f"未知的步骤 id“{reaction.insert}”。可插入的补救步骤（extra: true）：{extra_ids}")
                    ok = False
                elif not target.extra:
                    self.r.problem(
                        reaction.file_line,
                        f"{self._where(step, kind)}.insert",
                        f"“{reaction.insert}”是对话里本来就有的步骤，不能插入。请另写一个带 extra: true 的补救步骤，再在这里插入它",
                    )
                    ok = False
        return ok

    def _inserts(self, step: Step) -> list[tuple[str, Reaction]]:
        return [(kind, r) for kind, r in step.reactions.items() if r.insert]

    def _loops(self) -> bool:
        """Extra steps inserting each other in a circle would never let the dialogue go on."""
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done

        def visit(step: Step, path: list[str]) -> bool:
            state[step.id] = 1
            for kind, reaction in self._inserts(step):
                target = self.by_id[reaction.insert]
                if state.get(target.id) == 1:
                    circle = " → ".join(path[path.index(target.id):] + [step.id, target.id]) if target.id in path else f"{step.id} → {target.id}"
                    self.r.problem(
                        reaction.file_line,
                        f"{self._where(step, kind)}.insert",
                        f"插入的步骤形成了循环（{circle}）：对话会一直绕圈结束不了。补救步骤的反应不能再插入这条链上已有的步骤，请改成只写 customer",
                    )
                    return False
                if state.get(target.id) is None and not visit(target, path + [step.id]):
                    return False
            state[step.id] = 2
            return True

        return all(state.get(s.id) == 2 or visit(s, []) for s in self.extra)

    def _reachable(self) -> bool:
        """Every extra step is inserted from the dialogue, and no customer line is written where it
        can never be said (after the last step, or replaced by every reaction that inserts it)."""
        ok = True
        last = self.main[-1]
        origins: dict[str, set[str]] = {}  # extra step id -> the script steps after which it can be asked
        inserted_by: dict[str, list[Reaction]] = {}
        for step in self.steps:
            for _, reaction in self._inserts(step):
                inserted_by.setdefault(reaction.insert, []).append(reaction)
        for start in self.main:
            todo = [start]
            while todo:
                current = todo.pop()
                for _, reaction in self._inserts(current):
                    if start.id not in origins.setdefault(reaction.insert, set()):
                        origins[reaction.insert].add(start.id)
                        todo.append(self.by_id[reaction.insert])
        for step in self.extra:
            if step.id not in origins:
                self.r.problem(
                    step.line,
                    f"{self.fld}[{step.id}].extra",
                    f"补救步骤“{step.id}”不会出现在对话里：没有从正常步骤出发的反应插入它（insert: {step.id}）。请在某一步的 reactions 里插入它，或删掉这一步",
                )
                ok = False
            elif step.customer and all(r.line for r in inserted_by.get(step.id, ())):
                self.r.problem(
                    step.line,
                    f"{self.fld}[{step.id}].customer",
                    "这句客户台词永远不会说出来：插入这一步的反应都写了自己的 customer，会代替它。请删掉其中一处",
                )
                ok = False
        for step in self.steps:
            ends = step is last or (step.extra and origins.get(step.id) == {last.id})
            if not ends:
                continue
            for kind, reaction in step.reactions.items():
                if reaction.line and not reaction.insert:
                    self.r.problem(
                        reaction.file_line,
                        f"{self._where(step, kind)}",
                        f"这句客户台词永远不会说出来：“{step.title}”之后对话就结束了。请删掉它，或加上 insert 插入一个补救步骤",
                    )
                    ok = False
        return ok
