"""Views and time limits, whichever comes first, and the retrieval step (SPEC section 2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pwpush_app.core.create import NewPush, create_push, describe_minutes
from pwpush_app.core.errors import PushUnavailable
from pwpush_app.core.reveal import landing, reveal_push

from .common import ALICE, T0, audit_kinds, push_row


def test_each_reveal_takes_one_view_and_the_push_is_gone_after_the_last(runtime, make_push):
    created = make_push("three views only", expire_after_views=3)

    seen = [reveal_push(runtime, created.url_token, ALICE, now=T0) for _ in range(3)]

    assert [r.payload for r in seen] == ["three views only"] * 3
    assert [r.views_remaining for r in seen] == [2, 1, 0]
    assert {r.expires_at for r in seen} == {T0 + timedelta(days=7)}
    with pytest.raises(PushUnavailable):
        reveal_push(runtime, created.url_token, ALICE, now=T0)
    row = push_row(runtime, created.push.id)
    assert row["expired"] and row["expired_reason"] == "views"
    assert audit_kinds(runtime, created.push.id) == ["creation", "view", "view", "view", "expire_auto", "failed_view"]


def test_a_five_minute_push_opens_at_4_59_and_not_at_5_00(runtime, make_push):
    created = make_push("short lived", expire_after_minutes=5, expire_after_views=10)

    assert landing(runtime, created.url_token, now=T0 + timedelta(minutes=4, seconds=59)).kind == "text"
    revealed = reveal_push(runtime, created.url_token, ALICE, now=T0 + timedelta(minutes=4, seconds=59))
    assert revealed.payload == "short lived"

    with pytest.raises(PushUnavailable):
        landing(runtime, created.url_token, now=T0 + timedelta(minutes=5))
    with pytest.raises(PushUnavailable):
        reveal_push(runtime, created.url_token, ALICE, now=T0 + timedelta(minutes=5))
    assert push_row(runtime, created.push.id)["expired_reason"] == "time"


def test_views_running_out_first_expires_the_push_before_its_time(runtime, make_push):
    created = make_push(expire_after_views=1, expire_after_minutes=60 * 24)

    reveal_push(runtime, created.url_token, ALICE, now=T0 + timedelta(minutes=1))

    with pytest.raises(PushUnavailable):
        reveal_push(runtime, created.url_token, ALICE, now=T0 + timedelta(minutes=2))
    assert push_row(runtime, created.push.id)["expired_reason"] == "views"


def test_time_running_out_first_expires_the_push_with_views_left(runtime, make_push):
    created = make_push(expire_after_views=100, expire_after_minutes=60)
    reveal_push(runtime, created.url_token, ALICE, now=T0 + timedelta(minutes=59))

    with pytest.raises(PushUnavailable):
        reveal_push(runtime, created.url_token, ALICE, now=T0 + timedelta(minutes=60))
    row = push_row(runtime, created.push.id)
    assert row["expired_reason"] == "time"
    assert row["views_remaining"] == 99


def test_unset_fields_take_the_kind_defaults_from_the_settings(make_runtime):
    runtime = make_runtime(PWP__PW__EXPIRE_AFTER_VIEWS_DEFAULT="3", PWP__PW__EXPIRE_AFTER_DAYS_DEFAULT="2",
                       PWP__PW__RETRIEVAL_STEP_DEFAULT="false", PWP__PW__DELETABLE_PUSHES_DEFAULT="false")
    push = create_push(runtime, NewPush(payload="defaults"), ALICE, now=T0).push

    row = push_row(runtime, push.id)
    assert (row["expire_after_views"], row["views_remaining"], row["expire_after_minutes"]) == (3, 3, 2 * 24 * 60)
    assert not row["retrieval_step"] and not row["deletable_by_viewer"]


@pytest.mark.parametrize("retrieval_step", [True, False])
def test_the_retrieval_step_choice_is_stored_and_shown_on_the_landing(runtime, make_push, retrieval_step):
    created = make_push(retrieval_step=retrieval_step)

    assert bool(push_row(runtime, created.push.id)["retrieval_step"]) is retrieval_step
    assert landing(runtime, created.url_token, now=T0).retrieval_step is retrieval_step


def test_the_landing_page_consumes_no_view_and_logs_nothing(runtime, make_push):
    created = make_push(expire_after_views=1, passphrase="open sesame")

    for _ in range(5):
        seen = landing(runtime, created.url_token, now=T0)
    assert seen.needs_passphrase and seen.kind == "text"

    assert push_row(runtime, created.push.id)["views_remaining"] == 1
    assert audit_kinds(runtime, created.push.id) == ["creation"]
    assert reveal_push(runtime, created.url_token, ALICE, passphrase="open sesame", now=T0).payload == "s3cret-payload"


@pytest.mark.parametrize(
    "minutes, words",
    [(1, "1 minute"), (5, "5 minutes"), (90, "90 minutes"), (60, "1 hour"), (180, "3 hours"),
     (1440, "1 day"), (90 * 1440, "90 days")],
)
def test_durations_are_described_in_the_largest_whole_unit(minutes, words):
    assert describe_minutes(minutes) == words
