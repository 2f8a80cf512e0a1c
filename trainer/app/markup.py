"""User text inside Streamlit Markdown.

Almost everything Streamlit shows is Markdown: st.markdown, st.caption, alerts, expander labels,
st.table cells. A trainee named `![t](http://host/beacon.png)` would make every instructor's
browser fetch that image, and `**考试通过 100分** :green[✓]` would render bold and green. `md`
turns any text (names, ids, reviewers, comments, transcripts, anything stored) into literal
Markdown text: every ASCII punctuation character is backslash-escaped (CommonMark renders an
escaped punctuation character as itself; this also stops Streamlit's `:color[…]` and
`:material/…:` directives, `$…$` LaTeX and raw HTML, even with unsafe_allow_html). GFM's
literal autolinks (`http://…`, `www.…`, `a@b.c`) and emoji shortcodes (`:fire:`) are found in
the text after escapes are resolved, so an invisible WORD JOINER (U+2060) follows every ":" and
"@" and splits "www.": the text reads the same, but is not a live link.
"""

from __future__ import annotations

import re
import string

_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_LINKISH = re.compile(r"([:@])|(?i:(?<=w)(?=ww\.))")
JOINER = "\u2060"


def _unlink(text: str) -> str:
    return _LINKISH.sub(lambda m: (m.group(1) or "") + JOINER, text)


def md(text: object) -> str:
    """`text` as literal text inside Markdown (see the module docstring)."""
    return _PUNCTUATION.sub(r"\\\1", _unlink(str(text)))


def html_text(text: object) -> str:
    """`text` as literal text inside HTML that Streamlit also reads as Markdown (unsafe_allow_html):
    every ASCII punctuation character as a numeric character reference, so neither an HTML tag
    nor Markdown syntax can start."""
    return _PUNCTUATION.sub(lambda m: f"&#{ord(m.group(1))};", _unlink(str(text)))
