"""The state file of the vendor emulators: one JSON document, rewritten atomically.

Temp file in the same folder + fsync + rename, so a sandbox restarted on the same path (or
killed mid-write) finds either the old state or the new one, never half of one. A file that
cannot be read is moved aside (`<name>.corrupt`) rather than taking the gateway down.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any


def write_json_atomic(path: Path, payload: Any, *, prefix: str = ".sandbox-") -> None:
    data = json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json_state(path: Path, version: int) -> Any:
    """The state document at `path`; ValueError if it is not JSON or not of `version` (an
    AttributeError if it is not an object): the caller sets such a file aside."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    if payload.get("version") != version:
        raise ValueError(f"state version {payload.get('version')!r}")
    return payload


def set_aside(path: Path, error: Exception, log: logging.Logger, what: str) -> Path:
    """Move an unreadable state file out of the way (kept for a human to look at)."""
    aside = path.with_name(path.name + ".corrupt")
    os.replace(path, aside)
    log.warning("%s state unreadable (%s); moved to %s", what, type(error).__name__, aside)
    return aside
