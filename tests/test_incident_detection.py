"""Incident detection on planted events: a slow storm at low traffic, one key's flood, two
bursts a few quiet minutes apart, and the times an incident's text prints.

Each log is ordinary traffic made by a seeded generator (about 3 requests a minute over
two days, 4% client errors) with one event planted in it; the same traffic without the
event must give no incident, so a test cannot pass by detection firing on anything.
"""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from tests.conftest import run_triage, write_lines
from triage.incident import find_bursts, stage_minutes
from triage.store import open_store

DAY0 = dt.datetime(2026, 11, 9, tzinfo=dt.UTC)  # a Monday: ISO week 2026-W46
ROUTES = [
    ("GET", "/v1/schedules/{id}", "/v1/schedules/sch_{n}"),
    ("POST", "/v1/schedules", "/v1/schedules"),
    ("GET", "/v1/incidents", "/v1/incidents"),
    ("GET", "/v1/incidents/{id}", "/v1/incidents/inc_{n}"),
    ("GET", "/v1/users/{id}", "/v1/users/usr_{n}"),
]
ORGS = [f"org_{i:03d}" for i in range(40)]


def request(rid: str, at: dt.datetime, route, org: str, status: int, type_=None, code=None):
    method, template, path = route
    line = {
        "timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestId": rid,
        "orgId": org,
        "apiKeyId": f"key_{org}",
        "method": method,
        "path": path.format(n=rid[-4:]),
        "route": template,
        "statusCode": status,
        "durationMs": 20,
    }
    if status >= 400:
        line["error"] = {"statusCode": status, "type": type_, "code": code, "requestId": rid}
    return line


def ordinary_traffic(seed: int = 7, days: int = 2, per_minute: float = 3.0) -> list[dict]:
    """Requests at random times, 4% of them client errors spread over orgs and routes."""
    rng = random.Random(seed)
    lines = []
    n = int(days * 1440 * per_minute)
    for i in range(n):
        at = DAY0 + dt.timedelta(seconds=rng.uniform(0, days * 86400))
        org = rng.choice(ORGS)
        if rng.random() < 0.04:
            status, type_, code = 404, "invalid_request_error", "not_found"
        else:
            status, type_, code = 200, None, None
        lines.append(request(f"bg-{i:06d}", at, rng.choice(ROUTES), org, status, type_, code))
    return lines


def slow_storm() -> list[dict]:
    """27 server errors on /v1/schedules* for 15 orgs between 17:20 and 18:00 on day two:
    never more than two in a minute."""
    rng = random.Random(11)
    start = DAY0 + dt.timedelta(days=1, hours=17, minutes=20)
    return [
        request(
            f"storm-{i:03d}",
            start + dt.timedelta(seconds=i * 40 * 60 / 27 + rng.uniform(0, 30)),
            ROUTES[i % 2],
            ORGS[i % 15],
            500,
            "internal_error",
            "internal_error",
        )
        for i in range(27)
    ]


def ingest_log(tmp_path, lines: list[dict]):
    lines = sorted(lines, key=lambda line: line["timestamp"])
    log = write_lines(tmp_path / "api.ndjson", lines)
    db = tmp_path / "store.duckdb"
    result = run_triage("--db", db, "ingest", log)
    assert result.returncode == 0, result.stderr
    return db


def auto(db, *args):
    return run_triage("--db", db, "incident", "--auto", *args)


def minutes_apart(a: str, b: dt.datetime) -> float:
    return abs((dt.datetime.fromisoformat(a.replace("Z", "+00:00")) - b).total_seconds()) / 60


def test_ordinary_traffic_has_no_incident(tmp_path):
    db = ingest_log(tmp_path, ordinary_traffic())
    result = auto(db)
    assert result.returncode != 0
    assert b"no burst of failures" in result.stderr
    week = run_triage("--db", db, "report", "weekly", "--week", "2026-W46", "--format", "json")
    report = json.loads(week.stdout)
    assert report["incidents"] == [] and report["route_incidents"] == []


