"""Domain objects of stored sessions and their canonical byte form.

A `SessionRecord` is written to disk as canonical JSON (`canonical_json`): sorted keys,
UTF-8 without escaping, fixed separators, no NaN. The bytes of `session.json` are exactly
`record.canonical_bytes()`, so they can be hashed or sealed (exam mode) and a loaded record
serialises back to the same bytes. Each turn carries the sha256 of its audio file.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timezone
from typing import Any

from trainer.errors import SessionStoreError
from trainer.scoring.result import FAIL, PASS, VERDICT_LABELS, VERDICTS, verdict_of
from trainer.usertext import input_problem

SCHEMA_VERSION = 1
KINDS = ("practice", "exam")
KIND_LABELS = {"practice": "练习", "exam": "考试"}
STEP_STATUSES = ("hit", "partial", "missed")

_TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
SESSION_ID_RE = re.compile(r"^(?P<stamp>\d{8}T\d{6}Z)-(?P<trainee>[A-Za-z0-9_-]{1,32})-(?P<rand>[0-9a-f]{6})$")
_SLUG_BAD = re.compile(r"[^A-Za-z0-9_-]+")


def canonical_json(data: Any) -> bytes:
    """The one byte form used for every stored JSON document (stable, hashable)."""
    try:
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise SessionStoreError(
            f"会话数据无法保存为 JSON：{exc}。请检查评分结果中是否含有非数字（NaN）或不支持的类型。",
            f"value is not canonical-JSON serialisable: {exc}",
        ) from exc
    return text.encode("utf-8")


def utc_now() -> str:
    """The current time as an ISO-8601 UTC string with second precision, e.g. 2026-11-23T14:30:15Z."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give a timezone")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> datetime:
    if not _TIMESTAMP_RE.match(text):
        raise ValueError(f"not an ISO-8601 UTC timestamp like 2026-11-23T14:30:15Z: {text!r}")
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def local_day_start_utc(day: date) -> str:
    """The UTC timestamp of local midnight at the start of `day` (date filters use the machine's time zone)."""
    return format_utc(datetime(day.year, day.month, day.day).astimezone())


def slug(text: str, fallback: str = "x", limit: int = 32) -> str:
    """An ASCII file-name-safe form of `text` (used inside ids and file names only)."""
    cleaned = _SLUG_BAD.sub("_", text).strip("_")[:limit]
    return cleaned or fallback


def new_session_id(trainee_id: str, started_at: str) -> str:
    """A sortable, unique id: <UTC start, compact>-<trainee slug>-<6 random hex>."""
    stamp = parse_utc(started_at).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{slug(trainee_id)}-{secrets.token_hex(3)}"


def check_session_id(session_id: str) -> re.Match[str]:
    match = SESSION_ID_RE.match(session_id) if isinstance(session_id, str) else None
    if match is None:
        raise SessionStoreError(
            f"会话编号“{session_id}”格式不正确（应类似 20261123T143015Z-E1024-a1b2c3）。请用 `trainer sessions list` 查看正确的编号。",
            f"malformed session id {session_id!r}",
        )
    return match


@dataclass(frozen=True)
class TurnRecord:
    """One turn of a dialogue: the customer's line, the trainee's recorded answer and its transcript."""

    index: int  # 1-based
    prompt: str = ""  # what the simulated customer said before this turn
    transcript: dict[str, Any] = field(default_factory=dict)  # trainer.asr.base.Transcript.to_dict()
    audio_file: str = ""  # file name inside the session folder, e.g. turn01.wav ("" = no audio)
    audio_sha256: str = ""  # hex sha256 of the audio file's bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "prompt": self.prompt,
            "transcript": self.transcript,
            "audio_file": self.audio_file,
            "audio_sha256": self.audio_sha256,
        }


