"""Text that people type (names, ids, reviewers, comments): checked on the way in, cleaned on the way out.

On the way in (`input_problem`): printable text only. Control characters (U+0000–U+001F, U+007F–U+009F),
format characters (zero-width, right-to-left overrides), line/paragraph separators and lone
surrogates are refused with a Chinese reason; `clean_input` makes other spaces (e.g. the
ideographic space U+3000) ordinary ones. Unassigned and private-use code points are allowed:
rare Chinese characters in names are often one of them.

On the way out (`printable`): whatever was stored, perhaps by an older version or by hand, loses
the characters that break an export (openpyxl refuses control characters, UTF-8 refuses lone
surrogates, XML refuses U+FFFE/U+FFFF) or a terminal (escape sequences).
"""

from __future__ import annotations

import re
import unicodedata

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNPRINTABLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean_input(text: str) -> str:
    """NFC, every space separator (e.g. U+3000) an ordinary space, no white space at either end
    (a pasted tab or line break). Control characters inside stay, for `input_problem` to refuse."""
    text = unicodedata.normalize("NFC", text)
    return "".join(" " if unicodedata.category(c) == "Zs" else c for c in text).strip()


def input_problem(text: str, label: str, max_chars: int | None = None, *, multiline: bool = False) -> str | None:
    """Why `text` (already `clean_input`ed) cannot be stored as `label` (Chinese), or None when it can.
    `multiline`: newlines and tabs are allowed (comments)."""
    if max_chars is not None and len(text) > max_chars:
        return f"{label}最多 {max_chars} 个字符（现在是 {len(text)} 个）。"
    for char in text:
        if multiline and char in "\n\t":
            continue
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            return f"{label}含有不能显示的控制字符（U+{ord(char):04X}），多半是复制粘贴带进来的。请重新手动输入{label}。"
    return None


def printable(text: str, *, multiline: bool = True) -> str:
    """`text` without the characters that break exports and terminals (see the module docstring).
    `multiline`: keep newlines and tabs."""
    return (_UNPRINTABLE if multiline else _UNPRINTABLE_LINE).sub("", text)
