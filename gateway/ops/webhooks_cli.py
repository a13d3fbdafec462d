"""`kyc-gateway webhooks list | test | replay | listen`: outbound webhooks from the terminal,
on the database `serve` uses (`gateway/ops/database.py`). `list` reads, `replay` queues
deliveries that a running gateway's worker sends, `test` sends one example now through the
worker's own `Sender` and target policy; `listen` is a local receiver
(`gateway/outbound/listen.py`). No command prints a signing secret."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from adapters.base import DecidedBy, Outcome, SessionStatus, utc_now
from gateway.bus.events import StatusChanged, StatusSource
from gateway.errors import ServiceError
from gateway.ops.database import NoDatabase, Store, configured_url, opened
from gateway.outbound import signing, tables
from gateway.outbound.deliveries import WebhookDeliveries
from gateway.outbound.outbox import event_data, new_message_id
from gateway.outbound.sender import AttemptResult, Sender
from gateway.outbound.service import target_policy
from gateway.outbound.tables import DeliveryStatus
from gateway.outbound.worker import body_of
from gateway.settings import Settings, load_settings
from gateway.webhook_config import EVENT_STATUS_CHANGED

COUNTED = (DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value)
COLUMNS = ("ID", "URL", "EVENTS", "PROVIDERS", "STATE", "STATIC", "PENDING", "FAILED")


@dataclass(frozen=True)
class EndpointLine:
    """What `list` shows of an endpoint: everything but its secrets."""

    id: str
    url: str
    events: list[str]
    providers: list[str]
    enabled: bool
    disabled_reason: str | None
    static: bool
    pending: int
    failed: int

    @property
    def state(self) -> str:
        if self.enabled:
            return "enabled"
        return f"disabled: {self.disabled_reason}" if self.disabled_reason else "disabled"

    def as_json(self) -> dict[str, Any]:
        """GraphQL's names (`WebhookEndpoint`), and the two counts."""
        return {
            "id": self.id,
            "url": self.url,
            "events": self.events,
            "providers": self.providers,
            "enabled": self.enabled,
            "disabledReason": self.disabled_reason,
            "static": self.static,
            "pending": self.pending,
            "failed": self.failed,
        }

    def cells(self) -> tuple[str, ...]:
        return (
            self.id,
            self.url,
            ",".join(self.events),
            ",".join(self.providers) or "all",
            self.state,
            "yes" if self.static else "no",
            str(self.pending),
            str(self.failed),
        )


def _fail(command: str, message: str) -> int:
    print(f"kyc-gateway webhooks {command}: {message}", file=sys.stderr)
    return 2


# -- list ---------------------------------------------------------------------------------


async def endpoint_lines(store: Store) -> list[EndpointLine]:
    e, d = tables.endpoints, tables.deliveries
    async with store.read() as db:
        conn = await db.connection()
        counts = {
            (row.endpoint_id, row.status): row.n
            for row in await conn.execute(
                select(d.c.endpoint_id, d.c.status, func.count().label("n"))
                .where(d.c.status.in_(COUNTED))
                .group_by(d.c.endpoint_id, d.c.status)
            )
        }
        rows = await conn.execute(
            select(
                e.c.id,
                e.c.url,
                e.c.event_types,
                e.c.providers,
                e.c.disabled_at,
                e.c.disabled_reason,
                e.c.static,
            ).order_by(e.c.created_at, e.c.id)
        )
        return [
            EndpointLine(
                id=row.id,
                url=row.url,
                events=list(row.event_types),
                providers=list(row.providers),
                enabled=row.disabled_at is None,
                disabled_reason=row.disabled_reason,
                static=bool(row.static),
                pending=counts.get((row.id, DeliveryStatus.PENDING.value), 0),
                failed=counts.get((row.id, DeliveryStatus.FAILED.value), 0),
            )
            for row in rows
        ]


def render_lines(lines: list[EndpointLine]) -> str:
    """One row per endpoint under a header, columns padded to their widest cell."""
    table = [COLUMNS, *(line.cells() for line in lines)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in table
    )


