"""`triage serve`'s safety rules, each against a real server process: secrets masked and log
values escaped on every page (the security corpus of test_security, served), a token off
localhost, the Host header checked, GET only, a strict CSP, one-line 400s, no path to the
filesystem."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest

from tests.conftest import assert_one_error_line, run_triage
from tests.serving import serving
from tests.test_security import (
    ID_INJ,
    INCIDENT_SINCE,
    INCIDENT_UNTIL,
    PLANTED_IDS,
    SECRETS,
    WEEK,
    _ingested,
    corpus_lines,
)

TOKEN = "t0k3n-for-the-desk-8f2c1e9a"


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    db = _ingested(tmp_path_factory.mktemp("serve-security"), corpus_lines())
    with serving(db) as server:
        yield server


def _pages() -> list[str]:
    ids = "+".join(PLANTED_IDS)
    pages = [
        "/",
        f"/lookup?q={ids}",
        "/errors",
        "/errors?by=route,org,key,code",
        "/errors?by=type,code,status&since=2026-11-16&until=2026-11-23",
        "/contract",
        f"/reports/weekly/{WEEK}",
        f"/incidents?since={quote(INCIDENT_SINCE)}&until={quote(INCIDENT_UNTIL)}",
        "/incidents",
        "/sources",
        "/api/errors?by=org,key,route,code",
    ]
    pages += [f"/requests/{i}" for i in PLANTED_IDS]
    pages += [f"/api/lookup/{i}" for i in PLANTED_IDS]
    return pages


PAGES = _pages()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_masks_every_secret_and_escapes_every_value(planted, path):
    answer = planted.get(path)
    assert answer.status == 200, (path, answer.body[:500])
    leaks = [f"{kind}: {value}" for kind, value in SECRETS.items() if value in answer.body]
    assert leaks == [], path
    if answer.header("content-type").startswith("application/json"):
        # JSON holds the values as logged, like `--format json`: inert, never sniffed as HTML
        assert answer.header("x-content-type-options") == "nosniff"
        return
    assert answer.header("content-type").startswith("text/html"), path
    assert "<script>alert(1)" not in answer.body
    scripts = re.findall(r"(?i)<\s*script[^>]*>", answer.body)
    assert scripts == ['<script src="/static/serve.js" defer>'], path
    tags = re.findall(r"<[a-zA-Z][^<>]*>", answer.body)
    assert [t for t in tags if re.search(r"(?i)\bon[a-z]+\s*=", t)] == [], path
    assert [t for t in tags if re.search(r"(?i)\bstyle\s*=", t)] == [], path
    assert re.search(r"(?i)<style", answer.body) is None, path


def test_the_injected_request_shows_its_payload_escaped(planted):
    """Not dropped: the lookup shows the request's script-laden path and message, escaped."""
    body = planted.get(f"/requests/{ID_INJ}").body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.mark.parametrize("path", ["/", "/errors", f"/requests/{ID_INJ}", "/nope"])
def test_every_answer_carries_a_strict_content_security_policy(planted, path):
    answer = planted.get(path)
    csp = answer.header("content-security-policy")
    assert csp is not None, path
    rules = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert rules["default-src"] == "'none'"
    assert rules["script-src"] == "'self'" and rules["style-src"] == "'self'"
    assert "unsafe-inline" not in csp and "http" not in csp
    assert rules["frame-ancestors"] == "'none'"
    assert answer.header("x-content-type-options") == "nosniff"
    assert answer.header("referrer-policy") == "no-referrer"
    assert answer.header("cache-control") == "no-store"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_nothing_but_reading(planted, method):
    answer = planted.get("/errors", method=method)
    assert answer.status == 405
    assert answer.header("allow") == "GET, HEAD"


def test_a_page_changes_nothing_in_the_store(tmp_path):
    """Read-only all the way down: every page fetched, the store's bytes are the same."""
    db = _ingested(tmp_path, corpus_lines()[:200])
    before = db.read_bytes()
    with serving(db) as server:
        for path in PAGES:
            # (a smaller corpus: some planted ids are not in it, a 404 from /api/lookup)
            assert server.get(path).status in (200, 404), path
    assert db.read_bytes() == before
    assert not db.with_name(db.name + ".wal").exists()


