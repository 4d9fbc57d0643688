"""File names and types as they arrive from senders, made safe to store, show and send.

A file's name is the sender's word: it may be a path, hold control characters or
right-to-left overrides that disguise an extension, or names Windows refuses.  Its type is
the sender's claim too: a download is always an attachment, and types a browser would run
or render as a page of this site (html, svg, xml, scripts) go out as opaque bytes.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse

MAX_FILE_NAME_BYTES = 200
MAX_CONTENT_TYPE_CHARS = 127
DEFAULT_CONTENT_TYPE = "application/octet-stream"
FALLBACK_FILE_NAME = "file"

_UNSAFE_CHARACTERS = frozenset('<>:"/\\|?*')
_DROPPED_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
_WINDOWS_RESERVED = frozenset(
    ("con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10)))
)
_EXTENSION_RE = re.compile(r"^[A-Za-z0-9]{1,16}$")
_CONTENT_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")


def sanitize_file_name(raw: str) -> str:
    """A name safe to store, show and offer as a download name.

    Keeps the last part of a path (``../../etc/passwd`` -> ``passwd``, Windows paths too),
    drops control and invisible formatting characters (newlines, NUL, right-to-left
    overrides that disguise an extension), replaces characters Windows refuses with ``_``,
    and cuts it to 200 bytes of UTF-8 keeping the extension.  Never empty: ``file``.
    """
    text = unicodedata.normalize("NFC", raw if isinstance(raw, str) else "")
    text = re.split(r"[/\\]", text)[-1]
    kept = []
    for character in text:
        category = unicodedata.category(character)
        if category in _DROPPED_CATEGORIES:
            continue
        if character in _UNSAFE_CHARACTERS:
            kept.append("_")
        elif category == "Zs":
            kept.append(" ")
        else:
            kept.append(character)
    text = re.sub(r" {2,}", " ", "".join(kept)).strip(" ").rstrip(". ")
    if not text.strip("."):
        return FALLBACK_FILE_NAME
    stem, dot, extension = text.rpartition(".")
    if not stem or not _EXTENSION_RE.match(extension):
        stem, dot, extension = text, "", ""
    if stem.split(".")[0].lower() in _WINDOWS_RESERVED:
        stem = "_" + stem
    room = MAX_FILE_NAME_BYTES - len((dot + extension).encode())
    stem = stem.encode()[:room].decode("utf-8", "ignore").rstrip(" .")
    return (stem + dot + extension) if stem else FALLBACK_FILE_NAME + dot + extension


def sanitize_content_type(raw: str | None) -> str:
    """The declared type without parameters, if it looks like one; else octet-stream."""
    text = (raw or "").split(";", 1)[0].strip().lower()
    return text if len(text) <= MAX_CONTENT_TYPE_CHARS and _CONTENT_TYPE_RE.match(text) else DEFAULT_CONTENT_TYPE


# Declared types a browser would run or render as a document (scripts, markup, SVG):
# served as opaque bytes, so a file can never act as a page of this site.
_ACTIVE_TYPE_MARKERS = ("html", "xml", "svg", "javascript", "ecmascript", "xsl")


def served_content_type(declared: str) -> str:
    """The Content-Type a download goes out with: the declared one, unless it is active."""
    text = sanitize_content_type(declared)
    return DEFAULT_CONTENT_TYPE if any(marker in text for marker in _ACTIVE_TYPE_MARKERS) else text


def content_disposition(name: str) -> str:
    """The Content-Disposition value for downloading a (sanitised) name as an attachment:
    an ASCII fallback plus the exact name percent-encoded (RFC 6266 / 8187)."""
    safe = sanitize_file_name(name)
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in safe)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(safe, safe='')}"


def describe_bytes(count: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= size:
            value = count / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{count} byte{'s' if count != 1 else ''}"
