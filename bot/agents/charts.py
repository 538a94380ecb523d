"""The supervisor's two charts, as inline SVG: questions per topic and questions per hour.

Inline SVG because the console's policy allows no inline script or style and no other origin:
no charting library, and the charts still show with JavaScript off. The geometry is computed
here; the markup is in templates/topics.svg and templates/hours.svg (escaped like every page),
and the chart reaches the page as Markup. Colours are presentation attributes, never `style=`.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from bot.agents.rendering import render_markup
from bot.agents.stats import Topic

TOPICS_SHOWN = 12


# --- questions per topic: horizontal bars -----------------------------------------------------


@dataclass(frozen=True)
class TopicBar:
    label: str
    count: int
    unanswered: int
    text_y: int
    bar_y: int
    width: int
    unanswered_width: int  # the orange part, drawn over the blue one
    value_x: int


@dataclass(frozen=True)
class TopicsChart:
    width: int
    height: int
    label_x: int  # labels end here (right-aligned)
    bar_x: int
    bars: tuple[TopicBar, ...]


def topics_geometry(topics: list[Topic], limit: int = TOPICS_SHOWN) -> TopicsChart | None:
    """The bars of the `limit` first topics, scaled on the biggest; None without topics."""
    rows = topics[:limit]
    if not rows:
        return None
    label_w, bar_w, row_h, top = 250, 330, 26, 8
    biggest = max(t.count for t in rows) or 1
    bars = []
    for i, t in enumerate(rows):
        y = top + i * row_h
        width = max(1, round(bar_w * t.count / biggest))
        bars.append(
            TopicBar(
                label=t.label,
                count=t.count,
                unanswered=t.unanswered,
                text_y=y + 17,
                bar_y=y + 4,
                width=width,
                unanswered_width=round(bar_w * t.unanswered / biggest),
                value_x=label_w + width + 6,
            )
        )
    return TopicsChart(
        width=label_w + bar_w + 60,
        height=top + row_h * len(rows) + 8,
        label_x=label_w - 8,
        bar_x=label_w,
        bars=tuple(bars),
    )


def topics_chart(topics: list[Topic], limit: int = TOPICS_SHOWN) -> Markup:
    """Horizontal bars: questions per topic, the unanswered part in orange ("" without any)."""
    chart = topics_geometry(topics, limit)
    return render_markup("topics.svg", chart=chart) if chart else Markup("")


# --- questions per hour: columns --------------------------------------------------------------


@dataclass(frozen=True)
class HourColumn:
    hour: int
    count: int
    unanswered: int
    x: int
    height: int  # 0: no question that hour, no column
    unanswered_height: int
    label_x: float | None  # every third hour is labelled under the axis


@dataclass(frozen=True)
class HoursChart:
    width: int
    height: int
    left: int
    top: int
    axis_y: int  # the bottom of the plot, where the columns stand
    column_width: int
    biggest: int
    columns: tuple[HourColumn, ...]


def hours_geometry(hours: list[tuple[int, int, int]]) -> HoursChart | None:
    """Columns of (hour, questions, unanswered), scaled on the busiest hour; None when the day
    has no question."""
    if not hours or not any(n for _, n, _ in hours):
        return None
    col_w, plot_h, left, top, bottom = 24, 160, 36, 10, 26
    biggest = max(n for _, n, _ in hours) or 1
    columns = []
    for hour, n, u in hours:
        x = left + hour * col_w + 3
        columns.append(
            HourColumn(
                hour=hour,
                count=n,
                unanswered=u,
                x=x,
                height=max(1, round(plot_h * n / biggest)) if n else 0,
                unanswered_height=max(1, round(plot_h * u / biggest)) if n and u else 0,
                label_x=x + (col_w - 6) / 2 if hour % 3 == 0 else None,
            )
        )
    return HoursChart(
        width=left + col_w * 24 + 10,
        height=top + plot_h + bottom,
        left=left,
        top=top,
        axis_y=top + plot_h,
        column_width=col_w - 6,
        biggest=biggest,
        columns=tuple(columns),
    )


def hours_chart(hours: list[tuple[int, int, int]]) -> Markup:
    """Columns: questions per hour of the day, the unanswered part in orange ("" without any)."""
    chart = hours_geometry(hours)
    return render_markup("hours.svg", chart=chart) if chart else Markup("")
