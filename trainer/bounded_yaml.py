"""`yaml.compose` with limits, for the YAML files a training centre writes (phrasebooks, exam papers).

PyYAML composes nested collections recursively: a file of 600 nested `[` raises RecursionError
(not a YAMLError) and an alias that is used many times inside other aliased collections
("billion laughs") expands exponentially when the nodes are walked. `compose` refuses both
while composing, before either can happen, with a `YamlLimitError` that names the line:

- nesting deeper than `MAX_DEPTH` collections;
- more than `MAX_NODES` values once every alias (`*name`) is expanded.

File size is capped by the callers before reading (they know their own sensible size).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, SequenceNode

from trainer.errors import TrainerError

MAX_DEPTH = 32  # the deepest shipped phrasebook nests 6 collections
MAX_NODES = 200_000  # expanded; the largest shipped phrasebook (84 KB) has about 6,000


class YamlLimitError(TrainerError):
    """A YAML file nests too deeply or expands to too many values. `line`: 1-based, where it went over."""

    def __init__(self, line: int, user_message: str, log_message: str) -> None:
        super().__init__(user_message, log_message)
        self.line = line


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose composer counts its depth and the expanded size of every node."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, int] = {}  # id(node) -> values in it, aliases expanded

    def compose_node(self, parent: Node | None, index: Any) -> Node:  # type: ignore[override]
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        nests = isinstance(event, (SequenceStartEvent, MappingStartEvent))
        if nests:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise YamlLimitError(
                    line,
                    f"嵌套层数超过 {MAX_DEPTH} 层（例如连续很多个“[”或“{{”）。请检查括号和缩进",
                    f"nesting deeper than {MAX_DEPTH}",
                )
        try:
            node = super().compose_node(parent, index)
        finally:
            if nests:
                self._depth -= 1
        if isinstance(event, AliasEvent):
            return node  # its size was counted when its anchor was composed
        size = 1
        if isinstance(node, SequenceNode):
            size += sum(self._sizes.get(id(child), 1) for child in node.value)
        elif isinstance(node, MappingNode):
            size += sum(self._sizes.get(id(k), 1) + self._sizes.get(id(v), 1) for k, v in node.value)
        if size > MAX_NODES:
            raise YamlLimitError(
                line,
                f"内容展开后超过 {MAX_NODES} 个值（多半是锚点和别名 &、* 层层引用）。请把内容直接写出来，或拆分成多个文件",
                f"more than {MAX_NODES} values once aliases are expanded",
            )
        self._sizes[id(node)] = size
        return node


def compose(text: str) -> Node | None:
    """The node tree of `text` (None: empty document). Raises yaml.YAMLError for a syntax error
    and YamlLimitError when the file nests too deeply or uses too many aliases."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()
