"""Query documents built to be expensive: a parser or validator that expands them naively
spends seconds (the limits in `gateway/web/graphql/limits.py` refuse them at once)."""

from __future__ import annotations

import uuid


def fragment_bomb(levels: int) -> str:
    """`F<levels>` selects 2^levels fields; the fresh comment defeats any document cache."""
    lines = ["fragment F0 on Provider { name }"]
    lines += [
        f"fragment F{k} on Provider {{ ...F{k - 1} ...F{k - 1} }}" for k in range(1, levels + 1)
    ]
    lines.append(f"query {{ providers {{ ...F{levels} }} }} # {uuid.uuid4().hex}")
    return "\n".join(lines)
