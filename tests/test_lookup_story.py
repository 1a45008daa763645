"""The story a lookup and a reply tell, on a planted log where every fact is known: what a
service said about the request, when the key last worked and since when it fails, whether
the org's other keys kept working, an id found only in a rejected line, and replies that
paste into an e-mail."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import run_triage, write_lines

AT = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)
FLOOD = 40  # failures of the revoked key, one every 5 s from 09:12:04
OLD, NEW = "key_0old0000000000000000001", "key_0new0000000000000000002"
SECRET = "s3cr3t-d0-n0t-sh0w-m3"


def iso(at: dt.datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def request(rid, at, key, status, code=None):
    line = {
        "timestamp": iso(at),
        "requestId": rid,
        "orgId": "org_k",
        "apiKeyId": key,
        "method": "GET",
        "path": "/v1/incidents",
        "route": "/v1/incidents",
        "statusCode": status,
        "durationMs": 4,
    }
    if code:
        line["error"] = {
            "statusCode": status,
            "type": "not_authorized_error",
            "code": code,
            "requestId": rid,
        }
    return line


def uuid(n: int) -> str:
    return f"{n:08x}-0000-4000-8000-{n:012x}"


LAST_OK = AT.replace(hour=7, minute=41, second=33)
FIRST_FAIL = AT.replace(hour=9, minute=12, second=4)
FAILED = [uuid(1000 + i) for i in range(FLOOD)]
# one id per way a line can be rejected, each written only in its rejected line (in this
# order): the key is the case, the value its id and the reason the line gets
IN_REJECTS = {
    "invalid_json": (uuid(1), "invalid_json"),
    "not_an_object": (uuid(2), "not_an_object"),
    "unrecognised_text": (uuid(3), "unrecognised_text"),
    "too_long": (uuid(4), "too_long"),
    "no_timestamp": (uuid(5), "no_timestamp"),
    "bad_timestamp": (uuid(6), "bad_timestamp"),
    "bad bytes, cut short": (uuid(7), "invalid_json"),  # repaired, then still not JSON
}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    root = tmp_path_factory.mktemp("story")
    api = [
        request(uuid(900), AT.replace(hour=7), OLD, 200),
        request(uuid(901), LAST_OK, OLD, 200),
        *(
            request(rid, FIRST_FAIL + dt.timedelta(seconds=5 * i), OLD, 401, "invalid_api_key")
            for i, rid in enumerate(FAILED)
        ),
        request(uuid(950), AT.replace(hour=9, minute=20), NEW, 200),
        request(uuid(951), AT.replace(hour=9, minute=30), NEW, 200),
    ]
    trace = {
        "timestamp": iso(FIRST_FAIL + dt.timedelta(milliseconds=2)),
        "service": "auth-svc",
        "requestId": FAILED[0],
        "msg": "api key rejected",
        "reason": "revoked",
    }
    ids = {case: rid for case, (rid, _) in IN_REJECTS.items()}
    whole = json.dumps(request(ids["invalid_json"], AT, NEW, 200))
    cut = whole[: whole.index(ids["invalid_json"]) + 50]  # a writer killed mid-line
    rejects = [
        cut,
        json.dumps(["lost", ids["not_an_object"]]),
        f"something odd happened to {ids['unrecognised_text']}",
        json.dumps({"requestId": ids["too_long"], "pad": "x" * (1 << 20)}),
        json.dumps({"requestId": ids["no_timestamp"], "msg": "no time"}),
        json.dumps({"timestamp": "yesterday", "requestId": ids["bad_timestamp"]}),
        f'{{"requestId": "{ids["bad bytes, cut short"]}", "msg": "caf'.encode() + b"\xe9\xff",
    ]
    # a service that logs a secret beside its message: shown by name, never by value
    leaky = {**trace, "requestId": FAILED[1], "reason": "expired", "session_token": SECRET}
    logs = [
        write_lines(root / "api.ndjson", api),
        write_lines(root / "auth.ndjson", [trace, leaky]),
        write_lines(root / "broken.ndjson", rejects),
    ]
    path = root / "s.duckdb"
    made = run_triage("--db", path, "ingest", *logs)
    assert made.returncode == 0, made.stderr
    return path


def lookup(db, *args):
    result = run_triage("--db", db, "lookup", *args, "--format", "json")
    return result, json.loads(result.stdout)


def test_a_trace_event_shows_what_the_service_said_and_facts_beat_guesses(db):
    result, (found,) = lookup(db, FAILED[0])
    assert result.returncode == 0, result.stderr
    auth = [t for t in found["trace"] if t["service"] == "auth-svc"]
    assert auth and auth[0]["fields"] == {"reason": "revoked"}
    assert auth[0]["what"] == "api key rejected (reason: revoked)"
    hints = found["context"]["hints"]
    assert "auth-svc said: api key rejected (reason: revoked)." in hints
    assert not any("probably revoked" in h for h in hints)


def test_a_trace_events_secret_fields_are_named_never_shown(db):
    for fmt in ("json", "text", "md", "html"):
        args = ("--db", db, "lookup", FAILED[1], "--format", fmt)
        text = run_triage(*args).stdout.decode()
        assert "session_token" in text and SECRET not in text, fmt
    _, (found,) = lookup(db, FAILED[1])
    auth = next(t for t in found["trace"] if t["service"] == "auth-svc")
    assert auth["fields"] == {"reason": "expired", "session_token": "[REDACTED]"}


def test_the_lookup_says_when_the_key_stopped_working_and_that_other_keys_did_not(db):
    _, (found,) = lookup(db, FAILED[10])
    k = found["context"]["key_changes"]
    assert k["last_success"] == iso(LAST_OK).replace(".000Z", "Z")
    assert k["failing_since"] == iso(FIRST_FAIL).replace(".000Z", "Z")
    assert k["failures"] == FLOOD
    assert k["next_success"] is None
    assert (k["other_keys_working"], k["other_keys_successes"]) == (1, 2)
    line = next(h for h in found["context"]["hints"] if h.startswith(OLD))
    assert "last succeeded 2026-11-10 07:41:33 UTC, fails since 2026-11-10 09:12:04 UTC" in line
    assert f"({FLOOD} failures" in line and "other keys kept working (1 key" in line


@pytest.mark.parametrize("case", list(IN_REJECTS))
def test_an_id_only_in_a_rejected_line_is_found_there(db, case):
    rid, reason = IN_REJECTS[case]
    result, (found,) = lookup(db, rid)
    assert result.returncode == 0, result.stderr
    assert found["found"] and found["request"] is None
    assert [(t["kind"], t["what"]) for t in found["trace"]] == [
        ("reject", f"rejected line ({reason})")
    ]
    line_no = list(IN_REJECTS).index(case) + 1  # the rejects are written in that order
    assert found["trace"][0]["source"].endswith(f"broken.ndjson:{line_no}")
    text = run_triage("--db", db, "lookup", rid).stdout.decode()
    assert "found only in a rejected line" in text and reason in text


def test_the_reply_is_plain_text_and_names_the_key_and_the_real_count(db):
    result = run_triage("--db", db, "reply", FAILED[5])
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    assert "**" not in text and "`" not in text and "\\>" not in text  # no Markdown
    assert "Your API key key_…0001 last worked at 07:41 and has failed" in text
    assert f"has failed {FLOOD} times since 09:12 UTC" in text
    assert "key_…0001" in text and OLD not in text  # named, shortened
    assert "other API key kept working" in text
    assert "similar request" not in text  # the real count, not the retries nearby
    md = run_triage("--db", db, "reply", FAILED[5], "--format", "md").stdout.decode()
    assert "**Why it failed:**" in md and "`key_…0001`" in md


def test_a_reply_never_thanks_for_an_id_that_was_not_found(db, tmp_path):
    unknown = "0badc0de-0000-4000-8000-000000000000"
    ticket = write_lines(tmp_path / "ticket.txt", [f"Hi, ids {FAILED[3]} and ({unknown})."])
    for args in (["reply", FAILED[3], unknown], ["reply", "--ticket", ticket]):
        result = run_triage("--db", db, *args)
        assert result.returncode == 1  # one id was not found, as lookup says
        text = result.stdout.decode()
        thanks = next(line for line in text.splitlines() if line.startswith("Thank you"))
        assert FAILED[3] in thanks and unknown not in thanks
        assert f"We could not find request {unknown}" in text
        assert "send us the full response body" in text
    alone = run_triage("--db", db, "reply", unknown).stdout.decode()
    assert "Thank you" not in alone and "quote the request id" not in alone
