"""Compare an emulator's answer with a documented payload by keys and JSON types.

Used by the sandbox tests: the cassettes hold the vendor's documented examples, and a sandbox
that answers the same call must have the same keys with the same JSON types, recursively.
"""

from __future__ import annotations

from typing import Any


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not JSON: {value!r}")


def shape_drift(
    documented: Any, actual: Any, path: str = "$", extras: frozenset[str] = frozenset()
) -> list[str]:
    """Where `actual` differs from `documented` in keys or JSON types, recursively.

    null in the documented payload matches anything; lists compare their first elements when
    both have one; keys only the emulator has must be listed in `extras` (as `$.a.b[].c`).
    """
    if documented is None:
        return []
    if json_type(documented) != json_type(actual):
        return [f"{path}: documented {json_type(documented)}, got {json_type(actual)}"]
    if isinstance(documented, dict):
        drift = [f"{path}.{key}: missing" for key in documented if key not in actual]
        drift += [
            f"{path}.{key}: not documented"
            for key in actual
            if key not in documented and f"{path}.{key}" not in extras
        ]
        for key in documented.keys() & actual.keys():
            drift += shape_drift(documented[key], actual[key], f"{path}.{key}", extras)
        return drift
    if isinstance(documented, list) and documented and actual:
        return shape_drift(documented[0], actual[0], f"{path}[]", extras)
    return []
