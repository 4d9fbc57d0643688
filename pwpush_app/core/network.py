"""Who is the client: the peer address, or X-Forwarded-For through trusted proxy hops only;
and which network a limit counts it in."""

from __future__ import annotations

import ipaddress

# One IPv6 customer usually holds a whole /64 (often far more): counting single addresses
# would give each of them 2^64 fresh starts against every per-client limit.
DEFAULT_IPV6_PREFIX = 64


def client_ip(peer: str | None, forwarded_for: str | None, trusted_hops: int) -> str:
    """The client's IP address.

    With `trusted_hops` = N reverse proxies in front of the app, the Nth address from the
    right of X-Forwarded-For is the client (each proxy appends the address it saw).  With
    0 hops the header is ignored: a client can write anything into it.
    """
    peer = (peer or "").strip()
    if trusted_hops <= 0 or not forwarded_for:
        return peer
    hops = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    if len(hops) < trusted_hops:
        return peer
    candidate = hops[-trusted_hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer


def client_network(ip: str, ipv6_prefix: int = DEFAULT_IPV6_PREFIX) -> str:
    """What every per-client limit counts: an IPv4 address as it is, an IPv6 address as
    its network of `ipv6_prefix` bits (``2001:db8:1:2::/64``).  An IPv4 address mapped
    into IPv6 counts as the IPv4 address; anything unparsable counts as itself."""
    try:
        address = ipaddress.ip_address((ip or "").strip().split("%", 1)[0])
    except ValueError:
        return (ip or "-")[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, ipv6_prefix), strict=False))
    return str(address)
