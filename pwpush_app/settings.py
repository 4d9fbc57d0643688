"""Every setting of the product, typed and validated, read once from the environment.

Names follow Password Pusher's (``PWP__PW__EXPIRE_AFTER_DAYS_DEFAULT`` ...) where one
exists, so that its admins feel at home; ours start with ``PWPUSH_`` or add minute-level
durations.  ``SETTINGS_TABLE`` is the one list of every variable: the loader reads it and
the README's table is printed from it (``python -m pwpush_app settings-table``).

A bad value stops the start with a message naming the variable.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from pwpush_app.master_key import MasterKeyError, check_key_file_mode, parse_master_key

KINDS = ("text", "file", "url", "qr")
# Password Pusher's prefix for each kind's settings.
KIND_ENV_PREFIX = {"text": "PWP__PW__", "file": "PWP__FILES__", "url": "PWP__URL__", "qr": "PWP__QR__"}

MINUTES_PER_DAY = 24 * 60
ABSOLUTE_MAX_MINUTES = 365 * MINUTES_PER_DAY
ABSOLUTE_MAX_VIEWS = 1000


# The login cookie's base name; Settings.session_cookie gives the name in use.
SESSION_COOKIE = "pwpush_session"


class SettingsError(ValueError):
    """A setting has a value we cannot run with; the message names the variable."""


@dataclass(frozen=True)
class KindPolicy:
    """Defaults and limits for one kind of push."""

    kind: str
    enabled: bool
    minutes_default: int
    minutes_min: int
    minutes_max: int
    views_default: int
    views_min: int
    views_max: int
    retrieval_step_default: bool
    deletable_by_viewer_default: bool
    # URL pushes redirect after the reveal: the viewer never gets a delete button.
    deletable_by_viewer_allowed: bool = True


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    # Keys and URLs that may carry passwords stay out of repr(): settings get logged.
    db_url: str = field(repr=False)
    master_key: str | None = field(repr=False)
    master_key_file: Path | None
    master_key_previous: tuple[str, ...] = field(repr=False)
    redis_url: str | None = field(repr=False)
    sqlite_synchronous: str
    sqlite_busy_timeout_ms: int
    base_url: str
    brand_title: str
    brand_tagline: str
    allow_anonymous: bool
    disable_signups: bool
    signup_email_regexp: str | None
    trusted_proxy_hops: int
    throttle_per_minute: int
    passphrase_max_failures: int
    passphrase_lockout_minutes: int
    passphrase_push_max_failures: int
    passphrase_push_lockout_minutes: int
    ipv6_prefix: int
    argon2_slots: int
    purge_interval_seconds: int
    purge_records_after_days: int
    max_payload_bytes: int
    max_qr_chars: int
    max_files_per_push: int
    max_file_bytes_per_push: int
    files_require_login: bool
    file_grace_minutes: int
    session_idle_minutes: int
    session_remember_days: int
    login_max_failures: int
    login_lockout_minutes: int
    policies: Mapping[str, KindPolicy] = field(default_factory=dict)
    files_storage: str = "local"
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    base_url_configured: bool = False  # PWP__OVERRIDE_BASE_URL set: links always use it (core/links.py).
    allowed_hosts: tuple[str, ...] = ()  # Hosts links may name (PWP__ALLOWED_HOSTS); empty: any (core/links.py).

    def policy(self, kind: str) -> KindPolicy:
        return self.policies[kind]

    @property
    def https_site(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def session_cookie(self) -> str:
        """The name of the login cookie: the one rule for whoever sets or reads it.

        On an https site it carries the `__Host-` prefix: browsers then keep it only if it
        was set with Secure, Path=/ and no Domain, so a sibling subdomain (or a plain-http
        page) cannot plant a session of its choosing under that name; a cookie under the
        plain name is never read there.  Over plain http (localhost development) browsers
        refuse `__Host-` cookies, so the plain name is used."""
        return f"__Host-{SESSION_COOKIE}" if self.https_site else SESSION_COOKIE

    @property
    def site_origins(self) -> list[str]:
        """Origins of this site (for CORS and the CSRF check): the base URL, and for a
        loopback base URL both spellings of the loopback host."""
        origins = [self.base_url]
        for a, b in (("//localhost", "//127.0.0.1"), ("//127.0.0.1", "//localhost")):
            if a in self.base_url:
                origins.append(self.base_url.replace(a, b))
        return origins


# --- parsing -----------------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean: use true or false")


def _parse_int(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None


def _parse_str(name: str, raw: str) -> str:
    return raw


@dataclass(frozen=True)
class SettingDoc:
    name: str
    default: str
    description: str


SETTINGS_TABLE: list[SettingDoc] = []


def _doc(name: str, default: object, description: str) -> str:
    SETTINGS_TABLE.append(SettingDoc(name, str(default), description))
    return name


class _Reader:
    """Reads variables from one environment mapping; collects every error at once."""

    def __init__(self, environ: Mapping[str, str]):
        self.environ = environ
        self.errors: list[str] = []

    def get(self, name: str, default, parse: Callable[[str, str], object]):
        raw = self.environ.get(name)
        if raw is None or raw == "":
            return default
        try:
            return parse(name, raw)
        except SettingsError as error:
            self.errors.append(str(error))
            return default

    def bool(self, name: str, default: bool) -> bool:
        return self.get(name, default, _parse_bool)

    def int(self, name: str, default: int, low: int | None = None, high: int | None = None) -> int:
        value = self.get(name, default, _parse_int)
        if low is not None and value < low or high is not None and value > high:
            self.errors.append(f"{name}={value} is out of range: it must be between {low} and {high}")
            return default
        return value

    def str(self, name: str, default: str | None) -> str | None:
        return self.get(name, default, _parse_str)

    def is_set(self, name: str) -> bool:
        return bool(self.environ.get(name))


# Registered once, at import, in the order the README lists them.
_doc("PWPUSH_DATA_DIR", "./data", "Folder for the SQLite database, the generated key file and encrypted files.")
_doc("REFLEX_DB_URL", "sqlite:///<data dir>/pwpush.db", "Database URL; `postgresql+psycopg://user:pw@host/db` for PostgreSQL.")
_doc("PWPUSH_SQLITE_SYNCHRONOUS", "FULL", "SQLite durability: FULL (every commit on disk before answering, survives power loss) or NORMAL (survives crashes of the app, not of the machine; several times faster on slow disks).")
_doc("REFLEX_REDIS_URL", "(none)", "Redis URL: Reflex's state manager for several workers, and shared rate limits.")
_doc("PWPUSH_SQLITE_BUSY_TIMEOUT_MS", "15000", "How long a request waits for SQLite's write lock (held by another process) before answering 503 with Retry-After.")
_doc("GRANIAN_WORKERS", "1; with Redis 2 × cores + 1", "Worker processes (read by Reflex's server). More than 1 needs REFLEX_REDIS_URL.")
_doc("PWPUSH_MASTER_KEY", "(none)", "Master key: 32 random bytes, base64url or hex. Without it, a key file is generated in the data folder on first start.")
_doc("PWPUSH_MASTER_KEY_FILE", "(none)", "File holding the master key (instead of PWPUSH_MASTER_KEY).")
_doc("PWPUSH_MASTER_KEY_PREVIOUS", "(none)", "Comma-separated earlier master keys, still accepted for reading after a rotation.")
_doc("PWP__OVERRIDE_BASE_URL", "http://localhost:3000", "Public base URL used in secret links and for CORS. Unset, links use the address the sender opened the site at.")
_doc("PWP__BRAND__TITLE", "Password Pusher", "Site title.")
_doc("PWP__BRAND__TAGLINE", "Go ahead and email another password", "Tagline under the title.")
_doc("PWP__ALLOW_ANONYMOUS", "true", "Allow pushes without an account.")
_doc("PWP__DISABLE_SIGNUPS", "false", "Refuse new accounts.")
_doc("PWP__SIGNUP_EMAIL_REGEXP", "(any)", "Only emails matching this regular expression may sign up.")
_doc("PWPUSH_SESSION_IDLE_MINUTES", "120", "A login without \"remember me\" ends after this many minutes without activity.")
_doc("PWPUSH_SESSION_REMEMBER_DAYS", "7", "Every login ends after this many days; with \"remember me\" only then.")
_doc("PWPUSH_LOGIN_MAX_FAILURES", "10", "Wrong passwords in a row before an account is locked.")
_doc("PWPUSH_LOGIN_LOCKOUT_MINUTES", "60", "How long a locked account refuses every login.")
_doc("PWP__TRUSTED_PROXIES", "0", "Number of reverse-proxy hops in front of the app whose X-Forwarded-For is trusted.")
_doc("PWP__THROTTLING__MINUTE", "120", "Requests per minute per client on create, reveal and login (a client: an IPv4 address, or an IPv6 network, see PWPUSH_IPV6_PREFIX).")
_doc("PWPUSH_IPV6_PREFIX", "64", "IPv6 clients are counted per network of this many leading bits by every per-client limit (rate limits, passphrase lock-out): one customer usually holds a whole /64.")
_doc("PWPUSH_PASSPHRASE_MAX_FAILURES", "5", "Wrong passphrases per push per client before further attempts from that client are refused.")
_doc("PWPUSH_PASSPHRASE_LOCKOUT_MINUTES", "10", "Window (and lock-out) for wrong passphrases per client, in minutes.")
_doc("PWPUSH_PASSPHRASE_PUSH_MAX_FAILURES", "20", "Wrong passphrases for one push from all clients together before the push refuses every attempt (the owner sees it in the audit trail).")
_doc("PWPUSH_PASSPHRASE_PUSH_LOCKOUT_MINUTES", "60", "Window (and lock-out) for the wrong passphrases of one push from all clients, in minutes.")
_doc("PWPUSH_ARGON2_SLOTS", "(number of cores)", "Password and passphrase checks (Argon2id, ~30 ms and 19 MiB each) that run at once; 8 more per slot may wait, beyond that the answer is 503 with Retry-After.")
_doc("PWPUSH_PURGE_INTERVAL_SECONDS", "60", "How often the background job expires overdue pushes.")
_doc("PWP__PURGE_AFTER_DAYS", "0", "Delete expired push records and their audit logs after N days (0 keeps them).")
_doc("PWPUSH_MAX_PAYLOAD_BYTES", "1048576", "Largest text payload, in bytes of UTF-8.")
_doc("PWPUSH_MAX_QR_CHARS", "1024", "Longest QR code content, in characters.")
_doc("PWP__FILES__MAX_FILE_UPLOADS", "10", "Most files in one push.")
_doc("PWPUSH_FILES_MAX_BYTES", "104857600", "Largest total size of the files of one push, in bytes.")
_doc("PWP__FILES__REQUIRE_LOGIN", "true", "File pushes need an account, as in Password Pusher.")
_doc("PWPUSH_FILES_GRACE_MINUTES", "10", "After the last view, how long its viewer may still download each file once.")
_doc("PWPUSH_FILES_STORAGE", "local", "Where encrypted file contents live: `local` (the data folder) or `s3` (an S3-compatible bucket).")
_doc("PWPUSH_S3_BUCKET", "(none)", "Bucket for `PWPUSH_FILES_STORAGE=s3` (required then). Credentials: boto3's usual `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE` or an instance role.")
_doc("PWPUSH_S3_PREFIX", "(none)", "Key prefix inside the bucket, e.g. `pwpush/`, to share a bucket.")
_doc("PWPUSH_S3_ENDPOINT_URL", "(AWS)", "Endpoint of an S3-compatible server (MinIO, Ceph, R2 ...); path-style addressing is used with it.")
_doc("PWPUSH_S3_REGION", "(boto3's default)", "Region of the bucket (or `AWS_DEFAULT_REGION`).")
_doc("PWP__ENABLE_FILE_PUSHES", "true", "Offer file pushes.")
_doc("PWP__ENABLE_URL_PUSHES", "true", "Offer URL pushes.")
_doc("PWP__ENABLE_QR_PUSHES", "true", "Offer QR code pushes.")
for _prefix in ("PWP__PW__", "PWP__FILES__", "PWP__URL__", "PWP__QR__"):
    _doc(f"{_prefix}EXPIRE_AFTER_DAYS_DEFAULT / _MIN / _MAX", "7 / 1 / 90", "Lifetime in whole days (Password Pusher's names).")
    _doc(f"{_prefix}EXPIRE_AFTER_MINUTES_DEFAULT / _MIN / _MAX", "10080 / 5 / 129600", "Lifetime in minutes; wins over the day settings.")
    _doc(f"{_prefix}EXPIRE_AFTER_VIEWS_DEFAULT / _MIN / _MAX", "5 / 1 / 100", "Views before the push expires.")
    _doc(f"{_prefix}RETRIEVAL_STEP_DEFAULT", "true", "Recipients click to reveal (protects against link-preview bots).")
    if _prefix != "PWP__URL__":
        _doc(f"{_prefix}DELETABLE_PUSHES_DEFAULT", "true", "Recipients may delete the push after viewing.")


def _read_policy(r: _Reader, kind: str, enabled: bool) -> KindPolicy:
    p = KIND_ENV_PREFIX[kind]

    def minutes(which: str, default_minutes: int) -> tuple[int, str]:
        """The value in minutes, and how to name it in a message (the variable that set it)."""
        name = f"{p}EXPIRE_AFTER_MINUTES_{which}"
        if r.is_set(name):
            return r.int(name, default_minutes, 1, ABSOLUTE_MAX_MINUTES), name
        days_name = f"{p}EXPIRE_AFTER_DAYS_{which}"
        if r.is_set(days_name):
            days = r.int(days_name, 1, 1, ABSOLUTE_MAX_MINUTES // MINUTES_PER_DAY)
            return days * MINUTES_PER_DAY, f"{days_name} ({days} days)"
        return default_minutes, f"{name} (not set)"

    def views(which: str, default_views: int) -> tuple[int, str]:
        name = f"{p}EXPIRE_AFTER_VIEWS_{which}"
        value = r.int(name, default_views, 1, ABSOLUTE_MAX_VIEWS)
        return value, name if r.is_set(name) else f"{name} (not set)"

    m_min = minutes("MIN", 5)
    m_default = minutes("DEFAULT", 7 * MINUTES_PER_DAY)
    m_max = minutes("MAX", 90 * MINUTES_PER_DAY)
    if not m_min[0] <= m_default[0] <= m_max[0]:
        r.errors.append(
            "lifetimes must satisfy min <= default <= max; got "
            + ", ".join(f"{name} = {value} minutes" for value, name in (m_min, m_default, m_max))
        )
    v_min, v_default, v_max = views("MIN", 1), views("DEFAULT", 5), views("MAX", 100)
    if not v_min[0] <= v_default[0] <= v_max[0]:
        r.errors.append(
            "views must satisfy min <= default <= max; got "
            + ", ".join(f"{name} = {value}" for value, name in (v_min, v_default, v_max))
        )
    deletable_allowed = kind != "url"
    return KindPolicy(
        kind=kind,
        enabled=enabled,
        minutes_default=m_default[0],
        minutes_min=m_min[0],
        minutes_max=m_max[0],
        views_default=v_default[0],
        views_min=v_min[0],
        views_max=v_max[0],
        retrieval_step_default=r.bool(f"{p}RETRIEVAL_STEP_DEFAULT", True),
        deletable_by_viewer_default=deletable_allowed and r.bool(f"{p}DELETABLE_PUSHES_DEFAULT", True),
        deletable_by_viewer_allowed=deletable_allowed,
    )


def _check_key_text(r: _Reader, name: str, value: str | None) -> None:

    if value:
        try:
            parse_master_key(value)
        except MasterKeyError as error:
            r.errors.append(f"{name}: {error}")


def _read_synchronous(r: _Reader) -> str:
    value = (r.str("PWPUSH_SQLITE_SYNCHRONOUS", "FULL") or "FULL").upper()
    if value not in ("FULL", "NORMAL"):
        r.errors.append(f"PWPUSH_SQLITE_SYNCHRONOUS={value!r} must be FULL or NORMAL")
        return "FULL"
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise SettingsError naming each bad variable."""
    environ = os.environ if environ is None else environ
    r = _Reader(environ)
    data_dir = Path(r.str("PWPUSH_DATA_DIR", "data")).expanduser().absolute()
    db_url = r.str("REFLEX_DB_URL", None) or f"sqlite:///{data_dir / 'pwpush.db'}"
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", db_url):
        r.errors.append("REFLEX_DB_URL must start with sqlite:/// or postgresql+psycopg://")

    master_key = r.str("PWPUSH_MASTER_KEY", None)
    _check_key_text(r, "PWPUSH_MASTER_KEY", master_key)
    key_file = r.str("PWPUSH_MASTER_KEY_FILE", None)
    if master_key and key_file:
        r.errors.append("PWPUSH_MASTER_KEY and PWPUSH_MASTER_KEY_FILE are both set: keep one")
    if key_file and not Path(key_file).is_file():
        r.errors.append(f"PWPUSH_MASTER_KEY_FILE={key_file!r} does not exist or is not a file")
    elif key_file:

        try:
            check_key_file_mode(Path(key_file))
            key_text = Path(key_file).read_text()
        except MasterKeyError as error:
            r.errors.append(f"PWPUSH_MASTER_KEY_FILE: {error}")
        except (OSError, UnicodeDecodeError) as error:
            r.errors.append(f"PWPUSH_MASTER_KEY_FILE={key_file!r} cannot be read: {error}")
        else:
            _check_key_text(r, f"PWPUSH_MASTER_KEY_FILE={key_file!r}", key_text.strip() or "(empty)")
    previous_raw = r.str("PWPUSH_MASTER_KEY_PREVIOUS", "") or ""
    previous = tuple(k.strip() for k in previous_raw.split(",") if k.strip())
    for key in previous:
        _check_key_text(r, "PWPUSH_MASTER_KEY_PREVIOUS", key)

    base_url = (r.str("PWP__OVERRIDE_BASE_URL", "http://localhost:3000") or "").rstrip("/")
    if not re.match(r"^https?://[^/\s]+$", base_url):
        r.errors.append(f"PWP__OVERRIDE_BASE_URL={base_url!r} must be like https://secrets.example.com (no path)")

    signup_re = r.str("PWP__SIGNUP_EMAIL_REGEXP", None)
    if signup_re:
        try:
            re.compile(signup_re)
        except re.error as error:
            r.errors.append(f"PWP__SIGNUP_EMAIL_REGEXP is not a valid regular expression: {error}")

    flags = {
        "file": r.bool("PWP__ENABLE_FILE_PUSHES", True),
        "url": r.bool("PWP__ENABLE_URL_PUSHES", True),
        "qr": r.bool("PWP__ENABLE_QR_PUSHES", True),
        "text": True,
    }
    policies = {kind: _read_policy(r, kind, flags[kind]) for kind in KINDS}

    workers = r.int("GRANIAN_WORKERS", 1, 1, 256)
    if workers > 1 and not r.is_set("REFLEX_REDIS_URL"):
        # Memory state lives in one process: a page's events would reach workers that
        # never saw it.
        r.errors.append(f"GRANIAN_WORKERS={workers} needs REFLEX_REDIS_URL (Redis keeps the pages' state for all workers)")

    files_storage = (r.str("PWPUSH_FILES_STORAGE", "local") or "local").strip().lower()
    if files_storage not in ("local", "s3"):
        r.errors.append(f"PWPUSH_FILES_STORAGE={files_storage!r} must be local or s3")
    s3_bucket = r.str("PWPUSH_S3_BUCKET", None)
    if files_storage == "s3" and not s3_bucket:
        r.errors.append("PWPUSH_FILES_STORAGE=s3 needs PWPUSH_S3_BUCKET")
    s3_endpoint = r.str("PWPUSH_S3_ENDPOINT_URL", None)
    if s3_endpoint and not re.match(r"^https?://[^/\s]+/?$", s3_endpoint):
        r.errors.append(f"PWPUSH_S3_ENDPOINT_URL={s3_endpoint!r} must be like https://s3.example.com (no path)")

    settings = Settings(
        data_dir=data_dir,
        db_url=db_url,
        master_key=master_key,
        master_key_file=Path(key_file) if key_file else None,
        master_key_previous=previous,
        redis_url=r.str("REFLEX_REDIS_URL", None),
        sqlite_synchronous=_read_synchronous(r),
        sqlite_busy_timeout_ms=r.int("PWPUSH_SQLITE_BUSY_TIMEOUT_MS", 15_000, 100, 600_000),
        base_url=base_url,
        base_url_configured=r.is_set("PWP__OVERRIDE_BASE_URL"),
        brand_title=r.str("PWP__BRAND__TITLE", "Password Pusher") or "Password Pusher",
        brand_tagline=r.str("PWP__BRAND__TAGLINE", "Go ahead and email another password") or "",
        allow_anonymous=r.bool("PWP__ALLOW_ANONYMOUS", True),
        disable_signups=r.bool("PWP__DISABLE_SIGNUPS", False),
        signup_email_regexp=signup_re,
        trusted_proxy_hops=r.int("PWP__TRUSTED_PROXIES", 0, 0, 10),
        throttle_per_minute=r.int("PWP__THROTTLING__MINUTE", 120, 1, 1_000_000),
        passphrase_max_failures=r.int("PWPUSH_PASSPHRASE_MAX_FAILURES", 5, 1, 1000),
        passphrase_lockout_minutes=r.int("PWPUSH_PASSPHRASE_LOCKOUT_MINUTES", 10, 1, 24 * 60),
        passphrase_push_max_failures=r.int("PWPUSH_PASSPHRASE_PUSH_MAX_FAILURES", 20, 1, 100_000),
        passphrase_push_lockout_minutes=r.int("PWPUSH_PASSPHRASE_PUSH_LOCKOUT_MINUTES", 60, 1, 7 * MINUTES_PER_DAY),
        ipv6_prefix=r.int("PWPUSH_IPV6_PREFIX", 64, 32, 128),
        argon2_slots=r.int("PWPUSH_ARGON2_SLOTS", max(2, os.cpu_count() or 2), 1, 256),
        purge_interval_seconds=r.int("PWPUSH_PURGE_INTERVAL_SECONDS", 60, 1, 24 * 3600),
        purge_records_after_days=r.int("PWP__PURGE_AFTER_DAYS", 0, 0, 3650),
        max_payload_bytes=r.int("PWPUSH_MAX_PAYLOAD_BYTES", 1024 * 1024, 1, 16 * 1024 * 1024),
        max_qr_chars=r.int("PWPUSH_MAX_QR_CHARS", 1024, 1, 4096),
        max_files_per_push=r.int("PWP__FILES__MAX_FILE_UPLOADS", 10, 1, 100),
        max_file_bytes_per_push=r.int("PWPUSH_FILES_MAX_BYTES", 100 * 1024 * 1024, 1, 100 * 1024**3),
        files_require_login=r.bool("PWP__FILES__REQUIRE_LOGIN", True),
        file_grace_minutes=r.int("PWPUSH_FILES_GRACE_MINUTES", 10, 1, 24 * 60),
        session_idle_minutes=r.int("PWPUSH_SESSION_IDLE_MINUTES", 120, 1, 365 * MINUTES_PER_DAY),
        session_remember_days=r.int("PWPUSH_SESSION_REMEMBER_DAYS", 7, 1, 365),
        login_max_failures=r.int("PWPUSH_LOGIN_MAX_FAILURES", 10, 1, 1000),
        login_lockout_minutes=r.int("PWPUSH_LOGIN_LOCKOUT_MINUTES", 60, 1, 7 * MINUTES_PER_DAY),
        policies=policies,
        files_storage=files_storage,
        s3_bucket=s3_bucket,
        s3_prefix=r.str("PWPUSH_S3_PREFIX", "") or "",
        s3_endpoint_url=s3_endpoint,
        s3_region=r.str("PWPUSH_S3_REGION", None),
    )
    if r.errors:
        raise SettingsError("Invalid settings:\n  - " + "\n  - ".join(r.errors))
    return settings


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()


def settings_table_markdown() -> str:
    lines = ["| variable | default | what it does |", "|---|---|---|"]
    lines += [f"| `{d.name}` | `{d.default}` | {d.description} |" for d in SETTINGS_TABLE]
    return "\n".join(lines)
