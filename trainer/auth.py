"""The instructor password: hashed with scrypt and a random salt, stored in trainer.toml.

The config key is `instructor_password_hash`; its value looks like

    scrypt$16384$8$1$<salt, base64>$<hash, base64>

`trainer admin set-password` writes it (see `set_password_in_config`). Only the hash is
stored; checking a password recomputes it with the stored parameters and compares in
constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import tempfile
import tomllib
from pathlib import Path

from trainer.errors import TrainerError

CONFIG_KEY = "instructor_password_hash"
SCHEME = "scrypt"
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
MIN_PASSWORD_LENGTH = 6
SET_PASSWORD_HINT = "请在命令行运行 `trainer admin set-password` 设置教师密码（保存在 trainer.toml 的 instructor_password_hash 中）。"


class AuthError(TrainerError):
    """The instructor password cannot be set or the stored hash is unusable."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=256 * 1024 * 1024)


def check_new_password(password: str) -> None:
    """Raise AuthError when a new password is too weak to set."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(
            f"密码太短：至少需要 {MIN_PASSWORD_LENGTH} 个字符。",
            f"password shorter than {MIN_PASSWORD_LENGTH} characters",
        )
    if password.strip() != password:
        raise AuthError("密码的开头和结尾不能是空格。", "password has leading/trailing whitespace")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The storable hash of `password` (a fresh random salt unless one is given)."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, HASH_BYTES)
    return f"{SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes]:
    parts = stored.strip().split("$")
    bad = AuthError(
        f"配置中的教师密码（{CONFIG_KEY}）格式不正确。{SET_PASSWORD_HINT}",
        f"malformed {CONFIG_KEY}: expected scrypt$N$r$p$salt$hash",
    )
    if len(parts) != 6 or parts[0] != SCHEME:
        raise bad
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        raise bad from None
    if n < 2 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16 or not salt or not digest:
        raise bad
    return n, r, p, salt, digest


def is_configured(stored: str) -> bool:
    return bool(stored and stored.strip())


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the stored hash. Raises AuthError when no usable hash is stored."""
    if not is_configured(stored):
        raise AuthError(f"尚未设置教师密码。{SET_PASSWORD_HINT}", "no instructor password configured")
    n, r, p, salt, digest = _parse(stored)
    candidate = _scrypt(password, salt, n, r, p, len(digest))
    return hmac.compare_digest(candidate, digest)


# --------------------------------------------------------------------------- writing the config file

_TABLE_RE = re.compile(r"^\s*\[")
_KEY_RE = re.compile(rf"^\s*{CONFIG_KEY}\s*=")


def _toml_string(value: str) -> str:
    # The hash uses only base64 characters and '$': a basic string needs no escapes.
    if not re.fullmatch(r"[A-Za-z0-9+/=$]*", value):
        raise AuthError("内部错误：密码哈希含有意外字符。", f"unexpected characters in hash {value!r}")
    return f'"{value}"'


def updated_config_text(text: str, stored_hash: str) -> str:
    """`text` (a TOML document) with the top-level instructor_password_hash set to `stored_hash`.

    Everything else is kept as written (comments, order, tables). The key is replaced
    where it is, or added at the end of the top-level part (before the first [table]).
    """
    line = f"{CONFIG_KEY} = {_toml_string(stored_hash)}\n"
    lines = text.splitlines(keepends=True)
    top_end = next((i for i, current in enumerate(lines) if _TABLE_RE.match(current)), len(lines))
    for i in range(top_end):
        if _KEY_RE.match(lines[i]):
            lines[i] = line
            break
    else:
        insert_at = top_end
        while insert_at > 0 and not lines[insert_at - 1].strip():
            insert_at -= 1  # keep blank lines between the top level and the first table
        if insert_at > 0 and not lines[insert_at - 1].endswith("\n"):
            lines[insert_at - 1] += "\n"
        lines.insert(insert_at, line)
    result = "".join(lines)
    try:
        parsed = tomllib.loads(result)
    except tomllib.TOMLDecodeError as exc:
        raise AuthError(f"配置文件无法解析（{exc}），未做修改。请先修正配置文件。", f"config does not parse after edit: {exc}") from exc
    if parsed.get(CONFIG_KEY) != stored_hash:
        raise AuthError(
            f"无法在配置文件中写入 {CONFIG_KEY}（文件结构特殊），未做修改。请手动把这一行加到文件开头：{line.strip()}",
            "edited config does not hold the new hash at top level",
        )
    return result


def set_password_in_config(path: Path, password: str) -> Path:
    """Hash `password` and write it into the TOML file at `path` (created when missing). Atomic.
    The file ends up 0600 (owner-only), whatever its mode was."""
    check_new_password(password)
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise AuthError(f"无法读取配置文件 {path}：{exc}", f"cannot read {path}: {exc}") from exc
    if text:
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise AuthError(f"配置文件 {path} 格式错误（{exc}），未做修改。请先修正该文件。", f"bad TOML in {path}: {exc}") from exc
    new_text = updated_config_text(text, hash_password(password))
    if not path.parent.is_dir():
        raise AuthError(f"文件夹 {path.parent} 不存在。请先创建它，或用 --config 指定其他位置。", f"{path.parent} missing")
    mode = 0o600  # it holds the password hash: owner-only, also when the file was 0644 before
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(new_text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp_name, mode)
            os.replace(tmp_name, path)
        finally:
            Path(tmp_name).unlink(missing_ok=True)
    except OSError as exc:
        raise AuthError(f"无法写入配置文件 {path}：{exc.strerror or exc}。请检查写入权限。", f"writing {path}: {exc}") from exc
    return path
