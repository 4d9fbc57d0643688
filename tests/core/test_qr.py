"""QR codes: drawn in memory as SVG, encoding exactly the text, with clear limits."""

from __future__ import annotations

import re

import pytest
import qrcode

from pwpush_app.core.create import NewPush, validate_new_push
from pwpush_app.core.errors import InvalidPush
from pwpush_app.core.qr import MAX_QR_BYTES, QrTooLong, qr_svg

_SQUARE = re.compile(r"M(\d+),(\d+)H\d+V\d+H\d+z")


def dark_modules(svg: str) -> set[tuple[int, int]]:
    """The dark squares the SVG path draws, as (x, y) module coordinates."""
    return {(int(x), int(y)) for x, y in _SQUARE.findall(svg)}


def expected_modules(text: str, level) -> set[tuple[int, int]]:
    code = qrcode.QRCode(error_correction=level, border=4)
    code.add_data(text.encode("utf-8"))
    code.make(fit=True)
    return {(x, y) for y, row in enumerate(code.get_matrix()) for x, dark in enumerate(row) if dark}


@pytest.mark.parametrize("text", ["https://example.com/p/abc123", "WIFI:T:WPA;S:office;P:c0rrect horse;;", "ключ 🔑"])
def test_the_svg_draws_the_qr_code_of_the_text(text):
    svg = qr_svg(text)
    assert svg.startswith('<svg width="256" height="256" role="img" aria-label="QR code"')
    assert "viewBox" in svg and 'fill="white"' in svg
    assert dark_modules(svg) == expected_modules(text, qrcode.constants.ERROR_CORRECT_M)
    # The content is drawn, not written into the document.
    assert text not in svg


def test_long_texts_fall_back_to_low_error_correction():
    text = "x" * MAX_QR_BYTES
    assert dark_modules(qr_svg(text)) == expected_modules(text, qrcode.constants.ERROR_CORRECT_L)


def test_too_much_for_any_qr_code_is_a_clear_error():
    with pytest.raises(QrTooLong, match="too long for a QR code"):
        qr_svg("漢" * 985)  # 2,955 bytes of UTF-8


def test_size_and_label_cannot_break_out_of_the_attributes():
    svg = qr_svg("hi", size='100" onload="alert(1)', label='x" onload="alert(1)')
    assert svg.startswith('<svg width="256" height="256" role="img" aria-label="x&quot; onload=&quot;alert(1)"')
    assert qr_svg("hi", size="100%").startswith('<svg width="100%" height="100%"')


def test_qr_pushes_are_limited_in_characters_and_in_bytes(runtime):
    validate_new_push(runtime, NewPush(kind="qr", payload="a" * 1024))
    with pytest.raises(InvalidPush, match="at most 1,024 characters"):
        validate_new_push(runtime, NewPush(kind="qr", payload="a" * 1025))
    with pytest.raises(InvalidPush, match="too long to draw"):
        validate_new_push(runtime, NewPush(kind="qr", payload="😀" * 1000))  # 4,000 bytes


def test_every_accepted_qr_payload_can_be_drawn(make_runtime):
    runtime = make_runtime(PWPUSH_MAX_QR_CHARS="4096")
    text = "é" * 1476  # 2,952 bytes: just fits
    validate_new_push(runtime, NewPush(kind="qr", payload=text))
    assert qr_svg(text).startswith("<svg")
