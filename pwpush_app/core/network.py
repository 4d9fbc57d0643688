"""Who is the client: the peer address, or X-Forwarded-For through trusted proxies only (hops
or networks); how many proxies it came through; and which network a limit counts it in."""

from __future__ import annotations

import ipaddress

# One IPv6 customer usually holds a whole /64 (often far more): counting single addresses
# would give each of them 2^64 fresh starts against every per-client limit.
DEFAULT_IPV6_PREFIX = 64


def client_ip(peer: str | None, forwarded_for: str | None, trusted_hops: int, trusted_networks: tuple = ()) -> str:
    """The client's IP address.

    With `trusted_hops` = N reverse proxies in front of the app, the Nth address from the
    right of X-Forwarded-For is the client (each proxy appends the address it saw).  With
    `trusted_networks` (Password Pusher's list of proxy addresses), the header counts only
    when the peer is one of them, and the client is the rightmost address that is not.
    With neither the header is ignored: a client can write anything into it.
    """
    peer = (peer or "").strip()
    if trusted_networks:
        return _through_trusted_networks(peer, forwarded_for, trusted_networks)
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


def proxies_passed(peer: str | None, forwarded_for: str | None, trusted_hops: int, trusted_networks: tuple = ()) -> int:
    """How many trusted proxies the request came through: which entry (from the right) of a
    proxy's X-Forwarded-Proto is the one the client's connection gave.  The hops form: that
    many; the list form: none unless the peer is one of the networks, then one for it and one
    for each proxy address X-Forwarded-For ends with (as `client_ip` walks it)."""
    if not trusted_networks:
        return max(trusted_hops, 0)
    if not _is_in((peer or "").strip(), trusted_networks):
        return 0
    passed = 1
    for part in reversed([p.strip() for p in (forwarded_for or "").split(",") if p.strip()]):
        if not _is_in(part, trusted_networks):
            break
        passed += 1
    return passed


def _is_in(address: str, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in networks)


def _through_trusted_networks(peer: str, forwarded_for: str | None, networks: tuple) -> str:
    if not forwarded_for or not _is_in(peer, networks):
        return peer
    client = peer
    for part in reversed([p.strip() for p in forwarded_for.split(",") if p.strip()]):
        try:
            client = str(ipaddress.ip_address(part))
        except ValueError:
            return client  # garbage from the left: stop at the last address a proxy wrote
        if not _is_in(client, networks):
            return client
    return client


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
