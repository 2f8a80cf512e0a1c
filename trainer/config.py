"""Configuration: defaults < trainer.toml < environment variables < CLI flags.

The config file is looked up at $TRAINER_CONFIG, else ./trainer.toml, else
<project root>/trainer.toml. Every setting has a default so the app runs with no
file at all. CLI flags are applied by the caller with `dataclasses.replace`.

Environment variables:
  TRAINER_CONFIG           path of the TOML config file
  TRAINER_ENGINE           vosk | whisper
  TRAINER_VOSK_MODEL       folder of a Vosk model
  TRAINER_WHISPER_MODEL    folder of a faster-whisper (CTranslate2) model
  TRAINER_MODELS_DIR       where `trainer models fetch` installs models
  TRAINER_SESSIONS_DIR     where sessions are stored
  TRAINER_PHRASEBOOK_DIRS  extra phrasebook folders, separated by os.pathsep
  TRAINER_PHRASEBOOK_OVERLAY_DIR  the centre's phrasebook overlay (instructor-approved phrasings)
  TRAINER_TLS_DIR          HTTPS certificates folder (`trainer tls init`)
  TRAINER_EXAM_PAPER_DIRS  extra exam-paper folders, separated by os.pathsep
  TRAINER_EXAM_KEY         secret key that seals exam records (HMAC)
  TRAINER_ASR_WORKERS      recognitions run at once (0: one per CPU core)
  TRAINER_ASR_THREADS      CPU threads per recognition (0: cores / workers, at least 1)
  TRAINER_EXAM_KEY_FILE    file holding that key when none is set (default: see `default_exam_key_file`)
  TRAINER_CUSTOMER_VOICE   espeak-ng voice that speaks the customer's lines (cmn); off: text only
  TRAINER_BROWSER_VOICE    browser speech-synthesis voice for them (auto: any Chinese voice; off: server audio only)
  TRAINER_STORAGE          embedded (folders + SQLite, the default) | postgres
  TRAINER_DATABASE_URL     postgresql://user:password@host/db (implies storage = postgres unless set otherwise)
  TRAINER_AUDIO_DIR        with storage = postgres: a folder every app server mounts for the turn audio
                           (empty: the audio goes into the database)

Secrets (`exam_key`, `instructor_password_hash`) belong in files only their owner can read:
`secret_file_warnings` names a config or key file that other local accounts can read.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.errors import TrainerError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_PHRASEBOOKS = PROJECT_ROOT / "phrasebooks"
SHIPPED_EXAM_PAPERS = PROJECT_ROOT / "exam_papers"
ENGINES = ("vosk", "whisper")
STORAGES = ("embedded", "postgres")


class ConfigError(TrainerError):
    """The config file is unreadable or holds a bad value."""


@dataclass(frozen=True)
class Settings:
    engine: str = "vosk"
    models_dir: Path = PROJECT_ROOT / "models"
    vosk_model: Path | None = None  # None: <models_dir>/vosk-model-small-cn-0.22
    whisper_model: Path | None = None  # None: <models_dir>/whisper-base
    sessions_dir: Path = PROJECT_ROOT / "sessions"
    phrasebook_dirs: tuple[Path, ...] = ()  # extra folders, loaded after the shipped one
    # Phrasings proposed from instructor reviews and approved for this centre (one JSON file per
    # proposal, see trainer/phrasebook/overlay.py); never written into phrasebooks/.
    # None: a folder "phrasebook_overlay" beside the sessions folder (<sessions_dir>/../phrasebook_overlay).
    phrasebook_overlay_dir: Path | None = None
    # HTTPS certificates (`trainer tls init`, `trainer app --https`). None: a folder "tls" beside the
    # sessions folder (<sessions_dir>/../tls).
    tls_dir: Path | None = None
    exam_paper_dirs: tuple[Path, ...] = ()  # extra exam-paper folders, after the shipped one
    placeholders: dict[str, str] = field(default_factory=lambda: {"company": "国网供电公司", "hotline": "95598"})
    max_audio_seconds: float = 600.0
    scoring_weights: dict[str, float] = field(default_factory=dict)  # empty: scoring defaults
    pass_mark: float = 80.0
    # Unfinished practice runs kept on the server (<sessions_dir>/drafts) are removed at start-up
    # when not saved for this many days; 0 keeps them until they are resumed or discarded.
    draft_max_age_days: float = 14.0
    instructor_password_hash: str = ""  # before accounts: becomes the admin account `admin` (README 账号与权限)
    # Login rules (trainer/accounts/login.py): lockout after this many failed attempts in a row, for
    # this long; logged out after this long without activity, and after session_hours at most.
    login_max_failures: int = 5
    login_lockout_minutes: float = 15.0
    login_idle_minutes: float = 30.0
    login_session_hours: float = 12.0
    oidc_claim: str = "email"  # st.login: the identity provider's claim matched to an account (email or 工号)
    exam_key: str = ""
    # The shared recogniser: how many recordings are recognised at once (0: one per core) and
    # with how many CPU threads each (0: cores // workers). workers × threads ≤ cores keeps the
    # engine from oversubscribing the CPU (see trainer/recognition.py).
    asr_workers: int = 0
    asr_threads: int = 0
    # Where the exam key is kept when `exam_key` is empty: generated there (0600) on first use.
    # None: `default_exam_key_file()` (~/.config/trainer/exam.key).
    exam_key_file: Path | None = None
    # The simulated customer's lines are spoken with this espeak-ng voice (trainer/speech.py);
    # "off" shows them as text only.
    customer_voice: str = "cmn"
    # In the web app the browser's own speech synthesis says the lines when it has a Chinese voice:
    # "auto" takes any, a voice name (e.g. "Microsoft Xiaoxiao") that one; "off" always uses the
    # server's espeak-ng audio (trainer/app/voice.py).
    browser_voice: str = "auto"
    # Where sessions, audio, reviews, accounts and the exam ledger live: "embedded" (folders under
    # sessions_dir + SQLite, nothing to install) or "postgres" (one PostgreSQL database at
    # database_url shared by several app servers; see trainer/storage/).
    storage: str = "embedded"
    database_url: str = ""
    # With storage = "postgres": a folder on a file system every app server mounts (same path on
    # each) where the turn audio files go; None keeps the audio in the database. Not used by the
    # embedded storage (its audio is in the session folders).
    audio_dir: Path | None = None
    config_path: Path | None = None

    @property
    def key_file(self) -> Path:
        return self.exam_key_file or default_exam_key_file()

    @property
    def vosk_model_path(self) -> Path:
        return self.vosk_model or self.models_dir / "vosk-model-small-cn-0.22"

    @property
    def whisper_model_path(self) -> Path:
        return self.whisper_model or self.models_dir / "whisper-base"

    def model_path(self, engine: str | None = None) -> Path:
        engine = engine or self.engine
        return self.vosk_model_path if engine == "vosk" else self.whisper_model_path

    @property
    def overlay_dir(self) -> Path:
        """Where phrasing proposals and approved phrasings of this centre are kept."""
        return self.phrasebook_overlay_dir or self.sessions_dir.parent / "phrasebook_overlay"

    @property
    def tls_folder(self) -> Path:
        """Where the local CA and the server certificate are kept."""
        return self.tls_dir or self.sessions_dir.parent / "tls"

    @property
    def all_phrasebook_dirs(self) -> tuple[Path, ...]:
        return (SHIPPED_PHRASEBOOKS, *self.phrasebook_dirs)

    @property
    def all_exam_paper_dirs(self) -> tuple[Path, ...]:
        return (SHIPPED_EXAM_PAPERS, *self.exam_paper_dirs)


def default_exam_key_file(environ: dict[str, str] | None = None) -> Path:
    """$XDG_CONFIG_HOME/trainer/exam.key (~/.config/trainer/exam.key); %APPDATA%\\trainer\\exam.key on Windows.
    Outside the project and the sessions folder, so that copying or sharing either leaks no key."""
    env = os.environ if environ is None else environ
    if os.name == "nt" and env.get("APPDATA"):
        base = Path(env["APPDATA"])
    elif env.get("XDG_CONFIG_HOME"):
        base = Path(env["XDG_CONFIG_HOME"]).expanduser()
    else:
        base = Path.home() / ".config"
    return base / "trainer" / "exam.key"


def readable_by_others(path: Path) -> int:
    """The group/other permission bits of a file (0: owner only, or not a POSIX system)."""
    if os.name != "posix":
        return 0
    try:
        return Path(path).stat().st_mode & 0o077
    except OSError:
        return 0


def secret_file_warnings(settings: "Settings") -> list[str]:
    """Chinese warnings about a config file that holds a secret but can be read by other accounts."""
    path = settings.config_path
    if path is None:
        return []
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    held = [k for k in ("exam_key", "instructor_password_hash") if str(data.get(k, "")).strip()]
    if _url_has_password(str(data.get("database_url", ""))):
        held.append("database_url")
    bits = readable_by_others(path)
    if not held or not bits & 0o044:
        return []
    return [
        f"配置文件 {path} 保存着 {'、'.join(held)}，但本机其他账户也能读取它（权限 {Path(path).stat().st_mode & 0o777:o}）。"
        f"请运行 chmod 600 {path} 只允许本账户读写。"
    ]


def _url_has_password(url: str) -> bool:
    """True for postgresql://user:password@host/... (a secret in the config file)."""
    userinfo = url.partition("://")[2].partition("@")
    return bool(userinfo[1]) and ":" in userinfo[0]


