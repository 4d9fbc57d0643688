"""Issue 21's sender policies in the core, on SQLite and PostgreSQL: the address allow-list,
burn after N wrong passphrases, and the "opened before" notice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.errors import (
    DownloadUnavailable,
    InvalidPush,
    PushError,
    PushLocked,
    PushUnavailable,
    TooManyAttempts,
    WrongPassphrase,
)
from pwpush_app.core.file_downloads import open_file_download
from pwpush_app.core.file_zip import open_zip_download
from pwpush_app.core.push_policies import AddressRefused, OpenedBefore
from pwpush_app.core.reveal import expire_by_viewer, find_for_viewer, landing, reveal_push

from .common import ALICE, MALLORY, SENDER, T0, audit_kinds, audit_rows, push_row, run_at_once, set_column
from .files_support import push_files, signed_in_sender

PASSPHRASE = "correct horse battery staple"
OFFICE = Client(ip="203.0.113.45", user_agent="Mozilla/5.0 (office)")
OFFICE_V6 = Client(ip="2001:db8:aa::1", user_agent="Mozilla/5.0 (office v6)")
MAPPED = Client(ip="::ffff:203.0.113.99", user_agent="dual stack")
NOWHERE = Client(ip="", user_agent="unknown address")
ALLOW = "203.0.113.0/24 2001:db8::/32 198.51.100.7"


# --- the allow-list: what a sender may ask -----------------------------------------------------

def test_the_list_is_stored_canonical_from_text_or_a_list(runtime, make_push):
    as_text = make_push(allowed_ips=" 203.0.113.0/24, 2001:DB8::/32\n198.51.100.7/32 203.0.113.0/24")
    assert push_row(runtime, as_text.push.id)["allowed_ips"] == ALLOW
    as_list = make_push(allowed_ips=["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"])
    assert push_row(runtime, as_list.push.id)["allowed_ips"] == ALLOW
    assert push_row(runtime, make_push(allowed_ips="").push.id)["allowed_ips"] is None
    assert push_row(runtime, make_push(allowed_ips=[]).push.id)["allowed_ips"] is None


@pytest.mark.parametrize("value, words", [
    ("203.0.113.5/24", "write 203.0.113.0/24 for the network"),
    ("not-an-address", "is not an IPv4 or IPv6 address or network"),
    ("203.0.113.0/33", "is not an IPv4 or IPv6 address or network"),
    (" ".join(f"192.0.2.{n}" for n in range(21)), "At most 20 addresses or networks (21 given)"),
    (["203.0.113.0/24", 7], "must be text or a list of texts"),
    ({"ip": "203.0.113.1"}, "must be text or a list of texts"),
])
def test_a_bad_list_is_refused_with_what_to_write_and_nothing_is_stored(runtime, value, words):
    with pytest.raises(InvalidPush) as refused:
        create_push(runtime, NewPush(payload="x", allowed_ips=value), SENDER, now=T0)
    assert words in refused.value.errors["allowed_ips"]
    with runtime.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM push").scalar_one() == 0


# --- the allow-list: the gate ------------------------------------------------------------------

@pytest.mark.parametrize("client", [OFFICE, OFFICE_V6, MAPPED, Client(ip="198.51.100.7")])
def test_an_allowed_address_reveals(runtime, make_push, client):
    created = make_push("inside", allowed_ips=ALLOW, expire_after_views=2)
    assert landing(runtime, created.url_token, client, now=T0).kind == "text"
    assert reveal_push(runtime, created.url_token, client, now=T0).payload == "inside"


@pytest.mark.parametrize("client", [MALLORY, Client(ip="192.0.2.200"), Client(ip="2001:db9::1"), NOWHERE, Client(ip="testclient")])
def test_any_other_address_is_told_unknown_link_and_the_owner_sees_it(runtime, make_push, client):
    created = make_push("inside", allowed_ips=ALLOW, expire_after_views=2)

    with pytest.raises(PushUnavailable) as refused:
        reveal_push(runtime, created.url_token, client, now=T0)
    # Exactly what an unknown link raises: no expired push to show, the same message.
    assert refused.value.expired is None
    assert str(refused.value) == str(PushUnavailable())
    with pytest.raises(PushUnavailable):
        landing(runtime, created.url_token, client, now=T0)
    assert find_for_viewer(runtime, created.url_token, client) is None

    assert push_row(runtime, created.push.id)["views_remaining"] == 2
    refusal = audit_rows(runtime, created.push.id)[-1]
    assert (refusal["kind"], refusal["ip"], refusal["user_agent"]) == ("refused_address", client.ip, client.user_agent)
    # Still there for the office.
    assert reveal_push(runtime, created.url_token, OFFICE, now=T0).payload == "inside"


def test_without_a_client_the_landing_is_outside_every_list(runtime, make_push):
    created = make_push(allowed_ips=ALLOW)
    with pytest.raises(PushUnavailable):
        landing(runtime, created.url_token, now=T0)
    assert landing(runtime, make_push().url_token, now=T0).kind == "text"  # no list: as before


def test_an_expired_push_from_outside_is_an_unknown_link_too(runtime, make_push):
    created = make_push(allowed_ips=ALLOW, expire_after_views=1)
    reveal_push(runtime, created.url_token, OFFICE, now=T0)
    with pytest.raises(PushUnavailable) as inside:
        reveal_push(runtime, created.url_token, OFFICE, now=T0)
    assert inside.value.expired is not None  # the office may see its record
    with pytest.raises(AddressRefused) as outside:
        reveal_push(runtime, created.url_token, MALLORY, now=T0)
    assert outside.value.expired is None


def test_a_passphrase_guess_from_outside_is_no_guess(runtime, make_push):
    created = make_push(allowed_ips=ALLOW, passphrase=PASSPHRASE, burn_after_failed_passphrases=1)
    for _ in range(8):
        with pytest.raises(AddressRefused):
            reveal_push(runtime, created.url_token, MALLORY, passphrase=PASSPHRASE, now=T0)
    assert audit_kinds(runtime, created.push.id) == ["creation"] + ["refused_address"] * 8
    assert reveal_push(runtime, created.url_token, OFFICE, passphrase=PASSPHRASE, now=T0).payload == "s3cret-payload"


def test_a_viewers_delete_from_outside_is_refused_and_logged(runtime, make_push):
    created = make_push(allowed_ips=ALLOW, deletable_by_viewer=True)
    with pytest.raises(AddressRefused):
        expire_by_viewer(runtime, created.url_token, MALLORY, now=T0)
    assert not push_row(runtime, created.push.id)["expired"]
    assert audit_kinds(runtime, created.push.id)[-1] == "refused_address"
    expire_by_viewer(runtime, created.url_token, OFFICE, now=T0)
    assert push_row(runtime, created.push.id)["expired_reason"] == "viewer"


def test_the_owner_opening_the_link_is_bound_by_the_list_too(runtime, make_push):
    owner = Client(ip=MALLORY.ip, user_id="owner-1")
    created = make_push(allowed_ips=ALLOW)
    with pytest.raises(AddressRefused):
        reveal_push(runtime, created.url_token, owner, now=T0)


def _file_push(runtime, **fields):
    return push_files(runtime, signed_in_sender(runtime), [("a.txt", b"alpha")], **fields)


def test_file_downloads_from_outside_are_refused_and_logged(runtime):
    created = _file_push(runtime, allowed_ips=ALLOW, expire_after_views=2)
    revealed = reveal_push(runtime, created.url_token, OFFICE, now=T0)
    grant = revealed.downloads.grant

    for opener in (lambda c: open_file_download(runtime, grant, 0, c, now=T0),
                   lambda c: open_zip_download(runtime, grant, now=T0, client=c)):
        with pytest.raises(DownloadUnavailable) as refused:
            opener(MALLORY)
        assert str(refused.value) == str(DownloadUnavailable())  # as an unknown grant
        assert audit_kinds(runtime, created.push.id)[-1] == "refused_address"
    with pytest.raises(DownloadUnavailable):
        open_zip_download(runtime, grant, now=T0)  # no client: outside every list
    assert b"".join(open_file_download(runtime, grant, 0, OFFICE, now=T0).chunks) == b"alpha"


# --- burn after N wrong passphrases --------------------------------------------------------------

@pytest.mark.parametrize("value, words", [
    (0, "a whole number from 1 to 10"), (11, "a whole number from 1 to 10"), ("3", "a whole number from 1 to 10"),
    (True, "a whole number from 1 to 10"),
])
def test_the_burn_limit_is_1_to_10(runtime, value, words):
    with pytest.raises(InvalidPush) as refused:
        create_push(runtime, NewPush(payload="x", passphrase="p", burn_after_failed_passphrases=value), SENDER, now=T0)
    assert words in refused.value.errors["burn_after_failed_passphrases"]


def test_the_burn_limit_needs_a_passphrase(runtime):
    with pytest.raises(InvalidPush) as refused:
        create_push(runtime, NewPush(payload="x", passphrase="  ", burn_after_failed_passphrases=3), SENDER, now=T0)
    assert "needs a passphrase" in refused.value.errors["burn_after_failed_passphrases"]


def test_the_nth_wrong_passphrase_from_any_address_deletes_the_push(runtime, make_push):
    created = make_push("burn me", passphrase=PASSPHRASE, burn_after_failed_passphrases=3, expire_after_views=5)
    guessers = [MALLORY, ALICE, Client(ip="192.0.2.77")]  # one each: no per-address lock-out is reached

    with pytest.raises(WrongPassphrase) as first:
        reveal_push(runtime, created.url_token, guessers[0], passphrase="guess 1", now=T0)
    assert "2 more wrong passphrases delete the secret" in str(first.value)
    with pytest.raises(WrongPassphrase) as second:
        reveal_push(runtime, created.url_token, guessers[1], passphrase="guess 2", now=T0)
    assert "One more wrong passphrase deletes the secret" in str(second.value)
    assert not push_row(runtime, created.push.id)["expired"]
    with pytest.raises(WrongPassphrase) as third:
        reveal_push(runtime, created.url_token, guessers[2], passphrase="guess 3", now=T0)
    assert third.value.burns_left == 0
    assert "the secret is now deleted" in str(third.value)

    row = push_row(runtime, created.push.id)
    assert row["expired"] and row["expired_reason"] == "guesses"
    assert row["payload_sealed"] is None and row["wrapped_key"] is None and row["passphrase_hash"] is None
    kinds = audit_kinds(runtime, created.push.id)
    assert kinds[-3:] == ["failed_passphrase", "passphrase_burn", "expire_auto"]
    assert audit_rows(runtime, created.push.id)[-1]["actor"] == "guesses"
    # The right passphrase comes too late.
    with pytest.raises(PushUnavailable):
        reveal_push(runtime, created.url_token, ALICE, passphrase=PASSPHRASE, now=T0)


def test_right_passphrases_and_missing_ones_do_not_count(runtime, make_push):
    created = make_push(passphrase=PASSPHRASE, burn_after_failed_passphrases=2, expire_after_views=5)
    with pytest.raises(WrongPassphrase):
        reveal_push(runtime, created.url_token, MALLORY, passphrase="wrong", now=T0)
    for _ in range(3):
        reveal_push(runtime, created.url_token, ALICE, passphrase=PASSPHRASE, now=T0)
        with pytest.raises(PushError):
            reveal_push(runtime, created.url_token, ALICE, passphrase="", now=T0)
    assert not push_row(runtime, created.push.id)["expired"]
    with pytest.raises(WrongPassphrase) as burning:
        reveal_push(runtime, created.url_token, ALICE, passphrase="wrong again", now=T0 + timedelta(days=1))
    assert burning.value.burns_left == 0
    assert push_row(runtime, created.push.id)["expired_reason"] == "guesses"


def test_the_per_address_lock_out_still_applies_first(runtime, make_push):
    """Both rules apply: five from one address pause it (the default limit) before a burn of 10."""
    created = make_push(passphrase=PASSPHRASE, burn_after_failed_passphrases=10)
    for n in range(5):
        with pytest.raises(WrongPassphrase):
            reveal_push(runtime, created.url_token, MALLORY, passphrase=f"guess {n}", now=T0)
    with pytest.raises(TooManyAttempts):
        reveal_push(runtime, created.url_token, MALLORY, passphrase="guess 6", now=T0)
    assert not push_row(runtime, created.push.id)["expired"]


def test_parallel_guesses_never_check_more_than_n(runtime, make_push):
    created = make_push(passphrase=PASSPHRASE, burn_after_failed_passphrases=2)
    outcomes = []
    clients = [Client(ip=f"192.0.2.{n}") for n in range(8)]
    run_at_once(lambda client: outcomes.append(_outcome(runtime, created.url_token, client)), clients)
    assert outcomes.count("wrong") <= 2
    assert set(outcomes) <= {"wrong", "locked", "gone"}
    row = push_row(runtime, created.push.id)
    assert row["expired"] and row["expired_reason"] == "guesses"
    assert audit_kinds(runtime, created.push.id).count("failed_passphrase") == 2


def _outcome(runtime, token, client) -> str:
    try:
        reveal_push(runtime, token, client, passphrase="wrong", now=T0)
    except WrongPassphrase:
        return "wrong"
    except PushLocked:
        return "locked"
    except PushUnavailable:
        return "gone"
    return "shown"


def test_a_burned_file_push_loses_its_files(runtime):
    created = _file_push(runtime, passphrase=PASSPHRASE, burn_after_failed_passphrases=1)
    with pytest.raises(WrongPassphrase):
        reveal_push(runtime, created.url_token, MALLORY, passphrase="wrong", now=T0)
    with runtime.engine.connect() as connection:
        flags = connection.exec_driver_sql("SELECT blob_deleted FROM push_file").scalars().all()
    assert flags and all(flags)


# --- opened before ------------------------------------------------------------------------------

def test_each_viewer_learns_how_often_and_when_it_was_opened_before(runtime, make_push):
    created = make_push(expire_after_views=4)
    first = reveal_push(runtime, created.url_token, ALICE, now=T0)
    assert first.opened_before == OpenedBefore(0, None, None)
    assert first.opened_before.describe(T0) == "Nobody opened this link before you."

    second = reveal_push(runtime, created.url_token, MALLORY, now=T0 + timedelta(minutes=3))
    assert second.opened_before == OpenedBefore(1, T0, T0)
    assert second.opened_before.describe(T0 + timedelta(minutes=3)).startswith("Opened 1 time before, 3 minutes ago.")

    # The owner's own look is no view, and changes nothing of it.
    owner = Client(ip=SENDER.ip, user_id="owner-1")
    third = reveal_push(runtime, created.url_token, ALICE, now=T0 + timedelta(hours=2))
    assert third.opened_before == OpenedBefore(2, T0, T0 + timedelta(minutes=3))
    assert third.opened_before.describe(T0 + timedelta(hours=2)).startswith(
        "Opened 2 times before: first 2 hours ago, last 1 hour ago.")
    assert owner.user_id != created.push.owner_id


def test_a_push_of_one_view_says_nothing(runtime, make_push):
    assert reveal_push(runtime, make_push(expire_after_views=1).url_token, ALICE, now=T0).opened_before is None


def test_the_passphrase_path_counts_the_same(runtime, make_push):
    created = make_push(passphrase=PASSPHRASE, expire_after_views=3)
    reveal_push(runtime, created.url_token, ALICE, passphrase=PASSPHRASE, now=T0)
    later = reveal_push(runtime, created.url_token, ALICE, passphrase=PASSPHRASE, now=T0 + timedelta(days=2))
    assert later.opened_before == OpenedBefore(1, T0, T0)
    assert "2 days ago" in later.opened_before.describe(T0 + timedelta(days=2))


def test_views_taken_before_the_times_were_kept_are_counted_without_a_time(runtime, make_push):
    created = make_push(expire_after_views=5)
    set_column(runtime, created.push.id, "views_remaining", 3)  # two views, from before issue 21
    seen = reveal_push(runtime, created.url_token, ALICE, now=T0)
    assert seen.opened_before == OpenedBefore(2, None, None)
    assert seen.opened_before.describe(T0).startswith("Opened 2 times before.")

