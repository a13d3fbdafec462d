"""GraphQL-over-HTTP content negotiation, which strawberry lacks: a client that accepts
`application/graphql-response+json` gets it, with the spec's status codes (a request error —
no `data` — is a 4xx/5xx); everyone else keeps `application/json`, where errors are 200."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
#: Preference order on a tie (`*/*`, `application/*`, no Accept): the spec's legacy default first.
SUPPORTED = (JSON, GRAPHQL_RESPONSE_JSON)
#: `extensions.code` of a masked crash (gateway/web/graphql/schema.py): the server's fault.
INTERNAL_ERROR_CODE = "INTERNAL_SERVER_ERROR"


def _media_ranges(accept: str) -> list[tuple[str, str, float]]:
    """(type, subtype, q) per range of an Accept header; malformed ranges are dropped."""
    ranges = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        kind, _, subtype = media.lower().partition("/")
        if not kind or not subtype:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = -1.0
        if 0.0 <= q <= 1.0:
            ranges.append((kind, subtype, q))
    return ranges


def negotiate(accept: str | None) -> str:
    """The media type to answer with. Each supported type takes the q of its most specific
    matching range (RFC 9110 §12.5.1); the highest q wins, then the more specific match, then
    the range listed first, then `application/json`. When nothing supported is acceptable we
    answer `application/json` anyway, which the spec allows instead of a 406: a 406 would break
    clients that never sent a sensible Accept header."""
    ranges = _media_ranges(accept or "")
    if not ranges:
        return JSON
    best: tuple[tuple[float, int, int], str] | None = None
    for media_type in SUPPORTED:
        kind, _, subtype = media_type.partition("/")
        matches = [
            (specificity, -index, q)
            for index, (r_kind, r_subtype, q) in enumerate(ranges)
            if (specificity := _specificity(r_kind, r_subtype, kind, subtype)) is not None
        ]
        if not matches:
            continue
        specificity, order, q = max(matches)
        if q > 0 and (best is None or (q, specificity, order) > best[0]):
            best = ((q, specificity, order), media_type)
    return JSON if best is None else best[1]


def _specificity(r_kind: str, r_subtype: str, kind: str, subtype: str) -> int | None:
    """2 for an exact match, 1 for `type/*`, 0 for `*/*`; None when the range does not match."""
    if r_kind == "*" and r_subtype == "*":
        return 0
    if r_kind != kind:
        return None
    if r_subtype == "*":
        return 1
    return 2 if r_subtype == subtype else None


def request_error_status(response: Mapping[str, Any]) -> int | None:
    """For `application/graphql-response+json`: None when execution ran (the `data` entry is
    due and the status is 2xx, even with field errors), else the status of a request error —
    parsing, validation or variable coercion failed, so no error has a `path` — 400, or 500
    when it was a masked crash."""
    errors = response.get("errors") or []
    if response.get("data") is not None or not errors:
        return None
    if any(error.get("path") for error in errors):
        return None
    codes = {(error.get("extensions") or {}).get("code") for error in errors}
    return 500 if INTERNAL_ERROR_CODE in codes else 400
