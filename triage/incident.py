"""Incident summaries: a window of failures, its impact against a baseline, its timeline.

`--auto` picks the worst burst of failures in a range, for the whole API or one route
family (a route up to its first parameter). A burst is found by counting failures, and
server errors, in windows of 1, 5, 15 and 60 minutes against what the range's own rate
expects of each window's requests: at least MIN_COUNT, FACTOR times the expectation, and
less likely than ALPHA by chance (a Poisson tail); hot windows merge across gaps of up to
GAP_MINUTES quiet minutes. The same rule finds a 40-minute storm in a small log and a
2-minute spike in a big one. A burst that one org or one API key explains (without its
failures, what is left is no burst) is a customer-side problem, not an outage. The weekly
report uses the same detection.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from triage import labels
from triage.exceptions import TriageError

if TYPE_CHECKING:  # the store (and duckdb) load only when a command opens one
    from triage.store import Store

MIN_COUNT = 5
FACTOR = 3.0
ALPHA = 0.001
WINDOWS = (1, 5, 15, 60)
GAP_MINUTES = 2
BURST_RULE = (
    f"failures (or server errors) in a window of {', '.join(map(str, WINDOWS[:-1]))} or "
    f"{WINDOWS[-1]} minutes, at least {MIN_COUNT}, at least {FACTOR:g}× what the period's "
    f"own rate expects of the window's requests, and less likely by chance (Poisson) than "
    f"{ALPHA:g} divided by the number of windows tested, so that a whole period of ordinary "
    f"traffic raises a false alarm less often than {ALPHA:g}; for the whole API and for each "
    f"route family; hot windows merge across gaps of up to {GAP_MINUTES} quiet minutes"
)
# (each window is tested at ALPHA over the number of tests, in SQL: Bonferroni)
_DETECTION = {"min_count": MIN_COUNT, "factor": FACTOR, "ln_alpha": math.log(ALPHA)}


class NoBurst(TriageError):
    """--auto found no burst of failures in the range: an answer, said as an error by the
    command line (there is no summary to print), as a page of its own by `triage serve`."""


def stage_minutes(store: Store, since: dt.datetime, until: dt.datetime) -> None:
    """Count requests per route and minute once; the detection reads these counts (and the
    weekly report, which also reads requests_per_minute itself)."""
    store.run("stage_burst_minutes", {"since": since, "until": until})


def find_bursts(store: Store, since: dt.datetime, until: dt.datetime) -> list[dict]:
    """Every burst in the minutes staged for since..until, of the whole API (scope "") and
    of each route family, most excess failures first."""
    return store.rows(
        "detect_bursts", {**_DETECTION, "gap_minutes": GAP_MINUTES, "ln_gap": math.log(ALPHA)}
    )


def distinct_bursts(bursts: list[dict]) -> list[dict]:
    """The bursts that are incidents of their own: the whole API's, and a route family's
    only when no burst of the whole API overlaps it (that one already tells its story)."""
    api = [b for b in bursts if not b["scope"]]
    return [
        b
        for b in bursts
        if not b["scope"] or not any(a["start"] < b["end"] and b["start"] < a["end"] for a in api)
    ]


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
    family: str | None = None  # a route family's incident, or the whole API's
    customer: dict | None = None  # the one org or key that explains it, if one does
    burst: dict | None = None  # what detection found (--auto)

    def as_dict(self) -> dict:
        minutes = (self.until - self.since).total_seconds() / 60
        return {
            "start": self.since,
            "end": self.until,
            "duration_minutes": round(minutes, 1),
            "scope": self.family or "the Scaling API",
            "family": self.family,
            "detected": self.detected,
            "burst": self.burst,
            "customer_side": self.customer,
            "impact": self.impact,
            "codes": self.codes,
            "routes": self.routes,
            "timeline": self.timeline,
            "bucket_minutes": self.bucket_minutes,
            "burst_rule": BURST_RULE,
        }


def summarize(
    store: Store,
    since: dt.datetime | None,
    until: dt.datetime | None,
    auto: bool = False,
    family: str | None = None,
    burst: dict | None = None,
) -> Incident:
    """One window's incident summary (of one route family's requests when `family` is
    given); with `auto`, the worst burst between since and until."""
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
        bursts = find_bursts(store, since, until)
        if not bursts:
            raise NoBurst(
                f"no burst of failures between {since:%Y-%m-%d %H:%M} and "
                f"{until:%Y-%m-%d %H:%M} UTC ({BURST_RULE}); pass --since and "
                "--until to summarise a window yourself"
            )
        return _worst_outage(store, bursts)
    minutes = max(1, int((until - since).total_seconds() // 60))
    baseline = max(60, minutes)
    window = {"since": since, "until": until, "family": family}
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
            store.one("incident_impact", {**window, "baseline_minutes": baseline}),
            strict=True,
        )
    )
    impact["baseline_minutes"] = baseline
    impact["failure_rate"] = _rate(impact["failures"], impact["requests"])
    impact["baseline_failure_rate"] = _rate(
        impact["baseline_failures"], impact["baseline_requests"]
    )
    rows = store.rows("incident_breakdown", window)
    found = store.examples_at([i for r in rows for i in r["example_rows"]])
    breakdown = [_breakdown_row(r, found) for r in rows]
    bucket = 1 if minutes <= 120 else 5 if minutes <= 600 else 60
    timeline = store.rows("incident_timeline", {**window, "bucket_minutes": bucket})
    return Incident(
        since,
        until,
        impact,
        [b for b in breakdown if b["dimension"] == "code"],
        [b for b in breakdown if b["dimension"] == "route"][:10],
        timeline,
        bucket,
        auto,
        family,
        _customer(store, window, impact),
        _burst_facts(burst) if burst else None,
    )


def _worst_outage(store: Store, bursts: list[dict], looked_at: int = 5) -> Incident:
    """The worst burst that is not one customer's problem (of the worst few), else the
    worst: a support lead asking what went wrong wants the outage, not one revoked key."""
    first = None
    for burst in bursts[:looked_at]:
        found = summarize(
            store, burst["start"], burst["end"], family=burst["scope"] or None, burst=burst
        )
        found.detected = True
        if found.customer is None:
            return found
        first = first or found
    assert first is not None  # bursts is never empty here
    return first


def _customer(store: Store, window: dict, impact: dict) -> dict | None:
    """The one API key (or else org) whose failures are most of the window's and without
    which the rest is no burst against the baseline before it: a customer-side problem.
    (One window, one test: the rest is tested at ALPHA itself.) Server errors are the
    API failing, whoever sent the requests: a burst mostly of them is never the customer's."""
    if impact["server_errors"] * 2 >= impact["failures"]:
        return None
    expected = impact["requests"] * (impact["baseline_failure_rate"] or 0)
    store.run("stage_window_customers", window)
    row = store.rows("incident_concentration", {**window, **_DETECTION, "expected": expected})[0]
    total = row["failures"]
    for kind in ("key", "org"):
        n = row[f"{kind}_failures"]
        if total and n * 2 >= total and not row[f"burst_without_{kind}"]:
            return {
                "kind": kind,
                "org_id": row["key_org_id"] if kind == "key" else row["org_id"],
                "api_key_id": row["api_key_id"] if kind == "key" else None,
                "failures": n,
                "of_failures": total,
                "share": round(n / total, 4),
            }
    return None


def _burst_facts(burst: dict) -> dict:
    """What detection saw: the failures its baseline expected, and how unlikely the burst
    was by chance (an upper bound)."""
    ln_tail = burst["ln_tail"]
    return {
        "failures": burst["failures"],
        "expected_failures": burst["expected_failures"],
        "chance_at_most": None if ln_tail is None else float(f"{math.exp(ln_tail):.3g}"),
    }


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
