"""Failures logged with no error information (access logs of proxies and web servers) read the
same in every command: type `(no error body)`, code `HTTP <status>`, and an example without a
request id named by `file:line`; JSON keeps what the log said (null).

The store is built here from three small files: the Scaling API's own lines (a documented
404 with a body, a 503 without one), the docs site's nginx edge in combined text (two 404s,
no request ids) and an Istio sidecar's Envoy line (a 503 with a request id of its own).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from tests.conftest import request_line, write_lines
from triage.cli import cli as triage_cli

FOUND = "0b1f4c7e-7d7a-4c36-9a55-2f1a3f3e0d01"  # a 404 with its error body
BARE = "5c0de0d5-0e1f-4f6a-8b27-4c4f6a2b9c02"  # the API's own 503, with no error body
ENVOY = "9e4d1c2b-3a5f-4e6d-8c7b-1a2b3c4d5e03"  # the sidecar's 503
OK = "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c04"
NO_BODY_CODES = "HTTP 404 ×2, 503 ×2"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    logs = tmp_path_factory.mktemp("logs")
    body = {
        "statusCode": 404,
        "type": "invalid_request_error",
        "code": "not_found",
        "message": "No incident with that id.",
        "requestId": FOUND,
    }
    write_lines(
        logs / "api.ndjson",
        [
            request_line(1, requestId=FOUND, statusCode=404, orgId="org_a", error=body),
            request_line(2, requestId=BARE, statusCode=503, orgId="org_a", error=None),
            request_line(3, requestId=OK, orgId="org_a", error=None),
        ],
    )
    write_lines(
        logs / "edge.log",
        [
            '203.0.113.7 - - [16/Nov/2026:15:31:00 +0530] "GET /docs/old-page HTTP/1.1" 404 153 '
            '"-" "Mozilla/5.0"',
            '203.0.113.8 - - [16/Nov/2026:15:31:30 +0530] "GET /docs/gone HTTP/1.1" 404 153 '
            '"-" "Mozilla/5.0"',
            '203.0.113.9 - - [16/Nov/2026:15:31:40 +0530] "GET /docs/ HTTP/1.1" 200 5120 '
            '"-" "Mozilla/5.0"',
        ],
    )
    write_lines(
        logs / "mesh.ndjson",
        [
            {
                "start_time": "2026-11-16T10:02:00.000Z",
                "method": "GET",
                "path": "/v1/status",
                "response_code": 503,
                "response_flags": "UH",
                "duration": 0,
                "request_id": ENVOY,
                "downstream_remote_address": "10.44.0.1:40000",
                "user_agent": "statuspage-poller/1.4",
            }
        ],
    )
    path = str(tmp_path_factory.mktemp("store") / "t.duckdb")
    result = CliRunner().invoke(triage_cli, ["--db", path, "ingest", str(logs)])
    assert result.exit_code == 0, result.output
    with duckdb.connect(path, read_only=True) as con:
        shapes = dict(con.execute("SELECT request_id, shape FROM events").fetchall())
    assert shapes[BARE] == "triage" and shapes[ENVOY] == "envoy" and shapes[None] == "combined"
    return path


def run(db: str, *args: str) -> str:
    result = CliRunner().invoke(triage_cli, ["--db", db, *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_errors_table_groups_them_as_no_error_body_with_their_statuses(db):
    lines = run(db, "errors").splitlines()
    row = next(line for line in lines if "(no error body)" in line)
    assert NO_BODY_CODES in row
    assert row.split()[-1] == "n/a"  # documented: the catalogue cannot judge it
    assert f"{ENVOY} (+2)" in row  # the newest example has an id
    by_status = run(db, "errors", "--by", "type,code,status").splitlines()
    bare = [line.split()[:5] for line in by_status if "(no error body)" in line]
    assert bare == [
        ["(no", "error", "body)", "HTTP", "404"],
        ["(no", "error", "body)", "HTTP", "503"],
    ]


def test_examples_without_a_request_id_say_where_they_were_logged(db):
    md = run(db, "errors", "--format", "md")
    row = next(line for line in md.splitlines() if "(no error body)" in line)
    assert f"| {NO_BODY_CODES} |" in row
    assert "edge.log:2" in row and "edge.log:1" in row and ENVOY in row
    table = run(db, "errors", "--status", "404", "--by", "code")
    row = next(line for line in table.splitlines() if "HTTP 404" in line)
    assert "edge.log:2 (+1)" in row


def test_errors_csv_is_for_people_and_json_keeps_null(db):
    rows = list(csv.DictReader(io.StringIO(run(db, "errors", "--format", "csv"))))
    bare = next(r for r in rows if r["type"] == "(no error body)")
    assert bare["code"] == NO_BODY_CODES and bare["documented"] == "n/a"
    assert "edge.log:2" in bare["examples"]
    data = json.loads(run(db, "errors", "--format", "json", "--explain"))
    bare = next(r for r in data if r["type"] is None)
    assert list(bare) == list(data[0])  # the same keys as every other row
    assert (bare["code"], bare["count"], bare["documented"]) == (None, 4, False)
    assert bare["examples"] == [ENVOY, None, None]
    assert "None" not in bare["meaning"]


def test_weekly_report_shows_them_by_status(db):
    md = run(db, "report", "weekly", "--week", "2026-W47")
    assert "None" not in md and "(empty)" not in md
    assert "| (no error body) | HTTP 404 | 404 | 2 |" in md
    assert "| (no error body) | HTTP 503 | 503 | 2 |" in md
    assert "undocumented" not in md.split("## Top failing routes")[0].split("(no error body)")[1]
    # only the API's own 503 breaks the contract: the edge and the sidecar never log bodies
    assert "| missing_error_body | (no error body) / HTTP 503 | 503 | none | 1 |" in md
    assert "missing_error_body | (no error body) / HTTP 404" not in md
    html = run(db, "report", "weekly", "--week", "2026-W47", "--format", "html")
    assert "<code>(no error body)</code></td><td><code>HTTP 404</code>" in html
    assert "None" not in html.split("<h2>Failures by type and code</h2>")[1].split("<h2>Data")[0]


def test_weekly_report_json_keeps_null(db):
    report = json.loads(run(db, "report", "weekly", "--week", "2026-W47", "--format", "json"))
    bare = {c["status"]: c for c in report["codes"] if c["type"] is None}
    assert set(bare) == {404, 503}
    assert all(c["code"] is None for c in bare.values())
    assert list(bare[404]) == list(report["codes"][0])
    assert bare[404]["examples"] == [None, None]
    assert bare[404]["meaning"].startswith("No error type or code was logged")
    missing = [v for v in report["contract"] if v["violation"] == "missing_error_body"]
    assert [(v["type"], v["code"], v["status"], v["examples"]) for v in missing] == [
        (None, None, 503, [BARE])
    ]


def test_incident_names_them_and_their_places(db):
    args = ("incident", "--since", "2026-11-16T10:00", "--until", "2026-11-16T10:05")
    md = run(db, *args)
    assert "? / (no code)" not in md
    assert "| (no error body) / HTTP 404 | 404 | 2 | 0 |" in md
    row = next(line for line in md.splitlines() if "(no error body) / HTTP 404" in line)
    assert "edge.log:1`" in row and "edge.log:2`" in row
    assert "(no error body) / HTTP 503" in md
    html = run(db, *args, "--format", "html")
    assert "<code>(no error body) / HTTP 404</code>" in html and "edge.log:1</code>" in html
    data = json.loads(run(db, *args, "--format", "json"))
    codes = {c["key"]: c for c in data["codes"]}
    assert codes["(no error body) / HTTP 404"]["examples"] == [None, None]
    assert set(codes["(no error body) / HTTP 503"]) == set(data["codes"][0])


def test_contract_judges_missing_bodies_on_the_apis_own_shapes_only(db):
    rows = json.loads(run(db, "contract", "--format", "json"))
    missing = [r for r in rows if r["violation"] == "missing_error_body"]
    assert [(r["type"], r["code"], r["status"], r["count"]) for r in missing] == [
        (None, None, 503, 1)
    ]
    table = run(db, "contract")
    row = next(line for line in table.splitlines() if line.startswith("missing_error_body"))
    assert "(no error body)  HTTP 503" in row and BARE in row


def test_contract_judges_every_line_of_a_store_made_before_shapes(db, tmp_path):
    old = tmp_path / "old.duckdb"
    old.write_bytes(Path(db).read_bytes())
    with duckdb.connect(str(old)) as con:
        con.execute("UPDATE records SET shape = NULL")
        # as the migration to failed_requests (v5) copies a store made before shapes
        con.execute("UPDATE failed_requests SET shape = NULL")
    rows = json.loads(run(str(old), "contract", "--format", "json"))
    missing = {r["status"]: r["count"] for r in rows if r["violation"] == "missing_error_body"}
    assert missing == {503: 2, 404: 2}
    table = run(str(old), "contract", "--examples", "2")
    row = next(line for line in table.splitlines() if "HTTP 404" in line)
    assert "edge.log:2 (+1)" in row


def test_lookup_and_summary_of_a_sidecar_failure(db):
    text = run(db, "lookup", ENVOY)
    assert "GET /v1/status -> 503  (no error body) / HTTP 503" in text
    assert "UNDOCUMENTED" not in text and "None" not in text
    data = json.loads(run(db, "lookup", ENVOY, "--format", "json"))
    error = data[0]["error"]
    assert (error["type"], error["code"], error["source"]) == (None, None, "none")
    summary = run(db, "summary", ENVOY)
    assert "failed with HTTP 503 (no error body logged)" in summary
    assert "not in the documented catalogue" not in summary and "None" not in summary


def test_a_routes_statuses_in_the_report_are_counted_per_failure(tmp_path):
    """The report counts failures in groups; a route's statuses still weigh each failure."""
    line = (
        '203.0.113.{n} - - [16/Nov/2026:15:3{n}:00 +0000] "GET /docs/page HTTP/1.1" {status} '
        '153 "-" "Mozilla/5.0"'
    )
    statuses = [503, 503, 404, 503]
    write_lines(
        tmp_path / "edge.log",
        [line.format(n=n, status=status) for n, status in enumerate(statuses, 1)],
    )
    db = str(tmp_path / "t.duckdb")
    run(db, "ingest", str(tmp_path / "edge.log"))
    routes = run(db, "report", "weekly", "--week", "2026-W47").split("## Top failing routes")[1]
    (row,) = [line for line in routes.splitlines() if "/docs/page" in line]
    assert "HTTP 503 ×3, 404" in row and "| 4 |" in row
