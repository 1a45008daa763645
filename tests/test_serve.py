"""`triage serve` answers as the command line does, and never stands in an ingest's way.

A real server process on a copy of the sample store; the command line, run as a process
too, is the reference for every JSON answer.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from urllib.parse import quote

import pytest

from tests.conftest import Watched, request_line, run_triage, write_lines
from tests.serving import failing_ids as two_failed_requests
from tests.serving import serving


@pytest.fixture(scope="module")
def store_copy(tmp_path_factory, sample_ingest):
    db = tmp_path_factory.mktemp("serve") / "sample.duckdb"
    shutil.copyfile(sample_ingest[0], db)
    return db


@pytest.fixture(scope="module")
def server(store_copy):
    with serving(store_copy) as running:
        yield running


@pytest.fixture(scope="module")
def failing_ids(store_copy) -> list[str]:
    return two_failed_requests(store_copy)


def test_api_lookup_is_the_json_of_lookup(server, store_copy, failing_ids):
    for rid in failing_ids:
        cli = run_triage("--db", store_copy, "lookup", rid, "--format", "json")
        api = server.get(f"/api/lookup/{rid}")
        assert api.status == 200
        assert api.header("content-type").startswith("application/json")
        assert api.body == cli.stdout.decode()


def test_api_lookup_of_an_unknown_id_is_a_404_with_the_same_json(server, store_copy):
    rid = "00000000-0000-4000-8000-000000000000"
    cli = run_triage("--db", store_copy, "lookup", rid, "--format", "json")
    api = server.get(f"/api/lookup/{rid}")
    assert api.status == 404
    assert json.loads(api.body) == json.loads(cli.stdout)


@pytest.mark.parametrize(
    "query, args",
    [
        ("", []),
        ("by=route,code&status=5xx", ["--by", "route,code", "--status", "5xx"]),
        (
            "by=org&since=2026-11-09&until=2026-11-16&tz=Europe/Berlin",
            ["--by", "org", "--since", "2026-11-09", "--until", "2026-11-16"]
            + ["--tz", "Europe/Berlin"],
        ),
        ("route=" + quote("GET /v1/incidents") + "&by=code", ["--route", "GET /v1/incidents"]
         + ["--by", "code"]),
    ],
)  # fmt: skip
def test_api_errors_is_the_json_of_errors(server, store_copy, query, args):
    cli = run_triage("--db", store_copy, "errors", "--format", "json", *args)
    api = server.get(f"/api/errors?{query}")
    assert api.status == 200
    assert json.loads(cli.stdout), "the case must have rows to compare"
    assert api.body == cli.stdout.decode()


def test_a_pasted_ticket_shows_every_id_in_it(server, failing_ids):
    ticket = (
        f"Hello, since this morning our calls fail. First one: requestId: {failing_ids[0]}, "
        f"then ({failing_ids[1].upper()}). Thanks, jane@example.com"
    )
    page = server.get("/lookup?q=" + quote(ticket))
    assert page.status == 200
    for rid in failing_ids:
        assert f"Request <code>{rid}</code>" in page.body
    assert "2 ids in the text, 2 found" in page.body
    assert "jane@example.com" not in page.body
    # the summary and the reply are on the page for the copy buttons (and without script)
    summary = re.search(r'<pre class="page" id="summary">(.*?)</pre>', page.body, re.S)
    reply = re.search(r'<pre class="page" id="reply">(.*?)</pre>', page.body, re.S)
    assert summary and failing_ids[0] in summary.group(1)
    assert reply and failing_ids[1] in reply.group(1)


def test_a_request_has_a_stable_page(server, failing_ids):
    page = server.get(f"/requests/{failing_ids[0]}?tz=America/New_York")
    assert page.status == 200
    assert f"Request <code>{failing_ids[0]}</code>" in page.body
    assert re.search(r"\d\d:\d\d:\d\d E[SD]T", page.body), "the time in the zone asked"


def test_the_weekly_report_links_the_weeks_around_it(server, store_copy):
    latest = server.get("/reports/weekly?tz=UTC")
    assert latest.status == 303
    assert latest.header("location") == "/reports/weekly/2026-W46?tz=UTC"
    page = server.get("/reports/weekly/2026-W46")
    assert page.status == 200
    assert 'href="/reports/weekly/2026-W45?tz=UTC" rel="prev"' in page.body
    assert 'href="/reports/weekly/2026-W47?tz=UTC" rel="next"' in page.body
    # the same report as the command line's, around the server's navigation and links
    cli = run_triage(
        "--db", store_copy, "report", "weekly", "--week", "2026-W46", "--format", "html"
    )
    headline = re.search(r"<h2>Headline</h2>.*?</table>", cli.stdout.decode(), re.S)
    assert headline and headline.group(0) in page.body


def test_the_home_page_glances_at_the_store(server, store_copy):
    info = json.loads(run_triage("--db", store_copy, "info", "--format", "json").stdout)
    page = server.get("/")
    assert page.status == 200
    assert f"{info['requests']:,} requests" in page.body
    assert f"{info['rejected']:,} lines rejected" in page.body
    assert info["last_event"][:10] in page.body
    assert "/incidents?since=" in page.body  # the sample's bursts, linked


def test_the_sources_page_says_what_was_rejected(server, manifest):
    page = server.get("/sources")
    assert page.status == 200
    for name in ("gateway-eu.ndjson", "services.ndjson"):
        assert name in page.body
    assert "Rejected lines by reason" in page.body


def test_the_server_holds_no_connection_between_requests(server):
    for path in ("/", "/errors", "/reports/weekly/2026-W46"):
        answer = server.get(path)
        assert answer.status == 200, answer.body
    health = json.loads(server.get("/healthz").body)
    assert health["connections_open"] == 0 and health["status"] == "ok"


def test_a_store_held_by_an_ingest_gives_a_busy_page_never_a_500(tmp_path, store_copy):
    """An ingest reading a named pipe holds the store for as long as the test wants: a page
    waits a bounded time, then says the store is busy and refreshes itself; once the ingest
    is done, the page answers, with its lines."""
    db = tmp_path / "held.duckdb"
    shutil.copyfile(store_copy, db)
    fifo = tmp_path / "slow.ndjson"
    os.mkfifo(fifo)
    with serving(db) as server:
        ingest = Watched("--db", db, "ingest", fifo)
        try:
            deadline = time.monotonic() + 60
            k = 0  # a page not asked before: none kept from before the ingest
            while (page := server.get(f"/errors?limit={k + 1}")).status == 200:
                assert time.monotonic() < deadline, "the ingest never took the store"
                k += 1
            assert page.status == 503, page.body[:300]
            assert page.header("refresh") == "5" and page.header("retry-after") == "5"
            assert "busy" in page.body and "Traceback" not in page.body
            api = server.get(f"/api/errors?limit={k + 2}")
            assert api.status == 503 and "busy" in json.loads(api.body)["error"]
            with open(fifo, "w") as pipe:
                pipe.write(json.dumps(request_line(1, requestId="held-1", statusCode=503)) + "\n")
            assert ingest.finish(timeout=120) == 0, ingest.stderr
        finally:
            ingest.kill()
        assert server.get("/api/lookup/held-1").status == 200


def test_an_ingest_runs_while_pages_are_fetched(tmp_path, store_copy):
    """Pages fetched without pause by two clients while `triage ingest` (no --wait) runs:
    the ingest gets the store and finishes, no page fails (200, or 503 busy while the ingest
    writes), and the new lines are there after."""
    db = tmp_path / "live.duckdb"
    shutil.copyfile(store_copy, db)
    more = write_lines(
        tmp_path / "more.ndjson",
        [request_line(i, requestId=f"live-{i}", statusCode=500) for i in range(2000)],
    )
    statuses: list[int] = []
    stop = threading.Event()
    with serving(db) as server:

        def fetch():
            paths = ["/", "/errors", "/lookup?q=live-1", "/reports/weekly/2026-W46"]
            k = 0
            while not stop.is_set():
                statuses.append(server.get(paths[k % len(paths)]).status)
                k += 1

        clients = [threading.Thread(target=fetch, daemon=True) for _ in range(2)]
        for c in clients:
            c.start()
        try:
            while len(statuses) < 4:  # the clients are fetching
                time.sleep(0.05)
            done = run_triage("--db", db, "ingest", more)
        finally:
            stop.set()
            for c in clients:
                c.join(timeout=120)
        assert done.returncode == 0, done.stderr.decode()
        assert set(statuses) <= {200, 503}, sorted(set(statuses))
        assert statuses.count(200) >= 4
        found = json.loads(server.get("/api/lookup/live-1999").body)
        assert found[0]["found"]
    assert not (tmp_path / "live.duckdb.writer-waiting").exists()


def test_serve_refuses_a_missing_store_in_one_line(tmp_path):
    done = run_triage("--db", tmp_path / "none.duckdb", "serve", "--port", "0")
    assert done.returncode == 2
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "no store" in lines[0] and "triage ingest" in lines[0]


def test_serve_refuses_a_port_in_use_in_one_line(server, store_copy):
    done = run_triage("--db", store_copy, "serve", "--port", str(server.port))
    assert done.returncode == 2
    assert "in use" in done.stderr.decode() and "--port" in done.stderr.decode()


def test_the_errors_page_shows_every_row_and_examples_without_an_id(server, store_copy):
    """Some failures have no request id: their example is where they were logged, shown as
    text, not a link (a page once failed on them)."""
    rows = json.loads(run_triage("--db", store_copy, "errors", "--format", "json").stdout)
    without_id = [x for r in rows for x in r["examples"] if not isinstance(x, str)]
    page = server.get("/errors")
    assert page.status == 200, page.body[-600:]
    assert page.body.count("<tr><td><code>") == len(rows)
    links = re.findall(r'<a class="rid" href="/requests/([^"]+)"', page.body)
    assert len(links) == sum(isinstance(x, str) for r in rows for x in r["examples"])
    assert without_id, "the sample has failures logged without a request id"


def test_an_answer_is_kept_only_until_the_store_changes(tmp_path, store_copy):
    """Pages are kept between ingests: asked again, the same bytes without a query; after an
    ingest, never the answer from before (a request not found then is found now)."""
    db = tmp_path / "kept.duckdb"
    shutil.copyfile(store_copy, db)
    with serving(db) as server:
        before = server.get("/api/lookup/kept-7")
        assert before.status == 404
        errors = server.get("/errors?by=route")
        assert server.get("/errors?by=route").body == errors.body
        assert json.loads(server.get("/healthz").body)["answers_kept"]["hits"] >= 1
        log = write_lines(
            tmp_path / "new.ndjson",
            [request_line(7, requestId="kept-7", statusCode=500, path="/v1/kept")],
        )
        assert run_triage("--db", db, "ingest", log).returncode == 0
        after = server.get("/api/lookup/kept-7")
        assert after.status == 200 and json.loads(after.body)[0]["found"]
        assert "/v1/kept" in server.get("/errors?by=route").body


def test_a_range_without_a_burst_is_a_page_with_the_window_form(server, store_copy):
    """The command line says "no burst" as an error (there is no summary to print); the
    page says it as an answer, and offers another window."""
    cli = run_triage("--db", store_copy, "incident", "--auto", "--since", "2026-11-15T20:00")
    assert cli.returncode == 2 and "no burst of failures" in cli.stderr.decode()
    page = server.get("/incidents?since=2026-11-15T20:00")
    assert page.status == 200
    assert "<h1>No burst of failures</h1>" in page.body
    assert 'name="since" value="2026-11-15T20:00"' in page.body
    found = server.get("/incidents")
    assert found.status == 200 and "Incident summary" in found.body
    assert 'action="/incidents"' in found.body


def test_the_latest_week_link_keeps_a_zone_with_a_plus_sign(server):
    """/reports/weekly redirects with the zone as a query value: Etc/GMT+5's '+' once came
    back unquoted and was read as a space (an unknown zone, a 400)."""
    latest = server.get("/reports/weekly?tz=" + quote("Etc/GMT+5", safe=""))
    assert latest.status == 303
    where = latest.header("location")
    assert where.endswith("?tz=Etc%2FGMT%2B5"), where
    page = server.get(where)
    assert page.status == 200 and "GMT+5" in page.body
