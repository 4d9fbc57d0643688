"""Passkeys (WebAuthn, with duo-labs' py_webauthn): register several, name and remove them,
and sign in with one, instead of the password or as the second factor after it.

- Every ceremony starts here with a fresh 32-byte challenge, kept server-side as its SHA-256
  (models_passkeys.PasskeyChallenge) for CHALLENGE_MINUTES and bound to what asked for it:
  the account registering, or the login step whose second factor it is.  The answer names
  its challenge (in clientDataJSON); that row is deleted before anything else is checked,
  so a challenge is good once, right or wrong, and a replayed answer finds none.
- The RP id and origin come from the configured base URL or, without one, from the page's
  origin when it matches the connection's own Host header and that host is allowed
  (links.same_site_origin): never from an unchecked header.  They are kept with the
  challenge, and the answer must match them.
- A passkey alone signs in only with user verification (PIN, fingerprint, face): that is
  two factors, so it satisfies PWP__REQUIRE_MFA.  After a password it is the second factor
  and presence is enough.
- The signature counter must grow (a cloned authenticator is refused) unless the
  authenticator keeps none (always 0); it is updated with a conditional UPDATE.
- Failures count like wrong passwords or codes (core/accounts.py): the same count, the same
  lock; a locked address is refused even with the right passkey.  PWP__DISABLE_LOGINS
  closes both ways in.
- Adding one takes a recent login (sudo mode, session_checks.require_recent_login: within
  RECENT_LOGIN_MINUTES, by password and second factor or by a passkey), since it outlives a
  password change: a stolen session cookie alone adds none.  The owner is told by mail.
- Removing one takes the password, as turning two-factor off does.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from pwpush_app.core import account_mail, accounts, crypto, links, login_attempts, login_steps, session_checks
from pwpush_app.core.account_messages import MESSAGES, AccountError, LoginLocked
from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.models import User
from pwpush_app.core.models_passkeys import Passkey, PasskeyChallenge
from pwpush_app.core.runtime import Runtime

# webauthn (py_webauthn) is imported where a passkey ceremony needs it, not at every start
# of the server (~0.1 s of it, more on a busy machine; the first answer needs none of it).
if TYPE_CHECKING:
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

CHALLENGE_MINUTES = 5
CEREMONY_TIMEOUT_MS = 120_000
MAX_PASSKEYS = 20
MAX_NAME_CHARS = 64
# A browser's answer is a few hundred bytes (an RSA key's attestation a few more).
MAX_CREDENTIAL_CHARS = 6000
REGISTER, LOGIN, STEP = "register", "login", "step"


@dataclass(frozen=True)
class PasskeyView:
    """What the account page lists."""

    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


def _refuse(code: str, field: str = "form") -> AccountError:
    return AccountError(MESSAGES[code], field, code)


def _digest(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


# --- where the ceremony happens --------------------------------------------------------------------

def relying_party(settings, page_origin: str | None, host: str | None) -> tuple[str, str]:
    """(RP id, origin) for a page at `page_origin` whose connection came for `host`: the
    configured base URL's when there is one, else the page's own when it is this site's
    (links.same_site_origin), else the default base URL's.  Raises `passkey_ip` for an IP
    address (WebAuthn needs a domain name)."""
    base = settings.base_url
    if not settings.base_url_configured and page_origin and links.same_site_origin(settings, page_origin, host):
        base = page_origin
    parts = urlsplit(base.strip())
    name = (parts.hostname or "").lower()
    if not name or name.replace(".", "").isdigit() or ":" in name:
        raise _refuse("passkey_ip")
    return name, f"{parts.scheme}://{parts.netloc.lower()}"


def _new_challenge(runtime: Runtime, purpose: str, rp: tuple[str, str], now: datetime,
                   user_id: str | None = None, step_id: str | None = None) -> bytes:
    challenge = secrets.token_bytes(32)
    with transaction(runtime.engine) as db:
        db.add(PasskeyChallenge(id=_digest(challenge), purpose=purpose, user_id=user_id, step_id=step_id,
                                rp_id=rp[0], origin=rp[1], created_at=now,
                                expires_at=now + timedelta(minutes=CHALLENGE_MINUTES)))
    return challenge


def _parse(credential) -> dict:
    """The browser's answer (PublicKeyCredential.toJSON()) as a dict, or `passkey_failed`."""
    if isinstance(credential, str):
        if len(credential) > MAX_CREDENTIAL_CHARS:
            raise _refuse("passkey_failed")
        try:
            credential = json.loads(credential)
        except ValueError:
            raise _refuse("passkey_failed") from None
    if not isinstance(credential, dict) or not isinstance(credential.get("response"), dict):
        raise _refuse("passkey_failed")
    if len(json.dumps(credential)) > MAX_CREDENTIAL_CHARS:
        raise _refuse("passkey_failed")
    return credential


