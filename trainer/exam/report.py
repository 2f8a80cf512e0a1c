"""Printable per-candidate exam report (HTML that prints cleanly to A4/PDF) and roster exports."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from trainer.scoring.display import score_text
from trainer.errors import ExamError
from trainer.exam.anchor import LedgerHead
from trainer.exam.paper import DIMENSIONS
from trainer.exam.records import ROSTER_COLUMNS, ExamResult, RosterRow, state_label
from trainer.phrasebook.model import Library
from trainer.sessions.model import parse_utc
from trainer.spreadsheet import fill_sheet, write_csv

STATUS_LABELS = {"hit": "✓ 做到", "partial": "△ 部分", "missed": "✗ 遗漏"}

CSS = """
@page { size: A4; margin: 16mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       color: #111; font-size: 11pt; line-height: 1.45; margin: 0 auto; max-width: 190mm; padding: 8mm 0; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 2mm; letter-spacing: 0.1em; }
.sub { text-align: center; color: #444; margin-bottom: 6mm; }
h2 { font-size: 12.5pt; border-bottom: 1.5px solid #111; padding-bottom: 1mm; margin: 6mm 0 2mm; }
table { width: 100%; border-collapse: collapse; margin: 2mm 0; page-break-inside: auto; }
tr { page-break-inside: avoid; }
th, td { border: 1px solid #888; padding: 1.2mm 2mm; text-align: left; vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
.info td:nth-child(odd) { width: 14%; background: #f7f7f7; font-weight: 600; white-space: nowrap; }
.info td:nth-child(even) { width: 36%; }
.verdict { font-size: 16pt; font-weight: 700; text-align: center; padding: 3mm; border: 2px solid #111; margin: 4mm 0; }
.pass { color: #0a6b2d; } .fail { color: #a8071a; } .review { color: #ad6800; }
ul { margin: 1mm 0 1mm 6mm; padding: 0; }
.seal { font-family: "DejaVu Sans Mono", monospace; font-size: 9.5pt; }
.foot { margin-top: 10mm; display: flex; justify-content: space-between; }
.foot div { width: 45%; border-top: 1px solid #111; padding-top: 1mm; }
.small { font-size: 9pt; color: #444; }
.question { page-break-inside: avoid; }
@media print { body { padding: 0; } th { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
"""


def local_time(utc_text: str) -> str:
    return parse_utc(utc_text).astimezone().strftime("%Y-%m-%d %H:%M") if utc_text else ""


def _label(dimension: str) -> str:
    return DIMENSIONS.get(dimension, dimension)


def _num(value: float | None) -> str:
    return score_text(value)


def render_report(result: ExamResult, library: Library | None = None, head: LedgerHead | None = None) -> str:
    """The printable report of one exam (instructor copy: always with the full breakdown).
    With the phrase library, steps are shown by their titles rather than their ids. `head`, the
    ledger's last entry when printed, lets `trainer exam verify --head` prove a shorter ledger later."""
    e = escape
    verdict = result.verdict
    passed_text = state_label(result.state)
    seen = {d for q in verdict.questions for d in q.dimensions}
    dims = [d for d in DIMENSIONS if d in seen] + sorted(seen - set(DIMENSIONS))
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{e(result.paper.title)} · {e(result.candidate_name or result.candidate_id)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{e(result.paper.title)}</h1>",
        f'<div class="sub">考核成绩单 · 试卷 {e(result.paper.id)} 第 {result.paper.version} 版</div>',
        '<table class="info">',
        f"<tr><td>考生编号</td><td>{e(result.candidate_id)}</td><td>考生姓名</td><td>{e(result.candidate_name)}</td></tr>",
        f"<tr><td>考试日期</td><td>{e(local_time(result.finished_at))}</td><td>第几次参加</td><td>第 {result.attempt} 次</td></tr>",
        f"<tr><td>考试题目</td><td>{e('、'.join(q.scenario_title for q in result.questions))}</td>"
        f"<td>识别引擎</td><td>{e(result.engine)} {e(result.model)}</td></tr>",
        "</table>",
        f'<div class="verdict {result.state}">总分 {_num(result.total)} 分 · {passed_text}'
        f'<span class="small">（及格线 {_num(verdict.pass_mark)} 分）</span></div>',
    ]
    if result.pending_review:
        parts.append(
            "<p><b>待复核：</b>机器无法确定本场考试的结果，须由考评员复核后作出结论（trainer exam decide）。"
            f"机评倾向：{'通过' if verdict.passed else '未通过'}（仅供复核参考）。</p>"
        )
    if verdict.review_reasons:
        parts.append("<h2>待复核原因</h2><ul>" + "".join(f"<li>{e(r)}</li>" for r in verdict.review_reasons) + "</ul>")
    for o in result.overrides:
        machine = f"{'待复核，倾向' if verdict.under_review else ''}{'通过' if verdict.passed else '未通过'}"
        total = f"，{_num(o.total)} 分" if o.total is not None else ""
        if o.is_review_decision:
            parts.append(
                f"<p><b>考评员复核结论：</b>{e(o.instructor)} 于 {e(local_time(o.time))} 复核为“{state_label('pass' if o.passed else 'fail')}”"
                f"{total}。理由：{e(o.comment)}。机评结果：{_num(verdict.total)} 分，{machine}（账本第 {o.seq} 号记录）。</p>"
            )
        else:
            parts.append(
                f"<p><b>考评员改判：</b>{e(o.instructor)} 于 {e(local_time(o.time))} 改判为“{state_label('pass' if o.passed else 'fail')}”"
                f"{total}。说明：{e(o.comment)}。机评结果：{_num(verdict.total)} 分，{machine}（账本第 {o.seq} 号记录）。</p>"
            )
    parts.append("<h2>各题得分</h2><table><tr><th>题号</th><th>场景</th>")
    parts.extend(f'<th class="num">{e(_label(d))}</th>' for d in dims)
    parts.append('<th class="num">本题总分</th></tr>')
    for q, qv in zip(result.questions, verdict.questions):
        cells = "".join(f'<td class="num">{_num(qv.dimensions.get(d))}</td>' for d in dims)
        flag = "（待复核）" if qv.under_review else ""
        parts.append(f"<tr><td>{q.index}</td><td>{e(q.scenario_title)}{flag}</td>{cells}<td class=\"num\"><b>{_num(qv.total)}</b></td></tr>")
    mean = "".join(f'<td class="num">{_num(verdict.dimensions.get(d))}</td>' for d in dims)
    parts.append(f"<tr><th colspan=\"2\">平均</th>{mean}<th class=\"num\">{_num(verdict.total)}</th></tr></table>")
    if verdict.reasons:
        parts.append(f"<h2>{'机评未通过的依据（机器无法确定，仅供复核参考）' if verdict.under_review else '未通过原因'}</h2><ul>" + "".join(f"<li>{e(r)}</li>" for r in verdict.reasons) + "</ul>")
    if verdict.notes:
        parts.append("<h2>备注</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in verdict.notes) + "</ul>")
    for q, qv in zip(result.questions, verdict.questions):
        score = result.scores[q.index - 1] if result.scores else {}
        parts.append(f'<div class="question"><h2>第 {q.index} 题 · {e(q.scenario_title)}（{_num(qv.total)} 分）</h2>')
        steps = score.get("steps") or []
        titles = _step_titles(library, q.scenario_id)
        if steps:
            parts.append("<table><tr><th>步骤</th><th>结果</th><th>标准用语</th><th>考生所说</th></tr>")
            for s in steps:
                unsure = "（机器无把握）" if s.get("certain") is False else ""
                parts.append(
                    f"<tr><td>{e(titles.get(str(s.get('id', '')), str(s.get('id', ''))))}</td><td>{e(STATUS_LABELS.get(s.get('status', ''), str(s.get('status', ''))))}{unsure}</td>"
                    f"<td>{e(str(s.get('expected', '')))}</td><td>{e(str(s.get('matched_text') or ''))}</td></tr>"
                )
            parts.append("</table>")
        if qv.forbidden:
            parts.append("<p><b>服务忌语：</b></p><ul>" + "".join(
                f"<li>“{e(str(h.get('phrase', '')))}”（第 {e(str(h.get('turn', '')))} 段）→ 应说：{e(str(h.get('suggestion', '')))}</li>"
                for h in qv.forbidden) + "</ul>")
        feedback = score.get("feedback") or []
        if feedback:
            parts.append("<p><b>改进意见：</b></p><ul>" + "".join(f"<li>{e(str(f))}</li>" for f in feedback) + "</ul>")
        parts.append("</div>")
    parts.extend([
        "<h2>防篡改封印</h2>",
        f'<p class="small">考试编号 <span class="seal">{e(result.exam_id)}</span> · 账本第 {result.seq} 号记录 · '
        f'封存时间 {e(local_time(result.sealed_at))}<br>封印指纹 <span class="seal">{e(result.fingerprint)}</span>'
        "（用 <code>trainer exam verify</code> 核对：录音、识别文字、评分与试卷任何改动都会被发现）"
        + (
            f"<br>打印时账本末尾：{e(head.label())}（日后用 <code>trainer exam verify --head {head.seq}</code> 核对账本没有被截短）"
            if head is not None else ""
        )
        + "</p>",
        '<div class="foot"><div>考评员签字：</div><div>日期：</div></div>',
        "</body></html>",
    ])
    return "\n".join(parts)


def _step_titles(library: Library | None, scenario_id: str) -> dict[str, str]:
    if library is None or scenario_id not in library.scenarios:
        return {}
    return {step.id: step.title for step in library.scenarios[scenario_id].steps}


def write_report(result: ExamResult, path: Path, library: Library | None = None, head: LedgerHead | None = None) -> Path:
    if not result.scores:
        raise ExamError("生成成绩单需要各题的评分明细，请用 load_result(..., with_scores=True) 读取考试记录。", "report without scores")
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_report(result, library, head), encoding="utf-8")
    except OSError as exc:
        raise ExamError(f"无法写入成绩单 {path}：{exc}", f"cannot write {path}: {exc}") from exc
    return path


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return ""
    return value


HEAD_COLUMN = "导出时账本末尾"


def _roster_table(rows: Sequence[RosterRow], head: LedgerHead | None = None) -> tuple[list[str], list[list[Any]]]:
    keys = list(ROSTER_COLUMNS)
    header = [ROSTER_COLUMNS[k] for k in keys]
    body = []
    for row in rows:
        data = row.to_dict()
        values = [_cell(data[k]) for k in keys]
        for i, k in enumerate(keys):
            if k == "passed":
                values[i] = state_label(row.state or ("pass" if row.passed else "fail"))
            if k == "machine_passed":
                guess = "通过" if row.machine_passed else "未通过"
                values[i] = f"待复核（倾向{guess}）" if row.machine_state == "review" else guess
            if k in ("started_at", "finished_at"):
                values[i] = local_time(data[k])
            if k == "seal_ok" and data[k] is None:
                values[i] = "未校验"
        body.append(values)
    header[keys.index("started_at")] = "开始时间"
    header[keys.index("finished_at")] = "交卷时间"
    if head is not None:  # on every row, so it survives sorting and filtering in Excel
        header.append(HEAD_COLUMN)
        for values in body:
            values.append(head.label())
    return header, body


def export_roster(rows: Sequence[RosterRow], path: Path, head: LedgerHead | None = None) -> Path:
    """Write the roster as CSV (UTF-8 with BOM, opens in Excel) or Excel (.xlsx), by the suffix.
    With `head` (the ledger's last entry), every row carries it (column 导出时账本末尾).
    Cells go through `trainer.spreadsheet`: never a formula, control characters dropped."""
    path = Path(path)
    header, body = _roster_table(rows, head)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".csv":
            write_csv(path, header, body)
        elif path.suffix.lower() == ".xlsx":
            from openpyxl import Workbook

            book = Workbook()
            sheet = book.active
            sheet.title = "考试成绩"
            fill_sheet(sheet, header, body)  # a candidate named "=HYPERLINK(…)" stays text
            for column in sheet.columns:
                width = max(len(str(c.value or "")) for c in column)
                sheet.column_dimensions[column[0].column_letter].width = min(max(8, width * 1.6), 60)
            book.save(path)
        else:
            raise ExamError(f"不支持的导出格式“{path.suffix}”。请使用 .csv 或 .xlsx 文件名。", f"unsupported export suffix {path.suffix!r}")
    except OSError as exc:
        raise ExamError(f"无法写入 {path}：{exc}", f"cannot write {path}: {exc}") from exc
    return path
