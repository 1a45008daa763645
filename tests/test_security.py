"""Security: no planted secret reaches any output, and log values stay inert in every format.

One small log, ingested once into a real store under tmp_path, plants fake secrets in every
field type and shape (flat, nested, Docker-wrapped, rejected lines) and injection payloads
(HTML, Markdown, ANSI, spreadsheet formulas). Every command runs as a real subprocess; the
outputs are computed once, in parallel, and each test checks its own slice.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import run_triage, write_lines

# --- the corpus of planted fake secrets ------------------------------------------------------

KEY_MSG = "scl_live_" + "Km5gA7qL2xW9eR4tY6uI1oP3aS8dF0hJ"  # in an error message
KEY_QS = "scl_live_" + "Qs7vB2nM4kL6jH8gF1dS3aZ5xC9vB0nM"  # in a query string ?api_key=
KEY_UA = "scl_live_" + "Ua3wE5rT7yU9iO1pA2sD4fG6hJ8kL0zX"  # in a user agent
KEY_HDR = "scl_live_" + "Hd8qW1eR3tY5uI7oP9aS2dF4gH6jK8lZ"  # nested request.headers.authorization
KEY_DOCKER = "scl_live_" + "Dk4mN6bV8cX0zL2kJ4hG6fD8sA0pO2iU"  # in a Docker-wrapped inner line
KEY_REJECT = "scl_live_" + "Rj1qA3zW5sX7eD9cR1fV3tG5bY7hN9uJ"  # in a rejected (invalid JSON) line
KEY_BURST = "scl_live_" + "Bu6rS7tK8eY9aB0cD1eF2gH3iJ4kL5mN"  # in the burst's messages

BEARER = "tokBrr9Zx8Yw7Vu6Ts5Rq4Po3"  # Authorization: Bearer <token>
BEARER_REJECT = "tokRej1Ab2Cd3Ef4Gh5Ij6Kl7"
QS_TOKEN = "abc123secret"  # ?token=abc123secret
ACCESS_TOKEN = "AccTok9x8y7z6w5v4u3t2s1r"  # &access_token=
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJ1c2VyXzQyIiwibmFtZSI6IkphbmUifQ"
    ".c2lnbmF0dXJlU2VjcmV0VmFsdWU"
)
EMAIL = "jane.doe@example.com"
EMAIL_ENC = "ops.lead%40example.org"
EMAIL_ENC_DECODED = "ops.lead@example.org"
COOKIE = "sessValQ1w2E3r4T5y6U7"  # session=<COOKIE>
COOKIE_HDR = "sessHdrZ9x8C7v6B5n4M3"

SECRETS = {
    "api key in error message": KEY_MSG,
    "api key in query string": KEY_QS,
    "api key in user agent": KEY_UA,
    "api key in nested headers.authorization": KEY_HDR,
    "api key in docker-wrapped line": KEY_DOCKER,
    "api key in rejected line": KEY_REJECT,
    "api key in burst message": KEY_BURST,
    "bearer token": BEARER,
    "bearer token in rejected line": BEARER_REJECT,
    "?token= value": QS_TOKEN,
    "&access_token= value": ACCESS_TOKEN,
    "JWT": JWT,
    "JWT payload": JWT.split(".")[1],
    "e-mail": EMAIL,
    "url-encoded e-mail": EMAIL_ENC,
    "url-encoded e-mail, decoded": EMAIL_ENC_DECODED,
    "cookie session value": COOKIE,
    "cookie header session value": COOKIE_HDR,
}
# Each key's 32 characters after the prefix: a masked `scl_live_[REDACTED]` is fine, these not.
SECRETS.update(
    {
        f"{k} (suffix)": v[len("scl_live_") :]
        for k, v in list(SECRETS.items())
        if v.startswith("scl_live_")
    }
)

# --- injection payloads ----------------------------------------------------------------------

HTML_PAYLOAD = '<script>alert(1)</script> " onerror="x javascript:alert(1) </style>'
MD_PAYLOAD = "a|b\nc`d`e [x](y) |"
ANSI_PAYLOAD = "\x1b[31mred\x1b[0m \x1b]0;title\x07 bell\x07 bs\x08 nul\x00x del\x7f"
FORMULAS = {
    "org": '=HYPERLINK("http://evil.example/","x")',
    "key": "+cmd|' /C calc'!A0",
    "code": "-2+3",
    "type": "@SUM(1+1)",
}

WEEK = "2026-W47"  # 2026-11-16 .. 2026-11-22


def rid(n: int) -> str:
    return f"5ec0{n:04x}-1111-4111-8111-0000000000{n:02d}"


ID_MSG, ID_QS, ID_UA, ID_HDR, ID_DOCKER, ID_INJ, ID_CSV, ID_ANSI, ID_MD = (
    rid(n) for n in range(1, 10)
)
BURST_IDS = [rid(n) for n in range(20, 28)]
PLANTED_IDS = [ID_MSG, ID_QS, ID_UA, ID_HDR, ID_DOCKER, ID_INJ, ID_CSV, ID_ANSI, ID_MD]
BURST_START = "2026-11-18T12:00"
INCIDENT_SINCE, INCIDENT_UNTIL = "2026-11-18T11:00:00Z", "2026-11-18T13:00:00Z"


def _err(type_, code, status, request_id, message):
    return {
        "statusCode": status,
        "type": type_,
        "code": code,
        "requestId": request_id,
        "message": message,
    }


def corpus_lines() -> list:
    lines: list = []
    # background traffic across the week: successes, so medians and baselines exist
    for day in range(16, 23):
        for hour in range(0, 24, 2):
            for minute in (5, 35):
                lines.append(
                    {
                        "timestamp": f"2026-11-{day}T{hour:02d}:{minute:02d}:00Z",
                        "requestId": f"bg-{day}-{hour}-{minute}",
                        "service": "api-gateway",
                        "method": "GET",
                        "path": "/v1/incidents",
                        "statusCode": 200,
                        "durationMs": 10,
                        "orgId": "org_background",
                        "apiKeyId": "key_background",
                    }
                )
    # the hour before the burst: calm successes every minute
    for minute in range(0, 60):
        lines.append(
            {
                "timestamp": f"2026-11-18T11:{minute:02d}:30Z",
                "requestId": f"calm-{minute}",
                "service": "api-gateway",
                "method": "GET",
                "path": "/v1/oncall/schedules",
                "statusCode": 200,
                "durationMs": 8,
                "orgId": "org_calm",
                "apiKeyId": "key_calm",
            }
        )
    # 1. api key and bearer token in an error message (flat camelCase shape), with a trace
    lines.append(
        {
            "timestamp": "2026-11-17T09:00:00.000Z",
            "requestId": ID_MSG,
            "service": "api-gateway",
            "method": "GET",
            "path": "/v1/incidents",
            "statusCode": 401,
            "durationMs": 3,
            "orgId": "org_secretmsg",
            "apiKeyId": "key_secretmsg",
            "userAgent": "python-requests/2.32.3",
            "clientIp": "198.51.100.7",
            "error": _err(
                "not_authorized_error",
                "invalid_api_key",
                401,
                ID_MSG,
                f"API key {KEY_MSG} is invalid (Authorization: Bearer {BEARER}) for {EMAIL}",
            ),
        }
    )
    lines.append(
        {
            "timestamp": "2026-11-17T09:00:00.002Z",
            "requestId": ID_MSG,
            "service": "auth-svc",
            "level": "warn",
            "msg": f"api key rejected: {KEY_MSG} Authorization: Bearer {BEARER} cookie "
            f"session={COOKIE} user {EMAIL} jwt {JWT}",
        }
    )
    # 2. secrets in the path's query string
    lines.append(
        {
            "timestamp": "2026-11-17T10:00:00Z",
            "requestId": ID_QS,
            "service": "api-gateway",
            "method": "GET",
            "path": f"/v1/incidents/inc_01jqabcdefgh?api_key={KEY_QS}&token={QS_TOKEN}"
            f"&access_token={ACCESS_TOKEN}&email={EMAIL_ENC}",
            "statusCode": 404,
            "durationMs": 5,
            "orgId": "org_secretqs",
            "apiKeyId": "key_secretqs",
            "error": _err(
                "invalid_request_error",
                "not_found",
                404,
                ID_QS,
                f"no incident for ?token={QS_TOKEN}&access_token={ACCESS_TOKEN}",
            ),
        }
    )
    # 3. api key and JWT in a user agent, cookie in the message, snake_case shape, 500
    lines.append(
        {
            "time": "2026-11-17T11:00:00Z",
            "request_id": ID_UA,
            "service": "api-gateway",
            "method": "POST",
            "path": "/v1/incidents",
            "status_code": 500,
            "duration_ms": 40,
            "org_id": "org_secretua",
            "api_key_id": "key_secretua",
            "user_agent": f"my-client/1.0 ({KEY_UA}) {JWT}",
            "client_ip": "203.0.113.9",
            "error": _err(
                "internal_error",
                "internal_error",
                500,
                ID_UA,
                f"upstream failed; Cookie: session={COOKIE}",
            ),
        }
    )
    # 4. nested request/response shape with headers
    lines.append(
        {
            "timestamp": "2026-11-17T12:00:00Z",
            "service": "api-gateway",
            "request": {
                "id": ID_HDR,
                "method": "POST",
                "path": "/v1/oncall/schedules",
                "user_agent": "terraform/1.9",
                "client_ip": "192.0.2.44",
                "headers": {
                    "authorization": KEY_HDR,
                    "x-api-key": KEY_HDR,
                    "cookie": f"session={COOKIE_HDR}",
                },
            },
            "response": {
                "status": 401,
                "duration_ms": 2,
                "body": _err(
                    "not_authorized_error",
                    "invalid_api_key",
                    401,
                    ID_HDR,
                    "The API key is invalid",
                ),
            },
            "org_id": "org_secrethdr",
            "api_key_id": "key_secrethdr",
        }
    )
    # 5. Docker json-file wrapper around a record carrying a key and a URL-encoded e-mail
    inner = {
        "timestamp": "2026-11-17T13:00:00Z",
        "requestId": ID_DOCKER,
        "service": "api-gateway",
        "method": "DELETE",
        "path": f"/v1/incidents/inc_01jqdocker01?api_key={KEY_DOCKER}",
        "statusCode": 500,
        "durationMs": 9,
        "orgId": "org_secretdocker",
        "apiKeyId": "key_secretdocker",
        "error": _err(
            "internal_error",
            "server_error",
            500,
            ID_DOCKER,
            f"store rejected {KEY_DOCKER} for {EMAIL_ENC}",
        ),
    }
    lines.append(
        {"log": json.dumps(inner) + "\n", "stream": "stderr", "time": "2026-11-17T13:00:00Z"}
    )
    # 6. HTML payloads everywhere a value shows
    lines.append(
        {
            "timestamp": "2026-11-19T09:00:00Z",
            "requestId": ID_INJ,
            "service": "api-gateway",
            "method": "GET",
            "path": "/v1/incidents/x<script>alert(1)</script>",
            "statusCode": 400,
            "durationMs": 4,
            "orgId": 'org_"><script>alert(1)</script>',
            "apiKeyId": 'key_" onerror="x',
            "userAgent": HTML_PAYLOAD,
            "clientIp": "javascript:alert(1)",
            "error": _err(
                "validation_error",
                "bad<script>alert(1)</script>",
                400,
                ID_INJ,
                HTML_PAYLOAD,
            ),
        }
    )
    # 7. spreadsheet formulas in text cells
    lines.append(
        {
            "timestamp": "2026-11-19T10:00:00Z",
            "requestId": ID_CSV,
            "service": "api-gateway",
            "method": "PUT",
            "path": "/v1/incidents",
            "statusCode": 409,
            "durationMs": 6,
            "orgId": FORMULAS["org"],
            "apiKeyId": FORMULAS["key"],
            "userAgent": "=1+1",
            "error": _err(FORMULAS["type"], FORMULAS["code"], 409, ID_CSV, "@cmd"),
        }
    )
    # 8. ANSI escapes and control characters
    lines.append(
        {
            "timestamp": "2026-11-19T11:00:00Z",
            "requestId": ID_ANSI,
            "service": "api-\x1b[31mgateway",
            "method": "GET",
            "path": "/v1/incidents/\x1b]0;pwned\x07",
            "statusCode": 403,
            "durationMs": 2,
            "orgId": "org_\x1b[2Jansi",
            "apiKeyId": "key_\x1b[31mred",
            "userAgent": ANSI_PAYLOAD,
            "error": _err(
                "not_authorized_error",
                "ansi_\x1b[5mcode",
                403,
                ID_ANSI,
                ANSI_PAYLOAD,
            ),
        }
    )
    # 9. Markdown table breakers
    lines.append(
        {
            "timestamp": "2026-11-19T12:00:00Z",
            "requestId": ID_MD,
            "service": "api-gateway",
            "method": "GET",
            "path": "/v1/incidents/a|b",
            "statusCode": 422,
            "durationMs": 2,
            "orgId": "org_a|b`c`",
            "apiKeyId": "key_[x](y)",
            "userAgent": MD_PAYLOAD,
            "error": _err("validation_error", "md|code\n`x` [x](y)", 422, ID_MD, MD_PAYLOAD),
        }
    )
    # 10. a burst of server errors in one minute, each carrying secrets
    for n, burst_id in enumerate(BURST_IDS):
        lines.append(
            {
                "timestamp": f"{BURST_START}:{n * 5:02d}Z",
                "requestId": burst_id,
                "service": "api-gateway",
                "method": "POST",
                "path": f"/v1/incidents?token={QS_TOKEN}&access_token={ACCESS_TOKEN}",
                "statusCode": 500,
                "durationMs": 30,
                "orgId": f"org_burst{n % 3}",
                "apiKeyId": f"key_burst{n % 3}",
                "userAgent": f"burst-client {KEY_BURST}",
                "error": _err(
                    "internal_error",
                    "internal_error",
                    500,
                    burst_id,
                    f"db down; Authorization: Bearer {BEARER} key {KEY_BURST} for {EMAIL}",
                ),
            }
        )
    # 11. a rejected line (invalid JSON) holding a key and a bearer token
    lines.append(
        '{"timestamp":"2026-11-20T08:00:00Z","msg":"auth '
        + KEY_REJECT
        + " Authorization: Bearer "
        + BEARER_REJECT
        + " "
        + EMAIL
        + '", "oops'
    )
    return lines


# --- every output, computed once -------------------------------------------------------------

ROW_FORMATS = ["table", "json", "csv", "md"]


def _commands() -> dict[str, tuple[str, list[str]]]:
    """name -> (format, argv after --db)."""
    cmds: dict[str, tuple[str, list[str]]] = {}
    for fmt in ["text", "md", "json", "html"]:
        cmds[f"lookup-{fmt}"] = (fmt, ["lookup", "--format", fmt, *PLANTED_IDS, *BURST_IDS])
    for fmt in ["md", "html"]:
        cmds[f"summary-{fmt}"] = (fmt, ["summary", "--format", fmt, *PLANTED_IDS, BURST_IDS[0]])
        for request_id in [*PLANTED_IDS, BURST_IDS[0]]:
            cmds[f"reply-{fmt}-{request_id[:8]}"] = (
                fmt,
                ["reply", "--format", fmt, request_id],
            )
    for fmt in ["md", "html", "json"]:
        cmds[f"incident-auto-{fmt}"] = (
            fmt,
            [
                "incident",
                "--auto",
                "--since",
                "2026-11-16",
                "--until",
                "2026-11-23",
                "--format",
                fmt,
            ],
        )
        cmds[f"incident-window-{fmt}"] = (
            fmt,
            ["incident", "--since", INCIDENT_SINCE, "--until", INCIDENT_UNTIL, "--format", fmt],
        )
        cmds[f"report-{fmt}"] = (fmt, ["report", "weekly", "--week", WEEK, "--format", fmt])
    for fmt in ROW_FORMATS:
        for by in ["route", "code", "org", "key", "route,code", "org,key"]:
            cmds[f"errors-{by}-{fmt}"] = (
                fmt,
                ["errors", "--by", by, "--explain", "--format", fmt],
            )
        cmds[f"contract-{fmt}"] = (fmt, ["contract", "--format", fmt])
        cmds[f"sql-{fmt}"] = (fmt, ["sql", "SELECT * FROM events", "--format", fmt])
        cmds[f"query-rejects-{fmt}"] = (fmt, ["query", "rejects_sample", "--format", fmt])
    cmds["info-text"] = ("text", ["info"])
    cmds["info-json"] = ("json", ["info", "--format", "json"])
    return cmds


COMMANDS = _commands()
CHECKED = list(COMMANDS)  # every command, every format, on the one corpus: no exclusions


def _ingested(root, lines):
    log = write_lines(root / "logs" / "planted.ndjson", lines)
    db = root / "store" / "triage.duckdb"
    done = run_triage("--db", db, "ingest", log)
    assert done.returncode == 0, done.stderr.decode()
    return db


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    return _ingested(tmp_path_factory.mktemp("security"), corpus_lines())


@pytest.fixture(scope="module")
def results(store_path) -> dict[str, subprocess.CompletedProcess]:
    def run(item):
        name, (_, argv) = item
        return name, run_triage("--db", store_path, *argv)

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(pool.map(run, COMMANDS.items()))


class Outputs:
    """stdout of each command by name; a crash or non-zero exit fails the test that reads it."""

    def __init__(self, done: dict[str, subprocess.CompletedProcess]):
        self.done = done

    def __getitem__(self, name: str) -> str:
        done = self.done[name]
        stderr = done.stderr.decode("utf-8", "replace")
        assert "Traceback" not in stderr and "panicked" not in stderr, (name, stderr[:1500])
        assert done.returncode == 0, (name, done.returncode, stderr[:1500])
        return done.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def outputs(results) -> Outputs:
    return Outputs(results)


def _leaks(text: str) -> list[str]:
    return [f"{kind}: {value}" for kind, value in SECRETS.items() if value in text]


# --- the corpus really is there ----------------------------------------------------------------


def test_store_holds_the_planted_corpus(store_path):
    """Sanity: every planted id is an event and the invalid line is a reject, so the
    absence of secrets below is masking, not missing data."""
    done = run_triage(
        "--db",
        store_path,
        "sql",
        "SELECT request_id FROM events WHERE status >= 400",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr.decode()
    failing = {row["request_id"] for row in json.loads(done.stdout)}
    assert set(PLANTED_IDS) | set(BURST_IDS) <= failing
    done = run_triage("--db", store_path, "sql", "SELECT count(*) AS n FROM rejects")
    assert done.stdout.decode().split()[-1] == "1"


def test_incident_auto_finds_the_burst(outputs):
    data = json.loads(outputs["incident-auto-json"])
    text = json.dumps(data)
    assert "2026-11-18T12:0" in text or "2026-11-18 12:0" in text, text[:2000]


def test_views_show_masked_markers(outputs):
    """Non-vacuous: the planted values are shown, masked, where they were."""
    text = outputs["lookup-text"]
    assert "scl_live_[REDACTED]" in text
    assert "[REDACTED-EMAIL]" in text
    assert "Bearer [REDACTED]" in text


# --- no secret in any output -------------------------------------------------------------------

MASKED_PREFIXES = ("lookup", "summary", "reply", "incident", "report")
RAW_PREFIXES = ("errors", "contract", "info")
# `sql` and `query rejects_sample` print the store's raw values (see the bug note).
LEAKY_RAW = ("sql", "query-rejects")


@pytest.mark.parametrize("name", [n for n in CHECKED if n.startswith(MASKED_PREFIXES)])
def test_views_mask_every_secret(outputs, name):
    assert _leaks(outputs[name]) == [], name


@pytest.mark.parametrize("name", [n for n in CHECKED if n.startswith(RAW_PREFIXES)])
def test_row_commands_mask_every_secret(outputs, name):
    assert _leaks(outputs[name]) == [], name


@pytest.mark.parametrize("name", [n for n in CHECKED if n.startswith(LEAKY_RAW)])
def test_raw_row_commands_mask_every_secret(outputs, name):
    assert _leaks(outputs[name]) == [], name


def test_report_html_survives_control_characters_in_codes(outputs):
    """The HTML report once crashed drawing a chart of a code holding an ANSI escape; it is
    checked with the rest now. The code is there, and its ESC is not."""
    html = outputs["report-html"]
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "ansi_" in html and "ansi_\x1b[5mcode" not in html


# --- HTML: log values render inert -------------------------------------------------------------

HTML_NAMES = [n for n in CHECKED if COMMANDS[n][0] == "html"]


@pytest.mark.parametrize("name", HTML_NAMES)
def test_html_no_script(outputs, name):
    html = outputs[name]
    assert re.search(r"(?i)<\s*script", html) is None, name


@pytest.mark.parametrize("name", HTML_NAMES)
def test_html_no_injected_attribute(outputs, name):
    html = outputs[name]
    tags = re.findall(r"<[a-zA-Z][^<>]*>", html)
    assert [t for t in tags if re.search(r"(?i)\bon[a-z]+\s*=", t)] == [], name
    assert [t for t in tags if re.search(r"(?i)=\s*[\"']?\s*javascript:", t)] == [], name


@pytest.mark.parametrize("name", HTML_NAMES)
def test_html_style_not_closed_by_log_values(outputs, name):
    html = outputs[name]
    opened = len(re.findall(r"(?i)<style[\s>]", html))
    assert len(re.findall(r"(?i)</style\s*>", html)) == opened, name


# The pages that show the injected request (ID_INJ, or the week it is in); the others
# (replies about other requests, incidents on the 18th) have no reason to show it.
SHOWS_INJECTED = {"lookup-html", "summary-html", f"reply-html-{ID_INJ[:8]}", "report-html"}


def test_pages_expected_to_show_the_payload_exist():
    assert set(HTML_NAMES) >= SHOWS_INJECTED


@pytest.mark.parametrize("name", HTML_NAMES)
def test_html_payload_present_but_escaped(outputs, name):
    """The payload is not just dropped: pages that show the injected request show it,
    escaped (its path, code and message all hold the script tag); no page shows it raw."""
    html = outputs[name]
    assert "<script>alert(1)" not in html, name
    if name in SHOWS_INJECTED:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, name
    else:
        assert "alert(1)" not in html, name


# --- Markdown: values do not break tables ------------------------------------------------------

MD_NAMES = [n for n in CHECKED if COMMANDS[n][0] == "md"]
_PIPE = re.compile(r"(?<!\\)\|")


def _md_tables(text: str) -> list[list[str]]:
    tables, current = [], []
    in_fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        if not in_fence and line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


@pytest.mark.parametrize(
    "name",
    MD_NAMES,
)
def test_md_tables_keep_their_shape(outputs, name):
    text = outputs[name]
    for table in _md_tables(text):
        header = len(_PIPE.findall(table[0]))
        bad = [row for row in table if len(_PIPE.findall(row)) != header]
        assert bad == [], (name, table[0], bad)


@pytest.mark.parametrize("name", MD_NAMES)
def test_md_no_raw_html_or_links_from_logs(outputs, name):
    text = outputs[name]
    for table in _md_tables(text):
        for row in table:
            assert re.search(r"(?<!\\)<script", row) is None, (name, row)
            assert re.search(r"(?<!\\)\[x(?<!\\)\]\(y\)", row) is None, (name, row)


@pytest.mark.parametrize("name", ["errors-org,key-md", "errors-route,code-md"])
def test_md_tables_show_the_planted_rows(outputs, name):
    """The shape check above is not vacuous: the breaker rows are in these tables."""
    text = outputs[name]
    assert "org\\_a" in text or "org_a\\|b" in text or "md\\|code" in text, text


def _code_spans(line: str) -> list[str]:
    """The contents of a line's code spans, as CommonMark reads them: a run of n backticks is
    closed by the next run of exactly n; one space each side is stripped when both are there."""
    runs = [(m.start(), m.end()) for m in re.finditer(r"`+", line)]
    spans, i = [], 0
    while i < len(runs):
        start, end = runs[i]
        closing = next(
            (j for j in range(i + 1, len(runs)) if runs[j][1] - runs[j][0] == end - start), None
        )
        if closing is None:
            i += 1
            continue
        content = line[end : runs[closing][0]]
        if len(content) > 2 and content[0] == " " and content[-1] == " ":
            content = content[1:-1]
        spans.append(content)
        i = closing + 1
    return spans


@pytest.mark.parametrize("name", ["summary-md", "lookup-md"])
def test_md_code_spans_hold_values_with_backticks(outputs, name):
    lines = [line for line in outputs[name].splitlines() if "org_a|b" in line]
    assert lines, name
    assert all("org_a|b`c`" in _code_spans(line) for line in lines), lines


@pytest.mark.parametrize("name", ["summary-md", "lookup-md", "reply-md-5ec00009"])
def test_md_code_spans_hold_values_with_pipes_and_links(outputs, name):
    lines = [line for line in outputs[name].splitlines() if "md|code" in line]
    assert lines, name
    assert all("md|code `x` [x](y)" in _code_spans(line) for line in lines), lines


# --- terminal: no escape sequence or control character reaches it ------------------------------

TERMINAL_NAMES = [n for n in CHECKED if COMMANDS[n][0] in ("table", "text")]
_RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.mark.parametrize("name", TERMINAL_NAMES)
def test_terminal_output_has_no_control_characters(outputs, name):
    text = outputs[name]
    found = sorted({repr(c) for c in _RAW_CONTROL.findall(text)})
    assert found == [], name


def test_terminal_table_shows_the_ansi_rows(outputs):
    """Non-vacuous: the ANSI-laden org is in the table, neutralised."""
    text = outputs["errors-org-table"]
    assert "org_" in text and "ansi" in text, text


# --- CSV: formulas neutralised, numbers untouched -----------------------------------------------

CSV_NAMES = [n for n in CHECKED if COMMANDS[n][0] == "csv"]
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$")


@pytest.mark.parametrize("name", CSV_NAMES)
def test_csv_cells_never_start_a_formula(outputs, name):
    rows = list(csv.reader(io.StringIO(outputs[name])))
    bad = [
        cell
        for row in rows
        for cell in row
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.match(cell)
    ]
    assert bad == [], name


@pytest.mark.parametrize("by", ["org", "key", "code"])
def test_csv_prefixes_formula_cells_and_keeps_numbers(outputs, by):
    rows = list(csv.DictReader(io.StringIO(outputs[f"errors-{by}-csv"])))
    column = {"org": "org", "key": "key", "code": "code"}[by]
    assert column in rows[0], rows[0]
    planted = [r for r in rows if r[column] == "'" + FORMULAS[by]]
    assert len(planted) == 1, rows
    assert planted[0]["count"] == "1"
    assert all(_NUMBER.match(r["count"]) for r in rows)


def test_csv_prefixes_formula_type(outputs):
    rows = list(csv.DictReader(io.StringIO(outputs["sql-csv"])))
    types = {r.get("error_type") for r in rows}
    assert "'" + FORMULAS["type"] in types
    durations = [r["duration_ms"] for r in rows if r.get("duration_ms")]
    assert durations and all(_NUMBER.match(d) for d in durations)


@pytest.mark.parametrize("name", ["lookup-html", "summary-html", "report-html"])
def test_html_holds_no_control_characters_from_logs(outputs, name):
    """HTML forbids C0 controls: log values carrying ESC, BEL, NUL show as U+FFFD."""
    text = outputs[name]
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text), name
    assert "\N{REPLACEMENT CHARACTER}" in text
