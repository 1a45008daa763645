"""`triage contract` finds exactly the contract violations a plain reading of the logs finds,
whether a line carries its error as a body or as flattened fields."""

from __future__ import annotations

import itertools
import json
import uuid
from collections import Counter

from click.testing import CliRunner

from tests import sample_truth
from tests.conftest import write_lines
from tests.test_catalog import DOCUMENTED_CODES, DOCUMENTED_TYPES
from triage.cli import cli as triage_cli
from triage.contract import VIOLATIONS


def _documented_type_of(code: str) -> str:
    return "not_authorized_error" if DOCUMENTED_CODES[code] == 401 else "invalid_request_error"


def violations_of(
    source: str, status: int, t, code, body: dict | None, request_id: str, shape: str = "triage"
) -> list[str]:
    """The documented contract, restated from the errors page, for one logged request.
    `source` is where its error came from: body, fields or none. A missing body is the API's
    fault only in the API's own log shapes: an access log never shows a body."""
    found = []
    if source == "none":
        return ["missing_error_body"] if status >= 400 and shape == "triage" else []
    if status < 400:
        found.append("error_on_success")
    if t is not None and t not in DOCUMENTED_TYPES:
        found.append("unknown_type")
    elif t is not None and status >= 400 and status not in DOCUMENTED_TYPES[t]:
        found.append("status_not_allowed_for_type")
    if code and code not in DOCUMENTED_CODES:
        found.append("undocumented_code")
    if code in DOCUMENTED_CODES:
        if _documented_type_of(code) != t:
            found.append("code_not_allowed_for_type")
        if DOCUMENTED_CODES[code] != status:
            found.append("status_not_allowed_for_code")
    if not code and t != "validation_error":
        found.append("empty_code_outside_validation")
    if source == "body":
        if "statusCode" in body and body["statusCode"] != status:
            found.append("body_status_mismatch")
        rid = body.get("requestId")
        if rid is None:
            found.append("body_request_id_missing")
        else:
            try:
                uuid.UUID(rid)
            except ValueError:
                found.append("body_request_id_not_uuid")
            if rid != request_id:
                found.append("body_request_id_mismatch")
    return found


def expected_violations() -> Counter:
    """The contract rules, applied in Python to every request in the sample."""
    found: Counter = Counter()
    for r in sample_truth.requests():
        body = r.body or {}
        source = "body" if r.body else "none"
        t, code = body.get("type"), body.get("code")
        for v in violations_of(source, r.status, t, code, body, r.request_id, r.shape):
            found[v, t, code, r.status, source] += 1
    return found


