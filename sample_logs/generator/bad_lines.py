"""The deliberately broken lines: cut records (at top level and inside a container wrapper),
non-objects, missing or bad timestamps and blank lines, each with the reason the ingester
should reject it for; and Latin-1 bytes in a line it should repair and keep."""

from __future__ import annotations

from .background import ordinary_request
from .clock import Calendar, iso_nanos
from .shapes import Line, dumps, shape_a, shape_c
from .traces import trace_events
from .traffic import Traffic


def insert_at(lines: list[Line], fraction: float, line: Line) -> None:
    lines.insert(int(len(lines) * fraction), line)


def plant_gateway_bad_lines(lines: list[Line], t: Traffic, cal: Calendar) -> None:
    """Bad and blank lines in the live EU file; their request ids appear nowhere else."""
    cut = dumps(shape_a(ordinary_request(t, cal.current_week(1, "10:00:00"), "eu", None)))
    unparsable = shape_a(
        ordinary_request(t, cal.current_week(3, "12:00:00"), "eu", None), "yesterday"
    )
    insert_at(
        lines,
        0.12,
        Line(
            cut[: len(cut) * 3 // 5].encode(), "bad", "invalid_json", "shape-A record cut mid-way"
        ),
    )
    insert_at(lines, 0.31, Line(b'["oops"]', "bad", "not_an_object", "JSON array"))
    insert_at(
        lines,
        0.47,
        Line(
            dumps({"requestId": t.ids.uuid4(), "msg": "no time"}).encode(),
            "bad",
            "no_timestamp",
            "object without any timestamp key",
        ),
    )
    insert_at(lines, 0.58, Line(b"", "blank"))
    insert_at(
        lines,
        0.66,
        Line(
            dumps(unparsable).encode(),
            "bad",
            "bad_timestamp",
            'shape-A record with "timestamp":"yesterday"',
        ),
    )
    insert_at(lines, 0.83, Line(b" \t  ", "blank", note="whitespace only"))


def plant_service_bad_lines(lines: list[Line], t: Traffic, cal: Calendar) -> None:
    req = ordinary_request(t, cal.current_week(2, "15:00:00"), "eu", None)
    wrapped = shape_c(trace_events(t.rng, req)[0])
    cut = dumps(wrapped)
    # the same record cut short inside an intact wrapper (a log shipper that truncated it)
    cut_inside = {**wrapped, "log": wrapped["log"][: len(wrapped["log"]) // 2]}
    ns = cal.current_week(4, "09:00:00") * 1_000_000 + 123_456
    latin1 = (
        b'{"log":"notify-worker: rendered template caf\xe9 cr\xe8me\\n","stream":"stderr",'
        b'"time":"' + iso_nanos(ns).encode() + b'"}'
    )
    insert_at(
        lines,
        0.22,
        Line(cut[: len(cut) // 2].encode(), "bad", "invalid_json", "Docker wrapper cut mid-way"),
    )
    insert_at(lines, 0.51, Line(b"", "blank"))
    insert_at(lines, 0.74, Line(latin1, "other", note="Latin-1 bytes in the log text: repaired"))
    insert_at(
        lines,
        0.9,
        Line(
            dumps(cut_inside).encode(),
            "bad",
            "invalid_json",
            "record cut mid-way inside an intact Docker wrapper",
        ),
    )