@dataclass(frozen=True)
class SessionRecord:
    """Everything about one practice or exam attempt except the audio bytes and the reviews."""

    kind: str  # "practice" | "exam"
    trainee_id: str  # 工号
    trainee_name: str
    scenario_id: str
    scenario_title: str
    started_at: str  # ISO-8601 UTC, e.g. 2026-11-23T14:30:15Z
    finished_at: str
    turns: tuple[TurnRecord, ...] = ()
    score: dict[str, Any] = field(default_factory=dict)  # exactly what `trainer score --json` prints ({} = not scored)
    phrasebook_version: str = ""
    engine: str = ""
    model: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. {"exam_paper": "...", "draw_seed": 7}
    id: str = ""  # "" until saved: SessionStore.save assigns one
    schema_version: int = SCHEMA_VERSION

    # --- the machine score, read from the opaque score dict -------------------------------------
    @property
    def total(self) -> float | None:
        value = (self.score.get("score") or {}).get("total")
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    @property
    def passed(self) -> bool | None:
        value = self.score.get("passed")
        return value if isinstance(value, bool) else None

    @property
    def verdict(self) -> str:
        """The machine verdict: "pass" | "fail" | "review" (待复核: an instructor decides); scores
        saved before the scorer gave one: from `passed`; "" when not scored."""
        return "" if self.passed is None else verdict_of(self.score)

    @property
    def steps(self) -> list[dict[str, Any]]:
        return list(self.score.get("steps") or [])

    @property
    def dimensions(self) -> dict[str, float]:
        return dict((self.score.get("score") or {}).get("dimensions") or {})

    # --- serialisation ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "id": self.id,
            "kind": self.kind,
            "trainee_id": self.trainee_id,
            "trainee_name": self.trainee_name,
            "scenario_id": self.scenario_id,
            "scenario_title": self.scenario_title,
            "phrasebook_version": self.phrasebook_version,
            "engine": self.engine,
            "model": self.model,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "turns": [t.to_dict() for t in self.turns],
            "score": self.score,
            "extra": self.extra,
        }

    def canonical_bytes(self) -> bytes:
        """The exact bytes of session.json; hash these to seal a record."""
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any) -> "SessionRecord":
        """Parse and validate a stored record. Raises SessionStoreError with a Chinese reason."""
        if not isinstance(data, dict):
            raise _bad("内容不是 JSON 对象", "top level is not an object")
        expected = {f.name for f in fields(cls)}
        missing = sorted(expected - data.keys())
        unknown = sorted(data.keys() - expected)
        if missing:
            raise _bad(f"缺少字段 {', '.join(missing)}", f"missing keys {missing}")
        if unknown:
            raise _bad(f"含有未知字段 {', '.join(unknown)}（可能由更新版本的软件保存）", f"unknown keys {unknown}")
        if data["schema_version"] != SCHEMA_VERSION:
            raise _bad(
                f"格式版本 {data['schema_version']} 不受支持（本软件支持版本 {SCHEMA_VERSION}）",
                f"unsupported schema_version {data['schema_version']!r}",
            )
        for key in ("id", "kind", "trainee_id", "trainee_name", "scenario_id", "scenario_title",
                    "phrasebook_version", "engine", "model", "started_at", "finished_at"):
            if not isinstance(data[key], str):
                raise _bad(f"字段 {key} 应为文本", f"{key} is not a string")
        for key in ("score", "extra"):
            if not isinstance(data[key], dict):
                raise _bad(f"字段 {key} 应为 JSON 对象", f"{key} is not an object")
        if not isinstance(data["turns"], list):
            raise _bad("字段 turns 应为列表", "turns is not a list")
        turns = []
        for position, raw in enumerate(data["turns"], start=1):
            turns.append(_turn_from_dict(raw, position))
        record = cls(
            kind=data["kind"],
            trainee_id=data["trainee_id"],
            trainee_name=data["trainee_name"],
            scenario_id=data["scenario_id"],
            scenario_title=data["scenario_title"],
            started_at=data["started_at"],
            finished_at=data["finished_at"],
            turns=tuple(turns),
            score=data["score"],
            phrasebook_version=data["phrasebook_version"],
            engine=data["engine"],
            model=data["model"],
            extra=data["extra"],
            id=data["id"],
            schema_version=data["schema_version"],
        )
        validate_record(record, require_id=True)
        return record


