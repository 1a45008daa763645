"""How a record is written in each log shape (sample_logs/README.md):

A, flat camelCase (EU gateway); B, nested snake_case (US gateway); C, a Docker json-file
wrapper around a backend's log line (services). D (Envoy) and E (combined text) belong to
servers beside the API and are written with their traffic, in mesh.py and edge.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .clock import iso_nanos, iso_offset, iso_z
from .traces import TraceEvent
from .traffic import Request


def dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def shape_a(req: Request, timestamp: str | None = None) -> dict:
    """Flat camelCase (EU gateway). ``route`` is left out on ~20 % of lines."""
    record = {
        "timestamp": timestamp or iso_z(req.ts),
        "service": "api-gateway",
        "requestId": req.request_id,
        "orgId": req.org_id,
        "apiKeyId": req.api_key_id,
        "actorUserId": req.actor_user_id,
        "method": req.spec.method,
        "path": req.path,
        "route": req.spec.route,
        "statusCode": req.status,
        "durationMs": max(1, round(req.duration_ms)),
        "userAgent": req.user_agent,
        "clientIp": req.client_ip,
        "error": req.error,
    }
    if req.omit_route:
        del record["route"]
    return record


def shape_b(req: Request) -> dict:
    """Nested snake_case (US gateway); the error body travels as a JSON *string*."""
    level = "error" if req.status >= 500 else "warn" if req.status >= 400 else "info"
    time_field = {"ts": req.ts} if req.epoch_ts else {"@timestamp": iso_offset(req.ts)}
    return {
        **time_field,
        "level": level,
        "service": "api-gateway-us",
        "request": {
            "id": req.request_id,
            "method": req.spec.method,
            "path": req.path,
            "user_agent": req.user_agent,
            "client_ip": req.client_ip,
        },
        "response": {"status": req.status, "duration_ms": req.duration_ms},
        "org": {"id": req.org_id},
        "api_key_id": req.api_key_id,
        "response_body": None if req.error is None else dumps(req.error),
    }


def shape_c(event: TraceEvent) -> dict:
    """Docker json-file record wrapping one app log line (JSON or plain text)."""
    log = event.text if event.inner is None else dumps(event.inner) + "\n"
    return {"log": log, "stream": event.stream, "time": iso_nanos(event.ns)}


@dataclass
class Line:
    """One output line and what it is meant to be (checked against the bytes later)."""

    raw: bytes
    kind: str  # request | trace | other | blank | bad
    reason: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Hit:
    """A request to a server beside the API gateways (the docs edge, the status service), as
    the manifest counts it. ``method`` and ``route`` are None when the request line is junk."""

    method: str | None
    route: str | None
    status: int


def record_line(obj: dict, kind: str) -> Line:
    return Line(dumps(obj).encode("utf-8"), kind)
