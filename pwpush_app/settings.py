"""Every setting of the product, typed and validated, read once from the environment.

Names follow Password Pusher's (``PWP__PW__EXPIRE_AFTER_DAYS_DEFAULT`` ...) where one
exists, so that its admins feel at home; ours start with ``PWPUSH_`` or add minute-level
durations.  ``SETTINGS_TABLE`` is the one list of every variable: the loader reads it and
the README's table is printed from it (``python -m pwpush_app settings-table``).

A bad value stops the start with a message naming the variable.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from pwpush_app.master_key import MasterKeyError, check_key_file_mode, parse_master_key
from pwpush_app.settings_kinds import (  # noqa: F401  (the names other modules import from here)
    ABSOLUTE_MAX_MINUTES,
    ABSOLUTE_MAX_VIEWS,
    KIND_ENV_PREFIX,
    KINDS,
    KindPolicy,
    document_kind_settings,
    read_policy,
)
from pwpush_app.settings_languages import N_
from pwpush_app.settings_mail import MailSettings, document_mail_settings, read_admin_emails, read_mail_settings
from pwpush_app.settings_pages import PageSettings, document_page_settings, read_page_settings
from pwpush_app.settings_storage import read_file_storage
from pwpush_app.settings_values import (  # noqa: F401
    MINUTES_PER_DAY,
    SECRET,
    SETTINGS_TABLE,
    URL_PASSWORD,
    Reader,
    SettingDoc,
    SettingsError,
    document,
    parse_duration_minutes,
    parse_hosts,
    parse_networks,
    parse_words,
    settings_table_markdown,
)

# The login cookie's base name; Settings.session_cookie gives the name in use.
SESSION_COOKIE = "pwpush_session"


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
    busy_timeout_ms: int
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
    # Static credentials (PWP__FILES__S3__ACCESS_KEY_ID ...); None: boto3's usual chain.
    s3_access_key_id: str | None = field(default=None, repr=False)
    s3_secret_access_key: str | None = field(default=None, repr=False)
    # PWP__TRUSTED_PROXIES as addresses/networks: X-Forwarded-For is read through these only.
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # SMTP, account emails, notifications, webhooks (settings_mail.py).
    mail: MailSettings = field(default_factory=MailSettings)
    # PWP__OVERRIDE_BASE_URL or PWP__HOST_DOMAIN set: links always use base_url (core/links.py).
    base_url_configured: bool = False
    # PWP__ALLOWED_HOSTS: the Host names requests may carry (empty: any); see host_check.py.
    # Without a configured base URL, links name only these hosts too (core/links.py).
    allowed_hosts: tuple[str, ...] = ()
    # PWP__DISABLE_LOGINS: nobody logs in or signs up; pages offer neither.
    disable_logins: bool = False
    # PWP__REQUIRE_MFA: every login needs two-factor; who has none enrols at the next login.
    require_mfa: bool = False
    # PWP__ADMIN_EMAILS: accounts made administrators when they log in (core/admin.py).
    admin_emails: tuple[str, ...] = ()
    # Instance policies (issue 21): every new push needs a passphrase; links are mailed (and
    # recipients named by email) only in these domains (empty: any), core/link_mail.py.
    require_passphrase: bool = False
    end_to_end: bool = True  # PWPUSH_END_TO_END: end-to-end pushes offered (core/e2e.py)
    allowed_recipient_domains: tuple[str, ...] = ()
    # The brand, light/dark, version, indexing and the generator's defaults (settings_pages.py).
    pages: PageSettings = field(default_factory=PageSettings)
    # The variables read that the environment set, as set (secrets too: never logged or shown).
    environment: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

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


# Registered once, at import, in the order the README lists them.
document("PWPUSH_DATA_DIR", "./data", N_("Folder for the SQLite database, the generated key file and encrypted files."))
document("REFLEX_DB_URL", "sqlite:///<data dir>/pwpush.db", N_("Database URL; `postgresql+psycopg://user:pw@host/db` for PostgreSQL."), URL_PASSWORD)
document("PWPUSH_SQLITE_SYNCHRONOUS", "FULL", N_("SQLite durability: FULL (every commit on disk before answering, survives power loss) or NORMAL (survives crashes of the app, not of the machine; several times faster on slow disks)."))
document("REFLEX_REDIS_URL", "(none)", N_("Redis URL: Reflex's state manager for several workers, and shared rate limits."), URL_PASSWORD)
document("PWPUSH_BUSY_TIMEOUT_MS", "15000", N_("How long a request waits for the database (a lock held elsewhere) or for a free thread before answering 503 with Retry-After."))
document("GRANIAN_WORKERS", "1; with Redis 2 × cores + 1", N_("Worker processes (read by Reflex's server). More than 1 needs REFLEX_REDIS_URL."))
document("PWPUSH_MASTER_KEY", "(none)", N_("Master key: 32 random bytes, base64url or hex. Without it, a key file is generated in the data folder on first start."), SECRET)
document("PWPUSH_MASTER_KEY_FILE", "(none)", N_("File holding the master key (instead of PWPUSH_MASTER_KEY)."))
document("PWPUSH_MASTER_KEY_PREVIOUS", "(none)", N_("Comma-separated earlier master keys, still accepted for reading after a rotation."), SECRET)
document("PWP__OVERRIDE_BASE_URL", "http://localhost:3000", N_("Public base URL used in secret links and for CORS. Unset (and no PWP__HOST_DOMAIN), links use the address the sender opened the site at."))
document("PWP__HOST_DOMAIN", "(none)", N_("The site's domain (e.g. `secrets.example.com`): without PWP__OVERRIDE_BASE_URL, the base URL is PWP__HOST_PROTOCOL://PWP__HOST_DOMAIN."))
document("PWP__HOST_PROTOCOL", "https", N_("The protocol for PWP__HOST_DOMAIN: https or http."))
document("PWP__BRAND__TITLE", "Password Pusher", N_("Site title."))
document("PWP__BRAND__TAGLINE", "Go ahead and email another password", N_("Tagline under the title."))
document_page_settings()
document("PWP__ALLOWED_HOSTS", "(any)", N_("Host names the site answers to, separated by spaces (`secrets.example.com .example.org`: a leading dot takes every subdomain). Any other Host header gets 400. The base URL's host and loopback (localhost, 127.0.0.1, ::1) always pass, and so does the health check `/up`. Without a configured base URL, links follow the address the sender used only where its host is allowed here."))
document("PWP__ALLOW_ANONYMOUS", "true", N_("Allow pushes without an account. `false` is the \"require login to create\" policy: the create page refuses anonymous senders (log in or sign up first) and the API answers 401 (its retrieve and preview want a token too); the reveal page needs no account."))
document("PWPUSH_REQUIRE_PASSPHRASE", "false", N_("Every new push needs a passphrase (the create page and the API refuse one without, 422), and an edit may not remove it."))
document("PWPUSH_END_TO_END", "true", N_("Offer end-to-end pushes: the create page's \"Encrypt in my browser\" switch and the API's `end_to_end` field (text and file pushes). The browser or client encrypts the secret under a key that stays in the link's fragment, so this server stores and serves only ciphertext (docs/security.md). `false`: the switch is not offered and the API refuses `end_to_end` (422); existing end-to-end pushes still open."))
document("PWPUSH_ALLOWED_RECIPIENT_DOMAINS", "(any)", N_("Email domains (comma or space separated, e.g. `example.com example.org`; a domain also takes its subdomains) that links may be mailed to, and that recipients named by email must be in."))
document("PWP__DISABLE_SIGNUPS", "false", N_("Refuse new accounts."))
document("PWP__DISABLE_LOGINS", "false", N_("No logins and no sign-ups: the pages offer neither (`/login` and `/signup` answer 404), for anonymous-only sites. Sessions already open keep working until they log out; API tokens keep working."))
document("PWP__REQUIRE_MFA", "false", N_("Every login needs two-factor sign-in (a code from an authenticator app, or a passkey): an account with neither is sent to set up the code at its next login and can do nothing else until then. A passkey alone signs in (it verifies its user: two factors). API tokens are unaffected."))
document("PWP__ADMIN_EMAILS", "(none)", N_("Email addresses (comma or space separated) whose accounts become administrators when they log in (`/admin`). `python -m pwpush_app make-admin EMAIL` does it at once. It needs PWP__ENABLE_USER_ACCOUNT_EMAILS: a listed address counts once its owner has confirmed it by mail."))
document("PWP__SIGNUP_EMAIL_REGEXP", "(any)", N_("Only emails matching this regular expression may sign up."))
document("PWPUSH_SESSION_IDLE_MINUTES", "120", N_("A login without \"remember me\" ends after this many minutes without activity."))
document("PWP__LOGIN_SESSION_TIMEOUT", "2 hours", N_("The same in Password Pusher's words (`15 minutes`, `6 hours`, `1 day`); set one of the two."))
document("PWPUSH_SESSION_REMEMBER_DAYS", "7", N_("Every login ends after this many days; with \"remember me\" only then."))
document("PWPUSH_LOGIN_MAX_FAILURES", "10", N_("Wrong passwords in a row before an account is locked."))
document("PWPUSH_LOGIN_LOCKOUT_MINUTES", "60", N_("How long a locked account refuses every login."))
document("PWP__TRUSTED_PROXIES", "0", N_("Reverse proxies in front of the app whose X-Forwarded-For is trusted: a number of hops (`1`), or Password Pusher's list of their addresses or networks (`10.0.0.5, 192.168.0.0/16`), read from the right through those only."))
document("PWP__THROTTLING__MINUTE", "120", N_("Requests per minute per client on create, reveal and login (a client: an IPv4 address, or an IPv6 network, see PWPUSH_IPV6_PREFIX)."))
document("PWPUSH_IPV6_PREFIX", "64", N_("IPv6 clients are counted per network of this many leading bits by every per-client limit (rate limits, passphrase lock-out): one customer usually holds a whole /64."))
document("PWPUSH_PASSPHRASE_MAX_FAILURES", "5", N_("Wrong passphrases per push per client before further attempts from that client are refused."))
document("PWPUSH_PASSPHRASE_LOCKOUT_MINUTES", "10", N_("Window (and lock-out) for wrong passphrases per client, in minutes."))
document("PWPUSH_PASSPHRASE_PUSH_MAX_FAILURES", "20", N_("Wrong passphrases for one push from all clients together before the push refuses every attempt (the owner sees it in the audit trail)."))
document("PWPUSH_PASSPHRASE_PUSH_LOCKOUT_MINUTES", "60", N_("Window (and lock-out) for the wrong passphrases of one push from all clients, in minutes."))
document("PWPUSH_ARGON2_SLOTS", "(number of cores)", N_("Password and passphrase checks (Argon2id, ~30 ms and 19 MiB each) that run at once; 8 more per slot may wait, beyond that the answer is 503 with Retry-After."))
document("PWPUSH_PURGE_INTERVAL_SECONDS", "60", N_("How often the background job expires overdue pushes."))
document("PWP__PURGE_AFTER_DAYS", "0", N_("Delete expired push records and their audit logs after N days (0 keeps them)."))
document("PWP__PURGE_AFTER", "disabled", N_("The same in Password Pusher's words: `disabled`, `3 months` (90 days), `1 year` ...; set one of the two."))
document("PWPUSH_MAX_PAYLOAD_BYTES", "1048576", N_("Largest text payload, in bytes of UTF-8."))
document("PWPUSH_MAX_QR_CHARS", "1024", N_("Longest QR code content, in characters."))
document("PWP__FILES__MAX_FILE_UPLOADS", "10", N_("Most files in one push."))
document("PWPUSH_FILES_MAX_BYTES", "104857600", N_("Largest total size of the files of one push, in bytes."))
document("PWP__FILES__REQUIRE_LOGIN", "true", N_("File pushes need an account, as in Password Pusher."))
document("PWPUSH_FILES_GRACE_MINUTES", "10", N_("After the last view, how long its viewer may still download each file once."))
document("PWPUSH_FILES_STORAGE", "local", N_("Where encrypted file contents live: `local` (the data folder) or `s3` (an S3-compatible bucket)."))
document("PWP__FILES__STORAGE", "local", N_("Password Pusher's name for it: `local`, or `amazon` / `minio` (both S3). With it, PWP__FILES__S3__BUCKET, __ENDPOINT, __REGION, __ACCESS_KEY_ID and __SECRET_ACCESS_KEY stand for the PWPUSH_S3_* settings."))
document("PWPUSH_S3_BUCKET", "(none)", N_("Bucket for `PWPUSH_FILES_STORAGE=s3` (required then). Credentials: boto3's usual `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE` or an instance role."))
document("PWPUSH_S3_PREFIX", "(none)", N_("Key prefix inside the bucket, e.g. `pwpush/`, to share a bucket."))
document("PWPUSH_S3_ENDPOINT_URL", "(AWS)", N_("Endpoint of an S3-compatible server (MinIO, Ceph, R2 ...); path-style addressing is used with it."))
document("PWPUSH_S3_REGION", "(boto3's default)", N_("Region of the bucket (or `AWS_DEFAULT_REGION`)."))
document("PWP__FILES__S3__ACCESS_KEY_ID", "(none)", N_("Static S3 credentials (with the next); unset, boto3's usual chain."), SECRET)
document("PWP__FILES__S3__SECRET_ACCESS_KEY", "(none)", N_("The secret of PWP__FILES__S3__ACCESS_KEY_ID."), SECRET)
document("PWP__ENABLE_FILE_PUSHES", "true", N_("Offer file pushes."))
document("PWP__ENABLE_URL_PUSHES", "true", N_("Offer URL pushes."))
document("PWP__ENABLE_QR_PUSHES", "true", N_("Offer QR code pushes."))
document_kind_settings()
document_mail_settings()


def _check_key_text(r: Reader, name: str, value: str | None) -> None:
    if value:
        try:
            parse_master_key(value)
        except MasterKeyError as error:
            r.errors.append(f"{name}: {error}")


def _read_synchronous(r: Reader) -> str:
    value = (r.str("PWPUSH_SQLITE_SYNCHRONOUS", "FULL") or "FULL").upper()
    if value not in ("FULL", "NORMAL"):
        r.errors.append(f"PWPUSH_SQLITE_SYNCHRONOUS={value!r} must be FULL or NORMAL")
        return "FULL"
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise SettingsError naming each bad variable."""
    environ = os.environ if environ is None else environ
    r = Reader(environ)
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

    host_domain = r.str("PWP__HOST_DOMAIN", None)
    host_protocol = (r.str("PWP__HOST_PROTOCOL", "https") or "https").strip().lower()
    if host_protocol not in ("http", "https"):
        r.errors.append(f"PWP__HOST_PROTOCOL={host_protocol!r} must be https or http")
    default_base = f"{host_protocol}://{host_domain.strip()}" if host_domain else "http://localhost:3000"
    base_url = (r.str("PWP__OVERRIDE_BASE_URL", default_base) or "").rstrip("/")
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
    policies = {kind: read_policy(r, kind, flags[kind]) for kind in KINDS}

    workers = r.int("GRANIAN_WORKERS", 1, 1, 256)
    if workers > 1 and not r.is_set("REFLEX_REDIS_URL"):
        # Memory state lives in one process: a page's events would reach workers that
        # never saw it.
        r.errors.append(f"GRANIAN_WORKERS={workers} needs REFLEX_REDIS_URL (Redis keeps the pages' state for all workers)")

    files_storage, s3 = read_file_storage(r)
    s3_bucket = s3["bucket"]
    s3_endpoint = s3["endpoint"]
    if s3_endpoint and not re.match(r"^https?://[^/\s]+/?$", s3_endpoint):
        r.errors.append(f"PWPUSH_S3_ENDPOINT_URL={s3_endpoint!r} must be like https://s3.example.com (no path)")

    proxies = _read_trusted_proxies(r)
    brand_title = r.str("PWP__BRAND__TITLE", "Password Pusher") or "Password Pusher"
    mail = read_mail_settings(r, base_url, brand_title)
    brand_tagline = r.str("PWP__BRAND__TAGLINE", "Go ahead and email another password") or ""
    settings = Settings(
        data_dir=data_dir,
        db_url=db_url,
        master_key=master_key,
        master_key_file=Path(key_file) if key_file else None,
        master_key_previous=previous,
        redis_url=r.str("REFLEX_REDIS_URL", None),
        sqlite_synchronous=_read_synchronous(r),
        busy_timeout_ms=r.int("PWPUSH_BUSY_TIMEOUT_MS", r.int("PWPUSH_SQLITE_BUSY_TIMEOUT_MS", 15_000, 100, 600_000), 100, 600_000),
        base_url=base_url,
        base_url_configured=r.is_set("PWP__OVERRIDE_BASE_URL") or bool(host_domain),
        brand_title=brand_title,
        brand_tagline=brand_tagline,
        pages=read_page_settings(r, brand_title, brand_tagline),
        allowed_hosts=r.get("PWP__ALLOWED_HOSTS", (), parse_hosts),
        disable_logins=r.bool("PWP__DISABLE_LOGINS", False),
        require_mfa=r.bool("PWP__REQUIRE_MFA", False),
        admin_emails=read_admin_emails(r, mail),
        allow_anonymous=r.bool("PWP__ALLOW_ANONYMOUS", True),
        require_passphrase=r.bool("PWPUSH_REQUIRE_PASSPHRASE", False), end_to_end=r.bool("PWPUSH_END_TO_END", True),
        allowed_recipient_domains=tuple(d.lower().lstrip(".").lstrip("@") for d in r.get("PWPUSH_ALLOWED_RECIPIENT_DOMAINS", (), parse_words)),
        disable_signups=r.bool("PWP__DISABLE_SIGNUPS", False),
        signup_email_regexp=signup_re,
        trusted_proxy_hops=proxies[0],
        trusted_proxies=proxies[1],
        throttle_per_minute=r.int("PWP__THROTTLING__MINUTE", 120, 1, 1_000_000),
        passphrase_max_failures=r.int("PWPUSH_PASSPHRASE_MAX_FAILURES", 5, 1, 1000),
        passphrase_lockout_minutes=r.int("PWPUSH_PASSPHRASE_LOCKOUT_MINUTES", 10, 1, 24 * 60),
        passphrase_push_max_failures=r.int("PWPUSH_PASSPHRASE_PUSH_MAX_FAILURES", 20, 1, 100_000),
        passphrase_push_lockout_minutes=r.int("PWPUSH_PASSPHRASE_PUSH_LOCKOUT_MINUTES", 60, 1, 7 * MINUTES_PER_DAY),
        ipv6_prefix=r.int("PWPUSH_IPV6_PREFIX", 64, 32, 128),
        argon2_slots=r.int("PWPUSH_ARGON2_SLOTS", max(2, os.cpu_count() or 2), 1, 256),
        purge_interval_seconds=r.int("PWPUSH_PURGE_INTERVAL_SECONDS", 60, 1, 24 * 3600),
        purge_records_after_days=_read_purge_after_days(r),
        max_payload_bytes=r.int("PWPUSH_MAX_PAYLOAD_BYTES", 1024 * 1024, 1, 16 * 1024 * 1024),
        max_qr_chars=r.int("PWPUSH_MAX_QR_CHARS", 1024, 1, 4096),
        max_files_per_push=r.int("PWP__FILES__MAX_FILE_UPLOADS", 10, 1, 100),
        max_file_bytes_per_push=r.int("PWPUSH_FILES_MAX_BYTES", 100 * 1024 * 1024, 1, 100 * 1024**3),
        files_require_login=r.bool("PWP__FILES__REQUIRE_LOGIN", True),
        file_grace_minutes=r.int("PWPUSH_FILES_GRACE_MINUTES", 10, 1, 24 * 60),
        session_idle_minutes=_one_of(r, "PWPUSH_SESSION_IDLE_MINUTES", "PWP__LOGIN_SESSION_TIMEOUT", 120,
                                     lambda: r.int("PWPUSH_SESSION_IDLE_MINUTES", 120, 1, 365 * MINUTES_PER_DAY),
                                     lambda: r.get("PWP__LOGIN_SESSION_TIMEOUT", 120, parse_duration_minutes)),
        session_remember_days=r.int("PWPUSH_SESSION_REMEMBER_DAYS", 7, 1, 365),
        login_max_failures=r.int("PWPUSH_LOGIN_MAX_FAILURES", 10, 1, 1000),
        login_lockout_minutes=r.int("PWPUSH_LOGIN_LOCKOUT_MINUTES", 60, 1, 7 * MINUTES_PER_DAY),
        policies=policies,
        files_storage=files_storage,
        s3_bucket=s3_bucket,
        s3_prefix=s3["prefix"],
        s3_endpoint_url=s3_endpoint,
        s3_region=s3["region"],
        mail=mail,
        s3_access_key_id=s3["access_key_id"],
        s3_secret_access_key=s3["secret_access_key"],
        environment={name: environ[name] for name in sorted(r.names) if environ.get(name)},
    )
    if r.errors:
        raise SettingsError("Invalid settings:\n  - " + "\n  - ".join(r.errors))
    return settings


