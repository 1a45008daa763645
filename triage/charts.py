"""Charts for the HTML report, drawn as inline SVG by our own template (templates/chart.html.j2).

The layout is worked out here from the report's numbers (scales, ticks, bars, cells, legend
rows), and the template writes it out as rectangles, lines and text, autoescaped and masked
like every other value of the page. No JavaScript, no engine to start, nothing fetched: the
report stays one file that any browser shows, printed or offline.

Every series keeps its colour from chart to chart and report to report: "this week" is
always the same blue, each error type always the same colour, and no label is cut: a long
code widens its chart, a long legend wraps. A tooltip never reads "name: value": a code such
as invalid_api_key would make its count look like a key's value, and be masked.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib

from triage import catalog, labels

# Tableau 10, colour-blind friendly; the first is this week's
PALETTE = [
    "#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b",
    "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac",
]  # fmt: skip
THIS_WEEK = PALETTE[0]
PREVIOUS_WEEK = "#9aa4ae"
WIDTH = 640
CHAR = 7.0  # width of a character of the 12px labels, generously (the labels are never cut)
# sequential colours for failure rates, from none to the week's worst hour
RATE_SCALE = ["#fee8c8", "#fdbb84", "#fc8d59", "#e34a33", "#b30000"]


def type_colour(name: str | None) -> str:
    """One colour per error type, the same in every chart and every report: the documented
    types in catalogue order, then any other name by a hash of it."""
    known = [t.name for t in catalog.TYPES] + [labels.NO_ERROR_BODY, "?"]
    if name in known:
        return PALETTE[(known.index(name) + 1) % len(PALETTE)]
    return PALETTE[zlib.crc32(str(name).encode()) % len(PALETTE)]


def report_charts(report: dict) -> dict[str, dict]:
    """The weekly report's three charts, laid out, keyed by their place in the page."""
    return {
        "per_day": failures_per_day(report["daily"]),
        "rate": failure_rate_per_hour(report["hourly"], [d["day"] for d in report["daily"]]),
        "codes": codes_week_over_week(report["codes"]),
    }


class _Chart:
    """Primitives in a WIDTH-wide box: what the template draws."""

    def __init__(self, title: str, width: float = WIDTH) -> None:
        self.title, self.width = title, width
        self.rects: list[dict] = []
        self.lines: list[dict] = []
        self.texts: list[dict] = []

    def rect(self, x, y, w, h, fill, tip=None, outline=False) -> None:
        self.rects.append(
            {"x": _r(x), "y": _r(y), "w": _r(w), "h": _r(h), "fill": fill, "tip": tip,
             "outline": outline}
        )  # fmt: skip

    def line(self, x1, y1, x2, y2) -> None:
        self.lines.append({"x1": _r(x1), "y1": _r(y1), "x2": _r(x2), "y2": _r(y2)})

    def text(self, x, y, text, anchor="start", muted=True) -> None:
        self.texts.append({"x": _r(x), "y": _r(y), "text": text, "anchor": anchor, "muted": muted})

    def legend(self, y: float, items: list[tuple[str, str]]) -> float:
        """Swatches and labels in rows that wrap at the chart's width; the y below them."""
        x = 0.0
        for colour, label in items:
            needed = 16 + len(label) * CHAR + 14
            if x and x + needed > self.width:
                x, y = 0.0, y + 18
            self.rect(x, y - 10, 11, 11, colour)
            self.text(x + 16, y, label)
            x += needed
        return y + 8

    def done(self, height: float) -> dict:
        return {
            "title": self.title,
            "width": _r(self.width),
            "height": _r(height),
            "rects": self.rects,
            "lines": self.lines,
            "texts": self.texts,
        }


def failures_per_day(daily: list[dict]) -> dict:
    """Stacked bars: each day's failures, by error type."""
    chart = _Chart("Failures per day, by type")
    totals = {t: 0 for d in daily for t in d["by_type"]}
    for d in daily:
        for t, n in d["by_type"].items():
            totals[t] += n
    types = sorted(totals, key=lambda t: (-totals[t], t))  # most first, at the bottom
    top, ticks = _scale(max((sum(d["by_type"].values()) for d in daily), default=0))
    left = max(len(f"{t:,}") for t in ticks) * CHAR + 10
    plot_top, plot_h = 28.0, 180.0
    plot_w = WIDTH - left
    chart.text(0, 14, chart.title, muted=False)
    for t in ticks:
        y = plot_top + plot_h - t / top * plot_h
        chart.line(left, y, WIDTH, y)
        chart.text(left - 6, y + 4, f"{t:,}", anchor="end")
    band = plot_w / max(len(daily), 1)
    for i, d in enumerate(daily):
        x = left + i * band + band * 0.15
        y = plot_top + plot_h
        for t in types:
            n = d["by_type"].get(t, 0)
            if not n:
                continue
            h = n / top * plot_h
            y -= h
            chart.rect(x, y, band * 0.7, h, type_colour(t), tip=f"{d['day']} · {t} · {n:,}")
        chart.text(x + band * 0.35, plot_top + plot_h + 16, _day_label(d["day"]), "middle")
    bottom = plot_top + plot_h + 40
    if types:
        bottom = chart.legend(bottom, [(type_colour(t), t) for t in types])
    else:
        chart.text(left, bottom, "no failures this week")
        bottom += 8
    return chart.done(bottom)


