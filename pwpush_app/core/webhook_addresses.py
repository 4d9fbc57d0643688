"""Which hosts a webhook may call: public (globally routable) addresses only.

Any account names its endpoints, so a call must not be a way into this server's own
networks (a port scan of loopback, the cloud's metadata address, an internal admin page).
An address is public when it is globally routable: not loopback, private, link-local,
shared (100.64/10), multicast, reserved or unspecified; an IPv4 address wrapped in IPv6
(IPv4-mapped, 6to4, NAT64) is judged as itself.  Registration refuses what is known without
DNS (check_url); each call checks every address the name resolves to (webhook_calls.py).
PWPUSH_WEBHOOK_ALLOW_PRIVATE lifts the rule (development, the tests' local receivers).
No httpcore here: check_url runs at registration, and httpcore costs ~50 ms to import.
"""

from __future__ import annotations

import ipaddress

from pwpush_app.core.i18n import N_

NOT_PUBLIC = N_("Webhooks go only to public addresses: this one is on this server or a private network.")
# 64:ff9b::/96 (RFC 6052) and 64:ff9b:1::/48 (RFC 8215) carry an IPv4 address in their last 32 bits.
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in network for network in NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: Address) -> bool:
    """A globally routable address (an IPv4 one wrapped in IPv6 is judged as itself)."""
    inner = _embedded_ipv4(address)
    if inner is not None and not is_public(inner):
        return False
    return address.is_global and not (address.is_private or address.is_loopback or address.is_link_local
                                      or address.is_multicast or address.is_reserved or address.is_unspecified)


def literal_address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


def is_this_machine(host: str) -> bool:
    """localhost, *.localhost or a loopback address."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = literal_address(host)
    return address is not None and address.is_loopback


def obviously_not_public(host: str) -> bool:
    """Known without asking DNS: this machine, or an address that is not public."""
    address = literal_address(host)
    return is_this_machine(host) or (address is not None and not is_public(address))
