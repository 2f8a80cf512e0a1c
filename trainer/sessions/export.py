"""Export stored sessions for the training centre's records: CSV or Excel, one row per session and per step.

`.xlsx`: one workbook with the sheets 会话 and 步骤. `.csv`: two files, PATH (sessions) and
PATH's stem + `_steps.csv` (steps), UTF-8 with BOM so that Excel opens the Chinese text
correctly. Every cell goes through `trainer.spreadsheet` (text a spreadsheet would run as a formula
is neutralised, control characters are dropped). Files are written to a temporary name and renamed, so an interrupted export never
leaves a half file under the requested name.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from trainer.errors import SessionStoreError
from trainer.phrasebook.model import Library
from trainer.scoring.display import DIMENSION_LABELS, passed_label, round_score
from trainer.scoring.result import VERDICT_LABELS as RESULT_LABELS  # 通过 / 未通过 / 待复核
from trainer.sessions.model import KIND_LABELS, SessionFilter, SessionSummary, StepRow, parse_utc
from trainer.sessions.review import OVERALL_LABELS, VERDICT_LABELS
from trainer.sessions.store import SessionStore
from trainer.spreadsheet import fill_sheet, write_csv

STATUS_LABELS = {"hit": "命中", "partial": "部分", "missed": "遗漏"}
SESSION_HEADERS = (
    "会话编号", "类型", "工号", "姓名", "场景编号", "场景名称", "开始时间", "结束时间", "识别引擎", "模型",
    "话术库版本", "轮数", "机评总分", "机评结果",
)
REVIEW_HEADERS = ("复核次数", "最近复核人", "复核时间", "复核结论", "改判分数", "改判结果", "复核意见", "最终分数", "最终结果")
STEP_HEADERS = (
    "会话编号", "类型", "工号", "姓名", "场景编号", "开始时间", "序号", "步骤", "步骤名称", "标准用语", "结果", "相似度",
    "识别文本", "轮次", "复核意见", "复核备注",
)


@dataclass(frozen=True)
class ExportReport:
    paths: tuple[Path, ...]
    sessions: int
    steps: int
    warnings: tuple[str, ...] = ()  # Chinese; sessions whose folder could not be read (index values used)


def local_time(utc_text: str) -> str:
    """A stored UTC timestamp as local wall-clock time, e.g. 2026-11-23 22:30:15."""
    if not utc_text:
        return ""
    return parse_utc(utc_text).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def dimension_label(key: str) -> str:
    return f"维度：{DIMENSION_LABELS.get(key, key)}"


def _table(store: SessionStore, flt: SessionFilter, library: Library | None = None) -> tuple[list[str], list[list[Any]], list[str], list[list[Any]], list[str]]:
    summaries = store.list(flt)
    warnings: list[str] = []
    dimensions: list[dict[str, float]] = []
    comments: list[str] = []
    for summary in summaries:
        try:
            record = store.load(summary.id, check_audio=False)
            reviews = store.reviews(summary.id)
        except SessionStoreError as exc:
            warnings.append(f"会话 {summary.id}：{exc.user_message}（已按索引中的数据导出）")
            dimensions.append({})
            comments.append("")
            continue
        dimensions.append(record.dimensions)
        comments.append(reviews[-1].comment if reviews else "")
    dimension_keys = sorted({key for dims in dimensions for key in dims})
    session_headers = [*SESSION_HEADERS, *(dimension_label(k) for k in dimension_keys), *REVIEW_HEADERS]
    session_rows = [
        _session_row(summary, dims, comment, dimension_keys)
        for summary, dims, comment in zip(summaries, dimensions, comments)
    ]
    wanted = {summary.id for summary in summaries}  # the same sessions as the first table (limit applies)
    step_rows = [_step_row(row, library) for row in store.step_rows(replace(flt, limit=None)) if row.session_id in wanted]
    return session_headers, session_rows, list(STEP_HEADERS), step_rows, warnings


def _session_row(s: SessionSummary, dims: dict[str, float], comment: str, keys: Sequence[str]) -> list[Any]:
    return [
        s.id, KIND_LABELS.get(s.kind, s.kind), s.trainee_id, s.trainee_name, s.scenario_id, s.scenario_title,
        local_time(s.started_at), local_time(s.finished_at), s.engine, s.model, s.phrasebook_version, s.turns,
        round_score(s.total), RESULT_LABELS.get(s.verdict, ""),
        *(round_score(dims.get(k)) for k in keys),
        s.review_count, s.last_reviewer, local_time(s.reviewed_at), OVERALL_LABELS.get(s.review_overall, ""),
        round_score(s.override_total), passed_label(s.override_passed) if s.review_overall == "override" else "", comment,
        round_score(s.effective_total), s.result_label,
    ]


def step_title(library: Library | None, scenario_id: str, step_id: str) -> str:
    """The step's Chinese title from the phrase library ("" when the library or the step is unknown)."""
    scenario = library.scenarios.get(scenario_id) if library is not None else None
    if scenario is None:
        return ""
    try:
        return scenario.step(step_id).title
    except KeyError:
        return ""


