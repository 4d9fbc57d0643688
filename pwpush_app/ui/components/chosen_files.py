"""Files chosen in an upload zone, before they are sent (the create page's file push, the
answer page's files): the list with sizes and Remove buttons, and the total in the browser."""

from __future__ import annotations

import reflex as rx

from pwpush_app.ui.i18n import LanguageState, t


def selected_bytes(upload_id: str) -> rx.Var:
    """The total size of the chosen files, in the browser (a courtesy check before sending)."""
    selected = rx.selected_files(upload_id)
    return rx.Var(
        f"((filesById['{upload_id}'] ?? []).reduce((total, file) => total + file.size, 0))",
        _var_data=selected._get_all_var_data(),
    ).to(int)


def chosen_count(upload_id: str) -> rx.Var:
    """How many files are chosen, in the browser."""
    selected = rx.selected_files(upload_id)
    return rx.Var(f"((filesById['{upload_id}'] ?? []).length)", _var_data=selected._get_all_var_data()).to(int)


def describe_bytes_js(amount: rx.Var) -> rx.Var:
    """A size as the visitor's language writes it ("4 MiB" in English, "4 Mo" in French)."""
    locale = LanguageState.locale
    return rx.Var(
        # Whole MiB exactly (the limit), others rounded up: 4 MiB + 2 KiB is never "4 MiB".
        f"(((n, lang) => {{ const [scaled, unit] = n >= 1048576 ? [n % 1048576 === 0 ? n / 1048576"
        f" : Math.ceil(n / 10485.76) / 100, 'megabyte'] : n >= 1024 ? [Math.ceil(n / 1024), 'kilobyte'] : [n, 'byte'];"
        f" if (!lang || lang === 'en') return (unit === 'megabyte' && n % 1048576 ? scaled.toFixed(2) : scaled)"
        f" + {{megabyte: ' MiB', kilobyte: ' KiB', byte: ' bytes'}}[unit];"
        f" return new Intl.NumberFormat(lang, {{style: 'unit', unit, unitDisplay: unit === 'byte' ? 'long' : 'short',"
        f" maximumFractionDigits: 2}}).format(scaled); }})({amount}, {locale}))",
        _var_data=rx.vars.VarData.merge(amount._get_all_var_data(), locale._get_all_var_data()),
    ).to(str)


class ChosenFiles(rx.Component):
    """The chosen files, each with its size and a Remove button, the total and a word when it
    is over the limit (assets/components/chosen_files.js: it edits the upload zone's list)."""

    library = rx.asset("components/chosen_files.js").importable_path
    tag = "ChosenFiles"

    upload_id: rx.Var[str]
    limit: rx.Var[int]
    # The texts in the visitor's language (chosen_files_words); English when not given.
    words: rx.Var[dict]


def chosen_files_words() -> dict:
    return {
        "remove": t("Remove"),
        "removeNamed": t("Remove {name}"),
        "total": t("Total: {size}"),
        "tooBig": t("These files add up to more than {size}: choose fewer or smaller files."),
    }
