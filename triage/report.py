"""The weekly error report: what failed last week, what is new, what got worse, who was hit,
and whether the data behind it can be trusted.

A pure function of the store, the queries and the templates: the same store gives the same
report, byte for byte (no "generated at" unless asked for). The two weeks compared are staged
once in temporary tables (queries/report.sql); every section reads those.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from triage import catalog, labels
from triage.contract import check_contract
from triage.exceptions import TriageError
from triage.incident import (
    BURST_RULE,
    distinct_bursts,
    find_bursts,
    stage_minutes,
    summarize,
)
from triage.timespec import now, utc_offsets, zone

if TYPE_CHECKING:  # the store (and duckdb) load only when a command opens one
    from triage.store import Store

# a previous week with data in less than this share of its hours is no baseline for
# week-over-week deltas
BASELINE_MIN_SHARE = 0.9
UP_SHARPLY = 2.0  # a code at least this many times last week's count (and 5 more) is "up sharply"


def local_hours(start: dt.datetime, end: dt.datetime, tz: str) -> list[dt.datetime]:
    """The local hours from start to end, in order, each as the local time it first begins
    at. Walked in real time by quarter hours, as the queries count (every offset and every
    clock change is a whole number of them): a week holds 168 hours, or 167 when the clocks
    go forward an hour; the hour the clocks go back happens twice but is one hour here."""
    hours: dict[tuple[str, int], dt.datetime] = {}
    at = start
    while at < end:
        local = at.astimezone(zone(tz))
        hours.setdefault(hour_key(local), local)
        at += dt.timedelta(minutes=15)
    return list(hours.values())


def hour_key(at: dt.datetime) -> tuple[str, int]:
    """A local hour as the report's queries name it: (day, hour)."""
    return at.date().isoformat(), at.hour


def week_bounds(year: int, week: int, tz: str) -> tuple[dt.datetime, dt.datetime]:
    """Monday 00:00 to the next Monday 00:00, in the report's time zone, as UTC instants."""
    monday = dt.date.fromisocalendar(year, week, 1)
    start = dt.datetime.combine(monday, dt.time(), tzinfo=zone(tz))
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), tzinfo=zone(tz))
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def last_complete_week(store: Store, tz: str) -> tuple[int, int]:
    """The latest week that is over by now and whose end the store's requests reach (within
    an hour). A line dated in the future does not count."""
    at = now()
    last = store.one("last_request_before", {"now": at})[0]
    if last is None:
        raise TriageError(store.why_no_requests())
    reach = min(last + dt.timedelta(hours=1), at).astimezone(zone(tz))
    monday = reach.date() - dt.timedelta(days=reach.weekday())
    year, week, _ = (monday - dt.timedelta(days=7)).isocalendar()
    return year, week


def _change(now: int, before: int | None) -> float | None:
    if before is None or before == 0:
        return None
    return round((now - before) / before, 4)


