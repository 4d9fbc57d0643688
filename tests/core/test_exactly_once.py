"""Views are counted exactly: many recipients at the same instant, N views, N secrets served."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from pwpush_app.core.audit import Client
from pwpush_app.core.pushes import PushUnavailable, reveal_push

from .conftest import T0, audit_kinds, push_row

RECIPIENTS = 100


def reveal_all_at_once(vault, token: str) -> Counter:
    """Start RECIPIENTS threads together; count what each one got."""
    start = threading.Barrier(RECIPIENTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def recipient(n: int):
        client = Client(ip=f"10.0.{n // 250}.{n % 250}", user_agent=f"recipient {n}")
        start.wait()
        try:
            outcome = "payload:" + reveal_push(vault, token, client, now=T0).payload
        except PushUnavailable:
            outcome = "unavailable"
        except BaseException as error:  # noqa: BLE001 - any other outcome fails the test
            outcome = f"error:{type(error).__name__}: {error}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=recipient, args=(n,)) for n in range(RECIPIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    return Counter(outcomes)


@pytest.mark.parametrize("views", [1, 5])
def test_concurrent_reveals_serve_exactly_as_many_secrets_as_views(vault, make_push, views):
    created = make_push("only for the first few", expire_after_views=views)

    outcomes = reveal_all_at_once(vault, created.url_token)

    assert outcomes == {"payload:only for the first few": views, "unavailable": RECIPIENTS - views}
    assert audit_kinds(vault, created.push.id).count("view") == views
    assert audit_kinds(vault, created.push.id).count("expire_auto") == 1
    row = push_row(vault, created.push.id)
    assert row["views_remaining"] == 0
    assert row["expired"] and row["expired_reason"] == "views"
    assert row["payload_sealed"] is None and row["wrapped_key"] is None
