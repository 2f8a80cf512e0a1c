"""Check every sealed exam record: the ledger chain, each entry's seal, and the stored sessions.

`verify_all(store, key)` names every problem it finds:
- a ledger line that is unreadable, rewritten, or whose seal does not match (changed entry);
- a broken chain: entries deleted, reordered, duplicated or inserted;
- a question's stored session that is missing, or whose audio, transcript, score or any other
  byte of session.json differs from what was sealed;
- exam sessions that no sealed result covers (their result entry was deleted, or the exam was
  interrupted before it was sealed);
- an override or review decision for an exam with no sealed result, and a review decision
  (`"decides": "review"`) for an exam the machine did not send to review.
A review decision is an override entry: changing, deleting or reordering it is found like for any
entry. Exams still 待复核 are listed in `pending_review` (not a fault).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from trainer.errors import SessionStoreError
from trainer.exam.anchor import HeadRef, anchor_ref, check_head
from trainer.exam.records import REVIEW_DECISION
from trainer.exam.seal import GENESIS, TornTail, fingerprint, key_id, seal_matches, session_digests
from trainer.sessions.model import SessionFilter
from trainer.storage.factory import ledger_for

if TYPE_CHECKING:
    from trainer.storage.factory import AnyLedger, AnySessionStore

PROBLEM_KINDS = ("truncated", "broken", "forged", "wrong_key", "reordered", "deleted", "inserted", "duplicate", "changed", "missing", "unsealed", "dangling")


@dataclass(frozen=True)
class VerifyProblem:
    kind: str  # one of PROBLEM_KINDS
    message: str  # Chinese, names the record
    line: int = 0  # ledger line (1-based), 0 when not about a line
    seq: int | None = None
    exam_id: str = ""
    session_id: str = ""
    candidate_id: str = ""


@dataclass(frozen=True)
class VerifyReport:
    entries: int  # ledger lines read
    exams: int  # sealed exam results checked
    sessions: int  # question sessions checked
    problems: tuple[VerifyProblem, ...]
    head_seq: int = 0  # number of the last entry (write it down: a shorter ledger later means entries were cut off)
    head_seal: str = ""
    unfinished: tuple[str, ...] = field(default=())  # exams started but never submitted (not a fault by itself)
    pending_review: tuple[str, ...] = field(default=())  # 待复核 exams not yet decided (not a fault)
    torn_tail: TornTail | None = None  # a write cut short at the end (full disk, crash): not tampering
    notices: tuple[str, ...] = field(default=())  # Chinese; worth knowing, not a fault

    @property
    def torn_message(self) -> str:
        if self.torn_tail is None:
            return ""
        return (
            f"账本末尾第 {self.torn_tail.line} 行只写了一半（{len(self.torn_tail.raw)} 字节，未封存）："
            "这是写入中断（磁盘写满、断电或进程被终止）留下的残行，不是篡改，也不是有效记录。"
            "运行 `trainer exam repair` 清除它（清除会作为封存记录写入账本）；下一次考试交卷时也会自动清除。"
        )

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def named(self) -> list[str]:
        """Every exam id and session id that a problem names."""
        names = {p.exam_id for p in self.problems if p.exam_id} | {p.session_id for p in self.problems if p.session_id}
        return sorted(names)

    @property
    def head_fingerprint(self) -> str:
        return fingerprint(self.head_seal) if self.head_seal else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "exams": self.exams,
            "sessions": self.sessions,
            "head_seq": self.head_seq,
            "head_fingerprint": self.head_fingerprint,
            "unfinished": list(self.unfinished),
            "pending_review": list(self.pending_review),
            "problems": [asdict(p) for p in self.problems],
            "torn_tail": {"line": self.torn_tail.line, "bytes": len(self.torn_tail.raw)} if self.torn_tail else None,
            "notices": list(self.notices),
            "named": self.named,
        }

    def summary(self) -> str:
        if self.ok:
            return (
                f"全部通过：账本 {self.entries} 条记录，{self.exams} 场考试、{self.sessions} 个答题会话的封印与哈希链均完好。"
                f"最后一条记录为第 {self.head_seq} 号，指纹 {self.head_fingerprint}。"
            )
        return f"发现 {len(self.problems)} 处问题（账本 {self.entries} 条记录，{self.exams} 场考试）："


def _who(entry: dict[str, Any]) -> str:
    body = entry.get("body", {})
    candidate = body.get("candidate_id", "")
    name = body.get("candidate_name", "")
    who = f"考生 {candidate}{'（' + name + '）' if name else ''}" if candidate else ""
    return f"考试 {entry.get('exam_id', '')}{'，' + who if who else ''}"


def verify_all(store: "AnySessionStore", key: bytes, heads: Sequence[HeadRef] = ()) -> VerifyReport:
    """Check everything; `heads` are ledger heads written down elsewhere (reports, rosters, a
    person's note) that the ledger must still reach, besides the head anchored in the index."""
    ledger = ledger_for(store)
    scan = ledger.scan()
    lines = scan.lines
    problems: list[VerifyProblem] = []
    notices: list[str] = []
    problems.extend(_head_problems(ledger, lines, heads, notices))
    my_key = key_id(key)
    seal_line = {}
    for ln in lines:
        if ln.entry is not None and isinstance(ln.entry.get("seal"), str):
            seal_line.setdefault(ln.entry["seal"], ln.line)

    expected_prev, expected_seq = GENESIS, 1
    previous_unreadable = False
    wrong_key_reported = False
    seen_seals: dict[str, int] = {}
    trusted: list[tuple[int, dict[str, Any]]] = []
    head_seq, head_seal = 0, ""
    for ln in lines:
        entry = ln.entry
        if entry is None:
            problems.append(VerifyProblem("broken", f"账本第 {ln.line} 行{ln.error}。", line=ln.line))
            previous_unreadable = True
            continue
        seq = entry["seq"]
        where = f"账本第 {ln.line} 行（第 {seq} 号记录，{_who(entry)}）"
        ids = {"line": ln.line, "seq": seq, "exam_id": str(entry.get("exam_id", "")), "candidate_id": str(entry["body"].get("candidate_id", ""))}
        sealed_ok = False
        if entry.get("key_id") != my_key:
            if not wrong_key_reported:
                problems.append(VerifyProblem(
                    "wrong_key",
                    f"{where}是用另一个考试密钥封存的。请确认 TRAINER_EXAM_KEY 与考试时使用的密钥一致；若密钥无误，则该记录是伪造的。",
                    **ids,
                ))
                wrong_key_reported = True
        elif not seal_matches(entry, key):
            problems.append(VerifyProblem("forged", f"{where}的内容被改动：封印（HMAC）不符。", **ids))
        elif ln.error:
            problems.append(VerifyProblem("changed", f"{where}：{ln.error}。", **ids))
        else:
            sealed_ok = True

        if entry["seal"] in seen_seals:
            problems.append(VerifyProblem("duplicate", f"{where}是第 {seen_seals[entry['seal']]} 行的重复副本。", **ids))
        elif not previous_unreadable and entry["prev"] != expected_prev:
            before = seal_line.get(entry["prev"])
            if before is not None and before != ln.line:
                problems.append(VerifyProblem("reordered", f"{where}的顺序被调换：它原本紧跟在账本第 {before} 行之后。", **ids))
            elif isinstance(seq, int) and seq > expected_seq:
                gone = f"第 {expected_seq} 号" if seq == expected_seq + 1 else f"第 {expected_seq}–{seq - 1} 号"
                problems.append(VerifyProblem("deleted", f"{where}之前的{gone}记录被删除。", **ids))
            else:
                problems.append(VerifyProblem("inserted", f"{where}与前一条记录的链接断裂：有记录被插入或替换。", **ids))
        seen_seals.setdefault(entry["seal"], ln.line)
        previous_unreadable = False
        expected_prev = entry["seal"]
        expected_seq = seq + 1 if isinstance(seq, int) else expected_seq + 1
        head_seq, head_seal = seq, entry["seal"]
        if sealed_ok:
            trusted.append((ln.line, entry))

    results = {e["exam_id"]: (line, e) for line, e in trusted if e["kind"] == "result"}
    starts = {e["exam_id"] for _, e in trusted if e["kind"] == "start"}
    sessions_checked = 0
    covered: set[str] = set()
    for exam_id, (line, entry) in results.items():
        for question in entry["body"].get("questions", []):
            covered.add(question["session_id"])
            sessions_checked += 1
            problems.extend(_check_question(store, line, entry, question))
    decided: set[str] = set()
    for line, entry in trusted:
        if entry["kind"] != "override":
            continue
        is_decision = entry["body"].get("decides") == REVIEW_DECISION
        what = "复核结论" if is_decision else "改判"
        if entry["exam_id"] not in results:
            problems.append(VerifyProblem(
                "dangling", f"账本第 {line} 行的{what}针对考试 {entry['exam_id']}，但找不到该考试的封存结果。",
                line=line, seq=entry["seq"], exam_id=entry["exam_id"],
            ))
            continue
        decided.add(entry["exam_id"])
        if is_decision and _machine_state(results[entry["exam_id"]][1]) != "review":
            problems.append(VerifyProblem(
                "dangling", f"账本第 {line} 行的复核结论针对考试 {entry['exam_id']}，但该考试的机评结果不是待复核。",
                line=line, seq=entry["seq"], exam_id=entry["exam_id"],
                candidate_id=str(results[entry["exam_id"]][1]["body"].get("candidate_id", "")),
            ))
    pending = tuple(sorted(e for e, (_, entry) in results.items() if e not in decided and _machine_state(entry) == "review"))
    # Sessions named by an entry already reported (forged, rewritten) are not reported again as unsealed.
    for ln in lines:
        if ln.entry is not None and ln.entry["kind"] == "result":
            for question in ln.entry["body"].get("questions", []) if isinstance(ln.entry["body"].get("questions"), list) else []:
                if isinstance(question, dict) and isinstance(question.get("session_id"), str):
                    covered.add(question["session_id"])
    problems.extend(_unsealed_sessions(store, covered))
    unfinished = tuple(sorted(starts - set(results)))
    return VerifyReport(
        len(lines), len(results), sessions_checked, tuple(problems), head_seq, head_seal, unfinished, pending,
        scan.torn, tuple(notices),
    )


def _head_problems(ledger: "AnyLedger", lines: list[Any], heads: Sequence[HeadRef], notices: list[str]) -> list[VerifyProblem]:
    """The ledger must still reach the head anchored in the index and every head given."""
    entries = [ln.entry for ln in lines if ln.entry is not None]
    refs = list(heads)
    try:
        anchored = ledger.read_anchor()
    except SessionStoreError as exc:
        anchored = None
        notices.append(f"无法读取索引数据库中记录的账本末尾（{exc.user_message}）。")
    if anchored is not None:
        refs.insert(0, anchor_ref(anchored))
    elif entries and not heads:
        notices.append(
            "索引数据库中没有记录账本末尾（索引被删除或重建过，或账本由旧版本写入），无法据此发现末尾被删除的记录。"
            "请用成绩单或导出名册上印的“账本末尾”核对：trainer exam verify --head 序号或指纹。"
        )
    problems = []
    for ref in refs:
        message = check_head(entries, ref)
        if message is not None:
            problems.append(VerifyProblem("truncated", message, seq=ref.seq))
    return problems


def _machine_state(result_entry: dict[str, Any]) -> str:
    verdict = result_entry["body"].get("verdict")
    return str(verdict.get("state", "")) if isinstance(verdict, dict) else ""


def _check_question(store: "AnySessionStore", line: int, entry: dict[str, Any], sealed: dict[str, Any]) -> list[VerifyProblem]:
    session_id = sealed["session_id"]
    index = sealed.get("index", "?")
    where = f"{_who(entry)} 第 {index} 题（会话 {session_id}）"
    ids = {"line": line, "seq": entry["seq"], "exam_id": entry["exam_id"], "session_id": session_id,
           "candidate_id": entry["body"].get("candidate_id", "")}
    try:
        present = store.exists(session_id)
    except SessionStoreError:
        return [VerifyProblem("changed", f"{where}：封存的会话编号无效。", **ids)]
    if not present:
        return [VerifyProblem("missing", f"{where}的会话记录不见了（被删除或移动）。", **ids)]
    problems: list[VerifyProblem] = []
    # Audio first, straight from the sealed file names, so a damaged session.json still gets its audio checked.
    for k, audio in enumerate(sealed.get("audio", []), 1):
        if not audio.get("file"):
            continue
        found = store.stored_audio_sha256(session_id, audio["file"])
        if found is None:
            problems.append(VerifyProblem("missing", f"{where}：第 {k} 段录音 {audio['file']} 不见了。", **ids))
            continue
        if found != audio["sha256"]:
            problems.append(VerifyProblem("changed", f"{where}：第 {k} 段录音 {audio['file']} 被改动。", **ids))
    try:
        current = session_digests(store, session_id)
    except (SessionStoreError, OSError) as exc:
        reason = exc.user_message if isinstance(exc, SessionStoreError) else str(exc)
        problems.append(VerifyProblem("changed", f"{where}：会话记录已损坏，无法读取（{reason}）。", **ids))
        return problems
    parts_changed = False
    if len(current["transcripts_sha256"]) != len(sealed["transcripts_sha256"]):
        problems.append(VerifyProblem("changed", f"{where}：答题轮数被改动（封存 {len(sealed['transcripts_sha256'])} 轮，现为 {len(current['transcripts_sha256'])} 轮）。", **ids))
        parts_changed = True
    else:
        for k, (now, then) in enumerate(zip(current["transcripts_sha256"], sealed["transcripts_sha256"]), 1):
            if now != then:
                problems.append(VerifyProblem("changed", f"{where}：第 {k} 段的识别文字被改动。", **ids))
                parts_changed = True
    if current["score_sha256"] != sealed["score_sha256"]:
        problems.append(VerifyProblem("changed", f"{where}：评分结果被改动。", **ids))
        parts_changed = True
    if [a["file"] for a in current["audio"]] != [a["file"] for a in sealed.get("audio", [])]:
        problems.append(VerifyProblem("changed", f"{where}：录音文件的登记被改动。", **ids))
        parts_changed = True
    if current["record_sha256"] != sealed["record_sha256"] and not parts_changed:
        problems.append(VerifyProblem("changed", f"{where}：会话记录（session.json）的其他内容被改动。", **ids))
    return problems


def _unsealed_sessions(store: "AnySessionStore", covered: set[str]) -> list[VerifyProblem]:
    problems = []
    try:
        rows = store.list(SessionFilter(kind="exam"))
    except SessionStoreError:
        return problems
    for row in rows:
        if row.id in covered or not store.exists(row.id):
            continue
        try:
            exam_id = store.load(row.id, check_audio=False).extra.get("exam", {}).get("exam_id", "")
        except SessionStoreError:
            exam_id = ""
        problems.append(VerifyProblem(
            "unsealed",
            f"考试会话 {row.id}（考生 {row.trainee_id}，场景 {row.scenario_id}）没有对应的封存结果："
            "其结果记录被删除，或考试在封存前中断。",
            exam_id=exam_id, session_id=row.id, candidate_id=row.trainee_id,
        ))
    return problems
