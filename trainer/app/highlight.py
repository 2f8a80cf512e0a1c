"""Highlighted transcripts (pure): where the score found standard and forbidden phrases in one turn.

    spans = turn_spans(text, turn_index, score)      # score: the `trainer score --json` dict
    html = highlight_html(text, spans)                # safe HTML for st.markdown(unsafe_allow_html=True)

Matched standard phrases are green (hit) or amber (partial), forbidden phrases red; each
mark has a tooltip (title attribute) naming the step, or the forbidden phrase and what to
say instead. Recogniser text may be traditional Chinese (Whisper): it is shown simplified.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trainer.phrasebook.model import SEVERITY_LABELS
from trainer.app.markup import html_text
from trainer.scoring.display import UNSURE_FORBIDDEN_NOTE, forbidden_name, steps_heard_in, stored_certain
from trainer.text.normalize import to_simplified

HIT, PARTIAL, FORBIDDEN = "hit", "partial", "forbidden"
KIND_ORDER = {FORBIDDEN: 0, HIT: 1, PARTIAL: 2}  # who wins where spans overlap
STYLES = {
    HIT: "background-color:#c9f0c9;color:#14532d;border-radius:3px;padding:0 2px;",
    PARTIAL: "background-color:#ffe7a0;color:#713f12;border-radius:3px;padding:0 2px;",
    FORBIDDEN: "background-color:#ffc9c9;color:#7f1d1d;border-radius:3px;padding:0 2px;text-decoration:underline wavy #dc2626;",
}
LEGEND = (
    (HIT, "标准用语"),
    (PARTIAL, "不完整"),
    (FORBIDDEN, "服务忌语"),
)


@dataclass(frozen=True)
class Span:
    start: int  # [start, end) character offsets into the turn's text
    end: int
    kind: str  # hit | partial | forbidden
    tooltip: str


def _skippable(char: str) -> bool:
    """Spaces and punctuation: the matcher ignores them, so a match may span or drop them."""
    return char.isspace() or unicodedata.category(char)[0] in "PSZ"


def _squeeze(text: str) -> tuple[str, list[int]]:
    """`text` without spaces/punctuation, simplified, and the index in `text` of each kept character."""
    kept: list[str] = []
    where: list[int] = []
    for i, char in enumerate(text):
        if not _skippable(char):
            kept.append(char)
            where.append(i)
    joined = "".join(kept)
    simplified = to_simplified(joined)
    return (simplified if len(simplified) == len(joined) else joined).lower(), where


def find_span(text: str, needle: str, start_at: int = 0) -> tuple[int, int] | None:
    """Where `needle` occurs in `text` (at or after `start_at` first, then anywhere), ignoring
    spaces, punctuation and traditional/simplified differences. None when it does not occur."""
    if not needle.strip():
        return None
    for begin in (start_at, 0):
        found = text.find(needle, begin)
        if found >= 0:
            return found, found + len(needle)
    squeezed, where = _squeeze(text)
    target, _ = _squeeze(needle)
    if not target:
        return None
    squeezed_start = next((k for k, pos in enumerate(where) if pos >= start_at), len(where))
    for begin in (squeezed_start, 0):
        found = squeezed.find(target, begin)
        if found >= 0:
            return where[found], where[found + len(target) - 1] + 1
    return None


def step_tooltip(step: Mapping[str, Any], title: str = "") -> str:
    name = title or str(step.get("id", ""))
    if step.get("status") == PARTIAL:
        return f"步骤「{name}」不完整，标准说法：{step.get('expected', '')}"
    return f"步骤「{name}」✓"


def forbidden_tooltip(hit: Mapping[str, Any]) -> str:
    severity = SEVERITY_LABELS.get(str(hit.get("severity", "")), str(hit.get("severity", "")))
    phrase = hit.get("phrase") or hit.get("matched_text", "")
    suggestion = hit.get("suggestion") or ""
    certain = stored_certain(hit)
    text = f"{forbidden_name(certain)}“{phrase}”（{severity}）"
    if not certain:
        text += f"，{UNSURE_FORBIDDEN_NOTE}"
    return f"{text}，建议说：{suggestion}" if suggestion else text


def turn_spans(
    text: str,
    turn_index: int,
    score: Mapping[str, Any] | None,
    step_titles: Mapping[str, str] | None = None,
) -> list[Span]:
    """The highlighted parts of turn `turn_index` (1-based) of a scored performance."""
    if not score or not text:
        return []
    titles = step_titles or {}
    spans: list[Span] = []
    cursor = 0
    for step in steps_heard_in(score, turn_index):
        found = find_span(text, str(step.get("matched_text") or ""), cursor)
        if found is None:
            continue
        cursor = found[1]
        spans.append(Span(found[0], found[1], str(step["status"]), step_tooltip(step, titles.get(str(step.get("id")), ""))))
    for hit in score.get("forbidden") or []:
        if hit.get("turn") != turn_index:
            continue
        found = find_span(text, str(hit.get("matched_text") or hit.get("phrase") or ""))
        if found is not None:
            spans.append(Span(found[0], found[1], FORBIDDEN, forbidden_tooltip(hit)))
    return spans


def segments(text: str, spans: Sequence[Span]) -> list[tuple[str, Span | None]]:
    """`text` cut into consecutive pieces, each with the span that colours it (None: plain).
    Where spans overlap, forbidden wins over hit over partial; then the earlier span."""
    owner: list[Span | None] = [None] * len(text)
    ranked = sorted(spans, key=lambda s: (KIND_ORDER.get(s.kind, 9), s.start))
    for span in reversed(ranked):  # the best-ranked span is painted last
        for i in range(max(0, span.start), min(len(text), span.end)):
            owner[i] = span
    pieces: list[tuple[str, Span | None]] = []
    for i, char in enumerate(text):
        if pieces and pieces[-1][1] is owner[i]:
            pieces[-1] = (pieces[-1][0] + char, owner[i])
        else:
            pieces.append((char, owner[i]))
    return pieces


def highlight_html(text: str, spans: Sequence[Span], *, simplify: bool = True) -> str:
    """Escaped HTML of `text` with <mark> elements for the spans (inline styles, title tooltips)."""
    if not text.strip():
        return '<span style="color:#6b7280">（没有识别到文字）</span>'
    out: list[str] = []
    for piece, span in segments(text, spans):
        shown = html_text(to_simplified(piece) if simplify else piece)  # no HTML, no Markdown
        if span is None:
            out.append(shown)
        else:
            out.append(
                f'<mark class="hl-{span.kind}" style="{STYLES[span.kind]}" title="{html.escape(span.tooltip, quote=True)}">{shown}</mark>'
            )
    return "".join(out)


def legend_html() -> str:
    return " ".join(f'<mark style="{STYLES[kind]}">{label}</mark>' for kind, label in LEGEND)


def turn_html(score: Mapping[str, Any] | None, turn_index: int, text: str | None = None, step_titles: Mapping[str, str] | None = None) -> str:
    """The highlighted transcript of one turn, reading the turn's text from the score unless given."""
    if text is None:
        turns = (score or {}).get("turns") or []
        text = str(turns[turn_index - 1].get("text", "")) if 0 < turn_index <= len(turns) else ""
    return highlight_html(text, turn_spans(text, turn_index, score, step_titles))
