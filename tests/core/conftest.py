"""Fixtures for the core tests (shared values and row looks are in common.py)."""

from __future__ import annotations

from datetime import datetime

import pytest

from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush, create_push

from .common import SENDER, T0


@pytest.fixture
def make_push(runtime):
    """Create a push on the default runtime: `make_push(payload="x", expire_after_views=2, ...)`."""

    def create(payload: str = "s3cret-payload", client: Client = SENDER, now: datetime = T0, **fields):
        return create_push(runtime, NewPush(payload=payload, **fields), client, now=now)

    return create
