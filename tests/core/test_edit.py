"""Editing a live push (core/owners.edit_push): what Password Pusher lets an owner change,
within the kind's policy, never handing a used view back, never reviving an expired push."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pwpush_app.core.errors import InvalidPush, NoLongerEditable, PassphraseRequired, WrongPassphrase
from pwpush_app.core.owners import PushEdit, edit_managed, edit_push, expire_by_owner
from pwpush_app.core.records import find_push, open_note
from pwpush_app.core.reveal import reveal_push

from .common import ALICE, SENDER, T0, audit_kinds, audit_rows, push_row, run_at_once


def test_the_owner_changes_name_note_options_views_and_lifetime(runtime, make_push):
    created = make_push(name="old", note="old note", expire_after_views=3, expire_after_minutes=60,
                        retrieval_step=True, deletable_by_viewer=True)
    reveal_push(runtime, created.url_token, ALICE, now=T0 + timedelta(minutes=1))
    push = edit_push(runtime, created.push, PushEdit(name="  new  ", note="new note", expire_after_views=10,
                                                    expire_after_minutes=7 * 1440, retrieval_step=False,
                                                    deletable_by_viewer=False),
                     SENDER, now=T0 + timedelta(minutes=2))
    assert (push.name, push.expire_after_views, push.views_remaining, push.views_used) == ("new", 10, 9, 1)
    assert push.expires_at == T0 + timedelta(days=7) and push.expire_after_minutes == 7 * 1440
    assert (push.retrieval_step, push.deletable_by_viewer) == (False, False)
    assert open_note(runtime, push) == "new note"
    assert audit_kinds(runtime, push.id)[-1] == "edit"
    assert audit_rows(runtime, push.id)[-1]["ip"] == SENDER.ip
    # The secret and the link are untouched.
    assert reveal_push(runtime, created.url_token, ALICE, now=T0 + timedelta(minutes=3)).payload == "s3cret-payload"


def test_nothing_asked_changes_nothing_but_is_logged(runtime, make_push):
    created = make_push(name="keep", note="keep note", passphrase="open sesame")
    before = push_row(runtime, created.push.id)
    edit_push(runtime, created.push, PushEdit(), SENDER, now=T0)
    after = push_row(runtime, created.push.id)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {k: v for k, v in before.items() if k != "updated_at"}
    assert audit_kinds(runtime, created.push.id) == ["creation", "edit"]


def test_a_new_secret_replaces_the_old_one_behind_the_same_link_sealed(runtime, make_push):
    created = make_push()
    edit_push(runtime, created.push, PushEdit(payload="brand new secret"), SENDER, now=T0)
    row = push_row(runtime, created.push.id)
    assert b"brand new secret" not in bytes(row["payload_sealed"])
    assert reveal_push(runtime, created.url_token, ALICE, now=T0).payload == "brand new secret"


def test_a_passphrase_change_hashes_anew_and_removing_it_opens_the_push(runtime, make_push):
    created = make_push(passphrase="first one")
    old_hash = push_row(runtime, created.push.id)["passphrase_hash"]
    edit_push(runtime, created.push, PushEdit(passphrase="second one"), SENDER, now=T0)
    row = push_row(runtime, created.push.id)
    assert row["passphrase_hash"] != old_hash and "second one" not in row["passphrase_hash"]
    assert row["passphrase_hash"].startswith("$argon2id$")
    with pytest.raises(WrongPassphrase):
        reveal_push(runtime, created.url_token, ALICE, passphrase="first one", now=T0)
    assert reveal_push(runtime, created.url_token, ALICE, passphrase="second one", now=T0).payload == "s3cret-payload"
    edit_push(runtime, find_push(runtime, created.url_token), PushEdit(passphrase=""), SENDER, now=T0)
    row = push_row(runtime, created.push.id)
    assert (row["passphrase_hash"], row["has_passphrase"]) == (None, False)
    assert reveal_push(runtime, created.url_token, ALICE, now=T0).payload == "s3cret-payload"


def test_adding_a_passphrase_protects_a_push_that_had_none(runtime, make_push):
    created = make_push()
    edit_push(runtime, created.push, PushEdit(passphrase="now protected"), SENDER, now=T0)
    with pytest.raises(PassphraseRequired):
        reveal_push(runtime, created.url_token, ALICE, now=T0)


def test_a_new_passphrase_is_kept_as_a_new_push_keeps_it_without_the_spaces_around_it(runtime, make_push):
    """As at creation (normalize_passphrase): the spaces a paste brings along don't count, and
    one made of spaces only is none (it was kept and hashed: nobody could ever type it again,
    since every attempt is trimmed, and the push could never be opened)."""
    created = make_push()
    edit_push(runtime, created.push, PushEdit(passphrase="  pasted with spaces \n"), SENDER, now=T0)
    assert reveal_push(runtime, created.url_token, ALICE, passphrase="pasted with spaces", now=T0).payload == "s3cret-payload"
    other = make_push(passphrase="first one")
    edit_push(runtime, other.push, PushEdit(passphrase="   "), SENDER, now=T0)
    row = push_row(runtime, other.push.id)
    assert (row["passphrase_hash"], row["has_passphrase"]) == (None, False)
    assert reveal_push(runtime, other.url_token, ALICE, now=T0).payload == "s3cret-payload"


@pytest.mark.parametrize("edit, field", [
    (PushEdit(expire_after_views=0), "expire_after_views"),
    (PushEdit(expire_after_views=101), "expire_after_views"),
    (PushEdit(expire_after_views="7"), "expire_after_views"),
    (PushEdit(expire_after_minutes=4), "expire_after"),
    (PushEdit(expire_after_minutes=91 * 1440), "expire_after"),
    (PushEdit(payload="x" * (1024 * 1024 + 1)), "payload"),
    (PushEdit(payload="   "), "payload"),
    (PushEdit(name="n" * 256), "name"),
    (PushEdit(name="evil\r\nname"), "name"),
    (PushEdit(name="tab\there"), "name"),
    (PushEdit(note="n" * 10_001), "note"),
    (PushEdit(passphrase="p" * 257), "passphrase"),
    (PushEdit(retrieval_step="yes"), "retrieval_step"),
])
def test_limits_are_the_kinds_policy_and_a_refusal_changes_nothing(runtime, make_push, edit, field):
    created = make_push(name="same")
    before = push_row(runtime, created.push.id)
    with pytest.raises(InvalidPush) as refused:
        edit_push(runtime, created.push, edit, SENDER, now=T0)
    assert list(refused.value.errors) == [field]
    assert push_row(runtime, created.push.id) == before
    assert audit_kinds(runtime, created.push.id) == ["creation"]


def test_views_already_used_and_time_already_passed_are_floors(runtime, make_push):
    created = make_push(expire_after_views=5, expire_after_minutes=3 * 1440)
    for minute in (1, 2):
        reveal_push(runtime, created.url_token, ALICE, now=T0 + timedelta(minutes=minute))
    later = T0 + timedelta(days=2)
    with pytest.raises(InvalidPush) as refused:
        edit_push(runtime, created.push, PushEdit(expire_after_views=2, expire_after_minutes=1440), SENDER, now=later)
    assert refused.value.errors["expire_after_views"] == "Views must be a whole number from 3 to 100: 2 already used."
    assert "the push is 2 days old" in refused.value.errors["expire_after"]
    push = edit_push(runtime, created.push, PushEdit(expire_after_views=3), SENDER, now=later)
    assert (push.views_remaining, push.views_left) == (1, 1)


def test_switches_the_kind_does_not_offer_stay_off(make_runtime):
    from pwpush_app.core.create import NewPush, create_push

    runtime = make_runtime(PWP__PW__ENABLE_RETRIEVAL_STEP="false", PWP__PW__ENABLE_DELETABLE_PUSHES="false")
    created = create_push(runtime, NewPush(payload="x"), SENDER, now=T0)
    push = edit_push(runtime, created.push, PushEdit(retrieval_step=True, deletable_by_viewer=True), SENDER, now=T0)
    assert (push.retrieval_step, push.deletable_by_viewer) == (False, False)
    url = create_push(runtime, NewPush(payload="https://example.com/", kind="url"), SENDER, now=T0)
    assert edit_push(runtime, url.push, PushEdit(deletable_by_viewer=True), SENDER, now=T0).deletable_by_viewer is False


def test_a_url_push_takes_only_a_web_address(runtime):
    from pwpush_app.core.create import NewPush, create_push

    created = create_push(runtime, NewPush(payload="https://example.com/", kind="url"), SENDER, now=T0)
    with pytest.raises(InvalidPush) as refused:
        edit_push(runtime, created.push, PushEdit(payload="javascript:alert(1)"), SENDER, now=T0)
    assert "payload" in refused.value.errors


def test_an_expired_push_cannot_be_edited_nor_revived(runtime, make_push):
    created = make_push(expire_after_views=1)
    reveal_push(runtime, created.url_token, ALICE, now=T0)
    for edit in (PushEdit(expire_after_views=5), PushEdit(name="x"), PushEdit(payload="again")):
        with pytest.raises(NoLongerEditable, match="already expired and cannot be edited"):
            edit_push(runtime, created.push, edit, SENDER, now=T0)
    row = push_row(runtime, created.push.id)
    assert row["expired"] and row["payload_sealed"] is None and row["name"] == ""
    # Time ran out: the edit expires it (logged) instead of extending it.
    timed = make_push(expire_after_minutes=5)
    with pytest.raises(NoLongerEditable):
        edit_push(runtime, timed.push, PushEdit(expire_after_minutes=60), SENDER, now=T0 + timedelta(minutes=6))
    assert audit_kinds(runtime, timed.push.id)[-1] == "expire_auto"
    deleted = make_push()
    expire_by_owner(runtime, deleted.push, SENDER, now=T0)
    with pytest.raises(NoLongerEditable):
        edit_push(runtime, deleted.push, PushEdit(expire_after_views=9), SENDER, now=T0)


def test_the_manage_token_finds_the_push_to_edit(runtime, make_push):
    from pwpush_app.core.errors import PushUnavailable

    created = make_push()
    assert edit_managed(runtime, created.manage_token, PushEdit(name="via manage link"), SENDER, now=T0).name == \
        "via manage link"
    # The secret link is no manage token.
    with pytest.raises(PushUnavailable):
        edit_managed(runtime, created.url_token, PushEdit(name="x"), SENDER, now=T0)


def test_a_view_taken_during_an_edit_is_never_handed_back(runtime, make_push):
    """Lowering the allowance to what is left while the last views are taken: each view is
    served at most once, and the push never shows more views than its allowance."""
    for _ in range(5):
        created = make_push(expire_after_views=3)
        served = []

        def act(who):
            try:
                if who == "edit":
                    edit_push(runtime, find_push(runtime, created.url_token), PushEdit(expire_after_views=2), SENDER,
                              now=T0)
                else:
                    served.append(reveal_push(runtime, created.url_token, ALICE, now=T0).payload)
            except Exception:
                pass

        run_at_once(act, ["edit", "view", "view", "view"])
        row = push_row(runtime, created.push.id)
        assert len(served) <= 3 and row["views_remaining"] >= 0
        assert row["expire_after_views"] - row["views_remaining"] == len(served)
        assert row["expired"] == (row["views_remaining"] == 0)
