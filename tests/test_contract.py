"""`triage contract` finds exactly the contract violations a plain reading of the logs finds."""

from __future__ import annotations

import json
import uuid
from collections import Counter

from click.testing import CliRunner

from tests import sample_truth
from tests.test_catalog import DOCUMENTED_CODES, DOCUMENTED_TYPES
from triage.cli import cli as triage_cli


def expected_violations() -> Counter:
    """The contract rules, applied in Python to every failure in the sample."""
    found: Counter = Counter()
    for f in sample_truth.failures():
        body, t, code = f.body, f.body.get("type"), f.body.get("code")
        key = (t, code, f.status)
        if t not in DOCUMENTED_TYPES:
            found["unknown_type", *key] += 1
        elif f.status not in DOCUMENTED_TYPES[t]:
            found["status_not_allowed_for_type", *key] += 1
        if code and code not in DOCUMENTED_CODES:
            found["undocumented_code", *key] += 1
        if code in DOCUMENTED_CODES:
            documented_type = (
                "not_authorized_error" if DOCUMENTED_CODES[code] == 401 else "invalid_request_error"
            )
            if documented_type != t:
                found["code_not_allowed_for_type", *key] += 1
            if DOCUMENTED_CODES[code] != f.status:
                found["status_not_allowed_for_code", *key] += 1
        if body.get("statusCode") != f.status:
            found["body_status_mismatch", *key] += 1
        rid = body.get("requestId")
        if rid is None:
            found["body_request_id_missing", *key] += 1
        else:
            try:
                uuid.UUID(rid)
            except ValueError:
                found["body_request_id_not_uuid", *key] += 1
            if rid != f.request_id:
                found["body_request_id_mismatch", *key] += 1
        if code == "" and t != "validation_error":
            found["empty_code_outside_validation", *key] += 1
        if f.status < 400:
            found["error_body_on_success", *key] += 1
    for r in sample_truth.requests():
        if r.status >= 400 and not r.body:
            found["missing_error_body", None, None, r.status] += 1
    return found


def test_contract_matches_an_independent_check(sample_ingest):
    result = CliRunner().invoke(
        triage_cli, ["--db", str(sample_ingest[0]), "contract", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    got = Counter({(r["violation"], r["type"], r["code"], r["status"]): r["count"] for r in rows})
    expected = expected_violations()
    assert expected, "the sample should break the contract somewhere"
    assert got == expected
    for row in rows:
        assert row["meaning"] and row["examples"]


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
