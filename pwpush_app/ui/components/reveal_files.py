"""What the reveal page shows of a file push's files: the download list (or, for an
end-to-end push, the list the browser fills with the decrypted files) and the line about
how long and how often they can be downloaded.  Names and grants leave as event results."""

from __future__ import annotations

import json

import reflex as rx

from pwpush_app.core.file_names import describe_bytes
from pwpush_app.core.links import download_all_path, download_path
from pwpush_app.core.reveal import Revealed
from pwpush_app.ui.common import format_time, plural
from pwpush_app.ui.components.e2e import E2E_FILES_ID

E2E_HINT = ("Your browser downloaded and decrypted the files: save each one now. "
            "This page can't fetch them again once you leave or reload it.")
E2E_LAST_VIEW = "That was the last view: the files are deleted from the server. "


def files_shown(revealed: Revealed, target: str, grace_minutes: int) -> tuple[str, bool, rx.EventSpec]:
    """(the downloads' hint, whether it replaces the views-left line, the event that fills the list)."""
    grant = revealed.downloads
    listing = [
        {"name": f.name, "size": describe_bytes(f.size), "href": download_path(grant.grant, f.index)}
        for f in grant.files
    ]
    if revealed.push.end_to_end:
        # The browser fetches and decrypts them at once (once each, on the last view).
        return (E2E_LAST_VIEW if grant.once_each else "") + E2E_HINT, grant.once_each, rx.set_value(E2E_FILES_ID, json.dumps({"files": listing}))
    if grant.once_each:
        hint = (
            f"That was the last view: each file can be downloaded once in the next {plural(grace_minutes, 'minute')}, "
            "then it is deleted. Download them now. A download that stops half-way doesn't count: "
            "press Download again."
        )
    else:
        hint = f"The download links work until {format_time(grant.until)}."
    return hint, grant.once_each, rx.set_value(target, json.dumps({"files": listing, "all": download_all_path(grant.grant)}))
