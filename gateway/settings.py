"""One typed settings object, read once at start-up and passed down (env prefix `KYCGW_`).

Per-vendor credentials follow `KYCGW_<VENDOR>_<KEY>` (e.g. `KYCGW_DIDIT_API_KEY`); they are
read generically so that adding a vendor needs no change here.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.registry import first_provider
from gateway.auth import ApiKeyConfig
from gateway.errors import ConfigError
from gateway.routing_rules import RoutingConfig
from gateway.webhook_config import StaticWebhookEndpoint

ENV_PREFIX = "KYCGW_"
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    #: Where the gateway is reachable from outside (sandbox hosted pages, sandbox webhooks).
    public_url: str | None = None
    data_dir: Path = Path(".kycgw")
    database_url: str | None = None
    #: Connection pool (PostgreSQL): per replica.
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    #: redis://… to share status changes between replicas; unset = in-process bus.
    broker_url: str | None = None
    #: How often a replica that is not the reconciler tries to become it.
    leader_retry_s: float = Field(default=2.0, gt=0)
    log_level: str = "INFO"

    #: Used when `createSession` names none; unset = the first vendor `adapters/registry.py`
    #: lists (the gateway names no vendor itself).
    default_provider: str = Field(default_factory=first_provider)
    #: Providers to enable; empty = every registered vendor.
    providers: list[str] = Field(default_factory=list)

    #: Backend API keys: [{"name", "sha256", "scopes"}] (JSON). None configured = dev mode:
    #: everything open, loopback only. `kyc-gateway new-api-key` makes one.
    api_keys: list[ApiKeyConfig] = Field(default_factory=list)
    #: Signs client tokens; set it when running several replicas (else per process).
    client_token_secret: SecretStr | None = None
    client_token_max_ttl_s: int = Field(default=3600, ge=60)
    #: Secrets client tokens were signed with before a rotation: still accepted, never used
    #: to sign (docs/deploy.md, rotating secrets). Drop them once max TTL has passed.
    client_token_previous_secrets: list[SecretStr] = Field(default_factory=list)
    #: Host names the gateway answers to (HTTP `Host`, websocket `Host`/`Origin`); empty =
    #: loopback names only (localhost, 127.0.0.1, ::1), which stops DNS rebinding in dev mode.
    #: `["*"]` answers any host (behind a proxy that checks it).
    allowed_hosts: list[str] = Field(default_factory=list)
    #: Vendor sandboxes to mount when API keys are configured (`["didit"]`, `["*"]` = every
    #: vendor without credentials). Without API keys every such vendor gets one.
    sandboxes: list[str] = Field(default_factory=list)
    #: Bearer token `/metrics` accepts (for a Prometheus scraper). Dev mode: `/metrics` is
    #: open unless this is set. With API keys configured it needs this token or an API key
    #: with the stats:read scope.
    metrics_token: SecretStr | None = None
    #: Browser origins allowed to call /graphql (CORS) and to open its websocket.
    cors_origins: list[str] = Field(default_factory=list)
    max_subscriptions_per_connection: int = Field(default=20, ge=1)
    connection_init_timeout_s: float = Field(default=10.0, gt=0)
    #: "Did you mean …?" hints in errors; default: only in dev mode.
    field_suggestions: bool | None = None

    graphiql: bool = True
    introspection: bool = True
    #: The legacy `graphql-ws` protocol has had auth-bypass advisories: off unless asked for.
    enable_legacy_graphql_ws: bool = False
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    #: Fields an operation selects once every fragment spread is expanded (issue 14: a
    #: kilobyte of nested spreads can stand for millions of fields).
    max_query_fields: int = Field(default=2000, ge=1)
    #: Nesting allowed in any JSON input value (`metadata`, variables).
    max_json_depth: int = Field(default=32, ge=1)
    #: With API keys configured, introspection and GraphiQL need a valid API key unless this
    #: is set (docs/security.md).
    public_schema: bool = False

    #: GraphQL request bodies (a 1 MB query document is already far beyond any real one).
    max_request_bytes: int = 1_048_576
    #: GraphQL multipart requests (the GraphQL multipart request spec): a document to sign
    #: travels with its mutation, so these may be larger than a JSON request.
    max_upload_bytes: int = 10_485_760
    #: Vendor webhooks may carry a signed result with images (uqudo): allow more.
    webhook_max_body_bytes: int = 5_242_880
    max_metadata_bytes: int = 16_384
    min_expires_in_s: int = 60
    max_expires_in_s: int = 90 * 24 * 3600
    subscriber_queue_size: int = 256
    #: Bytes of serialized payloads one subscriber may have waiting; more = SUBSCRIBER_OVERFLOW.
    subscriber_queue_bytes: int = Field(default=1_048_576, ge=1024)
    #: A websocket that cannot take a frame for this long is closed (SUBSCRIBER_OVERFLOW).
    subscriber_send_timeout_s: float = Field(default=30.0, gt=0)
    #: How long a vendor read is reused by concurrent/bursting refreshes.
    vendor_read_cache_ttl_s: float = 2.0
    vendor_timeout_s: float = 10.0
    vendor_retry_attempts: int = 3
    sandbox_webhook_retry_delays_s: list[float] = Field(default_factory=lambda: [1.0, 4.0])

    #: Vendor choice for createSession without a provider (see gateway/vendors/routing.py), JSON.
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_cooldown_s: float = Field(default=30.0, gt=0)

    #: The reconciler polls what webhooks do not cover (per-vendor intervals and budgets come
    #: from each adapter's poll policy, overridable as KYCGW_<VENDOR>_POLL_INTERVAL_S, ...).
    reconcile_enabled: bool = True
    reconcile_tick_s: float = Field(default=1.0, gt=0)
    reconcile_stale_after_s: float = Field(default=3600.0, gt=0)
    reconcile_concurrency: int = Field(default=4, ge=1)

    #: Outbound webhooks (docs/webhooks.md). Endpoints fixed in configuration, JSON:
    #: [{"url", "secret" (whsec_…), "events"?, "providers"?, "description"?}].
    webhook_endpoints: list[StaticWebhookEndpoint] = Field(default_factory=list)
    #: Run the delivery worker in this process (every replica may: they claim, not race).
    webhook_delivery_enabled: bool = True
    #: Delay before each attempt, the first included (Svix's schedule: immediately, 5 s,
    #: 5 min, 30 min, 2 h, 5 h, 10 h, 10 h). Tests compress it.
    webhook_retry_schedule_s: list[float] = Field(
        default_factory=lambda: [0, 5, 300, 1800, 7200, 18000, 36000, 36000], min_length=1
    )
    webhook_connect_timeout_s: float = Field(default=5.0, gt=0)
    webhook_read_timeout_s: float = Field(default=15.0, gt=0)
    #: An endpoint whose every attempt failed for this long is disabled (Svix: 5 days).
    webhook_disable_after_s: float = Field(default=5 * 24 * 3600.0, gt=0)
    #: After `rotateWebhookEndpointSecret`, the old secret signs beside the new one this long.
    webhook_secret_grace_s: float = Field(default=24 * 3600.0, ge=0)
    #: Hosts, addresses or networks (CIDR) a webhook may target although private, loopback
    #: or link-local (an internal receiver); plain http still needs dev mode and loopback.
    webhook_allow_private_targets: list[str] = Field(default_factory=list)
    #: Deliveries in flight at once per replica.
    webhook_concurrency: int = Field(default=32, ge=1)
    #: A claimed delivery belongs to its replica this long; after that (a crashed replica)
    #: another may send it again. Longer than one attempt's timeouts.
    webhook_claim_lease_s: float = Field(default=60.0, gt=0)
    #: How often an idle worker looks for due deliveries (it is also woken by each commit).
    webhook_poll_interval_s: float = Field(default=1.0, gt=0)
    #: Finished deliveries (with their attempts) and their messages are kept this long: the
    #: delivery log and what `replayWebhooks` can reach (Svix keeps 90 days on paid plans).
    webhook_retention_s: float = Field(default=30 * 24 * 3600.0, gt=0)
    webhook_prune_interval_s: float = Field(default=600.0, gt=0)

    #: Raw `KYCGW_<VENDOR>_<KEY>` values, filled from the environment at load time.
    vendor_env: dict[str, str] = Field(default_factory=dict, exclude=True, repr=False)

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if self.database_url is None:
            self.database_url = f"sqlite+aiosqlite:///{(self.data_dir / 'gateway.db').as_posix()}"
        if self.public_url is None:
            host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
            self.public_url = f"http://{host}:{self.port}"
        self.public_url = self.public_url.rstrip("/")
        return self

    def vendor_value(self, provider: str, key: str) -> str | None:
        """A vendor setting such as `KYCGW_DIDIT_API_KEY`; empty strings count as unset."""
        value = self.vendor_env.get(f"{provider}_{key}".upper())
        return value or None

    def vendor_flag(self, provider: str, key: str) -> bool:
        """A yes/no vendor setting such as `KYCGW_UQUDO_ADOPT_UNKNOWN`; a value that is
        neither stops the start rather than being read as no."""
        value = (self.vendor_value(provider, key) or "false").strip().lower()
        if value not in TRUE_WORDS | FALSE_WORDS:
            raise ConfigError(f"{ENV_PREFIX}{provider.upper()}_{key}: expected true or false")
        return value in TRUE_WORDS

    def vendor_secret(self, provider: str, key: str) -> SecretStr | None:
        value = self.vendor_value(provider, key)
        return SecretStr(value) if value else None

    @property
    def dev_mode(self) -> bool:
        return not self.api_keys

    @property
    def sqlite_path(self) -> Path | None:
        url = self.database_url or ""
        if url.startswith("sqlite") and ":///" in url:
            path = url.split(":///", 1)[1]
            return None if path in ("", ":memory:") else Path(path)
        return None


def load_settings(**overrides: object) -> Settings:
    """Read settings from the process environment; keyword overrides win (tests, CLI flags)."""
    vendor_env = {
        key[len(ENV_PREFIX) :]: value
        for key, value in os.environ.items()
        if key.startswith(ENV_PREFIX)
    }
    return Settings(vendor_env=vendor_env, **overrides)  # type: ignore[arg-type]
