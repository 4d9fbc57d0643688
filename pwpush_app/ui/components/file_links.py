"""`file_links`: the download list of a revealed file push, filled by `rx.set_value` with
JSON, so file names and download grants never sit in state (like `value_image`).  Each file
shows its size and what its download did (started, or the server's refusal), and with
several files a "download all" zip (assets/components/file_links.js)."""

from __future__ import annotations

import reflex as rx

from pwpush_app.ui.i18n import t

# The list of files (here, and the end-to-end one of ui/components/e2e.py).
FILE_LIST_STYLE = {
    "display": "flex",
    "flexDirection": "column",
    "gap": "0.5rem",
    "& ul": {"listStyle": "none", "padding": "0", "margin": "0", "display": "flex", "flexDirection": "column",
             "gap": "0.5rem"},
    "& li, & .file-links-all": {
        "display": "flex",
        "flexWrap": "wrap",
        "alignItems": "center",
        "gap": "0.25rem 0.75rem",
        "padding": "0.5rem 0.75rem",
        "border": "1px solid var(--gray-a6)",
        "borderRadius": "var(--radius-3)",
    },
    "& .file-links-name": {"fontWeight": "500", "overflowWrap": "anywhere", "flex": "1 1 12rem"},
    "& .file-links-size": {"color": "var(--gray-11)", "fontSize": "var(--font-size-1)"},
    "& .file-links-download": {"textDecoration": "none"},
    "& .file-links-state": {"flexBasis": "100%", "fontSize": "var(--font-size-1)", "color": "var(--gray-11)"},
    "& .file-links-state:empty": {"display": "none"},
    "& [data-state='error'] .file-links-state": {"color": "var(--red-11)", "fontWeight": "500"},
    "& [data-state='done'] .file-links-state, & [data-state='ready'] .file-links-state": {"color": "var(--green-11)"},
}


class FileLinks(rx.Component):
    library = rx.asset("components/file_links.js").importable_path
    tag = "FileLinks"

    label: rx.Var[str]
    # The list's texts in the visitor's language (English without).
    words: rx.Var[dict]


def file_links_words() -> dict:
    return {
        "checking": t("Checking…"),
        "unreachable": t("The server could not be reached. Check your connection and try again."),
        "failed": t("The download failed (error {status}). Try again in a moment."),
        "started": t("Download started"),
        "again": t("Download again"),
        "download": t("Download"),
        "downloadNamed": t("Download {name}"),
        "allFiles": t("All {count} files"),
        "oneZip": t("one zip"),
        "downloadAll": t("Download all (zip)"),
    }


def file_links(id: str, label) -> rx.Component:
    return FileLinks.create(
        id=id,
        label=label,
        words=file_links_words(),
        width="100%",
        style=FILE_LIST_STYLE,
    )
