"""Settings: Password Pusher's names work, and a bad value stops the start naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pwpush_app.master_key import generate_master_key_text
from pwpush_app.settings import SettingsError, load_settings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def settings(tmp_path, **env):
    return load_settings({"PWPUSH_DATA_DIR": str(tmp_path / "data"), **env})


@pytest.mark.parametrize(
    "variable, value",
    [
        ("PWP__PW__EXPIRE_AFTER_VIEWS_DEFAULT", "five"),
        ("PWP__PW__EXPIRE_AFTER_VIEWS_DEFAULT", "2.5"),
        ("PWP__PW__EXPIRE_AFTER_VIEWS_MAX", "0"),
        ("PWP__PW__EXPIRE_AFTER_VIEWS_MAX", "100000"),
        ("PWP__FILES__EXPIRE_AFTER_DAYS_MAX", "ninety"),
        ("PWP__URL__EXPIRE_AFTER_DAYS_DEFAULT", "0"),
        ("PWP__QR__EXPIRE_AFTER_MINUTES_MIN", "-5"),
        ("PWP__PW__EXPIRE_AFTER_MINUTES_MAX", "99999999"),
        ("PWP__ENABLE_QR_PUSHES", "maybe"),
        ("PWP__PW__RETRIEVAL_STEP_DEFAULT", "2"),
        ("PWP__PW__DELETABLE_PUSHES_DEFAULT", "yess"),
        ("PWP__ALLOW_ANONYMOUS", "nope"),
        ("PWP__OVERRIDE_BASE_URL", "secrets.example.com"),
        ("PWP__OVERRIDE_BASE_URL", "ftp://secrets.example.com"),
        ("PWP__OVERRIDE_BASE_URL", "https://secrets.example.com/some/path"),
        ("PWPUSH_MASTER_KEY", "too-short"),
        ("PWPUSH_MASTER_KEY", "z" * 64),
        ("PWPUSH_MASTER_KEY_PREVIOUS", "not-a-key"),
        ("PWPUSH_MASTER_KEY_FILE", "/nonexistent/master.key"),
        ("PWP__TRUSTED_PROXIES", "-1"),
        ("PWP__THROTTLING__MINUTE", "0"),
        ("PWPUSH_PASSPHRASE_MAX_FAILURES", "lots"),
        ("PWPUSH_MAX_PAYLOAD_BYTES", "0"),
        ("REFLEX_DB_URL", "mysql://db/pwpush"),
        ("PWP__SIGNUP_EMAIL_REGEXP", "(unclosed"),
    ],
)
def test_a_bad_value_raises_naming_the_variable(tmp_path, variable, value):
    with pytest.raises(SettingsError) as refused:
        settings(tmp_path, **{variable: value})

    assert variable in str(refused.value)


@pytest.mark.parametrize(
    "env, named",
    [
        # min > default, each in Password Pusher's day units or in our minutes
        ({"PWP__PW__EXPIRE_AFTER_VIEWS_MIN": "10"}, "PWP__PW__EXPIRE_AFTER_VIEWS_MIN"),
        ({"PWP__PW__EXPIRE_AFTER_VIEWS_DEFAULT": "200"}, "PWP__PW__EXPIRE_AFTER_VIEWS_DEFAULT"),
        ({"PWP__PW__EXPIRE_AFTER_DAYS_MIN": "10"}, "PWP__PW__EXPIRE_AFTER_DAYS_MIN"),
        ({"PWP__QR__EXPIRE_AFTER_MINUTES_DEFAULT": "1"}, "PWP__QR__EXPIRE_AFTER_MINUTES_DEFAULT"),
        ({"PWP__FILES__EXPIRE_AFTER_DAYS_MAX": "3"}, "PWP__FILES__EXPIRE_AFTER_DAYS_MAX"),
    ],
)
def test_limits_out_of_order_name_the_variable_that_was_set(tmp_path, env, named):
    with pytest.raises(SettingsError) as refused:
        settings(tmp_path, **env)

    assert named in str(refused.value)
    assert "min <= default <= max" in str(refused.value)


def test_both_a_master_key_and_a_key_file_are_refused(tmp_path):
    key_file = tmp_path / "master.key"
    key_file.write_text(generate_master_key_text())

    with pytest.raises(SettingsError) as refused:
        settings(tmp_path, PWPUSH_MASTER_KEY=generate_master_key_text(), PWPUSH_MASTER_KEY_FILE=str(key_file))

    assert "PWPUSH_MASTER_KEY and PWPUSH_MASTER_KEY_FILE are both set" in str(refused.value)


def test_admin_emails_need_account_emails_to_prove_the_address(tmp_path):
    """Anyone may sign up with a listed address: without mail to prove it, the list would
    make a stranger an administrator.  The start says so, and what to run instead."""
    with pytest.raises(SettingsError) as refused:
        settings(tmp_path, PWP__ADMIN_EMAILS="boss@corp.example")

    assert "PWP__ADMIN_EMAILS needs PWP__ENABLE_USER_ACCOUNT_EMAILS=true" in str(refused.value)
    assert "make-admin EMAIL" in str(refused.value)
    with_mail = settings(tmp_path, PWP__ADMIN_EMAILS="Boss@Corp.example", PWP__ENABLE_USER_ACCOUNT_EMAILS="true",
                         PWP__MAIL__SMTP_ADDRESS="127.0.0.1")
    assert with_mail.admin_emails == ("boss@corp.example",)


def test_every_bad_variable_is_listed_at_once(tmp_path):
    with pytest.raises(SettingsError) as refused:
        settings(tmp_path, PWP__ENABLE_URL_PUSHES="perhaps", PWP__PW__EXPIRE_AFTER_VIEWS_MAX="x")

    assert "PWP__ENABLE_URL_PUSHES" in str(refused.value)
    assert "PWP__PW__EXPIRE_AFTER_VIEWS_MAX" in str(refused.value)


def test_days_settings_become_minutes(tmp_path):
    policy = settings(tmp_path, PWP__PW__EXPIRE_AFTER_DAYS_DEFAULT="3").policy("text")

    assert policy.minutes_default == 3 * 24 * 60 == 4320


def test_minute_settings_win_over_day_settings(tmp_path):
    policy = settings(
        tmp_path,
        PWP__PW__EXPIRE_AFTER_DAYS_DEFAULT="3",
        PWP__PW__EXPIRE_AFTER_MINUTES_DEFAULT="90",
        PWP__PW__EXPIRE_AFTER_DAYS_MIN="1",
        PWP__PW__EXPIRE_AFTER_MINUTES_MIN="15",
    ).policy("text")

    assert (policy.minutes_min, policy.minutes_default) == (15, 90)


def test_the_defaults_are_the_specs(tmp_path):
    s = settings(tmp_path)
    text = s.policy("text")

    assert (text.views_min, text.views_default, text.views_max) == (1, 5, 100)
    assert (text.minutes_min, text.minutes_default, text.minutes_max) == (5, 7 * 24 * 60, 90 * 24 * 60)
    assert text.retrieval_step_default and text.deletable_by_viewer_default
    assert not s.policy("url").deletable_by_viewer_default
    assert s.master_key is None and s.master_key_file is None  # no built-in default key
    assert s.max_payload_bytes == 1024 * 1024 and s.max_qr_chars == 1024
    assert (s.passphrase_max_failures, s.passphrase_lockout_minutes) == (5, 10)


def test_each_kind_reads_its_own_prefix(tmp_path):
    s = settings(tmp_path, PWP__URL__EXPIRE_AFTER_VIEWS_DEFAULT="1", PWP__ENABLE_FILE_PUSHES="false",
                 PWP__QR__RETRIEVAL_STEP_DEFAULT="off")

    assert s.policy("url").views_default == 1 and s.policy("text").views_default == 5
    assert not s.policy("file").enabled and s.policy("qr").enabled
    assert not s.policy("qr").retrieval_step_default and s.policy("text").retrieval_step_default


def _check_settings(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PWPUSH_", "PWP__", "REFLEX_DB"))}
    return subprocess.run([sys.executable, "-m", "pwpush_app", "check-settings"], cwd=ROOT,
                          env={**clean, **env}, capture_output=True, text=True, timeout=60)


def test_check_settings_stops_with_the_variable_name_on_a_bad_value(tmp_path):
    result = _check_settings(PWPUSH_DATA_DIR=str(tmp_path), PWP__PW__EXPIRE_AFTER_VIEWS_MAX="lots")

    assert result.returncode != 0
    assert "PWP__PW__EXPIRE_AFTER_VIEWS_MAX" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_settings_accepts_good_values(tmp_path):
    result = _check_settings(PWPUSH_DATA_DIR=str(tmp_path), PWP__PW__EXPIRE_AFTER_DAYS_DEFAULT="3")

    assert result.returncode == 0, result.stderr
    assert "Settings are valid." in result.stdout