def _take_challenge(runtime: Runtime, credential: dict, now: datetime) -> PasskeyChallenge:
    """The challenge this answer signed, spent now (whatever follows), or `passkey_expired`."""
    from webauthn.helpers import base64url_to_bytes
    try:
        client_data = json.loads(base64url_to_bytes(credential["response"]["clientDataJSON"]))
        digest = _digest(base64url_to_bytes(client_data["challenge"]))
    except (KeyError, TypeError, ValueError):
        raise _refuse("passkey_failed") from None
    with transaction(runtime.engine) as db:
        row = db.get(PasskeyChallenge, digest)
        taken = row is not None and db.execute(
            delete(PasskeyChallenge).where(PasskeyChallenge.id == digest)).rowcount == 1
    if not taken or row.expires_at <= now:
        raise _refuse("passkey_expired")
    return row


def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor
    out = []
    for passkey in passkeys:
        transports = []
        for name in filter(None, passkey.transports.split(",")):
            try:
                transports.append(AuthenticatorTransport(name))
            except ValueError:
                pass
        out.append(PublicKeyCredentialDescriptor(id=base64url_to_bytes(passkey.credential_id),
                                                 transports=transports or None))
    return out


def _passkeys_of(runtime: Runtime, user_id: str) -> list[Passkey]:
    with transaction(runtime.engine, write=False) as db:
        return list(db.exec(select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at)).all())


def has_passkeys(runtime: Runtime, user_id: str) -> bool:
    with transaction(runtime.engine, write=False) as db:
        return db.exec(select(Passkey.id).where(Passkey.user_id == user_id)).first() is not None


# --- registration ----------------------------------------------------------------------------------

def registration_options(runtime: Runtime, user_id: str, page_origin: str | None, host: str | None,
                         now: datetime | None = None, *, session_token: str | None) -> str:
    """The JSON for navigator.credentials.create(): a discoverable credential (so it can sign
    in without an email), user verification preferred, the account's passkeys excluded.

    A passkey signs in alone (past the second factor) and outlives a password change, so only
    a session with a recent login may add one (session_checks.require_recent_login, here and again
    in `register`): a stolen session cookie alone is not enough."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )
    now = now or utcnow()
    session_checks.require_recent_login(runtime, user_id, session_token, "login_again_passkey", now)
    user = accounts.get_user(runtime, user_id)
    if user is None:
        raise _refuse("gone")
    mine = _passkeys_of(runtime, user.id)
    if len(mine) >= MAX_PASSKEYS:
        raise _refuse("passkey_too_many")
    rp = relying_party(runtime.settings, page_origin, host)
    challenge = _new_challenge(runtime, REGISTER, rp, now, user_id=user.id)
    options = generate_registration_options(
        rp_id=rp[0], rp_name=runtime.settings.brand_title, user_id=user.id.encode("ascii"), user_name=user.email,
        user_display_name=user.email, challenge=challenge, timeout=CEREMONY_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=_descriptors(mine),
    )
    return options_to_json(options)


def clean_name(name) -> str:
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name:
        raise _refuse("passkey_name", "name")
    if len(name) > MAX_NAME_CHARS:
        raise _refuse("passkey_name_long", "name")
    return name


def register(runtime: Runtime, user_id: str, credential, name, now: datetime | None = None, *,
             session_token: str | None) -> PasskeyView:
    """Verify the browser's answer to `registration_options` and keep the passkey (a recent
    login still needed: the ceremony may have outlasted it); the owner is told by mail."""
    from webauthn import verify_registration_response
    from webauthn.helpers import bytes_to_base64url
    now = now or utcnow()
    name = clean_name(name)
    session_checks.require_recent_login(runtime, user_id, session_token, "login_again_passkey", now)
    try:
        answer = _parse(credential)
        challenge = _take_challenge(runtime, answer, now)
    except AccountError as refusal:
        raise (_refuse("passkey_not_added") if refusal.code == "passkey_failed" else refusal) from None
    if challenge.purpose != REGISTER or challenge.user_id != user_id:
        raise _refuse("passkey_expired")
    try:
        verified = verify_registration_response(credential=answer, expected_challenge=_challenge_bytes(answer),
                                                expected_rp_id=challenge.rp_id, expected_origin=challenge.origin)
    except Exception:  # the library's many refusals (and malformed parts): one answer
        raise _refuse("passkey_not_added") from None
    credential_id = bytes_to_base64url(verified.credential_id)
    transports = answer["response"].get("transports")
    transports = ",".join(t for t in transports if isinstance(t, str))[:200] if isinstance(transports, list) else ""
    passkey = Passkey(id=crypto.new_id(), user_id=user_id, credential_id=credential_id,
                      public_key=verified.credential_public_key, sign_count=verified.sign_count, name=name,
                      transports=transports, created_at=now)
    try:
        with transaction(runtime.engine) as db:
            if db.exec(select(Passkey.id).where(Passkey.credential_id == credential_id)).first() is not None:
                raise _refuse("passkey_taken")
            owner = db.get(User, user_id)
            if owner is None:
                raise _refuse("gone")
            db.add(passkey)
            account_mail.send_passkey_added(db, runtime, owner, name, now)
    except IntegrityError:  # the same credential registered at the same moment
        raise _refuse("passkey_taken") from None
    return _view(passkey)


def _challenge_bytes(answer: dict) -> bytes:
    """The challenge the answer names (already matched to a stored one by `_take_challenge`)."""
    from webauthn.helpers import base64url_to_bytes
    return base64url_to_bytes(json.loads(base64url_to_bytes(answer["response"]["clientDataJSON"]))["challenge"])


def _view(passkey: Passkey) -> PasskeyView:
    return PasskeyView(id=passkey.id, name=passkey.name, created_at=passkey.created_at,
                       last_used_at=passkey.last_used_at)


def list_passkeys(runtime: Runtime, user_id: str) -> list[PasskeyView]:
    return [_view(p) for p in _passkeys_of(runtime, user_id)]


def rename(runtime: Runtime, user_id: str, passkey_id, name) -> None:
    name = clean_name(name)
    with transaction(runtime.engine) as db:
        done = db.execute(update(Passkey).where(Passkey.id == str(passkey_id)[:32], Passkey.user_id == user_id)
                          .values(name=name)).rowcount
    if not done:
        raise _refuse("passkey_gone")


def remove(runtime: Runtime, user_id: str, passkey_id, password: str) -> None:
    """Remove one of this account's passkeys: the password first (wrong ones count)."""
    user = accounts.check_current_password(runtime, user_id, password)
    with transaction(runtime.engine) as db:
        passkey_id = str(passkey_id)[:32]
        done = crypto.could_be_id(passkey_id) and db.execute(
            delete(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id)).rowcount
    if not done:
        raise _refuse("passkey_gone")


