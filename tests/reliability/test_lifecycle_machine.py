"""A hypothesis state machine of the push lifecycle on the core, checked against a model.

Random sequences of: create (random views, lifetime, passphrase, deletable), reveal with
the right, a wrong or no passphrase, expire by a recipient or by the owner, move the
clock forward, purge.  After every step the model and the database must agree on each
push's views_remaining and expired flag; an expired push holds no secret; no push is ever
served more often than its view limit, and an expired push never serves.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from pwpush_app.core.create import NewPush, create_push
from pwpush_app.core.errors import (
    NotAllowed,
    PassphraseRequired,
    PushLocked,
    PushUnavailable,
    TooManyAttempts,
    UnexpectedPassphrase,
    WrongPassphrase,
)
from pwpush_app.core.owners import expire_by_owner
from pwpush_app.core.purge import purge_expired
from pwpush_app.core.records import find_managed, find_push
from pwpush_app.core.reveal import expire_by_viewer, reveal_push
from tests.core.common import ALICE, SENDER, T0, push_row

PASSPHRASE = "right horse 7"
_serial = itertools.count()


@dataclass
class Model:
    token: str
    manage_token: str
    payload: str
    limit: int
    expires_at: datetime
    passphrase: str
    deletable: bool
    views_remaining: int
    expired: bool = False
    served: int = 0
    failures: list[datetime] = field(default_factory=list)  # wrong passphrases (one client)

    def live(self, now: datetime) -> bool:
        return not self.expired and self.views_remaining > 0 and self.expires_at > now


def lifecycle_machine(runtime):
    policy = runtime.settings.policy("text")
    max_failures = runtime.settings.passphrase_max_failures
    window = timedelta(minutes=runtime.settings.passphrase_lockout_minutes)
    # One client here: its failures are also all of the push's.
    push_max_failures = runtime.settings.passphrase_push_max_failures
    push_window = timedelta(minutes=runtime.settings.passphrase_push_lockout_minutes)

    class PushLifecycle(RuleBasedStateMachine):
        pushes = Bundle("pushes")

        @initialize()
        def start(self):
            # Each run starts its own day, so pushes of earlier runs (same database) are long overdue.
            self.now = T0 + timedelta(days=400 * next(_serial))
            self.models: list[Model] = []

        @rule(target=pushes, views=st.integers(policy.views_min, min(policy.views_max, 4)),
              minutes=st.sampled_from(sorted({policy.minutes_min, 60, 24 * 60, policy.minutes_max})),
              with_passphrase=st.booleans(), deletable=st.booleans())
        def create(self, views, minutes, with_passphrase, deletable):
            payload = f"secret-{next(_serial)}"
            created = create_push(runtime, NewPush(payload=payload, expire_after_views=views, expire_after_minutes=minutes,
                                                 passphrase=PASSPHRASE if with_passphrase else "",
                                                 deletable_by_viewer=deletable), SENDER, now=self.now)
            model = Model(created.url_token, created.manage_token, payload, views, self.now + timedelta(minutes=minutes),
                          PASSPHRASE if with_passphrase else "", deletable, views)
            self.models.append(model)
            return model

        @rule(m=pushes, attempt=st.sampled_from(["right", "wrong", "none"]), times=st.integers(1, 3))
        def reveal(self, m: Model, attempt: str, times: int):
            for _ in range(times):  # repeated guesses reach the lock-out in short runs
                self._reveal_once(m, attempt)

        # Most pushes of a run end up expired: this rule picks among the live ones.
        @precondition(lambda self: any(m.live(self.now) for m in getattr(self, "models", [])))
        @rule(data=st.data(), attempt=st.sampled_from(["right", "wrong", "wrong", "none"]), times=st.integers(1, 3))
        def reveal_a_live_push(self, data, attempt: str, times: int):
            m = data.draw(st.sampled_from([m for m in self.models if m.live(self.now)]))
            for _ in range(times):
                self._reveal_once(m, attempt)

        def _reveal_once(self, m: Model, attempt: str):
            given = {"right": m.passphrase or PASSPHRASE, "wrong": "not the passphrase", "none": None}[attempt]
            expected = self._expected_reveal(m, given)
            try:
                revealed = reveal_push(runtime, m.token, ALICE, passphrase=given, now=self.now)
            except (PushUnavailable, PassphraseRequired, WrongPassphrase, TooManyAttempts, UnexpectedPassphrase) as e:
                # (TooManyAttempts, or its PushLocked: the exact type is compared below.)
                outcome = type(e)
            else:
                assert revealed.payload == m.payload
                outcome = "served"
            assert outcome == expected, f"{attempt} passphrase: expected {expected}, got {outcome}"
            if outcome == "served":
                m.served += 1
                m.views_remaining -= 1
                m.expired = m.views_remaining == 0
            elif outcome is WrongPassphrase:
                m.failures.append(self.now)
            elif outcome is PushUnavailable:
                m.expired = True  # an overdue push is expired on the spot

        def _expected_reveal(self, m: Model, given: str | None):
            if not m.live(self.now):
                return PushUnavailable
            if not m.passphrase:
                return UnexpectedPassphrase if given else "served"
            if not given:
                return PassphraseRequired
            if sum(1 for t in m.failures if t > self.now - push_window) >= push_max_failures:
                return PushLocked
            if sum(1 for t in m.failures if t > self.now - window) >= max_failures:
                return TooManyAttempts
            return "served" if given == m.passphrase else WrongPassphrase

        @rule(m=pushes, attempt=st.sampled_from(["right", "wrong", "none"]))
        def expire_by_recipient(self, m: Model, attempt: str):
            # A recipient's delete passes the gate of a view: live, deletable, the passphrase.
            given = {"right": m.passphrase or PASSPHRASE, "wrong": "not the passphrase", "none": None}[attempt]
            if m.live(self.now) and not m.deletable:
                expected = NotAllowed
            else:
                expected = self._expected_reveal(m, given)
                expected = "expired" if expected == "served" else expected
            try:
                expire_by_viewer(runtime, m.token, ALICE, passphrase=given, now=self.now)
                outcome = "expired"
            except (PushUnavailable, NotAllowed, PassphraseRequired, WrongPassphrase, TooManyAttempts,
                    UnexpectedPassphrase) as e:
                outcome = type(e)
            assert outcome == expected, f"{attempt} passphrase: expected {expected}, got {outcome}"
            if outcome in ("expired", PushUnavailable):
                m.expired = True
            elif outcome is WrongPassphrase:
                m.failures.append(self.now)

        @rule(m=pushes)
        def expire_by_sender(self, m: Model):
            expire_by_owner(runtime, find_managed(runtime, m.manage_token), SENDER, now=self.now)
            m.expired = True

        # Around the edges of the lock-out window (10 minutes) and of the lifetimes above.
        @rule(minutes=st.sampled_from([0, 1, 9, 11, 59, 61, 24 * 60 + 1]))
        def advance_clock(self, minutes):
            self.now += timedelta(minutes=minutes)

        @rule()
        def purge(self):
            purge_expired(runtime, now=self.now)
            for m in self.models:
                if m.expires_at <= self.now:
                    m.expired = True

        @invariant()
        def model_and_database_agree(self):
            for m in getattr(self, "models", []):
                stored = find_push(runtime, m.token)
                assert (stored.views_remaining, stored.expired) == (m.views_remaining, m.expired)
                assert m.served <= m.limit and m.served + m.views_remaining == m.limit
                if m.expired:
                    row = push_row(runtime, stored.id)
                    assert row["payload_sealed"] is None and row["wrapped_key"] is None
                    assert row["passphrase_hash"] is None and row["note_sealed"] is None

    return PushLifecycle


@pytest.fixture
def runtime(make_runtime):
    # Two wrong passphrases pause a client: short sequences reach the lock-out and its end.
    return make_runtime(PWPUSH_PASSPHRASE_MAX_FAILURES="2")


def test_push_lifecycle_matches_its_model(runtime):
    run_state_machine_as_test(
        lifecycle_machine(runtime),
        settings=settings(max_examples=40, stateful_step_count=30, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_push_lifecycle_matches_its_model_long(runtime):
    run_state_machine_as_test(
        lifecycle_machine(runtime),
        settings=settings(max_examples=200, stateful_step_count=40, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )
