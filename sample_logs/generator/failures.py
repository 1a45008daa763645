"""The error catalogue: what can fail, where, with which status and body (§5, shares from §6.3)."""

from __future__ import annotations

from dataclasses import dataclass

ANY_ROUTE = "any"  # any route, weighted like traffic
ID_ROUTE = "with_id"  # any route with an id in its path, weighted like traffic


@dataclass(frozen=True)
class FailureSpec:
    """One kind of error body. ``routes`` says where it happens (§5, §6.3)."""

    share: float  # % of all failures (§6.3)
    type: str
    code: str
    status: int
    routes: str | tuple[str, ...]
    trace_msg: str
    message: str = ""  # the optional "message" when the body carries one
    clustered: bool = False  # only ever in bursts: background traffic gets none


_F = FailureSpec
# fmt: off
_ESC_LAYER_WRITES = ("POST /v1/escalation/policies/{policy}/layers",
                     "PATCH /v1/escalation/policies/{policy}/layers/{layer}")
_ONCALL_LAYER_WRITES = ("POST /v1/oncall/schedules/{schedule}/layers",
                        "PUT /v1/oncall/schedules/{schedule}/layers/{layer}")
FAILURE_MIX = (
    _F(17.0, "not_authorized_error", "invalid_api_key", 401, ANY_ROUTE, "api key rejected",
       "Invalid API key"),
    _F(7.0, "not_authorized_error", "missing_authorization_header", 401, ANY_ROUTE,
       "missing or malformed authorization header", "Missing Authorization header"),
    _F(22.0, "invalid_request_error", "not_found", 404, ID_ROUTE, "resource not found"),
    _F(17.0, "validation_error", "", 422,
       ("POST /v1/incidents", "POST /v1/oncall/schedules", *_ONCALL_LAYER_WRITES,
        "POST /v1/escalation/policies/{policy}/layers", "GET /v1/incidents"),
       "request validation failed"),
    _F(9.0, "invalid_request_error", "invalid_status_transition", 400,
       ("PATCH /v1/incidents/{incident}/status",), "status transition rejected",
       "Cannot transition from investigating to resolved"),
    _F(7.0, "invalid_request_error", "name_conflict", 409,
       ("POST /v1/oncall/schedules", "POST /v1/escalation/policies"), "name already taken",
       'A resource named "Primary" already exists'),
    _F(4.0, "invalid_request_error", "invalid_target", 400, _ESC_LAYER_WRITES,
       "escalation target rejected", "The referenced schedule does not exist"),
    _F(4.0, "invalid_request_error", "invalid_participant", 400, _ONCALL_LAYER_WRITES,
       "participant is not an org member",
       "One or more participants are not members of this organization"),
    _F(3.0, "invalid_request_error", "invalid_timezone", 400,
       ("POST /v1/oncall/schedules", "PUT /v1/oncall/schedules/{schedule}"),
       "timezone rejected", 'Invalid timezone "EST"'),
    # The catalogue row says 400; §5 argues 409 ("conflict with current state").
    _F(2.5, "invalid_request_error", "policy_in_use", 409,
       ("DELETE /v1/escalation/policies/{policy}",), "escalation policy still referenced",
       "Escalation policy is in use"),
    _F(1.0, "invalid_request_error", "cannot_change_own_role", 400,
       ("PATCH /v1/team/members/{member}/role",), "refused own role change",
       "You cannot change your own role"),
    _F(0.5, "invalid_request_error", "cannot_remove_self", 400,
       ("DELETE /v1/team/members/{member}",), "refused self removal",
       "You cannot remove yourself from the organization"),
    # Clustered in short windows (§6.3), so the 500 scenarios normally supply all of them.
    _F(3.0, "internal_error", "internal_error", 500, ANY_ROUTE, "unhandled error",
       "An unexpected error occurred", clustered=True),
    # "Other documented codes" (§4): per-endpoint tables, absent from the catalogue.
    _F(0.6, "invalid_request_error", "invalid_component_id", 400, ("POST /v1/incidents",),
       "unknown component", "Component not found"),
    _F(0.6, "invalid_request_error", "duplicate_component_id", 400, ("POST /v1/incidents",),
       "duplicate component", "componentIds contains duplicates"),
    _F(0.6, "invalid_request_error", "incident_resolved", 400,
       ("POST /v1/incidents/{incident}/updates",), "incident already resolved",
       "Incident is resolved"),
    _F(0.6, "invalid_request_error", "no_public_surface", 400,
       ("POST /v1/incidents/{incident}/updates",), "no public status page for incident",
       "No published status page covers this incident's components"),
    _F(0.6, "invalid_request_error", "invalid_target_user", 400,
       ("POST /v1/incidents/{incident}/handoff",), "hand-off target rejected",
       "Target user is not a member of this organization"),
)
# fmt: on
FAILURE_BY_CODE = {spec.code: spec for spec in FAILURE_MIX}
INVALID_API_KEY = FAILURE_BY_CODE["invalid_api_key"]
SELF_TARGETED_CODES = ("cannot_change_own_role", "cannot_remove_self")

VALIDATION_MESSAGES = {
    "POST /v1/incidents": (
        "title must be between 1 and 100 characters",
        "severity must be one of critical, high, medium, low",
        "one of ownerId or ownerScheduleId is required",
    ),
    "POST /v1/oncall/schedules": ("name must be between 1 and 255 characters",),
    "POST /v1/oncall/schedules/{schedule}/layers": (
        "rotationLengthDays must be 7 when rotationType is weekly",
        "handoffTime must match HH:MM",
    ),
    "PUT /v1/oncall/schedules/{schedule}/layers/{layer}": ("handoffTime must match HH:MM",),
    "POST /v1/escalation/policies/{policy}/layers": (
        "ackTimeoutMinutes must be between 1 and 10080",
    ),
    "GET /v1/incidents": ("limit must be between 1 and 100",),
}


def fail(type_: str, code: str, status: int, trace_msg: str, message: str = "") -> FailureSpec:
    """An ad-hoc failure outside the §6.3 mix (doc inconsistencies, 500 variants)."""
    return FailureSpec(0.0, type_, code, status, ANY_ROUTE, trace_msg, message)
