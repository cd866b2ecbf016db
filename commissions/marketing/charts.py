"""Server-rendered SVG charts: geometry computed here, drawn by templates/macros/charts.html.

No JavaScript and no inline style (the CSP forbids it): bars and lines are SVG elements with
presentation attributes and CSS classes from app.css. Widths are plain numbers (float is
fine for pixels; every figure shown as text comes from the exact Decimal).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

WIDTH = 560
LABEL_WIDTH = 150
BAR_HEIGHT = 26
GAP = 10


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value_text: str
    y: int
    width: float
    css: str


@dataclass(frozen=True, slots=True)
class BarChart:
    title: str
    bars: list[Bar]
    height: int
    marker_x: float | None = None  # e.g. the quota
    marker_label: str = ""
    label_width: int = LABEL_WIDTH
    width: int = WIDTH


def bar_chart(
    title: str,
    items: list[tuple[str, Decimal | int, str, str]],
    *,
    marker: Decimal | None = None,
    marker_label: str = "",
) -> BarChart:
    """Horizontal bars: (label, value, text shown, css class); an optional vertical marker (a quota)."""
    top = max([Decimal(v) for _, v, _, _ in items] + [marker or Decimal(0), Decimal(1)])
    span = WIDTH - LABEL_WIDTH - 110
    bars = [
        Bar(label, text, i * (BAR_HEIGHT + GAP), float(Decimal(value) / top * span), css)
        for i, (label, value, text, css) in enumerate(items)
    ]
    marker_x = None if marker is None else LABEL_WIDTH + float(marker / top * span)
    return BarChart(title, bars, len(items) * (BAR_HEIGHT + GAP) + 18, marker_x, marker_label)


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    label: str
    value_text: str


@dataclass(frozen=True, slots=True)
class LineChart:
    title: str
    points: list[Point]
    zero_y: float
    width: int = 420
    height: int = 160

    @property
    def path(self) -> str:
        return " ".join(f"{'M' if i == 0 else 'L'}{p.x:.1f},{p.y:.1f}" for i, p in enumerate(self.points))


def enps_chart(title: str, scores: list[tuple[str, Decimal, str]]) -> LineChart:
    """eNPS over time on a fixed −100..100 scale (a dashed line at 0)."""
    width, height, pad = 420, 160, 44
    step = (width - 2 * pad) / max(len(scores) - 1, 1)

    def y(value: Decimal) -> float:
        return pad + float((Decimal(100) - value) / Decimal(200)) * (height - 2 * pad)

    points = [Point(pad + i * step, y(v), label, text) for i, (label, v, text) in enumerate(scores)]
    return LineChart(title, points, y(Decimal(0)), width, height)