# --- signing in ------------------------------------------------------------------------------------

def login_options(runtime: Runtime, page_origin: str | None, host: str | None, now: datetime | None = None,
                  ip: str | None = None) -> str:
    """The JSON for navigator.credentials.get() on /login: no email, no list of credentials
    (the browser offers the discoverable ones it holds for this site); user verification
    required.  Each start counts against `ip`'s login attempts (RateLimited)."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement
    now = now or utcnow()
    if not accounts.logins_open(runtime):
        raise _refuse("logins_disabled")
    if ip is not None:
        runtime.throttle.hit("login", ip)
    rp = relying_party(runtime.settings, page_origin, host)
    challenge = _new_challenge(runtime, LOGIN, rp, now)
    return options_to_json(generate_authentication_options(
        rp_id=rp[0], challenge=challenge, timeout=CEREMONY_TIMEOUT_MS,
        user_verification=UserVerificationRequirement.REQUIRED))


def step_options(runtime: Runtime, step_token: str | None, page_origin: str | None, host: str | None,
                 now: datetime | None = None) -> str:
    """The JSON for navigator.credentials.get() as the login step's second factor: the step
    account's passkeys only, user verification preferred (the password was the first factor)."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement
    now = now or utcnow()
    if not accounts.logins_open(runtime):
        raise _refuse("logins_disabled")
    found = login_steps.find(runtime, step_token, now)
    if found is None or found[0].stage != login_steps.CODE:
        raise _refuse("step_expired")
    step, user = found
    mine = _passkeys_of(runtime, user.id)
    if not mine:
        raise _refuse("passkey_none")
    rp = relying_party(runtime.settings, page_origin, host)
    challenge = _new_challenge(runtime, STEP, rp, now, user_id=user.id, step_id=step.id)
    return options_to_json(generate_authentication_options(
        rp_id=rp[0], challenge=challenge, timeout=CEREMONY_TIMEOUT_MS, allow_credentials=_descriptors(mine),
        user_verification=UserVerificationRequirement.PREFERRED))


