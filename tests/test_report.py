"""The weekly report: golden files, numbers checked independently, honest edge cases, and
the HTML opened in a real headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from tests import sample_truth
from tests.conftest import (
    SAMPLE_LOGS,
    assert_one_error_line,
    log_line,
    request_line,
    run_triage,
    write_lines,
)
from tests.pngcheck import ink_ratio
from tests.test_summaries import check_golden

W46 = (datetime(2026, 11, 9, tzinfo=UTC), datetime(2026, 11, 16, tzinfo=UTC))
W45 = (W46[0] - timedelta(days=7), W46[0])


def report_text(db, *args, fmt="json") -> str:
    """The report as printed, with the machine-specific paths (the checkout, the temporary
    store) named the same on every machine so golden files compare."""
    result = run_triage("--db", db, "report", "weekly", *args, "--format", fmt)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode().replace(str(db), "STORE").replace(f"{SAMPLE_LOGS.parent}/", "")


def report(db, *args, fmt="json"):
    text = report_text(db, *args, fmt=fmt)
    return json.loads(text) if fmt == "json" else text


def in_week(r, week):
    return week[0] <= r.ts < week[1]


def store_of_requests(tmp_path, instants, status=lambda at: 200):
    """A store ingested from one log line per instant: a GET with the given status."""
    lines = [
        {
            "timestamp": at.isoformat().replace("+00:00", "Z"),
            "requestId": f"r{i}",
            "method": "GET",
            "path": "/v1/incidents",
            "statusCode": status(at),
        }
        for i, at in enumerate(instants)
    ]
    db = tmp_path / "s.duckdb"
    assert run_triage("--db", db, "ingest", write_lines(tmp_path / "w.log", lines)).returncode == 0
    return db


def test_markdown_and_json_match_their_golden_files(sample_ingest):
    db = sample_ingest[0]
    check_golden("report-2026-W46.md", report_text(db, "--week", "2026-W46", fmt="md"))
    check_golden("report-2026-W46.json", report_text(db, "--week", "2026-W46", fmt="json"))


def test_default_week_is_the_last_complete_one(sample_ingest):
    assert report(sample_ingest[0])["week"] == "2026-W46"


def test_headline_agrees_with_a_plain_reading(sample_ingest):
    data = report(sample_ingest[0], "--week", "2026-W46")
    h = data["headline"]
    for week, key in ((W46, "value"), (W45, "previous")):
        reqs = [r for r in sample_truth.requests() if in_week(r, week)]
        fails = [r for r in reqs if r.status >= 400 or r.body]
        assert h["requests"][key] == len(reqs)
        assert h["failures"][key] == len(fails)
        assert h["server_errors"][key] == sum(1 for r in reqs if r.status >= 500)
        assert h["orgs_affected"][key] == len({r.org for r in fails if r.org})
    assert h["failure_rate"]["value"] == pytest.approx(
        h["failures"]["value"] / h["requests"]["value"], abs=1e-4
    )


def code_row_of(f) -> tuple:
    """The codes row a failure counts in: its type and code, and, for a failure logged
    without an error body (no type or code to tell it apart), its status."""
    return (*sample_truth.type_and_code(f), None if f.body else f.status)


def code_row_key(c: dict) -> tuple:
    return c["type"], c["code"], c["status"] if c["type"] is None and c["code"] is None else None


def test_codes_agree_with_a_plain_reading_and_carry_markers(sample_ingest):
    data = report(sample_ingest[0], "--week", "2026-W46")
    this = Counter(code_row_of(f) for f in sample_truth.failures() if in_week(f, W46))
    prev = Counter(code_row_of(f) for f in sample_truth.failures() if in_week(f, W45))
    rows = {code_row_key(c): c for c in data["codes"]}
    assert {k: r["count"] for k, r in rows.items() if r["count"]} == dict(this)
    assert {k: r["previous"] for k, r in rows.items() if r["previous"]} == dict(prev)
    for key, row in rows.items():
        if this[key] and not prev[key]:
            assert row["marker"] == "new", key
        if prev[key] and not this[key]:
            assert row["marker"] == "gone", key
    assert rows[("not_authorized_error", "invalid_api_key", None)]["marker"] == "up sharply"
    assert rows[("internal_error", "server_error", None)]["documented"] is False


def test_contract_section_equals_the_contract_command_over_the_week(sample_ingest):
    """The report checks its staged rows (request ids compared by hash, examples fetched by
    row id); `triage contract` scans the store and compares the ids' text. Same answer."""
    db = sample_ingest[0]
    section = report(db, "--week", "2026-W46")["contract"]
    result = run_triage(
        "--db",
        db,
        "contract",
        "--since",
        "2026-11-09",
        "--until",
        "2026-11-16",
        "--examples",
        "1",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    assert section == json.loads(result.stdout)
    assert any(r["violation"] == "body_request_id_mismatch" for r in section)
    failures = [f for f in sample_truth.failures() if in_week(f, W46)]
    for row in section:
        for rid in row["examples"]:
            # a real request id of this week's failures, not a row number (None for a line
            # that has no id, as the edge's text lines)
            assert any(
                (*sample_truth.type_and_code(f), f.status)
                == (row["type"], row["code"], row["status"])
                for f in failures
                if f.request_id == rid
            ), rid


def test_code_examples_are_this_weeks_latest_failures_of_the_code(sample_ingest):
    data = report(sample_ingest[0], "--week", "2026-W46")
    for row in data["codes"]:
        mine = sorted(
            (
                f
                for f in sample_truth.failures()
                if in_week(f, W46) and code_row_of(f) == code_row_key(row)
            ),
            key=lambda f: f.ts,
            reverse=True,
        )
        latest = (
            {f.request_id for f in mine if f.ts >= mine[1].ts}
            if len(mine) > 1
            else {f.request_id for f in mine}
        )
        assert len(row["examples"]) == min(2, len(mine))
        assert set(row["examples"]) <= latest, row["code"]


def test_the_week_without_a_previous_week_says_so(sample_ingest):
    data = report(sample_ingest[0], "--week", "2026-W45")
    assert "no data for the previous week" in data["baseline_note"]
    assert data["headline"]["failures"]["previous"] is None
    assert data["headline"]["failures"]["change"] is None
    assert "+inf" not in report(sample_ingest[0], "--week", "2026-W45", fmt="md").lower()


def test_an_empty_week_is_reported_as_missing_data(sample_ingest):
    data = report(sample_ingest[0], "--week", "2026-W47")
    assert data["headline"]["requests"]["value"] == 0
    assert "no requests for this week" in data["coverage_note"]
    assert data["data_quality"]["hours_without_data"] == 168
    md = report(sample_ingest[0], "--week", "2026-W47", fmt="md")
    assert "missing data, not a week without errors" in md


def test_a_week_with_a_gap_lists_the_hours_without_data(tmp_path):
    start = datetime(2026, 11, 16, tzinfo=UTC)  # Monday of 2026-W47
    db = store_of_requests(
        tmp_path,
        [start + timedelta(hours=h, minutes=5) for h in [*range(30), *range(40, 168)]],
        status=lambda at: 500 if at.hour == 3 else 200,  # no data from hour 30 to 39
    )
    data = report(db, "--week", "2026-W47")
    dq = data["data_quality"]
    assert dq["hours_without_data"] == 10
    assert [(g["from"], g["to"]) for g in dq["gaps"]] == [
        ("2026-11-17T06:00:00Z", "2026-11-17T16:00:00Z")
    ]
    assert "10 of 168 hours" in data["coverage_note"]
    assert data["headline"]["server_errors"]["value"] == 7


def test_data_quality_names_the_files_that_hold_some_of_the_week_and_only_those(tmp_path):
    """A file of trace lines alone is found though it holds no request; a file whose lines
    fall before and after the week (its time span covers the week) is not."""
    api = write_lines(tmp_path / "api.log", [request_line(1), request_line(2)])
    traces = write_lines(tmp_path / "traces.log", [log_line(3), "{broken", log_line(4)])
    around = write_lines(
        tmp_path / "around.log",
        [
            request_line(5, timestamp="2026-11-10T10:00:00Z"),  # 2026-W46
            "[1]",
            request_line(6, timestamp="2026-11-24T10:00:00Z"),  # 2026-W48
        ],
    )
    db = tmp_path / "s.duckdb"
    assert run_triage("--db", db, "ingest", api, traces, around).returncode == 0
    dq = report(db, "--week", "2026-W47")["data_quality"]
    assert sorted((f["name"], f["lines"], f["rejected"]) for f in dq["files"]) == [
        ("api.log", 2, 0),
        ("traces.log", 3, 1),
    ]
    assert dq["rejected_by_reason"] == {"invalid_json": 1}


def test_a_shared_report_names_its_files_and_never_where_they_or_the_store_are(tmp_path):
    """A report is passed on: no path of this machine in it, the store's or a log's. Files
    of the same name in two folders are told apart by their folder."""
    eu = write_lines(tmp_path / "logs" / "eu" / "api.log", [request_line(1)])
    us = write_lines(tmp_path / "logs" / "us" / "api.log", [request_line(2)])
    db = tmp_path / "private" / "s.duckdb"
    assert run_triage("--db", db, "ingest", eu, us).returncode == 0
    dq = report(db, "--week", "2026-W47")["data_quality"]
    assert sorted(f["name"] for f in dq["files"]) == ["eu/api.log", "us/api.log"]
    for fmt in ("md", "html", "json"):
        args = ("--db", db, "report", "weekly", "--week", "2026-W47", "--format", fmt)
        text = run_triage(*args).stdout.decode()
        assert "eu/api.log" in text
        assert str(tmp_path) not in text and "s.duckdb" not in text, fmt


@pytest.mark.parametrize(
    "week, hours, previous",
    [("2026-W13", 167, 168), ("2026-W43", 169, 168), ("2026-W44", 168, 169)],
    ids=["clocks go forward", "clocks go back", "after clocks went back"],
)
def test_weeks_around_a_clock_change_are_whole_weeks_of_local_time(tmp_path, week, hours, previous):
    """In Europe/Berlin a week can last 167 or 169 hours. A line every hour of real time, so
    each week (and the one before it) holds exactly as many requests as it has hours."""
    firsts = (datetime(2026, 3, 15, tzinfo=UTC), datetime(2026, 10, 11, tzinfo=UTC))
    db = store_of_requests(
        tmp_path,
        [first + timedelta(hours=h, minutes=30) for first in firsts for h in range(24 * 7 * 4)],
    )
    data = report(db, "--week", week, "--tz", "Europe/Berlin")
    assert data["headline"]["requests"]["value"] == hours
    assert data["headline"]["requests"]["previous"] == previous
    assert data["data_quality"]["hours_without_data"] == 0  # not the hour that never was
    assert data["data_quality"]["gaps"] == []
    assert data["coverage_note"] is None and data["baseline_note"] is None
    md = report(db, "--week", week, "--tz", "Europe/Berlin", fmt="md")
    assert f"no data at all: 0 of {min(hours, 168)}." in md


def test_same_store_same_bytes_and_stamp_on_request(sample_ingest):
    db = sample_ingest[0]
    for fmt in ("md", "html"):
        assert report(db, "--week", "2026-W46", fmt=fmt) == report(
            db, "--week", "2026-W46", fmt=fmt
        )
    stamped = run_triage(
        "--db",
        db,
        "report",
        "weekly",
        "--week",
        "2026-W46",
        "--stamp",
        env={"TRIAGE_NOW": "2026-11-16T09:00:00Z"},
    ).stdout.decode()
    assert "generated 2026-11-16T09:00:00Z" in stamped


def test_output_file_is_written_atomically_and_never_overwritten_silently(sample_ingest, tmp_path):
    out = tmp_path / "week.md"
    args = ("--db", sample_ingest[0], "report", "weekly", "--week", "2026-W46", "-o", out)
    assert run_triage(*args).returncode == 0
    first = out.read_text()
    assert first.startswith("# Scaling API weekly error report: 2026-W46")
    again = run_triage(*args)
    assert again.returncode == 2
    assert_one_error_line(again.stderr.decode(), "--force")
    assert run_triage(*args, "--force").returncode == 0
    assert out.read_text() == first
    assert [p.name for p in tmp_path.iterdir()] == ["week.md"]  # no temp file left


def test_bad_week_is_a_one_line_error(sample_ingest):
    result = run_triage("--db", sample_ingest[0], "report", "weekly", "--week", "week 46")
    assert result.returncode == 2
    assert_one_error_line(result.stderr.decode(), "2026-W46")


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def open_in_chromium(page, tmp_path):
    """Load a page in headless Chromium; return its screenshot, console lines and the URLs
    the page itself asked for (the browser's own background calls, whose initiator is
    'not an origin', are not the page's doing)."""
    browser = chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium (see .ci/run)")
        pytest.skip("chromium is not installed here")
    shot, netlog = tmp_path / "shot.png", tmp_path / "net.json"
    run = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            f"--log-net-log={netlog}",
            f"--screenshot={shot}",
            "--window-size=600,900",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists(), run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    requested = set()
    for event in json.loads(netlog.read_text() or "{}").get("events", []):
        params = event.get("params") or {}
        if "url" in params and params.get("initiator", "not an origin") != "not an origin":
            requested.add(params["url"])
    return shot.read_bytes(), console, requested


@pytest.mark.slow
def test_html_report_renders_in_headless_chromium_offline(sample_ingest, tmp_path):
    page = tmp_path / "week.html"
    assert (
        run_triage(
            "--db",
            sample_ingest[0],
            "report",
            "weekly",
            "--week",
            "2026-W46",
            "--format",
            "html",
            "-o",
            page,
        ).returncode
        == 0
    )
    html = page.read_text()
    assert "<script" not in html and "Content-Security-Policy" in html
    shot, console, requested = open_in_chromium(page, tmp_path)
    assert not console, console
    assert not requested, requested
    assert ink_ratio(shot) > 0.02  # not a blank page


@pytest.mark.slow
def test_the_chromium_check_sees_a_page_that_reaches_out(tmp_path):
    # the control: without it, "no request seen" could mean the check sees nothing
    page = tmp_path / "leaky.html"
    page.write_text('<!doctype html><p>x</p><img src="http://127.0.0.1:9/pixel.png">')
    _, _, requested = open_in_chromium(page, tmp_path)
    assert "http://127.0.0.1:9/pixel.png" in requested


def _svgs(html: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", html, flags=re.S)


def _tips(svg: str) -> list[str]:
    return [unescape(t) for t in re.findall(r"<title>([^<]*)</title>", svg)[1:]]


def test_the_charts_show_the_reports_numbers(sample_ingest):
    """Each bar of the day chart is one type's failures on one day, each cell of the rate
    chart one hour's, each bar of the codes chart one code's, as the report counts them."""
    db = sample_ingest[0]
    data = report(db, "--week", "2026-W46")
    per_day, rate, codes = _svgs(report(db, "--week", "2026-W46", fmt="html"))
    shown = {(t.split(" · ")[0], t.split(" · ")[1]): int(t.split(" · ")[2].replace(",", ""))
             for t in _tips(per_day)}  # fmt: skip
    assert shown == {(d["day"], t): n for d in data["daily"] for t, n in d["by_type"].items()}
    cells = _tips(rate)
    busy = [h for h in data["hourly"] if h["requests"]]
    assert len(cells) == len(busy)
    h = max(busy, key=lambda h: h["failures"] / h["requests"])
    expected = f"{h['failures'] / h['requests']:.1%} ({h['failures']:,} of {h['requests']:,})"
    assert f"{h['day']} {h['hour']:02d}:00 · {expected}" in cells
    bars = _tips(codes)
    for c in data["codes"][:8]:
        assert f"{c['code'] or '(no code)'} · {c['count']:,} this week" in bars
        assert f"{c['code'] or '(no code)'} · {c['previous']:,} previous week" in bars


def test_a_series_keeps_its_colour_from_report_to_report(sample_ingest):
    """The same error type, and "this week", are drawn in the same colour in every report,
    whatever else the week holds."""
    colours = {}
    for week in ("2026-W45", "2026-W46"):
        per_day, _, codes = _svgs(report(sample_ingest[0], "--week", week, fmt="html"))
        for fill, tip in re.findall(r'fill="(#[0-9a-f]{6})"><title>([^<]*)</title>', per_day):
            colours.setdefault(tip.split(" · ")[1], set()).add(fill)
        for fill, tip in re.findall(r'fill="(#[0-9a-f]{6})"><title>([^<]*)</title>', codes):
            colours.setdefault(tip.rsplit(" ", 2)[-2] + " week", set()).add(fill)
    assert len(colours) > 4
    assert all(len(fills) == 1 for fills in colours.values()), colours
    assert len({f for fills in colours.values() for f in fills}) == len(colours)


def test_a_week_without_requests_draws_empty_charts_that_say_so(sample_ingest):
    per_day, rate, codes = _svgs(report(sample_ingest[0], "--week", "2026-W47", fmt="html"))
    assert "no failures this week" in per_day
    assert _tips(per_day) == _tips(rate) == []  # nothing drawn as data
    assert rate.count('fill="none"') == 7 * 24  # every hour outlined, blank: no requests
    # the codes of the week before, gone this week
    this_week = [t for t in _tips(codes) if t.endswith(" this week")]
    assert this_week and all(t.endswith(" · 0 this week") for t in this_week)


def test_a_long_code_is_shown_whole_in_the_chart(tmp_path):
    code = "this_code_is_far_longer_than_any_documented_code_and_must_not_be_cut"
    lines = [
        request_line(i, statusCode=400, error={"type": "invalid_request_error", "code": code})
        for i in range(3)
    ]
    db = tmp_path / "s.duckdb"
    assert run_triage("--db", db, "ingest", write_lines(tmp_path / "a.log", lines)).returncode == 0
    _, _, codes = _svgs(report(db, "--week", "2026-W47", fmt="html"))
    assert f">{code}</text>" in codes
    (width,) = re.findall(r'viewBox="0 0 ([\d.]+) ', codes)
    (x,) = re.findall(rf'<text x="([\d.]+)" y="[\d.]+" text-anchor="end"[^>]*>{code}<', codes)
    assert float(x) >= len(code) * 6.5  # room on its left for every character
    assert float(width) > float(x)


def test_a_half_hour_clock_change_keeps_every_local_hour(tmp_path):
    """Lord Howe Island moves its clocks by half an hour: on 2026-10-04 02:00 becomes 02:30,
    so local 02:xx still exists for half an hour. A line every quarter hour of real time
    leaves no hour of the week without data."""
    first = datetime(2026, 9, 27, 12, tzinfo=UTC)  # before W40 starts in Lord Howe
    db = store_of_requests(
        tmp_path, [first + timedelta(minutes=15 * q, seconds=1) for q in range(4 * 24 * 8)]
    )
    dq = report(db, "--week", "2026-W40", "--tz", "Australia/Lord_Howe")["data_quality"]
    assert (dq["hours_in_week"], dq["hours_without_data"], dq["gaps"]) == (168, 0, [])


def test_one_connection_can_check_the_contract_and_build_reports_in_any_order(tmp_path):
    from triage.contract import check_contract
    from triage.ingest import ingest_paths
    from triage.report import weekly
    from triage.store import open_store

    with open_store(tmp_path / "s.duckdb") as store:
        ingest_paths(store, [str(SAMPLE_LOGS)])
        first = check_contract(store)
        week = weekly(store, (2026, 46))
        assert check_contract(store) == first
        assert weekly(store, (2026, 46)) == week
        # the report's staging setting does not outlive it
        assert store.con.execute(
            "SELECT current_setting('preserve_insertion_order')"
        ).fetchall() == [(True,)]


def baseline_store(tmp_path, prev_hours: int):
    """2026-W47 with a request every hour (168), and the week before with requests in only
    its first prev_hours hours. Failures: 4 `not_found` in each week, and 3 `gone_code` only
    in the previous week; a line a minute past each hour."""
    this_start = datetime(2026, 11, 16, tzinfo=UTC)
    prev_start = this_start - timedelta(days=7)
    lines = []

    def add(at, status=200, code=None):
        line = {
            "timestamp": at.isoformat().replace("+00:00", "Z"),
            "requestId": f"r{len(lines)}",
            "method": "GET",
            "path": "/v1/incidents",
            "statusCode": status,
            "orgId": "org_a",
        }
        if code:
            line["error"] = {"statusCode": status, "type": "invalid_request_error", "code": code}
        lines.append(line)

    for h in range(168):
        add(this_start + timedelta(hours=h, minutes=1), *((404, "not_found") if h < 4 else ()))
    for h in range(prev_hours):
        fail = (404, "not_found") if h < 4 else (409, "gone_code") if h < 7 else ()
        add(prev_start + timedelta(hours=h, minutes=1), *fail)
    db = tmp_path / "b.duckdb"
    done = run_triage("--db", db, "ingest", write_lines(tmp_path / "b.log", lines))
    assert done.returncode == 0, done.stderr
    return db


def test_a_previous_week_with_too_few_hours_is_no_baseline(tmp_path):
    """151 of 168 hours is under 90% (151.2): the changes are left out, and said why."""
    db = baseline_store(tmp_path, prev_hours=151)
    data = report(db, "--week", "2026-W47")
    assert data["baseline_note"] == (
        "the previous week has data in only 151 of 168 hours: week-over-week changes are left out"
    )
    h = data["headline"]
    assert (h["requests"]["value"], h["failures"]["value"]) == (168, 4)
    for measure in ("requests", "failures", "server_errors", "orgs_affected", "failure_rate"):
        assert (h[measure]["previous"], h[measure]["change"]) == (None, None), measure
    # codes: this week's only, with no previous count, change or marker; the code seen only
    # in the previous week is not listed as "gone" from a week that is no baseline
    assert [
        (c["code"], c["count"], c["previous"], c["change"], c["marker"]) for c in data["codes"]
    ] == [("not_found", 4, None, None, None)]
    assert data["coverage_note"] is None  # this week itself is whole
    md = report(db, "--week", "2026-W47", fmt="md")
    assert "> **Baseline:** the previous week has data in only 151 of 168 hours" in md
    assert "| requests | 168 | - | - |" in md
    assert "gone_code" not in md


def test_a_previous_week_with_enough_hours_is_the_baseline(tmp_path):
    """152 of 168 hours is over 90%: the same store with one more hour compares weeks."""
    db = baseline_store(tmp_path, prev_hours=152)
    data = report(db, "--week", "2026-W47")
    assert data["baseline_note"] is None
    h = data["headline"]
    assert (h["requests"]["value"], h["requests"]["previous"]) == (168, 152)
    assert h["requests"]["change"] == round((168 - 152) / 152, 4)
    assert (h["failures"]["value"], h["failures"]["previous"]) == (4, 7)
    rows = {c["code"]: (c["count"], c["previous"], c["marker"]) for c in data["codes"]}
    assert rows == {"not_found": (4, 4, None), "gone_code": (0, 3, "gone")}
    assert "Baseline" not in report(db, "--week", "2026-W47", fmt="md")


def test_a_codes_status_is_its_most_frequent_over_both_weeks_counted_not_staged(tmp_path):
    # the previous week's failures are staged counted (one row per status, org, type and
    # code), so its 3 failures of `flaky` are one row: they must still outweigh this week's 1
    this_start = datetime(2026, 11, 16, tzinfo=UTC)
    lines = []

    def fail(at, status, code):
        lines.append(
            {
                "timestamp": at.isoformat().replace("+00:00", "Z"),
                "requestId": f"r{len(lines)}",
                "method": "POST",
                "path": "/v1/incidents",
                "statusCode": status,
                "orgId": "org_a",
                "error": {"statusCode": status, "type": "invalid_request_error", "code": code},
            }
        )

    for i, (week, status, code) in enumerate(
        [(0, 400, "flaky")] + [(-7, 422, "flaky")] * 3
        + [(0, 400, "tied")] * 2 + [(-7, 422, "tied")] * 2
    ):  # fmt: skip
        fail(this_start + timedelta(days=week, hours=1, minutes=i), status, code)
    db = tmp_path / "s.duckdb"
    assert run_triage("--db", db, "ingest", write_lines(tmp_path / "a.log", lines)).returncode == 0
    codes = {c["code"]: c for c in report(db, "--week", "2026-W47")["codes"]}
    assert (codes["flaky"]["status"], codes["flaky"]["count"]) == (422, 1)
    assert (codes["tied"]["status"], codes["tied"]["count"]) == (400, 2)  # a tie: the smallest
