"""Two workers race for the same mail (or webhook call): the one that takes it second must
not take it.  The race is made to happen every time: worker B has picked its candidate and is
about to take it when worker A, on a connection of its own, takes it first.

On PostgreSQL this is what the conditional UPDATE of outbox.py / webhooks.py decides.  On
SQLite a writing transaction holds the database's write lock from its BEGIN IMMEDIATE, so
A cannot come in between at all: the test is skipped there (the kill -9 and many-thread tests
cover SQLite)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from pwpush_app.core import letters, outbox, webhooks
from pwpush_app.core.accounts import issue_api_token
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from tests.mail_servers import LOCAL_RECEIVERS


def holder_of(runtime, table: str) -> str | None:
    with runtime.engine.connect() as connection:
        return connection.execute(text(f"SELECT lease_holder FROM {table}")).scalar_one()


def interleave(runtime, other, table: str, claim):
    """Before `runtime`'s next claiming UPDATE on `table`, `claim(other, "worker-A")` runs to its commit."""
    seen = []

    def before(_connection, _cursor, statement, _parameters, _context, _many):
        if not seen and statement.lstrip().upper().startswith(f"UPDATE {table.upper()} SET LEASE_UNTIL"):
            seen.append(claim(other, "worker-A", utcnow()))

    event.listen(runtime.engine, "before_cursor_execute", before)
    return seen


@pytest.fixture
def two_workers(db_engine, request):
    if db_engine == "sqlite":
        pytest.skip("SQLite: a writing transaction holds the write lock from BEGIN, nobody comes in between")
    make_runtime, smtp = request.getfixturevalue("make_runtime"), request.getfixturevalue("smtp")
    settings = smtp.env(PWPUSH_MAIL_LEASE_SECONDS="300", **LOCAL_RECEIVERS)
    worker_b = make_runtime(**settings)
    worker_a = make_runtime(**settings, PWPUSH_MASTER_KEY=worker_b.settings.master_key)  # its own engine
    return worker_a, worker_b


def test_a_mail_another_worker_took_meanwhile_is_not_sent_again(two_workers, smtp):
    worker_a, worker_b = two_workers
    letter = letters.compose(worker_b.settings, "bob@example.org", "Only once", "Hello", ["Body"], "Why")
    with transaction(worker_b.engine) as db:
        outbox.queue_mail(db, worker_b, letter, "test", now=utcnow())
    seen = interleave(worker_b, worker_a, "mail_outbox", outbox._claim_next)

    done = outbox.send_due_mails(worker_b, "worker-B")

    assert seen and seen[0] is not None, "worker A did not take the mail in between"
    assert done.sent == 0 and smtp.received == []  # B left it to A
    assert holder_of(worker_b, "mail_outbox") == "worker-A"


def test_a_webhook_call_another_worker_took_meanwhile_is_not_made_again(two_workers, receiver):
    worker_a, worker_b = two_workers
    user, _token = issue_api_token(worker_b, "owner@example.com")
    endpoint, _secret = webhooks.add_webhook(worker_b, user.id, receiver.url)
    webhooks.send_test_event(worker_b, user.id, endpoint.id)
    seen = interleave(worker_b, worker_a, "webhook_delivery", webhooks._claim_next)

    webhooks.deliver_due(worker_b, "worker-B")

    assert seen and seen[0] is not None, "worker A did not take the call in between"
    assert receiver.calls == []  # B left it to A
    assert holder_of(worker_b, "webhook_delivery") == "worker-A"
