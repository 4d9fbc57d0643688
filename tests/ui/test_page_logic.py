"""The pages' small pure pieces, without a browser."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pwpush_app.core.audit import Client
from pwpush_app.core.file_uploads import files_need_login
from pwpush_app.core.qr import qr_data_uri
from pwpush_app.settings import load_settings
from pwpush_app.ui.common import BUSY_MESSAGE, busy_or_said, describe_time_left, form_whole_number, format_time
from pwpush_app.ui.components.share import share_message
from pwpush_app.ui.create_state import CUSTOM, lifetime_choices


def test_lifetime_presets_follow_the_policy_and_keep_its_default():
    policy = load_settings({"PWP__PW__EXPIRE_AFTER_MINUTES_MIN": "60", "PWP__PW__EXPIRE_AFTER_MINUTES_DEFAULT": "150",
                            "PWP__PW__EXPIRE_AFTER_DAYS_MAX": "3"}).policy("text")
    choices = lifetime_choices(policy)
    values = [value for value, _ in choices]
    assert values[0] == "60" and "5" not in values and "43200" not in values
    assert ("150", "150 minutes") in choices  # an odd default is offered as it is
    assert values[-1] == CUSTOM and values[-2] == str(3 * 1440)


def test_numbers_from_the_form_are_whole_or_passed_on_for_the_core_to_refuse():
    assert form_whole_number(" 12 ") == 12
    for text in ("", "1.5", "-3", "1e3", "ten", None):
        assert not isinstance(form_whole_number(text), int)


def test_a_busy_refusal_shows_the_busy_message_not_its_technical_reason():
    from pwpush_app.core.db import DatabaseUnavailable
    from pwpush_app.core.throttle import RateLimited, RateLimitsUnavailable

    assert busy_or_said(RateLimitsUnavailable("the rate limits could not be counted: TimeoutError")) == BUSY_MESSAGE
    assert busy_or_said(DatabaseUnavailable("canceling statement due to lock timeout")) == BUSY_MESSAGE
    assert busy_or_said(RateLimited(30)).startswith("Too many requests from your network.")


def test_share_message_and_times():
    moment = datetime(2026, 12, 2, 9, 5, tzinfo=timezone.utc)
    assert format_time(moment) == "2 Dec 2026, 09:05 UTC"
    assert share_message("https://x/p/abc", 1, format_time(moment)) == (
        "I've shared a secret with you: https://x/p/abc - it expires after 1 view or on 2 Dec 2026, 09:05 UTC"
    )
    now = datetime(2026, 11, 25, tzinfo=timezone.utc)
    assert describe_time_left(now + timedelta(days=3, hours=4, minutes=5), now) == "3 days 4 hours"
    assert describe_time_left(now + timedelta(seconds=30), now) == "less than a minute"
    assert describe_time_left(now - timedelta(minutes=1), now) == "none"


def test_qr_code_is_an_svg_data_uri_made_in_memory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    uri = qr_data_uri("https://example.com/p/abc")
    assert uri.startswith("data:image/svg+xml;base64,")
    assert list(tmp_path.iterdir()) == []  # nothing written to disk


def test_page_states_have_no_place_for_a_secret():
    """Secrets travel as event results; a state var (backend-only ones included) would be
    stored by the state manager. Guard against someone adding one later."""
    import pwpush_app.pwpush_app  # noqa: F401  (registers the pages and their states)
    from pwpush_app.ui.ask import AskState
    from pwpush_app.ui.components.share import ShareState
    from pwpush_app.ui.create_files import FileSendState
    from pwpush_app.ui.create_state import CreateState
    from pwpush_app.ui.generator import GeneratorState
    from pwpush_app.ui.manage import ManageState
    from pwpush_app.ui.reveal import RevealState

    # A digest of the link this tab revealed (the proof a viewer's delete asks for), not the link.
    backend_only = {RevealState: ["_revealed_link"]}
    for state in (CreateState, FileSendState, GeneratorState, ShareState, RevealState, ManageState, AskState):
        own = state.__dict__.get("__annotations__", {})
        assert [name for name in own if name.startswith("_")] == backend_only.get(state, []), state
        harmless = {"secret_hidden", "needs_passphrase", "has_note"}  # flags, not values
        risky = [
            name
            for name in state.base_vars
            if name not in harmless and any(w in name for w in ("payload", "secret", "passphrase", "note", "link", "qr"))
        ]
        assert risky == [], (state, risky)


def test_no_state_var_is_synced_from_browser_storage_but_the_generator_options():
    """Browser storage synced into a state var goes to the state manager (Redis, with several
    workers) at every page load: the manage tokens of My pushes must not (ui/components/
    browser_pushes.py keeps them in the browser). The generator's options and the visitor's
    chosen language (a code from the enabled list) may."""
    from reflex.state import State

    import pwpush_app.pwpush_app  # noqa: F401

    def all_states(state):
        yield state
        for sub in state.get_substates():
            yield from all_states(sub)

    synced = sorted(
        f"{state.__name__}.{name}"
        for state in all_states(State)
        for name in state.base_vars
        if state._is_client_storage(name)
    )
    assert synced and all(name.startswith("GeneratorState.gen_") or name == "LanguageState.remembered"
                          for name in synced), synced


def test_files_need_a_login_by_default():
    anonymous, member = Client(ip="127.0.0.1", user_agent="t"), Client(ip="127.0.0.1", user_agent="t", user_id="u1")
    assert files_need_login(load_settings({}), anonymous)
    assert not files_need_login(load_settings({}), member)
    assert not files_need_login(load_settings({"PWP__FILES__REQUIRE_LOGIN": "false"}), anonymous)


def test_a_qr_push_is_drawn_as_an_svg_in_memory(tmp_path, monkeypatch):
    import base64

    monkeypatch.chdir(tmp_path)
    svg = base64.b64decode(qr_data_uri("WIFI:S:x;P:y;;", "The secret as a QR code").split(",", 1)[1]).decode()
    assert svg.startswith("<svg") and 'aria-label="The secret as a QR code"' in svg
    assert list(tmp_path.iterdir()) == []


def test_the_audit_log_tells_an_opening_without_the_passphrase_from_a_wrong_one():
    from pwpush_app.core.audit import NO_PASSPHRASE
    from pwpush_app.ui.components.audit_words import describe_event, user_agent_facts

    assert describe_event("failed_passphrase", None) == "Wrong passphrase"
    assert describe_event("failed_passphrase", NO_PASSPHRASE) == "Opened without the passphrase (not counted as a guess)"
    assert user_agent_facts("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                            "Chrome/126.0.0.0 Safari/537.36") == {
        "agent_browser": "Chrome 126", "agent_system": "Linux", "agent_device": "", "agent_short": ""}
    assert user_agent_facts("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)")["agent_device"] == "bot"
    assert user_agent_facts("")["agent_short"] == "–"
    assert user_agent_facts("x" * 80)["agent_short"] == "x" * 60 + "…"


def test_sentences_of_reads_a_text_a_said_text_and_an_exception_raised_with_either():
    from pwpush_app.core.admin_actions import AdminRefused
    from pwpush_app.core.i18n import said
    from pwpush_app.ui.i18n import sentences_of

    locked = said("{email} is not locked.", email="bob@example.com")
    expected = [{"text": "{email} is not locked.", "values": {"email": "bob@example.com"}}]
    assert sentences_of(locked) == sentences_of(AdminRefused(locked)) == expected
    # Plain text (a page's own notice) and an exception with plain text have none: shown as they are.
    assert sentences_of("You are logged out.") == sentences_of(AdminRefused("Nope.")) == []


def test_the_settings_descriptions_go_only_to_the_page_that_shows_them():
    """A recipient's first page carries no admin settings' descriptions (~25 KB in French);
    /admin/settings asks for them (LanguageState.include), and nothing else differs."""
    from pwpush_app.core.i18n import catalogue
    from pwpush_app.ui.i18n import page_strings

    about_data_dir = "Folder for the SQLite database, the generated key file and encrypted files."
    everyday, with_settings = page_strings("fr"), page_strings("fr", ("settings",))
    assert about_data_dir not in everyday and with_settings[about_data_dir].startswith("Dossier")
    assert with_settings == catalogue("fr")
    assert {k: v for k, v in with_settings.items() if k in everyday} == everyday
    assert page_strings("fr", ("no such part",)) == everyday
