"""PWP__ALLOWED_HOSTS on its own (the ASGI check in-process): another Host is 400, the
websocket is refused, and what must keep working does.  Through the real server:
tests/ui/test_site_settings.py."""

from __future__ import annotations

import asyncio

import pytest

from pwpush_app.host_check import HostCheck, host_name
from pwpush_app.settings import SettingsError, load_settings


def _call(check, scope_type: str = "http", path: str = "/", host: str | None = "secrets.example.com",
          extra: list | None = None) -> tuple[list[dict], bool]:
    reached = []

    async def app(scope, receive, send):
        reached.append(scope)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    headers = ([(b"host", host.encode())] if host is not None else []) + (extra or [])
    scope = {"type": scope_type, "method": "GET", "path": path, "headers": headers}
    asyncio.run(HostCheck(app, *check)(scope, receive, send))
    return sent, bool(reached)


ALLOWED = (("secrets.example.com", ".example.org"), "https://pwpush.example.net")


@pytest.mark.parametrize("host", [
    "secrets.example.com", "SECRETS.example.com:443", "secrets.example.com.", "example.org", "a.b.example.org:8443",
    "pwpush.example.net", "localhost:3000", "127.0.0.1:3000", "[::1]:3000",
])
def test_allowed_hosts_reach_the_app(host):
    sent, reached = _call(ALLOWED, host=host)
    assert reached and sent[0]["status"] == 200


@pytest.mark.parametrize("host", [
    "evil.example", "secrets.example.com.evil.example", "notexample.org", "example.com", "10.0.0.5:3000", "", None,
    "secrets.example.com@evil.example",
])
def test_other_hosts_get_400_and_never_reach_the_app(host):
    sent, reached = _call(ALLOWED, host=host)
    assert not reached
    assert sent[0]["status"] == 400 and b"host name" in sent[1]["body"]


def test_a_forwarded_host_must_be_allowed_too():
    _, reached = _call(ALLOWED, extra=[(b"x-forwarded-host", b"secrets.example.com")])
    assert reached
    sent, reached = _call(ALLOWED, extra=[(b"x-forwarded-host", b"evil.example")])
    assert not reached and sent[0]["status"] == 400
    sent, reached = _call(ALLOWED, extra=[(b"x-forwarded-host", b"secrets.example.com, evil.example")])
    assert not reached


def test_the_websocket_is_refused_before_it_opens_and_allowed_when_named():
    sent, reached = _call(ALLOWED, "websocket", "/_event/", host="evil.example")
    assert not reached and sent == [{"type": "websocket.close", "code": 1008}]
    _, reached = _call(ALLOWED, "websocket", "/_event/", host="secrets.example.com")
    assert reached


def test_the_health_check_answers_any_host_and_no_list_checks_nothing():
    _, reached = _call(ALLOWED, path="/up", host="10.1.2.3:3000")
    assert reached
    _, reached = _call(((), "https://pwpush.example.net"), host="anything.example")
    assert reached


def test_host_names_are_read_without_port_or_brackets():
    assert [host_name(h) for h in ("A.Example:80", "[2001:db8::1]:443", "2001:db8::1", "x.example.", "[bad")] == \
        ["a.example", "2001:db8::1", "2001:db8::1", "x.example", ""]


def test_the_setting_takes_password_pushers_space_separated_list(tmp_path):
    s = load_settings({"PWPUSH_DATA_DIR": str(tmp_path), "PWP__ALLOWED_HOSTS": "pwpush.com  Secrets.Example.com,.example.org [::1] 10.0.0.5"})
    assert s.allowed_hosts == ("pwpush.com", "secrets.example.com", ".example.org", "::1", "10.0.0.5")
    assert load_settings({"PWPUSH_DATA_DIR": str(tmp_path)}).allowed_hosts == ()
    for bad in ("https://secrets.example.com", "secrets.example.com:443", "secrets.example.com/path", "*.example.com"):
        with pytest.raises(SettingsError, match="PWP__ALLOWED_HOSTS.*not a host name"):
            load_settings({"PWPUSH_DATA_DIR": str(tmp_path), "PWP__ALLOWED_HOSTS": bad})
