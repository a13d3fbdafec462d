"""`kyc-gateway serve | export-schema | input-matrix | db upgrade | new-api-key | report |
simulate | webhooks | bench`."""

from __future__ import annotations

import argparse
import errno
import gc
import socket
import sys
from pathlib import Path

from gateway.errors import ConfigError
from gateway.ops.import_cli import add_import_command
from gateway.ops.report import add_report_command
from gateway.ops.simulate import add_simulate_command
from gateway.ops.webhooks_cli import add_webhooks_command

#: Seconds `serve` gives in-flight requests after SIGTERM; open websockets are closed at once
#: with 1012 (service restart) so clients reconnect elsewhere and resume (docs/deploy.md).
SHUTDOWN_GRACE_S = 20


class BindError(Exception):
    """The address `serve` was asked to listen on cannot be taken."""


def _bind(host: str, port: int) -> socket.socket:
    """Take the port before anything else starts, so a taken port is one clear line, not a
    start-up banner followed by uvicorn's error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as error:
        where = f"port {port} on {host}"
        if error.errno == errno.EADDRINUSE:
            raise BindError(f"{where} is in use (set KYCGW_PORT or --port)") from None
        raise BindError(f"cannot listen on {where}: {error.strerror or error}") from None
    return sock


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.logs import configure_logging
    from gateway.settings import load_settings
    from gateway.store.migrate import upgrade
    from gateway.web.app import check_exposure, create_gateway

    overrides: dict[str, object] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    settings = load_settings(**overrides)
    check_exposure(settings)  # an open (dev-mode) gateway never takes a non-loopback socket
    try:
        sock = _bind(settings.host, settings.port)
    except BindError as error:
        print(f"kyc-gateway: {error}", file=sys.stderr)
        return 1
    configure_logging(settings.log_level)
    assert settings.database_url is not None
    upgrade(settings.database_url)
    gateway = create_gateway(settings, run_migrations=False)
    # Everything built so far lives as long as the process: keep the collector from walking
    # it again on every full collection (it showed as pauses in the webhook p99).
    gc.freeze()
    print(
        f"kyc-gateway listening on http://{settings.host}:{settings.port}/graphql",
        file=sys.stderr,
        flush=True,
    )
    config = uvicorn.Config(
        gateway.app,
        log_config=None,
        access_log=False,
        ws="websockets-sansio",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    from gateway.web.graphql.schema import export_sdl

    sdl = export_sdl()
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _input_matrix(args: argparse.Namespace) -> int:
    from adapters.registry import adapter_class, provider_names
    from gateway.vendors.input_support import render_matrix, replace_matrix

    matrix = render_matrix((n, adapter_class(n).input_support) for n in provider_names())
    if args.write is None:
        sys.stdout.write(matrix + "\n")
        return 0
    path = Path(args.write)
    path.write_text(replace_matrix(path.read_text(), matrix))
    print(f"updated the input-support matrix in {path}", file=sys.stderr)
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from gateway.logs import configure_logging
    from gateway.settings import load_settings
    from gateway.store.migrate import upgrade

    settings = load_settings()
    configure_logging(settings.log_level)
    assert settings.database_url is not None
    upgrade(settings.database_url, args.revision)
    print("database is at the latest revision", file=sys.stderr)
    return 0


def _new_api_key(args: argparse.Namespace) -> int:
    import json
    import secrets

    from gateway.auth import Scope, hash_key

    scopes = [Scope(s.strip()) for s in args.scopes.split(",") if s.strip()]
    key = "kgw_" + secrets.token_urlsafe(32)
    entry = {"name": args.name, "sha256": hash_key(key), "scopes": [s.value for s in scopes]}
    print(f"API key (shown once, store it safely): {key}")
    print("Add to KYCGW_API_KEYS (a JSON list):")
    print(json.dumps(entry))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from bench.__main__ import main as bench_main

    return bench_main(args.bench_args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kyc-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="apply migrations and serve the gateway")
    serve.add_argument("--host", help="bind address (KYCGW_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (KYCGW_PORT, default 8000)")
    serve.set_defaults(func=_serve)
    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.add_argument("-o", "--output", default="-", help="file to write (default stdout)")
    export.set_defaults(func=_export_schema)
    matrix = commands.add_parser(
        "input-matrix", help="print what each vendor does with each createSession input"
    )
    matrix.add_argument(
        "--write", metavar="FILE", help="replace the matrix between its markers in FILE"
    )
    matrix.set_defaults(func=_input_matrix)
    key = commands.add_parser("new-api-key", help="make an API key and its config entry")
    key.add_argument("name", help="who uses it, e.g. checkout-backend")
    key.add_argument(
        "--scopes",
        default="sessions:read,sessions:write",
        help="comma-separated: sessions:read, sessions:write, sessions:decide, pii:read, "
        "stats:read",
    )
    key.set_defaults(func=_new_api_key)
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    up = db_commands.add_parser("upgrade", help="apply Alembic migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=_db_upgrade)
    bench = commands.add_parser(
        "bench",
        help="run the benchmarks (python -m bench): gateway vs baselines, same run",
        add_help=False,
    )
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(func=_bench)
    add_simulate_command(commands)
    add_report_command(commands)
    add_webhooks_command(commands)
    add_import_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # its own options (argparse's REMAINDER would eat `--help`)
        return _bench(argparse.Namespace(bench_args=argv[1:]))
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as error:
        print(f"kyc-gateway: configuration error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
