"""Who is the client: the peer address, or X-Forwarded-For through trusted proxy hops only."""

from __future__ import annotations

import ipaddress


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