async def _read_lines(database_url: str) -> list[EndpointLine]:
    async with opened(database_url) as store:
        return await endpoint_lines(store)


def _list(args: argparse.Namespace) -> int:
    try:
        lines = asyncio.run(_read_lines(configured_url(args.database_url)))
    except NoDatabase as error:
        return _fail("list", str(error))
    if args.json:
        print(json.dumps([line.as_json() for line in lines], indent=2))
    elif not lines:
        print("no webhook endpoints (createWebhookEndpoint, or KYCGW_WEBHOOK_ENDPOINTS)")
    else:
        print(render_lines(lines))
    return 0


# -- test ---------------------------------------------------------------------------------


def example_payload(provider: str, now: datetime) -> dict[str, Any]:
    """A `session.status_changed` in the shape the outbox writes (`event_data`), for a session
    that does not exist, marked `"test": true` beside `type` and `timestamp`."""
    change = StatusChanged(
        cursor=0,
        session_id=f"ses_{uuid.uuid4().hex}",
        provider=provider,
        client_reference="kyc-gateway-webhooks-test",
        sequence=3,
        previous_status=SessionStatus.IN_PROGRESS,
        status=SessionStatus.APPROVED,
        provider_status=SessionStatus.APPROVED.value,
        source=StatusSource.WEBHOOK,
        occurred_at=now,
    )
    decision = {
        "outcome": Outcome.APPROVED.value,
        "decided_by": DecidedBy.PROVIDER.value,
        "reason_codes": [],
    }
    return {
        "type": EVENT_STATUS_CHANGED,
        "timestamp": now.isoformat(),
        "test": True,
        "data": event_data(change, f"test-{uuid.uuid4().hex[:12]}", decision),
    }


@dataclass(frozen=True)
class Probe:
    """Where `test` sends, with the keys the worker would sign with now."""

    url: str
    keys: list[str]
    provider: str
    disabled_reason: str | None


async def _probe(database_url: str, endpoint_id: str, default_provider: str) -> Probe | None:
    e = tables.endpoints
    async with opened(database_url) as store, store.read() as db:
        conn = await db.connection()
        row = (await conn.execute(select(e).where(e.c.id == endpoint_id))).first()
    if row is None:
        return None
    keys = signing.signing_secrets(
        row.secret, row.previous_secret, row.previous_secret_until, utc_now()
    )
    disabled = None if row.disabled_at is None else (row.disabled_reason or "disabled")
    return Probe(row.url, keys, (row.providers or [default_provider])[0], disabled)


async def send_test(settings: Settings, target: Probe) -> tuple[str, AttemptResult]:
    """One signed example delivery, through the worker's `Sender` and target policy."""
    sender = Sender(
        target_policy(settings),
        connect_timeout_s=settings.webhook_connect_timeout_s,
        read_timeout_s=settings.webhook_read_timeout_s,
        concurrency=1,
    )
    try:
        now = datetime.now(UTC)
        message_id = new_message_id()
        body = body_of(example_payload(target.provider, now))
        headers = signing.headers(target.keys, message_id, now, body)
        return message_id, await sender.send(target.url, headers, body)
    finally:
        await sender.aclose()


def _test(args: argparse.Namespace) -> int:
    settings = load_settings()
    database_url = configured_url(args.database_url or settings.database_url)
    try:
        target = asyncio.run(_probe(database_url, args.endpoint_id, settings.default_provider))
    except NoDatabase as error:
        return _fail("test", str(error))
    if target is None:
        return _fail("test", f"no webhook endpoint {args.endpoint_id} (see `webhooks list`)")
    if target.disabled_reason is not None:
        print(
            f"note: the endpoint is disabled ({target.disabled_reason}); the gateway sends it "
            "nothing until it is enabled (updateWebhookEndpoint)",
            file=sys.stderr,
        )
    message_id, result = asyncio.run(send_test(settings, target))
    if result.succeeded:
        print(f"{message_id}: HTTP {result.status_code} in {result.duration_ms:.1f} ms")
        return 0
    print(f"{message_id}: failed: {result.error} ({result.duration_ms:.1f} ms)")
    return 1


