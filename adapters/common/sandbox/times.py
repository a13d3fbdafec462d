"""The timestamps the emulators store and print (a vendor whose examples print times another
way keeps its own printer; every one reads them back with `parse_iso`)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with a `Z`; whole seconds print without a fraction."""
    moment = moment.astimezone(UTC)
    spec = "seconds" if moment.microsecond == 0 else "microseconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """An ISO 8601 time (`Z` or an offset); one without a zone is UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
