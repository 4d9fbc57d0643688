"""Rate limits per client IP on create and reveal, answered 429 with Retry-After."""

from tests.api.conftest import asgi_client


def test_creates_over_the_limit_get_429_with_retry_after_and_create_nothing(make_runtime):
    runtime = make_runtime(PWP__THROTTLING__MINUTE="3")
    api = asgi_client(runtime, peer="198.51.100.1")
    statuses = [api.post("/api/v2/pushes", json={"push": {"payload": f"s{i}"}}).status_code for i in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    refused = api.post("/api/v2/pushes", json={"push": {"payload": "again"}})
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many requests" in refused.json()["error"]

    # Another client is not affected.
    other = asgi_client(runtime, peer="198.51.100.2")
    assert other.post("/api/v2/pushes", json={"push": {"payload": "other"}}).status_code == 201


def test_reveals_over_the_limit_get_429_and_consume_no_view(make_runtime):
    runtime = make_runtime(PWP__THROTTLING__MINUTE="2")
    creator = asgi_client(runtime, peer="198.51.100.10")
    token = creator.post("/api/v2/pushes", json={"push": {"payload": "p", "expire_after_views": 10}}).json()["url_token"]
    guesser = asgi_client(runtime, peer="198.51.100.11")
    statuses = [guesser.get(f"/api/v2/pushes/{token}").status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]
    views_left = creator.get(f"/api/v2/pushes/{token}").json()["views_remaining"]
    assert views_left == 7  # two views by the guesser, one now: the refused ones took nothing


def test_a_forged_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_limit(make_runtime):
    runtime = make_runtime(PWP__THROTTLING__MINUTE="2")
    api = asgi_client(runtime, peer="198.51.100.20")
    statuses = [
        api.post("/api/v2/pushes", json={"push": {"payload": "x"}}, headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 429]
