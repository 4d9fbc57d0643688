"""The built frontend: built once for a set of inputs, found again at every later start.

`reflex run --env prod` compiles the pages and runs the production JS build at every start
(5-7 s on 2 cores, all of it downtime). The built pages only change when one of their
inputs does, so a build is kept per set of inputs and a start that finds its build serves
it at once:

- the app's sources: `pwpush_app/`, `rxconfig.py`, `assets/`, and the installed Reflex
  packages;
- the settings the pages show or embed: title, tagline, limits, which kinds are offered,
  the defaults of the form ... (every setting except NOT_BUILD_INPUTS and the secrets);
- the paths of the backend's endpoints.

The address the pages open their event socket on (`PWP__OVERRIDE_BASE_URL`, or
`http://localhost:<port>`) is not an input: a build is made for a placeholder origin
(BUILD_ORIGIN) and each address a server runs on gets a *served copy* of it, hard links
to the build's files but for the one small chunk that holds Reflex's env.json, with the
placeholder replaced by the real address. A new port, host or base URL costs a copy of a
few milliseconds instead of a 15 s build, and an image built once runs at any address.

A build lives in `.web/builds/<fingerprint>/` (its `build/client` static files and the
`backend` markers Reflex's workers read), next to `inputs.json`, the inputs it was made
from (never a secret), and its served copies in `served/<address digest>/`. Reflex builds
in `.web` itself; a lock keeps two builds apart.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import glob
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

from pwpush_app.http_security import HASHES_FILE, page_hashes
from pwpush_app.settings import Settings

# Settings no build depends on (NOT_BUILD_INPUTS): changing one must not cost a rebuild.
# tests/test_frontend_build.py compiles the pages with each of them changed and checks that
# nothing the browser gets differs; a setting a page starts to compile in must leave these lists.
# Read by the server only, never by a page:
SERVER_ONLY_SETTINGS = frozenset({
    "data_dir", "master_key_file", "sqlite_synchronous", "busy_timeout_ms", "trusted_proxy_hops",
    "trusted_proxies", "throttle_per_minute", "ipv6_prefix", "argon2_slots", "passphrase_max_failures",
    "passphrase_lockout_minutes", "passphrase_push_max_failures", "passphrase_push_lockout_minutes",
    "purge_interval_seconds", "purge_records_after_days", "session_idle_minutes", "files_storage", "s3_bucket",
    "s3_prefix", "s3_endpoint_url", "s3_region", "require_mfa", "admin_emails",
    # The site's address: links are made per request, and the event socket's address is put
    # into each served copy of a build (served_copy).
    "base_url", "base_url_configured", "allowed_hosts",
})
# Read by the pages at run time, into their state when they load (never compiled into them):
# the file limits (ui/create_state.py, ui/ask.py) and the login lock-out rule (ui/account.py).
RUN_TIME_SETTINGS = frozenset({
    "max_file_bytes_per_push", "files_require_login", "login_max_failures", "login_lockout_minutes",
})
NOT_BUILD_INPUTS = SERVER_ONLY_SETTINGS | RUN_TIME_SETTINGS
# What the pages read of the mail settings (ui/: sign-up, recovery, create, notifications).
MAIL_PAGE_FACTS = ("configured", "account_emails", "link_by_email", "webhooks", "digest_hour_utc")
# The app's own files that go into the pages (assets/external holds links Reflex makes).
SOURCE_PATHS = ("pwpush_app", "rxconfig.py", "assets")
SKIPPED_NAMES = {"__pycache__", "external", ".DS_Store"}
KEEP_BUILDS = 6  # the newest builds kept; older ones are removed after a new build
KEEP_SERVED = 8  # served copies (addresses) kept per build, besides those used in the last day
# The origin a build's pages are made for, replaced in each served copy by the real one
# (a reserved name: a page that somehow kept it would reach nothing).
BUILD_ORIGIN = "http://pwpush-build-origin.invalid"
PRECOMPRESSED = {".gz", ".br", ".zst"}  # Reflex's frontend_compression_formats
_PLACEHOLDER = re.compile(rb"(https?|wss?)://pwpush-build-origin\.invalid")
BUILD_TIMEOUT_S = 1800  # a build that hangs (a registry that never answers) fails instead


class FrontendBuildError(RuntimeError):
    """The frontend could not be built; the message says what to do."""


def app_root() -> Path:
    """The app's folder: Reflex runs from the folder that holds rxconfig.py."""
    root = Path.cwd()
    if not (root / "rxconfig.py").is_file():
        raise FrontendBuildError(f"no rxconfig.py in {root}: run this from the app's folder")
    return root


def use_local_bun(root: Path) -> None:
    """bun from the npm registry, where `make install` (or the image) puts it: Reflex would
    otherwise download it from the internet."""
    bun_bin = root / ".tools" / "node_modules" / ".bin"
    if (bun_bin / "bun").exists():
        os.environ["PATH"] = f"{bun_bin}{os.pathsep}{os.environ.get('PATH', '')}"
        os.environ.setdefault("REFLEX_USE_SYSTEM_BUN", "1")


