"""`triage errors` on the sample logs, checked against a plain Python reading of the files."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from tests import sample_truth
from tests.conftest import assert_one_error_line
from triage.cli import cli as triage_cli
from triage.store import open_store


@pytest.fixture(scope="module")
def errors_json(sample_ingest):
    """Run `triage --db <sample store> errors ARGS --format json` and parse its rows."""
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(
            triage_cli, ["--db", str(sample_ingest[0]), "errors", *args, "--format", "json"]
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return run


def test_default_groups_by_type_and_code(errors_json):
    rows = errors_json("--limit", "1000")
    expected = Counter(sample_truth.type_and_code(f) for f in sample_truth.failures())
    assert {(r["type"], r["code"]): r["count"] for r in rows} == expected
    assert sum(r["count"] for r in rows) == len(sample_truth.failures())
    assert rows == sorted(rows, key=lambda r: -r["count"])
    assert abs(sum(r["share"] for r in rows) - 1) < 0.01


def test_rows_carry_first_last_seen_orgs_and_examples(errors_json):
    failures = sample_truth.failures()
    rows = errors_json("--limit", "1000", "--examples", "2")
    for row in rows:
        group = [f for f in failures if sample_truth.type_and_code(f) == (row["type"], row["code"])]
        assert row["first_seen"] == min(f.ts for f in group).isoformat(timespec="seconds").replace(
            "+00:00", "Z"
        )
        assert row["orgs"] == len({f.org for f in group if f.org})
        assert len(row["examples"]) == min(2, len(group))
        assert set(row["examples"]) <= {f.request_id for f in group}
        # the newest two, newest first (a tie in time may pick either); an example with no
        # request id (JSON null: an access log's line) cannot be told apart here
        if None not in row["examples"]:
            newest = sorted(group, key=lambda f: f.ts, reverse=True)[: len(row["examples"])]
            shown = [next(f for f in group if f.request_id == x) for x in row["examples"]]
            assert [f.ts for f in shown] == [f.ts for f in newest]


def test_by_route_and_code_with_route_share(errors_json):
    rows = errors_json("--by", "route,code", "--limit", "1000")
    expected = Counter((f.route, sample_truth.type_and_code(f)[1]) for f in sample_truth.failures())
    assert {(r["route"], r["code"]): r["count"] for r in rows} == expected
    per_route = Counter(r.route for r in sample_truth.requests())
    for row in rows:
        if row["route"] is None:  # junk request lines (the edge's scanner) have no route
            assert (row["route_requests"], row["share_of_route"]) == (None, None)
            continue
        assert row["route_requests"] == per_route[row["route"]]
        assert row["share_of_route"] == pytest.approx(
            row["count"] / per_route[row["route"]], abs=1e-4
        )


def test_by_day_in_new_york(errors_json):
    rows = errors_json("--by", "day", "--tz", "America/New_York", "--limit", "1000")
    ny = ZoneInfo("America/New_York")
    expected = Counter(f.ts.astimezone(ny).strftime("%Y-%m-%d") for f in sample_truth.failures())
    assert {r["day"]: r["count"] for r in rows} == expected
    assert [r["day"] for r in rows] == sorted(expected)
    assert rows[0]["first_seen"].endswith("-05:00")  # times shown in the zone asked for


def test_filters_narrow_the_failures(errors_json):
    since, until = "2026-11-09", "2026-11-16"
    rows = errors_json("--since", since, "--until", until, "--status", "4xx", "--by", "status")
    lo = datetime(2026, 11, 9, tzinfo=UTC)
    hi = datetime(2026, 11, 16, tzinfo=UTC)
    expected = Counter(
        f.status for f in sample_truth.failures() if lo <= f.ts < hi and 400 <= f.status < 500
    )
    assert {r["status"]: r["count"] for r in rows} == expected

    (row,) = errors_json("--code", "invalid_timezone", "--by", "code")
    assert row["count"] == sum(
        1 for f in sample_truth.failures() if sample_truth.type_and_code(f)[1] == "invalid_timezone"
    )


def test_by_org_counts_match(errors_json):
    rows = errors_json("--by", "org", "--limit", "1000")
    expected = defaultdict(int)
    for f in sample_truth.failures():
        expected[f.org] += 1
    assert {r["org"]: r["count"] for r in rows} == dict(expected)


def test_explain_adds_the_documented_meaning_and_flags_undocumented_codes(errors_json):
    rows = {r["code"]: r for r in errors_json("--explain", "--limit", "1000")}
    assert rows["invalid_timezone"]["documented"] is True
    assert "IANA" in rows["invalid_timezone"]["meaning"]
    assert rows["server_error"]["documented"] is False
    assert rows["server_error"]["meaning"].startswith("Undocumented code")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--by", "colour"], ["--by", "colour", "choose from"]),
        (["--since", "last tuesday"], ["--since", "ISO date"]),
        (["--tz", "Mars/Olympus"], ["--tz", "IANA"]),
        (["--status", "6xx"], ["--status", "4xx"]),
    ],
)
def test_bad_options_give_one_line_errors_that_name_the_fix(sample_ingest, args, fragments):
    from tests.conftest import run_triage

    result = run_triage("--db", sample_ingest[0], "errors", *args)
    assert result.returncode == 2
    assert result.stdout == b""
    assert_one_error_line(result.stderr.decode(), *fragments)


def test_an_empty_store_says_to_ingest_first(cli, db_path):
    open_store(db_path).close()  # a store with the schema but no data
    result = cli("errors")
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "holds nothing yet", "triage ingest")


@pytest.mark.parametrize("command", [["errors"], ["report", "weekly"], ["incident", "--auto"]])
def test_a_store_whose_lines_were_all_rejected_says_so_not_ingest_first(cli, tmp_path, command):
    log = tmp_path / "nginx.log"
    log.write_text("".join(f'{{"msg": "no time {i}"}}\n' for i in range(1000)))
    assert cli("ingest", log).exit_code == 0
    result = cli(*command)
    assert result.exit_code == 2
    line = assert_one_error_line(result.stderr, "1,000 lines ingested", "all rejected")
    assert "no_timestamp 1000" in line and "triage info" in line
    assert "ingest PATH' first" not in line


def test_a_store_of_trace_lines_only_says_no_line_is_a_request(cli, tmp_path):
    log = tmp_path / "app.log"
    log.write_text("".join(
        f'{{"timestamp": "2026-11-10T10:00:0{i}Z", "requestId": "r{i}", "msg": "x"}}\n'
        for i in range(5)
    ))  # fmt: skip
    assert cli("ingest", log).exit_code == 0
    result = cli("errors")
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "none is a request", "HTTP method or status", "--mapping")


def test_no_store_at_all_says_to_ingest_first(tmp_path):
    from tests.conftest import run_triage

    result = run_triage("--db", tmp_path / "none.duckdb", "errors")
    assert result.returncode == 2
    assert_one_error_line(result.stderr.decode(), "no store", "triage ingest")


def test_every_row_format_renders(sample_ingest):
    runner = CliRunner()
    for fmt in ("table", "csv", "md"):
        result = runner.invoke(
            triage_cli, ["--db", str(sample_ingest[0]), "errors", "--format", fmt]
        )
        assert result.exit_code == 0, result.output
        assert "invalid_api_key" in result.stdout


def test_show_sql_prints_the_named_query_to_stderr(sample_ingest):
    result = CliRunner().invoke(
        triage_cli, ["--db", str(sample_ingest[0]), "errors", "--show-sql", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert "-- failures_grouped (errors.sql:" in result.stderr
    assert "$by_type = True" in result.stderr
    json.loads(result.stdout)  # stdout stays pure data
