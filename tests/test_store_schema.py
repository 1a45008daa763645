"""The store's schema version and its migration path, on real DuckDB files."""

from __future__ import annotations

import json

import duckdb
import pytest

from tests.conftest import (
    assert_one_error_line,
    failed_requests_drift,
    request_index_drift,
    request_minutes_drift,
    run_triage,
    source_lines_drift,
    source_shapes_drift,
    write_lines,
)
from triage import sql
from triage.ingest import ingest_paths
from triage.store import SCHEMA_VERSION, open_store

# The columns each schema version added (table, column), newest last.
ADDED = {
    2: [("records", "rid_hash")],
    3: [("records", c) for c in ("reject_detail", "error_source", "failed", "repaired")],
    4: [("sources", "mapping"), ("sources", "rules_version")]
    + [("records", "shape"), ("records", "duration_raw")],
    5: [("failed_requests", None)],  # a table
    6: [("request_index", None), ("request_index_tail", None)],
    7: [("request_minutes", None)],
    8: [("source_lines", None), ("failed_requests", "body_id_not_uuid")]
    + [("failed_requests", "body_id_differs")],
    9: [("source_shapes", None)],
}


def make_old_store(path, log, version: int):
    """A store as an older schema left it, holding what was ingested from log."""
    with open_store(path) as store:
        ingest_paths(store, [str(log)])
    con = duckdb.connect(str(path))
    con.execute("DROP VIEW events; DROP VIEW rejects")
    for v in range(SCHEMA_VERSION, version, -1):  # undone newest first
        for table, column in ADDED[v]:
            if column is None:
                con.execute(f"DROP TABLE {table}")
            else:
                con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(version)])
    con.execute(sql.get("create_schema_v1").sql)  # the views as they were
    con.close()


def make_v1_store(path, log):
    make_old_store(path, log, 1)


def test_a_v2_store_gets_failures_defined_from_what_it_holds(tmp_path):
    log = write_lines(
        tmp_path / "a.log",
        [
            {"timestamp": "2026-11-16T10:00:00Z", "requestId": "a", "method": "GET",
             "path": "/v1/x", "statusCode": 200, "error": {"type": "internal_error"}},
            {"timestamp": "2026-11-16T10:00:01Z", "requestId": "b", "method": "GET",
             "path": "/v1/x", "statusCode": 404, "errorType": "invalid_request_error",
             "errorCode": "not_found"},
            {"timestamp": "2026-11-16T10:00:02Z", "requestId": "c", "method": "GET",
             "path": "/v1/x", "statusCode": 503},
            {"timestamp": "2026-11-16T10:00:03Z", "requestId": "d", "method": "GET",
             "path": "/v1/x", "statusCode": 200},
        ],
    )  # fmt: skip
    db = tmp_path / "v2.duckdb"
    make_old_store(db, log, 2)
    with open_store(db) as store:
        got = store.con.execute(
            "SELECT request_id, failed, error_source, repaired FROM events ORDER BY 1"
        ).fetchall()
        assert store.con.execute("SELECT count(detail) FROM rejects").fetchall() == [(0,)]
    assert got == [
        ("a", True, "body", False),
        ("b", True, "fields", False),
        ("c", True, "none", False),
        ("d", False, "none", False),
    ]