def web_dir() -> Path:
    from reflex.utils import prerequisites

    return prerequisites.get_web_dir().absolute()


def builds_dir() -> Path:
    return web_dir() / "builds"


def _sources_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for top in SOURCE_PATHS:
        path = root / top
        files = [path] if path.is_file() else sorted(_walk(path)) if path.is_dir() else []
        for file in files:
            digest.update(str(file.relative_to(root)).encode() + b"\0")
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def _walk(folder: Path) -> Iterator[Path]:
    for entry in folder.iterdir():
        if entry.name in SKIPPED_NAMES or entry.suffix == ".pyc":
            continue
        if entry.is_dir():
            yield from _walk(entry)
        elif entry.is_file():
            yield entry


def _page_settings(settings: Settings) -> dict:
    """Every setting a page may show, as plain JSON: secrets (the fields kept out of
    repr) and NOT_BUILD_INPUTS are left out."""
    shown = {}
    for field in dataclasses.fields(settings):
        if not field.repr or field.name in NOT_BUILD_INPUTS:
            continue
        value = getattr(settings, field.name)
        if field.name == "mail":  # what pages offer with mail; the SMTP details are the server's
            value = {fact: getattr(value, fact) for fact in MAIL_PAGE_FACTS}
        elif field.name == "policies":
            value = {kind: dataclasses.asdict(policy) for kind, policy in sorted(value.items())}
        shown[field.name] = value
    return json.loads(json.dumps(shown, default=str, sort_keys=True))


def _reflex_packages() -> list[str]:
    """The installed Reflex distributions with their versions, from their `.dist-info`
    folders' names (reading every package's metadata would cost ~50 ms per start)."""
    found = set()
    for folder in sys.path:
        try:
            entries = os.scandir(folder or ".")
        except OSError:
            continue
        with entries:
            found.update(entry.name for entry in entries
                         if entry.name.lower().startswith("reflex") and entry.name.endswith(".dist-info"))
    return sorted(found)


def build_inputs(settings: Settings) -> dict:
    """What the built pages depend on (Reflex's config must be loaded for this port)."""
    from reflex_base import constants
    from reflex_base.config import get_config

    return {
        "sources": _sources_digest(app_root()),
        "packages": _reflex_packages(),
        "settings": _page_settings(settings),
        # env.json, which the bundle embeds, holds these paths under BUILD_ORIGIN.
        "endpoint_paths": {endpoint.name: get_config().prepend_backend_path(str(endpoint))
                           for endpoint in constants.Endpoint},
    }


def _api_url() -> str:
    from reflex_base.config import get_config

    return get_config().api_url


def fingerprint(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:24]


def find_build(inputs: dict) -> Path | None:
    """The finished build for these inputs, if there is one."""
    folder = builds_dir() / fingerprint(inputs)
    if (folder / "inputs.json").is_file() and (folder / "build" / "client" / "index.html").is_file():
        return folder
    return None


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    """One build at a time per .web folder (Reflex builds in place)."""
    web = web_dir()
    web.mkdir(parents=True, exist_ok=True)
    with open(web / ".pwpush-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build_frontend(settings: Settings, log=print) -> Path:
    """Build the frontend for these settings unless a build for them exists; its folder."""
    inputs = build_inputs(settings)
    with _build_lock():
        found = find_build(inputs)
        if found:
            return found
        if not shutil.which("bun") and not (web_dir() / "node_modules").is_dir():
            raise FrontendBuildError(
                "No frontend build fits these page settings, and this installation has no tools to make one "
                "(an image built with PAGE_BUILD_TOOLS=false): build the image with the same page settings "
                "(PWP__OVERRIDE_BASE_URL, PWP__BRAND__*, limits ...) as build arguments, or with the tools.")
        started = time.monotonic()
        log("Building the frontend (the pages' sources or settings changed since the last build)...")
        _reflex_export(log)
        folder = _keep_build(inputs)
        log(f"Frontend built in {time.monotonic() - started:.1f} s: {folder}")
        _remove_old_builds(keep=folder)
        return folder


# React Router's prerender gives each page a fixed time: on a machine busy with other
# work a page may miss it ("Prerender: Request failed for /x/: The operation timed out").
PRERENDER_TIMED_OUT = "Prerender: Request"
BUILD_ATTEMPTS = 3


def _reflex_export(log=print) -> None:
    """Reflex's production build (`_reflex_export_once`), tried again when only the
    prerender of a page ran out of time."""
    for attempt in range(1, BUILD_ATTEMPTS + 1):
        try:
            return _reflex_export_once()
        except FrontendBuildError as error:
            if PRERENDER_TIMED_OUT not in str(error) or attempt == BUILD_ATTEMPTS:
                raise
            log(f"The prerender of a page ran out of time (a busy machine?): building again ({attempt + 1} of "
                f"{BUILD_ATTEMPTS})")


def _reflex_export_once() -> None:
    """Reflex's own production build, as `reflex run --env prod` makes it (same compile,
    same `bun run export`), without starting a server."""
    command = [str(Path(sys.executable).parent / "reflex"), "export", "--frontend-only", "--no-zip",
               "--loglevel", "info"]
    try:
        # Reflex's REFLEX_API_URL wins over rxconfig's api_url: the pages are made for the placeholder.
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                timeout=BUILD_TIMEOUT_S, env={**os.environ, "REFLEX_API_URL": BUILD_ORIGIN})
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout.decode(errors="replace") if isinstance(expired.stdout, bytes) else expired.stdout
        raise FrontendBuildError(f"the frontend build did not finish in {BUILD_TIMEOUT_S} s ({' '.join(command)}):\n"
                                 f"{(output or '')[-4000:]}") from None
    if result.returncode != 0 or not (web_dir() / "build" / "client" / "index.html").is_file():
        raise FrontendBuildError(f"the frontend build failed ({' '.join(command)}):\n{result.stdout[-4000:]}")


