"""The one place that lists vendors. Adding a vendor = one folder + one line here.

Entries are import paths, resolved lazily so a vendor's dependencies load only when used.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

from adapters.base import ProviderAdapter

ADAPTERS: dict[str, str] = {
    "didit": "adapters.didit.adapter:DiditAdapter",
    "verifa": "adapters.verifa.adapter:VerifaAdapter",
    "beltic": "adapters.beltic.adapter:BelticAdapter",
    "uqudo": "adapters.uqudo.adapter:UqudoAdapter",
    "uip": "adapters.uip.adapter:UipAdapter",
}


def adapter_class(name: str) -> type[ProviderAdapter]:
    """Resolve a registered vendor name to its adapter class (KeyError if unknown)."""
    module_name, _, attr = ADAPTERS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, ProviderAdapter)):
        raise TypeError(f"{ADAPTERS[name]} is not a ProviderAdapter")
    return cls


def provider_names() -> list[str]:
    return sorted(ADAPTERS)


def first_provider() -> str:
    """The vendor listed first above: the gateway's default when none is configured."""
    return next(iter(ADAPTERS))


@contextmanager
def registered(name: str, target: str) -> Iterator[None]:
    """`target` ("module:Class") is vendor `name` inside the block, as if it had its line
    above: how a test proves that a vendor defined in its own folder needs nothing else."""
    if name in ADAPTERS:
        raise ValueError(f"{name} is already registered")
    ADAPTERS[name] = target
    try:
        yield
    finally:
        del ADAPTERS[name]
