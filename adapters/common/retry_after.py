"""The `Retry-After` header of a 429 / 503 as seconds to wait (RFC 9110 §10.2.3).

Vendor-neutral: delta-seconds or an HTTP date. Vendor-specific fallbacks (rate-limit reset
headers, waits written in the message) stay with each vendor's error mapper.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

RETRY_AFTER_HEADER = "retry-after"


def retry_after_header(response: httpx.Response, now: datetime) -> int | None:
    """Whole seconds to wait from `Retry-After`, or None when absent or unreadable."""
    header = response.headers.get(RETRY_AFTER_HEADER, "").strip()
    if not header:
        return None
    if header.isdigit():
        return int(header)
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # `-0000`: an HTTP date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(0, int((when - now).total_seconds()))
