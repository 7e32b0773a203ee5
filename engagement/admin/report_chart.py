"""A couple's engagement scores over recent weeks as an inline SVG chart, every value escaped."""

# Drawn on the server into the page itself: no script, no image request, nothing from outside,
# so it works offline and under any Content-Security-Policy. Each line is a partner; a week
# without a score (no report, or a null score) leaves a gap rather than a made-up slope.
# Lines differ by dash as well as colour, for readers who do not tell the colours apart.
# Every piece is built by format_html, so a partner's name cannot become markup.

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.html import format_html
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.safestring import mark_safe

WIDTH = 720
LEFT, RIGHT, TOP = 48, 24, 16
PLOT_HEIGHT = 200
X_LABELS_HEIGHT = 28
LEGEND_ROW_HEIGHT = 22
LOW_ENGAGEMENT = 40.0  # low_engagement_streak's threshold (docs/reports.md, "Flags")
# (stroke colour, dash pattern): distinguishable in colour and in shape.
STYLES = (("#1d4ed8", ""), ("#c2410c", "8 5"), ("#15803d", "2 4"), ("#7e22ce", "12 4 2 4"))
# Admin theme variables where they exist, so the chart follows its light and dark themes.
QUIET_TEXT = "fill: var(--body-quiet-color, #666); font: 12px sans-serif"
TEXT = "fill: var(--body-fg, #333); font: 12px sans-serif"
GRID = "stroke: var(--hairline-color, #ddd)"
CURRENT_WEEK = "fill: var(--selected-row, #ffc)"
ALERT = "#b91c1c"


@dataclass(frozen=True)
class Series:
    """One partner's line: a label and one score (0-100) or None per week of the chart."""

    label: str
    scores: Sequence[float | None]


def _n(value: float) -> str:
    return f"{value:.1f}"


@dataclass(frozen=True)
class _Frame:
    """Where weeks and scores fall on the drawing."""

    weeks: int

    @property
    def plot_width(self) -> float:
        return WIDTH - LEFT - RIGHT

    @property
    def step(self) -> float:
        return self.plot_width / max(self.weeks - 1, 1)

    def x(self, index: int) -> float:
        return LEFT + (self.step * index if self.weeks > 1 else self.plot_width / 2)

    def y(self, score: float) -> float:
        return TOP + PLOT_HEIGHT * (1 - max(0.0, min(100.0, score)) / 100)


def engagement_chart(
    weeks: Sequence[date], series: Sequence[Series], *, current: date
) -> SafeString:
    """The SVG of these series over these consecutive weeks, with ``current`` highlighted."""
    if not weeks or not any(score is not None for line in series for score in line.scores):
        return format_html("<p>{}</p>", "No engagement scores to chart yet.")
    frame = _Frame(len(weeks))
    legend_top = TOP + PLOT_HEIGHT + X_LABELS_HEIGHT
    height = legend_top + LEGEND_ROW_HEIGHT * len(series) + 8
    parts: list[SafeString] = []
    if current in weeks:
        # Half a week either side of the current one, kept inside the plot.
        middle = frame.x(weeks.index(current))
        half = min(frame.step, frame.plot_width) / 2
        start, end = max(LEFT, middle - half), min(WIDTH - RIGHT, middle + half)
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" style="{}"/>',
                _n(start),
                TOP,
                _n(end - start),
                PLOT_HEIGHT,
                CURRENT_WEEK,
            )
        )
    parts.extend(_grid(frame))
    parts.append(
        format_html_join(
            "",
            '<text x="{}" y="{}" text-anchor="middle" style="{}">{}</text>',
            (
                (
                    _n(frame.x(i)),
                    TOP + PLOT_HEIGHT + 18,
                    TEXT + "; font-weight: bold" if week == current else QUIET_TEXT,
                    f"{week:%d %b}",
                )
                for i, week in enumerate(weeks)
            ),
        )
    )
    for n, line in enumerate(series):
        colour, dash = STYLES[n % len(STYLES)]
        parts.extend(_line(frame, line, weeks, colour, dash))
        row_y = legend_top + LEGEND_ROW_HEIGHT * n + 12
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="3" '
                'stroke-dasharray="{}"/><text x="{}" y="{}" style="{}">{}</text>',
                LEFT,
                row_y,
                LEFT + 36,
                row_y,
                colour,
                dash,
                LEFT + 44,
                row_y + 4,
                TEXT,
                line.label,
            )
        )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="duet-engagement-chart" role="img" '
        'viewBox="0 0 {} {}" width="{}" height="{}" style="max-width: 100%; height: auto">'
        "<title>{}</title>{}</svg>",
        WIDTH,
        height,
        WIDTH,
        height,
        f"Engagement score per partner, weeks of {weeks[0]} to {weeks[-1]}",
        mark_safe("".join(parts)),  # noqa: S308 - every part was built by format_html
    )


def _grid(frame: _Frame) -> list[SafeString]:
    """Horizontal lines every 25 points, labelled, and the low-engagement threshold."""
    parts = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" style="{}"/>'
            '<text x="{}" y="{}" text-anchor="end" style="{}">{}</text>',
            LEFT,
            _n(frame.y(score)),
            WIDTH - RIGHT,
            _n(frame.y(score)),
            GRID,
            LEFT - 8,
            _n(frame.y(score) + 4),
            QUIET_TEXT,
            score,
        )
        for score in (0, 25, 50, 75, 100)
    ]
    low = frame.y(LOW_ENGAGEMENT)
    parts.append(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-dasharray="3 3"/>'
            '<text x="{}" y="{}" text-anchor="end" style="{}; fill: {}">{}</text>',
            LEFT,
            _n(low),
            WIDTH - RIGHT,
            _n(low),
            ALERT,
            WIDTH - RIGHT,
            _n(low - 4),
            QUIET_TEXT,
            ALERT,
            f"low engagement ({LOW_ENGAGEMENT:.0f})",
        )
    )
    return parts


def _line(
    frame: _Frame, line: Series, weeks: Sequence[date], colour: str, dash: str
) -> list[SafeString]:
    """A partner's polylines (split at weeks without a score) and a dot per score."""
    segments: list[list[str]] = [[]]
    for i, score in enumerate(line.scores):
        if score is None:
            segments.append([])
        else:
            segments[-1].append(f"{_n(frame.x(i))},{_n(frame.y(score))}")
    parts = [
        format_html(
            '<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5" '
            'stroke-dasharray="{}" stroke-linejoin="round"/>',
            " ".join(points),
            colour,
            dash,
        )
        for points in segments
        if points
    ]
    parts.extend(
        format_html(
            '<circle cx="{}" cy="{}" r="4" fill="{}"><title>{}</title></circle>',
            _n(frame.x(i)),
            _n(frame.y(score)),
            colour,
            f"{line.label}, week of {weeks[i]}: {score:.1f}",
        )
        for i, score in enumerate(line.scores)
        if score is not None
    )
    return parts