def _keep_build(inputs: dict) -> Path:
    web = web_dir()
    folder = builds_dir() / fingerprint(inputs)
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(web / "build" / "client", partial / "build" / "client", symlinks=True)
    shutil.copytree(web / "backend", partial / "backend", symlinks=True)
    (partial / "inputs.json").write_text(json.dumps(inputs, indent=2, sort_keys=True) + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def _remove_old_builds(keep: Path) -> None:
    """Keep the newest KEEP_BUILDS builds; a build in use was touched when its server started."""
    builds = sorted((p for p in builds_dir().iterdir() if p.is_dir() and p != keep),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for old in builds[KEEP_BUILDS - 1:]:
        if time.time() - old.stat().st_mtime > 24 * 3600:
            shutil.rmtree(old, ignore_errors=True)


def mark_in_use(folder: Path) -> None:
    os.utime(folder)


def served_copy(build: Path, api_url: str | None = None) -> Path:
    """The build as this server sends it: its pages pointed at this server's address
    (by default Reflex's config, loaded for this port and base URL); made on first use."""
    api_url = (api_url or _api_url()).rstrip("/")
    if re.search(r"[\s`'\"\\$<>]", api_url) or not re.match(r"https?://", api_url):
        raise FrontendBuildError(f"the pages cannot be pointed at {api_url!r}: set PWP__OVERRIDE_BASE_URL to an "
                                 "http(s) address such as https://secrets.example.com")
    folder = build / "served" / hashlib.sha256(api_url.encode()).hexdigest()[:16]
    if not (folder / "build" / "client" / "index.html").is_file():
        _make_served_copy(build, folder, api_url)
        _remove_old_served_copies(build, keep=folder)
    mark_in_use(folder)
    return folder


def _make_served_copy(build: Path, folder: Path, api_url: str) -> None:
    socket_url = api_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    partial = folder.with_name(f"{folder.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    for part in ("build", "backend"):
        shutil.copytree(build / part, partial / part, symlinks=True, copy_function=_link_or_copy)
    pointed = 0
    for file in (partial / "build").rglob("*"):
        if not file.is_file() or file.is_symlink() or file.suffix in PRECOMPRESSED:
            continue
        content = file.read_bytes()
        if b"pwpush-build-origin.invalid" not in content:
            continue
        content = _PLACEHOLDER.sub(lambda m: (socket_url if m[1].startswith(b"ws") else api_url).encode(), content)
        file.unlink()  # a hard link to the build's file: write a new file, never through the link
        file.write_bytes(content)
        # Reflex serves a precompressed sibling when the browser accepts it: the same content.
        for sibling in file.parent.glob(glob.escape(file.name) + ".*"):
            sibling.unlink()
            if sibling.suffix == ".gz":
                sibling.write_bytes(gzip.compress(content, mtime=0))
        pointed += 1
    if not pointed:
        shutil.rmtree(partial, ignore_errors=True)
        raise FrontendBuildError(f"the build in {build} does not name the placeholder origin {BUILD_ORIGIN}: "
                                 f"remove {build} and start again to rebuild it")
    (partial / "address.json").write_text(json.dumps({"api_url": api_url}) + "\n")
    # The pages' inline-script hashes for the Content-Security-Policy, found once here
    # instead of at every start (http_security.built_page_hashes).
    (partial / "build" / HASHES_FILE).write_text(json.dumps(page_hashes(partial / "build" / "client")) + "\n")
    try:
        partial.rename(folder)
    except OSError:  # another server made the same copy at the same moment
        shutil.rmtree(partial, ignore_errors=True)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _remove_old_served_copies(build: Path, keep: Path) -> None:
    copies = sorted((p for p in (build / "served").iterdir() if p.is_dir() and p != keep and "." not in p.name),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for old in copies[KEEP_SERVED:]:
        if time.time() - old.stat().st_mtime > 24 * 3600:
            shutil.rmtree(old, ignore_errors=True)