def _one_of(r: Reader, ours: str, theirs: str, default, read_ours, read_theirs):
    """A setting with our name and Password Pusher's: either may be set, not both."""
    if r.is_set(ours) and r.is_set(theirs):
        r.errors.append(f"{ours} and {theirs} say the same thing: set one of them")
        return default
    return read_theirs() if r.is_set(theirs) else read_ours()


def _read_purge_after_days(r: Reader) -> int:
    def theirs() -> int:
        raw = (r.str("PWP__PURGE_AFTER", "disabled") or "disabled").strip()
        if raw.lower() == "disabled":
            return 0
        return -(-r.get("PWP__PURGE_AFTER", 0, parse_duration_minutes) // MINUTES_PER_DAY)

    return _one_of(r, "PWP__PURGE_AFTER_DAYS", "PWP__PURGE_AFTER", 0,
                   lambda: r.int("PWP__PURGE_AFTER_DAYS", 0, 0, 3650), theirs)


def _read_trusted_proxies(r: Reader) -> tuple[int, tuple]:
    """PWP__TRUSTED_PROXIES: a number of hops (ours), or addresses/networks (Password Pusher's)."""
    raw = (r.str("PWP__TRUSTED_PROXIES", "") or "").strip()
    if not raw or raw.isdigit():
        return r.int("PWP__TRUSTED_PROXIES", 0, 0, 10), ()
    return 0, r.get("PWP__TRUSTED_PROXIES", (), parse_networks)


def names_read() -> set[str]:
    """Every environment variable the settings read (tests hold this list against the
    README and against Password Pusher's settings)."""
    r = Reader({})
    try:
        load_settings(_NamesEnviron(r))
    except SettingsError:
        pass
    return r.names


class _NamesEnviron(dict):
    """An empty environment that records what is asked of it."""

    def __init__(self, reader: Reader):
        super().__init__()
        self.reader = reader

    def get(self, name, default=None):
        self.reader.names.add(name)
        return default


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
