"""`triage errors` filters and groupings on a small planted log, where every answer is known.

The log is written here, request by request (PLANTED); each expectation is computed from
that list with plain Python (or written out by hand), never taken from what triage printed.
Relative times (--since 24h, 7d, 2w) are checked against "now" pinned by $TRIAGE_NOW.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from tests.conftest import write_lines
from triage.cli import cli as triage_cli

# (request id, UTC time, service, method, path, status, org, error type, error code)
PLANTED = [
    ("f1", "2026-11-16T10:05:00Z", "api-gateway", "GET", "/v1/incidents/inc_01ab9", 404, "org_a",
     "invalid_request_error", "not_found"),
    ("f2", "2026-11-16T10:25:00Z", "api-gateway", "GET", "/v1/incidents/inc_02cd7", 404, "org_b",
     "invalid_request_error", "not_found"),
    ("f3", "2026-11-16T10:35:00Z", "api-gateway", "POST", "/v1/oncall/schedules", 400, "org_a",
     "invalid_request_error", "invalid_timezone"),
    ("f4", "2026-11-16T11:30:00Z", "api-gateway-us", "POST", "/v1/incidents", 500, "org_b",
     "internal_error", "internal_error"),
    ("f5", "2026-11-16T11:45:00Z", "api-gateway-us", "POST", "/v1/incidents", 503, "org_c",
     "internal_error", "server_error"),
    ("f6", "2026-11-16T12:10:00Z", "api-gateway", "GET", "/v1/incidents", 401, None,
     "not_authorized_error", "invalid_api_key"),
    ("f7", "2026-11-16T12:50:00Z", "api-gateway-us", "DELETE", "/v1/incidents/inc_03ef5", 404,
     "org_a", "invalid_request_error", "not_found"),
    # a success that carries an error body is a failure too (README), with status 200
    ("f8", "2026-11-16T13:20:00Z", "api-gateway", "GET", "/v1/incidents", 200, "org_c",
     "invalid_request_error", "stale_body"),
    # plain successes: in no failure count
    ("s1", "2026-11-16T10:00:00Z", "api-gateway", "GET", "/v1/incidents/inc_01ab9", 200, "org_a",
     None, None),
    ("s2", "2026-11-16T11:00:00Z", "api-gateway-us", "POST", "/v1/incidents", 201, "org_b",
     None, None),
    ("s3", "2026-11-16T12:00:00Z", "api-gateway", "GET", "/v1/incidents", 200, "org_a",
     None, None),
]  # fmt: skip
ROUTES = {
    "/v1/incidents/inc_01ab9": "/v1/incidents/{id}",
    "/v1/incidents/inc_02cd7": "/v1/incidents/{id}",
    "/v1/incidents/inc_03ef5": "/v1/incidents/{id}",
    "/v1/oncall/schedules": "/v1/oncall/schedules",
    "/v1/incidents": "/v1/incidents",
}


def line(rid, ts, service, method, path, status, org, etype, code) -> dict:
    out = {
        "timestamp": ts,
        "requestId": rid,
        "service": service,
        "method": method,
        "path": path,
        "statusCode": status,
        "durationMs": 5,
    }
    if org:
        out["orgId"] = org
        out["apiKeyId"] = "key_" + org.removeprefix("org_")
    if etype:
        out["error"] = {"statusCode": status, "type": etype, "code": code, "requestId": rid}
    return out


def failures() -> list[dict]:
    """The planted failures as plain dicts (status >= 400, or an error body)."""
    keys = ("rid", "ts", "service", "method", "path", "status", "org", "type", "code")
    rows = [dict(zip(keys, p, strict=True)) for p in PLANTED]
    for r in rows:
        r["ts"] = datetime.fromisoformat(r["ts"].replace("Z", "+00:00"))
        r["route"] = ROUTES[r["path"]]
    return [r for r in rows if r["status"] >= 400 or r["type"]]


@pytest.fixture(scope="module")
def planted_db(tmp_path_factory):
    root = tmp_path_factory.mktemp("errors-filters")
    lines = [line(*p) for p in PLANTED]
    # a trace line of a failed request and a log line: neither is a request
    lines.append({"timestamp": "2026-11-16T10:05:00.010Z", "requestId": "f1", "msg": "not found"})
    lines.append({"timestamp": "2026-11-16T10:06:00Z", "level": "error", "msg": "worker crashed"})
    log = write_lines(root / "planted.ndjson", lines)
    db = root / "planted.duckdb"
    result = CliRunner().invoke(triage_cli, ["--db", str(db), "ingest", str(log)])
    assert result.exit_code == 0, result.output
    return db


def errors(db, *args, env=None) -> list[dict]:
    result = CliRunner().invoke(
        triage_cli, ["--db", str(db), "errors", *args, "--format", "json"], env=env
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def counts(rows, *keys) -> dict:
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r["count"] for r in rows}


def expected(rows, *keys) -> dict:
    return dict(Counter(tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]] for r in rows))


def test_the_planted_log_is_what_the_filters_see(planted_db):
    rows = errors(planted_db)
    assert sum(r["count"] for r in rows) == len(failures()) == 8
    assert counts(rows, "type", "code") == expected(failures(), "type", "code")


@pytest.mark.parametrize("n", [0, 1, 2])
def test_examples_are_the_newest_n_of_each_group(planted_db, n):
    rows = errors(planted_db, "--examples", str(n))
    by_group: dict[tuple, list[dict]] = {}
    for f in failures():
        by_group.setdefault((f["type"], f["code"]), []).append(f)
    for r in rows:
        newest = sorted(by_group[(r["type"], r["code"])], key=lambda f: f["ts"], reverse=True)
        assert r["examples"] == [f["rid"] for f in newest[:n]]


def test_org_filter(planted_db):
    rows = errors(planted_db, "--org", "org_a")
    assert counts(rows, "type", "code") == {
        ("invalid_request_error", "not_found"): 2,  # f1, f7
        ("invalid_request_error", "invalid_timezone"): 1,  # f3
    }
    assert all(r["orgs"] == 1 for r in rows)
    assert errors(planted_db, "--org", "org_nobody") == []


def test_route_filter_takes_the_route_with_ids_replaced(planted_db):
    rows = errors(planted_db, "--route", "/v1/incidents/{id}", "--by", "route,method")
    assert counts(rows, "route", "method") == {
        ("/v1/incidents/{id}", "GET"): 2,
        ("/v1/incidents/{id}", "DELETE"): 1,
    }
    # with --by route: all requests to the route (the successful GET of inc_01ab9 too)
    (row,) = errors(planted_db, "--route", "/v1/incidents/{id}", "--by", "route")
    assert (row["count"], row["route_requests"], row["share_of_route"]) == (3, 4, 0.75)


@pytest.mark.parametrize(
    "given",
    [
        "/v1/incidents/{id}",
        "/v1/incidents/{id}/",  # a trailing slash
        "/v1/incidents/inc_01ab9",  # a raw path: its ids replaced as at ingest
        "https://api.example/v1/incidents/inc_99zz9?expand=all",
    ],
)
def test_a_route_filter_is_read_as_ingest_reads_a_path(planted_db, given):
    rows = errors(planted_db, "--route", given, "--by", "route")
    assert counts(rows, "route") == {"/v1/incidents/{id}": 3}  # f1, f2, f7


def test_a_route_as_the_report_prints_it_sets_the_method_too(planted_db):
    rows = errors(planted_db, "--route", "GET /v1/incidents/{id}", "--by", "route,method")
    assert counts(rows, "route", "method") == {("/v1/incidents/{id}", "GET"): 2}  # f1, f2
    rows = errors(planted_db, "--method", "delete", "--by", "route")
    assert counts(rows, "route") == {"/v1/incidents/{id}": 1}  # f7


@pytest.mark.parametrize(
    ("option", "given", "ids"),
    [
        ("--code", "NOT_FOUND", {"f1", "f2", "f7"}),
        ("--type", "Internal_Error", {"f4", "f5"}),
        ("--org", "ORG_C", {"f5", "f8"}),
        ("--key", "KEY_B", {"f2", "f4"}),
    ],
)
def test_ids_types_and_codes_match_in_any_case(planted_db, option, given, ids):
    rows = errors(planted_db, option, given, "--examples", "9")
    assert {x for r in rows for x in r["examples"]} == ids


def test_a_filter_that_matches_nothing_names_the_close_values(planted_db):
    result = CliRunner().invoke(
        triage_cli, ["--db", str(planted_db), "errors", "--route", "/v1/incident/{id}"]
    )
    assert result.exit_code == 0, result.output
    assert "no failure has --route /v1/incident/{id}; close: /v1/incidents/{id}" in result.stderr
    result = CliRunner().invoke(
        triage_cli, ["--db", str(planted_db), "errors", "--code", "not_fund", "--org", "org_a"]
    )
    assert "no failure has --code not_fund; close: not_found" in result.stderr
    assert "--org" not in result.stderr  # org_a has failures: it is not the one to blame


def test_by_suggests_the_closest_key(planted_db):
    result = CliRunner().invoke(triage_cli, ["--db", str(planted_db), "errors", "--by", "rout"])
    assert result.exit_code == 2
    assert "cannot group by rout; did you mean route?" in result.stderr


def test_type_and_code_filters(planted_db):
    rows = errors(planted_db, "--type", "internal_error", "--by", "code")
    assert counts(rows, "code") == {"internal_error": 1, "server_error": 1}
    rows = errors(planted_db, "--code", "not_found", "--by", "org")
    assert counts(rows, "org") == {"org_a": 2, "org_b": 1}
    rows = errors(planted_db, "--type", "invalid_request_error", "--code", "invalid_timezone")
    assert [(r["type"], r["code"], r["count"], r["examples"]) for r in rows] == [
        ("invalid_request_error", "invalid_timezone", 1, ["f3"])
    ]


@pytest.mark.parametrize(
    ("status", "lo", "hi"),
    [("5xx", 500, 599), ("4xx", 400, 499), ("404", 404, 404), ("503", 503, 503)],
)
def test_status_filter(planted_db, status, lo, hi):
    rows = errors(planted_db, "--status", status, "--by", "status")
    mine = [f for f in failures() if lo <= f["status"] <= hi]
    assert counts(rows, "status") == expected(mine, "status")
    assert mine  # every case matches something


def test_status_filter_by_hand(planted_db):
    assert counts(errors(planted_db, "--status", "5xx", "--by", "status"), "status") == {
        500: 1,
        503: 1,
    }
    assert counts(errors(planted_db, "--status", "4xx", "--by", "status"), "status") == {
        400: 1,
        401: 1,
        404: 3,
    }
    (row,) = errors(planted_db, "--status", "404", "--by", "status")
    assert (row["status"], row["count"], sorted(row["examples"])) == (404, 3, ["f1", "f2", "f7"])
    # the 200 with an error body is a failure, but no status filter lets it in
    assert counts(errors(planted_db, "--by", "status"), "status")[200] == 1


def test_filters_combine(planted_db):
    rows = errors(planted_db, "--org", "org_b", "--status", "5xx", "--by", "service,code")
    assert counts(rows, "service", "code") == {("api-gateway-us", "internal_error"): 1}


def test_by_method(planted_db):
    rows = errors(planted_db, "--by", "method")
    assert counts(rows, "method") == expected(failures(), "method")
    assert counts(rows, "method") == {"GET": 4, "POST": 3, "DELETE": 1}
    assert rows == sorted(rows, key=lambda r: -r["count"])


def test_by_service(planted_db):
    rows = errors(planted_db, "--by", "service")
    assert counts(rows, "service") == expected(failures(), "service")
    assert counts(rows, "service") == {"api-gateway": 5, "api-gateway-us": 3}
    gw = next(r for r in rows if r["service"] == "api-gateway")
    assert gw["first_seen"] == "2026-11-16T10:05:00Z" and gw["last_seen"] == "2026-11-16T13:20:00Z"


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_by_hour_in_a_time_zone(planted_db, tz):
    """Asia/Kolkata is UTC+05:30: its hours cut the planted UTC hours in half."""
    rows = errors(planted_db, "--by", "hour", "--tz", tz)
    zone = ZoneInfo(tz)
    want = Counter(f["ts"].astimezone(zone).strftime("%Y-%m-%d %H:00") for f in failures())
    assert counts(rows, "hour") == dict(want)
    assert [r["hour"] for r in rows] == sorted(want)  # in time order


def test_by_hour_in_kolkata_by_hand(planted_db):
    rows = errors(planted_db, "--by", "hour", "--tz", "Asia/Kolkata")
    # 10:05Z, 10:25Z -> 15:35, 15:55; 10:35Z -> 16:05; 11:30Z, 11:45Z -> 17:00, 17:15;
    # 12:10Z -> 17:40; 12:50Z -> 18:20; 13:20Z -> 18:50
    assert counts(rows, "hour") == {
        "2026-11-16 15:00": 2,
        "2026-11-16 16:00": 1,
        "2026-11-16 17:00": 3,
        "2026-11-16 18:00": 2,
    }
    first = rows[0]
    assert first["first_seen"] == "2026-11-16T15:35:00+05:30"


# --- relative times against a pinned now -----------------------------------------------------

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
AGES = {  # request id -> how long before NOW it failed
    "a1h": timedelta(hours=1),
    "a24h": timedelta(hours=24),  # exactly 24h: inside --since 24h, outside --until 24h
    "a25h": timedelta(hours=25),
    "a6d23h": timedelta(days=6, hours=23),
    "a7d1h": timedelta(days=7, hours=1),
    "a13d": timedelta(days=13),
    "a15d": timedelta(days=15),
}


@pytest.fixture(scope="module")
def aged_db(tmp_path_factory):
    root = tmp_path_factory.mktemp("relative")
    lines = [
        line(rid, (NOW - age).isoformat().replace("+00:00", "Z"), "api-gateway", "GET",
             "/v1/incidents", 500, "org_a", "internal_error", "internal_error")
        for rid, age in AGES.items()
    ]  # fmt: skip
    log = write_lines(root / "aged.ndjson", lines)
    db = root / "aged.duckdb"
    result = CliRunner().invoke(triage_cli, ["--db", str(db), "ingest", str(log)])
    assert result.exit_code == 0, result.output
    return db


def failed_ids(db, *args, now="2026-11-20T12:00:00Z") -> set[str]:
    rows = errors(db, *args, "--examples", "100", env={"TRIAGE_NOW": now})
    return {rid for r in rows for rid in r["examples"]}


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        (["--since", "30m"], set()),
        (["--since", "90min"], {"a1h"}),
        (["--since", "24h"], {"a1h", "a24h"}),
        (["--since", "7d"], {"a1h", "a24h", "a25h", "a6d23h"}),
        (["--since", "2w"], {"a1h", "a24h", "a25h", "a6d23h", "a7d1h", "a13d"}),
        (["--until", "24h"], {"a25h", "a6d23h", "a7d1h", "a13d", "a15d"}),
        (["--since", "7d", "--until", "24h"], {"a25h", "a6d23h"}),
        (["--since", "2w", "--until", "1w"], {"a7d1h", "a13d"}),
    ],
)
def test_relative_times_count_back_from_triage_now(aged_db, args, ids):
    assert failed_ids(aged_db, *args) == ids


def test_triage_now_is_what_relative_times_count_from(aged_db):
    # the same instant written with an offset is the same now
    assert failed_ids(aged_db, "--since", "24h", now="2026-11-20T13:00:00+01:00") == {
        "a1h",
        "a24h",
    }
    # a now one day later: a1h is 25 h old then, a24h exactly 48 h (--since is inclusive)
    later = (NOW + timedelta(days=1)).isoformat()
    assert failed_ids(aged_db, "--since", "48h", now=later) == {"a1h", "a24h"}
    assert failed_ids(aged_db, "--since", "26h", now=later) == {"a1h"}
    # relative times do not depend on --tz
    assert failed_ids(aged_db, "--since", "24h", "--tz", "Asia/Kolkata") == {"a1h", "a24h"}


def test_an_empty_relative_range_says_what_the_store_covers(aged_db):
    result = CliRunner().invoke(
        triage_cli,
        ["--db", str(aged_db), "errors", "--since", "30m", "--format", "json"],
        env={"TRIAGE_NOW": "2026-11-20T12:00:00Z"},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    assert "no failures match" in result.stderr
    assert "0 requests in the chosen time range" in result.stderr


@pytest.mark.parametrize(
    ("since", "until", "ids"),
    [
        # "now" is 2026-11-17T08:00Z (TRIAGE_NOW): yesterday is the planted day
        ("yesterday", "today", {"f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8"}),
        ("2026-11-16T10:30", "2026-11-16T12:00", {"f3", "f4", "f5"}),
        ("2026-11-16T9:00", "2026-11-16T10:10", {"f1"}),  # an hour without its leading zero
    ],
)
def test_times_as_people_type_them(planted_db, since, until, ids):
    env = {"TRIAGE_NOW": "2026-11-17T08:00:00Z"}
    rows = errors(planted_db, "--since", since, "--until", until, "--examples", "9", env=env)
    assert {x for r in rows for x in r["examples"]} == ids


def test_today_and_yesterday_are_local_days_in_tz(planted_db):
    # at 2026-11-17T03:00Z it is still the 16th in New York: "today" began at 05:00Z
    env = {"TRIAGE_NOW": "2026-11-17T03:00:00Z"}
    rows = errors(planted_db, "--since", "today", "--tz", "America/New_York", "--examples", "9",
                  env=env)  # fmt: skip
    assert {x for r in rows for x in r["examples"]} == {"f1", "f2", "f3", "f4", "f5", "f6", "f7",
                                                        "f8"}  # fmt: skip
    assert errors(planted_db, "--since", "today", env=env) == []


@pytest.mark.parametrize(
    ("abbreviation", "zone", "offset"),
    [("PST", "America/Los_Angeles", "-08:00"), ("EDT", "America/New_York", "-05:00"),
     ("cet", "Europe/Paris", "+01:00")],
)  # fmt: skip
def test_a_zone_abbreviation_is_read_as_the_zone_people_mean(planted_db, abbreviation, zone,
                                                              offset):  # fmt: skip
    result = CliRunner().invoke(
        triage_cli,
        ["--db", str(planted_db), "errors", "--tz", abbreviation, "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    assert f"--tz {abbreviation} read as {zone}" in result.stderr
    rows = json.loads(result.stdout)
    # in November these zones keep winter time: EDT is read as New York, -05:00, not -04:00
    assert all(r["first_seen"].endswith(offset) for r in rows)


def test_a_zone_in_the_wrong_case_is_named_rightly(planted_db):
    result = CliRunner().invoke(
        triage_cli, ["--db", str(planted_db), "errors", "--tz", "europe/berlin"]
    )
    assert result.exit_code == 2
    assert "did you mean Europe/Berlin?" in result.stderr


@pytest.mark.parametrize(
    ("since", "until"), [("2026-11-16T12:00", "2026-11-16T10:00"), ("2026-11-16", "2026-11-16")]
)
def test_a_reversed_or_empty_range_is_an_error_not_an_empty_table(planted_db, since, until):
    result = CliRunner().invoke(
        triage_cli, ["--db", str(planted_db), "errors", "--since", since, "--until", until]
    )
    assert result.exit_code == 2
    assert "is not after --since" in result.stderr and result.stdout == ""


def test_explain_says_only_what_the_grouping_knows(planted_db):
    by_status = {r["status"]: r["meaning"] for r in errors(planted_db, "--by", "status",
                                                           "--explain")}  # fmt: skip
    assert by_status[404] == "HTTP 404 Not Found: documented for invalid_request_error."
    assert all("No error type or code was logged" not in m for m in by_status.values())
    by_code = {r["code"]: r["meaning"] for r in errors(planted_db, "--by", "code", "--explain")}
    assert by_code["not_found"].startswith("The resource does not exist")
    assert by_code["stale_body"] == "Undocumented code 'stale_body'."
    assert all(r["meaning"] is None for r in errors(planted_db, "--by", "org", "--explain"))
