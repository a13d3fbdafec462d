"""The UIP client's HTTP layer: the shared keyed, retried requests, plus one thing they lack, a
`multipart/form-data` body (a create with a sign step, docs/vendors/uip.md, Endpoints we call).

`VendorHttp.request` sends JSON only. Until it takes a form itself, the form travels like the
idempotency key does: in a task-local context variable, which the client wrapper below adds to
the one request this task is sending. Every attempt rebuilds the body from the same parts, so
a retry sends the same bytes with the same `Idempotency-Key`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx

from adapters.common.context import bound
from adapters.common.idempotency import IdempotentVendorHttp

#: (part name, (filename, content, content type)), as httpx takes files.
FilePart = tuple[str, tuple[str, bytes, str]]


@dataclass(frozen=True)
class Form:
    fields: dict[str, str]
    files: Sequence[FilePart]


_FORM: ContextVar[Form | None] = ContextVar("uip_form", default=None)


class _FormClient:
    """The shared client, with this task's form (if any) added to its requests."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        form = _FORM.get()
        if form is not None:
            kwargs.pop("json", None)
            kwargs.update(data=form.fields, files=list(form.files))
        return await self._client.request(method, url, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class UipHttp(IdempotentVendorHttp):
    @property
    def client(self) -> Any:  # an httpx.AsyncClient, as far as callers can tell
        return _FormClient(super().client)

    async def request_form_with_key(
        self,
        method: str,
        path: str,
        *,
        key: str,
        form: Form,
        expected: Collection[int] = (200,),
        conflict_statuses: Collection[int] = (),
    ) -> httpx.Response:
        """`request_with_key` with a multipart body instead of JSON."""
        with bound(_FORM, form):
            return await self.request_with_key(
                method, path, key=key, expected=expected, conflict_statuses=conflict_statuses
            )
