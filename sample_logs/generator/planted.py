"""Lines planted for triage to show as they are or to mask.

The documented inconsistencies (§4) must be reported as logged, not corrected; the planted
secrets (full API keys, a bearer token, e-mail addresses) must never appear in triage's output.
"""

from __future__ import annotations

import dataclasses

from .clock import Calendar
from .failures import FAILURE_BY_CODE, fail
from .ids import Ids
from .routes import ROUTE_BY_KEY
from .traffic import Request, Traffic
from .world import UA_CURL


def doc_inconsistencies(t: Traffic, cal: Calendar, email: str) -> list[tuple[str, Request]]:
    """~10 lines showing what the docs contradict; the tool must show them as they are."""
    not_authorized = fail(
        "not_authorized_error",
        "not_authorized",
        401,
        "role check failed",
        "Only organization admins can manage team members",
    )
    not_found_400 = fail("invalid_request_error", "not_found", 400, "resource not found")
    validation_400 = fail("validation_error", "", 400, "request validation failed")
    invite_code = fail(
        "invalid_request_error",
        "invalid_request_error",
        400,
        "invitation rejected",
        f"A pending invitation already exists for {email}",
    )
    # fmt: off
    cases = (
        # (kind, region, instant, route key, failure, logged status, patch the body's requestId)
        ("not_authorized_code", "eu", cal.previous_week(1, "11:20:41.118"),
         "GET /v1/team/members", not_authorized, None, False),
        ("not_authorized_code", "us", cal.current_week(2, "18:02:09.771"),
         "POST /v1/team/members/invite", not_authorized, None, False),
        ("not_authorized_code", "eu", cal.current_week(3, "08:47:55.036"),
         "PATCH /v1/team/members/{member}/role", not_authorized, None, False),
        ("status_differs_from_body", "eu", cal.current_week(1, "13:13:13.313"),
         "GET /v1/incidents/{incident}", not_found_400, 404, False),
        ("status_differs_from_body", "us", cal.previous_week(3, "20:30:03.909"),
         "GET /v1/incidents/{incident}", not_found_400, 404, False),
        ("body_request_id_differs", "eu", cal.current_week(4, "10:10:10.010"),
         "GET /v1/oncall/schedules/{schedule}", FAILURE_BY_CODE["not_found"], None, True),
        ("body_request_id_differs", "us", cal.current_week(0, "16:16:16.616"),
         "POST /v1/oncall/schedules", FAILURE_BY_CODE["name_conflict"], None, True),
        ("validation_error_as_400", "eu", cal.previous_week(0, "09:58:02.452"),
         "POST /v1/incidents", validation_400, None, False),
        ("validation_error_as_400", "us", cal.current_week(2, "22:14:37.190"),
         "POST /v1/oncall/schedules/{schedule}/layers", validation_400, None, False),
        ("invalid_request_error_as_code", "us", cal.current_week(1, "16:40:29.505"),
         "POST /v1/team/members/invite", invite_code, None, False),
    )
    # fmt: on
    found = []
    for kind, region, ts, key, failure, status, other_id in cases:
        org = t.pick_org(region)
        spec = ROUTE_BY_KEY[key]
        if spec.audience == "team":  # a non-admin gets the 401; the invite error hits an admin
            people = org.admins
            if failure is not_authorized:
                people = [u for u in org.users if u not in org.admins] or org.admins
            client = t.session_of(org, t.rng.choice(people))
        else:
            client = t.pick_client(org, spec.audience, ts)
        body = {"requestId": t.ids.uuid4()} if other_id else None
        message = failure.message if failure is invite_code else None
        req = t.request(
            ts, org, client, spec, failure=failure, status=status, body=body, message=message
        )
        found.append((kind, req))
    return found


def plant_invite_email(t: Traffic, cal: Calendar, email: str) -> Request:
    """An admin's curl puts the invitee's e-mail in the query string (PII to mask)."""
    ts = cal.current_week(2, "11:05:33.921")
    org = t.pick_org("eu")
    key = next(c for c in org.clients if c.api_key_id and c.active(ts))
    return t.request(
        ts,
        org,
        dataclasses.replace(key, user_agent=UA_CURL),
        ROUTE_BY_KEY["POST /v1/team/members/invite"],
        query=f"?email={email}",
    )


def plant_keys_in_messages(requests: list[Request], cal: Calendar, ids: Ids) -> list[Request]:
    """Echo a full API key in three invalid_api_key messages (EU rotated, EU, US)."""
    picks = []
    for wanted in (
        lambda r: r.gateway == "eu" and r.ts < cal.current_week_ms,
        lambda r: r.gateway == "eu" and r.ts >= cal.current_week_ms,
        lambda r: r.gateway == "us",
    ):
        req = next(
            r for r in requests if r.code == "invalid_api_key" and r.scenario is None and wanted(r)
        )
        req.error["message"] = f"Invalid API key {ids.secret_api_key()}"
        picks.append(req)
    return picks
