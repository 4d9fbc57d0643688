"""`passkey_ceremony`: passkeys' browser part (assets/components/passkey_ceremony.js), started
by `rx.set_value(CEREMONY_ID, start(...))` from a server event, its outcome handed to the
`on_result` event.  Our CSP allows no eval, so rx.call_script cannot carry the script."""

from __future__ import annotations

import json

import reflex as rx
from reflex_base.event import passthrough_event_spec

CEREMONY_ID = "passkey-ceremony"


class PasskeyCeremony(rx.Component):
    library = rx.asset("components/passkey_ceremony.js").importable_path
    tag = "PasskeyCeremony"

    on_result: rx.EventHandler[passthrough_event_spec(dict)]


def passkey_ceremony(on_result) -> rx.Component:
    return PasskeyCeremony.create(id=CEREMONY_ID, on_result=on_result)


def start(options_json: str, mode: str, action: str = ""):
    """The event that starts the browser's part: `mode` "create" or "get", with the server's options."""
    return rx.set_value(CEREMONY_ID, json.dumps({"mode": mode, "options": json.loads(options_json), "action": action}))