@pytest.mark.parametrize(
    "host, status",
    [
        ("evil.example", 421),
        ("evil.example:{port}", 421),
        ("127.0.0.1.evil.example", 421),
        ("", 421),
        ("localhost:{port}", 200),
        ("127.0.0.1:{port}", 200),
        ("LOCALHOST", 200),
    ],
)
def test_the_host_header_must_name_this_server(planted, host, status):
    """A page on another site that points its name at 127.0.0.1 (DNS rebinding) sends its
    own name as Host: refused."""
    answer = planted.get("/healthz", headers={"Host": host.format(port=planted.port)})
    assert answer.status == status, answer.body


def test_off_localhost_a_token_is_required(tmp_path):
    db = _ingested(tmp_path, corpus_lines()[:50])
    done = run_triage("--db", db, "serve", "--host", "0.0.0.0", "--port", "0")
    assert done.returncode == 2
    assert_one_error_line(done.stderr.decode(), "--token", "TRIAGE_TOKEN")
    short = run_triage("--db", db, "serve", "--port", "0", "--token", "abc")
    assert short.returncode == 2
    assert_one_error_line(short.stderr.decode(), "too short")


def test_with_a_token_every_request_carries_it(tmp_path):
    db = _ingested(tmp_path, corpus_lines()[:50])
    with serving(db, env={"TRIAGE_TOKEN": TOKEN}) as server:
        assert server.link.endswith(f"?token={TOKEN}")
        refused = server.get("/errors")
        assert refused.status == 401 and TOKEN not in refused.body
        assert server.get("/errors?token=wrong-token-of-the-same-size").status == 401
        assert server.get("/errors", headers={"Cookie": "triage_token=nope"}).status == 401
        # the printed link signs in: a cookie, then the same page without the token
        signed = server.get("/errors?by=code&token=" + TOKEN)
        assert signed.status == 303
        assert signed.header("location") == "/errors?by=code"
        cookie = signed.header("set-cookie")
        assert cookie.startswith(f"triage_token={TOKEN};")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert server.get("/errors", headers={"Cookie": cookie.split(";")[0]}).status == 200
        bearer = server.get("/api/errors", headers={"Authorization": f"Bearer {TOKEN}"})
        assert bearer.status == 200


BAD = [
    "/errors?since=last+tuesdayish",
    "/errors?by=colour",
    "/errors?status=7xx",
    "/errors?tz=Mars/Olympus_Mons",
    "/errors?limit=-1",
    "/errors?since=2026-11-20&until=2026-11-10",
    "/reports/weekly/2026-W99",
    "/reports/weekly/..",
    "/lookup?q=hello+there+nothing+here",
    "/lookup?q=x&window=forever",
    "/api/errors?by=colour",
]


@pytest.mark.parametrize("path", BAD)
def test_bad_parameters_give_a_400_with_one_line(planted, path):
    answer = planted.get(path)
    assert answer.status == 400, (path, answer.body[:300])
    assert "Traceback" not in answer.body and 'File "' not in answer.body
    if path.startswith("/api/"):
        assert list(json.loads(answer.body)) == ["error"]
    else:
        lines = re.findall(r'<p class="bad" id="problem">([^<]*)</p>', answer.body)
        assert len(lines) == 1 and lines[0].strip(), answer.body
        assert "\n" not in lines[0]


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../../../etc/passwd",
        "/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/static/..%2F__init__.py",
        "/static/base.html.j2",
        "/static/%2Fetc%2Fpasswd",
        "/reports/weekly/..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_no_path_reaches_the_filesystem(planted, path):
    answer = planted.get(path)
    assert answer.status == 404, (path, answer.status)
    assert "root:" not in answer.body and "[project]" not in answer.body


def test_an_id_that_looks_like_a_path_is_just_an_id(planted):
    answer = planted.get("/requests/..%2F..%2F..%2Fetc%2Fpasswd")
    assert answer.status == 200
    assert "root:" not in answer.body and "not found" in answer.body
