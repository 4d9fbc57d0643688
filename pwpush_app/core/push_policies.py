"""The sender's policies on who may open a push, and what each viewer learns of the views
before theirs (issue 21).

- **Address allow-list** (`allowed_ips`): up to 20 IPv4/IPv6 addresses or CIDR networks.
  A reveal, a recipient's delete, a file download or a preview from any other address is
  answered exactly as an unknown link is (`AddressRefused` is a `PushUnavailable` without
  the expired push), and written in the audit trail (`refused_address`, with the address).
  The landing page reads only: it refuses the same way and writes nothing.  The address is
  the client's as core/network.py resolves it: X-Forwarded-For counts only through trusted
  proxies, so a client can't name an allowed address in a header.  An unknown address
  (none, or not an IP) is outside every list.  The list binds everyone who opens the link,
  its owner included; the owner's manage page, dashboard and API lists are not links.
- **Burn after N wrong passphrases** (`burn_after_failed_passphrases`, 1..10, only with a
  passphrase): wrong passphrases from every address count together over the push's whole
  life; the Nth expires it (reason `guesses`, the `passphrase_burn` event before it), which
  deletes its payload, note and files as any expiry does.  The lock-outs per client and
  per push (core/reveal.py) apply as well: whichever comes first.
- **Opened before** (`OpenedBefore`): on a push of more than one view, the view's own
  UPDATE keeps the first view's time and the one before the newest, so each viewer is told
  how often and when it was opened before them ("Opened 1 time before, 3 minutes ago"):
  an intercepted link shows.  No extra query: the times come back with the view.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlmodel import Session

from pwpush_app.core import audit
from pwpush_app.core.audit import Client
from pwpush_app.core.db import transaction
from pwpush_app.core.errors import DownloadUnavailable, PushUnavailable
from pwpush_app.core.i18n import N_, said
from pwpush_app.core.models import Push
from pwpush_app.core.runtime import Runtime

MAX_ALLOWED_IPS = 20
MAX_ENTRY_CHARS = 64
BURN_MIN, BURN_MAX = 1, 10
# The expiry reason of a push burned by wrong passphrases (expired_reason holds 8 characters).
BURNED = "guesses"
EXAMPLES = "203.0.113.0/24, 2001:db8::/32 or 198.51.100.7"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressRefused(PushUnavailable):
    """The link was opened from outside its allow-list: to the caller, an unknown link.
    (A subclass only so a door that tells unknown from expired answers it as unknown.)"""

    def __init__(self, push_id: str = ""):
        self.push_id = push_id
        super().__init__()


# --- checking a sender's request ----------------------------------------------------------------

def check_policies(allowed_ips, burn_after, has_passphrase: bool, errors: dict[str, str]) -> dict:
    """The policies a create request asks for, resolved (`allowed_ips` as stored, None for
    none), or their messages added to `errors`.  `has_passphrase`: a passphrase, or a
    recipient to verify by code (whose wrong codes count the same)."""
    networks = _parse_request(allowed_ips, errors)
    burn = None if burn_after in (None, "") else burn_after
    if burn is not None:
        if not isinstance(burn, int) or isinstance(burn, bool) or not BURN_MIN <= burn <= BURN_MAX:
            errors["burn_after_failed_passphrases"] = said(
                N_("Delete after wrong passphrases: a whole number from {min} to {max}, or leave it empty."),
                min=BURN_MIN, max=BURN_MAX)
        elif not has_passphrase:
            errors["burn_after_failed_passphrases"] = N_(
                "Deleting after wrong passphrases needs a passphrase (or a recipient's email to verify): "
                "set one, or leave this empty.")
    return {"allowed_ips": " ".join(networks) or None, "burn_after_failed_passphrases": burn}


def _parse_request(value, errors: dict[str, str]) -> list[str]:
    """Addresses and networks as text (separated by spaces, commas or new lines) or a list of
    texts, each canonical, without repeats; messages say which entry is wrong and why."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        entries = value.replace(",", " ").split()
    elif isinstance(value, list) and all(isinstance(entry, str) for entry in value):
        entries = [part for entry in value for part in entry.replace(",", " ").split()]
    else:
        errors["allowed_ips"] = said(N_("Allowed addresses must be text or a list of texts, e.g. {examples}."),
                                     examples=EXAMPLES)
        return []
    found: list[str] = []
    for entry in entries:
        canonical = _canonical(entry)
        if canonical.startswith("!"):
            errors["allowed_ips"] = canonical[1:]
            return []
        if canonical not in found:
            found.append(canonical)
    if len(found) > MAX_ALLOWED_IPS:
        errors["allowed_ips"] = said(N_("At most {max} addresses or networks ({count} given): join neighbours into a "
                                        "wider network, e.g. 203.0.113.0/24."), max=MAX_ALLOWED_IPS, count=len(found))
        return []
    return found