def _step_row(r: StepRow, library: Library | None = None) -> list[Any]:
    return [
        r.session_id, KIND_LABELS.get(r.kind, r.kind), r.trainee_id, r.trainee_name, r.scenario_id,
        local_time(r.started_at), r.position, r.step_id, step_title(library, r.scenario_id, r.step_id), r.expected, STATUS_LABELS.get(r.status, r.status),
        r.similarity, r.matched_text, r.turn, VERDICT_LABELS.get(r.review_verdict, ""), r.review_comment,
    ]


def steps_csv_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}_steps.csv")


def export_sessions(store: SessionStore, flt: SessionFilter | None, path: Path, library: Library | None = None) -> ExportReport:
    """Write the selected sessions to `path` (.csv or .xlsx). Returns what was written. With the
    phrase library, the step sheet has each step's title beside its id."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise SessionStoreError(
            f"不支持的导出格式“{path.suffix or '（无扩展名）'}”。请使用 .csv 或 .xlsx 结尾的文件名。",
            f"unsupported export suffix {path.suffix!r}",
        )
    if not path.parent.is_dir():
        raise SessionStoreError(f"导出目录 {path.parent} 不存在。请先创建该文件夹。", f"export dir {path.parent} missing")
    session_headers, session_rows, step_headers, step_rows, warnings = _table(store, flt or SessionFilter(), library)
    if suffix == ".xlsx":
        _atomic_write(path, lambda tmp: _write_xlsx(tmp, session_headers, session_rows, step_headers, step_rows))
        paths: tuple[Path, ...] = (path,)
    else:
        steps_path = steps_csv_path(path)
        _atomic_write(path, lambda tmp: write_csv(tmp, session_headers, session_rows))
        _atomic_write(steps_path, lambda tmp: write_csv(tmp, step_headers, step_rows))
        paths = (path, steps_path)
    return ExportReport(paths=paths, sessions=len(session_rows), steps=len(step_rows), warnings=tuple(warnings))


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            write(tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except PermissionError as exc:
        raise SessionStoreError(
            f"无法写入 {path}：没有权限，或文件正被 Excel 等程序打开。请关闭该文件或换一个文件名。", f"writing {path}: {exc}"
        ) from exc
    except OSError as exc:
        raise SessionStoreError(f"无法写入 {path}：{exc.strerror or exc}。", f"writing {path}: {exc}") from exc


def _write_xlsx(
    path: Path,
    session_headers: Sequence[str],
    session_rows: Sequence[Sequence[Any]],
    step_headers: Sequence[str],
    step_rows: Sequence[Sequence[Any]],
) -> None:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    first = workbook.active
    workbook.remove(first)
    for title, headers, rows in (("会话", session_headers, session_rows), ("步骤", step_headers, step_rows)):
        sheet = workbook.create_sheet(title)
        fill_sheet(sheet, headers, rows)  # a trainee name like "=1+1" is text, never a formula
        for index, header in enumerate(headers, start=1):
            longest = max([len(str(header)) * 2, *(len(str(r[index - 1] or "")) for r in rows[:200])])
            sheet.column_dimensions[get_column_letter(index)].width = min(max(10, longest + 2), 60)
    workbook.save(path)
