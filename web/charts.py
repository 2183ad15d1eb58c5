"""Charts drawn by the app itself as inline SVG (no script, no CDN): a line over days or weeks, and bars.

Each scales to its container's width (a viewBox, no fixed size), so a phone shows it whole; its numbers are also
on the page as a table and as CSV. Every text in the SVG is escaped.
"""
from __future__ import annotations

from typing import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 600, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value)}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _scale(values: Sequence[float | None], floor: float | None) -> tuple[float, float]:
    known = [v for v in values if v is not None]
    low = min(known + [0.0]) if floor is None else floor
    high = max(known + [low + 1e-9])
    if high - low < 1e-9:
        high = low + 1
    return low, high


def line_chart(title: str, labels: Sequence[str], values: Sequence[float | None], floor: float | None = 0.0,
               ceiling: float | None = None) -> Markup:
    """A line through `values` (None: no data that day, the line breaks) over `labels` (e.g. days), with the
    y range from `floor` (0 by default) to the largest value or `ceiling`."""
    low, high = _scale(values, floor)
    if ceiling is not None:
        high = ceiling
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = inner_w / max(1, len(values) - 1)

    def point(i: int, v: float) -> str:
        return f"{LEFT + i * step:.1f},{TOP + inner_h * (1 - (v - low) / (high - low)):.1f}"

    runs, run = [], []
    for i, v in enumerate(values):
        if v is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(point(i, v))
    if run:
        runs.append(run)
    lines = "".join(f'<polyline points="{" ".join(r)}" fill="none" stroke="currentColor" stroke-width="2"/>'
                    if len(r) > 1 else f'<circle cx="{r[0].split(",")[0]}" cy="{r[0].split(",")[1]}" r="3"/>'
                    for r in runs)
    return _frame(title, labels, low, high, lines)


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float]) -> Markup:
    """Bars of `values` over `labels`, from 0."""
    low, high = _scale(values, 0.0)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = inner_w / max(1, len(values))
    bars = "".join(
        f'<rect x="{LEFT + i * slot + slot * 0.15:.1f}" y="{TOP + inner_h * (1 - v / high):.1f}" '
        f'width="{slot * 0.7:.1f}" height="{inner_h * v / high:.1f}"><title>{escape(label)}: {_number(v)}</title></rect>'
        for i, (label, v) in enumerate(zip(labels, values)))
    return _frame(title, labels, low, high, bars)


def _frame(title: str, labels: Sequence[str], low: float, high: float, body: str) -> Markup:
    first, last = (escape(labels[0]), escape(labels[-1])) if labels else ("", "")
    bottom = HEIGHT - BOTTOM
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(title)}</title>"
        f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#8c959f"/>'
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#8c959f"/>'
        f'<text x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end">{_number(high)}</text>'
        f'<text x="{LEFT - 6}" y="{bottom}" text-anchor="end">{_number(low)}</text>'
        f'<text x="{LEFT}" y="{HEIGHT - 8}">{first}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end">{last}</text>'
        f"{body}</svg>")
