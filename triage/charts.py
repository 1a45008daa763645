"""Charts for the HTML report: Vega-Lite specs rendered to inline SVG, offline.

vl-convert renders Vega-Lite without a browser or network (and no JavaScript in the page),
so the report stays one self-contained file that any browser shows, printed or offline. The
SVG is produced from our own numbers and labels, never raw log text.

vl-convert's engine takes ~0.4 s to start and holds the GIL while it does, so a thread
cannot overlap that with the report's queries. ChartWorker starts it in a child process
(running main() below) before the queries run; the specs go in on stdin once they are
ready and the SVGs come back on stdout.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from pathlib import Path

from triage import interrupts
from triage.exceptions import TriageError
from triage.redact import mask, redacted

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


def to_svg(spec: dict) -> str:
    """One Vega-Lite spec as an SVG image for the page (rendered in this process). Its labels
    come from logs (error types and codes): masked like any other output."""
    import vl_convert

    spec = _clean(redacted(spec))
    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "config": _CONFIG, **spec}
    svg = vl_convert.vegalite_to_svg(spec)
    # the chart is an image in the page: no fixed white box, scales with the layout
    svg = re.sub(r'<rect width="[\d.]+" height="[\d.]+" fill="white"[^>]*/>', "", svg, count=1)
    return svg.replace('class="marks"', 'class="marks" role="img"', 1)


def report_specs(report: dict) -> dict[str, dict]:
    """The weekly report's three charts, as Vega-Lite specs keyed by their place in the page."""
    return {
        "per_day": failures_per_day(report["daily"]),
        "rate": failure_rate_heatmap(report["hourly"]),
        "codes": codes_week_over_week(report["codes"]),
    }


def failures_per_day(daily: list[dict]) -> dict:
    values = [
        {"day": d["day"], "type": t, "failures": n} for d in daily for t, n in d["by_type"].items()
    ]
    return {
        "title": "Failures per day, by type",
        "width": 560,
        "height": 220,
        "data": {
            "values": values or [{"day": d["day"], "type": "none", "failures": 0} for d in daily]
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


def failure_rate_heatmap(hourly: list[dict]) -> dict:
    values = [
        {
            "day": h["day"],
            "hour": h["hour"],
            "rate": round(h["failures"] / h["requests"], 4) if h["requests"] else 0,
        }
        for h in hourly
    ]
    return {
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


def codes_week_over_week(codes: list[dict], top: int = 8) -> dict:
    values = []
    for c in codes[:top]:
        label = f"{c['code'] or '(no code)'}"
        values.append({"code": label, "week": "this week", "failures": c["count"]})
        if c["previous"] is not None:
            values.append({"code": label, "week": "previous week", "failures": c["previous"]})
    return {
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


class ChartWorker:
    """A child process that starts vl-convert's engine as the with block starts and renders
    specs later.

    Use it as a context manager: leaving it stops the child if it is still running (an
    error or Ctrl-C in the parent), so no process outlives the command.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> None:
        import triage

        if not sys.executable or getattr(sys, "frozen", False):
            return  # no Python to start (embedded or frozen): svgs() gives None
        # -P keeps a `triage` in the working directory out; the package this process runs
        # is appended to the child's path, after the standard library and site-packages.
        root = str(Path(triage.__file__).resolve().parent.parent)
        code = f"import sys; sys.path.append({root!r}); from triage.charts import main; main()"
        with contextlib.suppress(OSError):  # cannot start it: svgs() gives None
            self._proc = subprocess.Popen(
                [sys.executable, "-P", "-c", code],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )

    def draw(self, report: dict) -> None:
        """Hand the report's charted sections over; the child draws them from now on."""
        if self._proc is None or self._proc.stdin is None:
            return
        try:  # one line of JSON (json.dumps writes no newline inside)
            self._proc.stdin.write(json.dumps(report_specs(report)).encode() + b"\n")
            self._proc.stdin.flush()
        except BrokenPipeError:  # the child is gone; svgs() says why
            pass

    def svgs(self) -> dict[str, str] | None:
        """The drawn charts, keyed like report_specs(); waits for the child to finish.
        None if no child could start: the page then draws them in this process."""
        if self._proc is None:
            return None
        out, err = self._proc.communicate()
        if self._proc.returncode != 0:
            lines = err.decode(errors="replace").strip().splitlines()
            # the child's last word may quote a label from the logs: masked like any output
            reason = mask(lines[-1]) if lines else f"exit status {self._proc.returncode}"
            raise TriageError(
                f"could not draw the report's charts ({reason}); "
                "--format md gives the same report without them"
            )
        return json.loads(out)

    def close(self) -> None:
        # a child svgs() did not finish: stop it, reap it, close its pipes
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
            self._proc.communicate()

    def __enter__(self) -> ChartWorker:
        # A Ctrl-C while the child starts would lose its process id and leave it running:
        # it is held until self._proc is set, and then stops the child here, as __exit__
        # only runs once __enter__ has returned.
        try:
            with interrupts.held():
                self._start()
        except KeyboardInterrupt:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def main() -> None:
    """The worker: warm the engine up, then render the specs read from stdin."""
    try:
        to_svg(failures_per_day([]))
        specs = json.loads(sys.stdin.readline())
        json.dump({name: to_svg(spec) for name, spec in specs.items()}, sys.stdout)
    except KeyboardInterrupt:  # the parent was interrupted too and is cleaning up
        sys.exit(130)
