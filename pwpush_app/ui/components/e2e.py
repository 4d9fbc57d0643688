"""End-to-end pushes' browser part (assets/components/e2e*.js; the formats are core/e2e.py's
and core/e2e_files.py's).

- `e2e_opener`: on the reveal page, filled by `rx.set_value(OPENER_ID, envelope)` after the
  usual reveal; it decrypts in the browser with the key from the link's fragment (and the
  passphrase, asked for there) and puts the text into the secret's field.
- `e2e_files`: on the reveal page, filled like `file_links` with the download links; it
  downloads each file, decrypts it in the browser and offers it under its real name.
- `e2e_key_gate`: around the reveal button (or the reveal on load) of an end-to-end push: with
  no key in the link, Reveal is disabled (the reveal on load held) before a view is spent.
- `e2e_sealer`: on the create page, while `on`, it holds the form's submit, encrypts the
  secret into the hidden `#e2e-envelope` and submits again; while `files_on`, the same for the
  files' button, with each chosen file encrypted for `SEALED_FILES`; `sealer_links` gives it
  the new push's links, which it completes with '#<key>' (and draws the QR code of) in the browser.
Loading the module on a link's page also takes the key out of the address bar before the
websocket connects (Reflex sends the URL with every event).
"""

from __future__ import annotations

import json

import reflex as rx
from reflex.vars import VarData
from reflex_base.event import no_args_event_spec
from reflex_base.utils.imports import ImportVar

from pwpush_app.ui.components.file_links import FILE_LIST_STYLE
from pwpush_app.ui.i18n import N_, t

OPENER_ID = "e2e-opener"
SEALER_ID = "e2e-sealer"
ENVELOPE_ID = "e2e-envelope"
E2E_FILES_ID = "e2e-files"
LIBRARY = rx.asset("components/e2e.js").importable_path
FILES_LIBRARY = rx.asset("components/e2e_files.js").importable_path
CORE_LIBRARY = rx.asset("components/e2e_core.js").importable_path
# The chosen files as the sealer encrypted them: what the files' upload sends while it seals.
SEALED_FILES = rx.Var("sealedFiles()", _var_data=VarData(imports={LIBRARY: [ImportVar(tag="sealedFiles")]}))
# The QR code of a link with its key is drawn in the browser (the server never has the key).
QR_LIBRARY = "qrcode@1.5.4"


class E2ELinkKey(rx.Component):
    """Wraps the whole app (pwpush_app.py: `extra_app_wraps`): its module takes the key out of
    a link's address before the websocket's first event, which carries the page's URL."""

    library = LIBRARY
    tag = "E2ELinkKey"
    lib_dependencies: list[str] = [QR_LIBRARY]


def link_key_wrap(stateful: bool) -> rx.Component:
    return E2ELinkKey.create()


class E2EOpener(rx.Component):
    library = LIBRARY
    tag = "E2EOpener"
    lib_dependencies: list[str] = [QR_LIBRARY]

    target: rx.Var[str]
    # Its texts in the visitor's language (opener_words); English when not given.
    words: rx.Var[dict]


class E2ESealer(rx.Component):
    library = LIBRARY
    tag = "E2ESealer"
    lib_dependencies: list[str] = [QR_LIBRARY]

    form: rx.Var[str]
    payload: rx.Var[str]
    passphrase: rx.Var[str]
    envelope_id: rx.Var[str]
    on: rx.Var[bool]
    # The form's send (its upload), run once the envelope is ready.
    on_sealed: rx.EventHandler[no_args_event_spec]
    # The same for a file push: its files' button, and their upload.
    files_on: rx.Var[bool]
    upload_id: rx.Var[str]
    files_button: rx.Var[str]
    files_limit: rx.Var[int]
    # Its messages in the visitor's language (sealer_words); English when not given.
    words: rx.Var[dict]
    on_files_sealed: rx.EventHandler[no_args_event_spec]


class E2EKeyGate(rx.Component):
    library = LIBRARY
    tag = "E2EKeyGate"

    on: rx.Var[bool]
    hold: rx.Var[bool]
    message: rx.Var[str]


MISSING_KEY = N_("This link is missing its key (the part after #), so this secret can't be decrypted here, and revealing "
               "it would only use up a view. Ask the sender for the whole link, and open it exactly as sent.")


