"""The frontend build is found again for the same inputs and made anew when one changes
(pwpush_app/frontend.py). A stale build would show old pages (the wrong title, limits, or
an event socket on the wrong address); a needless one costs seconds at every start."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pwpush_app.frontend import (
    BUILD_ORIGIN,
    NOT_BUILD_INPUTS,
    SOURCE_PATHS,
    FrontendBuildError,
    _page_settings,
    _sources_digest,
    fingerprint,
    served_copy,
)
from pwpush_app.settings import load_settings
from tests.servers import ROOT, make_env

# A value other than the default for every setting no build is said to depend on.
SERVER_ONLY_CHANGES = {
    "data_dir": {"PWPUSH_DATA_DIR": "{tmp}/elsewhere"},
    "master_key_file": {"PWPUSH_MASTER_KEY": "", "PWPUSH_MASTER_KEY_FILE": "{tmp}/master.key"},
    "sqlite_synchronous": {"PWPUSH_SQLITE_SYNCHRONOUS": "NORMAL"},
    "busy_timeout_ms": {"PWPUSH_BUSY_TIMEOUT_MS": "1234"},
    "trusted_proxy_hops": {"PWP__TRUSTED_PROXIES": "2"},
    # the same variable in Password Pusher's list form (this one goes into the compile below)
    "trusted_proxies": {"PWP__TRUSTED_PROXIES": "10.0.0.5, 192.168.0.0/16"},
    "throttle_per_minute": {"PWP__THROTTLING__MINUTE": "7"},
    "ipv6_prefix": {"PWPUSH_IPV6_PREFIX": "48"},
    "argon2_slots": {"PWPUSH_ARGON2_SLOTS": "7"},
    "passphrase_max_failures": {"PWPUSH_PASSPHRASE_MAX_FAILURES": "3"},
    "passphrase_lockout_minutes": {"PWPUSH_PASSPHRASE_LOCKOUT_MINUTES": "3"},
    "passphrase_push_max_failures": {"PWPUSH_PASSPHRASE_PUSH_MAX_FAILURES": "9"},
    "passphrase_push_lockout_minutes": {"PWPUSH_PASSPHRASE_PUSH_LOCKOUT_MINUTES": "9"},
    "purge_interval_seconds": {"PWPUSH_PURGE_INTERVAL_SECONDS": "9"},
    "purge_records_after_days": {"PWP__PURGE_AFTER_DAYS": "30"},
    "session_idle_minutes": {"PWPUSH_SESSION_IDLE_MINUTES": "33"},
    "files_storage": {"PWPUSH_FILES_STORAGE": "s3"},
    "s3_bucket": {"PWPUSH_S3_BUCKET": "elsewhere"},
    "s3_prefix": {"PWPUSH_S3_PREFIX": "pwpush/"},
    "s3_endpoint_url": {"PWPUSH_S3_ENDPOINT_URL": "http://127.0.0.1:9"},
    "s3_region": {"PWPUSH_S3_REGION": "eu-west-1"},
    "base_url": {"PWP__OVERRIDE_BASE_URL": "https://secrets.example.com:8443"},
    "base_url_configured": {"PWP__HOST_DOMAIN": "secrets.example.org"},
    "allowed_hosts": {"PWP__ALLOWED_HOSTS": "secrets.example.com .example.org"},
    "require_mfa": {"PWP__REQUIRE_MFA": "true"},
    "admin_emails": {"PWP__ADMIN_EMAILS": "root@example.com"},  # with MAIL_ON (it needs account emails)
    # read by the pages at run time, through their state
    "max_file_bytes_per_push": {"PWPUSH_FILES_MAX_BYTES": str(4 * 1024 * 1024)},
    "files_require_login": {"PWP__FILES__REQUIRE_LOGIN": "false"},
    "login_max_failures": {"PWPUSH_LOGIN_MAX_FAILURES": "3"},
    "login_lockout_minutes": {"PWPUSH_LOGIN_LOCKOUT_MINUTES": "7"},
}

# The mail settings' details, which the pages never read (frontend.MAIL_PAGE_FACTS are the
# parts they do).
MAIL_DETAIL_CHANGES = {"PWP__MAIL__SMTP_PORT": "2525", "PWP__MAIL__SMTP_DOMAIN": "mail.example.net",
                       "PWP__MAIL__MAILER_SENDER": "Secrets <noreply@example.net>"}

# Account emails on in every compile of the test below: PWP__ADMIN_EMAILS needs them.
MAIL_ON = {"PWP__ENABLE_USER_ACCOUNT_EMAILS": "true", "PWP__MAIL__SMTP_ADDRESS": "127.0.0.1"}

COMPILE = """
from reflex.utils import prerequisites
prerequisites.get_compiled_app(dry_run=False, use_rich=False)
"""


def _env_with(tmp: Path, changes: dict[str, str]) -> dict[str, str]:
    env = make_env(tmp / "data")
    env.update({name: value.format(tmp=tmp) for name, value in changes.items()})
    return env


def _key_file(tmp: Path, env: dict[str, str]) -> None:
    key = tmp / "master.key"
    key.write_text(make_env(tmp)["PWPUSH_MASTER_KEY"] + "\n")
    key.chmod(0o600)


def compiled_pages(tmp: Path, env: dict[str, str]) -> dict[str, str]:
    """Reflex's compile of the pages (no JS build) into a web folder of its own: every file
    the JS build would read, by content digest."""
    web = tmp / "web"
    # As the build makes them: for the placeholder origin (each server's copy names its own).
    run_env = {**os.environ, **env, "REFLEX_WEB_WORKDIR": str(web), "PYTHONHASHSEED": "0",
               "REFLEX_API_URL": BUILD_ORIGIN,
               "REFLEX_USE_SYSTEM_BUN": "1",
               "PATH": os.pathsep.join([str(ROOT / ".tools/node_modules/.bin"), str(Path(sys.executable).parent),
                                        os.environ["PATH"]])}
    done = subprocess.run([sys.executable, "-c", COMPILE], cwd=ROOT, env=run_env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {
        str(path.relative_to(web)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(web.rglob("*"))
        if path.is_file() and "node_modules" not in path.parts and path.name not in ("bun.lock",)
    }


def test_server_only_settings_leave_the_compiled_pages_unchanged(tmp_path):
    """Every setting in NOT_BUILD_INPUTS (server-only, or read by the pages at run time)
    changed at once: the compiled pages are the same
    byte for byte, so no rebuild is needed. A page setting (the title) does change them."""
    assert set(SERVER_ONLY_CHANGES) == set(NOT_BUILD_INPUTS)
    server_only = {name: value for change in SERVER_ONLY_CHANGES.values() for name, value in change.items()}
    server_only.update(MAIL_DETAIL_CHANGES)
    changed_env = _env_with(tmp_path, {**MAIL_ON, **server_only})
    _key_file(tmp_path, changed_env)
    default, changed = load_settings(_env_with(tmp_path, MAIL_ON)), load_settings(changed_env)
    # every one changed (the hops on their own: the list form of the same variable won above)
    hops = load_settings(_env_with(tmp_path, {**MAIL_ON, **SERVER_ONLY_CHANGES["trusted_proxy_hops"]}))
    for name in NOT_BUILD_INPUTS:
        assert getattr(hops if name == "trusted_proxy_hops" else changed, name) != getattr(default, name), name
    assert changed.mail != default.mail and _page_settings(changed)["mail"] == _page_settings(default)["mail"]

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    plain = compiled_pages(tmp_path / "a", _env_with(tmp_path, MAIL_ON))
    assert any(name.startswith("app/routes/") for name in plain)  # the pages were compiled
    assert compiled_pages(tmp_path / "b", changed_env) == plain
    retitled = compiled_pages(tmp_path / "c", _env_with(tmp_path, {**MAIL_ON, "PWP__BRAND__TITLE": "Acme Secrets"}))
    assert retitled != plain


def test_build_inputs_follow_sources_and_page_settings_and_hold_no_secret(tmp_path):
    app = tmp_path / "app"
    for name in SOURCE_PATHS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, app / name, ignore=shutil.ignore_patterns("__pycache__", "external"))
        else:
            shutil.copy2(source, app / name)
    digest = _sources_digest(app)
    assert _sources_digest(app) == digest
    (app / "pwpush_app" / "__pycache__").mkdir(exist_ok=True)
    (app / "pwpush_app" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"compiled")
    assert _sources_digest(app) == digest  # bytecode is no source
    page = app / "pwpush_app" / "ui" / "reveal.py"
    page.write_text(page.read_text() + "\n# a change\n")
    assert _sources_digest(app) != digest

    secrets = {"PWPUSH_MASTER_KEY": make_env(tmp_path)["PWPUSH_MASTER_KEY"],
               "REFLEX_DB_URL": "postgresql+psycopg://pwpush:db-password-4411@127.0.0.1/pwpush",
               "REFLEX_REDIS_URL": "redis://:redis-password-5522@127.0.0.1:6379/0"}
    base = load_settings(_env_with(tmp_path, secrets))
    shown = json.dumps(_page_settings(base))
    for secret in ("db-password-4411", "redis-password-5522", secrets["PWPUSH_MASTER_KEY"]):
        assert secret not in shown
    inputs = {"sources": digest, "settings": _page_settings(base)}
    same = {"sources": digest, "settings": _page_settings(load_settings(_env_with(tmp_path, {
        **secrets, "PWP__THROTTLING__MINUTE": "9", "PWPUSH_MASTER_KEY": make_env(tmp_path)["PWPUSH_MASTER_KEY"]})))}
    assert fingerprint(same) == fingerprint(inputs)  # a server-only setting or another key: same build
    retitled = {"sources": digest, "settings": _page_settings(load_settings(_env_with(tmp_path, {
        **secrets, "PWP__BRAND__TITLE": "Acme Secrets"})))}
    assert fingerprint(retitled) != fingerprint(inputs)
    fewer_views = {"sources": digest, "settings": _page_settings(load_settings(_env_with(tmp_path, {
        **secrets, "PWP__PW__EXPIRE_AFTER_VIEWS_MAX": "10"})))}
    assert fingerprint(fewer_views) != fingerprint(inputs)


def _fake_build(folder: Path) -> Path:
    """A build as Reflex exports it for the placeholder origin: the env chunk names it."""
    assets = folder / "build" / "client" / "assets"
    assets.mkdir(parents=True)
    (folder / "build" / "client" / "index.html").write_text('<script type="module" src="/assets/app.js"></script>')
    (assets / "app.js").write_text("import env from './reflex-env-X1.js';")
    (assets / "reflex-env-X1.js").write_text(
        f"var e={{PING:`{BUILD_ORIGIN}/ping`,EVENT:`ws://pwpush-build-origin.invalid/_event`,"
        f"UPLOAD:`{BUILD_ORIGIN}/_upload`}};export{{e as default}};")
    for name in ("app.js", "reflex-env-X1.js"):  # precompressed as Reflex serves them
        (assets / f"{name}.gz").write_bytes(gzip.compress((assets / name).read_bytes()))
    (assets / "reflex-env-X1.js.br").write_bytes(b"brotli of the placeholder")
    (folder / "backend").mkdir()
    (folder / "backend" / "stateful_pages.json").write_text("[]")
    return folder


def test_each_address_gets_a_copy_of_one_build_pointed_at_it(tmp_path):
    build = _fake_build(tmp_path / "build1")
    before = {p: p.read_bytes() for p in build.rglob("*") if p.is_file()}

    plain = served_copy(build, "http://localhost:41234")
    proxied = served_copy(build, "https://secrets.example.com:8443/")
    env_chunk = "build/client/assets/reflex-env-X1.js"
    assert (plain / env_chunk).read_text() == (
        "var e={PING:`http://localhost:41234/ping`,EVENT:`ws://localhost:41234/_event`,"
        "UPLOAD:`http://localhost:41234/_upload`};export{e as default};")
    assert (proxied / env_chunk).read_text() == (
        "var e={PING:`https://secrets.example.com:8443/ping`,EVENT:`wss://secrets.example.com:8443/_event`,"
        "UPLOAD:`https://secrets.example.com:8443/_upload`};export{e as default};")
    # What the server sends to a browser that accepts gzip is the same; no stale brotli is left.
    assert gzip.decompress((proxied / f"{env_chunk}.gz").read_bytes()) == (proxied / env_chunk).read_bytes()
    assert not (proxied / f"{env_chunk}.br").exists()
    # Everything else is the build's own file (a link, no copy), and the build is untouched.
    assert (plain / "build/client/assets/app.js").stat().st_ino == (build / "build/client/assets/app.js").stat().st_ino
    assert (plain / "backend/stateful_pages.json").read_text() == "[]"
    assert {p: p.read_bytes() for p in before} == before
    # Found again, not made again.
    mtime = (plain / env_chunk).stat().st_mtime_ns
    assert served_copy(build, "http://localhost:41234") == plain and (plain / env_chunk).stat().st_mtime_ns == mtime


@pytest.mark.parametrize("address", ["javascript:alert(1)", "http://evil`${alert(1)}`", "http://a b", ""])
def test_an_address_that_cannot_go_into_the_pages_is_refused(tmp_path, address, monkeypatch):
    build = _fake_build(tmp_path / "build1")
    monkeypatch.setattr("pwpush_app.frontend._api_url", lambda: "javascript:alert(2)")
    with pytest.raises(FrontendBuildError, match="PWP__OVERRIDE_BASE_URL"):
        served_copy(build, address)
    assert not (build / "served").exists() or not any((build / "served").iterdir())


def test_a_build_made_before_the_placeholder_is_refused_with_what_to_do(tmp_path):
    build = _fake_build(tmp_path / "old")
    chunk = build / "build/client/assets/reflex-env-X1.js"
    chunk.write_text(chunk.read_text().replace("pwpush-build-origin.invalid", "localhost:3000"))
    with pytest.raises(FrontendBuildError, match="remove .* and start again"):
        served_copy(build, "http://localhost:3000")


def test_a_build_whose_prerender_ran_out_of_time_is_tried_again_and_other_failures_are_not(monkeypatch):
    """A page's prerender that misses React Router's fixed time on a busy machine is tried
    again (seen in the suite while other builds ran); a real failure stops at once."""
    from pwpush_app import frontend

    outcomes = ["error: Prerender: Request failed for /forgot-password/: The operation timed out.", None]
    tries, said = [], []

    def build_once():
        tries.append(1)
        outcome = outcomes.pop(0)
        if outcome:
            raise FrontendBuildError(f"the frontend build failed (reflex export):\n{outcome}")

    monkeypatch.setattr(frontend, "_reflex_export_once", build_once)
    frontend._reflex_export(said.append)
    assert len(tries) == 2 and "building again (2 of 3)" in said[0]

    outcomes[:] = ["error: Could not resolve module 'x'"] * 3
    tries.clear()
    with pytest.raises(FrontendBuildError, match="Could not resolve"):
        frontend._reflex_export(said.append)
    assert len(tries) == 1

    outcomes[:] = ["error: Prerender: Request failed for /: timed out"] * 3
    tries.clear()
    with pytest.raises(FrontendBuildError, match="Prerender"):
        frontend._reflex_export(said.append)
    assert len(tries) == frontend.BUILD_ATTEMPTS
