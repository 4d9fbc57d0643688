"""The version endpoints: the CLI probes /api/v2/version (200 selects the v2 dialect)."""

from __future__ import annotations

from pwpush_app.settings import Settings
from pwpush_app.version import application_version  # noqa: F401  (also imported from here)


def version_v1() -> dict:
    return {"application_version": application_version(), "api_version": "1.5", "edition": "oss"}


def version_v2(settings: Settings) -> dict:
    return {
        "application_version": application_version(),
        "api_version": "2.1",
        "edition": "oss",
        "features": {
            "anonymous_access": settings.allow_anonymous,
            "api_token_authentication": True,
            # Password Pusher Pro's "several accounts per token"; the CLI would ask for them.
            "accounts": {"enabled": False},
            "pushes": {
                "enabled": True,
                "email_auto_dispatch": False,
                "file_attachments": {
                    "enabled": settings.policy("file").enabled,
                    "requires_authentication": settings.files_require_login,
                },
                "url_pushes": {"enabled": settings.policy("url").enabled},
                "qr_code_pushes": {"enabled": settings.policy("qr").enabled},
            },
            "requests": {"enabled": False},
        },
    }
