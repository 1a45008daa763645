"""Backend trace events: what the services log about a request, and their own plain-text lines.

Each becomes a shape-C line (see shapes.py): a Docker json-file record wrapping the app's
JSON log line, or a plain-text line for boots, the deploy and the outage restarts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .clock import MS_HOUR, MS_MINUTE, Calendar, iso_z
from .routes import RESOURCES
from .traffic import Request

REQ_ID_ALIAS_SHARE = 0.02  # shape-C inner logs that say "req_id", not "request_id"
AUTH_TRACE_SHARE = 0.50  # traced requests whose trace starts with an auth-svc event
NOTIFY_CHANNELS = ("slack", "email", "sms", "push")


@dataclass
class TraceEvent:
    ns: int  # Docker's capture time, a little after the app's own "time"
    inner: dict | None  # the app's JSON log line, or None for plain text
    text: str = ""
    stream: str = "stdout"


def trace_steps(rng: random.Random, req: Request) -> list[tuple[str, str, str, dict]]:
    """(service, level, msg, extra fields) for one request: auth, the handler, notify."""
    failure = req.failure
    if failure is not None and failure.type == "not_authorized_error":
        return [("auth-svc", "warn", failure.trace_msg, dict(req.trace_extra))]
    steps = []
    if rng.random() < AUTH_TRACE_SHARE:
        steps.append(
            ("auth-svc", "info", "api key verified", {"key_id": req.api_key_id})
            if req.api_key_id
            else ("auth-svc", "info", "session verified", {"user_id": req.actor_user_id})
        )
    fields = {RESOURCES[name][2]: value for name, value in req.params.items()}
    if failure is None:
        steps.append((req.spec.service, "info", req.spec.ok_msg, {**fields, **req.trace_extra}))
        if req.spec.notify:
            steps.append(
                ("notify-worker", "info", req.spec.notify, {"channel": rng.choice(NOTIFY_CHANNELS)})
            )
    else:
        level = "error" if req.status >= 500 else "warn"
        fields["error_code"] = failure.code or failure.type
        steps.append((req.spec.service, level, failure.trace_msg, {**fields, **req.trace_extra}))
    return steps


def trace_events(rng: random.Random, req: Request) -> list[TraceEvent]:
    """Events a few ms after the request start, inside its duration."""
    steps = trace_steps(rng, req)
    span = max(2, int(req.duration_ms))
    offsets = sorted(rng.sample(range(1, span), k=min(len(steps), span - 1)))
    events = []
    for offset, (service, level, msg, extra) in zip(offsets, steps, strict=False):
        ms = req.ts + offset
        id_key = "req_id" if rng.random() < REQ_ID_ALIAS_SHARE else "request_id"
        inner = {
            "time": iso_z(ms),
            "level": level,
            "service": service,
            id_key: req.request_id,
            "msg": msg,
            **extra,
        }
        if "authorization" in extra:
            inner["level"] = "debug"
        events.append(
            TraceEvent(
                ms * 1_000_000 + rng.randrange(20_000, 900_000),
                inner,
                stream="stderr" if level == "error" else "stdout",
            )
        )
    return events


BOOT_LINES = (
    "incidents-svc listening on :8080",
    "oncall-svc listening on :8080",
    "auth-svc listening on :8080",
    "worker started",
    "connected to postgres (pool=20)",
    "connected to redis",
)


def lifecycle_events(
    rng: random.Random, cal: Calendar, outages: dict[str, tuple[int, int]]
) -> list[TraceEvent]:
    """Plain-text (non-JSON) container lines: boots, the deploy, the outage restarts."""
    burst_begin, burst_end = outages["internal_error_burst"]
    _, blip_end = outages["internal_error_blip"]
    lines = []
    for week_start in (cal.start_ms, cal.current_week_ms):
        boot = week_start + 6 * MS_HOUR + 2 * MS_MINUTE
        lines += [(boot + i * 1_700, text, "stdout") for i, text in enumerate(BOOT_LINES)]
    lines += [
        (blip_end + 2_100, "pg: connection reset by peer, reconnecting", "stderr"),
        (blip_end + 5_600, "pg: reconnected", "stdout"),
        (burst_begin - 4_000, "pg pool exhausted (size=20, waiting=143)", "stderr"),
        (burst_end + 4_200, "received SIGTERM, draining connections", "stdout"),
        (burst_end + 6_900, "shutdown complete", "stdout"),
        (burst_end + 12_300, "incidents-svc listening on :8080", "stdout"),
        (burst_end + 12_800, "connected to postgres (pool=40)", "stdout"),
        (burst_end + 14_000, "worker started", "stdout"),
    ]
    return [
        TraceEvent(ms * 1_000_000 + rng.randrange(1_000_000), None, text + "\n", stream)
        for ms, text, stream in lines
    ]
