"""Prometheus counters: what an operator watches (no labels carry PII). docs/ops/ holds a
Grafana dashboard and the alert rules built on these names."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

REGISTRY = CollectorRegistry(auto_describe=True)
# The standard `process_*` (CPU, memory, open fds) and `python_*` (version, gc) series.
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

#: Every `outcome` label of `kycgw_webhooks_total` (README, Webhooks, lists these). Per event:
#: applied, unchanged (same status and vendor value), stale (older than what is stored),
#: duplicate (seen before), ignored (the event carries no status, e.g. a hint to read the
#: vendor; it is kept), unknown_status (a vendor status not in the adapter's table). Per delivery:
#: unknown_session (404), rejected_signature / rejected_timestamp (401), rejected_malformed
#: (400), too_large (413), transient_error (503).
WEBHOOK_OUTCOMES = (
    "applied",
    "unchanged",
    "stale",
    "duplicate",
    "ignored",
    "unknown_status",
    "unknown_session",
    "rejected_signature",
    "rejected_timestamp",
    "rejected_malformed",
    "too_large",
    "transient_error",
)

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
unknown_check_values_total = Counter(
    "kycgw_unknown_check_values_total",
    "Vendor checks with a name, outcome or reason not in the adapter's check tables "
    "(kept as OTHER / REVIEW / other, the raw value beside it)",
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
subscriber_overflows_total = Counter(
    "kycgw_subscriber_overflows_total",
    "Subscribers closed because they fell behind (their queue filled), by queue: bus (one "
    "subscription's status changes) or shared (a shared execution's results)",
    ["queue"],
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
http_request_seconds = Histogram(
    "kycgw_http_request_duration_seconds",
    "HTTP request duration by route and status class, until the first body chunk is sent "
    "(a streamed response, e.g. a subscription over HTTP, counts its time to first chunk)",
    ["route", "status"],
    registry=REGISTRY,
)
graphql_operation_seconds = Histogram(
    "kycgw_graphql_operation_duration_seconds",
    "GraphQL operation duration by operation type (query, mutation; subscription: time to "
    "its first result; invalid: did not parse or names no operation)",
    ["operation"],
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
#: Every `outcome` of `kycgw_outbound_webhook_deliveries_total`: succeeded (a 2xx), retrying
#: (failed, another attempt is scheduled), failed (retries exhausted).
OUTBOUND_OUTCOMES = ("succeeded", "retrying", "failed")
outbound_deliveries_total = Counter(
    "kycgw_outbound_webhook_deliveries_total",
    "Outbound webhook attempts by outcome (succeeded, retrying, failed)",
    ["outcome"],
    registry=REGISTRY,
)
outbound_attempt_seconds = Histogram(
    "kycgw_outbound_webhook_attempt_seconds",
    "Outbound webhook attempt latency (resolve, connect, send, answer)",
    registry=REGISTRY,
)
outbound_queue_depth = Gauge(
    "kycgw_outbound_webhook_queue_depth",
    "Outbound webhook deliveries pending or in flight, and messages not yet fanned out",
    registry=REGISTRY,
)
outbound_oldest_pending_seconds = Gauge(
    "kycgw_outbound_webhook_oldest_pending_seconds",
    "Age of the oldest outbound webhook delivery not yet delivered (0 = none)",
    registry=REGISTRY,
)
outbound_endpoints_disabled_total = Counter(
    "kycgw_outbound_webhook_endpoints_disabled_total",
    "Endpoints disabled because every attempt failed for KYCGW_WEBHOOK_DISABLE_AFTER_S",
    registry=REGISTRY,
)
adopted_sessions_total = Counter(
    "kycgw_adopted_sessions_total",
    "Vendor sessions the gateway did not create, read from the vendor and stored when a "
    "signed webhook named them (KYCGW_<VENDOR>_ADOPT_UNKNOWN)",
    ["provider"],
    registry=REGISTRY,
)
