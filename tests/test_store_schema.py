"""The store's schema version and its migration path, on real DuckDB files."""

from __future__ import annotations

import duckdb

from tests.conftest import assert_one_error_line, run_triage, write_lines
from triage import sql
from triage.ingest import ingest_paths
from triage.store import SCHEMA_VERSION, open_store


def make_v1_store(path, log):
    """A store as triage's first schema left it, holding one ingested request."""
    with open_store(path) as store:
        ingest_paths(store, [str(log)])
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE records DROP COLUMN rid_hash")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.execute(sql.get("create_schema_v1").sql)  # the v1 views
    con.close()


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
