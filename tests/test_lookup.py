"""`triage lookup` on the sample logs: found, traced in order, explained, and nothing leaked."""

from __future__ import annotations

import json

import pytest

import triage.ingest
from tests.conftest import (
    append_lines,
    assert_one_error_line,
    one,
    request_index_drift,
    request_line,
    run_triage,
    write_lines,
)
from triage.ingest import ingest_paths
from triage.lookup import ids_in_text, lookup_ids
from triage.store import open_store


@pytest.fixture(scope="module")
def db(sample_ingest):
    return sample_ingest[0]


def lookup_json(db, *args, input=None):
    result = run_triage("--db", db, "lookup", *args, "--format", "json", input=input)
    return result, json.loads(result.stdout or b"[]")


def scenario_cases(manifest):
    return [
        (s["name"], rid, n)
        for s in manifest["scenarios"]
        for rid, n in s["expected_events"].items()
    ]


def test_every_scenario_id_is_found_with_its_whole_trace_in_time_order(db, manifest):
    cases = scenario_cases(manifest)
    result, answers = lookup_json(db, *[rid for _, rid, _ in cases])
    assert result.returncode == 0, result.stderr
    by_id = {a["request_id"]: a for a in answers}
    for name, rid, expected in cases:
        a = by_id[rid]
        assert a["found"], name
        assert len(a["trace"]) == expected, name
        times = [t["ts"] for t in a["trace"]]
        assert times == sorted(times), name
        assert a["trace"][0]["offset_ms"] == 0
        assert all(":" in t["source"] for t in a["trace"])


def test_a_failed_request_is_explained_by_the_catalogue(db, manifest):
    scenario = next(s for s in manifest["scenarios"] if s["name"] == "timezone_typo")
    failed = scenario["request_ids"][0]
    _, (answer,) = lookup_json(db, failed)
    assert answer["error"]["code"] == "invalid_timezone"
    assert answer["error"]["documented"] is True
    assert "IANA" in answer["error"]["customer_action"]
    assert answer["request"]["route"] == "/v1/oncall/schedules"


