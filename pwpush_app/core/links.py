"""Every link the service hands out, built in one place from the site's base URL.

Secret links (`/p/<token>`), their JSON twins, the creator's manage links, and file
download links.  Pages, API answers, QR codes and emails all take theirs from here.
"""

from __future__ import annotations

from pwpush_app.settings import Settings


def secret_path(url_token: str) -> str:
    return f"/p/{url_token}"


def secret_link(settings: Settings, url_token: str) -> str:
    return settings.base_url + secret_path(url_token)


def secret_json_link(settings: Settings, url_token: str) -> str:
    return secret_link(settings, url_token) + ".json"


def manage_path(manage_token: str) -> str:
    return f"/manage/{manage_token}"


def manage_link(settings: Settings, manage_token: str) -> str:
    return settings.base_url + manage_path(manage_token)


def download_path(grant: str, index: int) -> str:
    """A file's download link, served by the API app on the one port; the grant is the permission."""
    return f"/d/{grant}/{index}"


def download_link(settings: Settings, grant: str, index: int) -> str:
    return settings.base_url + download_path(grant, index)


def account_link(settings: Settings, action: str, token: str) -> str:
    """A link mailed to an account's owner: /account/<confirm|reset|unlock|email>/<token>."""
    return f"{settings.base_url}/account/{action}/{token}"
