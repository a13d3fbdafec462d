"""Response headers shared by the gateway's pages: everything a page loads comes from here."""

from __future__ import annotations

#: No script, style or connection to another origin; forms post only to this origin.
PAGE_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; font-src 'self' data:; "
        "connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
