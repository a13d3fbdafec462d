"""Every vendor cassette and fixture is safe to publish and traceable to the vendor's docs
(after ActiveMerchant's transcript-scrubbing tests).

Every folder under `cassettes/` gets the generic checks (source comment, placeholder key, no
secret-looking strings, documentation e-mails only, JSON bodies); vendors listed in `RULES`
also get their own (the exact file set, host, path conventions, required headers).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2] / "cassettes"
PLACEHOLDER_KEY = "test-api-key"
SECRET_HEADERS = {
    "x-api-key",
    "authorization",
    "x-signature",
    "x-signature-v2",
    "x-verifa-signature",
    "cookie",
}
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LONG_TOKEN = re.compile(r"[A-Za-z0-9_\-+=]{24,}")


@dataclass(frozen=True)
class VendorRules:
    """What one vendor's recordings must look like beyond the generic checks."""

    host: str
    path_prefix: str
    trailing_slash: bool
    #: file name → (method of the first interaction or None, its status code)
    cassettes: dict[str, tuple[str | None, int]]
    fixtures: frozenset[str] = frozenset()
    #: request headers every interaction carries, with their value
    headers: dict[str, str] = field(default_factory=dict)
    #: the header carrying the placeholder key; None for a bearer key, which is a secret
    #: header and so left out of every recording (the generic check holds that)
    key_header: str | None = "x-api-key"


RULES: dict[str, VendorRules] = {
    "didit": VendorRules(
        host="verification.didit.me",
        path_prefix="/v3/",
        trailing_slash=True,  # docs/model.md, Pitfalls: a redirect would drop the auth header
        cassettes={
            "create_session_201.yaml": ("POST", 201),
            "get_decision_200.yaml": ("GET", 200),
            "update_status_200.yaml": ("PATCH", 200),
            "update_status_options_200.yaml": ("GET", 200),
            "delete_session_200.yaml": ("DELETE", 200),
            "list_sessions_200.yaml": ("GET", 200),
            "generate_pdf_200.yaml": ("GET", 200),
            "error_403.yaml": (None, 403),
            "error_429.yaml": (None, 429),
            "error_400_fields.yaml": (None, 400),
            "results_approved.yaml": ("GET", 200),
            "results_declined.yaml": ("GET", 200),
            "results_review.yaml": ("GET", 200),
        },
    ),
    "verifa": VendorRules(
        host="api.withverifa.com",
        path_prefix="/api/v1/",
        trailing_slash=False,  # docs/vendors/verifa.md: paths have none
        cassettes={
            "create_session_201.yaml": ("POST", 201),
            "get_session_200.yaml": ("GET", 200),
            "get_result_200.yaml": ("GET", 200),
            "get_result_404.yaml": ("GET", 404),
            "expire_409.yaml": ("POST", 409),
            "resume_200.yaml": ("POST", 200),
            "one_time_link_200.yaml": ("POST", 200),
            "update_metadata_200.yaml": ("PATCH", 200),
            "list_sessions_200.yaml": ("GET", 200),
            "list_pages_200.yaml": ("GET", 200),
            "reprocess_202.yaml": ("POST", 202),
            "redact_200.yaml": ("DELETE", 200),
            "error_422_idempotency.yaml": ("POST", 422),
            "error_429.yaml": (None, 429),
            "results_approved.yaml": ("GET", 200),
            "results_declined.yaml": ("GET", 200),
            "results_review.yaml": ("GET", 200),
        },
        fixtures=frozenset({"webhook_nested.json", "webhook_flat.json"}),
        headers={"verifa-version": "2026-01-01", "key-inflection": "snake"},
    ),
    "beltic": VendorRules(
        host="api.beltic.com",
        path_prefix="/v1/identity/",
        trailing_slash=False,  # docs/vendors/beltic.md, Endpoints we call: paths have none
        cassettes={
            "account_find_or_create.yaml": ("GET", 200),
            "create_session_201.yaml": ("POST", 201),
            "get_session_200.yaml": ("GET", 200),
            "list_sessions_200.yaml": ("GET", 200),
            "list_page_200.yaml": ("GET", 200),
            "approve_200.yaml": ("POST", 200),
            "decline_200.yaml": ("POST", 200),
            "expire_200.yaml": ("POST", 200),
            "redact_200.yaml": ("POST", 200),
            "update_200.yaml": ("PATCH", 200),
            "error_403_decide.yaml": ("POST", 403),
            "error_404.yaml": ("GET", 404),
            "error_422.yaml": ("POST", 422),
            "error_429.yaml": ("GET", 429),
            "results_approved.yaml": ("GET", 200),
            "results_declined.yaml": ("GET", 200),
            "results_review.yaml": ("GET", 200),
        },
        fixtures=frozenset({"webhook_document_processed.yaml"}),
        headers={"accept": "application/json"},
    ),
    "uip": VendorRules(
        host="api.uip.digital",
        path_prefix="/v1/",
        trailing_slash=False,  # docs/vendors/uip.md, Endpoints we call: paths have none
        cassettes={
            "create_session_201.yaml": ("POST", 201),
            "error_400_steps.yaml": ("POST", 400),
            "get_session_shape_a.yaml": ("GET", 200),
            "get_session_shape_b.yaml": ("GET", 200),
            "get_audit_200.yaml": ("GET", 200),
            "continue_200.yaml": ("POST", 200),
            "continue_409.yaml": ("POST", 409),
            "stop_200.yaml": ("POST", 200),
            "error_429.yaml": ("GET", 429),
            "results_approved.yaml": ("GET", 200),
            "results_declined.yaml": ("GET", 200),
        },
        fixtures=frozenset(
            {
                "webhook_session_completed.json",
                "webhook_session_failed_insufficient_funds.json",
                "webhook_session_failed_internal_error.json",
                "webhook_session_failed_verification.json",
                "webhook_session_stopped.json",
                "webhook_step_completed_age_verify.json",
                "webhook_step_completed_age_verify_not_satisfied.json",
                "webhook_step_completed_identify.json",
                "webhook_step_completed_light_sign.json",
                "webhook_step_completed_sign.json",
            }
        ),
        headers={"accept": "application/json"},
        key_header=None,  # `Authorization: Bearer`, never recorded
    ),
}


