"""A training centre's phrasebook overlay: phrasings learnt from instructor reviews.

When an instructor, reviewing a stored session, says a step the machine scored missed or
partial WAS performed, the trainee's words of that turn are proposed as a new accepted
phrasing of the step. An instructor approves (optionally editing the text) or rejects each
proposal; approved phrasings are merged into the library as extra `variants` of the step
(`trainer.phrasebook.loader.library_from_settings`). The shipped `phrasebooks/` files are
never written.

Layout of the overlay folder (`Settings.overlay_dir`, default `<sessions_dir>/../phrasebook_overlay`):

    <id>.json     one proposal, canonical JSON (sorted keys, UTF-8), see `Proposal.to_dict`
    .tmp-*        writes in progress (a killed write leaves only such a file; it is ignored)
    .lock         serialises approve/reject between processes (POSIX)

A proposal's id is derived from its session and step (`proposal_id`), so one reviewed step
proposes at most once, even when two processes propose it at the same moment. A new file
appears with a single link of a fully written, fsynced temp file; a decision replaces the
file with one rename. A file that cannot be read or does not have the documented shape is
reported (Chinese, naming the file) and skipped: it never takes the library down.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from trainer.durable import fsync_dir, synced_temp
from trainer.errors import PhrasebookError
from trainer.phrasebook.model import Library, PhrasebookProblem, Step
from trainer.usertext import input_problem

FORMAT_VERSION = 1
MAX_TEXT_CHARS = 60  # a proposed phrasing is one short utterance, not a whole turn of several steps
MAX_FILE_BYTES = 64 * 1024
STATUSES = ("pending", "approved", "rejected")
STATUS_LABELS = {"pending": "待审核", "approved": "已采用", "rejected": "未采用"}
MACHINE_STATUSES = ("missed", "partial", "uncertain")  # uncertain: a hit the machine was not sure of
MACHINE_STATUS_LABELS = {"missed": "遗漏", "partial": "不完整", "uncertain": "可能没听清"}
SOURCE_LABEL = "本中心新增"  # how the app and the CLI mark approved overlay phrasings
_ID_RE = re.compile(r"^[0-9a-f]{8,16}$")
_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_CJK_SPACE = re.compile(r"(?<=[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef])\s+(?=[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef])")


class OverlayError(PhrasebookError):
    """A proposal cannot be made, found, approved or rejected (Chinese reason)."""


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def proposal_id(session_id: str, step_id: str, length: int = 8) -> str:
    """The id of the proposal made from one step of one session (stable, so proposing twice is a no-op)."""
    return hashlib.sha256(f"{session_id}\n{step_id}".encode("utf-8")).hexdigest()[:length]


# --------------------------------------------------------------------------- text


def _is_edge_junk(char: str) -> bool:
    return char.isspace() or unicodedata.category(char)[0] in "PS"


def _strip_edges(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _is_edge_junk(text[start]):
        start += 1
    while end > start and _is_edge_junk(text[end - 1]):
        end -= 1
    return text[start:end]


def already_accepted(step: Step, text: str) -> bool:
    """True when the step already accepts `text` as one of its phrasings (edge punctuation aside)."""
    text = _strip_edges(text)
    return any(_strip_edges(p) == text for p in step.all_phrasings)


def clean_text(raw: str) -> str:
    """A turn's transcript as a proposed phrasing: simplified Chinese, the recogniser's words kept
    as they are, spaces between Chinese characters (Vosk puts one between words) removed, other
    runs of spaces made single, punctuation and symbols at either end stripped."""
    from trainer.text.normalize import to_simplified  # lazy: OpenCC is only needed to propose

    text = to_simplified(unicodedata.normalize("NFC", str(raw or "")))
    text = _CJK_SPACE.sub("", text.strip())
    return _strip_edges(re.sub(r"\s+", " ", text))


def text_problem(text: str) -> str:
    """Why `text` cannot be an accepted phrasing (Chinese), or "" when it can."""
    if not text:
        return "说法为空（该轮没有识别出文字，或只有标点）"
    if len(text) > MAX_TEXT_CHARS:
        return f"说法过长（{len(text)} 字，上限 {MAX_TEXT_CHARS} 字）。一条说法应只包含这一步要说的话"
    if "{" in text or "}" in text:
        return "说法中不能含有花括号 { }（话术库用它标记金额等占位）"
    if input_problem(text, "说法"):
        return "说法中含有控制字符"
    return ""


def keyword_gaps(step: Step, text: str) -> list[str]:
    """Key word groups of the step that `text` does not contain ("a/b"). A phrasing without them
    is only scored "不完整" when said, so the page and the CLI warn before approving."""
    return ["/".join(group) for group in step.keywords if not any(word and word in text for word in group)]


# --------------------------------------------------------------------------- proposals


@dataclass(frozen=True)
class Proposal:
    """One proposed phrasing of one scenario step, with where it came from and the decision on it."""

    id: str
    scenario_id: str
    step_id: str
    text: str  # the turn's words as proposed (cleaned, see clean_text)
    session_id: str
    turn: int  # 1-based turn of the session the words come from
    machine_status: str  # missed | partial | uncertain: what the machine scored the step
    reviewer: str = ""  # the instructor whose review disagreed with the machine
    review_comment: str = ""
    created_at: str = ""
    status: str = "pending"  # pending | approved | rejected
    approved_text: str = ""  # the phrasing as approved (the instructor may edit it); "" unless approved
    decided_by: str = ""
    decided_at: str = ""
    decision_note: str = ""
    version: int = FORMAT_VERSION

    @property
    def phrasing(self) -> str:
        """The accepted text (approved proposals), else the proposed one."""
        return self.approved_text or self.text

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def canonical_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_dict(cls, data: Any) -> "Proposal":
        """Parse and validate; raises ValueError with a Chinese reason."""
        if not isinstance(data, dict):
            raise ValueError("内容不是 JSON 对象")
        expected = {f.name for f in fields(cls)}
        missing, unknown = sorted(expected - data.keys()), sorted(data.keys() - expected)
        if missing:
            raise ValueError(f"缺少字段 {', '.join(missing)}")
        if unknown:
            raise ValueError(f"含有未知字段 {', '.join(unknown)}")
        if data["version"] != FORMAT_VERSION:
            raise ValueError(f"格式版本 {data['version']!r} 不受支持（本软件支持版本 {FORMAT_VERSION}）")
        for key in expected - {"turn", "version"}:
            if not isinstance(data[key], str):
                raise ValueError(f"字段 {key} 应为文本")
        if not isinstance(data["turn"], int) or isinstance(data["turn"], bool) or data["turn"] < 1:
            raise ValueError("字段 turn 应为不小于 1 的整数")
        proposal = cls(**data)
        proposal.validate()
        return proposal

    def validate(self) -> None:
        if not _ID_RE.match(self.id):
            raise ValueError(f"编号“{self.id}”格式不正确")
        if not self.scenario_id.strip() or not self.step_id.strip() or not self.session_id.strip():
            raise ValueError("缺少场景、步骤或会话编号")
        if self.status not in STATUSES:
            raise ValueError(f"状态“{self.status}”无效，应为 {'、'.join(STATUSES)}")
        if self.machine_status not in MACHINE_STATUSES:
            raise ValueError(f"机评状态“{self.machine_status}”无效，应为 missed、partial 或 uncertain")
        if not _TIME_RE.match(self.created_at) or (self.decided_at and not _TIME_RE.match(self.decided_at)):
            raise ValueError("时间格式应为 UTC，例如 2026-11-23T14:30:15Z")
        problem = text_problem(self.text)
        if problem and self.status != "rejected":
            raise ValueError(f"建议的说法无效：{problem}")
        if self.status == "approved":
            problem = text_problem(self.approved_text)
            if problem:
                raise ValueError(f"已采用的说法无效：{problem}")
        elif self.approved_text:
            raise ValueError("只有已采用的建议才有 approved_text")


class Candidate(Protocol):
    """What a reviewed session step proposes (trainer.sessions.proposals.ReviewCandidate has this shape)."""

    scenario_id: str
    step_id: str
    session_id: str
    turn: int
    machine_status: str
    text: str
    reviewer: str
    review_comment: str


@dataclass(frozen=True)
class ProposeOutcome:
    """What happened to one candidate: a new proposal, an existing one, or not proposed (reason)."""

    scenario_id: str
    step_id: str
    session_id: str
    proposal: Proposal | None
    created: bool
    reason: str = ""  # Chinese; why nothing was proposed ("" when a proposal exists)


@dataclass(frozen=True)
class OverlayState:
    proposals: tuple[Proposal, ...]  # readable proposals, oldest first
    problems: tuple[PhrasebookProblem, ...] = ()  # unreadable or malformed files (skipped)
    stamp: tuple[tuple[str, int, int], ...] = ()  # (file name, mtime_ns, size): changes on every write

    def by_status(self, status: str) -> list[Proposal]:
        return [p for p in self.proposals if p.status == status]

    @property
    def pending(self) -> list[Proposal]:
        return self.by_status("pending")

    @property
    def approved(self) -> list[Proposal]:
        return self.by_status("approved")


def _problem(path: Path, reason: str) -> PhrasebookProblem:
    return PhrasebookProblem(path, 0, "", f"本中心新增说法文件有误：{reason}。已跳过该文件；请从备份恢复或删除它")


def check_proposal_id(proposal_id: str) -> str:
    """The id, lower-cased; OverlayError (Chinese) when it is not one."""
    proposal_id = str(proposal_id).strip().lower()
    if not _ID_RE.match(proposal_id):
        raise OverlayError(f"建议编号“{proposal_id}”格式不正确。请用 `trainer phrasebook proposals` 查看编号。", f"bad proposal id {proposal_id!r}")
    return proposal_id


def _parse(path: Path, size: int | None = None) -> Proposal:
    """Read one proposal file. FileNotFoundError when it is gone; ValueError (Chinese) when it is unusable."""
    try:
        if size is None:
            size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ValueError(f"文件过大（{size // 1024} KB）")
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ValueError(f"无法读取（{exc.strerror or exc}）") from exc
    proposal = parse_proposal(data)
    if path.stem != proposal.id:
        raise ValueError(f"文件名与其中的编号“{proposal.id}”不符")
    return proposal


def parse_proposal(data: bytes) -> Proposal:
    """A proposal from its stored bytes (any backend); ValueError (Chinese) when they are unusable."""
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"文件过大（{len(data) // 1024} KB）")
    try:
        proposal = Proposal.from_dict(json.loads(data.decode("utf-8")))
    except UnicodeDecodeError:
        raise ValueError("不是 UTF-8 文本") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）") from None
    except RecursionError:
        raise ValueError("嵌套层数过多，不是本软件写出的文件") from None
    except TypeError as exc:
        raise ValueError(f"字段有误（{exc}）") from None
    return proposal


class Overlay:
    """The proposals in one overlay folder. Safe for several threads and processes."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, proposal_id: str) -> Path:
        return self.root / f"{proposal_id}.json"

    # --- read --------------------------------------------------------------------------------
    def _files(self) -> list[Path]:
        try:
            return sorted(p for p in self.root.iterdir() if p.suffix == ".json" and not p.name.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def stamp(self) -> tuple[tuple[str, int, int], ...]:
        """(file name, mtime_ns, size) of every proposal file: changes with every write (cheap: no parsing)."""
        out = []
        for path in self._files():
            try:
                info = path.stat()
            except OSError:
                continue
            out.append((path.name, info.st_mtime_ns, info.st_size))
        return tuple(out)

    def read(self) -> OverlayState:
        """Every proposal; malformed files are reported and skipped. A missing folder is an empty overlay."""
        if self.root.exists() and not self.root.is_dir():
            problem = _problem(self.root, "这不是文件夹（配置项 phrasebook_overlay_dir / 环境变量 TRAINER_PHRASEBOOK_OVERLAY_DIR 应指向一个文件夹）")
            return OverlayState((), (problem,))
        proposals: list[Proposal] = []
        problems: list[PhrasebookProblem] = []
        stamp: list[tuple[str, int, int]] = []
        for path in self._files():
            try:
                info = path.stat()
                stamp.append((path.name, info.st_mtime_ns, info.st_size))
                proposals.append(_parse(path, info.st_size))
            except FileNotFoundError:
                continue  # removed while listing
            except OSError as exc:
                problems.append(_problem(path, f"无法读取（{exc.strerror or exc}）"))
            except ValueError as exc:
                problems.append(_problem(path, str(exc)))
        proposals.sort(key=lambda p: (p.created_at, p.id))
        return OverlayState(tuple(proposals), tuple(problems), tuple(stamp))

    def get(self, proposal_id: str) -> Proposal:
        proposal_id = check_proposal_id(proposal_id)
        path = self.path(proposal_id)
        try:
            proposal = _parse(path)
        except FileNotFoundError:
            raise OverlayError(f"找不到编号为 {proposal_id} 的建议。请用 `trainer phrasebook proposals` 查看编号。", f"no proposal {path}") from None
        except ValueError as exc:
            raise OverlayError(f"{path}：{_problem(path, str(exc)).message}", f"malformed proposal {path}: {exc}") from exc
        return proposal

    # --- write -------------------------------------------------------------------------------
    def _temp(self, data: bytes) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return synced_temp(self.root, data)

    def _create(self, proposal: Proposal) -> bool:
        """Write a new proposal file; False (nothing written) when the file already exists."""
        tmp = self._temp(proposal.canonical_bytes())
        try:
            os.link(tmp, self.path(proposal.id))  # never replaces an existing proposal
            created = True
        except FileExistsError:
            created = False
        finally:
            tmp.unlink(missing_ok=True)
        if created:
            fsync_dir(self.root)
        return created

    def _replace(self, proposal: Proposal) -> None:
        tmp = self._temp(proposal.canonical_bytes())
        try:
            os.replace(tmp, self.path(proposal.id))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_dir(self.root)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            import fcntl
        except ImportError:  # Windows: decisions are rare and made by hand
            yield
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    @staticmethod
    def _oserror(exc: OSError, action: str, root: Path) -> OverlayError:
        return OverlayError(
            f"{action}失败：{exc.strerror or exc}。请检查本中心话术文件夹 {root} 的权限和磁盘空间"
            "（配置项 phrasebook_overlay_dir / 环境变量 TRAINER_PHRASEBOOK_OVERLAY_DIR）。",
            f"{action}: {exc}",
        )

    # --- propose -----------------------------------------------------------------------------
    def propose(self, candidate: Candidate, library: Library | None = None) -> ProposeOutcome:
        """Store `candidate` as a pending proposal unless its session step was already proposed,
        its text is unusable, or (with `library`) the step already accepts exactly this text."""

        def outcome(proposal: Proposal | None, created: bool, reason: str = "") -> ProposeOutcome:
            return ProposeOutcome(candidate.scenario_id, candidate.step_id, candidate.session_id, proposal, created, reason)

        text = clean_text(candidate.text)
        problem = text_problem(text)
        if problem:
            return outcome(None, False, problem)
        if candidate.machine_status not in MACHINE_STATUSES:
            return outcome(None, False, "机评已判为完成，无需新增说法")
        if library is not None:
            step = _find_step(library, candidate.scenario_id, candidate.step_id)
            if step is None:
                return outcome(None, False, f"场景“{candidate.scenario_id}”的步骤“{candidate.step_id}”不在当前话术库中")
            if already_accepted(step, text):
                return outcome(None, False, "话术库中已有这个说法")
        try:
            for length in (8, 12, 16):  # a longer id only if another session step owns the short one
                pid = proposal_id(candidate.session_id, candidate.step_id, length)
                try:
                    existing = self._existing(pid)
                except OverlayError as exc:  # a damaged file holds the place: report, never overwrite it
                    return outcome(None, False, exc.user_message)
                if existing is not None and (existing.session_id, existing.step_id) != (candidate.session_id, candidate.step_id):
                    continue
                if existing is not None:
                    return outcome(existing, False)
                proposal = Proposal(
                    id=pid,
                    scenario_id=candidate.scenario_id,
                    step_id=candidate.step_id,
                    text=text,
                    session_id=candidate.session_id,
                    turn=int(candidate.turn),
                    machine_status=candidate.machine_status,
                    reviewer=str(candidate.reviewer or ""),
                    review_comment=str(candidate.review_comment or ""),
                    created_at=_now(),
                )
                if self._create(proposal):
                    return outcome(proposal, True)
                existing = self._existing(pid)  # another process made it just now
                if existing is not None and (existing.session_id, existing.step_id) == (candidate.session_id, candidate.step_id):
                    return outcome(existing, False)
        except OSError as exc:
            raise self._oserror(exc, "保存新说法建议", self.root) from exc
        return outcome(None, False, "建议编号冲突，未能保存")

    def _existing(self, pid: str) -> Proposal | None:
        """The proposal stored under `pid` (None: no file). A malformed file there is an error."""
        if not self.path(pid).exists():
            return None
        return self.get(pid)

    def propose_all(self, candidates: Iterable[Candidate], library: Library | None = None) -> list[ProposeOutcome]:
        return [self.propose(c, library) for c in candidates]

    # --- decide ------------------------------------------------------------------------------
    def approve(self, proposal_id: str, by: str, text: str | None = None, library: Library | None = None, note: str = "") -> Proposal:
        """Accept a pending proposal, optionally with edited text. Takes effect on the next library load."""
        by = _who(by)
        with self._locked():
            proposal = self.get(proposal_id)
            if proposal.status != "pending":
                raise OverlayError(
                    f"建议 {proposal.id} 已{proposal.status_label}（{proposal.decided_by}，{proposal.decided_at}），不能再采用。",
                    f"proposal {proposal.id} is {proposal.status}",
                )
            final = clean_text(proposal.text if text is None or not str(text).strip() else str(text))
            problem = text_problem(final)
            if problem:
                raise OverlayError(f"不能采用：{problem}。", f"approve {proposal.id}: bad text {final!r}")
            if library is not None:
                step = _find_step(library, proposal.scenario_id, proposal.step_id)
                if step is None:
                    raise OverlayError(
                        f"不能采用：场景“{proposal.scenario_id}”的步骤“{proposal.step_id}”已不在话术库中。请拒绝这条建议。",
                        f"approve {proposal.id}: step gone",
                    )
                if already_accepted(step, final):
                    raise OverlayError(f"不能采用：话术库中这一步已有说法“{final}”。请拒绝这条建议。", f"approve {proposal.id}: duplicate")
            decided = replace(proposal, status="approved", approved_text=final, decided_by=by, decided_at=_now(), decision_note=str(note or "").strip())
            try:
                self._replace(decided)
            except OSError as exc:
                raise self._oserror(exc, "保存审核结果", self.root) from exc
            return decided

    def reject(self, proposal_id: str, by: str, note: str = "") -> Proposal:
        """Decline a pending proposal, or withdraw an approved one (its phrasing stops counting)."""
        by = _who(by)
        with self._locked():
            proposal = self.get(proposal_id)
            if proposal.status == "rejected":
                raise OverlayError(f"建议 {proposal.id} 已经是未采用状态。", f"proposal {proposal.id} already rejected")
            decided = replace(proposal, status="rejected", approved_text="", decided_by=by, decided_at=_now(), decision_note=str(note or "").strip())
            try:
                self._replace(decided)
            except OSError as exc:
                raise self._oserror(exc, "保存审核结果", self.root) from exc
            return decided


def _who(by: str) -> str:
    by = str(by or "").strip()
    if not by:
        raise OverlayError("请填写审核人姓名。", "decision without a name")
    if len(by) > 40:
        raise OverlayError("审核人姓名最多 40 个字。", "decider name too long")
    if problem := input_problem(by, "审核人姓名"):
        raise OverlayError(problem, "unprintable decider name")
    return by


def _find_step(library: Library, scenario_id: str, step_id: str) -> Step | None:
    scenario = library.scenarios.get(scenario_id)
    if scenario is None:
        return None
    return next((s for s in scenario.steps if s.id == step_id), None)


# --------------------------------------------------------------------------- merging


def merge_approved(library: Library, state: OverlayState, root: Path | None = None) -> Library:
    """The library with every approved phrasing added as a variant of its step, and the overlay's
    problems added to `library.problems`. The version changes whenever the merged set changes."""
    problems = list(state.problems)
    added: dict[tuple[str, str], list[str]] = {}
    used: list[tuple[str, str, str, str]] = []
    approved = sorted(state.approved, key=lambda p: (p.decided_at, p.id))
    for proposal in approved:
        step = _find_step(library, proposal.scenario_id, proposal.step_id)
        if step is None:
            where = Path(root) / f"{proposal.id}.json" if root is not None else Path(f"{proposal.id}.json")
            problems.append(
                PhrasebookProblem(
                    where, 0, "",
                    f"已采用的新说法“{proposal.phrasing}”所属的场景“{proposal.scenario_id}”步骤“{proposal.step_id}”已不在话术库中，未使用。"
                    f"请运行 trainer phrasebook reject {proposal.id} 撤销它",
                )
            )
            continue
        key = (proposal.scenario_id, proposal.step_id)
        texts = added.setdefault(key, [])
        if already_accepted(step, proposal.phrasing) or proposal.phrasing in texts:
            continue
        texts.append(proposal.phrasing)
        used.append((proposal.id, proposal.scenario_id, proposal.step_id, proposal.phrasing))
    if not used:
        return replace(library, problems=library.problems + tuple(problems)) if problems else library
    scenarios = dict(library.scenarios)
    for (scenario_id, step_id), texts in added.items():
        if not texts:
            continue
        scenario = scenarios[scenario_id]
        # An instructor judged these words to perform the step: they are also cues (a hit on their
        # own, without the step's key words), not only variants that need the key words for a hit.
        cues = tuple(_as_cue(t) for t in texts if _as_cue(t))
        steps = tuple(
            replace(s, variants=s.variants + tuple(texts), cues=s.cues + tuple(c for c in cues if c not in s.cues)) if s.id == step_id else s
            for s in scenario.steps
        )
        scenarios[scenario_id] = replace(scenario, steps=steps)
    digest = hashlib.sha256(library.version.encode("utf-8"))
    digest.update(json.dumps(used, ensure_ascii=False).encode("utf-8"))
    return replace(library, scenarios=scenarios, version=digest.hexdigest()[:12], problems=library.problems + tuple(problems))


def _as_cue(text: str) -> str:
    """An approved phrasing as a one-part cue: its words without punctuation or the cue separator."""
    return "".join(ch for ch in text if ch.isalnum())


def approved_phrasings(state: OverlayState) -> dict[tuple[str, str], tuple[str, ...]]:
    """(scenario id, step id) -> the approved phrasings of that step (to mark them 本中心新增)."""
    out: dict[tuple[str, str], list[str]] = {}
    for proposal in sorted(state.approved, key=lambda p: (p.decided_at, p.id)):
        out.setdefault((proposal.scenario_id, proposal.step_id), []).append(proposal.phrasing)
    return {key: tuple(texts) for key, texts in out.items()}


def overlay_phrasings_of(library: Library, state: OverlayState) -> Mapping[tuple[str, str], tuple[str, ...]]:
    """Like `approved_phrasings`, but only those the library actually carries as variants
    (a phrasing the shipped phrasebook already had is not "new")."""
    out: dict[tuple[str, str], tuple[str, ...]] = {}
    for (scenario_id, step_id), texts in approved_phrasings(state).items():
        step = _find_step(library, scenario_id, step_id)
        if step is not None:
            kept = tuple(t for t in texts if t in step.variants)
            if kept:
                out[(scenario_id, step_id)] = kept
    return out
