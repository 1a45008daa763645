"""The shipped sample logs, ingested as a directory, agree with the generator's manifest, and
the generator still writes them byte for byte."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import PurePath

import pytest

from tests.conftest import SAMPLE_LOGS, all_rows, ingest, one
from triage.store import open_store


def test_the_generator_rewrites_the_shipped_sample_byte_for_byte(tmp_path, manifest):
    """A change to the generator that moves one random draw changes every byte after it: it
    shows here rather than as a sample that no longer matches its generator."""
    subprocess.run(
        [sys.executable, str(SAMPLE_LOGS / "generate.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    names = sorted([*manifest["files"], "manifest.json"])
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    for name in names:
        assert filecmp.cmp(tmp_path / name, SAMPLE_LOGS / name, shallow=False), name


def test_ingest_summary_matches_the_manifest_totals(sample_ingest, manifest):
    _, s = sample_ingest
    t = manifest["totals"]
    assert (s["files"], s["files_failed"]) == (len(manifest["files"]), 0)
    assert s["lines"] == t["lines"]
    assert s["requests"] == t["requests"]
    assert s["events"] == t["requests"] + t["trace_events"] + t["other_lines"]
    assert s["blank"] == t["blank_lines"]
    assert s["repaired"] == t["repaired_lines"]
    assert s["rejected"] == t["bad_lines"]
    expected_reasons = Counter(
        b["reason"] for f in manifest["files"].values() for b in f["bad_lines"]
    )
    assert s["rejected_by_reason"] == dict(expected_reasons)


def test_store_counts_per_file_match_the_manifest(sample_store, manifest):
    rows = all_rows(
        sample_store,
        """
        SELECT s.path, s.lines_consumed, s.blank_lines,
               count(*) FILTER (WHERE kind = 'request'),
               count(*) FILTER (WHERE kind = 'trace'),
               count(*) FILTER (WHERE kind = 'log')
        FROM sources s LEFT JOIN records r USING (source_id) GROUP BY ALL""",
    )
    got = {PurePath(path).name: tuple(rest) for path, *rest in rows}
    expected = {
        name: (
            f["lines"],
            len(f["blank_lines"]),
            f["requests"],
            f["trace_events"],
            f["other_lines"],
        )
        for name, f in manifest["files"].items()
    }
    assert got == expected


def test_every_bad_line_is_rejected_with_its_reason_at_its_line(sample_store, manifest):
    got = {
        (PurePath(p).name, n, r)
        for p, n, r in all_rows(sample_store, "SELECT source_path, line_no, reason FROM rejects")
    }
    expected = {
        (name, b["line"], b["reason"])
        for name, f in manifest["files"].items()
        for b in f["bad_lines"]
    }
    assert got == expected


def test_repaired_lines_are_events_at_their_line(sample_store, manifest):
    got = {
        (PurePath(p).name, n)
        for p, n in all_rows(
            sample_store,
            "SELECT s.path, r.line_no FROM records r JOIN sources s USING (source_id)"
            " WHERE r.repaired AND r.kind <> 'reject'",
        )
    }
    expected = {(name, n) for name, f in manifest["files"].items() for n in f["repaired_lines"]}
    assert expected and got == expected


def test_blank_lines_leave_no_row(sample_store, manifest):
    for name, f in manifest["files"].items():
        stored = {
            n
            for (n,) in all_rows(
                sample_store,
                "SELECT line_no FROM records JOIN sources USING (source_id)"
                " WHERE sources.path LIKE ?",
                [f"%/{name}"],
            )
        }
        assert len(stored) == f["lines"] - len(f["blank_lines"]), name
        assert stored.isdisjoint(f["blank_lines"]), name


def scenario_ids(manifest):
    return [
        (s["name"], rid, n)
        for s in manifest["scenarios"]
        for rid, n in s["expected_events"].items()
    ]


def test_each_scenario_request_has_its_expected_number_of_events(sample_store, manifest):
    cases = scenario_ids(manifest)
    assert cases, "the manifest lists no expected events"
    got = {
        (name, rid, one(sample_store, "SELECT count(*) FROM events WHERE request_id = ?", [rid])[0])
        for name, rid, _ in cases
    }
    assert got == set(cases)


def test_requests_by_route_match_the_manifest(sample_store, manifest):
    got = dict(
        all_rows(
            sample_store,
            """
        SELECT method || ' ' || route, count(*) FROM events WHERE kind = 'request'
        GROUP BY ALL""",
        )
    )
    # a junk request line (a scanner's TLS handshake, "-") is a request with no method
    assert got.pop(None, 0) == manifest["totals"]["requests_without_method"]
    assert got == manifest["requests_by_route"]


def test_failures_by_type_code_and_status_match_the_manifest(sample_store, manifest):
    got = {
        (t, c, s, b): n
        for t, c, s, b, n in all_rows(
            sample_store,
            """
            SELECT error_type, coalesce(error_code, ''), status, error_status::INTEGER, count(*)
            FROM events WHERE kind = 'request' AND has_error_body GROUP BY ALL""",
        )
    }
    expected = {
        (f["type"], f["code"], f["status"], f["body_status"]): f["count"]
        for f in manifest["failures"]
    }
    assert got == expected
    # every failure of the API gateways (shapes A and B) carries its error body
    gateways = [f for f in manifest["files"].values() if f["shape"] in ("A", "B")]
    assert sum(got.values()) == sum(f["failed_requests"] for f in gateways)


def test_failed_requests_per_file_match_the_manifest(sample_store, manifest):
    rows = all_rows(
        sample_store,
        "SELECT s.path, count(*) FILTER (WHERE kind = 'request' AND failed) FROM sources s"
        " LEFT JOIN events e USING (source_id) GROUP BY ALL",
    )
    got = {PurePath(path).name: n for path, n in rows}
    assert got == {name: f["failed_requests"] for name, f in manifest["files"].items()}
    assert sum(got.values()) == manifest["totals"]["failed_requests"]


def test_documented_inconsistencies_are_stored_as_logged(sample_store, manifest):
    for case in manifest["doc_inconsistencies"]:
        row = one(
            sample_store,
            """
            SELECT status, error_status, error_type, coalesce(error_code, ''), error_request_id
            FROM events WHERE kind = 'request' AND request_id = ?""",
            [case["request_id"]],
        )
        body = case["body"]
        assert row == (
            case["status"],
            str(body["statusCode"]),
            body["type"],
            body.get("code", ""),
            body["requestId"],
        ), case["kind"]


def test_events_fall_inside_the_generated_days(sample_store, manifest):
    gen = manifest["generator"]
    start = datetime.fromisoformat(gen["start"]).replace(tzinfo=UTC)
    first, last = one(sample_store, "SELECT min(ts), max(ts) FROM events")
    assert start <= first and last < start + timedelta(days=gen["days"])
    assert one(sample_store, "SELECT count(*) FROM events WHERE ts IS NULL")[0] == 0


@pytest.fixture
def sample_copy(sample_ingest, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(sample_ingest[0], path)
    return path


def test_ingesting_the_sample_again_adds_nothing(sample_copy, manifest):
    with open_store(sample_copy) as s:
        again = ingest(s, SAMPLE_LOGS)
        assert (again["files_skipped"], again["events"], again["rejected"]) == (
            len(manifest["files"]),
            0,
            0,
        )
        assert (
            one(s, "SELECT count(*) FROM records")[0]
            == manifest["totals"]["lines"] - manifest["totals"]["blank_lines"]
        )
