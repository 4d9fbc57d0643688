"""Password Pusher's settings: each entry of its config/settings.yml (2.11) is read here
under its own name, or docs/compatibility.md says why not, never both."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pwpush_app.settings import load_settings, names_read

DOC = Path(__file__).resolve().parents[1] / "docs" / "compatibility.md"


def _kind(prefix: str, deletable: bool = True, blur: bool = False) -> list[str]:
    names = [f"{prefix}EXPIRE_AFTER_{what}_{which}" for what in ("DAYS", "VIEWS") for which in ("DEFAULT", "MIN", "MAX")]
    names += [f"{prefix}ENABLE_RETRIEVAL_STEP", f"{prefix}RETRIEVAL_STEP_DEFAULT"]
    if deletable:
        names += [f"{prefix}ENABLE_DELETABLE_PUSHES", f"{prefix}DELETABLE_PUSHES_DEFAULT"]
    if blur:
        names += [f"{prefix}ENABLE_BLUR"]
    return names


# Every entry of pglombardo/PasswordPusher's config/settings.yml, set or documented there,
# as its environment variable.
UPSTREAM = [
    "PWP__HOST_DOMAIN", "PWP__HOST_PROTOCOL", "PWP__OVERRIDE_BASE_URL", "PWP__ALLOWED_HOSTS", "PWP__TRUSTED_PROXIES",
    "PWP__CLOUDFLARE_PROXY", "PWP__ENABLE_URL_PUSHES", "PWP__ENABLE_FILE_PUSHES", "PWP__ENABLE_QR_PUSHES",
    "PWP__ALLOW_ANONYMOUS", "PWP__LOGIN_SESSION_TIMEOUT", "PWP__DISABLE_SIGNUPS", "PWP__DISABLE_LOGINS",
    "PWP__REQUIRE_MFA", "PWP__SIGNUP_EMAIL_REGEXP", "PWP__ENABLE_USER_ACCOUNT_EMAILS",
    *(f"PWP__MAIL__{n}" for n in ("RAISE_DELIVERY_ERRORS", "SMTP_ADDRESS", "SMTP_DOMAIN", "SMTP_PORT",
                                  "SMTP_AUTHENTICATION", "SMTP_USER_NAME", "SMTP_PASSWORD", "SMTP_STARTTLS",
                                  "SMTP_ENABLE_STARTTLS_AUTO", "SMTP_OPEN_TIMEOUT", "SMTP_READ_TIMEOUT",
                                  "SMTP_OPENSSL_VERIFY_MODE", "MAILER_SENDER")),
    *_kind("PWP__PW__", blur=True), *_kind("PWP__URL__", deletable=False), *_kind("PWP__FILES__", blur=True),
    "PWP__FILES__MAX_FILE_UPLOADS", "PWP__FILES__STORAGE",
    *(f"PWP__FILES__S3__{n}" for n in ("ENDPOINT", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "REGION", "BUCKET")),
    *(f"PWP__FILES__GCS__{n}" for n in ("PROJECT", "CREDENTIALS", "BUCKET", "IAM", "GSA_EMAIL")),
    *(f"PWP__FILES__AS__{n}" for n in ("STORAGE_ACCOUNT_NAME", "STORAGE_ACCESS_KEY", "CONTAINER")),
    *_kind("PWP__QR__"),
    *(f"PWP__GEN__{n}" for n in ("HAS_NUMBERS", "TITLE_CASED", "USE_SEPARATORS", "CONSONANTS", "VOWELS",
                                 "SEPARATORS", "MAX_SYLLABLE_LENGTH", "MIN_SYLLABLE_LENGTH", "SYLLABLES_COUNT")),
    *(f"PWP__BRAND__{n}" for n in ("TITLE", "TAGLINE", "DISCLAIMER", "SHOW_FOOTER_MENU", "LIGHT_LOGO", "DARK_LOGO",
                                   "ICON_57x57", "ICON_60x60", "ICON_72x72", "ICON_76x76", "ICON_114x114",
                                   "ICON_120x120", "ICON_144x144", "ICON_152x152", "ICON_180x180", "ICON_192x192",
                                   "ICON_32x32", "ICON_96x96", "ICON_16x16", "MS_ICON_144x144")),
    "PWP__SHOW_VERSION", "PWP__SHOW_GDPR_CONSENT_BANNER", "PWP__NOINDEX", "PWP__THEME", "PWP__THEME_MODE",
    "PWP__DEFAULT_LOCALE", "PWP__ENABLED_LANGUAGE_CODES", "PWP__LANGUAGE_CODES", "PWP__COUNTRY_CODES",
    "PWP__SECURE_COOKIES", "PWP__THROTTLING__MINUTE", "PWP__THROTTLING__SECOND", "PWP__NOTIFY_BY_EMAIL__ENABLED",
    "PWP__NOTIFY_BY_EMAIL__DAILY_LIMIT", "PWP__PURGE_AFTER", "PWP__LOG_LEVEL", "PWP__LOG_TO_STDOUT",
]


def documented_as_not_read() -> dict[str, str]:
    """docs/compatibility.md's settings table: name -> 'not applicable' or 'not yet'."""
    rows = re.findall(r"^\| `(PWP__[A-Za-z0-9_]+)` \| (not applicable|not yet) \| .+ \|$", DOC.read_text(), re.M)
    return dict(rows)


