"""Mails in their reader's language (issue 19), through a real SMTP server: the link mail in
the language the sender's request was in, account mails in the account's language (the
sign-up page's, then the one its owner logs in with), right to left for Arabic; English as
it always was."""

from __future__ import annotations

import re

import pytest

from pwpush_app.core.accounts import issue_api_token
from pwpush_app.core.audit import Client
from pwpush_app.core.create import NewPush
from pwpush_app.core.link_mail import in_sender_language
from pwpush_app.core.outbox import send_due_mails
from tests.api.conftest import asgi_client

ORIGIN = {"Origin": "http://localhost:3000"}
PASSWORD = "correct horse battery"
GERMAN_MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
                 "November", "Dezember")


@pytest.fixture
def runtime(make_runtime, smtp):
    return make_runtime(**smtp.env(PWP__ENABLE_USER_ACCOUNT_EMAILS="true"))


@pytest.fixture
def api(runtime):
    client = asgi_client(runtime)
    yield client
    client.close()


def test_the_link_mail_is_in_the_language_the_sender_asked_in(api, runtime, smtp):
    _user, token = issue_api_token(runtime, "sender@example.com")
    made = api.post("/api/v2/pushes", json={"push": {"payload": "s3cret", "expire_after_views": 3,
                                                     "notify_emails_to": "bob@example.org"}},
                    headers={"Authorization": f"Bearer {token}", "Accept-Language": "de-AT,de;q=0.9"})
    assert made.status_code == 201
    assert made.json()["notify_emails_to_locale"] is None  # the answer echoes what was sent, as before
    assert send_due_mails(runtime, "tests").sent == 1
    mail = smtp.received[-1]
    assert mail.message["Subject"] == "sender@example.com hat dir ein Geheimnis geschickt"
    for body in (mail.text, mail.html):
        assert "Geheimnis öffnen" in body and "für 3 Aufrufe" in body
        assert "UTC" in body and any(month in body for month in GERMAN_MONTHS)  # the date in German, its zone named
        assert "whichever comes first" not in body
    assert '<html lang="de" dir="ltr">' in mail.html
    assert made.json()["url_token"] in mail.text


def sign_up(api, email: str, headers: dict | None = None):
    answer = api.post("/signup", data={"email": email, "password": PASSWORD, "password_confirmation": PASSWORD},
                      headers={**ORIGIN, **(headers or {})}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?confirm_sent=1"


def test_account_mails_are_in_the_accounts_language_right_to_left_in_arabic(api, runtime, smtp):
    sign_up(api, "amal@example.com", {"Accept-Language": "ar,en;q=0.5"})
    send_due_mails(runtime, "tests")
    confirm = smtp.received[-1]
    assert confirm.message["Subject"] == "أكّد عنوان بريدك الإلكتروني في Password Pusher"
    assert '<html lang="ar" dir="rtl">' in confirm.html
    assert "تأكيد عنواني" in confirm.html and "تأكيد عنواني" in confirm.text
    assert "Confirm" not in confirm.text
    link = re.search(r"http://localhost:3000(/account/confirm/[A-Za-z0-9_-]+)", confirm.text).group(1)
    assert api.get(link, follow_redirects=False).headers["location"] == "/login?confirmed=1"

    # Logging in from a browser that chose French (the switch's cookie) moves the account's mails to French.
    logged_in = api.post("/session", data={"email": "amal@example.com", "password": PASSWORD},
                         headers={**ORIGIN, "Cookie": "pwp_locale=fr", "Accept-Language": "ar"}, follow_redirects=False)
    assert logged_in.headers["location"] == "/dashboard"
    api.post("/account/forgot-password", data={"email": "amal@example.com"}, headers=ORIGIN, follow_redirects=False)
    send_due_mails(runtime, "tests")
    reset = smtp.received[-1]
    assert reset.message["Subject"] == "Réinitialisez votre mot de passe pour Password Pusher"
    assert '<html lang="fr" dir="ltr">' in reset.html and "Choisir un nouveau mot de passe" in reset.text


def test_without_a_language_the_mails_are_english_as_before(api, runtime, smtp):
    sign_up(api, "ann@example.com")
    send_due_mails(runtime, "tests")
    mail = smtp.received[-1]
    assert mail.message["Subject"] == "Confirm your email address for Password Pusher"
    assert '<html lang="en" dir="ltr">' in mail.html
    assert "Someone, hopefully you, signed up at localhost with this address." in mail.text
    assert "The link works for 3 days. If you didn't sign up, ignore this mail: no account is opened." in mail.text


def test_the_page_language_is_given_to_a_link_mail_only_where_one_can_go(runtime, make_runtime):
    """The create page hands its language on (core/link_mail.py::in_sender_language): never over a
    language the sender named, never where no link mail may go (no refusal names a language field)."""
    user, _token = issue_api_token(runtime, "sender@example.com")
    sender, anonymous = Client(user_id=user.id), Client()
    mailing = NewPush(payload="s3cret", notify_emails_to="bob@example.org")
    assert in_sender_language(runtime, sender, mailing, "ja").notify_emails_to_locale == "ja"
    named = NewPush(payload="s3cret", notify_emails_to="bob@example.org", notify_emails_to_locale="fr")
    assert in_sender_language(runtime, sender, named, "ja").notify_emails_to_locale == "fr"
    for client, push in ((anonymous, mailing), (sender, NewPush(payload="s3cret"))):
        assert in_sender_language(runtime, client, push, "ja").notify_emails_to_locale == ""
    no_mail = make_runtime(PWP__MAIL__SMTP_ADDRESS="")
    assert in_sender_language(no_mail, sender, mailing, "ja").notify_emails_to_locale == ""
