"""Every link the service hands out, built in one place.

Secret links (`/p/<token>`), their JSON twins, the creator's manage links, and file
download links.  Pages, API answers, QR codes and emails all take theirs from here.

A link starts with a base URL, which `base_url_for` decides, once per request:
- the configured one (`PWP__OVERRIDE_BASE_URL`: `settings.base_url_configured`) always;
- otherwise the address the sender is using, when its host is allowed (`host_allowed`):
  a page passes its origin (Reflex's router data: the browser's own address), the API
  the request's scheme and Host header.  So a server opened by IP or host name without a
  configured base URL hands out links that work from where it was opened;
- otherwise the default, `settings.base_url` (http://localhost:3000).
Every link builder takes that base URL as its first argument.

A link that goes to someone other than the requester (an email) must not come from a Host
header nobody checked: pass an origin only where `settings.allowed_hosts` is set or the
link goes back to the one who sent that Host.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pwpush_app.settings import Settings

# A Host header's value: a DNS name or IPv4 address, or an [IPv6] literal, with an optional port.
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$")


def _split_host(host: str) -> tuple[str, str]:
    """'Example.com:8443' -> ('example.com', '8443'); '[::1]:3000' -> ('[::1]', '3000')."""
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host.partition("]")
        return name + "]", rest[1:] if rest.startswith(":") else ""
    name, _, port = host.partition(":")
    return name.rstrip("."), port


def host_allowed(settings: Settings, host: str | None) -> bool:
    """May links name this host (a Host header's value, port included)?

    Only a well-formed host.  With `settings.allowed_hosts` (PWP__ALLOWED_HOSTS) set, only
    those: an entry without a port allows any port, one with a port only that port, and an
    entry ".example.com" also allows its subdomains; the configured base URL's host is
    always allowed.  Without the setting, any well-formed host, as in Password Pusher
    (Rails: no `config.hosts`, no restriction)."""
    if not host or len(host) > 260 or not _HOST.match(host.strip().lower()):
        return False
    if not settings.allowed_hosts:
        return True
    name, port = _split_host(host)
    entries = [*settings.allowed_hosts, urlsplit(settings.base_url).netloc]
    for entry in entries:
        entry_name, entry_port = _split_host(entry)
        if entry_port and entry_port != port:
            continue
        if name == entry_name or (entry_name.startswith(".") and (name == entry_name[1:] or name.endswith(entry_name))):
            return True
    return False


def base_url_for(settings: Settings, origin: str | None = None) -> str:
    """The base URL of the links in an answer to a sender at `origin` ("https://host[:port]",
    the address they are using): see the module's docstring."""
    if settings.base_url_configured or not origin:
        return settings.base_url
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or parts.path not in ("", "/") or parts.query or parts.username:
        return settings.base_url
    if not host_allowed(settings, parts.netloc):
        return settings.base_url
    return f"{parts.scheme}://{parts.netloc.lower()}"


def same_site_origin(settings: Settings, origin: str | None, host: str | None) -> bool:
    """Is `origin` (a request's Origin header) one of this site's pages, for a request that
    arrived for `host` (its Host header)?  The configured site's origins always are; without
    a configured base URL, so is the request's own origin (scheme aside: a TLS proxy in
    front), when its host is allowed.  For the websocket's and the forms' origin checks."""
    if not origin:
        return False
    if origin in settings.site_origins:
        return True
    if settings.base_url_configured or not host:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.strip().lower() and host_allowed(settings, host)


def secret_path(url_token: str) -> str:
    return f"/p/{url_token}"


def secret_link(base_url: str, url_token: str) -> str:
    return _base(base_url) + secret_path(url_token)


def secret_json_link(base_url: str, url_token: str) -> str:
    return secret_link(base_url, url_token) + ".json"


def manage_path(manage_token: str) -> str:
    return f"/manage/{manage_token}"


def manage_link(base_url: str, manage_token: str) -> str:
    return _base(base_url) + manage_path(manage_token)


def download_path(grant: str, index: int) -> str:
    """A file's download link, served by the API app on the one port; the grant is the permission."""
    return f"/d/{grant}/{index}"


def download_link(base_url: str, grant: str, index: int) -> str:
    return _base(base_url) + download_path(grant, index)


def download_all_path(grant: str) -> str:
    """Every file of the grant in one zip, streamed (api/downloads.py)."""
    return f"/d/{grant}/all.zip"


def _base(base_url: str) -> str:
    # A Settings object here (the signature before base URLs were per request) would make
    # links that look like links and lead nowhere: refuse it loudly.
    if not isinstance(base_url, str):
        raise TypeError("links take a base URL (links.base_url_for), not the settings")
    return base_url


def account_link(base_url: str, action: str, token: str) -> str:
    """A link mailed to an account's owner: /account/<confirm|reset|unlock|email>/<token>."""
    return f"{_base(base_url)}/account/{action}/{token}"


def request_path(request_token: str) -> str:
    """A request's link (core/requests.py): whoever holds it may answer once."""
    return f"/ask/{request_token}"


def request_link(base_url: str, request_token: str) -> str:
    return _base(base_url) + request_path(request_token)
