"""Structured (JSON) logs. Callers pass ids and codes in `extra`, never PII or secrets.

The filter here is the last line of defence, and it removes secrets and personal data only:
an operator needs gateway session ids (`ses_…`), vendor names, event types and tracebacks with
their file paths verbatim (docs/security.md). Unlike `adapters.common.scrub` (text that reaches
a caller), it does not treat every long id-like string as a token."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from adapters.common.scrub import (
    EMAIL,
    EMAIL_PLACEHOLDER,
    MIN_SECRET_LENGTH,
    PHONE,
    PHONE_PLACEHOLDER,
    REDACTED,
    TOKEN_PLACEHOLDER,
)

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exc"] = record.exc_text
        return json.dumps(payload, ensure_ascii=False)


#: Gateway API keys (`kgw_…`) and client tokens (`kgw_ct_<JWT>`).
_GATEWAY_CREDENTIAL = re.compile(r"\bkgw_[\w\-]+(?:\.[\w\-]+)*")
#: A JWT/JWS in compact form: its header is base64url JSON, so it starts with `eyJ`.
_JWT = re.compile(r"\beyJ[\w\-]+\.[\w\-]+\.[\w\-]*")
#: The credential after an HTTP auth scheme (RFC 7235 token68). `Basic` and `Token` are also
#: words, so after them only an encoded-looking value counts (see `_auth_value`).
_AUTH_SCHEME = re.compile(r"\b(Bearer|bearer|Basic|Token)(\s+)([\w\-.~+/]{6,}=*)")
#: `key=value` / `"key": "value"` where the key names a credential (see `_secret_value`).
_SECRET_FIELD = re.compile(
    r"(?i)((?:api[_-]?key|apikey|token|secret|password|passwd|signature|sig|authorization)"
    r"[\"']?\s*[:=]\s*[\"']?)([\w\-+/=~.]{6,})(?![\w\-+/=~.(\[])"
)
#: Ids in a URL's path (not capabilities): UUIDs and prefixed hex (`ses_<hex>`).
_ID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z]+_[0-9a-f]+", re.I
)
#: A URL: a verification link carries its capability in the path or the query.
_URL = re.compile(r"\bhttps?://[^\s\"'<>]+")
#: A random credential on its own (e.g. `secrets.token_urlsafe`): 24+ URL-safe characters with
#: upper case, lower case and digits. Ids (`ses_<hex>`, UUIDs) are lower case or hex; `/` and
#: `.` end a run, so file paths never match as a whole.
_RANDOM = re.compile(
    r"(?<![\w\-])(?=[\w\-]*[A-Z])(?=[\w\-]*[a-z])(?=[\w\-]*\d)[\w\-]{24,}(?![\w\-])"
)


def _letters_and_digits(text: str) -> bool:
    return any(c.isdigit() for c in text) and any(c.isalpha() for c in text)


def _encoded(text: str) -> bool:
    """Looks generated rather than written: letters and digits, base64 padding, or upper case
    inside a word (a random URL-safe string has no digit once in a couple of hundred)."""
    return _letters_and_digits(text) or text.endswith("=") or any(c.isupper() for c in text[1:])


def _secret_value(match: re.Match[str]) -> str:
    """A credential's value holds letters and digits; code in a traceback's source lines
    (`token = self._verify(…)`, `self.tokens[0]`) is followed by `(`/`[` or has no digit."""
    return match.group(1) + REDACTED if _letters_and_digits(match.group(2)) else match.group(0)


def _auth_value(match: re.Match[str]) -> str:
    scheme, space, value = match.groups()
    if scheme.lower() == "bearer" or _encoded(value):
        return f"{scheme}{space}{TOKEN_PLACEHOLDER}"
    return match.group(0)


def _scrub_url(match: re.Match[str]) -> str:
    """Keep scheme, host and the path's shape; drop the query, the fragment and any path
    segment that looks like a token (8+ characters, `_encoded`, not an id)."""
    url = match.group(0)
    base, _, _ = url.partition("#")
    base, query, _ = base.partition("?")
    scheme, _, rest = base.partition("://")
    host, slash, path = rest.partition("/")
    segments = [
        TOKEN_PLACEHOLDER if len(seg) >= 8 and _encoded(seg) and not _ID.fullmatch(seg) else seg
        for seg in path.split("/")
    ]
    out = f"{scheme}://{host}{slash}{'/'.join(segments)}"
    return out + ("?" + TOKEN_PLACEHOLDER if query else "") + ("#…" if "#" in url else "")


def scrub_log(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without known secrets, gateway credentials, JWTs, auth-scheme values, credential
    fields, capability URLs, e-mail addresses, phone numbers and random credential strings."""
    out = text
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len)[::-1]:
        out = out.replace(secret, REDACTED)
    out = _URL.sub(_scrub_url, out)
    out = _GATEWAY_CREDENTIAL.sub(TOKEN_PLACEHOLDER, out)
    out = _JWT.sub(TOKEN_PLACEHOLDER, out)
    out = _AUTH_SCHEME.sub(_auth_value, out)
    out = _SECRET_FIELD.sub(_secret_value, out)
    out = EMAIL.sub(EMAIL_PLACEHOLDER, out)
    out = PHONE.sub(PHONE_PLACEHOLDER, out)
    return _RANDOM.sub(TOKEN_PLACEHOLDER, out)


class ScrubbingFilter(logging.Filter):
    """Whatever a module logs (message, `extra`, traceback) leaves the process through
    `scrub_log`; `secrets` grows as the app learns vendor credentials."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: set[str] = set(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub_log(record.getMessage(), self.secrets)
        record.args = ()
        for key, value in list(vars(record).items()):
            if key in _STANDARD or key.startswith("_"):
                continue
            if isinstance(value, str):
                setattr(record, key, scrub_log(value, self.secrets))
            elif not isinstance(value, int | float | bool):  # the formatter would str() it
                setattr(record, key, scrub_log(str(value), self.secrets))
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub_log(
                logging.Formatter().formatException(record.exc_info), self.secrets
            )
            record.exc_info = None
        return True


SCRUBBER = ScrubbingFilter()
QUIET_LIBRARIES = ("httpx", "httpcore", "aiosqlite", "asyncpg", "sqlalchemy")


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(SCRUBBER)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries whose own lines carry what the filter cannot know is personal: httpx logs
    # full URLs at INFO (sandbox URLs carry session tokens); at DEBUG the database drivers and
    # SQLAlchemy log every statement with its parameters (names, raw vendor payloads).
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def failure(error: BaseException) -> dict[str, str]:
    """`extra` for a line saying something failed: the exception's class and its message
    (scrubbed by the filter like everything else). For a database error, the driver's words
    only: SQLAlchemy's own message quotes the statement and its parameters."""
    orig = getattr(error, "orig", None)
    message = str(orig if isinstance(orig, BaseException) else error)
    return {"error": type(error).__name__, "reason": message[:300] or type(error).__name__}
