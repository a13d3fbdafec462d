"""`VendorHttp` whose client runs an `httpx.Auth` flow on every request.

For vendors whose credentials are not a static header: an OAuth bearer token that expires
and is refreshed when a call answers 401 (uqudo). The flow lives in the `httpx.Auth` the
adapter passes; this only attaches it, also to a client re-created after `aclose()`.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from adapters.base import AdapterConfig
from adapters.common.http import ErrorMapper, VendorHttp


class AuthenticatedHttp(VendorHttp):
    def __init__(
        self,
        config: AdapterConfig,
        *,
        vendor: str,
        headers: Mapping[str, str],
        error_mapper: ErrorMapper,
        auth: httpx.Auth,
    ) -> None:
        super().__init__(config, vendor=vendor, headers=headers, error_mapper=error_mapper)
        self._auth = auth

    @property
    def client(self) -> httpx.AsyncClient:
        client = super().client
        if client.auth is not self._auth:
            client.auth = self._auth
        return client
