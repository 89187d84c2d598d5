"""A small server-rendered SVG line chart: target value by version date, one line per
document. No JavaScript and no chart library: the page stays readable without scripts and
the values are escaped like any other text (Jinja2 autoescape renders the markup)."""

from __future__ import annotations

from dataclasses import dataclass, field
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


def _day_number(day: str) -> int:
    """``2022-12-01`` -> a sortable integer (months ≈ 31 days is precise enough here)."""
    parts = [int(p) for p in [*day.split("-"), "1", "1"][:3] if p.isdigit()]
    while len(parts) < 3:
        parts.append(1)
    return parts[0] * 372 + parts[1] * 31 + parts[2]


def build_chart(series: dict[str, list[tuple[str, Decimal]]], unit: str) -> Chart | None:
    """``series``: name -> [(date, value)]; ``None`` when fewer than one dated value."""
    points = [(d, v) for values in series.values() for d, v in values]
    if not points:
        return None
    xs = [_day_number(d) for d, _ in points]
    ys = [float(v) for _, v in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(0.0, min(ys)), max(ys)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 == y0:
        y1 = y0 + 1
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

    def sx(x: int) -> float:
        return PAD_L + (x - x0) / (x1 - x0) * plot_w

    def sy(y: float) -> float:
        return PAD_T + plot_h - (y - y0) / (y1 - y0) * plot_h

    lines = []
    for i, (name, values) in enumerate(series.items()):
        line = Line(name, COLOURS[i % len(COLOURS)])
        for day, value in sorted(values, key=lambda dv: _day_number(dv[0])):
            line.points.append(Point(sx(_day_number(day)), sy(float(value)), f"{day}: {value:f}"))
        lines.append(line)
    y_ticks = [(sy(y0 + (y1 - y0) * k / 4), f"{y0 + (y1 - y0) * k / 4:g}") for k in range(5)]
    days = sorted({d for d, _ in points}, key=_day_number)
    x_ticks = [(sx(_day_number(d)), d) for d in days[:8]]
    return Chart(WIDTH, HEIGHT, lines, y_ticks, x_ticks, unit)
