"""Who is locked out of a push by wrong passphrases (and wrong verification codes) right now:
what its owner sees, counted from the audit trail as core/guesses.py's limits count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pwpush_app.core.clock import utcnow
from pwpush_app.core.db import transaction
from pwpush_app.core.guesses import guess_windows, recent_guesses
from pwpush_app.core.models import Push
from pwpush_app.core.network import client_network
from pwpush_app.core.runtime import Runtime


@dataclass(frozen=True)
class Lockout:
    """Recipients refused for a while after wrong passphrases: one client (`ip`, counted by
    its network as the limit counts), or everyone (`ip` None) when the push's limit was hit."""

    ip: str | None
    until: datetime


def passphrase_lockouts(runtime: Runtime, push: Push, now: datetime | None = None) -> list[Lockout]:
    """Who is locked out of this push by wrong passphrases right now, and until when: what its
    owner sees (the same counting as `guesses.reserve_attempt`, from the audit trail)."""
    if not push.has_passphrase and not push.verifies_recipient:
        return []
    now = now or utcnow()
    settings = runtime.settings
    client_window, push_window = guess_windows(runtime)
    with transaction(runtime.engine, write=False) as db:
        recent = recent_guesses(db, runtime, push.id, now)
    found = []
    everyone = sorted(at for _ip, at in recent if at > now - push_window)
    if len(everyone) >= settings.passphrase_push_max_failures:
        found.append(Lockout(None, everyone[-settings.passphrase_push_max_failures] + push_window))
    by_network: dict[str, list[tuple[datetime, str]]] = {}
    for ip, at in recent:
        if at > now - client_window:
            by_network.setdefault(client_network(ip, settings.ipv6_prefix), []).append((at, ip))
    for attempts in by_network.values():
        attempts.sort()
        if len(attempts) >= settings.passphrase_max_failures:
            found.append(Lockout(attempts[-1][1], attempts[-settings.passphrase_max_failures][0] + client_window))
    return sorted(found, key=lambda lockout: lockout.until)
