"""A request that breaks a rule is refused with the field named, and nothing is written."""

from __future__ import annotations

import pytest

from pwpush_app.core.create import NewPush, create_push, validate_new_push
from pwpush_app.core.errors import InvalidPush

from .common import SENDER, T0, count_rows

MIB = 1024 * 1024


@pytest.mark.parametrize(
    "request_fields, field",
    [
        ({"expire_after_views": 0}, "expire_after_views"),
        ({"expire_after_views": 101}, "expire_after_views"),
        ({"expire_after_views": -1}, "expire_after_views"),
        ({"expire_after_views": True}, "expire_after_views"),
        ({"expire_after_views": "5"}, "expire_after_views"),
        ({"expire_after_views": 2.0}, "expire_after_views"),
        ({"expire_after_minutes": 4}, "expire_after"),
        ({"expire_after_minutes": 90 * 24 * 60 + 1}, "expire_after"),
        ({"expire_after_minutes": False}, "expire_after"),
        ({"expire_after_minutes": "60"}, "expire_after"),
        ({"retrieval_step": "yes"}, "retrieval_step"),
        ({"retrieval_step": 1}, "retrieval_step"),
        ({"deletable_by_viewer": "false"}, "deletable_by_viewer"),
        ({"payload": ""}, "payload"),
        ({"payload": "   \n\t "}, "payload"),
        ({"payload": None}, "payload"),
        ({"payload": b"bytes"}, "payload"),
        ({"payload": "x" * (MIB + 1)}, "payload"),
        # 2-byte characters: fewer than 1 MiB characters but more than 1 MiB of UTF-8.
        ({"payload": "é" * (MIB // 2 + 1)}, "payload"),
        ({"payload": "lone \ud800 surrogate"}, "payload"),
        ({"payload": "nul \x00 inside"}, "payload"),
        ({"note": "bad \udfff note"}, "note"),
        ({"note": "n" * 10_001}, "note"),
        ({"name": "n" * 256}, "name"),
        ({"name": None}, "name"),
        # A name is one line (it ends up in a mail's Subject): no line breaks, tabs or controls.
        ({"name": "evil\nname"}, "name"),
        ({"name": "evil\r\nBcc: x@example.com"}, "name"),
        ({"name": "tab\there"}, "name"),
        ({"name": "del\x7f"}, "name"),
        ({"name": "line\u2028separator"}, "name"),
        ({"name": "paragraph\u2029separator"}, "name"),
        ({"passphrase": "p" * 257}, "passphrase"),
        ({"passphrase": "nul\x00"}, "passphrase"),
        ({"kind": "email"}, "kind"),
        ({"kind": "url", "payload": "javascript:alert(1)"}, "payload"),
        ({"kind": "url", "payload": "JavaScript://example.com/%0aalert(1)"}, "payload"),
        ({"kind": "url", "payload": "data:text/html,<script>alert(1)</script>"}, "payload"),
        ({"kind": "url", "payload": "https://"}, "payload"),
        ({"kind": "url", "payload": "https://exa mple.com/"}, "payload"),
        ({"kind": "url", "payload": "example.com"}, "payload"),
        ({"kind": "qr", "payload": "q" * 1025}, "payload"),
    ],
    ids=lambda value: repr(value)[:60] if isinstance(value, dict) else value,
)
# Validation runs before any database access: one engine is enough for the many cases.
@pytest.mark.sqlite_only
def test_a_bad_request_names_the_field_and_writes_nothing(runtime, request_fields, field):
    request = NewPush(**{"payload": "fine", **request_fields})
    before = count_rows(runtime)

    with pytest.raises(InvalidPush) as refused:
        create_push(runtime, request, SENDER, now=T0)

    assert field in refused.value.errors
    assert refused.value.errors[field]  # a message a person can act on
    assert field in str(refused.value)
    assert count_rows(runtime) == before


def test_a_name_with_a_line_break_says_what_to_change(runtime):
    with pytest.raises(InvalidPush) as refused:
        create_push(runtime, NewPush(payload="fine", name="two\nlines"), SENDER, now=T0)
    assert "remove line breaks" in refused.value.errors["name"]


def test_the_note_keeps_its_line_breaks_and_a_name_its_other_characters(runtime):
    created = create_push(runtime, NewPush(payload="fine", note="line one\nline two\ttabbed",
                                           name="Wi-Fi « Büro » 🔑 — 東京"), SENDER, now=T0)
    assert created.push.name == "Wi-Fi « Büro » 🔑 — 東京"


def test_every_broken_field_is_reported_at_once(runtime):
    with pytest.raises(InvalidPush) as refused:
        create_push(runtime, NewPush(payload="", expire_after_views=0, expire_after_minutes=1), SENDER, now=T0)

    assert set(refused.value.errors) == {"payload", "expire_after_views", "expire_after"}
    assert refused.value.errors["expire_after_views"] == "Views must be a whole number from 1 to 100."
    assert refused.value.errors["expire_after"] == "The lifetime must be from 5 minutes to 90 days."


def test_a_disabled_kind_is_refused_and_writes_nothing(make_runtime):
    runtime = make_runtime(PWP__ENABLE_QR_PUSHES="false")
    before = count_rows(runtime)

    with pytest.raises(InvalidPush) as refused:
        create_push(runtime, NewPush(payload="wifi", kind="qr"), SENDER, now=T0)

    assert refused.value.errors == {"kind": "qr pushes are turned off on this server."}
    assert count_rows(runtime) == before


@pytest.mark.parametrize(
    "request_fields",
    [
        {"payload": "x" * MIB},
        {"payload": "€" * (MIB // 3)},
        {"kind": "qr", "payload": "q" * 1024},
        {"kind": "url", "payload": "https://example.com/path?q=1#frag"},
        {"expire_after_views": 1, "expire_after_minutes": 5},
        {"expire_after_views": 100, "expire_after_minutes": 90 * 24 * 60},
        {"payload": "emoji 🔑 and ünïcode", "note": "ok", "name": "label", "passphrase": "p" * 256},
    ],
    ids=["1MiB", "1MiB-3byte", "qr-1024", "url", "min-limits", "max-limits", "unicode"],
)
def test_values_at_the_limits_are_accepted(runtime, request_fields):
    request = NewPush(**{"payload": "fine", **request_fields})

    validate_new_push(runtime, request)
    created = create_push(runtime, request, SENDER, now=T0)

    assert count_rows(runtime)["push"] == 1
    assert created.push.views_remaining == (request.expire_after_views or 5)


def test_limits_follow_the_settings(make_runtime):
    runtime = make_runtime(PWP__PW__EXPIRE_AFTER_VIEWS_MAX="3", PWP__PW__EXPIRE_AFTER_VIEWS_DEFAULT="2",
                       PWP__PW__EXPIRE_AFTER_MINUTES_MIN="60")

    with pytest.raises(InvalidPush) as refused:
        create_push(runtime, NewPush(payload="x", expire_after_views=4, expire_after_minutes=59), SENDER, now=T0)

    assert refused.value.errors == {
        "expire_after_views": "Views must be a whole number from 1 to 3.",
        "expire_after": "The lifetime must be from 1 hour to 90 days.",
    }
