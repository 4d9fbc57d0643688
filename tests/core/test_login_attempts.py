"""The login lock holds under parallel guesses, on SQLite and PostgreSQL: every guess is
counted before it is checked (core/login_attempts.py), so a burst of wrong passwords or codes
gets at most `login_max_failures` "wrong" answers, the rest "locked"; and a logged-in form's
wrong current passwords count toward the same lock.  Each test counts the answers a person
would see, nothing mocked."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pyotp
import pytest

from pwpush_app.core import accounts, two_factor
from pwpush_app.core.accounts import MESSAGES, AccountError, LoginFailed, LoginLocked

from .common import T0, run_at_once

PASSWORD = "correct horse battery"
IP = "192.0.2.1"
LIMIT = 4
BURST = 16  # the Argon2 gate admits 16 at once on two cores (2 slots x 8 waiters)


@pytest.fixture
def limited(make_runtime):
    runtime = make_runtime(PWPUSH_LOGIN_MAX_FAILURES=str(LIMIT), PWP__THROTTLING__MINUTE="1000")
    return runtime, accounts.sign_up(runtime, "alice@example.com", PASSWORD, now=T0)


def _answers(target, count: int) -> Counter:
    """The refusal each of `count` parallel calls of `target(number)` got, by message code."""
    answers = []

    def call(number):
        try:
            target(number)
            answers.append("accepted")
        except AccountError as refusal:
            answers.append(refusal.code)

    run_at_once(call, range(count))
    return Counter(answers)


def test_parallel_wrong_passwords_get_no_more_checks_than_the_limit(limited):
    runtime, _alice = limited
    answers = _answers(lambda n: accounts.log_in(runtime, "alice@example.com", f"parallel guess {n:02d}",
                                                 f"198.51.100.{n}", now=T0), BURST)
    # Before: all 16 were checked ("wrong"), the lock came after them.
    assert answers == Counter(login_failed=LIMIT, login_locked=BURST - LIMIT)
    with pytest.raises(LoginLocked):
        accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=T0)


def _enrolled(runtime, alice):
    enrolment = two_factor.begin_enrolment(runtime, alice.id, T0)
    two_factor.confirm_enrolment(runtime, alice.id, pyotp.TOTP(enrolment.secret).at(T0), T0)
    return accounts.get_user(runtime, alice.id), pyotp.TOTP(enrolment.secret)


def test_parallel_wrong_codes_get_no_more_checks_than_the_limit(limited):
    runtime, alice = limited
    user, totp = _enrolled(runtime, alice)
    right = {totp.at(T0 + timedelta(seconds=30 * step)) for step in (-1, 0, 1)}
    wrong = [c for c in (f"{n:06d}" for n in range(100)) if c not in right][:BURST]
    answers = _answers(lambda n: two_factor.check_code(runtime, user, wrong[n], IP, T0), BURST)
    # The guess that reaches the limit is told of the lock it set; the rest were never checked.
    assert answers == Counter(code_wrong=LIMIT - 1, login_locked=BURST - LIMIT + 1)
    with pytest.raises(LoginLocked):
        two_factor.check_code(runtime, user, totp.at(T0 + timedelta(seconds=30)), IP, T0)


class CountingHashes:
    """The runtime's Argon2, counting its checks: a backup code typed is checked against each
    unused one, so the checks tell how many guesses were judged."""

    def __init__(self, hashing):
        self.inner, self.verified = hashing, []

    def hash(self, password):
        return self.inner.hash(password)

    def verify(self, password, phc_hash):
        self.verified.append(password)
        return self.inner.verify(password, phc_hash)


def test_parallel_wrong_backup_codes_are_judged_no_more_often_than_the_limit(limited):
    runtime, alice = limited
    user, _totp = _enrolled(runtime, alice)
    runtime.hashing = CountingHashes(runtime.hashing)
    guesses = [f"{two_factor.BACKUP_ALPHABET[n]}" * two_factor.BACKUP_CODE_CHARS for n in range(BURST)]
    answers = _answers(lambda n: two_factor.check_code(runtime, user, guesses[n], IP, T0), BURST)
    # Before: all 16 guesses were judged (160 Argon2 checks) before the lock was seen.
    assert len(set(runtime.hashing.verified)) == LIMIT
    assert len(runtime.hashing.verified) == LIMIT * two_factor.BACKUP_CODE_COUNT
    assert answers == Counter(code_wrong=LIMIT - 1, login_locked=BURST - LIMIT + 1)


def test_wrong_current_passwords_lock_the_account_and_the_forms_honour_the_lock(limited):
    runtime, alice = limited
    answers = [_refusal(lambda: accounts.change_password(runtime, alice.id, f"guess number {n}", "a new password",
                                                         now=T0)) for n in range(LIMIT)]
    assert answers == ["current_password"] * (LIMIT - 1) + ["login_locked"]
    # Locked: the right current password is refused on every such form, and so is the login.
    assert _refusal(lambda: accounts.change_password(runtime, alice.id, PASSWORD, "a new password", now=T0)) \
        == "login_locked"
    assert _refusal(lambda: accounts.delete_account(runtime, alice.id, PASSWORD, None, now=T0)) == "login_locked"
    with pytest.raises(LoginLocked) as refusal:
        accounts.log_in(runtime, "alice@example.com", PASSWORD, IP, now=T0)
    assert str(refusal.value) == MESSAGES["login_locked"]
    assert accounts.get_user(runtime, alice.id) is not None


def test_parallel_wrong_current_passwords_get_no_more_checks_than_the_limit(limited):
    runtime, alice = limited
    answers = _answers(lambda n: accounts.check_current_password(runtime, alice.id, f"parallel guess {n:02d}"), BURST)
    assert answers == Counter(current_password=LIMIT - 1, login_locked=BURST - LIMIT + 1)


def test_a_right_current_password_neither_counts_nor_clears(limited):
    runtime, alice = limited
    for n in range(LIMIT - 1):
        with pytest.raises(LoginFailed):
            accounts.log_in(runtime, "alice@example.com", f"wrong guess {n}", IP, now=T0)
    for _ in range(3):
        accounts.check_current_password(runtime, alice.id, PASSWORD)
    # Still one guess short of the lock: the next wrong one locks.
    assert _refusal(lambda: accounts.check_current_password(runtime, alice.id, "one more guess")) == "login_locked"


def _refusal(action) -> str:
    try:
        action()
    except AccountError as refusal:
        return refusal.code
    return "accepted"
