"""`triage sql`, `triage query` and `triage queries`: read-only, parameterised, documented."""

from __future__ import annotations

import csv
import io
import json
import resource

import pytest

from tests import sample_truth
from tests.conftest import assert_one_error_line, request_line, run_triage, write_lines
from tests.interrupting import (
    Output,
    assert_interrupted,
    cpu_seconds,
    send_stopped,
    start,
    wait_until,
)
from triage.adhoc import run_named
from triage.store import open_store


@pytest.fixture(scope="module")
def sample_db(sample_ingest):
    return sample_ingest[0]


def test_sql_counts_agree_with_a_plain_reading(sample_db):
    result = run_triage(
        "--db",
        sample_db,
        "sql",
        "SELECT count(*) AS n, count(DISTINCT request_id) AS ids "
        "FROM events WHERE kind = 'request'",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["n"] == len(sample_truth.requests())
    # count(DISTINCT) leaves out NULL: the edge's text lines have no request id
    assert row["ids"] == len({r.request_id for r in sample_truth.requests() if r.request_id})


def test_sql_csv_output_is_rfc4180(sample_db):
    result = run_triage(
        "--db",
        sample_db,
        "sql",
        "SELECT status, count(*) AS n FROM events WHERE kind = 'request' "
        "GROUP BY ALL ORDER BY status",
        "--format",
        "csv",
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode())))
    expected = {}
    for r in sample_truth.requests():
        expected[str(r.status)] = expected.get(str(r.status), 0) + 1
    assert {r["status"]: int(r["n"]) for r in rows} == expected


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TABLE records",
        "DELETE FROM sources",
        "CREATE TABLE x AS SELECT 1",
        "INSERT INTO meta VALUES ('a', 'b')",
        "SELECT 1; DROP VIEW events",
    ],
)
def test_sql_cannot_write(sample_db, statement):
    result = run_triage("--db", sample_db, "sql", statement)
    assert result.returncode == 2
    assert_one_error_line(result.stderr.decode(), "read-only")
    check = run_triage(
        "--db", sample_db, "sql", "SELECT count(*) AS n FROM records", "--format", "json"
    )
    assert json.loads(check.stdout)[0]["n"] > 0


def test_sql_cannot_read_files_or_urls(sample_db):
    for statement in (
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_csv('https://example.com/x.csv')",
    ):
        result = run_triage("--db", sample_db, "sql", statement)
        assert result.returncode == 2
        assert b"root:" not in result.stdout
        assert_one_error_line(result.stderr.decode(), "SQL failed")


def test_queries_lists_only_queries_a_user_can_run(sample_db):
    result = run_triage("--db", sample_db, "queries", "--format", "json")
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert "filter_values" in rows and "rejects_sample" in rows
    # steps of ingest, and queries reading tables another query stages, are not listed
    for step in ("ingest_lines", "contract_violations", "failures_grouped", "report_codes"):
        assert step not in rows
    assert all(r["description"] for r in rows.values())
    everything = json.loads(run_triage("queries", "--all", "--format", "json").stdout)
    assert {"ingest_lines", "contract_violations"} <= {r["name"] for r in everything}


def test_every_listed_query_runs_on_its_own(sample_db):
    """What `triage queries` lists, `triage query` runs: each one, every parameter unset."""
    listed = json.loads(run_triage("--db", sample_db, "queries", "--format", "json").stdout)
    with open_store(sample_db, read_only=True) as store:
        for row in listed:
            assert isinstance(run_named(store, row["name"], {}), list), row["name"]


def test_query_runs_a_named_query_with_parameters(sample_db, manifest):
    result = run_triage(
        "--db", sample_db, "query", "rejects_sample", "--param", "limit=2", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 2
    planted = {(name, b["line"]) for name, f in manifest["files"].items() for b in f["bad_lines"]}
    assert {(r["source_path"].rsplit("/", 1)[-1], r["line_no"]) for r in rows} <= planted


def test_query_refuses_unknown_names_parameters_and_internal_queries(sample_db):
    cases = [
        (["query", "no_such_query"], "triage queries"),
        (["query", "rejects_sample", "--param", "colour=red"], "no parameter colour"),
        (["query", "rejects_sample", "--param", "oops"], "KEY=VALUE"),
        (["query", "ingest_lines"], "does not run on its own"),
        (["query", "report_codes"], "does not run on its own"),
    ]
    for args, fragment in cases:
        result = run_triage("--db", sample_db, *args)
        assert result.returncode == 2, args
        assert_one_error_line(result.stderr.decode(), fragment)


def test_sql_masks_secrets_unless_raw_is_asked_for(sample_db, manifest):
    secret = next(s for s in manifest["secrets"] if s["value"].startswith("scl_live_"))
    statement = (
        "SELECT raw FROM records WHERE raw LIKE '%' || 'scl_live_' || '%' "
        "ORDER BY source_id, line_no"
    )
    masked = run_triage("--db", sample_db, "sql", statement, "--format", "json")
    assert masked.returncode == 0, masked.stderr
    assert secret["value"].encode() not in masked.stdout
    assert b"scl_live_[REDACTED]" in masked.stdout
    raw = run_triage("--db", sample_db, "sql", statement, "--format", "json", "--raw")
    assert raw.returncode == 0, raw.stderr
    assert any(
        s["value"].encode() in raw.stdout
        for s in manifest["secrets"]
        if s["value"].startswith("scl_live_")
    )
    assert b"unmasked" in raw.stderr


def test_ctrl_c_inside_a_running_statement_is_exit_130(sample_db):
    """DuckDB's client notices a Ctrl-C only between units of work in the main thread, and
    then waits for its worker threads to finish theirs: a statement running on one of them
    went on to its end (here, hours), in most runs. Each run below is stopped once it has
    used more CPU than a whole short `triage sql` does: inside the statement."""
    statement = "SELECT sum(x) FROM range(100000000000) t(x)"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert run_triage("--db", sample_db, "sql", "SELECT 1").returncode == 0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    short = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    for extra in (0.1, 0.3, 0.5, 0.7, 0.9):
        proc = start("--db", sample_db, "sql", statement)
        output = Output(proc)
        assert wait_until(proc, lambda: cpu_seconds(proc.pid) > short + extra)  # noqa: B023
        assert send_stopped(proc)
        out, err = output.finish()
        assert_interrupted(proc, out, err)


def test_sql_cannot_write_into_a_lake(tmp_path):
    """A lake is read through a connection in memory that may open the lake's directory: the
    user's SQL once wrote a Parquet file there (COPY ... TO), which made the lake refuse its
    next ingest as someone else's directory."""
    lake = tmp_path / "lake"
    logs = write_lines(tmp_path / "a.log", [request_line(i) for i in range(3)])
    assert run_triage("--lake", lake, "ingest", logs).returncode == 0
    before = sorted(p.relative_to(lake) for p in lake.rglob("*"))
    for statement in (
        f"COPY (SELECT 1 AS a) TO '{lake}/records/x.parquet'",
        "CREATE TABLE x AS SELECT 1",
        "DROP VIEW records",
    ):
        result = run_triage("--lake", lake, "sql", statement)
        assert result.returncode == 2, statement
        assert_one_error_line(result.stderr.decode(), "read-only")
    assert sorted(p.relative_to(lake) for p in lake.rglob("*")) == before
    assert run_triage("--lake", lake, "ingest", logs).returncode == 0
