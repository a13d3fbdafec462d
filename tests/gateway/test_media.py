"""GraphQL-over-HTTP media negotiation (gateway/web/graphql/media.py): which media type an Accept
header gets, and which responses count as request errors under graphql-response+json."""

from __future__ import annotations

import pytest

from gateway.web.graphql.media import GRAPHQL_RESPONSE_JSON, JSON, negotiate, request_error_status


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        ("application/json;q=0.9, application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json, application/json", GRAPHQL_RESPONSE_JSON),
        ("application/json, application/graphql-response+json", JSON),
        ("application/graphql-response+json, */*", GRAPHQL_RESPONSE_JSON),
        ("*/*, application/json", JSON),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON; charset=utf-8", GRAPHQL_RESPONSE_JSON),
        ("application/json;q=0, application/graphql-response+json;q=0.1", GRAPHQL_RESPONSE_JSON),
        ("*/*;q=0.5, application/json;q=0", GRAPHQL_RESPONSE_JSON),
        # Nothing we can produce is acceptable: the spec lets us fall back to application/json.
        ("text/html", JSON),
        ("application/graphql-response+json;q=0", JSON),
        ("application/graphql-response+json;q=nonsense", JSON),
        ("garbage, ;;, /", JSON),
    ],
)
def test_negotiate(accept: str | None, expected: str) -> None:
    assert negotiate(accept) == expected


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ({"data": {"a": 1}}, None),
        ({"data": {"a": None}, "errors": [{"message": "x", "path": ["a"]}]}, None),
        # A non-null field error nulls the whole result, but execution ran: still 2xx.
        ({"data": None, "errors": [{"message": "x", "path": ["a"]}]}, None),
        ({"data": None, "errors": [{"message": "Syntax Error"}]}, 400),
        ({"data": None, "errors": [{"message": "unknown field", "locations": []}]}, 400),
        (
            {
                "data": None,
                "errors": [{"message": "x", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}],
            },
            500,
        ),
    ],
)
def test_request_error_status(response: dict, expected: int | None) -> None:
    assert request_error_status(response) == expected
