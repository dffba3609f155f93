"""The cancellation report's chart: inline SVG drawn on the server (no script, no CDN).

One chart per business: a bar per ISO week whose height is the week's
bookings (light), with the cancellations stacked inside it (client, then
staff) and the no-shows above them, the late cancellations marked by a dark
cap; weeks without bookings show as gaps. Every bar carries a `<title>`, the
browser's own tooltip, which also gives the week's fees owed and waived. Weeks
are labelled as in the table: "2026-W49" over the Monday, "30 Nov".
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from booking.exports.report import WeekRow, iso_week_label, week_start_label

MAX_WEEKS = 53
WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 56

COLOURS = {
    "bookings": "#d9e6ef",
    "client": "#417690",
    "staff": "#e09f3e",
    "late": "#ba2121",
    "no_show": "#7b4fa0",
}


def _weeks(rows: list[WeekRow]) -> list[tuple]:
    """Every week from the first to the last row (empty weeks as None), the latest MAX_WEEKS."""
    by_week = {row.week_start: row for row in rows}
    first, last = min(by_week), max(by_week)
    first = max(first, last - timedelta(weeks=MAX_WEEKS - 1))
    weeks = []
    week = first
    while week <= last:
        weeks.append((week, by_week.get(week)))
        week += timedelta(weeks=1)
    return weeks


def _nice_max(value: int) -> int:
    for step in (1, 2, 5):
        scale = 1
        while step * scale * 4 < value:
            scale *= 10
        candidate = step * scale * 4
        if candidate >= value:
            return max(candidate, 4)
    return max(value, 4)


def _rect(x: float, y: float, width: float, height: float, colour: str, title: str = "") -> str:
    tooltip = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{max(height, 0):.1f}" '
        f'fill="{colour}">{tooltip}</rect>'
    )


LEGEND = [
    ("bookings", "Bookings"),
    ("client", "Cancelled by client"),
    ("staff", "Cancelled by staff"),
    ("no_show", "No-shows"),
    ("late", "Late cancellations (dark cap)"),
]
LEGEND_STEP = 128  # five entries within the 760-px width


def _legend() -> list[str]:
    return [
        _rect(LEFT + index * LEGEND_STEP, HEIGHT - 14, 12, 10, COLOURS[key])
        + f'<text x="{LEFT + index * LEGEND_STEP + 16}" y="{HEIGHT - 5}">{escape(label)}</text>'
        for index, (key, label) in enumerate(LEGEND)
    ]


def _week_label(x: float, week: date) -> str:
    """The week's name over its Monday, as the table writes them."""
    return "".join(
        f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + dy}" text-anchor="middle" font-size="10">'
        f"{text}</text>"
        for dy, text in ((14, iso_week_label(week)), (27, week_start_label(week)))
    )


def cancellation_chart(business: str, rows: list[WeekRow]) -> SafeString:
    """The SVG of one business's weeks."""
    if not rows:
        return mark_safe("")
    weeks = _weeks(rows)
    top = _nice_max(max(row.bookings for _, row in weeks if row) or 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(weeks)
    bar = max(slot * 0.7, 2)

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * value / top

    def h(value: float) -> float:
        return plot_h * value / top

    parts = []
    for tick in range(5):
        value = top * tick / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="#ccc" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:g}</text>'
        )
    label_every = max(1, round(len(weeks) / 12))
    for index, (week, row) in enumerate(weeks):
        x = LEFT + index * slot + (slot - bar) / 2
        if index % label_every == 0:
            parts.append(_week_label(x + bar / 2, week))
        if row is None:
            continue
        summary = (
            f"{row.iso_week}: {row.bookings} bookings, {row.by_client} cancelled by clients, "
            f"{row.by_staff} by staff, {row.late} late, {row.no_shows} no-shows"
            + (f", rate {row.rate}%" if row.rate is not None else "")
            + f"; fees owed {row.fees_owed} {row.currency}, waived {row.fees_waived}"
        )
        parts.append(_rect(x, y(row.bookings), bar, h(row.bookings), COLOURS["bookings"], summary))
        parts.append(_rect(x, y(row.by_client), bar, h(row.by_client), COLOURS["client"], summary))
        staff_top = row.by_client + row.by_staff
        parts.append(_rect(x, y(staff_top), bar, h(row.by_staff), COLOURS["staff"], summary))
        no_show_top = staff_top + row.no_shows
        parts.append(_rect(x, y(no_show_top), bar, h(row.no_shows), COLOURS["no_show"], summary))
        if row.late:
            parts.append(_rect(x, y(staff_top) - 3, bar, 3, COLOURS["late"], summary))
    parts.extend(_legend())
    label = escape(f"Bookings and cancellations per week, {business}")
    svg = (
        f'<svg class="cancellation-chart" role="img" aria-label="{label}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="sans-serif" font-size="11" fill="currentColor">'
        f"<title>{label}</title>{''.join(parts)}</svg>"
    )
    # Safe: every text above is escaped, every number formatted.
    return mark_safe(svg)
