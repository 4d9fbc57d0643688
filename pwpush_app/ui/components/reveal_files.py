"""What the reveal page shows of a file push's files: the download list (or, for an
end-to-end push, the list the browser fills with the decrypted files) and the line about
how long and how often they can be downloaded.  Names and grants leave as event results."""

from __future__ import annotations

import json

import reflex as rx

from pwpush_app.core.file_names import describe_bytes
from pwpush_app.core.i18n import N_
from pwpush_app.core.links import download_all_path, download_path
from pwpush_app.core.reveal import Revealed
from pwpush_app.ui.common import format_time, plural
from pwpush_app.ui.components.audit_words import iso_moment
from pwpush_app.ui.components.e2e import E2E_FILES_ID

# Whole sentences (one catalogue entry each): the page shows them in the viewer's language.
E2E_HINT = N_("Your browser downloaded and decrypted the files: save each one now. "
              "This page can't fetch them again once you leave or reload it.")
E2E_LAST_VIEW_HINT = N_("That was the last view: the files are deleted from the server. Your browser downloaded and "
                        "decrypted the files: save each one now. This page can't fetch them again once you leave or "
                        "reload it.")
LAST_VIEW_HINT = N_("That was the last view: each file can be downloaded once in the next {grace_minutes}, then it is "
                    "deleted. Download them now. A download that stops half-way doesn't count: press Download again.")
UNTIL_HINT = N_("The download links work until {time}.")


def files_shown(revealed: Revealed, target: str, grace_minutes: int) -> tuple[str, list[dict], bool, rx.EventSpec]:
    """(the downloads' hint in English, the same as sentences for the viewer's language (ui/i18n.py
    `refusal_text`), whether it replaces the views-left line, the event that fills the list)."""
    grant = revealed.downloads
    listing = [
        {"name": f.name, "size": describe_bytes(f.size), "href": download_path(grant.grant, f.index)}
        for f in grant.files
    ]
    if revealed.push.end_to_end:
        # The browser fetches and decrypts them at once (once each, on the last view).
        hint = E2E_LAST_VIEW_HINT if grant.once_each else E2E_HINT
        return hint, [], grant.once_each, rx.set_value(E2E_FILES_ID, json.dumps({"files": listing}))
    if grant.once_each:
        hint = LAST_VIEW_HINT.replace("{grace_minutes}", plural(grace_minutes, "minute"))
        sentences = [{"text": LAST_VIEW_HINT, "values": {"grace_minutes": grace_minutes}}]
    else:
        hint = UNTIL_HINT.replace("{time}", format_time(grant.until))
        sentences = [{"text": UNTIL_HINT, "values": {"time": iso_moment(grant.until)}}]
    return hint, sentences, grant.once_each, rx.set_value(target, json.dumps({"files": listing, "all": download_all_path(grant.grant)}))
