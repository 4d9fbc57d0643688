"""The create form's sender policies (issue 21): wrong passphrases that delete the push, the
addresses its link opens from, and (on a site that sends mail) the recipient's email to
verify with a code.  Plain fields sent with the form; the core checks them
(core/push_policies.py, core/recipient_code.py) and its messages show beside them."""

from __future__ import annotations

from typing import Callable

import reflex as rx

from pwpush_app.core.push_policies import BURN_MAX, BURN_MIN, MAX_ALLOWED_IPS
from pwpush_app.core.recipient_code import CODE_MINUTES
from pwpush_app.core.recipient_code import FIELD as VERIFY
from pwpush_app.core.recipient_code import GROUP_FIELD as VERIFY_EACH
from pwpush_app.settings import get_settings
from pwpush_app.ui.components.fields import field_error, field_label
from pwpush_app.ui.create_state import CreateState, error_text
from pwpush_app.ui.i18n import t

BURN = "burn_after_failed_passphrases"
ADDRESSES = "allowed_ips"


def _help(text, field: str) -> rx.Component:
    return rx.text(text, id=f"{field}-help", size="1", color_scheme="gray")


def _error(field: str) -> rx.Component:
    return field_error(error_text(field), field)


def policy_fields(forget_error: Callable[[str], object]) -> rx.Component:
    """`forget_error`: the form's own on_change for a field (ui/create.py), so these fields
    drop a stale refusal exactly as the others do."""
    _forget = forget_error
    return rx.vstack(
        field_label(t("Delete after wrong passphrases (optional)"), BURN),
        rx.input(id=BURN, name=BURN, type="number", min=BURN_MIN, max=BURN_MAX, step=1, input_mode="numeric",
                 placeholder=t("e.g. {example}", example=3), size="3", width="9rem", on_change=_forget(BURN), auto_complete="off",
                 aria_describedby=f"{BURN}-help {BURN}-error", aria_invalid=CreateState.errors.contains(BURN)),
        _help(t("With a passphrase: after this many wrong ones ({min} to {max}), from anyone, the secret is deleted.",
                min=BURN_MIN, max=BURN_MAX), BURN),
        _error(BURN),
        field_label(t("Only open from these addresses (optional)"), ADDRESSES),
        rx.input(id=ADDRESSES, name=ADDRESSES, placeholder="203.0.113.0/24 2001:db8::/32", size="3", width="100%", dir="ltr",
                 on_change=_forget(ADDRESSES), auto_complete="off", spell_check=False,
                 aria_describedby=f"{ADDRESSES}-help {ADDRESSES}-error",
                 aria_invalid=CreateState.errors.contains(ADDRESSES)),
        _help(t("Up to {count} IPv4 or IPv6 addresses or networks, separated by spaces. From anywhere else the link "
                "looks unknown. Mobile networks and VPNs change a recipient's address.", count=MAX_ALLOWED_IPS), ADDRESSES),
        _error(ADDRESSES),
        _verify_fields(_forget) if get_settings().mail.configured else rx.fragment(),
        spacing="1",
        width="100%",
    )


def _verify_fields(forget) -> rx.Component:
    return rx.vstack(
        field_label(t("Verify the recipient's email (optional)"), VERIFY),
        rx.input(id=VERIFY, name=VERIFY, type="email", placeholder="bob@example.com", size="3", width="100%", dir="ltr",
                 on_change=forget(VERIFY), auto_complete="off", spell_check=False,
                 aria_describedby=f"{VERIFY}-help {VERIFY}-error", aria_invalid=CreateState.errors.contains(VERIFY)),
        _help(t("The link then opens only with a 6-digit code we email to this address (valid {count} minutes). "
                "Wrong codes count like wrong passphrases. Needs you to be logged in.", count=CODE_MINUTES), VERIFY),
        _error(VERIFY),
        rx.cond(
            CreateState.kind != "file",
            rx.checkbox(t("With several recipients below: verify each one's email (name them all by address)"),
                        name=VERIFY_EACH, id=VERIFY_EACH, size="2", spacing="2"),
        ),
        _error(VERIFY_EACH),
        spacing="1",
        width="100%",
        padding_top="0.5rem",
    )