# -- replay -------------------------------------------------------------------------------


def _moment(text: str, flag: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{flag} {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        example = moment.isoformat()
        raise ValueError(f"{flag} {text!r} needs a time zone, e.g. {example}Z or {example}+02:00")
    return moment


async def _queue_replay(
    database_url: str, endpoint_id: str, since: datetime, until: datetime
) -> int:
    async with opened(database_url) as store:
        return await WebhookDeliveries(store.read, store.write, utc_now).replay(
            endpoint_id, since, until
        )


def _replay(args: argparse.Namespace) -> int:
    try:
        since = _moment(args.from_, "--from")
        until = _moment(args.to, "--to") if args.to else datetime.now(UTC)
    except ValueError as error:
        return _fail("replay", str(error))
    if until <= since:
        return _fail("replay", f"--to ({until.isoformat()}) must be after --from")
    try:
        queued = asyncio.run(
            _queue_replay(configured_url(args.database_url), args.endpoint, since, until)
        )
    except NoDatabase as error:
        return _fail("replay", str(error))
    except ServiceError as error:
        return _fail("replay", str(error))
    print(
        f"queued {queued} deliveries to {args.endpoint} (messages from {since.isoformat()} "
        f"to {until.isoformat()}); a running gateway sends them within its poll interval "
        "(KYCGW_WEBHOOK_POLL_INTERVAL_S)"
    )
    return 0


# -- the parser ---------------------------------------------------------------------------


def _listen(args: argparse.Namespace) -> int:
    from gateway.outbound.listen import run_listener

    return run_listener(args.host, args.port, args.secret, as_json=args.json)


def add_webhooks_command(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Registers `kyc-gateway webhooks …` on the CLI's sub-command parsers."""
    webhooks = subparsers.add_parser(
        "webhooks", help="outbound webhooks: list, test, replay, listen"
    )
    commands = webhooks.add_subparsers(dest="webhooks_command", required=True)
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument(
        "--database-url",
        help="database to use (default: what serve uses: KYCGW_DATABASE_URL, else "
        "KYCGW_DATA_DIR/gateway.db)",
    )

    listing = commands.add_parser(
        "list", parents=[database], help="endpoints with their PENDING and FAILED deliveries"
    )
    listing.add_argument("--json", action="store_true", help="a JSON list instead of a table")
    listing.set_defaults(func=_list)

    test = commands.add_parser(
        "test",
        parents=[database],
        help='send one signed example session.status_changed ("test": true) to an endpoint '
        "now; exit 0 on a 2xx answer",
    )
    test.add_argument("endpoint_id", metavar="ENDPOINT_ID")
    test.set_defaults(func=_test)

    replay = commands.add_parser(
        "replay",
        parents=[database],
        help="queue an endpoint's messages of a time window again (same webhook-id); a "
        "running gateway sends them",
    )
    replay.add_argument("--endpoint", required=True, metavar="ID")
    replay.add_argument(
        "--from", dest="from_", required=True, metavar="ISO", help="e.g. 2026-01-05T10:00Z"
    )
    replay.add_argument("--to", metavar="ISO", help="exclusive (default: now)")
    replay.set_defaults(func=_replay)

    listen = commands.add_parser(
        "listen",
        help="a local receiver that verifies each delivery and prints one line per delivery",
    )
    listen.add_argument("--host", default="127.0.0.1")
    listen.add_argument("--port", type=int, default=9000, help="default 9000; 0 = any free port")
    listen.add_argument(
        "--secret",
        metavar="whsec_…",
        help="the endpoint's signing secret (default: KYCGW_WEBHOOK_LISTEN_SECRET, which "
        "other users of the machine cannot read off the command line)",
    )
    listen.add_argument(
        "--json",
        action="store_true",
        help="print each verified payload as one JSON line (other lines go to stderr)",
    )
    listen.set_defaults(func=_listen)
