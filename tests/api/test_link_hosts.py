"""The API's links start where the request was sent (issue 24, item 3), unless a base URL is
configured; a Host that isn't allowed never makes it into a link."""

from __future__ import annotations

import dataclasses

from .conftest import asgi_client

BODY = {"push": {"payload": "where do links point?"}}


def _created(api, host: str | None = None, **headers) -> dict:
    if host is not None:
        headers["Host"] = host
    response = api.post("/api/v2/pushes", json=BODY, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_links_use_the_host_the_request_was_sent_to(make_api):
    api, _runtime = make_api()
    body = _created(api, "192.168.1.10:3000")
    assert body["html_url"] == f"http://192.168.1.10:3000/p/{body['url_token']}"
    assert body["manage_url"].startswith("http://192.168.1.10:3000/manage/")
    preview = api.get(f"/api/v2/pushes/{body['url_token']}/preview", headers={"Host": "nas.local:3000"})
    assert preview.json() == {"url": f"http://nas.local:3000/p/{body['url_token']}"}


def test_behind_a_trusted_proxy_https_is_kept(make_api):
    api, _runtime = make_api(PWP__TRUSTED_PROXIES="1")
    body = _created(api, "vault.example", **{"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.4"})
    assert body["html_url"].startswith("https://vault.example/p/")
    # Without trusted proxies the header is anyone's: ignored.
    api2, _ = make_api()
    assert _created(api2, "vault.example", **{"X-Forwarded-Proto": "https"})["html_url"].startswith("http://vault.example/p/")


def test_behind_a_proxy_named_by_its_network_https_is_kept_and_nobody_else_can_claim_it(make_runtime):
    """PWP__TRUSTED_PROXIES as Password Pusher's list of proxy networks: X-Forwarded-Proto
    counts when the request came from one of them (it was read in the hops form only, so
    behind such a proxy every link said http://)."""
    runtime = make_runtime(PWP__TRUSTED_PROXIES="10.0.0.0/8")
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.4"}
    through_proxy, outsider = asgi_client(runtime, peer="10.0.0.5"), asgi_client(runtime, peer="203.0.113.9")
    try:
        assert _created(through_proxy, "vault.example", **forwarded)["html_url"].startswith("https://vault.example/p/")
        assert _created(outsider, "vault.example", **forwarded)["html_url"].startswith("http://vault.example/p/")
    finally:
        through_proxy.close()
        outsider.close()


def test_a_configured_base_url_wins_over_any_host(make_api):
    api, _runtime = make_api(PWP__OVERRIDE_BASE_URL="https://secrets.example.com")
    body = _created(api, "evil.example")
    assert body["html_url"].startswith("https://secrets.example.com/p/")


def test_malformed_or_unlisted_hosts_never_reach_a_link(make_api):
    api, runtime = make_api()
    for host in ("evil.example/x", "evil.example:port", "a b", "user@evil.example"):
        assert _created(api, host)["html_url"].startswith("http://localhost:3000/p/"), host
    # With allowed hosts (PWP__ALLOWED_HOSTS), only those.
    runtime.settings = dataclasses.replace(runtime.settings, allowed_hosts=("vault.example",))
    assert _created(api, "vault.example")["html_url"].startswith("http://vault.example/p/")
    assert _created(api, "rebound.example")["html_url"].startswith("http://localhost:3000/p/")