def _count_failure(runtime: Runtime, user: User, now: datetime, attempt: login_attempts.Attempt | None = None) -> None:
    """A failed sign-in, counted: on the `attempt` reserved for it, or on one reserved now."""
    attempt = attempt or login_attempts.reserve(runtime, accounts.email_digest(runtime, user.email), now)
    until = login_attempts.count_wrong(runtime, attempt, now, user)
    if until is not None:
        raise LoginLocked(until)
    raise _refuse("passkey_failed")


def _check_assertion(runtime: Runtime, answer: dict, challenge: PasskeyChallenge, passkey: Passkey, user: User,
                     require_uv: bool, now: datetime, attempt: login_attempts.Attempt) -> None:
    """The signature, RP id, origin, flags and counter; then the new counter, once."""
    from webauthn import verify_authentication_response
    try:
        verified = verify_authentication_response(
            credential=answer, expected_challenge=_challenge_bytes(answer), expected_rp_id=challenge.rp_id,
            expected_origin=challenge.origin, credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count, require_user_verification=require_uv)
    except Exception:  # a wrong signature, origin or counter, or a malformed part
        _count_failure(runtime, user, now, attempt)
    with transaction(runtime.engine) as db:
        moved = db.execute(update(Passkey).where(Passkey.id == passkey.id, Passkey.sign_count == passkey.sign_count)
                           .values(sign_count=verified.new_sign_count, last_used_at=now)).rowcount
    if not moved:  # another sign-in with it got there first
        _count_failure(runtime, user, now, attempt)


def sign_in(runtime: Runtime, credential, step_token: str | None, ip: str, remember: bool = False,
            now: datetime | None = None) -> accounts.LoggedIn:
    """A passkey's answer to `login_options` (alone: user verification required) or to
    `step_options` (the second factor of the login step behind `step_token`): the session.

    Raises RateLimited, LoginLocked, or AccountError `passkey_expired` (no such challenge:
    spent, stale, or another's), `passkey_failed` (counted like a wrong password when the
    passkey names an account), `step_expired`, `email_unconfirmed`, `logins_disabled`."""
    from webauthn.helpers import bytes_to_base64url
    now = now or utcnow()
    if not accounts.logins_open(runtime):
        raise _refuse("logins_disabled")
    runtime.throttle.hit("login", ip)
    answer = _parse(credential)
    challenge = _take_challenge(runtime, answer, now)
    step = None
    if challenge.purpose == STEP:
        found = login_steps.find(runtime, step_token, now)
        if found is None or found[0].id != challenge.step_id or found[0].stage != login_steps.CODE:
            raise _refuse("step_expired")
        step = found[0]
    elif challenge.purpose != LOGIN:
        raise _refuse("passkey_expired")
    credential_id = answer.get("rawId") or answer.get("id")
    with transaction(runtime.engine, write=False) as db:
        found = db.exec(select(Passkey, User).join(User, User.id == Passkey.user_id)
                        .where(Passkey.credential_id == str(credential_id)[:1400])).first()
    if found is None:
        if step is not None:  # not one of this account's passkeys: a wrong second factor
            _count_failure(runtime, accounts.get_user(runtime, step.user_id), now)
        raise _refuse("passkey_failed")
    passkey, user = found
    if step is not None and user.id != step.user_id:
        _count_failure(runtime, accounts.get_user(runtime, step.user_id), now)
    handle = answer["response"].get("userHandle")
    if handle and handle != bytes_to_base64url(user.id.encode("ascii")):
        _count_failure(runtime, user, now)
    # Counted before it is checked (core/login_attempts.py), as passwords and codes are.
    attempt = login_attempts.reserve(runtime, accounts.email_digest(runtime, user.email), now)
    _check_assertion(runtime, answer, challenge, passkey, user, step is None, now, attempt)
    if account_mail.awaits_confirmation(runtime, user):
        login_attempts.give_back(runtime, attempt)  # a right passkey: no wrong guess
    return _open(runtime, user, step, remember, now)


def _open(runtime: Runtime, user: User, step, remember: bool, now: datetime) -> accounts.LoggedIn:
    if account_mail.awaits_confirmation(runtime, user):
        raise _refuse("email_unconfirmed")
    with transaction(runtime.engine) as db:
        accounts.end_lock_out(db, runtime, user.email)
        accounts.promote_listed_admin(db, runtime, user, now)
        if step is not None:
            if not login_steps.spend(db, step):
                raise _refuse("step_expired")
            remember = step.remember
    return accounts.LoggedIn(user=user, session_token=accounts.open_session(runtime, user.id, remember, now),
                             remember=remember)


def delete_stale_challenges(runtime: Runtime, now: datetime | None = None) -> int:
    now = now or utcnow()
    with transaction(runtime.engine) as db:
        return db.execute(delete(PasskeyChallenge).where(PasskeyChallenge.expires_at <= now)).rowcount