@pytest.mark.parametrize("version", [2, 4, 5, 6, 7, 8])
def test_an_older_store_gets_its_failed_requests_copied_apart_indexed_and_rolled_up(
    tmp_path, version
):
    log = write_lines(
        tmp_path / "a.log",
        [
            {"timestamp": "2026-11-16T10:00:00Z", "requestId": "a", "method": "GET",
             "path": "/v1/x", "statusCode": 200},
            {"timestamp": "2026-11-16T10:00:01Z", "requestId": "b", "method": "GET",
             "path": "/v1/x", "statusCode": 404, "errorType": "invalid_request_error",
             "errorCode": "not_found"},
            {"timestamp": "2026-11-16T10:00:02Z", "requestId": "c", "method": "GET",
             "path": "/v1/x", "statusCode": 503},
            # an error body whose requestId is not a UUID (nor the line's)
            {"timestamp": "2026-11-16T10:00:02Z", "requestId": "d", "method": "GET",
             "path": "/v1/x", "statusCode": 400,
             "error": {"type": "invalid_request_error", "code": "x", "requestId": "nope"}},
            # a failed trace line is no failed request
            {"timestamp": "2026-11-16T10:00:03Z", "requestId": "c", "level": "error",
             "error": {"type": "api_error", "code": "unavailable"}},
        ],
    )  # fmt: skip
    db = tmp_path / "old.duckdb"
    make_old_store(db, log, version)
    with open_store(db) as store:
        expected, drift = failed_requests_drift(store.con)
        copied = store.con.execute("SELECT request_id FROM failed_requests ORDER BY 1").fetchall()
        indexed, index_drift = request_index_drift(store.con)
        counted, minutes_drift = request_minutes_drift(store.con)
        rows, lines_drift = source_lines_drift(store.con)
        _, shapes_drift = source_shapes_drift(store.con)
        checks = store.con.execute(
            "SELECT body_id_not_uuid, body_id_differs FROM failed_requests WHERE request_id = 'd'"
        ).fetchall()
    assert (rows, lines_drift, shapes_drift) == (5, [], [])
    assert (expected, drift, copied) == (3, [], [("b",), ("c",), ("d",)])
    assert checks == [(True, True)]
    assert (indexed, index_drift) == (5, [])
    assert (counted, minutes_drift) == (4, [])


def test_a_v1_store_is_migrated_and_its_requests_can_be_looked_up(tmp_path):
    log = write_lines(
        tmp_path / "a.log",
        [
            {
                "timestamp": "2026-11-16T10:00:00Z",
                "requestId": "7f0c1d52-aaaa-4bbb-8ccc-123456789abc",
                "method": "GET",
                "path": "/v1/incidents",
                "statusCode": 404,
                "error": {"statusCode": 404, "type": "invalid_request_error", "code": "not_found"},
            },
        ],
    )
    db = tmp_path / "old.duckdb"
    make_v1_store(db, log)
    with open_store(db) as store:
        assert store.one("schema_version")[0] == str(SCHEMA_VERSION)
        assert store.con.execute("SELECT count(rid_hash) FROM records").fetchall() == [(1,)]
    result = run_triage("--db", db, "lookup", "7F0C1D52-AAAA-4BBB-8CCC-123456789ABC")
    assert result.returncode == 0, result.stderr
    assert b"not_found" in result.stdout


def test_a_store_from_a_newer_triage_is_refused(tmp_path):
    db = tmp_path / "new.duckdb"
    open_store(db).close()
    con = duckdb.connect(str(db))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    result = run_triage("--db", db, "info")
    assert result.returncode == 2
    assert_one_error_line(result.stderr.decode(), "schema version 99", "upgrade triage")


def test_a_duckdb_file_that_is_not_a_triage_store_is_refused(tmp_path):
    db = tmp_path / "other.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    con.close()
    result = run_triage("--db", db, "errors")
    assert result.returncode == 2
    assert_one_error_line(result.stderr.decode(), "not a triage store")


def hashed_by_another_duckdb(db):
    """Make the store look as if another DuckDB version, whose hash() differs (DuckDB does
    not promise hash() across versions), had written its rid_hash values."""
    con = duckdb.connect(str(db))
    for table in ("records", "request_index", "request_index_tail"):
        con.execute(f"UPDATE {table} SET rid_hash = xor(rid_hash, 1234567::UINTEGER)")
    con.execute("UPDATE meta SET value = 'another hash()' WHERE key = 'rid_hash_probe'")
    con.close()