class E2EFiles(rx.Component):
    library = FILES_LIBRARY
    tag = "E2EFiles"

    label: rx.Var[str]
    words: rx.Var[dict]


def e2e_key_gate(end_to_end, child: rx.Component, instead: rx.Component | None = None) -> rx.Component:
    """`child` (the Reveal form) only where the link has its key, else disabled below MISSING_KEY;
    with `instead` (for the reveal on load), `child` is not even mounted without the key."""
    children = (child,) if instead is None else (child, instead)
    return E2EKeyGate.create(*children, on=end_to_end, hold=instead is not None, message=t(MISSING_KEY))


def e2e_files(label: str) -> rx.Component:
    return E2EFiles.create(id=E2E_FILES_ID, label=label, words=files_words(), width="100%", style=FILE_LIST_STYLE)


def files_words() -> dict:
    return {
        "decryptingSize": t("Decrypting… {size}"),
        "downloading": t("Downloading and decrypting…"),
        "ready": t("Decrypted in this browser"),
        "file": t("File {number}"),
        "save": t("Save"),
        "saveNamed": t("Save {name}"),
        "again": t("Try again"),
        "missing": t("This link is missing its key (the part after #): ask the sender for the whole link."),
        "failed": t("The download failed (error {status})."),
        "undecryptable": t("This file could not be decrypted: the link's key or the passphrase is wrong, or the file "
                           "was altered."),
        "cut": t("The download was cut off. Check your connection and try again."),
    }


def e2e_opener(target: str) -> rx.Component:
    return E2EOpener.create(id=OPENER_ID, target=target, words=opener_words())


def opener_words() -> dict:
    return {
        "wrong": t("Wrong passphrase: it did not decrypt. Try again (it is checked here, in your browser; this view is "
                   "already counted)."),
        "missing": t("This link is missing its key (the part after #), so the secret cannot be decrypted. Ask the "
                     "sender for the whole link."),
        "failed": t("The secret could not be decrypted: the link's key is wrong or incomplete. Ask the sender for the "
                    "whole link."),
        "passphrase": t("Passphrase"),
        "help": t("The sender encrypted this secret with a passphrase as well. It is not in the link: if you don't "
                  "have it, ask the sender for it."),
        "decrypt": t("Decrypt"),
        "decrypting": t("Decrypting…"),
    }


def e2e_sealer(on, send, files_on=False, send_files=None, files_limit=0, form: str = "create-form",
               payload: str = "payload", passphrase: str = "passphrase", upload_id: str = "files",
               files_button: str = "create") -> rx.Component:
    """`send`: the form's submit event (the upload), which the sealer runs with the envelope;
    `send_files`: the files' upload, run with the envelope and SEALED_FILES."""
    files = dict(files_on=files_on, upload_id=upload_id, files_button=files_button, files_limit=files_limit,
                 **({"on_files_sealed": send_files} if send_files is not None else {}))
    return rx.fragment(
        E2ESealer.create(id=SEALER_ID, form=form, payload=payload, passphrase=passphrase, envelope_id=ENVELOPE_ID, on=on,
                         on_sealed=send, words=sealer_words(), **files),
        # Not a form field (no name): the upload reads it (ui/create_text_upload.py).
        rx.el.textarea(id=ENVELOPE_ID, hidden=True, read_only=True, tab_index=-1, aria_hidden="true",
                       custom_attrs={"data-on": rx.cond(on, "yes", "no"), "data-files-on": rx.cond(files_on, "yes", "no")}),
    )


def sealer_words() -> dict:
    return {
        "cannotEncrypt": t("Your browser could not encrypt the secret (it needs https or localhost, and a current "
                           "browser). Turn off \u201cEncrypt in my browser\u201d or try another browser."),
        "empty": t("{name} is empty: choose a file with something in it."),
        "encrypting": t("Encrypting {name} ({position} of {count})…"),
        "tooBig": t("Encrypted, these files come to {size}, over the {limit} limit (encryption adds about 1 KiB per file): "
                    "choose fewer or smaller files."),
    }


def sealer_links(fields: dict[str, str], links: list[str], qr_from: str = "", qr_to: str = ""):
    """The event that fills `fields` (id: text) with the push's `links` completed by the key."""
    made = {"fields": fields, "links": links}
    if qr_from:
        made["qr"] = {"from": qr_from, "to": qr_to}
    return rx.set_value(SEALER_ID, json.dumps(made))