def failure_rate_per_hour(hourly: list[dict], days: list[str]) -> dict:
    """A day by hour grid: each hour's failure rate; blank where there were no requests."""
    chart = _Chart("Failure rate per hour (blank: no requests)")
    by_cell = {(h["day"], h["hour"]): h for h in hourly}
    rates = [h["failures"] / h["requests"] for h in hourly if h["requests"]]
    worst = max(rates, default=0) or 0.01
    left, top, cell_h = 11 * CHAR, 28.0, 18.0
    cell_w = (WIDTH - left) / 24
    chart.text(0, 14, chart.title, muted=False)
    for row, day in enumerate(days):
        y = top + row * cell_h
        chart.text(left - 6, y + 13, _day_label(day), anchor="end")
        for hour in range(24):
            x = left + hour * cell_w
            h = by_cell.get((day, hour))
            if not h or not h["requests"]:
                chart.rect(x + 1, y + 1, cell_w - 2, cell_h - 2, "none", outline=True)
                continue
            rate = h["failures"] / h["requests"]
            tip = f"{day} {hour:02d}:00 · {rate:.1%} ({h['failures']:,} of {h['requests']:,})"
            chart.rect(x + 1, y + 1, cell_w - 2, cell_h - 2, _rate_colour(rate / worst), tip)
    axis = top + len(days) * cell_h + 14
    for hour in range(0, 24, 3):
        chart.text(left + (hour + 0.5) * cell_w, axis, f"{hour:02d}", "middle")
    y = axis + 22
    x = 0.0
    chart.text(x, y, "failure rate:")
    x += 13 * CHAR
    for i, colour in enumerate(RATE_SCALE):
        low = worst * (i / len(RATE_SCALE)) ** 2
        chart.rect(x, y - 10, 11, 11, colour)
        label = f"{low:.0%}+" if worst >= 0.05 else f"{low:.1%}+"
        chart.text(x + 16, y, label)
        x += 16 + len(label) * CHAR + 14
    return chart.done(y + 8)


def codes_week_over_week(codes: list[dict], top: int = 8) -> dict:
    """Paired bars: the top codes' failures this week and the previous one."""
    rows = codes[:top]
    names = [str(c["code"] or "(no code)") for c in rows]
    left = max((len(n) for n in names), default=4) * CHAR + 10
    width = max(WIDTH, left + 360)
    chart = _Chart("Top codes: this week and the previous one", width)
    compared = any(c["previous"] is not None for c in rows)
    most = max([c["count"] for c in rows] + [c["previous"] or 0 for c in rows] + [0])
    scale_top, _ = _scale(most)
    plot_w = width - left - 70
    chart.text(0, 14, chart.title, muted=False)
    y = 30.0
    for name, c in zip(names, rows, strict=True):
        pairs = [("this week", c["count"], THIS_WEEK)]
        if compared:
            pairs.append(("previous week", c["previous"] or 0, PREVIOUS_WEEK))
        chart.text(left - 8, y + (12 if compared else 9), name, anchor="end", muted=False)
        for week, n, colour in pairs:
            w = n / scale_top * plot_w
            chart.rect(left, y, max(w, 1 if n else 0), 9, colour, tip=f"{name} · {n:,} {week}")
            chart.text(left + w + 6, y + 9, f"{n:,}")
            y += 11
        y += 8
    if not rows:
        chart.text(left, y + 9, "no failures")
        y += 20
    items = [(THIS_WEEK, "this week")] + ([(PREVIOUS_WEEK, "previous week")] if compared else [])
    return chart.done(chart.legend(y + 14, items))


def _scale(most: float) -> tuple[float, list[int]]:
    """A round top for an axis that reaches `most`, and its ticks (about five)."""
    if most <= 0:
        return 1.0, [0, 1]
    raw = most / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(int(step), 1)
    top = step * math.ceil(most / step)
    return float(top), list(range(0, top + 1, step))


def _rate_colour(share: float) -> str:
    """The colour of a failure rate, as a share of the week's worst hour: on a square-root
    scale, so that a usual hour still differs from a quiet one when one hour was far worse."""
    return RATE_SCALE[min(int(math.sqrt(share) * len(RATE_SCALE)), len(RATE_SCALE) - 1)]


def _day_label(day: str) -> str:
    """'Mon 11-09' for '2026-11-09'."""
    try:
        return dt.date.fromisoformat(day).strftime("%a %m-%d")
    except ValueError:
        return day


def _r(value: float) -> float:
    return round(value, 1)
