"""The overview's conversations-per-day bar chart, laid out for a given width (pure; the template draws it as SVG).

The chart is drawn twice, for a wide screen and for a phone, each in its own coordinates so that its text is drawn at
about its nominal size. Day labels never overlap: every day when there is room, else every 2nd, 3rd or 7th day (a
week), or the first of each month for long periods, each label at least its own width plus a gap from the next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import List, Sequence, Tuple

FONT = 11.0  # label font size, in the chart's units (the stylesheet draws .chart-wide text at 11, .chart-narrow at 13)
CHARACTER = 0.62  # a generous average character width, in font sizes
GAP = 10.0  # between two labels
PADDING = 24.0  # left and right, so the first and last labels are not cut
TOP, PLOT = 16.0, 130.0  # the "max" line above the bars; the bars' height
STEPS = (1, 2, 3, 7, 14, 28)  # days between labels, the first that leaves room
MONTHLY_AFTER = 120  # days; longer periods are labelled by month


@dataclass(frozen=True)
class Bar:
    """One day's bar, in chart units."""

    x: float
    y: float
    width: float
    height: float
    day: date
    count: int


@dataclass(frozen=True)
class Label:
    """A label under the bars, centred on x."""

    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    """The bars and axis labels of a chart `width` units wide and `height` high."""

    width: int
    height: int
    bars: Tuple[Bar, ...]
    labels: Tuple[Label, ...]
    peak: int
    baseline: float
    label_y: float
    font: float


def text_width(text: str, font: float = FONT) -> float:
    """An upper estimate of a label's drawn width, in chart units."""
    return len(text) * CHARACTER * font


def _day_labels(bars: Sequence[Bar], font: float) -> List[Label]:
    widest = max(text_width(f"{bar.day.day} {bar.day:%b}", font) for bar in bars)
    room = (widest + GAP) / bars[0].width
    step = next((s for s in STEPS if s >= room), math.ceil(room))
    return [Label(bar.x + bar.width / 2, f"{bar.day.day} {bar.day:%b}") for bar in bars[::-1][::step][::-1]]


def _month_labels(bars: Sequence[Bar], font: float) -> List[Label]:
    """A label at the first day of each month ("Jan 2027" for January), leaving out any too close to the last."""
    labels: List[Label] = []
    for bar in bars:
        if bar.day.day != 1:
            continue
        text = f"{bar.day:%b %Y}" if bar.day.month == 1 else f"{bar.day:%b}"
        x = bar.x + text_width(text, font) / 2  # a month's label starts at its first day
        if labels and x - text_width(text, font) / 2 < labels[-1].x + text_width(labels[-1].text, font) / 2 + GAP:
            continue
        labels.append(Label(x, text))
    return labels


def day_chart(days: Sequence[Tuple[date, int]], width: int, height: int = 180, font: float = FONT) -> Chart:
    """The bars for (day, count) pairs, oldest first, and labels `font` units high that fit `width` units."""
    peak = max([count for _, count in days] + [1])
    span = (width - 2 * PADDING) / max(1, len(days))
    baseline = TOP + PLOT
    bars = tuple(
        Bar(
            x=round(PADDING + i * span, 2),
            y=round(baseline - PLOT * count / peak, 2),
            width=round(span, 3),
            height=round(PLOT * count / peak, 2),
            day=day,
            count=count,
        )
        for i, (day, count) in enumerate(days)
    )
    if not bars:
        labels: List[Label] = []
    else:
        labels = _month_labels(bars, font) if len(bars) > MONTHLY_AFTER else _day_labels(bars, font)
    return Chart(width, height, bars, tuple(labels), peak, baseline, baseline + font + 6, font)


def labels_overlap(labels: Sequence[Label], font: float = FONT) -> bool:
    """Whether any two neighbouring labels (by their estimated widths) come closer than half the gap."""
    pairs = zip(labels, labels[1:], strict=False)
    return any(b.x - text_width(b.text, font) / 2 < a.x + text_width(a.text, font) / 2 + GAP / 2 for a, b in pairs)
