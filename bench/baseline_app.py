"""The query benchmark's baseline: the least a Python service can do to answer `session(id)`.

One FastAPI route doing the gateway's own database read (same engine setup, same
`SessionRow`-by-primary-key get through a SQLModel session) and returning the same fields as
JSON, served by uvicorn with the gateway's options. What the gateway costs beyond this is what
GraphQL, auth and its middleware add. Run: `python -m bench.baseline_app URL PORT`.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException

from gateway.store.db import make_engine, make_session_factory
from gateway.store.models import SessionRow


def create_app(url: str) -> FastAPI:
    engine = make_engine(url)
    factory = make_session_factory(engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/sessions/{session_id}")
    async def session(session_id: str) -> dict[str, Any]:
        async with factory() as db:
            row = await db.get(SessionRow, session_id)
        if row is None:
            raise HTTPException(404, "no such session")
        return {
            "id": row.id,
            "provider": row.provider,
            "providerSessionId": row.provider_session_id,
            "status": row.status,
            "providerStatus": row.provider_status,
            "clientReference": row.client_reference,
            "createdAt": row.created_at.isoformat(),
            "updatedAt": row.updated_at.isoformat(),
        }

    return app


def main(argv: list[str]) -> None:
    import gc

    import uvicorn

    url, port = argv[0], int(argv[1])
    app = create_app(url)
    gc.freeze()  # as `kyc-gateway serve` does
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main(sys.argv[1:])
