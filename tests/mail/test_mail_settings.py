"""Mail settings (Password Pusher's PWP__MAIL__* names): checked at start, the password never shown."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pwpush_app.settings import SettingsError, load_settings
from tests.servers import ROOT, make_env


def settings(tmp_path, **env):
    return load_settings({"PWPUSH_DATA_DIR": str(tmp_path / "data"), **env})


SMTP = {"PWP__MAIL__SMTP_ADDRESS": "smtp.example.com"}


@pytest.mark.parametrize("variable, value", [
    ("PWP__MAIL__SMTP_PORT", "0"),
    ("PWP__MAIL__SMTP_PORT", "smtp"),
    ("PWP__MAIL__SMTP_ADDRESS", "smtp://mail.example.com"),
    ("PWP__MAIL__SMTP_ADDRESS", "mail example com"),
    ("PWP__MAIL__SMTP_AUTHENTICATION", "kerberos"),
    ("PWP__MAIL__SMTP_OPENSSL_VERIFY_MODE", "sometimes"),
    ("PWP__MAIL__SMTP_STARTTLS", "maybe"),
    ("PWP__MAIL__SMTP_ENABLE_STARTTLS_AUTO", "perhaps"),
    ("PWP__MAIL__SMTP_OPEN_TIMEOUT", "0"),
    ("PWP__MAIL__SMTP_READ_TIMEOUT", "ten"),
    ("PWP__MAIL__MAILER_SENDER", "not an address"),
    ("PWP__MAIL__MAILER_SENDER", "a@b.example\r\nBcc: everyone@example.com"),
    ("PWP__ENABLE_USER_ACCOUNT_EMAILS", "si"),
    ("PWP__NOTIFY_BY_EMAIL__DAILY_LIMIT", "-1"),
    ("PWPUSH_MAIL_MAX_ATTEMPTS", "0"),
    ("PWPUSH_MAIL_LEASE_SECONDS", "30"),
    ("PWPUSH_DIGEST_HOUR_UTC", "24"),
    ("PWPUSH_WEBHOOK_TIMEOUT_SECONDS", "0"),
])
def test_a_bad_mail_setting_stops_the_start_naming_it(tmp_path, variable, value):
    with pytest.raises(SettingsError) as refused:
        settings(tmp_path, **{**SMTP, variable: value})
    assert variable in str(refused.value)


@pytest.mark.parametrize("env, named", [
    ({"PWP__ENABLE_USER_ACCOUNT_EMAILS": "true"}, "PWP__MAIL__SMTP_ADDRESS"),
    ({**SMTP, "PWP__MAIL__SMTP_STARTTLS": "true", "PWPUSH_MAIL_SMTP_TLS": "true"}, "PWPUSH_MAIL_SMTP_TLS"),
    ({**SMTP, "PWP__MAIL__SMTP_USER_NAME": "apikey"}, "PWP__MAIL__SMTP_PASSWORD"),
    ({**SMTP, "PWP__MAIL__SMTP_PASSWORD": "hunter2hunter2"}, "PWP__MAIL__SMTP_USER_NAME"),
    ({**SMTP, "PWP__MAIL__SMTP_READ_TIMEOUT": "60"}, "PWPUSH_MAIL_LEASE_SECONDS"),
])
def test_settings_that_cannot_work_together_are_refused(tmp_path, env, named):
    with pytest.raises(SettingsError) as refused:
        settings(tmp_path, **env)
    assert named in str(refused.value)


def test_password_pusher_spellings_and_defaults(tmp_path):
    mail = settings(tmp_path, **SMTP, PWP__MAIL__SMTP_AUTHENTICATION=":login", PWP__MAIL__SMTP_OPENSSL_VERIFY_MODE="NONE",
                    PWP__OVERRIDE_BASE_URL="https://secrets.example.org", PWP__BRAND__TITLE="Acme Secrets").mail
    assert (mail.smtp_port, mail.smtp_authentication, mail.smtp_verify) == (587, "login", False)
    assert mail.smtp_starttls_auto and not mail.smtp_starttls and not mail.account_emails
    # The sender and greeting default to the site's own name and host, not Password Pusher's.
    assert mail.sender == 'Acme Secrets <noreply@secrets.example.org>'
    assert mail.smtp_domain == "secrets.example.org"
    assert mail.configured and mail.link_by_email
    assert not settings(tmp_path).mail.configured


def test_the_smtp_password_never_shows_in_repr_or_check_settings(tmp_path):
    password = "Sm7p-Pa55word-canary"
    loaded = settings(tmp_path, **SMTP, PWP__MAIL__SMTP_USER_NAME="apikey", PWP__MAIL__SMTP_PASSWORD=password)
    assert loaded.mail.smtp_password == password
    assert password not in repr(loaded) and password not in repr(loaded.mail)
    assert password not in loaded.mail.describe_server()

    env = make_env(tmp_path / "data", **SMTP, PWP__MAIL__SMTP_USER_NAME="apikey", PWP__MAIL__SMTP_PASSWORD=password,
                   PWP__MAIL__SMTP_PORT="seventy")
    done = subprocess.run([sys.executable, "-m", "pwpush_app", "check-settings"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "PWP__MAIL__SMTP_PORT" in done.stderr
    assert password not in done.stderr + done.stdout
