"""docs/ops/ (dashboard, alert rules) names only metrics a live gateway exports; the request
and operation histograms and the standard collectors are there; README's webhook outcomes are
the code's."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx
import pytest
import yaml
from websockets.asyncio.client import connect

from adapters.base import WebhookRejectReason
from gateway import metrics
from gateway.sessions.ingest import IngestOutcome
from gateway.sessions.ordering import Verdict
from tests.e2e.server import GatewayProcess

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "docs" / "ops"
METRIC = re.compile(r"\b(?:kycgw|process|python)_[a-z_]+\b")
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


@pytest.fixture(scope="module")
def exposition(tmp_path_factory: pytest.TempPathFactory) -> str:
    """/metrics of a dev-mode gateway after a query, a mutation, a subscription's first
    result and a rejected webhook."""
    with GatewayProcess(tmp_path_factory.mktemp("ops")) as server:
        with httpx.Client(base_url=server.base, timeout=20) as client:
            created = client.post(
                "/graphql",
                json={"query": "mutation { createSession(input: {}) { session { id } } }"},
            ).json()["data"]["createSession"]["session"]
            assert client.post("/graphql", json={"query": "{ providers { name } }"}).is_success
            first = asyncio.run(_first_subscription_result(server.base, created["id"]))
            assert first["payload"]["data"]["sessionStatusChanged"]["status"] == "CREATED"
            rejected = client.post("/webhooks/didit", content=b"{}")
            assert rejected.status_code in (400, 401)
            return client.get("/metrics").text


async def _first_subscription_result(base: str, session_id: str) -> dict:
    url = base.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        query = (
            'subscription($s: ID!) { sessionStatusChanged(sessionId: $s, after: "0") { status } }'
        )
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": {"s": session_id}},
                }
            )
        )
        return json.loads(await asyncio.wait_for(ws.recv(), 10))


def families(text: str) -> dict[str, str]:
    """Metric family → type, from the `# TYPE` lines (present for every registered metric,
    with or without samples)."""
    out = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            out[name] = kind
    return out


def exported(name: str, known: dict[str, str]) -> bool:
    """Whether a PromQL selector's name is a series Prometheus will see: a family itself
    (counters are exposed with their `_total`), or a histogram's `_bucket`/`_sum`/`_count`."""
    if name in known:
        return True
    for suffix in HISTOGRAM_SERIES:
        if name.endswith(suffix) and known.get(name.removesuffix(suffix)) == "histogram":
            return True
    return False


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((OPS / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        if isinstance(variable.get("query"), dict):
            exprs.append(variable["query"]["query"])
    return exprs


def alert_expressions() -> list[str]:
    rules = yaml.safe_load((OPS / "alerts.yml").read_text())
    return [r["expr"] for group in rules["groups"] for r in group["rules"]]


def test_dashboard_and_alerts_name_only_exported_metrics(exposition: str) -> None:
    known = families(exposition)
    dashboard, alerts = dashboard_expressions(), alert_expressions()
    assert len(dashboard) >= 15 and len(alerts) >= 6
    # Every name in an expression, and every kycgw_ name anywhere in the files (prose too).
    names = {n for expr in dashboard + alerts for n in METRIC.findall(expr)}
    for path in (OPS / "grafana-dashboard.json", OPS / "alerts.yml", OPS / "README.md"):
        names |= {n for n in METRIC.findall(path.read_text()) if n.startswith("kycgw_")}
    missing = sorted(n for n in names if not exported(n, known))
    assert missing == []
    # What the brief asks the dashboard to show, and the alerts to page on.
    for wanted in (
        "kycgw_http_requests_total",
        "kycgw_http_request_duration_seconds_bucket",
        "kycgw_webhooks_total",
        "kycgw_breaker_open",
        "kycgw_reconciler_leader",
        "kycgw_active_subscriptions",
        "kycgw_subscriber_overflows_total",
        "kycgw_unknown_provider_status_total",
        "kycgw_vendor_call_seconds_bucket",
        "kycgw_vendor_errors_total",
        "kycgw_graphql_operation_duration_seconds_bucket",
    ):
        assert any(wanted in e for e in dashboard), wanted
    assert "sum(kycgw_reconciler_leader) == 0" in alerts
    joined = "\n".join(alerts)
    for wanted in ('rejected_.*"', 'outcome="transient_error"', "kycgw_breaker_open"):
        assert wanted in joined, wanted
    for wanted in ("kycgw_subscriber_overflows_total", "kycgw_unknown_provider_status_total"):
        assert wanted in joined, wanted


def test_the_checker_catches_a_name_that_is_not_exported(exposition: str) -> None:
    known = families(exposition)
    assert not exported("kycgw_webhooks", known)  # a counter without its _total
    assert not exported("kycgw_breaker_open_bucket", known)  # a gauge is not a histogram
    assert exported("kycgw_vendor_call_seconds_count", known)


def samples(text: str, name: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            series, value = line.rsplit(" ", 1)
            out[series] = float(value)
    return out


def test_request_and_operation_histograms_and_standard_collectors(exposition: str) -> None:
    known = families(exposition)
    assert known["kycgw_http_request_duration_seconds"] == "histogram"
    assert known["kycgw_graphql_operation_duration_seconds"] == "histogram"
    graphql = samples(exposition, "kycgw_http_request_duration_seconds_count")
    assert graphql['kycgw_http_request_duration_seconds_count{route="/graphql",status="2xx"}'] >= 2
    webhook = [s for s in graphql if 'route="/webhooks/{provider}"' in s and 'status="4xx"' in s]
    assert webhook, graphql
    # The same bounded labels as the request counter.
    counted = samples(exposition, "kycgw_http_requests_total")
    assert {s.split("{", 1)[1] for s in graphql} <= {s.split("{", 1)[1] for s in counted}
    operations = samples(exposition, "kycgw_graphql_operation_duration_seconds_count")
    for kind in ("query", "mutation", "subscription"):
        key = f'kycgw_graphql_operation_duration_seconds_count{{operation="{kind}"}}'
        assert operations.get(key, 0) >= 1, operations
    for family in ("process_resident_memory_bytes", "process_cpu_seconds_total", "python_info"):
        assert family in known, family
    assert "python_gc_objects_collected_total" in known
    assert samples(exposition, "process_resident_memory_bytes")
    assert known["kycgw_subscriber_overflows_total"] == "counter"


def code_outcomes() -> set[str]:
    """Every outcome label the code can count, read from where it is set."""
    webhooks = (ROOT / "gateway" / "web" / "webhooks.py").read_text()
    found = set(re.findall(r'webhooks_total\.labels\(provider, "([a-z_]+)"\)', webhooks))
    assert 'f"rejected_{rejected.reason}"' in webhooks
    found |= {f"rejected_{reason.value}" for reason in WebhookRejectReason}
    found |= {outcome.value for outcome in IngestOutcome}
    found |= {verdict.value for verdict in Verdict}
    return found


def test_readme_lists_the_webhook_outcomes_the_code_counts() -> None:
    assert code_outcomes() == set(metrics.WEBHOOK_OUTCOMES)
    readme = (ROOT / "README.md").read_text()
    listed = readme.split("its outcomes (`gateway/metrics.py`,", 1)[1].split("\n\n", 1)[0]
    assert re.findall(r"`([a-z_]+)`", listed) == list(metrics.WEBHOOK_OUTCOMES)
