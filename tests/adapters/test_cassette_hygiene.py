"""Every Didit cassette is safe to publish and traceable to the vendor's docs (style.md:
ActiveMerchant's transcript-scrubbing tests)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "didit"
PLACEHOLDER_KEY = "test-api-key"
EXPECTED_FILES = {
    "create_session_201.yaml": ("POST", 201),
    "get_decision_200.yaml": ("GET", 200),
    "update_status_200.yaml": ("PATCH", 200),
    "delete_session_200.yaml": ("DELETE", 200),
    "error_403.yaml": (None, 403),
    "error_429.yaml": (None, 429),
    "error_400_fields.yaml": (None, 400),
}
SECRET_HEADERS = {"x-api-key", "authorization", "x-signature", "x-signature-v2", "cookie"}
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LONG_TOKEN = re.compile(r"[A-Za-z0-9_\-+=]{24,}")


def cassette_files() -> list[Path]:
    return sorted(CASSETTES.glob("*.yaml"))


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_exactly_the_documented_cassettes_exist() -> None:
    assert {p.name for p in cassette_files()} == set(EXPECTED_FILES)


@pytest.mark.parametrize("path", cassette_files(), ids=lambda p: p.name)
def test_cassette_cites_its_source(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# source: providers/didit.md §A")


@pytest.mark.parametrize("path", cassette_files(), ids=lambda p: p.name)
def test_first_interaction_is_the_named_one(path: Path) -> None:
    data = load(path)
    assert data["version"] == 1
    method, status = EXPECTED_FILES[path.name]
    first = data["interactions"][0]
    assert first["response"]["status"]["code"] == status
    if method is not None:
        assert first["request"]["method"] == method


@pytest.mark.parametrize("path", cassette_files(), ids=lambda p: p.name)
def test_requests_use_the_documented_host_placeholder_key_and_trailing_slash(path: Path) -> None:
    for interaction in load(path)["interactions"]:
        request = interaction["request"]
        url = urlparse(request["uri"])
        assert (url.scheme, url.netloc) == ("https", "verification.didit.me")
        assert url.path.startswith("/v3/") and url.path.endswith("/")
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert headers["x-api-key"] == [PLACEHOLDER_KEY]
        assert not (SECRET_HEADERS - {"x-api-key"}) & set(headers)
        for body in (request["body"], interaction["response"]["body"]["string"]):
            if body:
                json.loads(body)  # bodies are JSON, so the sandbox can load them


@pytest.mark.parametrize("path", cassette_files(), ids=lambda p: p.name)
def test_no_real_looking_secret(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "test-webhook-secret" not in text
    keys = re.findall(r"x-api-key:\s*\n\s*-\s*(\S+)", text)
    assert keys and set(keys) == {PLACEHOLDER_KEY}
    tokens = [
        t
        for t in LONG_TOKEN.findall(text)
        if not UUID.fullmatch(t)
        and sum(c.isdigit() for c in t) >= 4  # identifiers like feature_id_verification_1
        and sum(c.isalpha() for c in t) >= 4  # pass; keys and hashes mix both a lot
    ]
    assert not tokens, tokens


@pytest.mark.parametrize("path", cassette_files(), ids=lambda p: p.name)
def test_only_documentation_emails(path: Path) -> None:
    domains = {m.group(1).lower() for m in EMAIL.finditer(path.read_text(encoding="utf-8"))}
    assert domains <= {"example.com"}
