"""Charts as SVG, drawn here and written out by a template (backoffice/_chart.html): no script,
and no style attribute (the content security policy forbids inline styles); colours come from
classes in refill.css. Each chart is an image with a title; the table beside it on the page is its
text equivalent."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

WIDTH = 640
TONES = ("brand", "alt", "warn", "ok", "muted", "bad")


@dataclass
class Series:
    name: str
    values: Sequence[float | int | Decimal | None]
    tone: str = "brand"


@dataclass
class Chart:
    """What the chart template draws; coordinates already written as text (never localised)."""

    id: str
    title: str
    height: int
    width: int = WIDTH
    lines: list[dict] = field(default_factory=list)  # x1 y1 x2 y2 css
    rects: list[dict] = field(default_factory=list)  # x y width height tone title
    polylines: list[dict] = field(default_factory=list)  # points tone
    dots: list[dict] = field(default_factory=list)  # cx cy tone title
    texts: list[dict] = field(default_factory=list)  # x y anchor css text transform
    legend: list[Series] = field(default_factory=list)  # shown beside the chart when more than one


def _n(value: float) -> str:
    return f"{value:.1f}"


def _scale(top: float, integer: bool) -> tuple[float, float]:
    """A round axis maximum at or above ``top`` and a round step dividing it in about four."""
    if top <= 0:
        return (4.0, 1.0) if integer else (1.0, 0.25)
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1.0, math.ceil(step))
    return step * math.ceil(top / step - 1e-9), step


def _tick_text(value: float, step: float) -> str:
    places = 0 if float(step).is_integer() else 2
    return number_format(round(value, places), decimal_pos=places, force_grouping=True)


def time_chart(
    chart_id: str,
    title: str,
    days: Sequence[date],
    series: Sequence[Series],
    *,
    y_label: str,
    kind: str = "bars",
    integer: bool = False,
    top: float | None = None,
    value_text: Callable[[float | int | Decimal], str] = str,
) -> Chart:
    """Values per day: stacked bars, or one line per series (gaps where a value is None)."""
    height, left, right, upper, lower = 240, 64.0, WIDTH - 16.0, 12.0, 240 - 44.0
    chart = Chart(id=chart_id, title=title, height=height)
    if kind == "bars":
        highest = max((sum(float(s.values[i] or 0) for s in series) for i in range(len(days))), default=0)
    else:
        highest = max((float(v) for s in series for v in s.values if v is not None), default=0)
    axis_top, step = _scale(top if top is not None else highest, integer)

    def y_of(value: float) -> float:
        return lower - (lower - upper) * value / axis_top

    tick = 0.0
    while tick <= axis_top + 1e-9:
        y = y_of(tick)
        chart.lines.append({"x1": _n(left), "y1": _n(y), "x2": _n(right), "y2": _n(y), "css": "chart-grid"})
        chart.texts.append(
            {"x": _n(left - 6), "y": _n(y + 4), "anchor": "end", "css": "chart-tick", "text": _tick_text(tick, step)}
        )
        tick += step
    slot = (right - left) / max(len(days), 1)
    every = max(1, math.ceil(len(days) / 8))
    for index, day in enumerate(days):
        if index % every == 0:
            x = left + slot * (index + 0.5)
            chart.lines.append({"x1": _n(x), "y1": _n(lower), "x2": _n(x), "y2": _n(lower + 4), "css": "chart-axis"})
            chart.texts.append(
                {"x": _n(x), "y": _n(lower + 16), "anchor": "middle", "css": "chart-tick", "text": f"{day:%m-%d}"}
            )
    if kind == "bars":
        width = max(slot * 0.7, 0.5)
        for index, day in enumerate(days):
            base = 0.0
            for each in series:
                value = float(each.values[index] or 0)
                if value:
                    chart.rects.append(
                        {
                            "x": _n(left + slot * index + (slot - width) / 2),
                            "y": _n(y_of(base + value)),
                            "width": _n(width),
                            "height": _n(y_of(base) - y_of(base + value)),
                            "tone": each.tone,
                            "title": f"{day.isoformat()} · {each.name}: {value_text(each.values[index])}",
                        }
                    )
                base += value
    else:
        for each in series:
            run: list[str] = []
            for index, day in enumerate(days):
                value = each.values[index]
                if value is None:
                    if run:
                        chart.polylines.append({"points": " ".join(run), "tone": each.tone})
                    run = []
                    continue
                x, y = left + slot * (index + 0.5), y_of(float(value))
                run.append(f"{_n(x)},{_n(y)}")
                if len(days) <= 62:
                    chart.dots.append(
                        {
                            "cx": _n(x),
                            "cy": _n(y),
                            "tone": each.tone,
                            "title": f"{day.isoformat()} · {each.name}: {value_text(value)}",
                        }
                    )
            if run:
                chart.polylines.append({"points": " ".join(run), "tone": each.tone})
    chart.lines += [
        {"x1": _n(left), "y1": _n(upper), "x2": _n(left), "y2": _n(lower), "css": "chart-axis"},
        {"x1": _n(left), "y1": _n(lower), "x2": _n(right), "y2": _n(lower), "css": "chart-axis"},
    ]
    chart.texts.append(
        {"x": _n((left + right) / 2), "y": _n(height - 6), "anchor": "middle", "css": "chart-label", "text": _("Day")}
    )
    middle = (upper + lower) / 2
    chart.texts.append(
        {
            "x": "14.0",
            "y": _n(middle),
            "anchor": "middle",
            "css": "chart-label",
            "text": y_label,
            "transform": f"rotate(-90 14.0 {_n(middle)})",
        }
    )
    chart.legend = list(series) if len(series) > 1 else []
    return chart


def category_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    x_label: str,
    integer: bool = False,
    value_text: Callable[[float | int | Decimal], str] = str,
) -> Chart:
    """Horizontal bars, one group per category, one bar per series."""
    bar, gap, left, right, upper = 14.0, 10.0, 170.0, WIDTH - 80.0, 8.0
    group = bar * len(series) + 2 * (len(series) - 1) + gap
    lower = upper + group * len(categories)
    height = int(lower + 40)
    chart = Chart(id=chart_id, title=title, height=height)
    highest = max((float(v or 0) for s in series for v in s.values), default=0)
    axis_top, step = _scale(highest, integer)

    def x_of(value: float) -> float:
        return left + (right - left) * value / axis_top

    tick = 0.0
    while tick <= axis_top + 1e-9:
        x = x_of(tick)
        chart.lines.append({"x1": _n(x), "y1": _n(upper), "x2": _n(x), "y2": _n(lower), "css": "chart-grid"})
        chart.texts.append(
            {"x": _n(x), "y": _n(lower + 14), "anchor": "middle", "css": "chart-tick", "text": _tick_text(tick, step)}
        )
        tick += step
    for index, category in enumerate(categories):
        top = upper + gap / 2 + group * index
        shown = category if len(category) <= 26 else category[:25] + "…"
        middle = top + (group - gap) / 2
        chart.texts.append(
            {"x": _n(left - 6), "y": _n(middle + 4), "anchor": "end", "css": "chart-tick", "text": shown}
        )
        for position, each in enumerate(series):
            value = each.values[index]
            y = top + position * (bar + 2)
            width = x_of(float(value or 0)) - left
            chart.rects.append(
                {
                    "x": _n(left),
                    "y": _n(y),
                    "width": _n(width),
                    "height": _n(bar),
                    "tone": each.tone,
                    "title": f"{category} · {each.name}: {value_text(value or 0)}",
                }
            )
            chart.texts.append(
                {
                    "x": _n(left + width + 4),
                    "y": _n(y + bar - 3),
                    "anchor": "start",
                    "css": "chart-value",
                    "text": value_text(value or 0),
                }
            )
    chart.lines.append({"x1": _n(left), "y1": _n(upper), "x2": _n(left), "y2": _n(lower), "css": "chart-axis"})
    chart.texts.append(
        {"x": _n((left + right) / 2), "y": _n(height - 6), "anchor": "middle", "css": "chart-label", "text": x_label}
    )
    chart.legend = list(series) if len(series) > 1 else []
    return chart
