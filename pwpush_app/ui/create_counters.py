"""The create form's counters, written by the browser as the sender types (the text isn't sent
while typing): the secret's size against its limit, the QR code's characters.  In the viewer's
language: English keeps its "12.3 KiB of 1 MiB"; other languages get Intl's units ("12,3 ko")."""

from __future__ import annotations

import json

import reflex as rx
from reflex.vars import VarData

from pwpush_app.core.file_names import describe_bytes
from pwpush_app.ui.i18n import LanguageState, t

PAYLOAD_COUNT = "payload-count"
QR_COUNT = "qr-count"
# A size in bytes as the page's language writes it (the secret's UTF-8 bytes, as the core counts).
SIZE_JS = (
    "((n, lang) => (!lang || lang === 'en') ? (n >= 1048576 ? (Math.ceil(n / 10485.76) / 100).toFixed(2) + ' MiB'"
    " : n >= 1024 ? (Math.ceil(n / 102.4) / 10).toFixed(1) + ' KiB' : n + (n === 1 ? ' byte' : ' bytes'))"
    " : new Intl.NumberFormat(lang, {style: 'unit', unit: n >= 1048576 ? 'megabyte' : n >= 1024 ? 'kilobyte' : 'byte',"
    " unitDisplay: n >= 1024 ? 'short' : 'long', maximumFractionDigits: 2})"
    ".format(n >= 1048576 ? Math.ceil(n / 10485.76) / 100 : n >= 1024 ? Math.ceil(n / 102.4) / 10 : n))"
)


def _in_language(js: str) -> rx.Var:
    locale = LanguageState.locale
    return rx.Var(js.replace("LANG", str(locale)), _var_data=VarData.merge(locale._get_all_var_data())).to(str)


def payload_size_counter(limit: int) -> rx.Component:
    """'12.3 KiB of 1 MiB'; past the limit it turns red and says what to do."""
    written = _in_language(f"{SIZE_JS}({limit}, LANG)")
    limit_words = rx.cond(LanguageState.locale == "en", describe_bytes(limit), written)
    return rx.text(
        rx.el.span(t("{size} of {limit}", size=_in_language(f"{SIZE_JS}(0, LANG)"), limit=limit_words), id="payload-size",
                   custom_attrs={"data-words": t("{size} of {limit}", limit=limit_words)}),
        rx.el.span(" — ", t("Too long: shorten it, or send it as a file."), class_name="payload-too-long"),
        id=PAYLOAD_COUNT,
        size="1",
        color_scheme="gray",
        style={"&[data-over='yes']": {"color": "var(--red-11)", "fontWeight": "500"},
               "& .payload-too-long": {"display": "none"},
               "&[data-over='yes'] .payload-too-long": {"display": "inline"}},
    )


def count_payload_bytes(limit: int, value: rx.Var) -> rx.EventSpec:
    return rx.call_function(rx.Var(
        f"() => {{ const n = new TextEncoder().encode({value}).length; const out = document.getElementById('payload-size');"
        f" if (!out) return; out.parentElement.dataset.over = n > {limit} ? 'yes' : 'no';"
        f" out.textContent = (out.dataset.words || '{{size}}').replace('{{size}}', {SIZE_JS}(n, document.documentElement.lang)); }}"
    ))


def count_qr_characters(value: rx.Var) -> rx.EventSpec:
    """Code points, as the core counts."""
    return rx.call_function(rx.Var(
        f"() => {{ const el = document.getElementById({json.dumps(QR_COUNT)});"
        f" if (el) el.textContent = [...{value}].length.toLocaleString(document.documentElement.lang || 'en'); }}"
    ))


def qr_help(limit: int) -> rx.Component:
    """'12 / 1,024 characters. …' in the viewer's language."""
    most = _in_language(f"({limit}).toLocaleString(LANG)")
    return rx.text(
        rx.el.span("0", id=QR_COUNT),
        " / ",
        t("{count} characters. The recipient sees it as a QR code to scan.", count=most),
        id="qr-help",
        size="1",
        color_scheme="gray",
        aria_live="polite",
    )