def test_ids_hashed_by_another_duckdb_are_still_found_and_a_writer_hashes_them_again(
    tmp_path, manifest
):
    from tests.conftest import SAMPLE_LOGS

    db = tmp_path / "s.duckdb"
    assert run_triage("--db", db, "ingest", SAMPLE_LOGS).returncode == 0
    hashed_by_another_duckdb(db)
    wanted = manifest["doc_inconsistencies"][0]["request_id"]

    # readers compare the ids as text: lookup finds the request, the report's contract
    # section still agrees with `triage contract`
    found = run_triage("--db", db, "lookup", wanted, "--format", "json")
    assert found.returncode == 0, found.stderr
    week = run_triage("--db", db, "report", "weekly", "--week", "2026-W46", "--format", "json")
    contract = run_triage(
        "--db", db, "contract", "--since", "2026-11-09", "--until", "2026-11-16",
        "--examples", "1", "--format", "json",
    )  # fmt: skip
    assert json.loads(week.stdout)["contract"] == json.loads(contract.stdout)

    # a writer (any ingest, even one that adds nothing) writes the hashes again, once
    assert run_triage("--db", db, "ingest", SAMPLE_LOGS).returncode == 0
    con = duckdb.connect(str(db), read_only=True)
    stale = con.execute(
        "SELECT count(*) FROM records WHERE rid_hash <> (hash(request_id) >> 32)::UINTEGER"
    ).fetchall()
    probe = con.execute("SELECT value FROM meta WHERE key = 'rid_hash_probe'").fetchall()
    indexed, index_drift = request_index_drift(con)
    con.close()
    assert stale == [(0,)]
    assert indexed > 0 and index_drift == []
    assert probe == [(str(duckdb.sql("SELECT hash('triage rid_hash probe')").fetchall()[0][0]),)]
    assert run_triage("--db", db, "lookup", wanted).returncode == 0


def test_a_reader_of_a_store_from_an_older_triage_says_how_to_upgrade_it(tmp_path):
    log = write_lines(
        tmp_path / "a.log",
        [{"timestamp": "2026-11-16T10:00:00Z", "requestId": "r1", "statusCode": 200}],
    )
    db = tmp_path / "old.duckdb"
    make_v1_store(db, log)
    result = run_triage("--db", db, "lookup", "r1")
    assert result.returncode == 2
    assert_one_error_line(result.stderr.decode(), "schema version 1", "ingest")


@pytest.mark.parametrize("command", ["ingest", "info", "errors"])
def test_a_database_that_is_not_a_triage_store_is_never_touched(tmp_path, small_log, command):
    """Pointing --db at someone's DuckDB file must not add triage's tables into it."""
    db = tmp_path / "analytics.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE orders AS SELECT 1 AS id")
    con.execute("CREATE VIEW recent AS SELECT * FROM orders")
    con.close()
    before = db.read_bytes()
    args = [command, str(small_log)] if command == "ingest" else [command]
    result = run_triage("--db", db, *args)
    assert result.returncode == 2, result.stderr
    line = assert_one_error_line(result.stderr.decode(), "not a triage store", "table orders")
    assert "--db" in line and "ingest" not in line.split(";")[-1]
    assert db.read_bytes() == before
    con = duckdb.connect(str(db), read_only=True)
    tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    con.close()
    assert tables == {"orders"}


def test_an_empty_duckdb_database_or_an_empty_file_becomes_a_store(tmp_path, small_log):
    empty_db = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty_db)).close()
    empty_file = tmp_path / "zero.duckdb"
    empty_file.touch()
    for db in (empty_db, empty_file):
        reader = run_triage("--db", db, "info")
        assert reader.returncode == 2
        assert_one_error_line(reader.stderr.decode(), str(db))
        done = run_triage("--db", db, "ingest", small_log)
        assert done.returncode == 0, done.stderr
        assert run_triage("--db", db, "info").returncode == 0


@pytest.fixture
def small_log(tmp_path):
    return write_lines(
        tmp_path / "logs" / "app.log",
        [{"timestamp": "2026-11-16T10:00:00Z", "requestId": "r1", "method": "GET",
          "path": "/v1/x", "statusCode": 200}],
    )  # fmt: skip
