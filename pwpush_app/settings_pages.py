"""What the pages look like and offer, under Password Pusher's names: the brand (title,
tagline, disclaimer, logos, icons, footer menu), light or dark, the version in the footer,
search engines, and the password generator's defaults (PWP__BRAND__*, PWP__THEME_MODE,
PWP__SHOW_VERSION, PWP__NOINDEX, PWP__GEN__*).  Below `settings.py`; read through its `Reader`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from pwpush_app.settings_languages import LANGUAGES, N_, normalise
from pwpush_app.settings_values import Reader, SettingsError, document

THEME_MODES = ("auto", "light", "dark")

# Password Pusher's icon settings -> (rel, sizes) of the <link> each one becomes; the
# Microsoft tile is a <meta>.
ICON_LINKS = {
    "ICON_57x57": ("apple-touch-icon", "57x57"),
    "ICON_60x60": ("apple-touch-icon", "60x60"),
    "ICON_72x72": ("apple-touch-icon", "72x72"),
    "ICON_76x76": ("apple-touch-icon", "76x76"),
    "ICON_114x114": ("apple-touch-icon", "114x114"),
    "ICON_120x120": ("apple-touch-icon", "120x120"),
    "ICON_144x144": ("apple-touch-icon", "144x144"),
    "ICON_152x152": ("apple-touch-icon", "152x152"),
    "ICON_180x180": ("apple-touch-icon", "180x180"),
    "ICON_192x192": ("icon", "192x192"),
    "ICON_32x32": ("icon", "32x32"),
    "ICON_96x96": ("icon", "96x96"),
    "ICON_16x16": ("icon", "16x16"),
}
MS_ICON = "MS_ICON_144x144"
# The logo shown when no PWP__BRAND__LIGHT_LOGO / DARK_LOGO is set (assets/logo.svg).
DEFAULT_LOGO = "/logo.svg"

# A picture: a path on this site (a file in assets/, served from the root) or an http(s) URL.
_PICTURE_RE = re.compile(r"^(/[^\s\"'<>\\]*|https?://[^\s\"'<>\\/]+(/[^\s\"'<>\\]*)?)$")


@dataclass(frozen=True)
class Brand:
    title: str = "Password Pusher"
    tagline: str = "Go ahead and email another password"
    disclaimer: str = ""
    show_footer_menu: bool = True
    light_logo: str = DEFAULT_LOGO
    dark_logo: str = DEFAULT_LOGO
    # rel and sizes -> address, for each icon set (Password Pusher's ICON_* names).
    icons: Mapping[tuple[str, str], str] = field(default_factory=dict)
    ms_icon: str = ""

    @property
    def pictures(self) -> list[str]:
        """Every picture address the pages show (the security headers allow their origins)."""
        return [self.light_logo, self.dark_logo, *self.icons.values(), *([self.ms_icon] if self.ms_icon else [])]


@dataclass(frozen=True)
class GeneratorDefaults:
    """The password generator's starting point (core/passwords.py draws from it); a visitor's
    own choices of syllables, numbers, title case and separator are kept in their browser."""

    has_numbers: bool = True
    title_cased: bool = True
    use_separators: bool = True
    # No "l": it reads like "1" and "I".
    consonants: str = "bcdfghjkmnpqrstvwxz"
    vowels: str = "aeiouy"
    # One is used between syllables; several: one of them at random for each gap.
    separators: str = "-"
    min_syllable_length: int = 2
    max_syllable_length: int = 3
    syllables_count: int = 3


@dataclass(frozen=True)
class PageSettings:
    brand: Brand = Brand()
    theme_mode: str = "auto"
    show_version: bool = True
    noindex: bool = True
    generator: GeneratorDefaults = GeneratorDefaults()
    # PWP__DEFAULT_LOCALE / PWP__ENABLED_LANGUAGE_CODES (core/i18n.py chooses among these).
    default_locale: str = "en"
    enabled_languages: tuple[str, ...] = tuple(LANGUAGES)


_GEN = GeneratorDefaults()


def document_page_settings() -> None:
    document("PWP__BRAND__DISCLAIMER", "(none)", N_("A short text in every page's footer (e.g. terms of use)."))
    document("PWP__BRAND__SHOW_FOOTER_MENU", "true", N_("Links in the footer (API documentation, My pushes)."))
    document("PWP__BRAND__LIGHT_LOGO / __DARK_LOGO", DEFAULT_LOGO, N_("The header's logo in light and dark mode: a path on this site (a file in assets/) or an https:// URL; one set alone serves both."))
    document("PWP__BRAND__ICON_16x16 ... __ICON_192x192, __MS_ICON_144x144", "(the padlock)", N_("Favicons and home-screen icons, Password Pusher's sizes (57, 60, 72, 76, 114, 120, 144, 152, 180, 192, 32, 96, 16): a path on this site or an https:// URL each."))
    document("PWP__THEME_MODE", "auto", N_("`auto`: each visitor's light/dark preference, with a switch in the header; `light` or `dark`: that mode for everyone, no switch."))
    document("PWP__DEFAULT_LOCALE", "en", N_("The language of a visitor whose browser asks for none this site has (one of the enabled codes)."))
    document("PWP__ENABLED_LANGUAGE_CODES", "(all)", N_("The languages offered, comma-separated codes (`en,fr,de`), of:"),
             listed=", ".join(LANGUAGES))
    document("PWP__SHOW_VERSION", "true", N_("Show the application's version in the footer."))
    document("PWP__NOINDEX", "true", N_("Ask search engines not to index any page. `false` lets them index the home page only: secret links, manage links and every other page always say noindex."))
    document("PWP__GEN__HAS_NUMBERS / __TITLE_CASED / __USE_SEPARATORS", "true / true / true", N_("The password generator's defaults: a digit after each syllable, syllables title-cased, separators between them (visitors can change these; their browser remembers)."))
    document("PWP__GEN__SEPARATORS", _GEN.separators, N_("The separator between syllables; several characters (`-_=`): one of them at random for each gap."))
    document("PWP__GEN__CONSONANTS / __VOWELS", f"{_GEN.consonants} / {_GEN.vowels}", N_("The letters syllables are made of (consonants and vowels alternate)."))
    document("PWP__GEN__MIN_SYLLABLE_LENGTH / __MAX_SYLLABLE_LENGTH", f"{_GEN.min_syllable_length} / {_GEN.max_syllable_length}", N_("Letters per syllable (1 to 10)."))
    document("PWP__GEN__SYLLABLES_COUNT", str(_GEN.syllables_count), N_("Syllables in a generated password (2 to 10)."))


def parse_picture(name: str, raw: str) -> str:
    value = raw.strip()
    if not _PICTURE_RE.match(value):
        raise SettingsError(f"{name}={raw!r} must be a path on this site (/logo.png, a file in assets/) or an http(s):// URL")
    return value


def _letters(r: Reader, name: str, default: str) -> str:
    value = (r.str(name, default) or default).strip()
    if not value or not value.isalpha():
        r.errors.append(f"{name}={value!r} must be letters only, at least one")
        return default
    return value


def read_page_settings(r: Reader, title: str, tagline: str) -> PageSettings:
    light = r.get("PWP__BRAND__LIGHT_LOGO", None, parse_picture)
    dark = r.get("PWP__BRAND__DARK_LOGO", None, parse_picture)
    icons = {}
    for key, link in ICON_LINKS.items():
        address = r.get(f"PWP__BRAND__{key}", None, parse_picture)
        if address:
            icons[link] = address
    brand = Brand(
        title=title,
        tagline=tagline,
        disclaimer=(r.str("PWP__BRAND__DISCLAIMER", "") or "").strip(),
        show_footer_menu=r.bool("PWP__BRAND__SHOW_FOOTER_MENU", True),
        # As in Password Pusher: one custom logo alone serves both modes.
        light_logo=light or dark or DEFAULT_LOGO,
        dark_logo=dark or light or DEFAULT_LOGO,
        icons=icons,
        ms_icon=r.get(f"PWP__BRAND__{MS_ICON}", "", parse_picture),
    )
    theme_mode = (r.str("PWP__THEME_MODE", "auto") or "auto").strip().lower()
    if theme_mode not in THEME_MODES:
        r.errors.append(f"PWP__THEME_MODE={theme_mode!r} must be auto, light or dark")
        theme_mode = "auto"
    return PageSettings(
        brand=brand,
        theme_mode=theme_mode,
        show_version=r.bool("PWP__SHOW_VERSION", True),
        noindex=r.bool("PWP__NOINDEX", True),
        generator=_read_generator(r),
        **_read_languages(r),
    )


def _read_languages(r: Reader) -> dict:
    raw = (r.str("PWP__ENABLED_LANGUAGE_CODES", "") or "").replace(";", ",")
    enabled = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        code = normalise(item)
        if code is None or code.lower() != item.replace("_", "-").lower():
            r.errors.append(f"PWP__ENABLED_LANGUAGE_CODES: {item!r} is not one of " + ", ".join(LANGUAGES))
        elif code not in enabled:
            enabled.append(code)
    enabled = enabled or list(LANGUAGES)
    default = (r.str("PWP__DEFAULT_LOCALE", "en") or "en").strip()
    chosen = normalise(default, enabled)
    if chosen is None or chosen.lower() != default.replace("_", "-").lower():
        r.errors.append(f"PWP__DEFAULT_LOCALE={default!r} must be one of the enabled languages: " + ", ".join(enabled))
        chosen = "en" if "en" in enabled else enabled[0]
    return {"default_locale": chosen, "enabled_languages": tuple(enabled)}


def _read_generator(r: Reader) -> GeneratorDefaults:
    separators = r.str("PWP__GEN__SEPARATORS", _GEN.separators)
    if separators is None or separators == "" or any(c.isalnum() for c in separators) or len(separators) > 20:
        r.errors.append(f"PWP__GEN__SEPARATORS={separators!r} must be 1 to 20 characters, none a letter or digit")
        separators = _GEN.separators
    low = r.int("PWP__GEN__MIN_SYLLABLE_LENGTH", _GEN.min_syllable_length, 1, 10)
    high = r.int("PWP__GEN__MAX_SYLLABLE_LENGTH", _GEN.max_syllable_length, 1, 10)
    if low > high:
        r.errors.append(f"PWP__GEN__MIN_SYLLABLE_LENGTH={low} is more than PWP__GEN__MAX_SYLLABLE_LENGTH={high}")
        low, high = _GEN.min_syllable_length, _GEN.max_syllable_length
    return GeneratorDefaults(
        has_numbers=r.bool("PWP__GEN__HAS_NUMBERS", True),
        title_cased=r.bool("PWP__GEN__TITLE_CASED", True),
        use_separators=r.bool("PWP__GEN__USE_SEPARATORS", True),
        consonants=_letters(r, "PWP__GEN__CONSONANTS", _GEN.consonants),
        vowels=_letters(r, "PWP__GEN__VOWELS", _GEN.vowels),
        separators=separators,
        min_syllable_length=low,
        max_syllable_length=high,
        syllables_count=r.int("PWP__GEN__SYLLABLES_COUNT", _GEN.syllables_count, 2, 10),
    )