def vendors() -> list[str]:
    return sorted(p.name for p in ROOT.iterdir() if p.is_dir())


def all_files() -> list[Path]:
    return sorted(p for p in ROOT.glob("*/*") if p.suffix in {".yaml", ".yml", ".json"})


def load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def cassettes() -> list[Path]:
    """vcrpy cassettes (YAML with `interactions`); other YAML files are webhook fixtures."""
    return [p for p in all_files() if p.suffix != ".json" and "interactions" in (load(p) or {})]


def ruled_cassettes() -> list[Path]:
    return [p for p in cassettes() if p.parent.name in RULES]


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


# -- generic ----------------------------------------------------------------------------------
def test_there_are_recordings() -> None:
    assert {"didit", "verifa"} <= set(vendors())


@pytest.mark.parametrize("path", all_files(), ids=_id)
def test_file_cites_its_source(path: Path) -> None:
    """Each recording names the project's page on the vendor and the vendor's own page it
    follows (docs/vendors/<vendor>.md, Sources)."""
    prefix = f"docs/vendors/{path.parent.name}.md, "
    if path.suffix == ".json":
        source = str(load(path).get("source", ""))
    else:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# source: "), first
        source = first.removeprefix("# source: ")
    assert source.startswith(prefix), source
    assert "https://" in path.read_text(encoding="utf-8"), "no vendor page cited"


@pytest.mark.parametrize("path", cassettes(), ids=_id)
def test_cassette_is_vcr_v1_with_json_bodies_and_placeholder_key(path: Path) -> None:
    data = load(path)
    assert data["version"] == 1
    assert data["interactions"]
    for interaction in data["interactions"]:
        request = interaction["request"]
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert headers.get("x-api-key", [PLACEHOLDER_KEY]) == [PLACEHOLDER_KEY]
        assert not (SECRET_HEADERS - {"x-api-key"}) & set(headers)
        response = interaction["response"]
        media = {k.lower(): v for k, v in response["headers"].items()}.get("content-type")
        answer = response["body"]["string"]
        if media == ["application/pdf"]:  # a report (generate-pdf): a PDF, and nothing else
            assert answer.startswith("%PDF-") and answer.rstrip().endswith("%%EOF")
            answer = None
        for body in (request["body"], answer):
            if body:
                json.loads(body)  # bodies are JSON, so sandboxes can load them


@pytest.mark.parametrize("path", all_files(), ids=_id)
def test_no_real_looking_secret(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "test-webhook-secret" not in text
    assert "whsec_" not in text and "vk_live_" not in text and "vk_sandbox_" not in text
    keys = re.findall(r"x-api-key:\s*\n\s*-\s*(\S+)", text)
    assert set(keys) <= {PLACEHOLDER_KEY}
    tokens = [
        t
        for t in LONG_TOKEN.findall(unquote(text))  # query strings: `%5D=<uuid>`
        # ids are no secret, also inside a name (`filename=session_<uuid>`); the rest is judged
        if len(rest := UUID.sub("", t).strip("=+-_")) >= 24 or not UUID.search(t)
        if sum(c.isdigit() for c in rest) >= 4  # identifiers like feature_id_verification_1
        and sum(c.isalpha() for c in rest) >= 4  # pass; keys and hashes mix both a lot
    ]
    assert not tokens, tokens


@pytest.mark.parametrize("path", all_files(), ids=_id)
def test_only_documentation_emails(path: Path) -> None:
    domains = {m.group(1).lower() for m in EMAIL.finditer(path.read_text(encoding="utf-8"))}
    assert domains <= {"example.com"}


# -- per vendor -------------------------------------------------------------------------------
@pytest.mark.parametrize("vendor", sorted(RULES))
def test_exactly_the_documented_files_exist(vendor: str) -> None:
    rules = RULES[vendor]
    present = {p.name for p in (ROOT / vendor).iterdir() if p.is_file()}
    assert present == set(rules.cassettes) | rules.fixtures


@pytest.mark.parametrize("path", ruled_cassettes(), ids=_id)
def test_first_interaction_is_the_named_one(path: Path) -> None:
    method, status = RULES[path.parent.name].cassettes[path.name]
    first = load(path)["interactions"][0]
    assert first["response"]["status"]["code"] == status
    if method is not None:
        assert first["request"]["method"] == method


@pytest.mark.parametrize("path", ruled_cassettes(), ids=_id)
def test_requests_follow_the_vendor_conventions(path: Path) -> None:
    rules = RULES[path.parent.name]
    for interaction in load(path)["interactions"]:
        request = interaction["request"]
        url = urlparse(request["uri"])
        assert (url.scheme, url.netloc) == ("https", rules.host)
        assert url.path.startswith(rules.path_prefix)
        assert url.path.endswith("/") is rules.trailing_slash, url.path
        headers = {k.lower(): v for k, v in request["headers"].items()}
        if rules.key_header is not None:
            assert headers[rules.key_header] == [PLACEHOLDER_KEY]
        for name, value in rules.headers.items():
            assert headers.get(name) == [value], (name, headers.get(name))