def test_key_rotation_context_says_what_the_auth_service_said(db, manifest):
    """The sample's auth service logs why it rejected the key: the context says that fact
    (it used to guess "probably revoked or rotated") and when the key stopped working."""
    scenario = next(s for s in manifest["scenarios"] if s["name"] == "key_rotation_fallout")
    rid = scenario["request_ids"][len(scenario["request_ids"]) // 2]
    _, (answer,) = lookup_json(db, rid)
    same_key = answer["context"]["same_key"]
    assert same_key and same_key[0]["error_code"] == "invalid_api_key"
    assert same_key[0]["count"] >= 100
    hints = answer["context"]["hints"]
    assert any("said: api key rejected (reason: revoked" in h for h in hints), hints
    assert not any("probably" in h for h in hints)
    assert answer["context"]["key_changes"]["failures"] > same_key[0]["count"]


def test_a_request_in_the_500_burst_says_so(db, manifest):
    scenario = next(s for s in manifest["scenarios"] if s["name"] == "internal_error_burst")
    _, (answer,) = lookup_json(db, scenario["request_ids"][len(scenario["request_ids"]) // 2])
    assert answer["context"]["server_error_burst"] is not None
    assert any("burst" in h for h in answer["context"]["hints"])


def test_ids_are_dug_out_of_a_ticket(db, manifest, tmp_path):
    a, b, c = (s["request_ids"][0] for s in manifest["scenarios"][:3])
    ticket = tmp_path / "ticket.txt"
    ticket.write_text(
        f'Hello,\nour deploy failed twice. requestId: "{a.upper()}" and later\n'
        f"(X-Request-ID={b}). Support said to quote '{c}'.\nThanks\n"
    )
    result, answers = lookup_json(db, "--ticket", ticket)
    assert result.returncode == 0, result.stderr
    assert [x["request_id"] for x in answers] == [a, b, c]
    assert all(x["found"] for x in answers)


def test_ticket_parsing_finds_uuids_and_labelled_ids():
    text = (
        'See requestId: req-abc, Request-Id: "7F0C1D52-AAAA-4BBB-8CCC-123456789ABC". '
        "Not an id: 7f0c1d52-aaaa-4bbb-8ccc-123456789abcdef."
    )
    assert ids_in_text(text) == ["req-abc", "7f0c1d52-aaaa-4bbb-8ccc-123456789abc"]


def test_an_id_quoted_with_punctuation_is_the_id_inside(db, manifest):
    """lookup reads each argument as --ticket reads a ticket: the wrapping a customer's
    e-mail leaves around an id, a label before it, lost hyphens or capitals do not make
    it NOT FOUND."""
    rid = manifest["scenarios"][0]["request_ids"][0]
    quoted = [
        f'"‹{rid}>"',
        f"({rid}),",
        f'"requestId: {rid}"',
        rid.replace("-", ""),
        rid.upper().replace("-", ""),
        f"«{rid.upper()}».",
    ]
    for arg in quoted:
        result, answers = lookup_json(db, arg)
        assert result.returncode == 0, (arg, result.stderr)
        assert [(a["request_id"], a["found"]) for a in answers] == [(rid, True)], arg
    # the same from stdin, one per line
    result, answers = lookup_json(db, "-", input="\n".join(quoted).encode())
    assert result.returncode == 0 and {a["request_id"] for a in answers} == {rid}


def test_ids_from_stdin_one_per_line(db, manifest):
    ids = [s["request_ids"][0] for s in manifest["scenarios"][:2]]
    result, answers = lookup_json(db, "-", input=("\n".join(ids) + "\n").encode())
    assert result.returncode == 0, result.stderr
    assert [x["request_id"] for x in answers] == ids


def test_unknown_id_exits_1_and_explains_itself(db):
    unknown = "00000000-1111-4222-8333-444444444444"
    result, (answer,) = lookup_json(db, unknown)
    assert result.returncode == 1
    assert answer["found"] is False
    n = answer["not_found"]
    assert n["store"] == str(db) and n["first_event"].startswith("2026-11-02")
    assert n["malformed"] is None
    text = run_triage("--db", db, "lookup", unknown, "12345678-abcd").stdout.decode()
    blocks = {b.splitlines()[0]: b for b in text.strip().split("\n\n")}
    assert set(blocks) == {
        f"request {unknown}: NOT FOUND",
        "request 12345678-abcd: NOT FOUND",
    }, text
    assert "covers 2026-11-02" in blocks[f"request {unknown}: NOT FOUND"]
    assert "malformed" not in blocks[f"request {unknown}: NOT FOUND"]  # a well-formed UUID
    # the short id is called malformed, with why: on its own line, in its own block
    short = blocks["request 12345678-abcd: NOT FOUND"].splitlines()
    assert (
        "  the id looks malformed: it has 13 characters where a request id (a UUID) has 36" in short
    ), short


def test_some_found_some_not_is_exit_1(db, manifest):
    rid = manifest["scenarios"][0]["request_ids"][0]
    result, answers = lookup_json(db, rid, "not-an-id-at-all")
    assert result.returncode == 1
    assert [a["found"] for a in answers] == [True, False]


# Three requests planted for the prefix test: two share their first 13 characters
# ("abcd1234-aaaa"), the third only the first 9. Logged in this order, a minute apart.
PREFIX_TWINS = [
    "abcd1234-aaaa-4aaa-8aaa-000000000002",
    "abcd1234-aaaa-4bbb-8bbb-000000000001",
]
PREFIX_OTHER = "abcd1234-bbbb-4ccc-8ccc-000000000003"


@pytest.fixture(scope="module")
def prefix_db(tmp_path_factory):
    root = tmp_path_factory.mktemp("prefix")
    log = write_lines(
        root / "p.log",
        [
            {
                "timestamp": f"2026-11-16T10:0{i}:00Z",
                "requestId": rid,
                "method": "GET",
                "path": "/v1/incidents",
                "statusCode": 200,
            }
            for i, rid in enumerate([*PREFIX_TWINS, PREFIX_OTHER])
        ],
    )
    db = root / "p.duckdb"
    done = run_triage("--db", db, "ingest", log)
    assert done.returncode == 0, done.stderr
    return db


def test_prefix_finds_a_unique_request_and_explains_an_ambiguous_one(db, manifest, prefix_db):
    rid = manifest["scenarios"][1]["request_ids"][0]
    result, (answer,) = lookup_json(db, "--prefix", rid[:13])
    assert result.returncode == 0, result.stderr
    assert answer["found"] and answer["request_id"] == rid
    result, (answer,) = lookup_json(db, "--prefix", rid[:13], "--window", "5m")
    assert answer["context"]["window_minutes"] == 5
    # without --prefix the same text is just an unknown id
    result, (answer,) = lookup_json(db, rid[:13])
    assert result.returncode == 1 and not answer["found"]

    # a prefix two requests share: not found (exit 1), both offered, in the order logged
    result, (answer,) = lookup_json(prefix_db, "--prefix", "abcd1234-aaaa")
    assert result.returncode == 1, result.stderr
    assert answer["found"] is False and answer["request"] is None
    assert answer["not_found"]["ambiguous_prefix"] is True
    assert answer["not_found"]["similar_ids"] == PREFIX_TWINS
    text = run_triage("--db", prefix_db, "lookup", "--prefix", "abcd1234-aaaa")
    assert text.returncode == 1
    assert text.stdout.decode().splitlines()[:1] == ["request abcd1234-aaaa: NOT FOUND"]
    assert f"  matches several requests: {', '.join(PREFIX_TWINS)}" in (
        text.stdout.decode().splitlines()
    ), text.stdout.decode()
    # one character more than the shared part, and the prefix is unique again
    result, (answer,) = lookup_json(prefix_db, "--prefix", "abcd1234-aaaa-4b")
    assert result.returncode == 0 and answer["request_id"] == PREFIX_TWINS[1]
    result, (answer,) = lookup_json(prefix_db, "--prefix", "ABCD1234-BBBB")
    assert result.returncode == 0 and answer["request_id"] == PREFIX_OTHER


def test_no_ids_at_all_is_a_usage_error(db, tmp_path):
    result = run_triage("--db", db, "lookup")
    assert result.returncode == 2
    assert_one_error_line(result.stderr.decode(), "--ticket")
    empty = tmp_path / "t.txt"
    empty.write_text("no ids in here")
    result = run_triage("--db", db, "lookup", "--ticket", empty)
    assert result.returncode == 2
    assert_one_error_line(result.stderr.decode(), "no request id")


@pytest.mark.parametrize("fmt", ["text", "md", "json", "html"])
def test_planted_secrets_never_show(db, manifest, fmt):
    ids = sorted({s["request_id"] for s in manifest["secrets"] if s.get("request_id")})
    assert ids
    result = run_triage("--db", db, "lookup", *ids, "--format", fmt)
    out = result.stdout.decode()
    assert out
    for secret in manifest["secrets"]:
        assert secret["value"] not in out, secret["kind"]
    assert "scl_live_" not in out.replace("scl_live_[REDACTED]", "")


def test_html_is_escaped_and_self_contained(db, manifest):
    rid = manifest["scenarios"][0]["request_ids"][0]
    html = run_triage("--db", db, "lookup", rid, "--format", "html").stdout.decode()
    assert html.startswith("<!doctype html>")
    assert "Content-Security-Policy" in html
    assert "<script" not in html and "http://" not in html and "https://" not in html


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_lookup_says_when_the_error_came_from_flattened_fields(cli, tmp_path, fmt):
    rid = "0f1e1d5a-0000-4000-8000-000000000001"
    log = tmp_path / "flat.log"
    log.write_text(
        json.dumps(
            {"timestamp": "2026-11-10T10:00:00Z", "requestId": rid, "method": "GET",
             "path": "/v1/incidents/42", "statusCode": 404,
             "errorType": "invalid_request_error", "errorCode": "not_found"}
        ) + "\n"
    )  # fmt: skip
    assert cli("ingest", log).exit_code == 0
    result = cli("lookup", rid, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "not_found" in result.stdout and "errorType/errorCode fields" in result.stdout


def test_an_ambiguous_prefix_is_not_called_malformed(prefix_db):
    result = run_triage(
        "--db", prefix_db, "lookup", "--prefix", "abcd1234-aaaa", "--format", "json"
    )
    assert result.returncode == 1
    [answer] = json.loads(result.stdout)
    assert answer["not_found"]["ambiguous_prefix"] is True
    assert answer["not_found"]["malformed"] is None


def test_the_request_index_keeps_big_runs_sorted_and_merges_small_ones(tmp_path, monkeypatch):
    """Runs of INDEX_RUN_ROWS rows or more go to the index sorted; smaller ones wait in its
    tail until they add up to one. Every id is found at every step, and the index stays exact."""
    monkeypatch.setattr(triage.ingest, "INDEX_RUN_ROWS", 4)
    db = tmp_path / "s.duckdb"
    log = tmp_path / "app.log"
    sizes: dict[str, list[int]] = {"request_index": [], "request_index_tail": []}
    written = 0
    for n in (6, 2, 1, 3, 5):  # a run; the tail; the tail; merged (6 >= 4); a run
        lines = [request_line(i, statusCode=500) for i in range(written, written + n)]
        if written:
            append_lines(log, lines)
        else:
            write_lines(log, lines)
        written += n
        with open_store(db) as store:
            ingest_paths(store, [str(log)])
            assert request_index_drift(store.con) == (written, [])
            for table in sizes:
                sizes[table].append(one(store, f"SELECT count(*) FROM {table}")[0])
            found = lookup_ids(store, [f"r{i}" for i in range(written)])
            assert [f.found for f in found] == [True] * written
    assert sizes == {"request_index": [6, 6, 6, 12, 17], "request_index_tail": [0, 2, 3, 0, 0]}
    with open_store(db) as store:  # each run is sorted by hash, in the order it was written
        runs = store.con.execute("SELECT rid_hash FROM request_index ORDER BY rowid").fetchall()
    hashes = [h for (h,) in runs]
    assert all(sorted(run) == run for run in (hashes[:6], hashes[6:12], hashes[12:]))
