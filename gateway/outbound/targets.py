"""Where a webhook may be sent. The integrator names the URL, so the gateway must not become
a way into its own network (SSRF): `https` only (plain `http` only to loopback, in dev mode),
and every address the host resolves to must be public — not loopback, private, link-local
(cloud metadata lives at 169.254.169.254), shared, reserved or multicast — unless
`KYCGW_WEBHOOK_ALLOW_PRIVATE_TARGETS` lists it. The check runs when an endpoint is saved and
again before every attempt, and the attempt connects to the very address that passed (DNS
may answer differently the second time)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_LENGTH = 2048


class TargetRefused(Exception):
    """The URL may not be a webhook target; the message says why (no secret in it)."""


@dataclass(frozen=True)
class Target:
    """A URL that passed, and the address to connect to."""

    url: SplitResult
    address: IPAddress

    @property
    def host(self) -> str:
        return self.url.hostname or ""

    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address (the `Host` header and TLS
        name stay the original host)."""
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        netloc = host if self.url.port is None else f"{host}:{self.url.port}"
        return self.url._replace(netloc=netloc).geturl()

    def host_header(self) -> str:
        return self.url.netloc.rpartition("@")[2]


def _networks(
    entries: list[str],
) -> tuple[list[ipaddress.IPv4Network | ipaddress.IPv6Network], set[str]]:
    networks = []
    names: set[str] = set()
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            names.add(entry.strip().lower().rstrip("."))
    return networks, names


@dataclass
class TargetPolicy:
    dev_mode: bool
    allowed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._networks, self._names = _networks(self.allowed)

    def parse(self, url: str) -> SplitResult:
        """The checks that need no DNS: scheme, host, no credentials in the URL."""
        if len(url) > MAX_URL_LENGTH:
            raise TargetRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise TargetRefused("the URL cannot be parsed") from None
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise TargetRefused("the URL must be https://host/…")
        if parts.username is not None or parts.password is not None:
            raise TargetRefused("the URL may not carry credentials")
        if parts.fragment:
            raise TargetRefused("the URL may not have a #fragment")
        if parts.scheme == "http" and not self.dev_mode:
            raise TargetRefused("webhook URLs must use https")
        return parts

    def address_allowed(self, host: str, address: IPAddress, scheme: str) -> bool:
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if scheme == "http":
            # Plain http only ever to this machine, and only in dev mode (parse refused it
            # otherwise).
            return address.is_loopback
        if address.is_global and not address.is_multicast:
            return True
        if self.dev_mode and address.is_loopback:
            return True
        return host.lower().rstrip(".") in self._names or any(
            address in network for network in self._networks
        )

    async def resolve(self, url: str) -> Target:
        """Parse, resolve and check every address; the first one is used."""
        parts = self.parse(url)
        host = parts.hostname or ""
        addresses = await _addresses(host, parts.port or (443 if parts.scheme == "https" else 80))
        if not addresses:
            raise TargetRefused(f"the host {host} does not resolve")
        refused = [a for a in addresses if not self.address_allowed(host, a, parts.scheme)]
        if refused:
            kind = "loopback" if refused[0].is_loopback else "non-public"
            raise TargetRefused(
                f"the host {host} resolves to a {kind} address ({refused[0]}); "
                "list it in KYCGW_WEBHOOK_ALLOW_PRIVATE_TARGETS if it is yours"
                + ("" if parts.scheme == "https" else ", and use https")
            )
        return Target(parts, addresses[0])


async def _addresses(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    seen: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in seen:
            seen.append(address)
    # IPv4 first: a receiver on "localhost" most often listens on 127.0.0.1 only.
    return sorted(seen, key=lambda address: address.version)
