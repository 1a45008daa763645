"""The log files: what each holds, and their bytes on disk.

The EU gateway rotates weekly (last week's file is gzipped), the US gateway and the
services each write one file for the whole period, and so do the two servers beside the
API: the docs site's edge (combined text) and the status service's sidecar (Envoy).
"""

from __future__ import annotations

import gzip
from pathlib import Path

from .bad_lines import plant_gateway_bad_lines, plant_service_bad_lines
from .clock import Calendar
from .shapes import Line, record_line, shape_a, shape_b, shape_c
from .traces import TraceEvent
from .traffic import Request, Traffic

FILE_EU_ROTATED = "gateway-eu.1.ndjson.gz"
FILE_EU = "gateway-eu.ndjson"
FILE_US = "gateway-us.ndjson"
FILE_SERVICES = "services.ndjson"
FILE_EDGE = "edge-nginx.log"
FILE_MESH = "mesh-envoy.ndjson"


def render_files(
    t: Traffic, cal: Calendar, requests: list[Request], events: list[TraceEvent]
) -> dict[str, tuple[str, list[Line]]]:
    """The API's files: split by gateway and week, render each shape, plant the bad lines."""
    rotated = [
        record_line(shape_a(r), "request")
        for r in requests
        if r.gateway == "eu" and r.ts < cal.current_week_ms
    ]
    current = [
        record_line(shape_a(r), "request")
        for r in requests
        if r.gateway == "eu" and r.ts >= cal.current_week_ms
    ]
    us = [record_line(shape_b(r), "request") for r in requests if r.gateway == "us"]
    services = [record_line(shape_c(e), "other" if e.inner is None else "trace") for e in events]
    plant_gateway_bad_lines(current, t, cal)
    plant_service_bad_lines(services, t, cal)
    return {
        FILE_EU_ROTATED: ("A", rotated),
        FILE_EU: ("A", current),
        FILE_US: ("B", us),
        FILE_SERVICES: ("C", services),
    }


def file_periods(cal: Calendar) -> dict[str, tuple[int, int]]:
    """[begin, end) of the period each file covers, in epoch milliseconds."""
    return {
        FILE_EU_ROTATED: (cal.start_ms, cal.current_week_ms),
        FILE_EU: (cal.current_week_ms, cal.end_ms),
        FILE_US: (cal.start_ms, cal.end_ms),
        FILE_SERVICES: (cal.start_ms, cal.end_ms),
        FILE_EDGE: (cal.start_ms, cal.end_ms),
        FILE_MESH: (cal.start_ms, cal.end_ms),
    }


def write_file(path: Path, lines: list[Line]) -> None:
    data = b"".join(line.raw + b"\n" for line in lines)
    if path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=9, mtime=0)  # mtime=0: reproducible
    path.write_bytes(data)


def read_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    assert data.endswith(b"\n"), f"{path.name} must end with a newline"
    return data[:-1].split(b"\n")