def test_a_slow_storm_at_low_traffic_is_found_on_its_route_family(tmp_path):
    db = ingest_log(tmp_path, ordinary_traffic() + slow_storm())
    result = auto(db, "--format", "json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    storm_start = DAY0 + dt.timedelta(days=1, hours=17, minutes=20)
    assert found["family"] == "/v1/schedules"
    assert minutes_apart(found["start"], storm_start) <= 3
    assert minutes_apart(found["end"], storm_start + dt.timedelta(minutes=40)) <= 3
    assert found["impact"]["server_errors"] == 27
    assert found["customer_side"] is None
    md = auto(db).stdout.decode()
    assert "requests to /v1/schedules failed" in md  # the status page names the family
    week = run_triage("--db", db, "report", "weekly", "--week", "2026-W46", "--format", "md")
    text = week.stdout.decode()
    assert "No burst of failures this week" not in text
    assert "- **Tue 17:2" in text  # listed as the week's incident
    assert "| /v1/schedules | Tue 17:2" in text  # and on its family


def test_one_keys_flood_is_a_customer_side_problem_not_an_outage(tmp_path):
    flood_start = DAY0 + dt.timedelta(days=1, hours=9, minutes=12)
    flood = [
        request(
            f"flood-{i:03d}",
            flood_start + dt.timedelta(seconds=i * 5),
            ROUTES[i % len(ROUTES)],
            "org_007",
            401,
            "not_authorized_error",
            "invalid_api_key",
        )
        for i in range(300)  # 25 minutes of a revoked key
    ]
    db = ingest_log(tmp_path, ordinary_traffic() + flood)
    found = json.loads(auto(db, "--format", "json").stdout)
    assert minutes_apart(found["start"], flood_start) <= 1
    assert found["customer_side"]["kind"] == "key"
    assert found["customer_side"]["api_key_id"] == "key_org_007"
    assert found["customer_side"]["failures"] == 300
    md = auto(db).stdout.decode()
    assert "a customer-side problem, not an outage" in md
    assert "No status-page text" in md and "Between " not in md
    # the planted storm of many orgs, by contrast, is an outage with its status-page text
    storm_db = ingest_log(tmp_path / "storm", ordinary_traffic() + slow_storm())
    storm_md = auto(storm_db).stdout.decode()
    assert "customer-side" not in storm_md and "Between " in storm_md


def spike(prefix: str, at: dt.datetime, n: int = 8) -> list[dict]:
    """n server errors in one minute from many orgs."""
    return [
        request(
            f"{prefix}-{i}", at + dt.timedelta(seconds=5 * i), ROUTES[2], ORGS[i], 503, None, None
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("quiet", "bursts"),
    [(2, 1), (30, 2)],
    ids=["two-quiet-minutes-merge", "thirty-quiet-minutes-apart"],
)
def test_bursts_merge_across_two_quiet_minutes_only(tmp_path, quiet, bursts):
    first = DAY0 + dt.timedelta(days=1, hours=12)
    second = first + dt.timedelta(minutes=1 + quiet)
    db = ingest_log(tmp_path, ordinary_traffic() + spike("a", first) + spike("b", second))
    with open_store(db, read_only=True) as store:
        since, until = DAY0, DAY0 + dt.timedelta(days=2)
        stage_minutes(store, since, until)
        found = [b for b in find_bursts(store, since, until) if not b["scope"]]
    assert len(found) == bursts, found
    starts = sorted(b["start"] for b in found)
    assert starts[0] == first  # the onset is the spike's own minute, not one late
    if bursts == 1:
        assert found[0]["end"] == second + dt.timedelta(minutes=1)
        assert found[0]["server_errors"] == 16
    else:
        assert starts[1] == second


def test_a_window_over_several_days_prints_its_dates(tmp_path):
    db = ingest_log(tmp_path, ordinary_traffic() + slow_storm())
    result = run_triage("--db", db, "incident", "--since", "2026-11-09T09:00Z")
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    title = text.splitlines()[0]
    assert title.startswith("# Incident summary: 2026-11-09 09:00 to 2026-11-1"), title
    timeline = text[text.index("## Timeline") :].split("## Status page")[0]
    rows = [line for line in timeline.splitlines() if line.startswith("| 2026-")]
    assert rows and len({r.split(" |")[0] for r in rows}) == len(rows)  # no time twice
    assert any(r.startswith("| 2026-11-10") for r in rows)
    status = text[text.index("## Status page") :]
    assert "Between November 9 09:00 and November 1" in status


def test_auto_picks_the_outage_over_a_bigger_customer_side_burst(sample_ingest):
    """In the sample's week 46 one revoked key's flood (213 failures) outweighs the 500
    burst of 12 orgs (38): --auto summarises the outage, the report lists both."""
    db = sample_ingest[0]
    week = ["--since", "2026-11-09T00:00Z", "--until", "2026-11-16T00:00Z"]
    found = json.loads(auto(db, *week, "--format", "json").stdout)
    assert found["customer_side"] is None
    assert found["start"].startswith("2026-11-12T14:3") and found["impact"]["orgs_affected"] > 5
    report = run_triage("--db", db, "report", "weekly", "--week", "2026-W46", "--format", "json")
    incidents = json.loads(report.stdout)["incidents"]
    flood = [i for i in incidents if i["customer_side"]]
    assert [i["customer_side"]["kind"] for i in flood] == ["key"]
    assert flood[0]["impact"]["failures"] > found["impact"]["failures"]
