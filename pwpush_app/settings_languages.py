"""The languages this site can speak (PWP__ENABLED_LANGUAGE_CODES picks among them) and how a
visitor's code (`pt_br`, `de-AT`, `zh-Hans`) maps to one; core/i18n.py chooses and translates."""

from __future__ import annotations

# Password Pusher's config/settings.yml language_codes, plus Arabic (issue 19), each in its own words.
LANGUAGES: dict[str, str] = {
    "ar": "العربية", "ca": "Català", "cs": "Čeština", "da": "Dansk", "de": "Deutsch", "en": "English",
    "es": "Español", "eu": "Euskara", "fi": "Suomi", "fr": "Français", "hi": "हिन्दी", "hu": "Magyar",
    "id": "Bahasa Indonesia", "is": "Íslenska", "it": "Italiano", "ja": "日本語", "ko": "한국어", "lv": "Latviski",
    "nl": "Nederlands", "no": "Norsk", "pl": "Polski", "pt-BR": "Português (Brasil)", "pt-PT": "Português (Portugal)",
    "ro": "Română", "ru": "Русский", "sk": "Slovenčina", "sr": "Српски", "sv": "Svenska", "th": "ไทย",
    "uk": "Українська", "ur": "اردو", "zh-CN": "中文",
}
RIGHT_TO_LEFT = frozenset({"ar", "ur"})
DEFAULT_LOCALE = "en"


def normalise(code: str | None, enabled: tuple[str, ...] | list[str] = tuple(LANGUAGES)) -> str | None:
    """The enabled code a visitor's `pt_br`, `PT-br`, `zh-Hans-CN` or `de-AT` means, or None."""
    if not code or not isinstance(code, str) or len(code) > 35:
        return None
    wanted = code.strip().replace("_", "-").lower()
    by_lower = {c.lower(): c for c in enabled}
    if wanted in by_lower:
        return by_lower[wanted]
    parts = wanted.split("-")
    if parts[0] == "zh":  # zh-Hans, zh-SG: the simplified Chinese we have
        return by_lower.get("zh-cn")
    if parts[0] == "nb" or parts[0] == "nn":  # Bokmål and Nynorsk browsers say so
        return by_lower.get("no")
    if parts[0] == "pt":  # a bare "pt" or pt-AO/pt-MZ: European Portuguese, then Brazilian
        return by_lower.get("pt-pt") or by_lower.get("pt-br")
    if parts[0] in by_lower:
        return by_lower[parts[0]]
    return next((c for lower, c in by_lower.items() if lower.split("-")[0] == parts[0]), None)


def N_(text: str) -> str:
    """Marks English text that is translated later, where it is shown (pybabel extracts it;
    the settings' descriptions use it too, so it lives below them; core/i18n.py passes it on)."""
    return text
