"""The per-minute roll-up (request_minutes) answers exactly what counting the requests would:
for any window, including windows that start or end inside a minute, or hold no whole one,
and for the requests a filter of `triage errors` covers."""

from __future__ import annotations

import datetime as dt
import random

from tests.conftest import append_lines, ingest, request_minutes_drift, write_lines
from triage.failures import requests_in_scope
from triage.incident import summarize

T0 = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)


def _line(i: int, at: dt.datetime, route: str, status: int) -> dict:
    return {
        "timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestId": f"r{i}",
        "method": "GET" if i % 4 else "POST",
        "path": route,
        "statusCode": status,
    }


def _lines(rng: random.Random, start: int, n: int) -> list[dict]:
    # times within two hours, to the millisecond, a few exactly on a minute
    out = []
    for i in range(start, start + n):
        ms = rng.randrange(0, 2 * 3600 * 1000)
        if i % 7 == 0:
            ms -= ms % 60000
        status = rng.choice([200, 200, 200, 404, 503])
        route = rng.choice(["/v1/incidents", "/v1/schedules", "/v1/users"])
        out.append(_line(i, T0 + dt.timedelta(milliseconds=ms), route, status))
    return out


def _recount(con, since, until) -> list[tuple]:
    return con.execute(
        """SELECT method, route, floor(epoch_us(ts) / 60000000)::BIGINT, count(*),
                  count(*) FILTER (WHERE failed), count(*) FILTER (WHERE status >= 500)
           FROM events WHERE kind = 'request' AND ts >= $1 AND ts < $2
           GROUP BY ALL ORDER BY ALL""",
        [since, until],
    ).fetchall()


def _rolled(con, since, until) -> list[tuple]:
    return con.execute(
        """SELECT method, route, minute, sum(requests), sum(failures), sum(server_errors)
           FROM requests_per_minute($1::TIMESTAMPTZ, $2::TIMESTAMPTZ)
           GROUP BY ALL ORDER BY ALL""",
        [since, until],
    ).fetchall()


def test_every_window_counts_the_same_from_the_roll_up_as_from_the_requests(tmp_path, store):
    rng = random.Random(20261116)
    a = write_lines(tmp_path / "a.log", _lines(rng, 0, 400))
    b = write_lines(tmp_path / "b.log", _lines(rng, 1000, 300))
    ingest(store, a, b)
    append_lines(a, _lines(rng, 2000, 200))  # the same minutes again, from a later ingest
    ingest(store, a)
    assert request_minutes_drift(store.con) == (900, [])  # every line is a request
    windows = [(T0, T0 + dt.timedelta(hours=2)), (T0, T0 + dt.timedelta(seconds=30))]
    for _ in range(40):
        since = T0 + dt.timedelta(milliseconds=rng.randrange(-60000, 2 * 3600 * 1000))
        length = rng.choice([1, 999, 59999, 60000, 60001, 3600000, 5400000])
        windows.append((since, since + dt.timedelta(milliseconds=length)))
    for since, until in windows:
        expected = _recount(store.con, since, until)
        assert _rolled(store.con, since, until) == expected, (since, until)
    assert any(_recount(store.con, s, u) for s, u in windows)  # the windows hold requests


def test_requests_in_scope_counts_what_a_scan_of_the_requests_counts(tmp_path, store):
    rng = random.Random(7)
    log = write_lines(tmp_path / "a.log", _lines(rng, 0, 300))
    ingest(store, log)
    (first, last, total) = store.con.execute(
        "SELECT min(ts), max(ts), count(*) FROM events WHERE kind = 'request'"
    ).fetchone()
    some = T0 + dt.timedelta(minutes=37, seconds=12, milliseconds=345)
    for since, until in [(None, None), (some, None), (None, some), (some, some), (last, None)]:
        (expected,) = store.con.execute(
            """SELECT count(*) FROM events WHERE kind = 'request'
               AND ($1::TIMESTAMPTZ IS NULL OR ts >= $1)
               AND ($2::TIMESTAMPTZ IS NULL OR ts < $2)""",
            [since, until],
        ).fetchone()
        got = requests_in_scope(store, since, until)
        assert got == (expected, total, first, last), (since, until)


def test_an_incidents_impact_counts_what_a_scan_of_the_requests_counts(tmp_path, store):
    """Windows and baselines that start and end inside minutes, from the roll-up."""
    rng = random.Random(11)
    lines = _lines(rng, 0, 600)
    for i, line in enumerate(lines):
        line["orgId"], line["apiKeyId"] = f"org_{i % 5}", f"key_{i % 9}"
    ingest(store, write_lines(tmp_path / "a.log", lines))
    recount = """
        SELECT count(*) FILTER (WHERE ts >= $1), count(*) FILTER (WHERE ts >= $1 AND failed),
               count(*) FILTER (WHERE ts >= $1 AND status >= 500),
               count(DISTINCT org_id) FILTER (WHERE ts >= $1 AND failed),
               count(DISTINCT api_key_id) FILTER (WHERE ts >= $1 AND failed),
               count(*) FILTER (WHERE ts < $1), count(*) FILTER (WHERE ts < $1 AND failed)
        FROM events
        WHERE kind = 'request' AND ts >= $1::TIMESTAMPTZ - to_minutes($3::BIGINT) AND ts < $2"""
    keys = ("requests", "failures", "server_errors", "orgs_affected", "keys_affected")
    keys += ("baseline_requests", "baseline_failures")
    seen = []
    for _ in range(12):
        since = T0 + dt.timedelta(milliseconds=rng.randrange(0, 2 * 3600 * 1000))
        until = since + dt.timedelta(milliseconds=rng.choice([999, 60001, 1800000, 5400000]))
        impact = summarize(store, since, until).impact
        expected = store.con.execute(recount, [since, until, impact["baseline_minutes"]]).fetchone()
        assert tuple(impact[k] for k in keys) == expected, (since, until)
        seen.append(expected)
    assert any(e[1] and e[5] for e in seen)  # windows with failures and a baseline


def test_a_store_that_let_readers_in_still_counts_from_the_roll_up(tmp_path, store):
    # an ingest of many files closes and reopens its connection between them; the macros
    # the counting queries use belong to the connection, and must come back with it
    log = write_lines(tmp_path / "a.log", _lines(random.Random(3), 0, 50))
    ingest(store, log)
    before = requests_in_scope(store, T0, None)
    store.let_readers_in(pause=0)
    assert requests_in_scope(store, T0, None) == before
