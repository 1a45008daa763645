"""A plain Python reading of the shipped sample logs: the independent side of the checks.

It knows the five shapes the generator writes (sample_logs/README.md) and nothing of
triage's SQL, so tests can compare what triage computes with what the files say. Only the API
gateways' lines carry error bodies and orgs; the docs edge's and the status service's lines
are requests too, and a junk request line on the edge has no method, route or request id.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

SAMPLE_LOGS = Path(__file__).resolve().parent.parent / "sample_logs"
_ID = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+|[a-z]+_[a-z0-9]*\d[a-z0-9]*)$",
    re.I,
)


# nginx combined, with X-Forwarded-For and $request_time after it (shape E)
_COMBINED = re.compile(r'^\S+ \S+ \S+ \[([^\]]+)\] "((?:[^"\\]|\\.)*)" ([0-9]{3}) (?:[0-9]+|-) "')
_REQUEST_LINE = re.compile(r"^([A-Z]+) (\S+)(?: HTTP/[0-9.]+)?$")


@dataclass(frozen=True)
class Request:
    request_id: str | None
    ts: datetime
    method: str | None
    route: str | None
    status: int
    org: str | None
    body: dict | None  # the error body as logged
    shape: str = "triage"  # the log shape: the API's own, or "envoy" (D) / "combined" (E)


def _route(path: str) -> str:
    path = path.split("?", 1)[0].split("#", 1)[0]
    return "/".join("{id}" if _ID.match(seg) else seg for seg in path.split("/"))


def _ts(value) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _lines(name: str):
    path = SAMPLE_LOGS / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rb") as fh:
        for raw in fh:
            try:
                yield json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                continue


@cache
def requests() -> tuple[Request, ...]:
    out = []
    for name in ("gateway-eu.1.ndjson.gz", "gateway-eu.ndjson"):  # shape A
        for rec in _lines(name):
            if not isinstance(rec, dict) or "statusCode" not in rec:
                continue
            try:
                ts = _ts(rec["timestamp"])
            except (KeyError, ValueError):
                continue  # the bad lines the generator planted
            out.append(
                Request(
                    rec["requestId"],
                    ts,
                    rec["method"],
                    _route(rec["path"]),
                    int(rec["statusCode"]),
                    rec.get("orgId"),
                    rec.get("error"),
                )
            )
    for rec in _lines("gateway-us.ndjson"):  # shape B
        body = json.loads(rec["response_body"]) if rec.get("response_body") else None
        ts = _ts(rec["@timestamp"] if "@timestamp" in rec else rec["ts"])
        out.append(
            Request(
                rec["request"]["id"],
                ts,
                rec["request"]["method"],
                _route(rec["request"]["path"]),
                int(rec["response"]["status"]),
                (rec.get("org") or {}).get("id"),
                body,
            )
        )
    for rec in _lines("mesh-envoy.ndjson"):  # shape D
        out.append(
            Request(
                rec["request_id"],
                _ts(rec["start_time"]),
                rec["method"],
                _route(rec["path"]),
                int(rec["response_code"]),
                None,
                None,
                "envoy",
            )
        )
    for line in (SAMPLE_LOGS / "edge-nginx.log").read_text().splitlines():  # shape E
        time, request, status = _COMBINED.match(line).groups()
        target = _REQUEST_LINE.match(request)
        out.append(
            Request(
                None,
                datetime.strptime(time, "%d/%b/%Y:%H:%M:%S %z").astimezone(UTC),
                target and target[1],
                target and _route(target[2]),
                int(status),
                None,
                None,
                "combined",
            )
        )
    return tuple(out)


def failures() -> list[Request]:
    return [r for r in requests() if r.status >= 400 or r.body]


def type_and_code(r: Request) -> tuple[str | None, str | None]:
    """The error type and code a failure is grouped by: (None, None) without an error body,
    as for the edge's and the sidecar's failures."""
    body = r.body or {}
    return body.get("type"), body.get("code")
