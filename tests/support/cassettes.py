"""The recorded vendor traffic in `cassettes/<vendor>/`, for adapter and sandbox tests.

Adapter tests replay it with vcrpy (never recording: the cassettes are the vendors' documented
examples); sandbox tests read single interactions to compare the emulators' answers with them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import vcr
import yaml
from vcr.cassette import Cassette

#: vcr's default request matching, plus the JSON body.
MATCH_ON = ("method", "uri", "json_body")


def _json_or_none(body: Any) -> Any:
    if body in (None, b"", ""):
        return None
    return json.loads(body)


def json_body(r1: Any, r2: Any) -> None:
    """vcr matcher: the request bodies are the same JSON (key order and spacing aside)."""
    assert _json_or_none(r1.body) == _json_or_none(r2.body)


def replayer(directory: Path, match_on: Sequence[str] = MATCH_ON) -> vcr.VCR:
    """A vcr that only replays the cassettes of `directory`, matching JSON bodies as JSON."""
    recorder = vcr.VCR(
        cassette_library_dir=str(directory),
        record_mode="none",
        match_on=tuple(match_on),
    )
    recorder.register_matcher("json_body", json_body)
    return recorder


def assert_all_played(cassette: Cassette, count: int) -> None:
    assert cassette.play_count == count
    assert cassette.all_played


def interaction(directory: Path, name: str, index: int = 0) -> tuple[dict[str, Any], Any]:
    """(request, parsed response body) of one interaction of a cassette."""
    data = yaml.safe_load((directory / name).read_text(encoding="utf-8"))
    recorded = data["interactions"][index]
    return recorded["request"], json.loads(recorded["response"]["body"]["string"])


def request_json(request: dict[str, Any]) -> Any:
    """The JSON body of a recorded request, `{}` when it has none."""
    body = request.get("body")
    if isinstance(body, dict):  # vcrpy may store {"string": ...}
        body = body.get("string")
    return json.loads(body) if body else {}
