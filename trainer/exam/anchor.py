"""The ledger head, anchored outside the ledger, so that entries cut off its end are noticed.

A hash chain proves that nothing was changed, removed or inserted *before* its last entry; cutting
entries off the end leaves a shorter chain that is still valid (removing a final override silently
reverts a verdict). So the head, the number and seal of the last entry, is written down elsewhere:

- in the session index database (`index.sqlite3`, table `meta`, key `ledger_head`), raised after
  every append and never lowered (with PostgreSQL storage: table `ledger_anchor`, raised in the
  append's own transaction, see trainer/storage/pg_ledger.py);
- on every printed report and exported roster (账本末尾：第 N 号记录，指纹 XXXX-XXXX-XXXX-XXXX);
- by a person: `trainer exam verify --head N` or `--head XXXX-XXXX-XXXX-XXXX`.

`check_head(entries, ref)` is pure: it tells whether the ledger still reaches a head given as a
number, a seal or a seal prefix. Reading and raising the anchor in the index are the two functions
at the end (the only I/O here), so another ledger backend can keep the same logic.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.errors import ExamError, SessionStoreError
from trainer.sessions.index import SessionIndex
from trainer.sessions.store import INDEX_FILE

log = logging.getLogger(__name__)

ANCHOR_KEY = "ledger_head"
MIN_PREFIX_HEX = 8  # a seal prefix shorter than this could match by chance
_SEAL_RE = re.compile(r"^[0-9a-f]{64}$")


def _fingerprint(seal: str) -> str:
    short = seal[:16].upper()
    return "-".join(short[i : i + 4] for i in range(0, len(short), 4))


@dataclass(frozen=True)
class LedgerHead:
    """The last entry of a ledger: its number and its seal."""

    seq: int
    seal: str

    @property
    def fingerprint(self) -> str:
        return _fingerprint(self.seal)

    def label(self) -> str:
        """As printed on reports and rosters."""
        return f"第 {self.seq} 号记录，指纹 {self.fingerprint}"

    def to_text(self) -> str:
        return f"{self.seq}:{self.seal}"

    @classmethod
    def from_text(cls, text: str) -> "LedgerHead | None":
        seq, _, seal = text.partition(":")
        if not seq.isdigit() or not _SEAL_RE.match(seal):
            return None
        return cls(int(seq), seal)


@dataclass(frozen=True)
class HeadRef:
    """A head to check the ledger against: a number, a seal (prefix), or both (the index anchor)."""

    seq: int | None
    seal_prefix: str  # lowercase hex; "" when only the number is known
    source: str  # Chinese, names where it came from


def head_of(entries: list[dict[str, Any]]) -> LedgerHead | None:
    """The head of a ledger given its entries in file order (None when empty)."""
    if not entries:
        return None
    last = entries[-1]
    return LedgerHead(int(last["seq"]), str(last["seal"]))


def parse_head_ref(text: str) -> HeadRef:
    """`--head N` (the entry number printed on a report) or `--head HASH` (its seal fingerprint, the
    full seal or at least 8 hex digits of it; dashes and spaces ignored)."""
    raw = text.strip()
    if raw.isdigit() and int(raw) >= 1 and len(raw) < MIN_PREFIX_HEX:
        return HeadRef(int(raw), "", f"给定的账本末尾（第 {int(raw)} 号）")
    hexpart = re.sub(r"[\s-]", "", raw).lower()
    if len(hexpart) >= MIN_PREFIX_HEX and re.fullmatch(r"[0-9a-f]+", hexpart) and len(hexpart) <= 64:
        return HeadRef(None, hexpart, f"给定的账本末尾（指纹 {_fingerprint(hexpart)}）")
    raise ExamError(
        f"--head “{text}” 无法识别。请写账本序号（如 --head 12），或封印指纹（如 --head 1A2B-3C4D-5E6F-7A8B，至少 {MIN_PREFIX_HEX} 位十六进制）。"
        "成绩单和导出的名册上都印有“账本末尾：第 N 号记录，指纹 …”。",
        f"unparseable --head {text!r}",
    )


def anchor_ref(head: LedgerHead) -> HeadRef:
    return HeadRef(head.seq, head.seal, f"索引数据库中记录的账本末尾（第 {head.seq} 号，指纹 {head.fingerprint}）")


def check_head(entries: list[dict[str, Any]], ref: HeadRef) -> str | None:
    """None when the ledger (its entries in file order) still holds the head `ref`; else a Chinese
    message saying how much is gone."""
    last = entries[-1]["seq"] if entries else 0
    now = f"现在账本只到第 {last} 号" if entries else "现在账本是空的"
    if ref.seq is not None:
        same = [e for e in entries if e.get("seq") == ref.seq]
        if not same:
            if isinstance(last, int) and last < ref.seq:
                gone = ref.seq - last
                return (
                    f"账本被截短：{ref.source}，{now}。末尾的 {gone} 条记录被删除"
                    "（删除最后的改判或复核结论会悄悄恢复原来的结果）。请从备份恢复账本。"
                )
            return f"账本中找不到{ref.source}：该记录被删除或替换。请从备份恢复账本。"
        if ref.seal_prefix and not any(str(e.get("seal", "")).startswith(ref.seal_prefix) for e in same):
            return f"账本第 {ref.seq} 号记录与{ref.source}不符：该记录及其后的记录被替换。请从备份恢复账本。"
        return None
    if any(str(e.get("seal", "")).startswith(ref.seal_prefix) for e in entries):
        return None
    return f"账本中找不到{ref.source}（{now}）：该记录及其后的记录被删除或替换，账本被截短。请从备份恢复账本。"


# --- the anchor in the session index (I/O) ---------------------------------------------------


def _index(root: Path) -> SessionIndex:
    return SessionIndex(Path(root) / INDEX_FILE)


def read_anchor(root: Path) -> LedgerHead | None:
    """The head last anchored in the index of the sessions root (None: never anchored, or the index
    was deleted). Raises SessionStoreError when the index cannot be read."""
    index = _index(root)
    if not index.path.exists():
        return None
    text = index.meta_get(ANCHOR_KEY)
    return LedgerHead.from_text(text) if text else None


def raise_anchor(root: Path, head: LedgerHead) -> None:
    """Record `head` in the index unless a later head is already there (never lowered). Best effort:
    a failure is logged, the ledger entry is written already."""

    def update(current: str | None) -> str | None:
        known = LedgerHead.from_text(current) if current else None
        return head.to_text() if known is None or head.seq > known.seq else None

    try:
        _index(root).meta_update(ANCHOR_KEY, update)
    except SessionStoreError as exc:
        log.warning("ledger head %s not anchored in the index: %s", head.to_text(), exc.log_message)