def weekly(store: Store, week: tuple[int, int] | None = None, tz: str = "UTC") -> dict:
    """The report as data."""
    year, number = week or last_complete_week(store, tz)
    start, end = week_bounds(year, number, tz)
    # the previous ISO week's own bounds: 7 x 24 hours back is off by one when clocks change
    prev_year, prev_number, _ = (
        dt.date.fromisocalendar(year, number, 1) - dt.timedelta(7)
    ).isocalendar()
    prev_start = week_bounds(prev_year, prev_number, tz)[0]
    prev_hours = len(local_hours(prev_start, start, tz))
    starts, offsets = utc_offsets(tz, prev_start, end)
    local = {"offset_starts": starts, "utc_offsets": offsets}  # local days and hours, in SQL
    store.run("report_unordered_staging")
    try:
        stage_minutes(store, start, end)  # this week per route and minute: counts, incidents
        store.run("report_stage_counts", {"prev_start": prev_start, "start": start, **local})
        store.run("report_stage_failures", {"start": start, "end": end, "prev_start": prev_start})
    finally:
        store.run("report_ordered_again")
    headline = {r["week"]: r for r in store.rows("report_headline")}
    this, prev = headline["this"], headline["prev"]
    baseline_ok = prev["hours_with_data"] >= BASELINE_MIN_SHARE * prev_hours
    if prev["hours_with_data"] == 0:
        baseline = "no data for the previous week: no week-over-week changes"
    elif not baseline_ok:
        baseline = (
            f"the previous week has data in only {prev['hours_with_data']} of "
            f"{prev_hours} hours: week-over-week changes are left out"
        )
    else:
        baseline = None

    def measure(key: str) -> dict:
        value = this[key]
        before = prev[key] if baseline_ok else None
        return {"value": value, "previous": before, "change": _change(value, before)}

    codes = _codes(store, baseline_ok)
    daily = _daily(
        store.rows(
            "report_daily",
            {**local, "start": start, "end": end, "no_error_body": labels.NO_ERROR_BODY},
        ),
        start,
        tz,
    )
    hourly = store.rows("report_hourly")
    top = store.rows("report_top", {"limit": 5})
    rate = this["failures"] / this["requests"] if this["requests"] else None
    prev_rate = prev["failures"] / prev["requests"] if baseline_ok and prev["requests"] else None
    report = {
        "week": f"{year}-W{number:02d}",
        "tz": tz,
        "start": start,
        "end": end,
        "baseline_note": baseline,
        "headline": {
            "requests": measure("requests"),
            "failures": measure("failures"),
            "failure_rate": {
                "value": _round(rate),
                "previous": _round(prev_rate),
                "change": _round(rate - prev_rate)
                if rate is not None and prev_rate is not None
                else None,
            },
            "server_errors": measure("server_errors"),
            "orgs_affected": measure("orgs_affected"),
        },
        "codes": codes,
        "routes": _routes(store.rows("report_routes", {"limit": 10})),
        "top_orgs": [r for r in top if r["dimension"] == "org"],
        "top_keys": [r for r in top if r["dimension"] == "key"],
        "daily": daily,
        "hourly": hourly,
        **_incidents(store, start, end),
        "incident_rule": BURST_RULE,
        "contract": check_contract(store, tz=tz, examples=1, staged=True),
    }
    report["data_quality"] = _data_quality(store, report, start, end, tz)
    report["coverage_note"] = _coverage_note(store, report)
    return report


def _coverage_note(store: Store, report: dict) -> str | None:
    """Say it loudly when the week has no data, or holes: a '0 errors' report must not lie."""
    missing = report["data_quality"]["hours_without_data"]
    hours = report["data_quality"]["hours_in_week"]
    if missing == hours:
        first, last = store.one("store_range")[:2]
        covers = f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC" if first else "nothing"
        return (
            f"the store holds no requests for this week (it covers {covers}): "
            "this report shows missing data, not a week without errors"
        )
    if missing:
        return (
            f"{missing} of {hours} hours of this week have no data at all "
            "(see Data quality): counts may be low"
        )
    return None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _codes(store: Store, baseline_ok: bool) -> list[dict]:
    rows = [r for r in store.rows("report_codes") if r["count"] or baseline_ok]
    found = store.examples_at([i for r in rows for i in r["example_rows"] or []])
    return [_code_row(r, baseline_ok, [found[i] for i in r["example_rows"] or []]) for r in rows]


def _routes(rows: list[dict]) -> list[dict]:
    """Route and code pairs; a pair with no error information reads by its statuses."""
    for r in rows:
        bare = r.pop("bare_statuses")
        if bare:
            r["code"] = labels.no_body_code(bare)
    return rows


def _code_row(r: dict, baseline_ok: bool, examples: list) -> dict:
    prev = r["prev_count"] if baseline_ok else None
    if prev is None:
        marker = None
    elif r["count"] and not prev:
        marker = "new"
    elif prev and not r["count"]:
        marker = "gone"
    elif prev and r["count"] >= UP_SHARPLY * prev and r["count"] - prev >= 5:
        marker = "up sharply"
    else:
        marker = None
    documented = catalog.is_documented(r["type"], r["code"])
    return {
        # nothing but the status was logged: the type and code read as that, the catalogue
        # cannot judge it
        "type": labels.no_body_type() if r["bare"] else r["type"],
        "code": labels.no_body_code({r["status"]: 1}) if r["bare"] else r["code"],
        "status": r["status"],
        "count": r["count"],
        "previous": prev,
        "change": _change(r["count"], prev),
        "marker": marker,
        "orgs": r["orgs"],
        "examples": examples,
        "documented": labels.Shown(documented, labels.NOT_APPLICABLE) if r["bare"] else documented,
        "meaning": catalog.explain(r["type"], r["code"]),
    }


