"""A context variable set for the length of a `with` block, then put back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def bound(var: ContextVar[T], value: T) -> Iterator[None]:
    """Per-task state for the calls made inside the block: concurrent calls on one shared
    client each see their own value, and the previous one comes back after the block."""
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)
