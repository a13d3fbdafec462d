"""The session list's cursors (docs/vendors/beltic.md, Importing history).

Beltic pages its sessions list with opaque cursors carried in `links.next`. A `list_page`
cursor is that link as a path and query of the list endpoint (`/v1/identity/sessions?…`),
relative to the API root, so the gateway can keep it and the adapter can send it back: never
a URL, never another path, never a parameter the list does not take. Pure helpers only: the
adapter does the HTTP calls.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from adapters.base import ErrorCode, ProviderError
from adapters.beltic import inferred
from adapters.common.validation import bad_input

#: Longer than any next link Beltic's opaque cursors make; a store row is not a dump.
MAX_CURSOR_CHARS = 2048
#: The characters of a URL path and query (RFC 3986 unreserved, reserved and `%`): no
#: spaces, no control characters, nothing a parser might read differently from httpx.
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~%!$&'()*+,;=:@/?\[\]]+")


def first_page(page_size: int) -> str:
    """The first page's path: the list's size parameter within its documented range."""
    size = max(1, min(page_size, inferred.MAX_PAGE_SIZE))
    return f"{inferred.SESSIONS_PATH}?{urlencode({inferred.PAGE_SIZE_PARAM: size})}"


def is_list_cursor(cursor: Any) -> bool:
    """A path and query of the sessions list, asking for a page by its cursor, with only the
    list's documented parameters (`inferred.LIST_QUERY_PARAMS`), each once."""
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_CHARS:
        return False
    if not _URL_CHARS.fullmatch(cursor):
        return False
    parts = urlsplit(cursor)
    if parts.scheme or parts.netloc or parts.fragment or parts.path != inferred.SESSIONS_PATH:
        return False
    try:
        params = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return False
    names = [name for name, _ in params]
    if len(set(names)) != len(names) or not set(names) <= inferred.LIST_QUERY_PARAMS:
        return False
    return inferred.LIST_CURSOR_PARAM in names


def checked_cursor(cursor: str) -> str:
    """A cursor handed back by the gateway: refused unless this list could have made it."""
    if not is_list_cursor(cursor):
        raise bad_input("not a cursor of Beltic's session list", "cursor")
    return cursor


def cursor_of(url: str, api_root: str) -> str:
    """A next-page URL (already resolved against `api_root`, on its host) as a cursor: its
    path below the API root, with its query as Beltic wrote it. A link that is not a page of
    the session list is Beltic's fault, not the caller's."""
    root = urlsplit(api_root)
    target = urlsplit(url)
    prefix = root.path.rstrip("/")
    cursor = ""
    if (target.scheme, target.netloc) == (root.scheme, root.netloc) and target.path.startswith(
        prefix + "/"
    ):
        cursor = target.path[len(prefix) :] + (f"?{target.query}" if target.query else "")
    if not is_list_cursor(cursor):
        raise ProviderError(
            ErrorCode.PROVIDER_UNAVAILABLE,
            "Beltic returned a pagination link that is not a page of its session list",
        )
    return cursor
