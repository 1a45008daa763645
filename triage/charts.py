"""Charts for the HTML report: Vega-Lite specs rendered to inline SVG, offline.

vl-convert renders Vega-Lite in-process (no browser, no network, no JavaScript in the page),
so the report stays one self-contained file that any browser shows, printed or offline. The
SVG is produced from our own numbers and labels, never raw log text.
"""

from __future__ import annotations

import re

PALETTE = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#b279a2", "#9d755d"]
_CONFIG = {
    "background": None,  # transparent: the page's light or dark background shows through
    "font": "system-ui, sans-serif",
    "axis": {
        "labelColor": "#8b949e",
        "titleColor": "#8b949e",
        "gridColor": "#8b949e33",
        "domainColor": "#8b949e",
    },
    "legend": {"labelColor": "#8b949e", "titleColor": "#8b949e", "labelLimit": 260},
    "title": {"color": "#8b949e", "anchor": "start"},
    "view": {"stroke": None},
    "range": {"category": PALETTE},
}


# Characters XML cannot hold: a log value carrying one would abort the renderer.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _clean(value):
    """Chart data as an SVG can hold it: labels from logs lose characters XML forbids."""
    if isinstance(value, str):
        return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _svg(spec: dict) -> str:
    import vl_convert

    spec = _clean(spec)
    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "config": _CONFIG, **spec}
    svg = vl_convert.vegalite_to_svg(spec)
    # the chart is an image in the page: no fixed white box, scales with the layout
    svg = re.sub(r'<rect width="[\d.]+" height="[\d.]+" fill="white"[^>]*/>', "", svg, count=1)
    return svg.replace('class="marks"', 'class="marks" role="img"', 1)


def failures_per_day(daily: list[dict]) -> str:
    values = [
        {"day": d["day"], "type": t, "failures": n} for d in daily for t, n in d["by_type"].items()
    ]
    return _svg(
        {
            "title": "Failures per day, by type",
            "width": 560,
            "height": 220,
            "data": {
                "values": values
                or [{"day": d["day"], "type": "none", "failures": 0} for d in daily]
            },
            "mark": "bar",
            "encoding": {
                "x": {"field": "day", "type": "ordinal", "title": None},
                "y": {
                    "field": "failures",
                    "type": "quantitative",
                    "aggregate": "sum",
                    "title": "failed requests",
                },
                "color": {"field": "type", "type": "nominal", "title": "error type"},
            },
        }
    )


def failure_rate_heatmap(hourly: list[dict]) -> str:
    values = [
        {
            "day": h["day"],
            "hour": h["hour"],
            "rate": round(h["failures"] / h["requests"], 4) if h["requests"] else 0,
        }
        for h in hourly
    ]
    return _svg(
        {
            "title": "Failure rate per hour (blank: no requests)",
            "width": 560,
            "height": 160,
            "data": {"values": values or [{"day": "-", "hour": 0, "rate": 0}]},
            "mark": "rect",
            "encoding": {
                "x": {"field": "hour", "type": "ordinal", "title": "hour"},
                "y": {"field": "day", "type": "ordinal", "title": None},
                "color": {
                    "field": "rate",
                    "type": "quantitative",
                    "title": "failure rate",
                    "scale": {"scheme": "orangered"},
                    "legend": {"format": ".0%"},
                },
            },
        }
    )


def codes_week_over_week(codes: list[dict], top: int = 8) -> str:
    values = []
    for c in codes[:top]:
        label = f"{c['code'] or '(no code)'}"
        values.append({"code": label, "week": "this week", "failures": c["count"]})
        if c["previous"] is not None:
            values.append({"code": label, "week": "previous week", "failures": c["previous"]})
    return _svg(
        {
            "title": "Top codes: this week and the previous one",
            "width": 560,
            "height": {"step": 14},
            "data": {"values": values or [{"code": "none", "week": "this week", "failures": 0}]},
            "mark": "bar",
            "encoding": {
                "y": {"field": "code", "type": "nominal", "sort": "-x", "title": None},
                "yOffset": {"field": "week"},
                "x": {"field": "failures", "type": "quantitative", "title": "failed requests"},
                "color": {
                    "field": "week",
                    "type": "nominal",
                    "title": None,
                    "scale": {"range": [PALETTE[1], PALETTE[0]]},
                },
            },
        }
    )
