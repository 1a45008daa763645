"""The contract check: where the logged API breaks its own documented error contract.

Each logged failure is checked in DuckDB against the catalogue (queries/contract.sql).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from triage import labels
from triage.timespec import local

if TYPE_CHECKING:  # the store (and duckdb) load only when a command opens one
    from triage.store import Store

# What each violation means, in one line, for the reader of the report.
VIOLATIONS = {
    "unknown_type": "error type not in the documented catalogue",
    "status_not_allowed_for_type": "HTTP status not documented for this error type",
    "undocumented_code": "error code not in the documented catalogue",
    "code_not_allowed_for_type": "documented code sent under another error type, or none",
    "status_not_allowed_for_code": "documented code sent with another HTTP status",
    "body_status_mismatch": "error body statusCode differs from the HTTP status",
    "body_request_id_missing": "error body has no requestId",
    "body_request_id_not_uuid": "error body requestId is not a UUID",
    "body_request_id_mismatch": "error body requestId differs from the request's id",
    "empty_code_outside_validation": "missing or empty code on an error that is not a "
    "validation_error",
    "error_on_success": "error type or code on a 2xx/3xx response",
    "missing_error_body": "4xx/5xx response with no error information at all (judged on "
    "the Scaling API's own log shapes only)",
}


def check_contract(
    store: Store,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    tz: str = "UTC",
    examples: int = 3,
    staged: bool = False,
) -> list[dict]:
    store.register_catalog()
    if staged:  # the weekly report has already put the week's failures in contract_input
        store.run("report_contract_input")
    else:
        store.run("contract_failures", {"since": since, "until": until, "examples": examples})
        store.run("contract_input_staged")
    rows = store.rows("contract_violations", {"examples": examples})
    found = store.examples_at([r for row in rows for r in row["example_rows"]])
    for row in rows:
        row["examples"] = [found[r] for r in row.pop("example_rows")]
        if row["error_source"] == "none":  # nothing logged but the status
            row["type"] = labels.no_body_type()
            row["code"] = labels.no_body_code({row["status"]: 1})
        row["meaning"] = VIOLATIONS.get(row["violation"], "")
        row["first_seen"] = local(row["first_seen"], tz)
        row["last_seen"] = local(row["last_seen"], tz)
    return rows
