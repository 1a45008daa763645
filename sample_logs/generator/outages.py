"""Outages (§6.4-7): every route fails with 500 for a while, and clients retry."""

from __future__ import annotations

import random

from .clock import MS_SECOND
from .failures import FailureSpec, fail
from .traffic import Request, Traffic

SERVER_ERROR_CODES = (("internal_error", 70), ("server_error", 25), ("", 5))  # §4 item 1
UPSTREAM_ERRORS = (
    "pq: remaining connection slots are reserved for non-replication superuser connections",
    "context deadline exceeded",
    "dial tcp 10.0.3.17:5432: connect: connection refused",
)


def outage_requests(
    t: Traffic, name: str, begin: int, seconds: int, arrivals: int
) -> list[Request]:
    """Requests of the scenario ``name``: ``arrivals`` callers during ``seconds`` from ``begin``.

    Scripts retry with exponential backoff and jitter (1 s, 2 s, 4 s …), people
    click again once, and Terraform does not retry at all: the provider only
    retries 429/502/503/504 (§2). A retry after the window succeeds.
    """
    end = begin + seconds * MS_SECOND
    requests = []
    for _ in range(arrivals):
        ts = begin + t.rng.randrange(seconds * MS_SECOND)
        org = t.pick_org(t.pick_region())
        spec = t.pick_route()
        client = t.pick_client(org, spec.audience, ts)
        retries = {"script": 3, "dashboard": t.rng.randint(0, 1), "terraform": 0}[client.kind]
        params, query = None, t.list_query(spec, ts)
        for attempt in range(retries + 1):
            failure = _server_error(t.rng) if ts <= end else None
            req = t.request(
                ts,
                org,
                client,
                spec,
                failure=failure,
                params=params,
                query=query,
                scenario=name,
                trace_extra={"error": t.rng.choice(UPSTREAM_ERRORS)} if failure else {},
            )
            requests.append(req)
            params = req.params
            if failure is None:
                break
            backoff = MS_SECOND * 2**attempt
            ts += (
                backoff + t.rng.randrange(backoff)
                if client.kind == "script"
                else t.rng.randint(3_000, 8_000)
            )
    requests.sort(key=lambda r: r.ts)
    return requests


def _server_error(rng: random.Random) -> FailureSpec:
    """§4 item 1: the live 500 ``code`` is unknown, so vary it; the type is stable."""
    code = rng.choices([c for c, _ in SERVER_ERROR_CODES], [w for _, w in SERVER_ERROR_CODES])[0]
    return fail("internal_error", code, 500, "unhandled error", "An unexpected error occurred")
