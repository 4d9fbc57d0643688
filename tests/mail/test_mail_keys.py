"""Master key rotation reaches queued mails and webhooks: after `rotate-keys` the earlier key
can go, and the mail still goes and the webhook still signs."""

from __future__ import annotations

from pwpush_app.core import letters, webhooks
from pwpush_app.core.accounts import issue_api_token
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.keys import rotate_keys
from pwpush_app.core.outbox import queue_mail, send_due_mails
from pwpush_app.master_key import generate_master_key_text
from tests.mail_servers import LOCAL_RECEIVERS


def test_rotation_rewraps_queued_mail_and_webhooks(make_runtime, smtp, receiver):
    old_key, new_key = generate_master_key_text(), generate_master_key_text()
    before = make_runtime(**smtp.env(PWPUSH_MASTER_KEY=old_key, **LOCAL_RECEIVERS))
    user, _token = issue_api_token(before, "owner@example.com")
    endpoint, receiver.secret = webhooks.add_webhook(before, user.id, receiver.url)
    with transaction(before.engine) as db:
        queue_mail(db, before, letters.test_letter(before.settings, "bob@example.org"), "test", now=utcnow())

    report = rotate_keys(make_runtime(**smtp.env(PWPUSH_MASTER_KEY=new_key, PWPUSH_MASTER_KEY_PREVIOUS=old_key)))
    assert (report.records_rewrapped, report.records_unreadable) == (2, 0)
    assert "PWPUSH_MASTER_KEY_PREVIOUS can be removed" in report.describe()

    after = make_runtime(**smtp.env(PWPUSH_MASTER_KEY=new_key, **LOCAL_RECEIVERS))  # the old key is gone
    assert send_due_mails(after, "w").sent == 1
    webhooks.send_test_event(after, user.id, endpoint.id)
    assert webhooks.deliver_due(after, "w") == 1
    assert receiver.wait_for(1)[0].signature_ok


def test_a_webhook_under_a_missing_key_fails_its_calls_without_stopping_the_others(make_runtime, receiver):
    lost = make_runtime(**LOCAL_RECEIVERS)
    user, _token = issue_api_token(lost, "owner@example.com")
    endpoint, _secret = webhooks.add_webhook(lost, user.id, receiver.url)
    webhooks.send_test_event(lost, user.id, endpoint.id)
    other = make_runtime(**LOCAL_RECEIVERS)  # another key: the endpoint can't be opened
    webhooks.deliver_due(other, "w")
    [log] = webhooks.deliveries_of(other, user.id)
    assert "master key is not configured" in log.last_error and receiver.calls == []
