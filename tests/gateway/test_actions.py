"""The declared vendor actions (gateway/sessions/actions.py) name real adapter methods, one each."""

from __future__ import annotations

import inspect

import pytest

from adapters.base import ProviderAdapter
from gateway.sessions.actions import ADAPTER_METHOD, REFUSED_WHEN_REDACTED, SessionAction


@pytest.mark.parametrize("action", list(SessionAction))
def test_each_action_names_an_async_adapter_method(action: SessionAction) -> None:
    method = getattr(ProviderAdapter, ADAPTER_METHOD[action])
    assert inspect.iscoroutinefunction(method)
    assert next(iter(inspect.signature(method).parameters)) == "self"
    assert list(inspect.signature(method).parameters)[1] == "provider_session_id"


def test_refusals_name_declared_actions() -> None:
    assert set(REFUSED_WHEN_REDACTED) <= set(SessionAction)
    assert len(set(ADAPTER_METHOD.values())) == len(ADAPTER_METHOD)