def find_config_file(environ: dict[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    if env.get("TRAINER_CONFIG"):
        path = Path(env["TRAINER_CONFIG"]).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"找不到配置文件 {path}。请检查环境变量 TRAINER_CONFIG。",
                f"config file {path} named by TRAINER_CONFIG does not exist",
            )
        return path
    for candidate in (Path.cwd() / "trainer.toml", PROJECT_ROOT / "trainer.toml"):
        if candidate.is_file():
            return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 格式错误：{exc}。请修正后重试。", f"bad TOML in {path}: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"无法读取配置文件 {path}：{exc}", f"cannot read {path}: {exc}") from exc


def _path(value: Any, base: Path) -> Path:
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _count(value: Any, where: str) -> int:
    """A whole number ≥ 0 (0 = automatic) for the worker and thread settings."""
    try:
        number = int(str(value).strip())
    except ValueError:
        number = -1
    if number < 0 or isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ConfigError(
            f"{where}的值“{value}”无效：应为 0 或正整数（0 表示按 CPU 核数自动设置）。",
            f"bad worker/thread count {value!r} in {where}",
        )
    return number


def _non_negative(value: Any, key: str, path: Path) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not number >= 0:  # also rejects NaN
        raise ConfigError(
            f"配置文件 {path} 中 {key} 的值“{value}”无效：应为不小于 0 的数字。请修正后重试。",
            f"{key} = {value!r} in {path} is not a non-negative number",
        )
    return number


