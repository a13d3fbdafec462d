"""The `/insights` charts: inline SVG drawn on the server from `provider_stats` rows, every
text escaped; each bar names its vendor (`data-provider`) and tells its figure on hover."""

from __future__ import annotations

from html import escape

from adapters.base import SessionStatus
from adapters.results import CheckKind, CheckOutcome

#: Outcome colours (stacked bars), in `SessionStatus` order of the final statuses.
OUTCOME_COLOURS = {
    SessionStatus.APPROVED: "#16a34a",
    SessionStatus.DECLINED: "#dc2626",
    SessionStatus.CANCELLED: "#9ca3af",
    SessionStatus.EXPIRED: "#f59e0b",
    SessionStatus.ABANDONED: "#a855f7",
    SessionStatus.FAILED: "#111827",
}
FUNNEL_STAGES = (
    ("created", "#93c5fd"),
    ("in progress", "#60a5fa"),
    ("final", "#3b82f6"),
    ("approved", "#16a34a"),
)

# -- SVG ------------------------------------------------------------------------------------
LABEL_W, BAR_W, ROW_H, BAR_H = 90, 340, 26, 18


def _svg(kind: str, title: str, height: int, body: list[str], width: int = 480) -> str:
    return (
        f'<svg class="chart" data-chart="{escape(kind)}" role="img" '
        f'aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str, vendor: str) -> str:
    return (
        f'<rect class="bar" data-provider="{escape(vendor)}" x="{x:.1f}" y="{y:.1f}" '
        f'width="{max(w, 0):.1f}" height="{h:.1f}" fill="{fill}">'
        f"<title>{escape(tip)}</title></rect>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(text)}</text>'


def _legend(items: list[tuple[str, str]], y: float) -> list[str]:
    out, x = [], LABEL_W
    for label, colour in items:
        out.append(f'<rect x="{x}" y="{y - 10}" width="10" height="10" fill="{colour}"/>')
        out.append(_text(x + 14, y, label))
        x += 16 + 7 * len(label) + 12
    return out


def vendor_label(row: object) -> str:
    return str(getattr(row, "provider", None) or "unknown")


def funnel_chart(rows: list) -> str:  # type: ignore[type-arg]
    body: list[str] = []
    y = 10
    for row in rows:
        stages = (
            row.created,
            row.reached_in_progress,
            row.reached_final,
            row.count(SessionStatus.APPROVED),
        )
        top = max(row.created, 1)
        body.append(_text(LABEL_W - 6, y + 4 * BAR_H / 2 + 4, vendor_label(row), "end"))
        for (label, colour), value in zip(FUNNEL_STAGES, stages, strict=True):
            w = BAR_W * value / top
            body.append(
                _rect(
                    LABEL_W,
                    y,
                    w,
                    BAR_H - 4,
                    colour,
                    f"{vendor_label(row)} {label}: {value}",
                    vendor_label(row),
                )
            )
            body.append(_text(LABEL_W + w + 4, y + BAR_H - 8, f"{value}"))
            y += BAR_H - 2
        y += 12
    body.extend(_legend(list(FUNNEL_STAGES), y + 12))
    return _svg("funnel", "Funnel per vendor: created, in progress, final, approved", y + 22, body)


def outcome_chart(rows: list) -> str:  # type: ignore[type-arg]
    body: list[str] = []
    y = 10
    for row in rows:
        vendor = vendor_label(row)
        body.append(_text(LABEL_W - 6, y + BAR_H - 5, vendor, "end"))
        total = row.reached_final
        x = float(LABEL_W)
        if not total:
            body.append(_text(LABEL_W, y + BAR_H - 5, "no final sessions yet"))
        for outcome in row.outcomes:
            if not outcome.count:
                continue
            w = BAR_W * outcome.count / total
            share = 100 * outcome.count / total
            tip = f"{vendor} {outcome.status.value}: {outcome.count} ({share:.0f}%)"
            body.append(
                _rect(x, y, w, BAR_H, OUTCOME_COLOURS.get(outcome.status, "#64748b"), tip, vendor)
            )
            x += w
        y += ROW_H
    legend = [(s.value.lower(), c) for s, c in OUTCOME_COLOURS.items()]
    body.extend(_legend(legend[:3], y + 14))
    body.extend(_legend(legend[3:], y + 32))
    return _svg("outcomes", "Outcome mix per vendor (final sessions)", y + 42, body)


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 120:
        return f"{seconds:.1f}s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}min"
    return f"{seconds / 3600:.1f}h"


def decision_time_chart(rows: list) -> str:  # type: ignore[type-arg]
    body: list[str] = []
    top = max(
        [v for r in rows for v in (r.time_to_decision_median_s, r.time_to_decision_p90_s) if v]
        or [1.0]
    )
    y = 10
    series = (("median", "#2563eb"), ("p90", "#f97316"))
    for row in rows:
        vendor = vendor_label(row)
        body.append(_text(LABEL_W - 6, y + BAR_H + 2, vendor, "end"))
        for (label, colour), value in zip(
            series, (row.time_to_decision_median_s, row.time_to_decision_p90_s), strict=True
        ):
            w = BAR_W * (value or 0) / top
            body.append(
                _rect(
                    LABEL_W,
                    y,
                    w,
                    BAR_H - 4,
                    colour,
                    f"{vendor} {label}: {duration_text(value)}",
                    vendor,
                )
            )
            body.append(_text(LABEL_W + w + 4, y + BAR_H - 8, duration_text(value)))
            y += BAR_H - 2
        y += 12
    body.extend(_legend(list(series), y + 12))
    return _svg("time-to-decision", "Time to decision per vendor (median, p90)", y + 22, body)


def _check_failure_rates(row: object) -> list[tuple[CheckKind, float, int]]:
    """(kind, failure rate, runs) for each kind this vendor ran."""
    return [
        (figure.kind, figure.rate or 0.0, figure.runs)
        for figure in getattr(row, "checks", ())
        if figure.outcome is CheckOutcome.FAILED and figure.runs
    ]


def check_failure_chart(rows: list) -> str:  # type: ignore[type-arg]
    """Check failure rate by vendor: one bar per vendor and check kind it ran."""
    body: list[str] = []
    y = 10
    for row in rows:
        vendor = vendor_label(row)
        rates = _check_failure_rates(row)
        body.append(_text(LABEL_W - 6, y + BAR_H - 5, vendor, "end"))
        if not rates:
            body.append(_text(LABEL_W, y + BAR_H - 5, "no checks reported yet"))
            y += ROW_H
            continue
        for kind, rate, runs in rates:
            label = kind.value.lower().replace("_", " ")
            w = BAR_W * rate
            tip = f"{vendor} {label}: {100 * rate:.0f}% failed of {runs}"
            # A pale track at 100%, so a low rate still reads as a share of something.
            body.append(
                f'<rect x="{LABEL_W}" y="{y:.1f}" width="{BAR_W}" height="{BAR_H - 4}" '
                'fill="#f1f5f9"/>'
            )
            body.append(_rect(LABEL_W, y, w, BAR_H - 4, "#dc2626", tip, vendor))
            body.append(_text(LABEL_W + w + 4, y + BAR_H - 8, f"{label} {100 * rate:.0f}%"))
            y += BAR_H - 2
        y += 12
    return _svg("check-failures", "Check failure rate by vendor", y + 10, body)
