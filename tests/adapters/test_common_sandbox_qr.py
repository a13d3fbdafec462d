"""Sandbox QR codes: real PNG images whose QR matrix encodes the given text."""

from __future__ import annotations

import base64
import struct

import segno

from adapters.common.qr import qr_png_data_url

URL = "http://127.0.0.1:8000/sandbox/verifa/verify/tok_abc"


def _png(data_url: str) -> bytes:
    prefix = "data:image/png;base64,"
    assert data_url.startswith(prefix)
    return base64.b64decode(data_url[len(prefix) :])


def test_is_a_png_of_the_expected_size() -> None:
    image = _png(qr_png_data_url(URL))
    assert image[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", image[16:24])
    modules = segno.make(URL, error="m", micro=False).symbol_size(scale=4, border=4)
    assert (width, height) == modules


def test_encodes_the_text_it_is_given() -> None:
    assert qr_png_data_url(URL) == segno.make(URL, error="m", micro=False).png_data_uri(
        scale=4, border=4
    )
    assert qr_png_data_url(URL) != qr_png_data_url(URL + "x")


def test_error_correction_level_is_honoured() -> None:
    assert qr_png_data_url(URL, "H") != qr_png_data_url(URL, "L")