def test_every_password_pusher_setting_is_read_or_explained():
    read, explained = names_read(), documented_as_not_read()
    assert len(UPSTREAM) == len(set(UPSTREAM))
    assert [name for name in UPSTREAM if name not in read and name not in explained] == []
    # Never both: a setting we read is not "not applicable".
    assert sorted(set(explained) & read) == []
    assert sorted(set(explained) - set(UPSTREAM)) == []


def test_password_pushers_words_for_our_settings(tmp_path):
    base = {"PWPUSH_MASTER_KEY": "a" * 64, "PWPUSH_DATA_DIR": str(tmp_path)}
    s = load_settings({**base, "PWP__HOST_DOMAIN": "secrets.example.com", "PWP__PURGE_AFTER": "3 months",
                       "PWP__LOGIN_SESSION_TIMEOUT": "15 minutes", "PWP__TRUSTED_PROXIES": "10.0.0.5, 192.168.0.0/16",
                       "PWP__FILES__STORAGE": "minio", "PWP__FILES__S3__BUCKET": "pushes",
                       "PWP__FILES__S3__ENDPOINT": "http://127.0.0.1:9000", "PWP__FILES__S3__REGION": "us-east-1",
                       "PWP__FILES__S3__ACCESS_KEY_ID": "id", "PWP__FILES__S3__SECRET_ACCESS_KEY": "not-in-repr"})
    assert s.base_url == "https://secrets.example.com"
    assert (s.purge_records_after_days, s.session_idle_minutes) == (90, 15)
    assert [str(n) for n in s.trusted_proxies] == ["10.0.0.5/32", "192.168.0.0/16"] and s.trusted_proxy_hops == 0
    assert (s.files_storage, s.s3_bucket, s.s3_endpoint_url, s.s3_region) == ("s3", "pushes", "http://127.0.0.1:9000",
                                                                             "us-east-1")
    assert (s.s3_access_key_id, s.s3_secret_access_key) == ("id", "not-in-repr") and "not-in-repr" not in repr(s)
    assert load_settings({**base, "PWP__HOST_DOMAIN": "s.example", "PWP__HOST_PROTOCOL": "http"}).base_url == "http://s.example"
    # The override wins, as there; "disabled" keeps records; a number of hops still works.
    s = load_settings({**base, "PWP__HOST_DOMAIN": "x.example", "PWP__OVERRIDE_BASE_URL": "https://y.example",
                       "PWP__PURGE_AFTER": "disabled", "PWP__TRUSTED_PROXIES": "2"})
    assert (s.base_url, s.purge_records_after_days, s.trusted_proxy_hops, s.trusted_proxies) == ("https://y.example", 0, 2, ())
    assert load_settings({**base, "PWP__PURGE_AFTER": "1 year"}).purge_records_after_days == 365


@pytest.mark.parametrize("env, says", [
    ({"PWP__PURGE_AFTER": "soon"}, "PWP__PURGE_AFTER='soon' is not a duration"),
    ({"PWP__PURGE_AFTER": "3 months", "PWP__PURGE_AFTER_DAYS": "5"}, "set one of them"),
    ({"PWP__LOGIN_SESSION_TIMEOUT": "2 fortnights"}, "PWP__LOGIN_SESSION_TIMEOUT"),
    ({"PWP__TRUSTED_PROXIES": "10.0.0.5, proxy.local"}, "'proxy.local' is not an IP address"),
    ({"PWP__FILES__STORAGE": "google"}, "PWP__FILES__STORAGE='google' must be local, amazon or minio"),
    ({"PWP__FILES__STORAGE": "amazon"}, "needs a bucket"),
    ({"PWP__FILES__STORAGE": "amazon", "PWP__FILES__S3__BUCKET": "b", "PWP__FILES__S3__ACCESS_KEY_ID": "id"},
     "go together"),
    ({"PWP__HOST_PROTOCOL": "ftp", "PWP__HOST_DOMAIN": "x.example"}, "PWP__HOST_PROTOCOL='ftp' must be https or http"),
])
def test_bad_values_stop_the_start_naming_the_variable(tmp_path, env, says):
    from pwpush_app.settings import SettingsError

    with pytest.raises(SettingsError) as error:
        load_settings({"PWPUSH_MASTER_KEY": "a" * 64, "PWPUSH_DATA_DIR": str(tmp_path), **env})
    assert says in str(error.value)


