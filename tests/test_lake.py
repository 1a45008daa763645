"""A lake (triage.lake): the same answers as the store from the same logs, plain Parquet that
needs no triage to read, every line exactly once across batches, re-reads and interruptions."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import (
    append_lines,
    assert_one_error_line,
    request_line,
    run_triage,
    write_lines,
)
from tests.sample_truth import SAMPLE_LOGS
from triage.lake import MANIFEST, TABLES, open_lake
from triage.store import open_store

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The sample logs ingested by the CLI into a store and into a lake."""
    root = tmp_path_factory.mktemp("lake")
    db, lake = root / "store.duckdb", root / "lake"
    assert run_triage("--db", db, "ingest", SAMPLE_LOGS).returncode == 0
    done = run_triage("--lake", lake, "ingest", SAMPLE_LOGS)
    assert done.returncode == 0, done.stderr
    return db, lake


def lake_files(lake: Path) -> set[str]:
    return {
        p.relative_to(lake).as_posix()
        for table in TABLES
        for p in (lake / table).rglob("*.parquet")
    }


def manifest_of(lake: Path) -> dict:
    return json.loads((lake / MANIFEST).read_text())


def some_ids(db: Path) -> list[str]:
    """A failed request, a traced one, a success, an id only a rejected line holds, and one
    that is nowhere."""
    with open_store(db, read_only=True) as s:
        failed = s.con.execute(
            "SELECT request_id FROM events WHERE failed ORDER BY ts LIMIT 1"
        ).fetchone()[0]
        traced = s.con.execute(
            "SELECT request_id FROM events WHERE kind = 'trace' ORDER BY ts LIMIT 1"
        ).fetchone()[0]
        fine = s.con.execute(
            "SELECT request_id FROM events WHERE kind = 'request' AND NOT failed ORDER BY ts "
            "LIMIT 1"
        ).fetchone()[0]
        raws = s.con.execute("SELECT raw FROM rejects WHERE raw IS NOT NULL").fetchall()
    in_reject = next(m.group(0) for (raw,) in raws if (m := UUID.search(raw)))
    return [failed, traced, fine, in_reject, "00000000-0000-4000-8000-000000000000"]


