"""gateway/ never names a vendor in code (issue 16): what a vendor needs is declared by its
adapter or its sandbox, and the gateway reads the declaration. Docstrings and comments may
explain with an example; string literals in Python code and anything in JavaScript may not."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from adapters.registry import ADAPTERS

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
VENDOR = re.compile(r"\b(" + "|".join(sorted(ADAPTERS)) + r")\b", re.IGNORECASE)
JS_COMMENT = re.compile(r"/\*.*?\*/|(?<![:\"'\\])//[^\n]*", re.DOTALL)


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (a body's first statement)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add(id(value))
    return found


def python_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    return [
        f"{path.relative_to(GATEWAY.parent)}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and VENDOR.search(node.value)
    ]


def script_mentions(path: Path) -> list[str]:
    code = JS_COMMENT.sub("", path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(GATEWAY.parent)}:{number}: {line.strip()}"
        for number, line in enumerate(code.splitlines(), 1)
        if VENDOR.search(line)
    ]


def test_the_check_sees_every_vendor() -> None:
    assert len(ADAPTERS) == 5
    assert all(VENDOR.fullmatch(name.upper()) for name in ADAPTERS)


def test_no_vendor_name_is_a_code_literal_under_gateway() -> None:
    found = [hit for path in sorted(GATEWAY.rglob("*.py")) for hit in python_literals(path)]
    assert found == []


def test_no_vendor_name_in_the_gateway_scripts() -> None:
    scripts = sorted(GATEWAY.rglob("*.js"))
    assert scripts, "the console's script moved: point this test at it"
    assert [hit for path in scripts for hit in script_mentions(path)] == []
