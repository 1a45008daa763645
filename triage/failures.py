"""Failure grouping: what is failing, for whom, since when (`triage errors`).

The grouping runs in DuckDB (queries/errors.sql). Group keys come from an allow-list and are
switched on by parameters, so no identifier or value is ever written into SQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from triage import catalog, labels
from triage.exceptions import TriageError
from triage.timespec import local, utc_offsets

if TYPE_CHECKING:  # the store (and duckdb) load only when a command opens one
    from triage.store import Store

GROUP_KEYS = ("type", "code", "status", "route", "method", "org", "key", "service", "day", "hour")
DEFAULT_BY = ("type", "code")


@dataclass
class Filters:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    org: str | None = None
    route: str | None = None
    status: tuple[int, int] | None = None  # inclusive range: 4xx is (400, 499)
    type: str | None = None
    code: str | None = None
    tz: str = "UTC"
    method: str | None = None
    key: str | None = None

    def params(self, local_span: tuple[dt.datetime | None, dt.datetime | None] | None) -> dict:
        """The query's parameters. local_span bounds the times its local day and hour buckets
        need (their zone's UTC offsets are looked up for it); None when it has none."""
        starts, offsets = utc_offsets(self.tz, *local_span) if local_span else (None, None)
        return {
            "since": self.since,
            "until": self.until,
            "org": self.org,
            "route": self.route,
            "status_min": self.status[0] if self.status else None,
            "status_max": self.status[1] if self.status else None,
            "type": self.type,
            "code": self.code,
            "method": self.method,
            "key": self.key,
            "offset_starts": starts,
            "utc_offsets": offsets,
        }


@dataclass
class FailureGroups:
    by: tuple[str, ...]
    rows: list[dict]
    requests_in_scope: int
    store_range: tuple[dt.datetime | None, dt.datetime | None]
    notes: list[str] = field(default_factory=list)


def parse_status(text: str) -> tuple[int, int]:
    """'4xx' -> (400, 499), '5xx' -> (500, 599), '404' -> (404, 404)."""
    text = text.strip().lower()
    if len(text) == 3 and text[0] in "12345" and text[1:] == "xx":
        base = int(text[0]) * 100
        return base, base + 99
    if text.isdigit() and 100 <= int(text) <= 599:
        return int(text), int(text)
    raise ValueError(f"cannot read {text!r} as a status; use 4xx, 5xx or a code like 404")


def parse_by(text: str) -> tuple[str, ...]:
    keys = tuple(k.strip().lower() for k in text.split(",") if k.strip())
    unknown = [k for k in keys if k not in GROUP_KEYS]
    if unknown or not keys:
        wrong = ", ".join(unknown) or "nothing"
        close = [m for k in unknown for m in difflib.get_close_matches(k, GROUP_KEYS, n=1)]
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ValueError(f"cannot group by {wrong}; {hint}choose from {', '.join(GROUP_KEYS)}")
    return tuple(dict.fromkeys(keys))


# "GET /v1/schedules": a route as the report prints it, its method first
_METHOD_AND_ROUTE = re.compile(r"(?i)^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+(\S+)$")


def normalised(store: Store, filters: Filters) -> Filters:
    """Filters as the store holds the values: a route given as "GET /v1/x" sets the method
    too, a trailing slash goes, a raw path has its ids replaced by {id} (route_of, as at
    ingest), a method is upper case. (Ids, types and codes match in any case in SQL.)"""
    route, method = filters.route, filters.method
    if route is not None:
        route = route.strip()
        m = _METHOD_AND_ROUTE.match(route)
        if m:
            method, route = method or m.group(1), m.group(2)
        if len(route) > 1:
            route = route.rstrip("/")
        store.run("define_ingest_macros")
        (route,) = store.one("route_of_filter", {"path": route})
    return dataclasses.replace(
        filters, route=route, method=method.strip().upper() if method else None
    )


# the filters that can match nothing, and what they compare (see filter_values)
_VALUE_FILTERS = ("org", "key", "method", "route", "type", "code")


def close_values(store: Store, filters: Filters) -> list[str]:
    """For each filter whose value no failure in the time range has, a note naming the
    values that are close to it (or saying there is none)."""
    notes = []
    for name in _VALUE_FILTERS:
        wanted = getattr(filters, name)
        if wanted is None:
            continue
        values = [
            v
            for (v,) in store.run(
                "filter_values", {"filter": name, "since": filters.since, "until": filters.until}
            ).fetchall()
        ]
        if wanted.lower() in {v.lower() for v in values}:
            continue
        by_lower = {v.lower(): v for v in values}
        close = difflib.get_close_matches(wanted.lower(), list(by_lower), n=3, cutoff=0.6)
        option = f"--{name}"
        if close:
            notes.append(
                f"no failure has {option} {wanted}; close: {', '.join(by_lower[c] for c in close)}"
            )
        else:
            notes.append(f"no failure in the time range has {option} {wanted}")
    return notes


def group_failures(
    store: Store,
    by: tuple[str, ...] = DEFAULT_BY,
    filters: Filters | None = None,
    *,
    examples: int = 3,
    limit: int = 50,
    explain: bool = False,
) -> FailureGroups:
    filters = filters or Filters()
    requests, in_store, first, last = requests_in_scope(store, filters.since, filters.until)
    if not in_store:
        raise TriageError(store.why_no_requests())
    filters = normalised(store, filters)
    params = {
        **filters.params(
            (filters.since or first, filters.until or last) if {"day", "hour"} & set(by) else None
        ),
        **{f"by_{k}": k in by for k in GROUP_KEYS},
        "examples": examples,
        "limit": limit,
    }
    rows = []
    store.run("stage_failure_parts", params)
    store.run("stage_route_requests", params)
    grouped = store.rows("failures_grouped", {"examples": examples, "limit": limit})
    found = store.examples_at([i for raw in grouped for i in raw["example_rows"]])
    for raw in grouped:
        row = {k: raw[k] for k in by}
        bare: dict[int, int] = {}  # every failure of the row without error information
        for part in raw["bare_statuses"] or []:
            bare[part["s"]] = bare.get(part["s"], 0) + part["n"]
        if bare and "type" in by:
            row["type"] = labels.no_body_type()
        if bare and "code" in by:
            row["code"] = labels.no_body_code(bare)
        row["count"] = raw["count"]
        row["share"] = float(raw["share"])
        if "route" in by:
            row["route_requests"] = raw["route_requests"]
            row["share_of_route"] = (
                round(raw["count"] / raw["route_requests"], 4) if raw["route_requests"] else None
            )
        row["orgs"] = raw["orgs"]
        row["first_seen"] = local(raw["first_seen"], filters.tz)
        row["last_seen"] = local(raw["last_seen"], filters.tz)
        row["examples"] = [found[i] for i in raw["example_rows"]]
        if "type" in by or "code" in by:
            documented = _documented(raw.get("type"), raw.get("code"), by)
            # the catalogue cannot judge what was never logged
            row["documented"] = (
                labels.Shown(documented, labels.NOT_APPLICABLE) if bare else documented
            )
        if explain:
            row["meaning"] = _meaning(raw, by, bool(bare))
        rows.append(row)
    result = FailureGroups(by, rows, requests, (first, last))
    if not rows:
        result.notes += close_values(store, filters)
        result.notes.append(
            f"no failures match; the store covers {local(first, filters.tz)} to "
            f"{local(last, filters.tz)} ({requests:,} requests in the chosen time range)"
        )
    return result


def requests_in_scope(
    store: Store, since: dt.datetime | None, until: dt.datetime | None
) -> tuple[int, int, dt.datetime | None, dt.datetime | None]:
    """How many requests the time filters cover and the store holds, and the first and last
    request's times (to say why a result is empty), from the per-minute roll-up: a few small
    reads, however big the store."""
    in_store, first_minute, last_minute = store.one("request_totals")
    if not in_store:
        return 0, 0, None, None
    first, last = store.one(
        "request_time_range",
        {
            "first_from": _minute(first_minute),
            "first_to": _minute(first_minute + 1),
            "last_from": _minute(last_minute),
            "last_to": _minute(last_minute + 1),
        },
    )
    if since is None and until is None:
        return in_store, in_store, first, last
    window = {"since": since or first, "until": until or last + dt.timedelta(microseconds=1)}
    (requests,) = store.one("requests_in_window", window)
    return requests, in_store, first, last


def _minute(minute: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=minute)


def _meaning(raw: dict, by: tuple[str, ...], bare: bool) -> str | None:
    """The documented meaning of what a row groups on, and only that: a row grouped by code
    alone knows no type, one grouped by status knows neither."""
    type_name, code = raw.get("type"), raw.get("code")
    if bare and ("type" in by or "code" in by):
        return catalog.explain(None, None)  # no error information was logged at all
    if "type" in by and "code" in by:
        return catalog.explain(type_name, code)
    if "code" in by:
        if not code:
            return "No code was logged: validation_error may leave it empty."
        documented = catalog.error_code(code)
        return documented.meaning if documented else f"Undocumented code {code!r}."
    if "type" in by:
        known = catalog.error_type(type_name)
        return known.meaning if known else f"Undocumented type {type_name!r}."
    if "status" in by:
        return catalog.explain_status(raw.get("status"))
    return None


def _documented(type_name: str | None, code: str | None, by: tuple[str, ...]) -> bool | None:
    """Is what this row groups on in the documented catalogue? Only what the grouping knows:
    by code alone, whether the code is documented at all (an empty code cannot tell)."""
    if "type" in by and "code" in by:
        return catalog.is_documented(type_name, code)
    if "code" in by:
        return catalog.error_code(code) is not None if code else None
    return catalog.error_type(type_name) is not None
