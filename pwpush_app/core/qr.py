"""QR codes as SVG text, drawn in memory: never cached, never written to disk.

Used for QR pushes (the secret is the QR code's content) and for the share page's QR of
the secret link: one function draws them all (`qr_svg`, or `qr_data_uri` for an <img>).  The SVG has a white background and a viewBox, so it scales with CSS.
"""

from __future__ import annotations

import base64
import re

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_L, ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError

# The largest QR code (version 40) at the lowest error correction holds 2,953 bytes in
# byte mode; UTF-8 text up to that size always fits.
MAX_QR_BYTES = 2953

_SIZE_ATTRIBUTES = re.compile(r'^<svg width="[^"]*" height="[^"]*"')
_SIZE_RE = re.compile(r"^\d{1,4}(px|%|em|rem)?$")


class QrTooLong(ValueError):
    def __init__(self):
        super().__init__(f"The text is too long for a QR code: at most {MAX_QR_BYTES:,} bytes of UTF-8.")


def qr_fits(text: str) -> bool:
    return len(text.encode("utf-8")) <= MAX_QR_BYTES


def qr_svg(text: str, size: str = "256", label: str = "QR code") -> str:
    """An SVG document (as text) of `text` as a QR code; `size` is its CSS width and height.

    Medium error correction when the text allows it (survives a smudged screen), low for
    long texts.  Raises QrTooLong when no QR code can hold the text.
    """
    if not qr_fits(text):
        raise QrTooLong()
    for level in (ERROR_CORRECT_M, ERROR_CORRECT_L):
        code = qrcode.QRCode(error_correction=level, border=4, image_factory=qrcode.image.svg.SvgPathFillImage)
        code.add_data(text.encode("utf-8"))
        try:
            code.make(fit=True)
        except (DataOverflowError, ValueError):
            continue
        svg = code.make_image().to_string(encoding="unicode")
        safe_size = size if _SIZE_RE.match(size) else "256"
        safe_label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
        return _SIZE_ATTRIBUTES.sub(
            f'<svg width="{safe_size}" height="{safe_size}" role="img" aria-label="{safe_label}"', svg, count=1
        )
    raise QrTooLong()


def qr_data_uri(text: str, label: str = "QR code") -> str:
    """The QR code as an SVG data URI for an <img> that scales with its box."""
    svg = qr_svg(text, size="100%", label=label)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
