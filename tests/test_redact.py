"""Masking: secrets named by their field, secrets known by their shape, and every way out
(views, row exports, error messages, chart labels, dictionary keys)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import run_triage, write_lines
from triage.redact import mask, redacted, secret_name

KEY = "scl_live_" + "Gl7uEd9wOrD4kEy2xP5qR8sT1vW3yZ6a"


@pytest.mark.parametrize(
    "text, secret",
    [
        ("client_secret=cs_9f8e7d6c5b4a", "cs_9f8e7d6c5b4a"),
        ("grant_type=refresh_token&refresh_token=rt.AbC123xyz", "rt.AbC123xyz"),
        ("GET /cb?myAccessToken=at_55aa66bb77", "at_55aa66bb77"),
        ("x_access_token_v2=zz9yy8xx7", "zz9yy8xx7"),
        ('{"password": "hunter2!"}', "hunter2!"),
        ('{"token":"tk-31337-abc"}', "tk-31337-abc"),
        ('{"apiKey": "k-5551234"}', "k-5551234"),
        ('{"secret": 73184512}', "73184512"),
        ('{"nested": {"db_password": "pw with spaces"}}', "pw with spaces"),
        ('{"log":"{\\"password\\":\\"inner-pw-42\\"}"}', "inner-pw-42"),
        ("password: correct-horse", "correct-horse"),
        ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("Authorization: Bearer tokBrr9Zx8Yw7Vu6", "tokBrr9Zx8Yw7Vu6"),
        ("X-Api-Key: xak_1234567", "xak_1234567"),
        ("Cookie: session=sess_998877; theme=dark", "sess_998877"),
        ("X-Amz-Signature=f00dfeed1234", "f00dfeed1234"),
        ("postgres://svc:db-pass-77@db.internal/app", "db-pass-77"),
        (f"my_{KEY}", KEY),
        (f"key={KEY}", KEY),
        (f"prefix{KEY}suffix", KEY[len("scl_live_") :]),
        ("contact jane.doe@example.com", "jane.doe@example.com"),
    ],
)
def test_secrets_are_masked_by_name_and_by_shape(text, secret):
    assert secret not in mask(text)
    assert "REDACTED" in mask(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"apiKeyId": "key_019vu5kf3d4f6goyxg837pu8zk"}',  # a key's id names it; shown
        "api_key_id=key_019vu5kf3d4f6goyxg837pu8zk",
        '{"author": "Jane Roe"}',
        "at 10:00:00 on /v1/oncall/schedules/{id}",
        "not_authorized_error / invalid_api_key",
    ],
)
def test_what_is_not_secret_is_left_alone(text):
    assert mask(text) == text


def test_secret_names_are_read_word_by_word():
    assert secret_name("client_secret") and secret_name("refreshToken")
    assert secret_name("X-Api-Key") and secret_name("sessionId")
    assert not secret_name("apiKeyId") and not secret_name("author")
    assert not secret_name("keyboard") and not secret_name("monkey")


def test_redacted_masks_dictionary_keys_and_nested_values():
    value = {f"code {KEY}": [("x", f"Bearer {'t' * 12}")], "n": 3}
    out = redacted(value)
    assert KEY not in json.dumps(out) and "t" * 12 not in json.dumps(out)
    assert out[f"code scl_live_{'[REDACTED]'}"][0][0] == "x"
    assert out["n"] == 3


@pytest.fixture(scope="module")
def leaky_store(tmp_path_factory):
    """A store whose lines carry secrets the old rules missed."""
    tmp = tmp_path_factory.mktemp("leaky")
    rid = "7e57ab1e-0000-4000-8000-000000000001"
    lines = [
        {
            "timestamp": "2026-11-10T10:00:00Z",
            "requestId": rid,
            "method": "POST",
            "path": "/v1/oauth/token?client_secret=cs_leak_0001&refresh_token=rt_leak_0002",
            "statusCode": 401,
            "orgId": "org_1",
            "apiKeyId": "key_1",
            "userAgent": f"sdk my_{KEY}",
            "error": {
                "type": "not_authorized_error",
                "code": f"bad_{KEY}",
                "statusCode": 401,
                "requestId": rid,
                "message": 'rejected {"password": "pw_leak_0003", "secret": "sec_leak_0004"}',
            },
        },
        {"timestamp": "2026-11-10T10:00:01Z", "requestId": rid, "service": "auth", "token": "x",
         "msg": 'token check {"apiKey": "ak_leak_0005"}'},
    ]  # fmt: skip
    path = write_lines(tmp / "leaky.log", lines)
    db = tmp / "leaky.duckdb"
    done = run_triage("--db", db, "ingest", path)
    assert done.returncode == 0, done.stderr
    return db, rid


LEAKS = [KEY, "cs_leak_0001", "rt_leak_0002", "pw_leak_0003", "sec_leak_0004", "ak_leak_0005"]


@pytest.mark.parametrize("fmt", ["text", "md", "json", "html"])
def test_lookup_masks_secrets_in_every_format(leaky_store, fmt):
    db, rid = leaky_store
    out = run_triage("--db", db, "lookup", rid, "--format", fmt)
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert rid in text  # the request was shown
    for leak in LEAKS:
        assert leak not in text, leak


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "md"])
def test_sql_masks_secrets_in_raw_lines(leaky_store, fmt):
    db, _ = leaky_store
    statement = "SELECT raw, path, user_agent FROM records"
    out = run_triage("--db", db, "sql", statement, "--format", fmt)
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert "REDACTED" in text
    for leak in LEAKS:
        assert leak not in text, leak


def test_duckdb_error_messages_are_masked(leaky_store):
    """DuckDB quotes the value it could not convert: that value is stored log text."""
    db, _ = leaky_store
    out = run_triage("--db", db, "sql", "SELECT user_agent::INTEGER FROM records")
    assert out.returncode == 2
    err = out.stderr.decode()
    assert err.startswith("Error: ") and "Traceback" not in err
    assert "scl_live_[REDACTED]" in err and KEY not in err


def test_report_chart_labels_and_keys_are_masked(leaky_store):
    db, _ = leaky_store
    for fmt in ("html", "json", "md"):
        out = run_triage("--db", db, "report", "weekly", "--week", "2026-W46", "--format", fmt)
        assert out.returncode == 0, out.stderr
        text = out.stdout.decode()
        assert "bad_scl_live_" in text  # the code is there, masked
        for leak in LEAKS:
            assert leak not in text, (fmt, leak)


def test_an_unexpected_exception_is_one_line_exit_4_and_debug_shows_it(tmp_path):
    """The catch-all at the CLI boundary: a bug never reaches the user as a traceback, and
    its text is masked (it may quote a stored value)."""
    script = tmp_path / "buggy.py"
    script.write_text(
        "import sys\n"
        "from triage.cli import cli\n"
        "@cli.command()\n"
        "def boom():\n"
        f"    raise ValueError('cannot handle {KEY}')\n"
        "cli(['boom'], prog_name='triage')\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert out.returncode == 4, out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("Error: triage failed")
    assert "ValueError" in out.stderr and "TRIAGE_DEBUG=1" in out.stderr
    assert KEY not in out.stderr
    debug = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True,
        env={**os.environ, "TRIAGE_DEBUG": "1"},
    )  # fmt: skip
    assert "Traceback" in debug.stderr and debug.returncode != 0
