"""Languages (issue 19): which one a visitor gets, and catalogues that are complete.

The catalogue tests fail on a string the code shows that no catalogue knows (the template is
re-extracted from the source), on a missing or fuzzy translation, on a placeholder a
translation lost or invented, and on a translation that is the English text unchanged."""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from pwpush_app.core.i18n import LANGUAGES, LOCALES_DIR, catalogue, catalogue_path, choose_locale, direction, translate
from pwpush_app.settings import SettingsError, load_settings

OTHER_LANGUAGES = [code for code in LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
# Words that are the same in some languages (German says "Passphrase" too).
SAME_AS_ENGLISH_ALLOWED = {("de", "Passphrase")}
# The admin pages' words that these languages share (issue 19); "Text", "Account" as the create and account pages have them.
SAME_AS_ENGLISH_ALLOWED |= {("de", "Administrator"), ("da", "Administrator"), ("no", "Administrator"), ("de", "Text"),
                            ("sv", "Text"), ("ca", "Text"), ("cs", "Text"), ("sk", "Text"), ("ro", "Text"),
                            ("it", "Account"), ("nl", "Account")}
# The create page's words these languages write as English does (issue 19).
SAME_AS_ENGLISH_ALLOWED |= {("ca", "Secret"), ("fr", "Secret"), ("ro", "Secret"), ("fr", "minutes"), ("pl", "Separator"),
                            ("ro", "Separator"), ("de", "Passphrase (optional)"), ("it", "File {number}")}
# The account pages' words (issue 19): Italian says "Password" too, German and Dutch "Passkeys".
SAME_AS_ENGLISH_ALLOWED |= {("it", "Password"), ("de", "Passkeys"), ("nl", "Passkeys")}
# A mailed link's state: Icelandic "sent" is English's word (issue 19).
SAME_AS_ENGLISH_ALLOWED |= {("is", "sent")}
# "Webhooks" is the technical word itself in these languages.
SAME_AS_ENGLISH_ALLOWED |= {(code, "Webhooks") for code in ("de", "fr", "es", "nl", "pt-BR", "pt-PT", "ca", "da")}


def _template_ids() -> set[str]:
    with (LOCALES_DIR / "messages.pot").open("rb") as file:
        return {m.id for m in read_po(file) if m.id}


def test_the_template_holds_every_string_the_code_marks():
    """`t("…")` or `N_("…")` added without `pybabel extract` + `update`: this fails and says which."""
    package = LOCALES_DIR.parent
    found = {message for _, _, message, _, _ in extract_from_dir(
        str(package), method_map=[("**.py", "python")], keywords={"t": None, "N_": None}) if message}
    assert found - _template_ids() == set(), "strings not in messages.pot: run the pybabel commands in docs/web-app.md"
    assert _template_ids() - found == set(), "messages.pot holds strings the code no longer shows"


def _read(code: str) -> dict:
    with catalogue_path(code).open("rb") as file:
        return {m.id: m for m in read_po(file, locale=code.replace("-", "_")) if m.id}


def _problems(code: str, messages: dict) -> list[str]:
    problems = []
    for msgid in sorted(_template_ids()):
        message = messages.get(msgid)
        if message is None:
            problems.append(f"missing: {msgid!r}")
        elif not message.string or message.fuzzy:
            problems.append(f"untranslated or fuzzy: {msgid!r}")
        elif sorted(PLACEHOLDER.findall(message.string)) != sorted(PLACEHOLDER.findall(msgid)):
            problems.append(f"placeholders differ: {msgid!r} -> {message.string!r}")
        elif message.string == msgid and (code, msgid) not in SAME_AS_ENGLISH_ALLOWED:
            problems.append(f"same as English: {msgid!r}")
    return problems


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_every_language_translates_every_string_keeping_its_placeholders(code):
    assert catalogue_path(code).exists(), f"no catalogue for {code}: pybabel init -l {code.replace('-', '_')}"
    assert _problems(code, _read(code)) == [], code


def test_the_checks_catch_a_broken_catalogue():
    """The test above fails on each fault: a lost placeholder, English left in, a gap, a fuzzy entry."""
    broken = _read("fr")
    broken["It can be viewed {count} more times until {time}."].string = "Encore {count} fois."
    broken["Reveal secret"].string = "Reveal secret"
    broken["Copy"].flags.add("fuzzy")
    del broken["Delete"]
    assert _problems("fr", broken) == [
        "untranslated or fuzzy: 'Copy'",
        "missing: 'Delete'",
        "placeholders differ: 'It can be viewed {count} more times until {time}.' -> 'Encore {count} fois.'",
        "same as English: 'Reveal secret'",
    ]


def test_server_side_text_goes_through_the_same_catalogues():
    assert translate("de", "Reveal secret") == "Geheimnis anzeigen"
    assert translate("en", "Reveal secret") == "Reveal secret"
    assert translate("fr", "A sentence no catalogue has") == "A sentence no catalogue has"
    assert catalogue("en") == {}
    assert direction("ar") == direction("ur") == "rtl" and direction("fr") == "ltr"


@pytest.mark.parametrize("query, remembered, header, default, expected", [
    (None, None, "fr-CA,fr;q=0.9,en;q=0.8", "en", "fr"),          # the browser's language
    (None, None, "da;q=0.3, sv;q=0.9", "en", "sv"),              # by weight, not by order
    (None, None, "xx, de-AT", "en", "de"),                        # unknown skipped, region dropped
    (None, None, "nb-NO", "en", "no"),                            # Bokmål is Norwegian
    (None, None, "zh-Hans-CN", "en", "zh-CN"),
    (None, None, "pt", "en", "pt-PT"),
    (None, None, "pt-BR", "en", "pt-BR"),
    (None, "ja", "fr", "en", "ja"),                                # a remembered choice wins over the browser
    ("pt_br", "ja", "fr", "en", "pt-BR"),                          # ?locale= wins over everything
    ("klingon", "ja", "fr", "en", "ja"),                           # a bad ?locale= is ignored
    (None, None, "", "de", "de"),                                  # nothing asked: PWP__DEFAULT_LOCALE
    (None, None, "fr;q=0", "en", "en"),                            # q=0 means "not this"
    (None, "<script>", "x" * 5000, "en", "en"),
])
def test_choose_locale(query, remembered, header, default, expected):
    assert choose_locale(query=query, remembered=remembered, accept_language=header, default=default) == expected


def test_only_enabled_languages_are_chosen():
    enabled = ("en", "de")
    assert choose_locale(query="fr", remembered="ja", accept_language="ru, de;q=0.5", enabled=enabled) == "de"
    assert choose_locale(query=None, remembered=None, accept_language="ru", default="de", enabled=enabled) == "de"


def test_the_language_settings(tmp_path):
    base = {"PWPUSH_MASTER_KEY": "a" * 64, "PWPUSH_DATA_DIR": str(tmp_path)}
    pages = load_settings(base).pages
    assert pages.default_locale == "en" and pages.enabled_languages == tuple(LANGUAGES)
    assert {"en", "fr", "de", "ur", "ar", "pt-BR", "zh-CN", "no"} <= set(pages.enabled_languages)
    pages = load_settings({**base, "PWP__ENABLED_LANGUAGE_CODES": "en, fr,de", "PWP__DEFAULT_LOCALE": "fr"}).pages
    assert (pages.enabled_languages, pages.default_locale) == (("en", "fr", "de"), "fr")
    with pytest.raises(SettingsError, match="PWP__ENABLED_LANGUAGE_CODES: 'xx' is not one of"):
        load_settings({**base, "PWP__ENABLED_LANGUAGE_CODES": "en,xx"})
    with pytest.raises(SettingsError, match="PWP__DEFAULT_LOCALE='ja' must be one of the enabled languages: en, fr"):
        load_settings({**base, "PWP__ENABLED_LANGUAGE_CODES": "en,fr", "PWP__DEFAULT_LOCALE": "ja"})


def test_a_value_that_is_itself_a_catalogue_entry_is_translated_too():
    """{reason_said}: a mail's failure "The connection to the mail server broke: it did not
    answer in time" reads wholly in French, the server's own answer in {answer} as it came."""
    from pwpush_app.core import smtp
    from pwpush_app.core.i18n import in_language, said

    broke = said(smtp.BROKE, reason_said="it did not answer in time")
    assert str(broke) == "The connection to the mail server broke: it did not answer in time"
    french = in_language("fr", broke)
    assert "did not answer" not in french and "The connection" not in french, french
    refused = in_language("de", said(smtp.REFUSED["recipient"], answer="550 5.1.1 User unknown"))
    assert refused.endswith("550 5.1.1 User unknown") and "refused" not in refused, refused
