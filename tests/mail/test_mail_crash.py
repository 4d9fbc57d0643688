"""kill -9 of a sending worker: every queued mail still arrives, and a mail arrives twice only
as outbox.py documents (the one the killed worker was sending, after its lease; with the
same Message-ID, so mail clients show it once).  Real worker processes, a real SMTP server."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time

import pytest

from pwpush_app.core import letters
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.outbox import queue_mail, queued_count
from tests.servers import ROOT, make_env

MAILS = 24
WORKER = (
    "import time\n"
    "from pwpush_app.core.runtime import get_runtime\n"
    "from pwpush_app.jobs import mail_round\n"
    "runtime = get_runtime()\n"
    "while True:\n"
    "    mail_round(runtime)\n"
    "    time.sleep(0.1)\n"
)


@pytest.fixture
def crash_setup(make_runtime, smtp, tmp_path, db_url):
    settings = smtp.env(PWP__MAIL__SMTP_OPEN_TIMEOUT="1", PWP__MAIL__SMTP_READ_TIMEOUT="1",
                        PWPUSH_MAIL_LEASE_SECONDS="12")
    runtime = make_runtime(**settings)
    env = {**os.environ, **make_env(tmp_path / "data", REFLEX_DB_URL=db_url, PWPUSH_MASTER_KEY=runtime.settings.master_key,
                                    **settings)}
    workers: list[subprocess.Popen] = []

    def start_worker() -> subprocess.Popen:
        worker = subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        workers.append(worker)
        return worker

    yield runtime, start_worker
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
        worker.wait()


# Half a minute per engine, most of it the lease running out: SQLite always, both engines in
# the soak run (the claim itself is raced on PostgreSQL every run, in test_outbox_claims.py).
@pytest.mark.sqlite_only
def test_a_worker_killed_mid_send_loses_no_mail(crash_setup, smtp):
    kill_a_worker_mid_send(*crash_setup, smtp)


@pytest.mark.soak
def test_a_worker_killed_mid_send_loses_no_mail_on_postgresql(crash_setup, smtp, db_engine):
    if db_engine != "postgresql":
        pytest.skip("SQLite runs in test_a_worker_killed_mid_send_loses_no_mail")
    kill_a_worker_mid_send(*crash_setup, smtp)


def kill_a_worker_mid_send(runtime, start_worker, smtp):
    smtp.collector.data_delay = 0.15  # each mail takes a moment: the kill lands mid-batch
    with transaction(runtime.engine) as db:
        for number in range(MAILS):
            letter = letters.compose(runtime.settings, f"r{number}@example.org", f"Mail {number}", "Hello", ["Body"], "Why")
            queue_mail(db, runtime, letter, "test", now=utcnow())

    doomed, survivor = start_worker(), start_worker()
    smtp.wait_for(8, timeout=60)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()
    at_kill = len(smtp.received)
    assert at_kill < MAILS, "the kill came after the last mail: nothing was tested"
    start_worker()  # a restart

    deadline = time.monotonic() + 90
    while queued_count(runtime) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert queued_count(runtime) == 0, "mail left in the outbox"
    time.sleep(1)  # a last DATA still being accepted

    subjects = collections.Counter(m.message["Subject"] for m in smtp.received)
    assert set(subjects) == {f"Mail {n}" for n in range(MAILS)}  # every mail arrived
    twice = [subject for subject, seen in subjects.items() if seen > 1]
    # At most the one mail the killed worker was sending; it keeps its Message-ID.
    assert len(twice) <= 1 and all(subjects[s] == 2 for s in twice)
    for subject in twice:
        assert len({m.message["Message-ID"] for m in smtp.received if m.message["Subject"] == subject}) == 1
    assert survivor.poll() is None
