"""A source remembers how it was read: a new mapping or newer parsing rules read it again from
its first line, replacing its rows in one transaction; a rerun without --mapping keeps the
source's own. README "Ingest": "Read again".
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

import triage.ingest
import triage.reader
from tests.conftest import (
    all_rows,
    append_lines,
    failed_requests_drift,
    ingest,
    log_line,
    one,
    request_index_drift,
    request_line,
    request_minutes_drift,
    run_triage,
    source_lines_drift,
    source_shapes_drift,
    write_lines,
)
from tests.test_store_schema import make_old_store
from triage import sql
from triage.ingest import PARSING_RULES, ingest_paths
from triage.mapping import load_mapping
from triage.reader import ReadError
from triage.store import SCHEMA_VERSION, open_store

# Lines whose request id only a mapping finds ("rid"), and a line no mapping makes JSON.
MAPPING = '[fields]\nrequest_id = "rid"\n'


def rid_line(i: int) -> dict:
    return {"timestamp": f"2026-11-16T10:00:{i % 60:02d}Z", "rid": f"r{i}", "msg": f"line {i}"}


@pytest.fixture
def mapping_file(tmp_path):
    path = tmp_path / "rid.toml"
    path.write_text(MAPPING)
    return path


@pytest.fixture
def rid_log(tmp_path):
    return write_lines(tmp_path / "app.log", [rid_line(0), "not json", rid_line(1), rid_line(2)])


def rows_by_line(store) -> list[tuple]:
    return all_rows(
        store,
        "SELECT source_id, line_no, kind, request_id FROM records ORDER BY source_id, line_no",
    )


def assert_each_line_once(store) -> None:
    total, distinct = one(
        store, "SELECT count(*), count(DISTINCT (source_id, line_no)) FROM records"
    )
    assert total == distinct


def test_a_new_mapping_reads_the_file_again_and_replaces_its_rows(store, rid_log, mapping_file):
    first = ingest(store, rid_log)
    assert (first["events"], first["rejected"]) == (3, 1)
    assert [r[3] for r in rows_by_line(store)] == [None, None, None, None]

    again = ingest(store, rid_log, mapping=load_mapping(mapping_file))
    assert again["per_file"][0]["status"] == "ingested"
    assert again["per_file"][0]["detail"] == "re-read with the new mapping"
    assert (again["lines"], again["events"], again["rejected"]) == (4, 3, 1)
    assert rows_by_line(store) == [
        (1, 1, "trace", "r0"),
        (1, 2, "reject", None),
        (1, 3, "trace", "r1"),
        (1, 4, "trace", "r2"),
    ]
    assert one(store, "SELECT count(*) FROM sources") == (1,)
    assert one(store, "SELECT lines_consumed, mapping FROM sources") == (
        4,
        json.dumps({"m_request_id": '$."rid"'}),
    )


def test_the_same_mapping_again_adds_nothing(store, rid_log, mapping_file):
    ingest(store, rid_log, mapping=load_mapping(mapping_file))
    again = ingest(store, rid_log, mapping=load_mapping(mapping_file))
    assert (again["files_skipped"], again["lines"]) == (1, 0)
    assert again["per_file"][0]["detail"] == "already ingested"
    assert len(rows_by_line(store)) == 4


def test_a_rerun_without_mapping_reads_new_lines_with_the_remembered_one(
    store, rid_log, mapping_file
):
    ingest(store, rid_log, mapping=load_mapping(mapping_file))
    append_lines(rid_log, [rid_line(3), rid_line(4)])
    s = ingest(store, rid_log)  # the cron job: no --mapping
    assert (s["lines"], s["per_file"][0]["detail"]) == (2, "")
    assert [r[3] for r in rows_by_line(store)] == ["r0", None, "r1", "r2", "r3", "r4"]
    assert_each_line_once(store)


def test_new_content_at_a_path_read_with_a_mapping_is_read_with_it(store, rid_log, mapping_file):
    ingest(store, rid_log, mapping=load_mapping(mapping_file))
    rid_log.rename(rid_log.with_name("app.log.1"))  # rotation: a new app.log
    write_lines(rid_log, [rid_line(10), rid_line(11)])
    s = ingest(store, rid_log.parent)
    assert (s["files"], s["files_skipped"], s["lines"]) == (1, 1, 2)
    assert all_rows(store, "SELECT request_id FROM events WHERE source_id = 2 ORDER BY 1") == [
        ("r10",),
        ("r11",),
    ]


def test_a_mapping_after_one_read_without_replaces_only_that_sources_rows(
    store, tmp_path, rid_log, mapping_file
):
    other = write_lines(tmp_path / "other.log", [log_line(i) for i in range(5)])
    ingest(store, rid_log, other)
    s = ingest(store, rid_log, other, mapping=load_mapping(mapping_file))
    details = {f["path"]: f["detail"] for f in s["per_file"]}
    # other.log had no mapping either: a mapping is new to it too
    assert details == {
        str(rid_log): "re-read with the new mapping",
        str(other): details[str(rid_log)],
    }
    assert one(store, "SELECT count(*) FROM records") == (9,)
    assert_each_line_once(store)


class FailingReader(triage.reader.LineReader):
    """Reads the first batch, then fails as a disk or an archive can mid-file."""

    def batches(self):
        for i, batch in enumerate(super().batches()):
            if i == 1:
                raise ReadError(f"{self.opened.name}: input/output error")
            yield batch


def test_a_failed_reread_leaves_the_rows_read_before(store, tmp_path, mapping_file, monkeypatch):
    log = write_lines(tmp_path / "app.log", [rid_line(i) for i in range(50)])
    ingest(store, log)
    before = rows_by_line(store)
    monkeypatch.setattr(triage.reader, "BLOCK_SIZE", 512)  # many batches
    monkeypatch.setattr(triage.ingest, "LineReader", FailingReader)
    s = ingest(store, log, mapping=load_mapping(mapping_file))
    assert s["files_failed"] == 1 and "input/output error" in s["errors"][0]
    assert rows_by_line(store) == before
    assert one(store, "SELECT mapping FROM sources") == (None,)
    monkeypatch.undo()
    s = ingest(store, log, mapping=load_mapping(mapping_file))  # tried again: done
    assert (s["lines"], s["events"]) == (50, 50)
    assert one(store, "SELECT count(*), count(request_id) FROM events") == (50, 50)


def test_a_reread_interrupted_by_ctrl_c_leaves_the_rows_read_before(
    store, tmp_path, mapping_file, monkeypatch
):
    class InterruptedReader(triage.reader.LineReader):
        def batches(self):
            for i, batch in enumerate(super().batches()):
                if i == 1:
                    raise KeyboardInterrupt
                yield batch

    log = write_lines(tmp_path / "app.log", [rid_line(i) for i in range(50)])
    ingest(store, log)
    before = rows_by_line(store)
    monkeypatch.setattr(triage.reader, "BLOCK_SIZE", 512)
    monkeypatch.setattr(triage.ingest, "LineReader", InterruptedReader)
    s = ingest(store, log, mapping=load_mapping(mapping_file))
    assert s["interrupted"]
    assert rows_by_line(store) == before


# --- the parsing rules a source was read with ------------------------------------------------


def test_new_sources_remember_the_current_parsing_rules(store, rid_log):
    ingest(store, rid_log)
    assert one(store, "SELECT rules_version, mapping FROM sources") == (PARSING_RULES, None)


def test_a_v3_store_built_from_its_ddl_migrates_to_v4(tmp_path):
    db = tmp_path / "v3.duckdb"
    con = duckdb.connect(str(db))
    for name in ("create_schema_v1", "migrate_to_v2", "migrate_to_v3"):
        con.execute(sql.get(name).sql)
    con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    con.execute(
        "INSERT INTO sources VALUES (nextval('source_id_seq'), 'gone.log', 'none', 10, 'h', 't',"
        " 10, 1, 0, now(), now())"
    )
    con.execute(
        "INSERT INTO records (source_id, line_no, byte_offset, kind, ts, request_id, "
        "has_error_body, failed, repaired, error_source) VALUES "
        "(1, 1, 0, 'log', '2026-11-16 10:00:00Z', 'r1', false, false, false, 'none')"
    )
    con.close()
    with open_store(db) as store:
        assert store.one("schema_version") == (str(SCHEMA_VERSION),)
        assert one(store, "SELECT mapping, rules_version FROM sources") == (None, 1)
        assert one(store, "SELECT request_id, shape, duration_raw FROM events") == (
            "r1",
            None,
            None,
        )
        assert one(store, "SELECT count(*) FROM rejects") == (0,)


def test_info_lists_sources_read_with_older_rules_and_reread_reads_them_again(
    tmp_path, mapping_file
):
    log = write_lines(tmp_path / "logs" / "app.log", [rid_line(i) for i in range(3)])
    db = tmp_path / "old.duckdb"
    make_old_store(db, log, 3)
    gone = write_lines(tmp_path / "logs" / "gone.log", [log_line(7)])
    assert run_triage("--db", db, "ingest", gone).returncode == 0
    con = duckdb.connect(str(db))
    con.execute("UPDATE sources SET rules_version = 1")  # gone.log, too, read long ago
    con.close()
    gone.unlink()

    info = run_triage("--db", db, "info")
    assert info.returncode == 0, info.stderr
    text = info.stdout.decode()
    assert "read with older parsing rules" in text and "run triage ingest --reread" in text
    assert f"  {log} (version 1)" in text
    facts = json.loads(run_triage("--db", db, "info", "--format", "json").stdout)
    assert {s["path"] for s in facts["read_with_older_rules"]} == {str(gone), str(log)}
    assert facts["reread_hint"] == "run triage ingest --reread"
    assert {s["mapping"] for s in facts["source_files"]} == {"auto"}

    done = run_triage("--db", db, "ingest", "--reread", "--format", "json")
    assert done.returncode == 0, done.stderr
    per_file = {f["path"]: f for f in json.loads(done.stdout)["per_file"]}
    assert per_file[str(log)]["detail"] == "re-read with the current parsing rules"
    assert per_file[str(log)]["lines"] == 3
    assert per_file[str(gone)]["status"] == "skipped"
    err = done.stderr.decode()
    assert f"{gone}: no longer there to re-read" in err
    assert f"{log}: re-read with the current parsing rules (3 lines" in err

    facts = json.loads(run_triage("--db", db, "info", "--format", "json").stdout)
    assert [s["path"] for s in facts["read_with_older_rules"]] == [str(gone)]
    with open_store(db) as store:
        assert one(store, "SELECT count(*), count(DISTINCT line_no) FROM records WHERE "
                   "source_id = 1") == (3, 3)  # fmt: skip


def test_reread_of_named_files_reads_them_whatever_their_rules(tmp_path, mapping_file):
    log = write_lines(tmp_path / "app.log", [rid_line(i) for i in range(3)])
    db = tmp_path / "s.duckdb"
    assert run_triage("--db", db, "ingest", log, "--mapping", mapping_file).returncode == 0
    again = run_triage("--db", db, "ingest", "--reread", log)
    assert again.returncode == 0, again.stderr
    err = again.stderr.decode()
    assert f"{log}: re-read from its first line (3 lines; the rows read before are replaced)" in err
    with open_store(db) as store:  # still with the mapping it remembered
        assert all_rows(store, "SELECT request_id FROM events ORDER BY 1") == [
            ("r0",),
            ("r1",),
            ("r2",),
        ]


def test_reread_with_nothing_older_says_so(tmp_path):
    log = write_lines(tmp_path / "app.log", [log_line(1)])
    db = tmp_path / "s.duckdb"
    assert run_triage("--db", db, "ingest", log).returncode == 0
    again = run_triage("--db", db, "ingest", "--reread")
    assert again.returncode == 0, again.stderr
    assert "nothing to re-read" in again.stderr.decode()


def test_info_shows_the_mapping_each_source_was_read_with(cli, rid_log, mapping_file):
    assert cli("ingest", rid_log, "--mapping", mapping_file).exit_code == 0
    text = cli("info")
    assert text.exit_code == 0, text.output
    header = next(line for line in text.stdout.splitlines() if line.startswith("source"))
    assert header.split()[-1] == "mapping"
    row = next(line for line in text.stdout.splitlines() if line.startswith(str(rid_log)))
    assert row.split()[-1] == "request_id"
    facts = json.loads(cli("info", "--format", "json").stdout)
    source = facts["source_files"][0]
    assert (source["mapping"], source["mapping_rules"]) == (
        "request_id",
        {"m_request_id": '$."rid"'},
    )
    assert (source["rules_version"], facts["read_with_older_rules"]) == (PARSING_RULES, [])


def test_library_reread_of_a_path(store, rid_log):
    ingest(store, rid_log)
    summary = ingest_paths(store, [str(rid_log)], reread=True).as_dict()
    assert summary["per_file"][0]["detail"] == "re-read from its first line"
    assert len(rows_by_line(store)) == 4


def test_a_reread_replaces_the_failed_requests_index_entries_and_counts_it_kept(store, tmp_path):
    lines = [request_line(i, statusCode=500 if i % 2 else 200) for i in range(6)]
    log = write_lines(tmp_path / "app.log", lines)
    ingest(store, log)
    ingest_paths(store, [str(log)], reread=True)
    expected, drift = failed_requests_drift(store.con)
    assert (expected, drift) == (3, [])
    assert one(store, "SELECT count(*) FROM failed_requests") == (3,)
    assert request_index_drift(store.con) == (6, [])
    assert request_minutes_drift(store.con) == (6, [])
    assert one(store, "SELECT sum(requests) FROM request_minutes") == (6,)
    assert source_lines_drift(store.con) == (6, [])
    assert one(store, "SELECT sum(lines) FROM source_lines") == (6,)
    assert source_shapes_drift(store.con) == (6, [])
    assert one(store, "SELECT sum(lines) FROM source_shapes") == (6,)


def test_info_says_each_files_shapes_and_unknown_unit_durations_as_its_rows_do(tmp_path):
    """What `info` (and the sources page) says of each file, read from the per-source counts
    (source_shapes), is what a scan of its rows says: the shapes its lines were read as, and
    how many durations had no knowable unit."""
    shapes_dir = Path(__file__).resolve().parent / "shapes"
    db = tmp_path / "s.duckdb"
    done = run_triage("--db", db, "ingest", shapes_dir)
    assert done.returncode == 0, done.stderr.decode()
    facts = json.loads(run_triage("--db", db, "info", "--format", "json").stdout)
    con = duckdb.connect(str(db), read_only=True)
    scanned = con.execute(
        "SELECT s.path, string_agg(DISTINCT r.shape, ',' ORDER BY r.shape), "
        "count(r.duration_raw) FROM sources s JOIN records r USING (source_id) GROUP BY ALL"
    ).fetchall()
    con.close()
    expected = {path: (shapes, unknown) for path, shapes, unknown in scanned}
    got = {s["path"]: (s["shapes"], s["unknown_unit_durations"]) for s in facts["source_files"]}
    assert got == expected
    assert sum(unknown for _, unknown in got.values()) > 0  # the corpus has some
    assert len({shapes for shapes, _ in got.values()}) > 3


@pytest.mark.parametrize("first_lines", [2, 100_000])
def test_the_first_rejected_lines_are_rejects_samples_without_reading_every_row(
    tmp_path, monkeypatch, first_lines
):
    """info's first rejected lines (store.first_rejects: each file read from its first lines
    on, in widening ranges) are exactly what the named query rejects_sample gives, for any
    limit: across files, with rejects far into a file, and for two sources of one path (a
    file made again after a rotation), whose lines rejects_sample merges by line number."""
    import triage.store

    monkeypatch.setattr(triage.store, "FIRST_LINES", first_lines)
    logs = tmp_path / "logs"

    def log_with_rejects(name: str, start: int, bad_every: int, n: int = 60):
        lines = [
            "{not json" if i % bad_every == 0 else json.dumps(request_line(start + i))
            for i in range(1, n + 1)
        ]
        return write_lines(logs / name, lines)

    db = tmp_path / "s.duckdb"
    log_with_rejects("a.log", 0, 7)
    log_with_rejects("b.log", 100, 29)
    assert run_triage("--db", db, "ingest", logs).returncode == 0
    log_with_rejects("a.log", 200, 5)  # a.log made again: new content, a new source
    assert run_triage("--db", db, "ingest", logs).returncode == 0
    with open_store(db, read_only=True) as store:
        (paths,) = store.con.execute("SELECT count(DISTINCT path) = 2 FROM sources").fetchone()
        assert paths and store.con.execute("SELECT count(*) FROM sources").fetchone() == (3,)
        for limit in (1, 2, 5, 9, 10, 13, 30, 100):
            expected = store.run("rejects_sample", {"limit": limit}).fetchall()
            assert triage.store.first_rejects(store, limit) == expected, limit
