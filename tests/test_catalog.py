"""The catalogue is exactly the documented one; anything else is shown, never a crash."""

from __future__ import annotations

import json

from triage import catalog

# The Scaling API errors page, restated as facts (type -> statuses; code -> status).
DOCUMENTED_TYPES = {
    "not_authorized_error": {401},
    "invalid_request_error": {400, 404, 409},
    "validation_error": {422},
    "internal_error": {500},
}
DOCUMENTED_CODES = {
    "missing_authorization_header": 401,
    "invalid_api_key": 401,
    "not_found": 404,
    "name_conflict": 409,
    "invalid_status_transition": 400,
    "policy_in_use": 400,
    "invalid_participant": 400,
    "invalid_target": 400,
    "invalid_timezone": 400,
    "cannot_remove_self": 400,
    "cannot_change_own_role": 400,
}
DOCUMENTED_STATUSES = {200, 400, 401, 404, 409, 422, 500}


def test_types_and_their_statuses_are_exactly_the_documented_ones():
    assert {t.name: set(t.statuses) for t in catalog.TYPES} == DOCUMENTED_TYPES


def test_codes_and_their_statuses_are_exactly_the_documented_ones():
    assert {c.code: c.status for c in catalog.CODES} == DOCUMENTED_CODES


def test_each_code_belongs_to_the_type_that_documents_its_status():
    for code in catalog.CODES:
        expected = "not_authorized_error" if code.status == 401 else "invalid_request_error"
        assert code.type == expected, code.code
        assert code.status in DOCUMENTED_TYPES[code.type]


def test_statuses_are_exactly_the_documented_ones():
    assert set(catalog.STATUSES) == DOCUMENTED_STATUSES


def test_every_code_has_a_meaning_and_an_action():
    for code in catalog.CODES:
        assert code.meaning.strip() and code.action.strip(), code.code


def test_undocumented_codes_are_explained_as_such_without_failing():
    assert "Undocumented code 'server_error'" in catalog.explain("internal_error", "server_error")
    assert "Undocumented error" in catalog.explain("weird_error", "boom")
    assert catalog.explain(None, None).startswith("No error type or code was logged")
    assert catalog.explain("validation_error", "") == catalog.error_type("validation_error").meaning


def test_catalog_command_prints_every_code(cli):
    result = cli("catalog", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["code"] for r in rows if r["code"]} == set(DOCUMENTED_CODES)


def test_one_definition_of_documented_across_errors_lookup_and_report(cli, tmp_path):
    """lookup, errors and the weekly report used to disagree on internal_error with an
    empty code; each now asks catalog.is_documented, whatever the error's source."""
    lines = []
    cases = [  # (type, code, status, documented per the errors page)
        ("internal_error", "", 500, False),
        ("validation_error", "", 422, True),
        ("invalid_request_error", "not_found", 404, True),
        ("not_authorized_error", "not_found", 401, False),  # a code under another type
        ("internal_error", "server_error", 500, False),
    ]
    for i, (t, code, status, _) in enumerate(cases):
        lines.append(
            {
                "timestamp": f"2026-11-10T10:00:0{i}Z",
                "requestId": f"00000000-0000-0000-0000-00000000000{i}",
                "method": "GET",
                "path": "/v1/incidents",
                "statusCode": status,
                # half as flattened fields, half as a body: the source does not matter
                **(
                    {"errorType": t, "errorCode": code}
                    if i % 2
                    else {"error": {"type": t, "code": code, "statusCode": status}}
                ),
            }
        )
    path = tmp_path / "e.log"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert cli("ingest", path).exit_code == 0
    expected = {(t, code): documented for t, code, _, documented in cases}

    errors = cli("errors", "--format", "json")
    assert errors.exit_code == 0, errors.output
    assert {(r["type"], r["code"]): r["documented"] for r in json.loads(errors.stdout)} == expected

    report = cli("report", "weekly", "--week", "2026-W46", "--format", "json")
    assert report.exit_code == 0, report.output
    codes = json.loads(report.stdout)["codes"]
    assert {(r["type"], r["code"]): r["documented"] for r in codes} == expected

    ids = [x["requestId"] for x in lines]
    lookup = cli("lookup", *ids, "--format", "json")
    assert lookup.exit_code == 0, lookup.output
    got = {
        (r["error"]["type"], r["error"]["code"]): r["error"]["documented"]
        for r in json.loads(lookup.stdout)
    }
    assert got == expected
