"""The one place that lists vendors. Adding a vendor = one folder + one line here.

Entries are import paths, resolved lazily so a vendor's dependencies load only when used.
"""

from __future__ import annotations

import importlib

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
