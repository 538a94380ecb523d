"""The supervisor's SVG charts: inline, CSP-compatible, scaled on the day, labels escaped."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from bot.agents import charts, stats
from bot.agents.stats import Topic
from tests.agents.tracker_events import DAY, filled_tracker


@pytest.fixture
def report(tmp_path: Path) -> stats.DayReport:
    return stats.day_report(filled_tracker(tmp_path), DAY)


def test_charts_are_inline_svg(report: stats.DayReport) -> None:
    topics, hours = charts.topics_chart(report.topics), charts.hours_chart(report.hours)
    for svg in (str(topics), str(hours)):
        assert svg.startswith("<svg") and svg.endswith("</svg>") and "<script" not in svg
        assert 'xmlns="http://www.w3.org/2000/svg"' in svg and 'role="img"' in svg
        assert "style=" not in svg  # the page's CSP has no 'unsafe-inline' for styles
    assert topics.count("<rect") == 6 + 4  # a bar per topic, orange over the 4 with unanswered
    assert "Pas d&#39;information validée" in topics
    assert "<title>Pas d&#39;information validée : 3 question(s), 3 sans réponse</title>" in topics
    # One column per hour with questions (8, 9, 14, 23 h), orange over each (all have some).
    assert hours.count("<rect") == 4 + 4
    assert "<title>9 h : 4 question(s), 3 sans réponse</title>" in hours
    assert re.findall(r">(\d+) h</text>", str(hours)) == [str(h) for h in range(0, 24, 3)]


def test_a_label_is_escaped() -> None:
    svg = str(charts.topics_chart([Topic("x", '<script>alert("x")</script> & co', 2, 1)]))
    assert "<script" not in svg
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co</text>" in svg


def test_bars_are_scaled_on_the_biggest_topic() -> None:
    chart = charts.topics_geometry([Topic("a", "A", 10, 5), Topic("b", "B", 1, 0)])
    assert chart is not None
    big, small = chart.bars
    assert (big.width, big.unanswered_width) == (330, 165)
    assert (small.width, small.unanswered_width) == (33, 0)
    assert small.bar_y - big.bar_y == 26 and chart.height == 8 + 2 * 26 + 8
    many = [Topic(str(i), str(i), 1, 0) for i in range(20)]
    assert charts.topics_chart(many).count("<text") == 2 * charts.TOPICS_SHOWN


def test_a_day_without_questions_has_no_chart() -> None:
    empty = stats.summarise([], date(2022, 5, 17))
    assert charts.topics_chart(empty.topics) == "" and charts.hours_chart(empty.hours) == ""
    assert charts.hours_geometry(empty.hours) is None
