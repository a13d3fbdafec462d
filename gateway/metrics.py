"""Prometheus counters: what an operator watches (no labels carry PII)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

webhooks_total = Counter(
    "kycgw_webhooks_total",
    "Webhook deliveries by provider and outcome",
    ["provider", "outcome"],
    registry=REGISTRY,
)
unknown_status_total = Counter(
    "kycgw_unknown_provider_status_total",
    "Vendor statuses not in the adapter's table (previous status kept)",
    ["provider"],
    registry=REGISTRY,
)
status_changes_total = Counter(
    "kycgw_status_changes_total",
    "Normalized status changes recorded",
    ["provider", "source", "status"],
    registry=REGISTRY,
)
vendor_errors_total = Counter(
    "kycgw_vendor_errors_total",
    "Vendor calls that failed, by normalized code",
    ["provider", "code"],
    registry=REGISTRY,
)
active_subscriptions = Gauge(
    "kycgw_active_subscriptions",
    "Live status-change subscriptions in this process",
    registry=REGISTRY,
)
reconciler_polls_total = Counter(
    "kycgw_reconciler_polls_total",
    "Reconciler vendor reads by provider and result (true = progressed, false, error)",
    ["provider", "result"],
    registry=REGISTRY,
)
reconciler_leader = Gauge(
    "kycgw_reconciler_leader",
    "1 when this replica runs the reconciler",
    registry=REGISTRY,
)
http_requests_total = Counter(
    "kycgw_http_requests_total",
    "HTTP requests by route and status class",
    ["route", "status"],
    registry=REGISTRY,
)
vendor_call_seconds = Histogram(
    "kycgw_vendor_call_seconds",
    "Vendor call latency by provider and operation",
    ["provider", "operation"],
    registry=REGISTRY,
)
breaker_open = Gauge(
    "kycgw_breaker_open",
    "1 when the provider's circuit breaker is open",
    ["provider"],
    registry=REGISTRY,
)
event_batch_size = Histogram(
    "kycgw_event_batch_size",
    "Vendor events written per transaction (group commit)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
    registry=REGISTRY,
)
shared_streams = Gauge(
    "kycgw_shared_subscription_streams",
    "Subscription executions feeding websocket subscribers (subscribers of one shape share one)",
    registry=REGISTRY,
)
