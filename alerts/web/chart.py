"""A small server-rendered SVG line chart: target value by version date, one line per
document. No JavaScript and no chart library: the page stays readable without scripts and
the values are escaped like any other text (Jinja2 autoescape renders the markup)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

WIDTH, HEIGHT, PAD_L, PAD_R, PAD_T, PAD_B = 640, 260, 56, 16, 16, 40
COLOURS = ("#0b5cad", "#c2410c", "#15803d", "#7c3aed", "#be123c", "#0f766e")


@dataclass
class Point:
    x: float
    y: float
    label: str


@dataclass
class Line:
    name: str
    colour: str
    points: list[Point] = field(default_factory=list)

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass
class Chart:
    width: int
    height: int
    lines: list[Line]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    unit: str


def day_number(day: str | date | datetime) -> float:
    """A date (``2022-12-01``, a date or a datetime) as days on one axis."""
    if isinstance(day, datetime):
        return day.timestamp() / 86400
    if isinstance(day, date):
        return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() / 86400
    parts = [int(p) for p in [*day.split("-"), "1", "1"][:3] if p.isdigit()]
    while len(parts) < 3:
        parts.append(1)
    try:
        return day_number(date(parts[0], parts[1], parts[2]))
    except ValueError:
        return day_number(date(parts[0], 1, 1))


def build_chart(series: dict[str, list[tuple[float, str, Decimal]]], unit: str) -> Chart | None:
    """``series``: name -> [(x in days, x label, value)]; ``None`` without any value."""
    points = [(x, label, v) for values in series.values() for x, label, v in values]
    if not points:
        return None
    xs = [x for x, _, _ in points]
    ys = [float(v) for _, _, v in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(0.0, min(ys)), max(ys)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 == y0:
        y1 = y0 + 1
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

    def sx(x: float) -> float:
        return PAD_L + (x - x0) / (x1 - x0) * plot_w

    def sy(y: float) -> float:
        return PAD_T + plot_h - (y - y0) / (y1 - y0) * plot_h

    lines = []
    for i, (name, values) in enumerate(series.items()):
        line = Line(name, COLOURS[i % len(COLOURS)])
        for x, label, value in sorted(values, key=lambda p: p[0]):
            line.points.append(Point(sx(x), sy(float(value)), f"{label}: {value.normalize():f}"))
        lines.append(line)
    y_ticks = [(sy(y0 + (y1 - y0) * k / 4), f"{y0 + (y1 - y0) * k / 4:g}") for k in range(5)]
    labels = sorted({(x, label) for x, label, _ in points})
    x_ticks = [(sx(x), label) for x, label in labels[:8]]
    return Chart(WIDTH, HEIGHT, lines, y_ticks, x_ticks, unit)
