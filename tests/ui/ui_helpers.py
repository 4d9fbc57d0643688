"""Helpers for the browser tests: set up pushes, drive the forms, take screenshots."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pwpush_app.core.audit import Client
from pwpush_app.core.pushes import NewPush, create_push
from pwpush_app.core.vault import Vault

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PHONE = {"width": 375, "height": 800}
LAPTOP = {"width": 1280, "height": 900}
PASSWORD = "Canary-Pa55word-7f3e9b"


@dataclass
class Links:
    secret: str
    manage: str

    @property
    def token(self) -> str:
        return self.secret.rsplit("/", 1)[-1]

    @property
    def manage_token(self) -> str:
        return self.manage.rsplit("/", 1)[-1]


def push_directly(vault: Vault, base_url: str, payload: str, **fields) -> Links:
    """Create a push through the core (for tests about the recipient's side)."""
    created = create_push(vault, NewPush(payload=payload, **fields), Client(ip="127.0.0.1", user_agent="tests"))
    return Links(f"{base_url}/p/{created.url_token}", f"{base_url}/manage/{created.manage_token}")


def wait_until_ready(page) -> None:
    """The page is connected to the server (its state hydrated)."""
    page.wait_for_selector("#app-ready", state="attached")


def create_through_form(
    page,
    base_url: str,
    secret: str,
    *,
    views: int | None = None,
    passphrase: str = "",
    name: str = "",
    note: str = "",
    retrieval_step: bool | None = None,
) -> Links:
    """Fill in the create form like a person and return the links from the share page."""
    page.goto(base_url + "/")
    wait_until_ready(page)
    page.wait_for_selector("#payload")
    page.fill("#payload", secret)
    if views is not None:
        page.fill("#expire_after_views", str(views))
    if passphrase:
        page.fill("#passphrase", passphrase)
    if name:
        page.fill("#name", name)
    if note:
        page.fill("#note", note)
    if retrieval_step is not None:
        switch = page.locator("button.retrieval_step")
        if (switch.get_attribute("aria-checked") == "true") != retrieval_step:
            switch.click()
            page.wait_for_function(
                f"() => document.querySelector('button.retrieval_step').getAttribute('aria-checked') === '{str(retrieval_step).lower()}'"
            )
    page.click("#create")
    page.wait_for_selector("#share-link")
    # The links arrive as event results, a moment apart from the section becoming visible.
    page.wait_for_function("() => ['share-link', 'share-message', 'share-manage'].every(id => document.getElementById(id).value.length > 0)")
    return Links(page.input_value("#share-link"), page.input_value("#share-manage"))


def sign_up(page, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(base_url + "/signup")
    wait_until_ready(page)
    page.fill("#email", email)
    page.fill("#password", password)
    page.fill("#password_confirmation", password)
    page.click("#sign-up")
    page.wait_for_url("**/dashboard**")
    wait_until_ready(page)


def log_in(page, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(base_url + "/login")
    wait_until_ready(page)
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#log-in")
    page.wait_for_url("**/dashboard**")
    wait_until_ready(page)


def reveal_in(page, link: str, passphrase: str = "") -> str:
    """Open the link, press Reveal, return the revealed secret (the read-only field's value)."""
    page.goto(link)
    page.wait_for_selector("#reveal")
    if passphrase:
        page.fill("#passphrase", passphrase)
    page.click("#reveal")
    return wait_for_secret(page)


def wait_for_secret(page) -> str:
    page.wait_for_function("() => { const box = document.getElementById('secret-box'); return box && box.value.length > 0 }")
    return page.input_value("#secret-box")


def screenshot(page, name: str) -> None:
    """The page at phone and laptop width, for a person to look at (test-artifacts/screenshots)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("phone", PHONE), ("laptop", LAPTOP)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(250)
        safe = re.sub(r"[^a-z0-9-]+", "-", name.lower())
        page.screenshot(path=str(SCREENSHOTS / f"{safe}-{label}.png"), full_page=True)

