"""Owner views (issue 24, item 10): the manage page logs a look at a push once per half hour
from the same browser, not each reload or reconnect; the API's audit calls read the trail
without logging a look (issue 16: as Password Pusher)."""

from __future__ import annotations

from datetime import timedelta

from pwpush_app.core.audit import Client
from pwpush_app.core.owners import audit_trail, manage_view

from .common import T0, audit_kinds

OWNER = Client(ip="198.51.100.20", user_agent="Mozilla/5.0 (owner's laptop)")


def test_the_manage_page_logs_one_look_per_browser_per_half_hour(runtime, make_push):
    created = make_push("watched")

    def looks():
        return audit_kinds(runtime, created.push.id).count("owner_view")

    for minute in (0, 1, 5, 29):  # reloads, reconnects, a second look soon after
        manage_view(runtime, created.manage_token, OWNER, now=T0 + timedelta(minutes=minute))
    assert looks() == 1
    manage_view(runtime, created.manage_token, Client(ip=OWNER.ip, user_agent="Mozilla/5.0 (owner's phone)"),
                now=T0 + timedelta(minutes=2))
    manage_view(runtime, created.manage_token, Client(ip="203.0.113.99", user_agent=OWNER.user_agent),
                now=T0 + timedelta(minutes=3))
    assert looks() == 3  # other browsers are other looks
    manage_view(runtime, created.manage_token, OWNER, now=T0 + timedelta(minutes=31))
    assert looks() == 4  # a later look is logged again


def test_reading_the_trail_as_the_api_does_logs_no_look(runtime, make_push):
    created = make_push("audited by script")
    for _ in range(3):
        audit_trail(runtime, created.push)
    assert audit_kinds(runtime, created.push.id).count("owner_view") == 0
