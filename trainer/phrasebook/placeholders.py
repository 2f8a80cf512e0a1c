"""Placeholders in phrasebook texts: `{company}` (filled from config) and `{received}` (a step's slot, kept).

Pure functions; the loader turns the returned messages into `PhrasebookProblem`s.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Mapping

# Values used when the config does not set them. A hall sets its own under [placeholders] in trainer.toml.
DEFAULT_PLACEHOLDERS: dict[str, str] = {
    "company": "国网供电公司",  # the power company / hall owner (Settings default too)
    "hotline": "95598",  # power service hotline
    "unit": "供电营业厅",  # the hall or department the trainee names when answering
    "gas_company": "燃气公司",
    "gas_hotline": "燃气服务热线",
    "water_company": "自来水公司",
    "water_hotline": "供水服务热线",
}

_FORMATTER = string.Formatter()


def placeholder_names(text: str) -> list[str]:
    """Names in braces, in order. Raises ValueError for unbalanced braces."""
    return [name for _, name, _, _ in _FORMATTER.parse(text) if name is not None]


def fill(text: str, config: Mapping[str, str], slots: Collection[str]) -> tuple[str, list[str]]:
    """Replace config placeholders, keep slot placeholders as `{name}`.

    Returns the new text and a list of Chinese error messages (empty when fine).
    """
    try:
        parts = list(_FORMATTER.parse(text))
    except ValueError:
        return text, ["花括号不成对：占位符要写成 {名称}，例如 {company}；正文里不要单独使用 { 或 }"]
    out: list[str] = []
    errors: list[str] = []
    for literal, name, spec, conversion in parts:
        out.append(literal)
        if name is None:
            continue
        if spec or conversion:
            errors.append(f"占位符 {{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}} 不能带格式说明，只写 {{{name}}}")
            continue
        if name in config:
            out.append(config[name])
        elif name in slots:
            out.append("{" + name + "}")
        else:
            errors.append(unknown_message(name, config, slots))
    return "".join(out), errors


def unknown_message(name: str, config: Mapping[str, str], slots: Collection[str]) -> str:
    known_config = "、".join("{" + k + "}" for k in sorted(config)) or "（无）"
    message = f"未知的占位符 {{{name}}}。配置占位符：{known_config}"
    if slots:
        message += "；本步骤的空位：" + "、".join("{" + s + "}" for s in sorted(slots))
    else:
        message += "；空位占位符（如 {received}）必须先在本步骤的 slots 中声明"
    return message
