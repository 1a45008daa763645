"""The status service's Istio sidecar (shape D): Envoy's access log in Istio's default JSON
encoding, for ``status-svc``, which answers the public status page (GET /v1/status) and the
kubelet's probes (GET /healthz).

Envoy writes a line when a request completes, so lines are in order of completion, not of
``start_time``; Istio's encoder does not keep key order, and it writes every field of its
format, null when unset. When the API's backends are down (the outages of outages.py), the
sidecar has no healthy upstream for a moment: a few 503 ``UH``, and one status page poll
that gives up before an answer (response code 0, ``DC``).
"""

from __future__ import annotations

import random

from .clock import MS_DAY, MS_SECOND, Calendar, iso_z
from .ids import Ids
from .shapes import Hit, Line, dumps

POLLS_PER_DAY = 12  # the sidecar's access log is sampled (Telemetry API) to a few an hour
PROBES_PER_DAY = 7
POD_IP = "10.44.2.17"
NODE_IP = "10.44.2.1"  # the kubelet probes from its node's address
STATUS_PAGE_IP = "10.44.5.9"
CLUSTER = "inbound|8080||"
AUTHORITY = "status-svc.platform.svc.cluster.local:8080"
STATUS_PAGE_AGENT = "statuspage-poller/1.4 (+https://status.scaling.example)"
PROBE_AGENT = "kube-probe/1.29"
NO_HEALTHY_UPSTREAM = 4  # per outage window
ALWAYS_NULL = (
    "connection_termination_details",
    "upstream_transport_failure_reason",
    "requested_server_name",
)


def mesh_log(
    rng: random.Random, ids: Ids, cal: Calendar, outages: list[tuple[int, int]]
) -> tuple[list[Line], list[Hit]]:
    """The sidecar's lines in the order Envoy wrote them, and the requests they record."""
    records = []
    for day in range(cal.days):
        day_ms = cal.start_ms + day * MS_DAY
        records += [_poll(rng, ids, day_ms + rng.randrange(MS_DAY)) for _ in range(POLLS_PER_DAY)]
        for _ in range(PROBES_PER_DAY):
            # liveness and readiness probes fire together: their lines interleave
            ts = day_ms + rng.randrange(MS_DAY)
            records += [_probe(rng, ids, ts), _probe(rng, ids, ts + rng.randrange(30))]
    for begin, end in outages:
        span = max(end - begin, MS_SECOND)
        records += [
            _poll(rng, ids, begin + rng.randrange(span), "no_healthy_upstream")
            for _ in range(NO_HEALTHY_UPSTREAM)
        ]
    begin, end = outages[0]
    records.append(_poll(rng, ids, begin + rng.randrange(max(end - begin, 1)), "disconnect"))
    # written at completion, a few ms of flushing apart
    records.sort(key=lambda r: r[0] + r[1]["duration"] + rng.randrange(5))
    lines = [Line(dumps(_shuffled(rng, record)).encode(), "request") for _, record in records]
    hits = [Hit("GET", r["path"], r["response_code"]) for _, r in records]
    return lines, hits


def _poll(rng: random.Random, ids: Ids, ts: int, fault: str = "") -> tuple[int, dict]:
    record = _record(rng, ids, ts, "/v1/status", "HTTP/2", STATUS_PAGE_AGENT)
    record["x_forwarded_for"] = STATUS_PAGE_IP
    # inbound traffic reaches the app through the sidecar from Istio's passthrough address
    record["downstream_remote_address"] = f"127.0.0.6:{rng.randint(32768, 60999)}"
    record["authority"] = AUTHORITY
    if fault == "no_healthy_upstream":
        record.update(
            response_code=503,
            response_flags="UH",
            response_code_details="no_healthy_upstream",
            duration=0,
            upstream_service_time=None,
            upstream_host=None,
            bytes_sent=19,  # "no healthy upstream"
        )
    elif fault == "disconnect":
        record.update(
            response_code=0,
            response_flags="DC",
            response_code_details="downstream_remote_disconnect",
            duration=rng.randint(5_000, 15_000),  # the poller's own timeout
            upstream_service_time=None,
            bytes_sent=0,
        )
    return ts, record


def _probe(rng: random.Random, ids: Ids, ts: int) -> tuple[int, dict]:
    record = _record(rng, ids, ts, "/healthz", "HTTP/1.1", PROBE_AGENT)
    record["downstream_remote_address"] = f"{NODE_IP}:{rng.randint(32768, 60999)}"
    record["authority"] = f"{POD_IP}:8080"
    record["bytes_sent"] = 2  # "ok"
    return ts, record


def _record(rng: random.Random, ids: Ids, ts: int, path: str, protocol: str, agent: str) -> dict:
    """A successful request's fields, every key of Istio's default format."""
    served = rng.randint(1, 12)
    return {
        "start_time": iso_z(ts),
        "method": "GET",
        "path": path,
        "protocol": protocol,
        "response_code": 200,
        "response_flags": "-",
        "response_code_details": "via_upstream",
        "duration": served + rng.randint(0, 2),
        "upstream_service_time": str(served),
        "request_id": ids.uuid4(),
        "x_forwarded_for": None,
        "downstream_remote_address": None,
        "downstream_local_address": f"{POD_IP}:8080",
        "user_agent": agent,
        "authority": None,
        "bytes_received": 0,
        "bytes_sent": rng.randint(480, 520),
        "upstream_host": f"{POD_IP}:8080",
        "upstream_cluster": CLUSTER,
        "upstream_local_address": f"127.0.0.6:{rng.randint(32768, 60999)}",
        "route_name": "default",
        **dict.fromkeys(ALWAYS_NULL),
    }


def _shuffled(rng: random.Random, record: dict) -> dict:
    keys = list(record)
    rng.shuffle(keys)
    return {k: record[k] for k in keys}
