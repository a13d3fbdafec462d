"""QR codes as PNG data URLs, for the sandboxes' `qr_code_data_url`-style fields.

segno (a well-kept, dependency-free QR library) does the encoding; this only fixes the
format the vendors document: `data:image/png;base64,…`.
"""

from __future__ import annotations

import segno


def qr_png_data_url(text: str, level: str = "M") -> str:
    """`data:image/png;base64,…` of a QR code encoding `text` (UTF-8)."""
    return segno.make(text, error=level.lower(), micro=False).png_data_uri(scale=4, border=4)