def test_a_list_of_trusted_proxies_is_read_through_from_the_right():
    from pwpush_app.core.network import client_ip
    from pwpush_app.settings_values import parse_networks

    proxies = parse_networks("PWP__TRUSTED_PROXIES", "10.0.0.5, 192.168.0.0/16")
    # Through two trusted proxies: the client is the rightmost untrusted address.
    assert client_ip("10.0.0.5", "6.6.6.6, 203.0.113.9, 192.168.1.2", 0, proxies) == "203.0.113.9"
    # A peer that is not a trusted proxy: its header is anyone's words.
    assert client_ip("198.51.100.1", "203.0.113.9", 0, proxies) == "198.51.100.1"
    # Garbage a client wrote on the left stops the walk at the last real address.
    assert client_ip("10.0.0.5", "not-an-ip, 192.168.7.7", 0, proxies) == "192.168.7.7"
    assert client_ip("10.0.0.5", None, 0, proxies) == "10.0.0.5"


def test_switches_a_kind_does_not_offer_are_never_on(make_runtime):
    from pwpush_app.core.audit import Client
    from pwpush_app.core.create import NewPush, create_push

    runtime = make_runtime(PWP__PW__ENABLE_RETRIEVAL_STEP="false", PWP__PW__ENABLE_DELETABLE_PUSHES="false")
    policy = runtime.settings.policy("text")
    assert not policy.retrieval_step_allowed and not policy.deletable_by_viewer_allowed
    created = create_push(runtime, NewPush(payload="x", kind="text", retrieval_step=True, deletable_by_viewer=True),
                          Client(ip="127.0.0.1"))
    assert (created.push.retrieval_step, created.push.deletable_by_viewer) == (False, False)
    # Other kinds keep their own.
    other = create_push(runtime, NewPush(payload="x", kind="qr", retrieval_step=True, deletable_by_viewer=True),
                        Client(ip="127.0.0.1"))
    assert (other.push.retrieval_step, other.push.deletable_by_viewer) == (True, True)


def test_the_pages_settings_in_password_pushers_words(tmp_path):
    base = {"PWPUSH_MASTER_KEY": "a" * 64, "PWPUSH_DATA_DIR": str(tmp_path)}
    defaults = load_settings(base)
    pages = defaults.pages
    assert (pages.theme_mode, pages.show_version, pages.noindex, defaults.disable_logins) == ("auto", True, True, False)
    assert (pages.brand.light_logo, pages.brand.dark_logo, pages.brand.show_footer_menu) == ("/logo.svg", "/logo.svg", True)
    assert (defaults.policy("text").blur, defaults.policy("file").blur, defaults.policy("qr").blur) == (True, True, False)
    s = load_settings({
        **base, "PWP__THEME_MODE": "Dark", "PWP__SHOW_VERSION": "false", "PWP__NOINDEX": "false",
        "PWP__DISABLE_LOGINS": "true", "PWP__PW__ENABLE_BLUR": "false",
        "PWP__BRAND__TITLE": "Acme Secrets", "PWP__BRAND__DISCLAIMER": "For Acme staff only.",
        "PWP__BRAND__SHOW_FOOTER_MENU": "false", "PWP__BRAND__DARK_LOGO": "https://cdn.example.com/dark.png",
        "PWP__BRAND__ICON_32x32": "/acme-32.png", "PWP__BRAND__ICON_180x180": "https://cdn.example.com/180.png",
        "PWP__BRAND__MS_ICON_144x144": "/ms.png",
        "PWP__GEN__HAS_NUMBERS": "false", "PWP__GEN__SEPARATORS": "-_=", "PWP__GEN__CONSONANTS": "bcd",
        "PWP__GEN__VOWELS": "ae", "PWP__GEN__MIN_SYLLABLE_LENGTH": "1", "PWP__GEN__MAX_SYLLABLE_LENGTH": "4",
        "PWP__GEN__SYLLABLES_COUNT": "5", "PWP__GEN__USE_SEPARATORS": "false", "PWP__GEN__TITLE_CASED": "false",
    })
    pages = s.pages
    assert (pages.theme_mode, pages.show_version, pages.noindex, s.disable_logins) == ("dark", False, False, True)
    assert (s.policy("text").blur, s.policy("file").blur) == (False, True)
    # One custom logo alone serves both modes, as in Password Pusher.
    assert (pages.brand.title, pages.brand.light_logo, pages.brand.dark_logo) == (
        "Acme Secrets", "https://cdn.example.com/dark.png", "https://cdn.example.com/dark.png")
    assert (pages.brand.disclaimer, pages.brand.show_footer_menu, pages.brand.ms_icon) == ("For Acme staff only.", False, "/ms.png")
    assert dict(pages.brand.icons) == {("icon", "32x32"): "/acme-32.png",
                                       ("apple-touch-icon", "180x180"): "https://cdn.example.com/180.png"}
    gen = pages.generator
    assert (gen.has_numbers, gen.title_cased, gen.use_separators, gen.separators, gen.consonants, gen.vowels) == (
        False, False, False, "-_=", "bcd", "ae")
    assert (gen.min_syllable_length, gen.max_syllable_length, gen.syllables_count) == (1, 4, 5)


