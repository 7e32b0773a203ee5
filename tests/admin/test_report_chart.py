"""The inline SVG chart of engagement scores: gaps for missing scores, every label escaped."""

from __future__ import annotations

import datetime as dt

from engagement.admin.report_chart import Series
from engagement.admin.report_chart import engagement_chart

WEEKS = [dt.date(2026, 11, 2), dt.date(2026, 11, 9), dt.date(2026, 11, 16)]


def test_a_missing_score_breaks_the_line() -> None:
    svg = str(engagement_chart(WEEKS, [Series("Ana", [80.0, None, 60.0])], current=WEEKS[-1]))

    assert svg.count("<polyline") == 2
    assert svg.count("<circle") == 2


def test_scores_sit_on_a_0_to_100_scale() -> None:
    svg = str(engagement_chart(WEEKS, [Series("Ana", [100.0, 50.0, 0.0])], current=WEEKS[-1]))

    # Top of the plot at y=16, bottom at 216.
    assert 'cy="16.0"' in svg
    assert 'cy="116.0"' in svg
    assert 'cy="216.0"' in svg


def test_labels_are_escaped() -> None:
    svg = str(
        engagement_chart(
            WEEKS, [Series('<img src=x onerror="alert(1)">', [1.0, 2.0, 3.0])], current=WEEKS[-1]
        )
    )

    assert "<img" not in svg
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in svg


def test_nothing_to_chart_says_so() -> None:
    assert "No engagement scores" in str(
        engagement_chart(WEEKS, [Series("Ana", [None, None, None])], current=WEEKS[-1])
    )
    assert "No engagement scores" in str(engagement_chart([], [], current=WEEKS[-1]))
