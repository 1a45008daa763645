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
    assert catalog.explain(None, None).startswith("Undocumented")
    assert catalog.explain("validation_error", "") == catalog.error_type("validation_error").meaning


def test_catalog_command_prints_every_code(cli):
    result = cli("catalog", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["code"] for r in rows if r["code"]} == set(DOCUMENTED_CODES)
