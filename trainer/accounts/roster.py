"""Importing a roster (花名册): an Excel or CSV file with the columns 工号, 姓名, 班组/营业厅, 角色.

Every row is checked first; with any problem nothing is imported and each problem names its
line. New accounts get random initial passwords (to be changed at first login), which are
written to a CSV file readable only by its owner (0600). Accounts that exist already get the
name, groups and role from the roster; their passwords are left alone.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from trainer.accounts.manage import create_account
from trainer.accounts.model import TRAINEE, Account, AccountError, check_name, check_user_id, parse_groups, parse_role
from trainer.accounts.store import AccountStore

COLUMNS = {
    "user_id": ("工号",),
    "name": ("姓名",),
    "groups": ("班组/营业厅", "班组", "营业厅", "班组／营业厅"),
    "role": ("角色",),
    "email": ("邮箱", "电子邮箱", "email"),
}
REQUIRED = ("user_id", "name")
PASSWORD_HEADER = ("工号", "姓名", "角色", "班组/营业厅", "初始密码")


@dataclass(frozen=True)
class RosterRow:
    line: int  # 1-based line (CSV) or row (Excel) in the file
    account: Account


@dataclass
class ImportReport:
    created: list[tuple[Account, str]] = field(default_factory=list)  # with the initial password
    updated: list[Account] = field(default_factory=list)
    unchanged: list[Account] = field(default_factory=list)


def _cells_csv(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # gb18030 decodes any byte string; kept for type checkers
        raise AccountError("无法读取花名册：文件编码不是 UTF-8 或 GBK。", "roster encoding")
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""))]


def _cells_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise AccountError(f"无法打开 Excel 花名册：{exc}。请确认是 .xlsx 文件。", f"bad xlsx: {exc}") from exc
    sheet = book.worksheets[0]
    rows = []
    for row in sheet.iter_rows(values_only=True):
        rows.append(["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)) for v in row])
    book.close()
    return rows


def read_cells(data: bytes, file_name: str) -> list[list[str]]:
    suffix = Path(file_name).suffix.lower()
    if suffix == ".xlsx":
        return _cells_xlsx(data)
    if suffix in (".csv", ".txt"):
        return _cells_csv(data)
    raise AccountError(f"花名册“{file_name}”的格式不支持：请用 .xlsx 或 .csv 文件。", f"roster suffix {suffix!r}")


def parse_roster(data: bytes, file_name: str) -> list[RosterRow]:
    """The roster's accounts; AccountError listing every bad line ("第 N 行：…") when any is wrong."""
    cells = read_cells(data, file_name)
    header_at = next((i for i, row in enumerate(cells) if any(c.strip() for c in row)), None)
    if header_at is None:
        raise AccountError(f"花名册“{file_name}”是空的。第一行应为表头：工号、姓名、班组/营业厅、角色。", "empty roster")
    header = [c.strip().lstrip("\ufeff") for c in cells[header_at]]
    where: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for i, title in enumerate(header):
            if title in names or title.lower() in names:
                where[key] = i
                break
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in where]
    if missing:
        raise AccountError(
            f"花名册第 {header_at + 1} 行（表头）缺少列：{'、'.join(missing)}。表头应为：工号、姓名、班组/营业厅、角色。",
            f"roster header lacks {missing}",
        )
    problems: list[str] = []
    rows: list[RosterRow] = []
    seen: dict[str, int] = {}
    for i in range(header_at + 1, len(cells)):
        line = i + 1
        row = cells[i]
        if not any(c.strip() for c in row):
            continue

        def cell(key: str) -> str:
            at = where.get(key)
            return row[at].strip() if at is not None and at < len(row) else ""

        try:
            user_id = check_user_id(cell("user_id"))
            name = check_name(cell("name"))
            if not name:
                raise AccountError("姓名不能为空。", "empty name")
            role = parse_role(cell("role")) if cell("role") else TRAINEE
            groups = parse_groups(cell("groups"))
        except AccountError as exc:
            problems.append(f"第 {line} 行：{exc.user_message}")
            continue
        if user_id in seen:
            problems.append(f"第 {line} 行：工号 {user_id} 与第 {seen[user_id]} 行重复。")
            continue
        seen[user_id] = line
        rows.append(RosterRow(line, Account(user_id, name, role, groups, cell("email"))))
    if problems:
        raise AccountError(
            f"花名册“{file_name}”有 {len(problems)} 处错误，未导入任何账号：\n" + "\n".join(problems), f"roster has {len(problems)} problems"
        )
    if not rows:
        raise AccountError(f"花名册“{file_name}”只有表头，没有人员。", "roster without rows")
    return rows


def import_roster(store: AccountStore, rows: list[RosterRow]) -> ImportReport:
    report = ImportReport()
    for row in rows:
        existing = store.get(row.account.user_id)
        if existing is None:
            password = create_account(store, row.account)
            report.created.append((store.get(row.account.user_id) or row.account, password))
            continue
        wanted = replace(existing, name=row.account.name, role=row.account.role, groups=row.account.groups,
                         email=row.account.email or existing.email)
        if wanted == existing:
            report.unchanged.append(existing)
        else:
            report.updated.append(store.update(wanted))
    return report


def passwords_csv(created: list[tuple[Account, str]]) -> bytes:
    """The initial passwords as CSV (UTF-8 with BOM, so Excel shows the Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PASSWORD_HEADER)
    for account, password in created:
        writer.writerow((account.user_id, account.name, account.role_label, "、".join(account.groups), password))
    return out.getvalue().encode("utf-8-sig")


def write_private(path: Path, data: bytes) -> Path:
    """Write a new file readable only by its owner (0600); refuses to overwrite."""
    path = Path(path).expanduser()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise AccountError(f"文件 {path} 已存在，未覆盖。请换一个文件名（--passwords-out）。", f"{path} exists") from None
    except OSError as exc:
        raise AccountError(f"无法创建文件 {path}：{exc.strerror or exc}", f"create {path}: {exc}") from exc
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(path, 0o600)
    return path
