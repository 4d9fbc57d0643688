"""The Containerfile and compose.yaml as shipped, read without building anything (a second;
the image builds and compose runs are in tests/container/, the last part of `make test`).

They must agree with each other and with the settings table: a variable compose sets that
the app doesn't read is a setting silently lost; a page setting the app service runs with
but the image was not built for makes every container rebuild its pages at its start.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pwpush_app.frontend import _page_settings
from pwpush_app.settings import SETTINGS_TABLE, load_settings

ROOT = Path(__file__).resolve().parents[1]
CONTAINERFILE = (ROOT / "Containerfile").read_text()
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
# The variables a self-hoster puts in compose's .env (compose.yaml's own, not the app's).
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "PWPUSH_IMAGE", "POSTGRES_IMAGE", "REDIS_IMAGE", "CADDY_IMAGE",
                "BASE", "PWPUSH_LISTEN", "PWPUSH_PORT", "PWPUSH_DOMAIN"}
DOT_ENV = {"POSTGRES_PASSWORD": "pg-secret", "REDIS_PASSWORD": "redis-secret",
           "PWP__OVERRIDE_BASE_URL": "https://secrets.example.com", "PWP__BRAND__TITLE": "Acme Secrets"}


def stages() -> list[list[str]]:
    """The Containerfile's instructions (continuation lines joined), split at each FROM."""
    text = re.sub(r"\\\n", " ", CONTAINERFILE)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    found: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            found.append([])
        if found:
            found[-1].append(line)
    return found


def instructions(stage: list[str], keyword: str) -> list[str]:
    return [line.split(None, 1)[1] for line in stage if line.split(None, 1)[0].upper() == keyword]


def interpolate(value, env: dict[str, str]):
    """compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, as compose reads them."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        name, op, rest = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        if op == ":?":
            raise AssertionError(f"{name} is required: {rest}")
        return rest if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def compose_variables() -> set[str]:
    return set(re.findall(r"\$\{(\w+)", (ROOT / "compose.yaml").read_text()))


def documented_names() -> set[str]:
    names = set()
    for doc in SETTINGS_TABLE:
        names |= {part.strip() for part in doc.name.split("/") if part.strip().isupper()}
    return names


def test_containerfile_builds_in_two_stages_from_a_debian_base_and_runs_as_a_user_with_data_in_a_volume():
    first_line = next(line for line in CONTAINERFILE.splitlines() if line.startswith(("ARG", "FROM")))
    assert re.fullmatch(r"ARG BASE=docker\.io/library/debian:bookworm(-slim)?", first_line)
    build, runtime = stages()
    assert build[0] == "FROM ${BASE} AS build" and runtime[0] == "FROM ${BASE}"
    assert any("pwpush_app build" in run for run in instructions(build, "RUN"))  # pages built at image build
    assert all("pwpush_app build" not in run for run in instructions(runtime, "RUN"))
    assert any(copy.startswith("--from=build") for copy in instructions(runtime, "COPY"))
    user = instructions(runtime, "USER")
    assert user and user[-1] not in ("root", "0")
    assert instructions(runtime, "VOLUME") == ["/data"]
    assert "PWPUSH_DATA_DIR=/data" in " ".join(instructions(runtime, "ENV"))
    assert instructions(runtime, "EXPOSE") == ["3000"]
    assert '"serve", "--port", "3000"' in instructions(runtime, "CMD")[0]
    healthcheck = instructions(runtime, "HEALTHCHECK")
    assert healthcheck and "http://127.0.0.1:3000/up" in healthcheck[0]  # Password Pusher's health check


def test_every_file_the_image_copies_passes_dockerignore():
    allowed = {line[1:].strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    copied = set()
    for copy in instructions(stages()[0], "COPY"):
        if not copy.startswith("--from"):
            copied |= set(copy.split()[:-1])
    assert copied and copied <= allowed
    assert all((ROOT / name).exists() for name in copied)


def test_compose_runs_the_app_with_postgresql_redis_and_workers_and_has_sqlite_and_tls_profiles():
    services = interpolate(COMPOSE["services"], DOT_ENV)
    app, single, caddy = services["app"], services["single"], services["caddy"]
    assert "profiles" not in app and "profiles" not in services["postgres"] and "profiles" not in services["redis"]
    assert single["profiles"] == ["sqlite"] and caddy["profiles"] == ["tls"]
    assert set(app["depends_on"]) == {"postgres", "redis"}
    assert app["environment"]["REFLEX_DB_URL"] == "postgresql+psycopg://pwpush:pg-secret@postgres:5432/pwpush"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "pg-secret"
    assert app["environment"]["REFLEX_REDIS_URL"] == "redis://:redis-secret@redis:6379/0"
    assert "--requirepass" in services["redis"]["command"] and "redis-secret" in services["redis"]["command"]
    assert int(app["environment"]["GRANIAN_WORKERS"]) >= 2
    for service in (app, single):
        assert service["build"]["dockerfile"] == "Containerfile"
        assert any(volume.endswith(":/data") for volume in service["volumes"])  # the image's VOLUME
        assert all(port.endswith(":3000") and port.startswith("127.0.0.1:") for port in service["ports"])
    assert "REFLEX_DB_URL" not in single["environment"] and "REFLEX_REDIS_URL" not in single["environment"]
    assert caddy["command"][-2:] == ["--to", "app:3000"]
    named = {volume.split(":")[0] for service in services.values() for volume in service.get("volumes", [])}
    assert named <= set(COMPOSE["volumes"])
    with pytest.raises(AssertionError, match="POSTGRES_PASSWORD is required"):
        interpolate(COMPOSE["services"], {})  # no default password: compose refuses to start


def test_every_variable_compose_sets_for_the_app_is_a_setting_the_app_reads():
    documented = documented_names()
    services = COMPOSE["services"]
    for name in ("app", "single"):
        assert set(services[name]["environment"]) <= documented, name
        assert set(services[name]["build"]["args"]) - {"BASE"} <= documented, name
    assert compose_variables() <= documented | COMPOSE_ONLY


@pytest.mark.parametrize("service", ["app", "single"])
def test_the_image_is_built_for_the_page_settings_its_service_runs_with(service, tmp_path):
    """Both services start from the image's own pages (no build at start) and with settings
    the app accepts: the settings the pages show are the same at build time and at run time."""
    page_args = {line.split("=", 1)[0] for line in instructions(stages()[0], "ARG") if line.startswith("PWP")}
    spec = interpolate(COMPOSE["services"][service], DOT_ENV)
    assert set(spec["build"]["args"]) == page_args | {"BASE"}  # every page setting the Containerfile takes
    build_env = {k: v for k, v in spec["build"]["args"].items() if v and k.startswith("PWP")}
    run_env = {k: v for k, v in spec["environment"].items() if v}
    built = load_settings({**build_env, "PWPUSH_DATA_DIR": str(tmp_path / "build")})
    running = load_settings({**run_env, "PWPUSH_DATA_DIR": str(tmp_path / "data")})
    assert _page_settings(running) == _page_settings(built)
    assert running.base_url == "https://secrets.example.com" and running.brand_title == "Acme Secrets"
    assert running.redis_url if service == "app" else running.db_url.startswith("sqlite")
