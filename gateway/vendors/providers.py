"""Builds one adapter per registered vendor from settings: live with credentials, else sandbox.

Sandboxes are never built for a vendor that has live credentials, and in a keyed deployment
only for the vendors `KYCGW_SANDBOXES` names.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import httpx

from adapters.base import (
    AdapterConfig,
    Capability,
    Environment,
    ProviderAdapter,
    SandboxConfig,
    SandboxHandle,
)
from adapters.common.faults import FaultSwitch
from adapters.registry import adapter_class, provider_names
from gateway.errors import ConfigError
from gateway.settings import Settings

log = logging.getLogger(__name__)

#: Per-vendor reconciler overrides (`KYCGW_<VENDOR>_POLL_INTERVAL_S`, ...): not adapter options.
POLL_KEYS = (
    "poll_interval_s",
    "poll_max_interval_s",
    "poll_requests_per_minute",
    "rate_limit_per_minute",
)


@dataclass
class ProviderEntry:
    name: str
    adapter: ProviderAdapter | None
    sandbox: SandboxHandle | None = None
    #: The sandbox behind its fault switch: what the gateway mounts and the adapter calls.
    sandbox_app: FaultSwitch | None = None
    problem: str | None = None  # why the provider is not usable, when it is not

    @property
    def configured(self) -> bool:
        return self.adapter is not None

    @property
    def environment(self) -> Environment:
        return self.adapter.environment if self.adapter else Environment.SANDBOX

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self.adapter.capabilities if self.adapter else frozenset()


@dataclass
class Providers:
    """The vendors this gateway runs, each built from settings (`adapters/registry.py` is the
    other list: every vendor the code knows, built or not)."""

    entries: dict[str, ProviderEntry] = field(default_factory=dict)
    #: The vendor `createSession` uses when it names none (`KYCGW_DEFAULT_PROVIDER`).
    default: str = ""

    def get(self, name: str) -> ProviderEntry | None:
        return self.entries.get(name)

    def adapter(self, name: str) -> ProviderAdapter | None:
        entry = self.entries.get(name)
        return entry.adapter if entry else None

    def capabilities(self, name: str) -> frozenset[Capability]:
        """What a vendor can do; nothing for one that is unknown or not configured."""
        entry = self.entries.get(name)
        return entry.capabilities if entry else frozenset()

    def names(self) -> list[str]:
        return sorted(self.entries)

    async def aclose(self) -> None:
        for entry in self.entries.values():
            if entry.adapter:
                await entry.adapter.aclose()
            if entry.sandbox:
                await entry.sandbox.aclose()


def build_providers(
    settings: Settings,
    *,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    webhook_retry_delays_s: tuple[float, ...] | None = None,
) -> Providers:
    wanted = settings.providers or provider_names()
    unknown = sorted(set(wanted) - set(provider_names()))
    if unknown:
        raise ConfigError(f"KYCGW_PROVIDERS names unknown vendors: {', '.join(unknown)}")
    providers = Providers(default=settings.default_provider)
    for name in wanted:
        providers.entries[name] = _build_entry(
            name, settings, webhook_transport, webhook_retry_delays_s
        )
    if providers.default not in providers.entries:
        raise ConfigError(f"KYCGW_DEFAULT_PROVIDER '{providers.default}' is not enabled")
    return providers


def sandbox_wanted(settings: Settings, name: str) -> bool:
    """Without API keys (dev mode) every vendor lacking credentials gets a sandbox; with keys
    only those `KYCGW_SANDBOXES` names (`["*"]` = all): a sandbox's tooling can approve any
    session, so an exposed deployment must ask for it (docs/security.md)."""
    return settings.dev_mode or "*" in settings.sandboxes or name in settings.sandboxes


def _vendor_options(settings: Settings, name: str, skip: set[str]) -> dict[str, str]:
    prefix = f"{name.upper()}_"
    return {
        key[len(prefix) :].lower(): value
        for key, value in settings.vendor_env.items()
        if key.startswith(prefix) and key[len(prefix) :].lower() not in skip and value
    }


def _build_entry(
    name: str,
    settings: Settings,
    webhook_transport: httpx.AsyncBaseTransport | None,
    retry_delays: tuple[float, ...] | None,
) -> ProviderEntry:
    cls = adapter_class(name)
    credentials = {key: settings.vendor_value(name, key) for key in cls.credential_keys}
    present = [key for key, value in credentials.items() if value]
    options = _vendor_options(
        settings, name, set(cls.credential_keys) | {"base_url", "webhook_secret", *POLL_KEYS}
    )
    if present and len(present) < len(credentials):
        missing = [f"KYCGW_{name.upper()}_{k.upper()}" for k, v in credentials.items() if not v]
        raise ConfigError(f"{name}: live credentials are incomplete; also set {', '.join(missing)}")
    rate = settings.vendor_value(name, "rate_limit_per_minute")
    common = {
        "timeout_s": settings.vendor_timeout_s,
        "retry_attempts": settings.vendor_retry_attempts,
        "webhook_max_body_bytes": settings.webhook_max_body_bytes,
        "rate_limit_per_minute": float(rate) if rate else cls.rate_limit_per_minute,
    }
    if present:
        config = AdapterConfig(
            environment=Environment.LIVE,
            base_url=settings.vendor_value(name, "base_url") or cls.default_base_url,
            api_key=credentials.get("api_key") or "",
            webhook_secret=credentials.get("webhook_secret")
            or settings.vendor_value(name, "webhook_secret")
            or "",
            # Credentials other than api_key/webhook_secret (uqudo's OAuth client id and
            # secret) reach the adapter as options.
            options={
                **options,
                **{
                    k: v
                    for k, v in credentials.items()
                    if v and k not in ("api_key", "webhook_secret")
                },
            },
            secrets_to_scrub=tuple(v for v in credentials.values() if v),
            **common,
        )
        log.info("provider live", extra={"provider": name})
        return ProviderEntry(name, cls(config))

    if not sandbox_wanted(settings, name):
        log.warning(
            "provider disabled: no credentials, and sandboxes are mounted in a keyed "
            "deployment only when KYCGW_SANDBOXES names them",
            extra={"provider": name},
        )
        return ProviderEntry(
            name,
            None,
            problem=f"{name} has no credentials; with API keys configured its sandbox is "
            "mounted only when KYCGW_SANDBOXES names it",
        )
    state_dir = settings.data_dir / "sandbox"
    sandbox = cls.build_sandbox(
        SandboxConfig(
            public_base_url=f"{settings.public_url}/sandbox/{name}",
            webhook_url=f"{settings.public_url}/webhooks/{name}",
            state_path=str(state_dir / f"{name}.json"),
            webhook_transport=webhook_transport,
            webhook_retry_delays_s=retry_delays or tuple(settings.sandbox_webhook_retry_delays_s),
            api_key=settings.vendor_value(name, "SANDBOX_API_KEY"),
        )
    )
    if sandbox is None:
        return ProviderEntry(name, None, problem=f"{name} has no credentials and no sandbox")
    faults = FaultSwitch(sandbox.app)
    config = AdapterConfig(
        environment=Environment.SANDBOX,
        base_url=f"http://{name}.sandbox",
        api_key=sandbox.api_key,
        webhook_secret=sandbox.webhook_secret,
        options={**sandbox.options, **options},
        transport=httpx.ASGITransport(app=faults),
        secrets_to_scrub=(sandbox.api_key, sandbox.webhook_secret),
        **common,
    )
    log.info("provider sandbox", extra={"provider": name})
    return ProviderEntry(name, cls(config), sandbox=sandbox, sandbox_app=faults)
