"""After mail and webhooks went out, a canary scan of the data folder and of every log line
(every logger at DEBUG, SQL and its parameters included): no secret, no secret link, no
manage or reset token, no SMTP password, no webhook secret, in UTF-8 or UTF-16."""

from __future__ import annotations

import logging
import re

import pytest

from pwpush_app.core import account_recovery, accounts, notices, webhooks
from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.outbox import send_due_mails
from pwpush_app.core.owner_events import NoticeChoices, choose_notices
from pwpush_app.core.purge import checkpoint
from pwpush_app.core.reveal import reveal_push
from tests.core.test_plaintext_canary import assert_absent, encodings, files_under
from tests.mail_servers import LOCAL_RECEIVERS

PAYLOAD = "Mail-payload-canary-2f8c41a9"
NOTE = "Mail-note-canary-93be07d2"
SMTP_PASSWORD = "Smtp-password-canary-5d1e7a"
PASSWORD = "Account-password-canary-1"


@pytest.mark.sqlite_only
def test_nothing_secret_on_disk_or_in_logs_after_sending(make_runtime, smtp_server, receiver, caplog, capfd, db_engine):
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    server = smtp_server(users={"apikey": SMTP_PASSWORD})
    runtime = make_runtime(**server.env(PWP__MAIL__SMTP_USER_NAME="apikey", PWP__MAIL__SMTP_PASSWORD=SMTP_PASSWORD,
                                        PWP__ENABLE_USER_ACCOUNT_EMAILS="true", **LOCAL_RECEIVERS))
    user = accounts.sign_up(runtime, "owner@example.com", PASSWORD)
    send_due_mails(runtime, "w")
    confirm = re.search(r"/account/confirm/([A-Za-z0-9_-]+)", server.received[-1].text).group(1)
    account_recovery.confirm_address(runtime, confirm)
    account_recovery.request_password_reset(runtime, "owner@example.com", "192.0.2.1")
    send_due_mails(runtime, "w")
    reset = re.search(r"/account/reset/([A-Za-z0-9_-]+)", server.received[-1].text).group(1)

    owner = Client(ip="192.0.2.1", user_id=user.id)
    choose_notices(runtime, user.id, NoticeChoices(on_view=True))
    _endpoint, receiver.secret = webhooks.add_webhook(runtime, user.id, receiver.url)
    created = create_push(runtime, NewPush(payload=PAYLOAD, note=NOTE, expire_after_views=3,
                                           notify_emails_to="bob@example.org, carol@example.org"), owner)
    # While the link mails wait in the outbox, the link is on disk only sealed.
    checkpoint(runtime)
    waiting = {"link token": created.url_token.encode(), "link token (UTF-16)": created.url_token.encode("utf-16-le")}
    assert_absent(waiting, files_under(runtime.settings.data_dir))
    reveal_push(runtime, created.url_token, Client(ip="203.0.113.9"))
    while notices.hand_out_events(runtime):
        pass
    assert send_due_mails(runtime, "w").sent == 3  # two links, one notice
    assert webhooks.deliver_due(runtime, "w") == 1
    assert receiver.wait_for(1)[0].signature_ok
    checkpoint(runtime)

    canaries = {"payload": PAYLOAD, "note": NOTE, "link token": created.url_token, "manage token": created.manage_token,
                "SMTP password": SMTP_PASSWORD, "webhook secret": receiver.secret, "reset token": reset,
                "confirm token": confirm, "account password": PASSWORD}
    needles = {f"{what} ({i})": blob for what, text in canaries.items() for i, blob in enumerate(encodings(text))}
    captured = capfd.readouterr()
    # Ours, not the test SMTP server's (aiosmtpd's "mail.log" logs what it receives, as a mail server does).
    ours = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records if not r.name.startswith("mail.log"))
    logs = {"log records": ours.encode(), "stdout": captured.out.encode(), "stderr": captured.err.encode()}
    assert_absent(needles, {**files_under(runtime.settings.data_dir), **logs})
    # The controls: the mails themselves carry the link and the tokens (that is their point).
    assert created.url_token in server.received[-3].text + server.received[-2].text + server.received[-1].text
