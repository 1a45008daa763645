"""The store at a glance, as the home page of `triage serve` shows it: what it covers, when
it was last fed, the last week of data against the week before, and the bursts of failures
in that week. "This week" is the seven days up to the store's last request, not up to now:
a store of last month's logs still says something useful.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from triage.incident import distinct_bursts, find_bursts, stage_minutes

if TYPE_CHECKING:
    from triage.store import Store

WEEK_MINUTES = 7 * 24 * 60
BURSTS_SHOWN = 5


def glance(store: Store) -> dict:
    overview = store.rows("store_overview")[0]
    requests, first_minute, last_minute = store.one("request_totals")
    facts: dict = {"overview": overview, "weeks": None, "bursts": []}
    if not requests:
        return facts
    until_minute = last_minute + 1
    split = until_minute - WEEK_MINUTES
    rows = store.rows(
        "glance_periods",
        {"from_minute": split - WEEK_MINUTES, "split_minute": split, "until_minute": until_minute},
    )
    periods = {r["this_week"]: r for r in rows}
    empty = {"requests": 0, "failures": 0, "server_errors": 0}
    this, before = periods.get(True, empty), periods.get(False, empty)
    facts["weeks"] = {
        "start": _at(split),
        "end": _at(until_minute),
        "this": {**this, "failure_rate": _rate(this)},
        # the week before counts only if the store reaches back that far
        "before": {**before, "failure_rate": _rate(before)}
        if first_minute < split - WEEK_MINUTES // 2
        else None,
    }
    since, until = _at(max(split, first_minute)), _at(until_minute)
    stage_minutes(store, since, until)
    facts["bursts"] = distinct_bursts(find_bursts(store, since, until))[:BURSTS_SHOWN]
    return facts


def _at(minute: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(minute * 60, dt.UTC)


def _rate(period: dict) -> float | None:
    return round(period["failures"] / period["requests"], 4) if period["requests"] else None
