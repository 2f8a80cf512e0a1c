"""Typed reading of a composed YAML node tree, collecting line-precise problems.

`yaml.compose` keeps every value as a node with its position, so each problem can
name the exact line. Nothing here raises on bad data: a reader method returns None
and records a `PhrasebookProblem` instead.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from trainer.phrasebook.model import PhrasebookProblem

NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"


def line_of(node: Node) -> int:
    """1-based line where the node starts."""
    return node.start_mark.line + 1


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "映射（键: 值）"
    if isinstance(node, SequenceNode):
        return "列表"
    if node.tag == NULL_TAG:
        return "空值"
    if node.tag == BOOL_TAG:
        return f"布尔值 {node.value}"
    if node.tag in (INT_TAG, FLOAT_TAG):
        return f"数字 {node.value}"
    return f"文字“{node.value}”"


class NodeReader:
    """Reads values of one file and records its problems."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[PhrasebookProblem] = []
        self._constructor = yaml.constructor.SafeConstructor()

    def problem(self, where: Node | int, field: str, message: str) -> None:
        line = where if isinstance(where, int) else line_of(where)
        self.problems.append(PhrasebookProblem(self.path, line, field, message))

    def mapping(self, node: Node, field: str, required: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, Node] | None:
        """The keys of a mapping node; reports wrong type, duplicate, unknown and missing keys."""
        if not isinstance(node, MappingNode):
            self.problem(node, field, f"应为映射（每行“字段: 值”），实际是{_describe(node)}")
            return None
        allowed = required + optional
        values: dict[str, Node] = {}
        ok = True
        for key_node, value_node in node.value:
            sub = f"{field}.{key_node.value}" if field else str(key_node.value)
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, field, "字段名必须是简单文字")
                ok = False
                continue
            key = key_node.value
            if key in values:
                self.problem(key_node, sub, f"字段“{key}”重复出现（第 {line_of(values[key])} 行附近已写过）；请删掉一个")
                ok = False
                continue
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                suggestion = f"是不是想写“{hint[0]}”？" if hint else ""
                self.problem(key_node, sub, f"未知字段“{key}”。{suggestion}可用字段：{'、'.join(allowed)}")
                ok = False
                continue
            values[key] = value_node
        for key in required:
            if key not in values:
                self.problem(node, f"{field}.{key}" if field else key, f"缺少必填字段“{key}”")
                ok = False
        return values if ok else None

    def sequence(self, node: Node, field: str, allow_empty: bool = False) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.problem(node, field, f"应为列表（每项一行，以“- ”开头），实际是{_describe(node)}")
            return None
        if not node.value and not allow_empty:
            self.problem(node, field, "列表不能为空")
            return None
        return list(node.value)

    def text(self, node: Node, field: str, allow_empty: bool = False) -> str | None:
        """A text value. Numbers and the like are taken as written (e.g. 95598)."""
        if not isinstance(node, ScalarNode):
            self.problem(node, field, f"应为文字，实际是{_describe(node)}")
            return None
        value = "" if node.tag == NULL_TAG else str(node.value)
        value = value.strip()
        if not value and not allow_empty:
            self.problem(node, field, "不能为空")
            return None
        return value

    def identifier(self, node: Node, field: str) -> str | None:
        value = self.text(node, field)
        if value is None:
            return None
        if not (value.isascii() and value[:1].isalpha() and value[:1].islower() and all(c.islower() or c.isdigit() or c == "_" for c in value)):
            self.problem(node, field, f"id“{value}”无效：只能用小写英文字母、数字和下划线，并以字母开头（例如 sing_receive）")
            return None
        return value

    def number(self, node: Node, field: str) -> float | None:
        if not isinstance(node, ScalarNode) or node.tag not in (INT_TAG, FLOAT_TAG):
            self.problem(node, field, f"应为数字，实际是{_describe(node)}")
            return None
        value = float(self._constructor.construct_object(node))
        if not math.isfinite(value):
            self.problem(node, field, f"数字 {node.value} 无效")
            return None
        return value

    def positive(self, node: Node, field: str) -> float | None:
        value = self.number(node, field)
        if value is not None and value <= 0:
            self.problem(node, field, f"必须是大于 0 的数字，实际是 {node.value}")
            return None
        return value

    def integer(self, node: Node, field: str, low: int, high: int) -> int | None:
        if not isinstance(node, ScalarNode) or node.tag != INT_TAG:
            self.problem(node, field, f"应为 {low} 到 {high} 之间的整数，实际是{_describe(node)}")
            return None
        value = int(self._constructor.construct_object(node))
        if not low <= value <= high:
            self.problem(node, field, f"应为 {low} 到 {high} 之间的整数，实际是 {value}")
            return None
        return value

    def boolean(self, node: Node, field: str) -> bool | None:
        if not isinstance(node, ScalarNode) or node.tag != BOOL_TAG:
            self.problem(node, field, f"应为 true 或 false，实际是{_describe(node)}")
            return None
        return bool(self._constructor.construct_object(node))

    def choice(self, node: Node, field: str, choices: tuple[str, ...], labels: Mapping[str, str] | None = None) -> str | None:
        value = self.text(node, field)
        if value is None:
            return None
        if value not in choices:
            shown = "、".join(f"{c}（{labels[c]}）" if labels and c in labels else c for c in choices)
            self.problem(node, field, f"“{value}”不是有效值。可选：{shown}")
            return None
        return value