def contract_rows(db, *args) -> list[dict]:
    result = CliRunner().invoke(
        triage_cli, ["--db", str(db), "contract", "--format", "json", *args]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def counted(rows: list[dict]) -> Counter:
    return Counter(
        {
            (r["violation"], r["type"], r["code"], r["status"], r["error_source"]): r["count"]
            for r in rows
        }
    )


def test_contract_matches_an_independent_check(sample_ingest):
    rows = contract_rows(sample_ingest[0])
    expected = expected_violations()
    assert expected, "the sample should break the contract somewhere"
    assert counted(rows) == expected
    for row in rows:
        assert row["meaning"] and row["examples"]


# Every way a line can carry (or not carry) its error, crossed with statuses, types and codes
# that exercise every rule of the contract.
STATUSES = (200, 400, 401, 404, 409, 422, 429, 500)
ERRORS = (
    ("invalid_request_error", "not_found"),
    ("invalid_request_error", "rate_limited"),
    ("validation_error", ""),
    ("validation_error", None),
    ("internal_error", ""),
    ("internal_error", "internal_error"),
    ("not_authorized_error", "invalid_api_key"),
    ("invalid_request_error", "invalid_api_key"),
    ("rate_limit_error", "too_many_requests"),
    (None, "name_conflict"),
)
SOURCES = ("body", "body_string", "fields_camel", "fields_snake", "none")


def planted_line(i: int, source: str, status: int, t, code) -> tuple[dict, dict | None]:
    """One request line, and its error body (None unless the source is a body)."""
    rid = str(uuid.UUID(int=i))
    line = {
        "timestamp": f"2026-11-16T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
        "requestId": rid,
        "method": "GET",
        "path": "/v1/incidents",
        "statusCode": status,
    }
    if source == "none":
        return line, None
    if source.startswith("fields"):
        names = (
            ("errorType", "errorCode") if source == "fields_camel" else ("error_type", "error_code")
        )
        for name, value in zip(names, (t, code), strict=True):
            if value is not None:
                line[name] = value
        return line, None
    body = {k: v for k, v in (("type", t), ("code", code)) if v is not None}
    # body-only facts vary with i: a statusCode that differs, a requestId missing, not a
    # UUID, or another request's
    body["statusCode"] = status if i % 5 else 500 if status != 500 else 400
    if i % 7 == 1:
        pass  # no requestId
    elif i % 7 == 2:
        body["requestId"] = "req-abc"
    elif i % 7 == 3:
        body["requestId"] = str(uuid.UUID(int=i + 1))
    else:
        body["requestId"] = rid
    if source == "body":
        line["error"] = body
    else:
        line["response_body"] = json.dumps(body)
    return line, body


def test_every_rule_runs_wherever_the_error_was_logged(db_path, tmp_path):
    """Fields are an error's type and code as much as a body is (issue: flattened errorType /
    errorCode were reported as missing_error_body, and their real violations missed)."""
    lines, expected = [], Counter()
    cases = itertools.product(SOURCES, STATUSES, ERRORS)
    for i, (source, status, (t, code)) in enumerate(cases):
        if source != "none" and t is None and code is None:
            continue
        line, body = planted_line(i, source, status, t, code)
        lines.append(line)
        stored_source = "none" if source == "none" else source.split("_")[0]
        if stored_source == "none":
            t = code = None
        elif stored_source == "fields" and t is None and code == "":
            stored_source, t, code = "none", None, None
        for v in violations_of(stored_source, status, t, code, body, line["requestId"]):
            expected[v, t, code, status, stored_source] += 1
    path = write_lines(tmp_path / "flat.log", lines)
    ingested = CliRunner().invoke(triage_cli, ["--db", str(db_path), "ingest", str(path)])
    assert ingested.exit_code == 0, ingested.output
    rows = contract_rows(db_path, "--examples", "1")
    assert counted(rows) == expected
    assert {v for v, *_ in expected} == set(VIOLATIONS), "every rule is exercised"
    by_key = counted(rows)
    # the cases the issue named, read through flattened fields
    assert by_key[
        "status_not_allowed_for_type", "invalid_request_error", "rate_limited", 429, "fields"
    ]
    assert by_key["status_not_allowed_for_type", "validation_error", "", 404, "fields"]
    assert not by_key["missing_error_body", None, None, 404, "fields"]
    assert not any(k[0] == "missing_error_body" and k[4] != "none" for k in by_key), (
        "a failure with error fields is not missing its error"
    )


def test_contract_sees_the_planted_inconsistencies(sample_ingest, manifest):
    result = CliRunner().invoke(
        triage_cli,
        ["--db", str(sample_ingest[0]), "contract", "--format", "json", "--examples", "50"],
    )
    flagged = {rid for r in json.loads(result.stdout) for rid in r["examples"]}
    planted = {case["request_id"] for case in manifest["doc_inconsistencies"]}
    assert planted <= flagged


def test_zero_examples_gives_empty_lists_and_a_negative_count_is_refused(sample_ingest):
    db = str(sample_ingest[0])
    none = CliRunner().invoke(
        triage_cli, ["--db", db, "contract", "--examples", "0", "--format", "json"]
    )
    assert none.exit_code == 0, none.output
    rows = json.loads(none.stdout)
    assert rows and all(r["examples"] == [] for r in rows)
    negative = CliRunner().invoke(triage_cli, ["--db", db, "contract", "--examples", "-1"])
    assert negative.exit_code == 2
