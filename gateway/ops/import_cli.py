"""The `kyc-gateway import` command: builds the vendors and the session service the way
`serve` does (from the same settings and database), runs `gateway/ops/importer.py` with a
progress line, and says what it did. The database is migrated first: an import may come
before the first `serve`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, date, datetime

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from adapters.base import utc_now
from gateway.bus.events import InProcessBus
from gateway.errors import ServiceError
from gateway.ops.importer import HistoryImport, ImportCounts, unsupported
from gateway.sessions.polling import effective_policies
from gateway.sessions.service import SessionService
from gateway.sessions.validation import Limits
from gateway.settings import Settings, load_settings
from gateway.store.db import make_engine, make_session_factory
from gateway.store.migrate import upgrade
from gateway.vendors.providers import build_providers


def when(value: str) -> datetime:
    """A date (midnight UTC) or a time with its zone."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date or time: {value!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"a time needs its zone (…Z or +01:00): {value!r}")
    return moment


def add_import_command(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    command = subparsers.add_parser(
        "import",
        help="import the sessions a vendor already has (its list endpoint) into the store",
        description="Sessions created at the vendor outside the gateway, from --since to "
        "--until (by the vendor's creation time), stored with their vendor history "
        "(routing rule 'imported'). Resumable and idempotent.",
    )
    command.add_argument("--provider", required=True)
    command.add_argument("--since", type=when, help="YYYY-MM-DD or an ISO time with zone")
    command.add_argument("--until", type=when, help="exclusive")
    command.add_argument(
        "--database-url", help="default: what serve uses (KYCGW_DATABASE_URL or KYCGW_DATA_DIR)"
    )
    command.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.since and args.until and args.until <= args.since:
        print("kyc-gateway import: --until must be after --since", file=sys.stderr)
        return 2
    overrides = {"database_url": args.database_url} if args.database_url else {}
    settings = load_settings(**overrides)
    return asyncio.run(_import(settings, args.provider, args.since, args.until))


async def _import(
    settings: Settings, provider: str, since: datetime | None, until: datetime | None
) -> int:
    assert settings.database_url is not None
    providers = build_providers(settings)
    if provider not in providers.names():
        known = ", ".join(providers.names())
        print(
            f"kyc-gateway import: unknown provider {provider!r} (known: {known})", file=sys.stderr
        )
        await providers.aclose()
        return 2
    await asyncio.to_thread(upgrade, settings.database_url)
    engine = make_engine(settings.database_url)
    writer = (
        make_engine(settings.database_url, immediate=True)
        if engine.dialect.name == "sqlite"
        else engine
    )
    service = SessionService(
        make_session_factory(engine),
        providers,
        InProcessBus(),
        default_provider=providers.default,
        limits=Limits.of(settings),
        policies=effective_policies(settings, providers),
        write_factory=make_session_factory(writer),
        clock=utc_now,
    )
    console = Console(stderr=True)
    try:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        ) as progress:
            task = progress.add_task(f"importing from {provider}", total=None)

            def show(counts: ImportCounts) -> None:
                progress.update(
                    task,
                    description=f"{provider}: listed {counts.listed}, imported {counts.imported}, "
                    f"already known {counts.known}",
                )

            counts = await HistoryImport(service, provider, since, until, on_progress=show).run()
    except ServiceError as error:
        if unsupported(error):
            print(
                f"kyc-gateway import: the gateway cannot page through {provider}'s sessions "
                f"(yet): see docs/vendors/{provider}.md",
                file=sys.stderr,
            )
            return 2
        print(f"kyc-gateway import: {error.problems[0].message}", file=sys.stderr)
        return 1
    finally:
        await providers.aclose()
        await engine.dispose()
        if writer is not engine:
            await writer.dispose()
    resumed = " (resumed an interrupted import)" if counts.resumed else ""
    print(
        f"imported {counts.imported} sessions from {provider}{resumed}: listed {counts.listed}, "
        f"already known {counts.known}, outside the window {counts.outside_window}"
    )
    return 0