def _daily(rows: list[dict], start: dt.datetime, tz: str) -> list[dict]:
    """All seven days, zero-filled, so charts and sparklines show quiet days too."""
    by_day = {r["day"]: r for r in rows}
    first = start.astimezone(zone(tz)).date()
    days = []
    for i in range(7):
        day = (first + dt.timedelta(days=i)).isoformat()
        r = by_day.get(day, {})
        days.append(
            {
                "day": day,
                "requests": r.get("requests", 0),
                "failures": r.get("failures", 0),
                "server_errors": r.get("server_errors", 0),
                "by_type": dict(sorted((r.get("by_type") or {}).items())),
            }
        )
    return days


def _incidents(store: Store, start, end, limit: int = 5, families: int = 10) -> dict:
    """The week's incidents, summarised (the five with the most excess failures, in time
    order), and every route family's burst, most excess first: a family can fail hard while
    the whole API looks calm, and during an API-wide burst it shows where it hit."""
    bursts = find_bursts(store, start, end)
    found = []
    for burst in distinct_bursts(bursts)[:limit]:
        inc = summarize(
            store, burst["start"], burst["end"], family=burst["scope"] or None, burst=burst
        ).as_dict()
        inc["examples"] = [x for c in inc["codes"][:2] for x in c["examples"][:2]]
        found.append(inc)
    route_families = [
        {**b, "failure_rate": round(b["failures"] / b["requests"], 4) if b["requests"] else None}
        for b in bursts
        if b["scope"]
    ][:families]
    return {"incidents": sorted(found, key=lambda i: i["start"]), "route_incidents": route_families}


def _data_quality(store: Store, report: dict, start, end, tz: str) -> dict:
    seen = {(r["day"], r["hour"]) for r in report["hourly"]}
    hours = local_hours(start, end, tz)
    gaps, run = [], None
    for at in hours:
        empty = hour_key(at) not in seen
        if empty and run is None:
            run = at
        if not empty and run is not None:
            gaps.append({"from": run, "to": at})
            run = None
    if run is not None:
        gaps.append({"from": run, "to": end.astimezone(zone(tz))})
    files: dict[int, dict] = {}
    by_reason: dict[str, int] = {}
    for row in store.rows("report_data_quality", {"start": start, "end": end}):
        file = files.setdefault(
            row["source_id"], {"path": row["path"], "lines": row["lines"], "rejected": 0}
        )
        file["rejected"] += row["rejected"]
        if row["reason"] is not None:
            by_reason[row["reason"]] = by_reason.get(row["reason"], 0) + row["rejected"]
    named = _file_names([f["path"] for f in files.values()])
    return {
        # a report is shared: its files are named, not located on this machine
        "files": [
            {"name": named[f["path"]], "lines": f["lines"], "rejected": f["rejected"]}
            for f in files.values()
        ],
        "lines": sum(f["lines"] for f in files.values()),
        "rejected_by_reason": dict(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
        "hours_in_week": len(hours),
        "hours_without_data": sum(1 for at in hours if hour_key(at) not in seen),
        "gaps": gaps,
        "tz": tz,
    }


def _file_names(paths: list[str]) -> dict[str, str]:
    """Each path by its file name, with as many folders before it as it takes to tell
    files of the same name apart (eu/access.log, us/access.log)."""
    names = {}
    for path in paths:
        parts = path.replace("\\", "/").split("/")
        depth = 1
        while depth < len(parts) and any(
            other != path and other.replace("\\", "/").split("/")[-depth:] == parts[-depth:]
            for other in paths
        ):
            depth += 1
        names[path] = "/".join(parts[-depth:])
    return names
