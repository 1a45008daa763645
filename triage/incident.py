"""Incident summaries: a window of failures, its impact against a baseline, its timeline.

`--auto` picks the worst burst of failures in a range. A burst is a run of minutes whose
failures are at least MIN_FAILURES and FACTOR times the range's median failures per minute,
merged across gaps of up to GAP_MINUTES; the worst has the most failures above that median.
The weekly report uses the same detection.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from triage import labels
from triage.exceptions import TriageError

if TYPE_CHECKING:  # the store (and duckdb) load only when a command opens one
    from triage.store import Store

MIN_FAILURES = 5
FACTOR = 5.0
GAP_MINUTES = 2
BURST_RULE = (
    f"a burst is a run of minutes with at least {MIN_FAILURES} failures and at least "
    f"{FACTOR:g}× the period's median failures per minute, merged across gaps of up to "
    f"{GAP_MINUTES} minutes"
)


MIN_ROUTE_SERVER_ERRORS = 3
ROUTE_RULE = (
    f"a route's burst is a run of minutes with at least {MIN_ROUTE_SERVER_ERRORS} server errors "
    f"on it, or at least {MIN_FAILURES} failures and {FACTOR:g}× its median failures per minute"
)


def stage_minutes(store: Store, since: dt.datetime, until: dt.datetime) -> None:
    """Count requests per route and minute once; both burst detections read these counts
    (and the weekly report, which also reads requests_per_minute itself)."""
    store.run("stage_burst_minutes", {"since": since, "until": until})


def find_bursts(store: Store) -> list[dict]:
    """Whole-API bursts in the staged minutes, worst first."""
    return store.rows(
        "failure_bursts",
        {"min_failures": MIN_FAILURES, "factor": FACTOR, "gap_minutes": GAP_MINUTES},
    )


def find_route_bursts(store: Store, limit: int = 10) -> list[dict]:
    """Bursts on single routes in the staged minutes, most failures first."""
    return store.rows(
        "route_bursts",
        {
            "min_failures": MIN_FAILURES,
            "factor": FACTOR,
            "min_server_errors": MIN_ROUTE_SERVER_ERRORS,
            "gap_minutes": GAP_MINUTES,
            "limit": limit,
        },
    )


@dataclass
class Incident:
    since: dt.datetime
    until: dt.datetime
    impact: dict
    codes: list[dict]
    routes: list[dict]
    timeline: list[dict]
    bucket_minutes: int
    detected: bool  # chosen by --auto

    def as_dict(self) -> dict:
        minutes = (self.until - self.since).total_seconds() / 60
        return {
            "start": self.since,
            "end": self.until,
            "duration_minutes": round(minutes, 1),
            "detected": self.detected,
            "impact": self.impact,
            "codes": self.codes,
            "routes": self.routes,
            "timeline": self.timeline,
            "bucket_minutes": self.bucket_minutes,
            "burst_rule": BURST_RULE,
        }


def summarize(
    store: Store, since: dt.datetime | None, until: dt.datetime | None, auto: bool = False
) -> Incident:
    if since is None or until is None:
        first, last = store.one("store_range")[:2]
        if first is None:
            raise TriageError(store.why_no_requests())
        since = since or first
        until = until or last + dt.timedelta(seconds=1)
    if until <= since:
        raise TriageError("--until must come after --since")
    if auto:
        stage_minutes(store, since, until)
        bursts = find_bursts(store)
        if not bursts:
            raise TriageError(
                f"no burst of failures between {since:%Y-%m-%d %H:%M} and "
                f"{until:%Y-%m-%d %H:%M} UTC ({BURST_RULE}); pass --since and "
                "--until to summarise a window yourself"
            )
        since, until = bursts[0]["start"], bursts[0]["end"]
    minutes = max(1, int((until - since).total_seconds() // 60))
    baseline = max(60, minutes)
    impact = dict(
        zip(
            (
                "requests",
                "failures",
                "server_errors",
                "orgs_affected",
                "keys_affected",
                "baseline_requests",
                "baseline_failures",
            ),
            store.one(
                "incident_impact", {"since": since, "until": until, "baseline_minutes": baseline}
            ),
            strict=True,
        )
    )
    impact["baseline_minutes"] = baseline
    impact["failure_rate"] = _rate(impact["failures"], impact["requests"])
    impact["baseline_failure_rate"] = _rate(
        impact["baseline_failures"], impact["baseline_requests"]
    )
    rows = store.rows("incident_breakdown", {"since": since, "until": until})
    found = store.examples_at([i for r in rows for i in r["example_rows"]])
    breakdown = [_breakdown_row(r, found) for r in rows]
    bucket = 1 if minutes <= 120 else 5 if minutes <= 600 else 60
    timeline = store.rows(
        "incident_timeline", {"since": since, "until": until, "bucket_minutes": bucket}
    )
    return Incident(
        since,
        until,
        impact,
        [b for b in breakdown if b["dimension"] == "code"],
        [b for b in breakdown if b["dimension"] == "route"][:10],
        timeline,
        bucket,
        auto,
    )


def _breakdown_row(r: dict, found: dict) -> dict:
    """A code or route row as the summary shows it: a code row keyed `type / code`, its
    examples read from the rows they name (found: Store.examples_at)."""
    type_name, code, bare = r.pop("type"), r.pop("code"), r.pop("bare")
    if r["dimension"] == "code":
        r["key"] = labels.failure_key(type_name, code, r["status"], bare)
    r["examples"] = [found[i] for i in r.pop("example_rows")]
    return r


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