COMMANDS = [
    ["errors", "--format", "json"],
    ["errors", "--by", "route,status,org", "--format", "csv", "--examples", "5"],
    ["errors", "--by", "day,type", "--since", "2026-11-09", "--until", "2026-11-12"],
    ["contract", "--format", "json"],
    ["report", "weekly", "--week", "2026-W46"],
    ["report", "weekly", "--week", "2026-W45", "--format", "html"],
    ["report", "weekly", "--week", "2026-W46", "--format", "json"],
    ["incident", "--auto"],
    ["incident", "--auto", "--format", "json"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_lake_answers_as_the_store_does(both, command):
    db, lake = both
    from_store = run_triage("--db", db, *command)
    from_lake = run_triage("--lake", lake, *command)
    assert from_store.returncode == 0, from_store.stderr
    assert from_lake.returncode == 0, from_lake.stderr
    assert from_lake.stdout == from_store.stdout
    assert from_lake.stderr == from_store.stderr


def test_lookups_on_a_lake_find_what_the_store_finds(both):
    db, lake = both
    ids = some_ids(db)
    for fmt in ("json", "md", "text"):
        from_store = run_triage("--db", db, "lookup", *ids[:4], "--format", fmt)
        from_lake = run_triage("--lake", lake, "lookup", *ids[:4], "--format", fmt)
        assert from_store.returncode == from_lake.returncode == 0, from_lake.stderr
        assert from_lake.stdout == from_store.stdout
    found = json.loads(
        from_lake_json := run_triage("--lake", lake, "lookup", *ids, "--format", "json").stdout
    )
    assert [entry["found"] for entry in found] == [True] * 4 + [False], from_lake_json


def test_a_lake_is_plain_parquet_partitioned_by_day(both):
    """What a Spark or Trino user sees, read here by DuckDB alone (no triage, no manifest):
    the store's rows, each in the partition of its own day (rows without a time in Hive's
    partition for none, read as NULL), counted alike per day, status, type and code."""
    db, lake = both
    assert lake_files(lake) == {f["path"] for f in manifest_of(lake)["files"]}
    count = """
        SELECT day, status, error_type, error_code, kind, count(*) AS n
        FROM {rows} GROUP BY ALL ORDER BY ALL
    """
    plain = duckdb.connect()
    in_lake = plain.execute(
        count.format(
            rows=f"read_parquet('{lake}/records/*/*.parquet', hive_partitioning = true, "
            "hive_types = {'day': VARCHAR})"
        )
    ).fetchall()
    misplaced = plain.execute(
        f"""SELECT count(*) FROM read_parquet('{lake}/records/*/*.parquet',
                hive_partitioning = true, hive_types = {{'day': VARCHAR}})
            WHERE day IS DISTINCT FROM strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%d')"""
    ).fetchone()[0]
    with open_store(db, read_only=True) as s:
        in_store = s.con.execute(
            count.format(rows="(SELECT *, strftime(ts, '%Y-%m-%d') AS day FROM records)")
        ).fetchall()
    assert misplaced == 0
    assert in_lake == in_store
    assert sum(n for *_, n in in_lake) > 18_000


def test_ingesting_again_adds_nothing_and_appending_adds_only_the_new_lines(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    live = write_lines(logs / "app.log", [request_line(i) for i in range(50)])
    lake = tmp_path / "lake"
    assert run_triage("--lake", lake, "ingest", logs).returncode == 0
    first = manifest_of(lake)

    again = run_triage("--lake", lake, "ingest", logs)
    assert again.returncode == 0 and b"already ingested" in again.stderr
    assert manifest_of(lake)["files"] == first["files"]

    append_lines(live, [request_line(i) for i in range(50, 80)])
    assert run_triage("--lake", lake, "ingest", logs).returncode == 0
    with open_lake(lake) as s:
        ids = [r for (r,) in s.con.execute("SELECT request_id FROM events").fetchall()]
        batches = s.con.execute(
            "SELECT count(*) FROM sources WHERE lines_consumed = 80"
        ).fetchone()[0]
    assert sorted(ids) == sorted(request_line(i)["requestId"] for i in range(80))
    assert batches == 1
    assert len({f["batch"] for f in manifest_of(lake)["files"]}) == 2


def test_an_interrupted_batch_leaves_files_the_next_one_removes(tmp_path):
    """A batch killed after writing files but before its manifest: the lake reads as before,
    and the next ingest removes the files and reads the lines once."""
    logs = tmp_path / "logs"
    logs.mkdir()
    write_lines(logs / "a.log", [request_line(i) for i in range(20)])
    lake = tmp_path / "lake"
    assert run_triage("--lake", lake, "ingest", logs).returncode == 0
    before = run_triage("--lake", lake, "errors", "--format", "json").stdout
    # what a batch killed before its manifest leaves: placed files, and its staging
    write_lines(logs / "b.log", [request_line(i) for i in range(20, 40)])
    other = tmp_path / "other"
    assert run_triage("--lake", other, "ingest", logs / "b.log").returncode == 0
    for f in manifest_of(other)["files"]:
        target = lake / f["path"].replace("b000001", "b000002")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(other / f["path"], target)
    (lake / "_staging" / "b000002").mkdir(parents=True)
    assert run_triage("--lake", lake, "errors", "--format", "json").stdout == before

    assert run_triage("--lake", lake, "ingest", logs).returncode == 0
    assert lake_files(lake) == {f["path"] for f in manifest_of(lake)["files"]}
    assert not (lake / "_staging").exists()
    with open_lake(lake) as s:
        total, distinct = s.con.execute(
            "SELECT count(*), count(DISTINCT request_id) FROM events"
        ).fetchone()
    assert total == distinct == 40


def test_reading_a_file_again_replaces_its_rows_in_earlier_batches(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    write_lines(logs / "a.log", [request_line(i, statusCode=500) for i in range(30)])
    write_lines(logs / "b.log", [request_line(i, statusCode=404) for i in range(30, 40)])
    lake = tmp_path / "lake"
    assert run_triage("--lake", lake, "ingest", logs).returncode == 0
    reread = run_triage("--lake", lake, "ingest", "--reread", logs / "a.log")
    assert reread.returncode == 0, reread.stderr
    with open_lake(lake) as s:
        counts = s.con.execute(
            "SELECT status, count(*), count(DISTINCT request_id) FROM events GROUP BY 1 ORDER BY 1"
        ).fetchall()
        failures = s.con.execute("SELECT count(*) FROM failed_requests").fetchone()[0]
        lines = s.con.execute("SELECT sum(lines) FROM source_lines").fetchone()[0]
    assert counts == [(404, 10, 10), (500, 30, 30)]
    assert failures == 40 and lines == 40
    assert lake_files(lake) == {f["path"] for f in manifest_of(lake)["files"]}


def test_lake_errors_are_one_line_with_what_to_do(tmp_path):
    empty = tmp_path / "nothing"
    empty.mkdir()
    done = run_triage("--lake", empty, "errors")
    assert done.returncode == 2
    assert_one_error_line(done.stderr.decode(), "no lake at", "ingest PATH")

    both = run_triage("--lake", empty, "--db", tmp_path / "x.duckdb", "errors")
    assert both.returncode == 2
    assert_one_error_line(both.stderr.decode(), "--db or --lake")

    logs = write_lines(tmp_path / "a.log", [request_line(1)])
    lake = tmp_path / "lake"
    lake.mkdir()
    with open(lake / "_triage.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        busy = run_triage("--lake", lake, "ingest", logs)
    assert busy.returncode == 3
    assert_one_error_line(busy.stderr.decode(), "being written by another ingest", "--wait")
    assert not (lake / MANIFEST).exists()


def test_info_on_a_lake_says_what_it_says_of_the_store(both):
    """info on a lake: the same sources, counts and first rejected lines as the store's."""
    db, lake = both
    from_store = json.loads(run_triage("--db", db, "info", "--format", "json").stdout)
    from_lake = json.loads(run_triage("--lake", lake, "info", "--format", "json").stdout)
    assert (from_store.pop("kind"), from_lake.pop("kind")) == ("store", "lake")
    for facts in (from_store, from_lake):
        facts.pop("store")
        facts.pop("last_ingested_at")
        for source in facts["source_files"]:
            source.pop("last_ingested_at", None)
            source.pop("first_ingested_at", None)
    assert from_lake == from_store
    assert os.stat(lake / MANIFEST).st_mode & 0o077 == 0  # customer traffic: the owner's only


def test_serve_shows_a_lake_and_its_next_batch(tmp_path, both):
    """`triage --lake DIR serve`: the same JSON as on the store, and a batch committed while
    it runs is seen at once (answers are kept until the manifest changes)."""
    from tests.serving import serving

    db, lake = both
    rid = some_ids(db)[0]
    with serving(db) as on_store, serving(lake) as on_lake:
        assert "on the lake" in on_lake.process.stderr
        for address in (f"/api/lookup/{rid}", "/api/errors?by=route,status", "/errors"):
            a, b = on_store.get(address), on_lake.get(address)
            assert a.status == b.status == 200, address
            if address.startswith("/api"):
                assert a.body == b.body, address

    own = tmp_path / "lake"
    logs = tmp_path / "logs"
    logs.mkdir()
    write_lines(logs / "a.log", [request_line(i, statusCode=500) for i in range(3)])
    assert run_triage("--lake", own, "ingest", logs).returncode == 0
    new_id = request_line(9)["requestId"]
    with serving(own) as server:
        assert server.get(f"/api/lookup/{new_id}").status == 404
        append_lines(logs / "a.log", [request_line(9, statusCode=503)])
        assert run_triage("--lake", own, "ingest", logs).returncode == 0
        assert server.get(f"/api/lookup/{new_id}").status == 200


def test_a_damaged_lake_is_one_line_with_what_to_do(tmp_path):
    logs = write_lines(tmp_path / "a.log", [request_line(i) for i in range(5)])
    lake = tmp_path / "lake"
    assert run_triage("--lake", lake, "ingest", logs).returncode == 0

    gone = lake / manifest_of(lake)["files"][0]["path"]
    saved = gone.read_bytes()
    gone.unlink()
    done = run_triage("--lake", lake, "errors")
    assert done.returncode == 2
    assert_one_error_line(done.stderr.decode(), "misses 1 of the files", "restore them")
    gone.write_bytes(saved)

    (lake / MANIFEST).write_text("{not json")
    done = run_triage("--lake", lake, "errors")
    assert done.returncode == 2
    assert_one_error_line(done.stderr.decode(), "not a triage lake manifest")

    foreign = tmp_path / "theirs"
    (foreign / "records").mkdir(parents=True)
    (foreign / "records" / "data.parquet").write_bytes(b"someone else's")
    done = run_triage("--lake", foreign, "ingest", logs)
    assert done.returncode == 2
    assert_one_error_line(done.stderr.decode(), "not a triage lake and not empty", "--lake")
    assert (foreign / "records" / "data.parquet").read_bytes() == b"someone else's"

    inside_a_file = logs / "lake"
    done = run_triage("--lake", inside_a_file, "ingest", logs)
    assert done.returncode == 2
    assert_one_error_line(done.stderr.decode(), "cannot make the lake", "--lake")


def test_a_lookup_on_a_lake_reads_a_few_row_groups_not_the_lake(tmp_path, monkeypatch):
    """The index's row groups are skipped by hash range and the records' by the rows named:
    a lookup reads a small part of the files (a cast of rid_hash in the lake's view once hid
    the ranges from the filter, and every lookup read the whole index)."""
    import triage.lake_write
    from triage import sql
    from triage.lake_write import ingest_into_lake

    monkeypatch.setattr(triage.lake_write, "ROW_GROUP_ROWS", 2000)  # many groups, small data
    logs = write_lines(
        tmp_path / "a.log", [request_line(i, statusCode=200 + i % 5 * 100) for i in range(80_000)]
    )
    ingest_into_lake(tmp_path / "lake", [str(logs)])
    files = [p for p in (tmp_path / "lake").rglob("*.parquet") if "records" in p.parts[-3:]]
    files += list((tmp_path / "lake" / "request_index").glob("*.parquet"))
    with open_lake(tmp_path / "lake") as s:
        plan = s.con.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + sql.get("lookup_records").sql,
            {"ids": [request_line(12_345)["requestId"]]},
        ).fetchone()[1]
        found = s.run("lookup_records", {"ids": [request_line(12_345)["requestId"]]}).fetchall()
    read = json.loads(plan)["io"]["total_bytes_read"]
    assert len(found) == 1
    assert 0 < read < 0.2 * sum(p.stat().st_size for p in files)


def test_spark_tasks_get_disjoint_source_ids_and_keep_rotated_copies_together(tmp_path):
    """How an ingest --engine spark is split (no Spark needed): every file in one task, in the
    order given; a log and its rotated copy (the same first bytes) in the same task; and each
    task's new source ids in a range no other task's overlaps, however many files it has
    (a fixed range of 1,000 ids once let a task of more files take another's)."""
    from triage.spark import _groups, plan_tasks

    names = [f"/nowhere/{i}.log" for i in range(2_500)]
    plan = plan_tasks([[n] for n in names], slots=2, first=40)
    assert len(plan) == 2
    assert sorted(n for paths, _ in plan for n in paths) == sorted(names)
    ranges = sorted((first + 1, first + len(paths)) for paths, first in plan)
    assert ranges[0][0] == 41
    assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    assert all(paths == sorted(paths, key=names.index) for paths, _ in plan)

    live = write_lines(tmp_path / "app.log", [request_line(i) for i in range(30)])
    rotated = tmp_path / "app.log.1"
    shutil.copy(live, rotated)
    other = write_lines(tmp_path / "other.log", [request_line(i) for i in range(100, 110)])
    groups = _groups([str(live), str(other), str(rotated)], final=False)
    assert sorted(map(sorted, groups)) == [sorted([str(live), str(rotated)]), [str(other)]]
