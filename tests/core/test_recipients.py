"""One secret for several recipients (issue 21, core/recipients.py): a push per recipient,
each on its own (views, expiry, audit trail, revoking), all made or none; and the instance
policies the create rule enforces (PWPUSH_REQUIRE_PASSPHRASE).  SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.errors import InvalidPush, PushUnavailable, WrongPassphrase
from pwpush_app.core.owners import PushEdit, edit_push, expire_by_owner, manage_view
from pwpush_app.core.recipients import create_group, describe_member, group_facts, group_of, groups_of
from pwpush_app.core.records import find_push
from pwpush_app.core.reveal import expire_by_viewer, reveal_push

from .common import ALICE, MALLORY, SENDER, T0, audit_kinds, count_rows, push_row
from .files_support import signed_in_sender

PAYLOAD = "Group-payload-canary-5e1a"
PASSPHRASE = "Group-passphrase-canary"


def _group(runtime, recipients, client=SENDER, **fields):
    return create_group(runtime, NewPush(payload=PAYLOAD, recipients=recipients, **fields), client, now=T0)


def test_each_recipient_gets_a_push_of_their_own_holding_the_same_secret(runtime):
    group = _group(runtime, ["Alice", "Bob", "the auditor"], expire_after_views=2, name="db password")

    assert [one.push.recipient for one in group.pushes] == ["Alice", "Bob", "the auditor"]
    tokens = {one.url_token for one in group.pushes} | {one.manage_token for one in group.pushes}
    assert len(tokens) == 6  # own links, own manage links
    for one in group.pushes:
        row = push_row(runtime, one.push.id)
        assert (row["group_id"], row["recipient"], row["views_remaining"]) == (group.group_id, one.push.recipient, 2)
        assert PAYLOAD.encode() not in bytes(row["payload_sealed"])  # sealed under its own key
        assert audit_kinds(runtime, one.push.id) == ["creation"]  # its own trail
    assert len({bytes(push_row(runtime, one.push.id)["wrapped_key"]) for one in group.pushes}) == 3
    assert [reveal_push(runtime, one.url_token, ALICE, now=T0).payload for one in group.pushes] == [PAYLOAD] * 3


def test_viewing_or_revoking_one_leaves_the_others_untouched(runtime):
    group = _group(runtime, "Alice, Bob\nCarol", expire_after_views=1, deletable_by_viewer=True)
    alice, bob, carol = group.pushes

    assert reveal_push(runtime, alice.url_token, ALICE, now=T0).payload == PAYLOAD  # its only view
    expire_by_owner(runtime, find_push(runtime, bob.url_token), SENDER, now=T0)
    with pytest.raises(PushUnavailable):
        reveal_push(runtime, alice.url_token, MALLORY, now=T0)
    with pytest.raises(PushUnavailable):
        reveal_push(runtime, bob.url_token, ALICE, now=T0)

    untouched = push_row(runtime, carol.push.id)
    assert (untouched["expired"], untouched["views_remaining"]) == (False, 1)
    assert audit_kinds(runtime, carol.push.id) == ["creation"]
    assert push_row(runtime, alice.push.id)["expired_reason"] == "views"
    assert push_row(runtime, bob.push.id)["expired_reason"] == "owner"
    # The owner's look at the group: who viewed, who was revoked, who has not yet.
    members = {m.recipient: describe_member(m, T0) for m in group_of(runtime, find_push(runtime, carol.url_token))}
    assert members["Alice"].startswith("viewed 1 of 1 time") and "all views used" in members["Alice"]
    assert members["Bob"] == "not viewed yet; expired (revoked)"
    assert members["Carol"] == "not viewed yet; live"
    assert group_facts(group_of(runtime, alice.push), T0) == {
        "size": "3", "viewed": "Alice", "waiting": "Carol", "closed": "Bob"}
    # A recipient's own delete reaches only their push as well.
    expire_by_viewer(runtime, carol.url_token, ALICE, now=T0)
    assert push_row(runtime, carol.push.id)["expired_reason"] == "viewer"


def test_a_manage_link_reaches_only_its_own_push(runtime):
    group = _group(runtime, ["Alice", "Bob"])
    managed = manage_view(runtime, group.pushes[0].manage_token, SENDER, now=T0)
    assert managed.push.id == group.pushes[0].push.id and managed.push.recipient == "Alice"
    assert groups_of(runtime, [managed.push])[group.group_id][1].recipient == "Bob"


def test_one_passphrase_for_all_each_push_counts_its_own_guesses(runtime):
    group = _group(runtime, ["Alice", "Bob"], passphrase=PASSPHRASE, burn_after_failed_passphrases=1)
    alice, bob = group.pushes
    assert push_row(runtime, alice.push.id)["passphrase_hash"] and PASSPHRASE not in str(push_row(runtime, alice.push.id))
    with pytest.raises(WrongPassphrase):
        reveal_push(runtime, alice.url_token, MALLORY, passphrase="wrong", now=T0)
    assert push_row(runtime, alice.push.id)["expired_reason"] == "guesses"  # burned
    assert reveal_push(runtime, bob.url_token, ALICE, passphrase=PASSPHRASE, now=T0).payload == PAYLOAD


@pytest.mark.parametrize("recipients, field, words", [
    (["Alice"], "recipients", "from 2 to 20"),
    ([f"r{n}" for n in range(21)], "recipients", "from 2 to 20"),
    ("Alice, alice", "recipients", "named twice"),
    (["Alice", "x" * 255], "recipients", "too long"),
    (["Alice", "bob@"], "recipients", "Not an email address"),
    (["Alice", "tab\there"], "recipients", "characters a label can't"),
    (["Alice", 7], "recipients", "list of texts"),
    (["Alice", "bob@example.com"], "recipients", "does not send links by email"),
])
def test_a_bad_list_is_refused_whole_and_nothing_is_stored(runtime, recipients, field, words):
    before = count_rows(runtime)
    with pytest.raises(InvalidPush) as refused:
        _group(runtime, recipients)
    assert words in refused.value.errors[field]
    assert count_rows(runtime) == before


def test_the_push_fields_are_checked_as_for_one_push_all_at_once(runtime):
    with pytest.raises(InvalidPush) as refused:
        create_group(runtime, NewPush(payload="", recipients=["A", "B"], expire_after_views=0,
                                      notify_emails_to="x@example.com"), SENDER, now=T0)
    assert set(refused.value.errors) == {"payload", "expire_after_views", "notify_emails_to"}
    assert count_rows(runtime)["push"] == 0


def test_a_file_push_takes_no_recipients(runtime):
    with pytest.raises(InvalidPush) as refused:
        _group(runtime, ["A", "B"], kind="file")
    assert "file push" in refused.value.errors["recipients"]
    # Nor does one push through the single create.
    with pytest.raises(InvalidPush) as refused:
        create_push(runtime, NewPush(payload="x", recipients=["A", "B"]), SENDER, now=T0)
    assert "recipients" in refused.value.errors


def test_the_owners_lists_show_the_group(runtime):
    sender = signed_in_sender(runtime)
    group = _group(runtime, ["Zoe", "adam"], client=sender)
    assert [m.recipient for m in group_of(runtime, group.pushes[0].push)] == ["adam", "Zoe"]
    assert group_of(runtime, create_push(runtime, NewPush(payload="alone"), SENDER, now=T0).push) == []


# --- PWPUSH_REQUIRE_PASSPHRASE ------------------------------------------------------------------

def test_required_passphrase_refuses_a_push_without_one_and_an_edit_removing_it(make_runtime):
    runtime = make_runtime(PWPUSH_REQUIRE_PASSPHRASE="true")
    for passphrase in ("", "   "):
        with pytest.raises(InvalidPush) as refused:
            create_push(runtime, NewPush(payload="x", passphrase=passphrase), SENDER, now=T0)
        assert "requires a passphrase" in refused.value.errors["passphrase"]
    with pytest.raises(InvalidPush) as refused:
        create_group(runtime, NewPush(payload="x", recipients=["A", "B"]), SENDER, now=T0)
    assert "requires a passphrase" in refused.value.errors["passphrase"]
    with runtime.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM push")).scalar_one() == 0

    created = create_push(runtime, NewPush(payload="x", passphrase="p"), SENDER)
    with pytest.raises(InvalidPush) as refused:
        edit_push(runtime, created.push, PushEdit(passphrase=""), SENDER)
    assert "can be changed, not removed" in refused.value.errors["passphrase"]
    assert edit_push(runtime, created.push, PushEdit(passphrase="new one"), SENDER).has_passphrase
