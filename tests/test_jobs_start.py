"""A worker's background jobs wait JOBS_START_DELAY_S before their first round (pwpush_app/
jobs.py): the round opens the runtime and compiles the first queries, which would otherwise
compete with the worker's first requests at a start, a reload or a standby's takeover."""

from __future__ import annotations

import asyncio
import time

import pytest

from pwpush_app import jobs


@pytest.mark.parametrize("job", [jobs.purge_job, jobs.mail_job, jobs.webhook_job])
def test_a_job_opens_nothing_before_its_start_delay(monkeypatch, job):
    opened = []

    def runtime():
        opened.append(time.monotonic())
        raise asyncio.CancelledError  # the job's first step after the delay: stop it there

    monkeypatch.setattr(jobs, "JOBS_START_DELAY_S", 0.5)
    monkeypatch.setattr(jobs, "get_runtime", runtime)

    async def run() -> float:
        started = time.monotonic()
        task = asyncio.create_task(job())
        await asyncio.sleep(0.3)
        assert opened == []  # still waiting
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        return started

    started = asyncio.run(run())
    assert len(opened) == 1 and opened[0] - started >= 0.5