@pytest.mark.parametrize("env, says", [
    ({"PWP__THEME_MODE": "sepia"}, "PWP__THEME_MODE='sepia' must be auto, light or dark"),
    ({"PWP__BRAND__LIGHT_LOGO": "javascript:alert(1)"}, "PWP__BRAND__LIGHT_LOGO='javascript:alert(1)' must be a path"),
    ({"PWP__BRAND__ICON_16x16": "icon.png"}, "PWP__BRAND__ICON_16x16='icon.png' must be a path"),
    ({"PWP__BRAND__DARK_LOGO": "/a\" onerror=\"x"}, "PWP__BRAND__DARK_LOGO"),
    ({"PWP__GEN__CONSONANTS": "b c"}, "PWP__GEN__CONSONANTS='b c' must be letters only"),
    ({"PWP__GEN__SEPARATORS": "-1"}, "PWP__GEN__SEPARATORS='-1' must be 1 to 20 characters"),
    ({"PWP__GEN__MIN_SYLLABLE_LENGTH": "4", "PWP__GEN__MAX_SYLLABLE_LENGTH": "2"}, "is more than PWP__GEN__MAX_SYLLABLE_LENGTH=2"),
    ({"PWP__GEN__SYLLABLES_COUNT": "50"}, "PWP__GEN__SYLLABLES_COUNT=50 is out of range"),
    ({"PWP__SHOW_VERSION": "perhaps"}, "PWP__SHOW_VERSION='perhaps' is not a boolean"),
    ({"PWP__DISABLE_LOGINS": "2"}, "PWP__DISABLE_LOGINS='2' is not a boolean"),
    ({"PWP__FILES__ENABLE_BLUR": "nah"}, "PWP__FILES__ENABLE_BLUR='nah' is not a boolean"),
])
def test_bad_page_settings_stop_the_start_naming_the_variable(tmp_path, env, says):
    from pwpush_app.settings import SettingsError

    with pytest.raises(SettingsError) as error:
        load_settings({"PWPUSH_MASTER_KEY": "a" * 64, "PWPUSH_DATA_DIR": str(tmp_path), **env})
    assert says in str(error.value)


def test_the_generator_draws_from_the_sites_letters_lengths_and_separators():
    from pwpush_app.core.passwords import GeneratorOptions, generate_password
    from pwpush_app.settings_pages import GeneratorDefaults

    defaults = GeneratorDefaults(consonants="bcd", vowels="ae", separators="-_=", min_syllable_length=1,
                                 max_syllable_length=4, syllables_count=5, has_numbers=False, title_cased=False)
    start = GeneratorOptions.starting(defaults)
    assert (start.syllables, start.numbers, start.title_case, start.separator) == (5, False, False, "site")
    seen_separators, lengths = set(), set()
    for _ in range(200):
        password = generate_password(start)
        syllables = re.split(r"[-_=]", password)
        seen_separators |= set(re.findall(r"[-_=]", password))
        assert len(syllables) == 5 and all(re.fullmatch(r"[bcd]([ae][bcd]?)*[ae]?", s) for s in syllables), password
        lengths |= {len(s) for s in syllables}
    assert seen_separators == {"-", "_", "="} and lengths == {1, 2, 3, 4}
    # No separators: the visitor starts with none; a single one of ours is named.
    assert GeneratorOptions.starting(GeneratorDefaults(use_separators=False)).separator == "none"
    assert GeneratorOptions.starting(GeneratorDefaults(separators=".")).separator == "dot"
    # A browser's remembered choice that the site doesn't offer falls back to the site's.
    assert GeneratorOptions.from_text("3", "1", "1", "site", GeneratorDefaults()).separator == "dash"