def _check_storage(settings: Settings) -> None:
    if settings.storage not in STORAGES:
        raise ConfigError(
            f"未知的存储方式“{settings.storage}”。可选：embedded（文件夹 + SQLite，默认）、postgres（PostgreSQL 数据库）。",
            f"unknown storage {settings.storage!r}; choose one of {STORAGES}",
        )
    if settings.storage == "postgres" and not settings.database_url.strip():
        raise ConfigError(
            "存储方式为 postgres，但没有设置数据库地址。请在 trainer.toml 中写 database_url = \"postgresql://用户:密码@主机/库名\"，"
            "或设置环境变量 TRAINER_DATABASE_URL。",
            "storage = postgres without database_url",
        )


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build the settings from defaults, the config file and the environment."""
    env = os.environ if environ is None else environ
    settings = Settings()
    values: dict[str, Any] = {}
    config_path = find_config_file(env)
    if config_path is not None:
        data = _read_toml(config_path)
        base = config_path.parent
        for key in ("models_dir", "vosk_model", "whisper_model", "sessions_dir", "phrasebook_overlay_dir", "tls_dir", "exam_key_file"):
            if key in data:
                values[key] = _path(data[key], base)
        for key in ("phrasebook_dirs", "exam_paper_dirs"):
            if key in data:
                values[key] = tuple(_path(p, base) for p in data[key])
        if "audio_dir" in data:
            values["audio_dir"] = _path(data["audio_dir"], base) if str(data["audio_dir"]).strip() else None
        for key in ("engine", "instructor_password_hash", "exam_key", "oidc_claim", "customer_voice", "browser_voice", "storage", "database_url"):
            if key in data:
                values[key] = str(data[key])
        if "max_audio_seconds" in data:
            values["max_audio_seconds"] = float(data["max_audio_seconds"])
        for key in ("asr_workers", "asr_threads"):
            if key in data:
                values[key] = _count(data[key], f"配置文件 {config_path} 中的 {key}")
        if "pass_mark" in data:
            values["pass_mark"] = float(data["pass_mark"])
        if "login_max_failures" in data:
            values["login_max_failures"] = int(data["login_max_failures"])
        for key in ("login_lockout_minutes", "login_idle_minutes", "login_session_hours"):
            if key in data:
                values[key] = float(data[key])
        if "draft_max_age_days" in data:
            values["draft_max_age_days"] = _non_negative(data["draft_max_age_days"], "draft_max_age_days", config_path)
        if "placeholders" in data:
            values["placeholders"] = {**settings.placeholders, **{k: str(v) for k, v in data["placeholders"].items()}}
        if "scoring_weights" in data:
            values["scoring_weights"] = {k: float(v) for k, v in data["scoring_weights"].items()}
        values["config_path"] = config_path

    cwd = Path.cwd()
    env_paths = {
        "TRAINER_MODELS_DIR": "models_dir",
        "TRAINER_VOSK_MODEL": "vosk_model",
        "TRAINER_WHISPER_MODEL": "whisper_model",
        "TRAINER_SESSIONS_DIR": "sessions_dir",
        "TRAINER_PHRASEBOOK_OVERLAY_DIR": "phrasebook_overlay_dir",
        "TRAINER_TLS_DIR": "tls_dir",
        "TRAINER_EXAM_KEY_FILE": "exam_key_file",
    }
    for var, key in env_paths.items():
        if env.get(var):
            values[key] = _path(env[var], cwd)
    for var, key in (("TRAINER_PHRASEBOOK_DIRS", "phrasebook_dirs"), ("TRAINER_EXAM_PAPER_DIRS", "exam_paper_dirs")):
        if env.get(var):
            values[key] = tuple(_path(p, cwd) for p in env[var].split(os.pathsep) if p)
    if env.get("TRAINER_ENGINE"):
        values["engine"] = env["TRAINER_ENGINE"]
    for var, key in (("TRAINER_ASR_WORKERS", "asr_workers"), ("TRAINER_ASR_THREADS", "asr_threads")):
        if env.get(var):
            values[key] = _count(env[var], f"环境变量 {var}")
    if env.get("TRAINER_EXAM_KEY"):
        values["exam_key"] = env["TRAINER_EXAM_KEY"]
    if env.get("TRAINER_CUSTOMER_VOICE"):
        values["customer_voice"] = env["TRAINER_CUSTOMER_VOICE"]
    if env.get("TRAINER_BROWSER_VOICE"):
        values["browser_voice"] = env["TRAINER_BROWSER_VOICE"]

    if env.get("TRAINER_STORAGE"):
        values["storage"] = env["TRAINER_STORAGE"]
    if env.get("TRAINER_DATABASE_URL"):
        values["database_url"] = env["TRAINER_DATABASE_URL"]
    if "TRAINER_AUDIO_DIR" in env:  # set but empty: the audio goes into the database
        values["audio_dir"] = _path(env["TRAINER_AUDIO_DIR"], cwd) if env["TRAINER_AUDIO_DIR"].strip() else None
    if values.get("database_url") and "storage" not in values:
        values["storage"] = "postgres"

    settings = dataclasses.replace(settings, **values)
    _check_storage(settings)
    if settings.login_max_failures < 1 or min(settings.login_lockout_minutes, settings.login_idle_minutes, settings.login_session_hours) <= 0:
        raise ConfigError(
            "登录设置不合理：login_max_failures 至少为 1，login_lockout_minutes、login_idle_minutes、login_session_hours 必须大于 0。",
            "bad login settings",
        )
    if settings.engine not in ENGINES:
        raise ConfigError(
            f"未知的识别引擎“{settings.engine}”。可选：{'、'.join(ENGINES)}。",
            f"unknown engine {settings.engine!r}; choose one of {ENGINES}",
        )
    return settings