def _canonical(entry: str) -> str:
    """An entry as it is stored (an address alone, or a network), or "!" and what is wrong."""
    shown = entry if len(entry) <= MAX_ENTRY_CHARS else entry[:MAX_ENTRY_CHARS] + "…"
    try:
        network = ipaddress.ip_network(entry, strict=True) if len(entry) <= MAX_ENTRY_CHARS else None
    except ValueError:
        try:
            loose = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            network = None
        else:
            return (f"!{shown} has bits set after the /{loose.prefixlen}: write {loose} for the network, "
                    f"or {entry.split('/')[0]} alone for the one address.")
    if network is None:
        return f"!{shown!r} is not an IPv4 or IPv6 address or network: write e.g. {EXAMPLES}."
    if network.num_addresses == 1:
        return str(network.network_address)
    return str(network)


# --- the gate -------------------------------------------------------------------------------------

@lru_cache(maxsize=1024)
def _networks(stored: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry) for entry in stored.split())


def address_allowed(push: Push, ip: str) -> bool:
    """The push may be opened from `ip`: it has no list, or `ip` is in one of its networks.
    An IPv4 address mapped into IPv6 counts as the IPv4 address; no address is in no list."""
    if not push.allowed_ips:
        return True
    try:
        address = ipaddress.ip_address((ip or "").strip().split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == network.version and address in network for network in _networks(push.allowed_ips))


def refuse_unless_allowed(db: Session, push: Push | None, client: Client, now: datetime) -> None:
    """Log `refused_address` and raise AddressRefused when `client` is outside the push's
    list (the caller's transaction keeps the event: catch it inside, raise it after)."""
    if push is not None and not address_allowed(push, client.ip):
        audit.record(db, push.id, audit.REFUSED_ADDRESS, client, now)
        raise AddressRefused(push.id)


def check_download_address(push: Push | None, client: Client) -> None:
    """A download from outside the push's list: raise AddressRefused (inside the download's
    transaction, whose work it rolls back); the download's caller logs it with
    `refused_download`."""
    if push is not None and not address_allowed(push, client.ip):
        raise AddressRefused(push.id)


def refused_download(runtime: Runtime, refusal: AddressRefused, client: Client, now: datetime) -> DownloadUnavailable:
    """Log the refusal in a transaction of its own; what to raise: an unknown download's answer."""
    with transaction(runtime.engine) as db:
        audit.record(db, refusal.push_id, audit.REFUSED_ADDRESS, client, now)
    return DownloadUnavailable()


def allowed_ips_list(push: Push) -> list[str]:
    """The allow-list as its owner sees it ([] for none)."""
    return (push.allowed_ips or "").split()


# --- burn after N wrong passphrases ----------------------------------------------------------------

def burns_left(push: Push, wrong_so_far: int) -> int | None:
    """Wrong passphrases the push takes before it is deleted, with `wrong_so_far` counted
    (None: it never burns)."""
    if not push.burn_after_failed_passphrases or not (push.has_passphrase or push.verifies_recipient):
        return None
    return max(push.burn_after_failed_passphrases - wrong_so_far, 0)


# --- opened before ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class OpenedBefore:
    """How often, and when, a push was viewed before this view (owners' looks are no views).
    The times are None for views taken before the times were kept (issue 21)."""

    count: int
    first_at: datetime | None
    last_at: datetime | None

    def describe(self, now: datetime) -> str:
        """What the viewer reads."""
        if self.count == 0:
            return "Nobody opened this link before you."
        times = "1 time" if self.count == 1 else f"{self.count} times"
        if self.last_at is None:
            when = ""
        elif self.count == 1 or self.first_at is None:
            when = f", {ago(self.last_at, now)}"
        else:
            when = f": first {ago(self.first_at, now)}, last {ago(self.last_at, now)}"
        return (f"Opened {times} before{when}. If you didn't expect that, tell the sender: "
                "someone else may have had the link.")


def opened_before(push: Push) -> OpenedBefore | None:
    """For the push as the view's UPDATE returned it: what its viewer is told (None for a
    push of one view, whose viewer is the only one)."""
    if push.expire_after_views <= 1:
        return None
    count = max(push.views_used - 1, 0)
    if count == 0:
        return OpenedBefore(0, None, None)
    # The UPDATE wrote this view's time as the first when none was kept (older views).
    first = push.first_viewed_at if push.first_viewed_at != push.last_viewed_at else None
    return OpenedBefore(count, first, push.previous_viewed_at)


def ago(moment: datetime, now: datetime) -> str:
    """'just now', '3 minutes ago', '2 hours ago', '5 days ago'."""
    seconds = max((now - moment).total_seconds(), 0)
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            amount = int(seconds // size)
            return f"{amount} {unit}{'s' if amount != 1 else ''} ago"
    return "just now"