def _turn_from_dict(raw: Any, position: int) -> TurnRecord:
    if not isinstance(raw, dict):
        raise _bad(f"第 {position} 轮不是 JSON 对象", f"turn {position} is not an object")
    expected = {f.name for f in fields(TurnRecord)}
    if raw.keys() != expected:
        raise _bad(f"第 {position} 轮的字段不正确（应为 {', '.join(sorted(expected))}）", f"turn {position} keys {sorted(raw)}")
    if not isinstance(raw["index"], int) or isinstance(raw["index"], bool):
        raise _bad(f"第 {position} 轮的 index 应为整数", f"turn {position} index not int")
    for key in ("prompt", "audio_file", "audio_sha256"):
        if not isinstance(raw[key], str):
            raise _bad(f"第 {position} 轮的 {key} 应为文本", f"turn {position} {key} not a string")
    if not isinstance(raw["transcript"], dict):
        raise _bad(f"第 {position} 轮的 transcript 应为 JSON 对象", f"turn {position} transcript not an object")
    return TurnRecord(**raw)


def _bad(reason_zh: str, reason_en: str) -> SessionStoreError:
    return SessionStoreError(f"session.json 内容有误：{reason_zh}。", f"invalid session record: {reason_en}")


_AUDIO_NAME_RE = re.compile(r"^turn\d{2,}\.[a-z0-9]{2,5}$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


def trainee_problem(trainee_id: str, name: str) -> str | None:
    """Why this 工号 / 姓名 cannot be stored (Chinese), or None: printable text only."""
    return input_problem(trainee_id, "工号") or input_problem(name, "姓名")


def validate_record(record: SessionRecord, *, require_id: bool) -> None:
    """Check a record before saving / after loading. Raises SessionStoreError naming the problem."""
    if record.kind not in KINDS:
        raise _bad(f"类型“{record.kind}”无效，应为 practice 或 exam", f"kind {record.kind!r}")
    if not record.trainee_id.strip():
        raise _bad("缺少学员工号 trainee_id", "empty trainee_id")
    if not record.scenario_id.strip():
        raise _bad("缺少场景编号 scenario_id", "empty scenario_id")
    for key in ("started_at", "finished_at"):
        try:
            parse_utc(getattr(record, key))
        except ValueError:
            raise _bad(f"{key} 时间格式应为 UTC，例如 2026-11-23T14:30:15Z", f"bad {key} {getattr(record, key)!r}") from None
    if require_id or record.id:
        match = SESSION_ID_RE.match(record.id)
        if match is None:
            raise _bad(f"会话编号“{record.id}”格式不正确", f"bad id {record.id!r}")
    for position, turn in enumerate(record.turns, start=1):
        if turn.index != position:
            raise _bad(f"第 {position} 轮的序号为 {turn.index}，轮次应从 1 开始连续编号", f"turn {position} has index {turn.index}")
        if turn.audio_file and not _AUDIO_NAME_RE.match(turn.audio_file):
            raise _bad(f"第 {position} 轮的录音文件名“{turn.audio_file}”无效", f"bad audio_file {turn.audio_file!r}")
        if turn.audio_file and not _SHA_RE.match(turn.audio_sha256):
            raise _bad(f"第 {position} 轮缺少录音的 sha256 校验值", f"turn {position} bad audio_sha256")
    _validate_score(record.score)


def _validate_score(score: dict[str, Any]) -> None:
    """The score dict is stored opaque, but the parts the index reads must have the documented shape."""
    if not score:
        return
    inner = score.get("score")
    if not isinstance(inner, dict) or not isinstance(inner.get("total"), (int, float)) or isinstance(inner.get("total"), bool):
        raise _bad("评分结果缺少 score.total（应为 `trainer score --json` 的输出）", "score.total missing or not a number")
    if not isinstance(score.get("passed"), bool):
        raise _bad("评分结果缺少 passed（应为 true 或 false）", "score.passed missing or not a bool")
    steps = score.get("steps", [])
    if not isinstance(steps, list):
        raise _bad("评分结果的 steps 应为列表", "score.steps not a list")
    for n, step in enumerate(steps, start=1):
        if not isinstance(step, dict) or not isinstance(step.get("id"), str) or step.get("status") not in STEP_STATUSES:
            raise _bad(f"评分结果第 {n} 个步骤缺少 id 或 status（hit/partial/missed）", f"score.steps[{n - 1}] malformed")


@dataclass(frozen=True)
class SessionFilter:
    """What to list. Every field is optional; scores and results use the reviewed result when there is one."""

    trainee: str | None = None  # matches trainee_id exactly, or a part of trainee_name
    scenario_id: str | None = None
    kind: str | None = None
    since: date | None = None  # inclusive, local calendar day
    until: date | None = None  # inclusive, local calendar day
    min_total: float | None = None
    max_total: float | None = None
    result: str | None = None  # the result shown: "pass" | "fail" | "review" (待复核), see SessionSummary.result
    reviewed: bool | None = None
    limit: int | None = None
    trainee_ids: frozenset[str] | None = None  # only these trainees (a viewer's scope); None: everyone


@dataclass(frozen=True)
class SessionSummary:
    """One row of the index: what listing pages and exports show without opening the folder."""

    id: str
    kind: str
    trainee_id: str
    trainee_name: str
    scenario_id: str
    scenario_title: str
    phrasebook_version: str
    engine: str
    model: str
    started_at: str
    finished_at: str
    turns: int
    total: float | None  # machine score
    passed: bool | None  # the machine's best single guess (while 待复核 too: see `verdict`)
    review_count: int = 0
    last_reviewer: str = ""
    reviewed_at: str = ""
    review_overall: str = ""  # "" | "agree" | "override" (latest review)
    override_total: float | None = None
    override_passed: bool | None = None
    verdict: str = ""  # the machine verdict: "pass" | "fail" | "review"; "" not scored (SessionRecord.verdict)

    @property
    def effective_total(self) -> float | None:
        return self.override_total if self.review_overall == "override" else self.total

    @property
    def effective_passed(self) -> bool | None:
        return self.override_passed if self.review_overall == "override" else self.passed

    @property
    def result(self) -> str:
        """The result shown in lists, filters and exports (`shown_result`); a summary without a
        verdict (built by hand) reads its machine result from `passed`, as a score without one does."""
        verdict = self.verdict or ("" if self.passed is None else verdict_of({"passed": self.passed}))
        return shown_result(verdict, self.override_passed if self.review_overall == "override" else None)

    @property
    def result_label(self) -> str:
        """通过 / 未通过 / 待复核 ("" when not scored)."""
        return VERDICT_LABELS.get(self.result, "")

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["effective_total"] = self.effective_total
        data["effective_passed"] = self.effective_passed
        data["result"] = self.result
        return data


def shown_result(verdict: str, decided: bool | None) -> str:
    """The result of a session as every list shows it: an instructor's decision (`decided`: the
    latest review's 改判 or decision, None when there is none) when there is one, else the machine
    verdict ("pass" | "fail" | "review" = 待复核); "" for a session without a score."""
    if decided is not None:
        return PASS if decided else FAIL
    return verdict if verdict in VERDICTS else ""


@dataclass(frozen=True)
class StepRow:
    """One scored step of one session (for per-step exports and weak-step statistics)."""

    session_id: str
    kind: str
    trainee_id: str
    trainee_name: str
    scenario_id: str
    started_at: str
    position: int  # order of the step in the score, 1-based
    step_id: str
    expected: str
    status: str  # hit | partial | missed
    similarity: float | None
    matched_text: str
    turn: int | None
    review_verdict: str = ""  # "" | agree | disagree (latest review)
    review_comment: str = ""


@dataclass(frozen=True)
class StepStat:
    """How often one step of one scenario was missed across the selected sessions."""

    scenario_id: str
    step_id: str
    expected: str
    attempts: int
    hits: int
    partials: int
    misses: int

    @property
    def miss_rate(self) -> float:
        return self.misses / self.attempts if self.attempts else 0.0

    @property
    def weak_rate(self) -> float:
        """Missed or only partly performed."""
        return (self.misses + self.partials) / self.attempts if self.attempts else 0.0
