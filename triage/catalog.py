"""The Scaling API's documented error catalogue, and what support tells a customer about each.

The facts (types, codes, statuses) are exactly those of the API's errors page; a test restates
them. Meanings and advice are ours. Anything a log holds outside this catalogue is data to
show as "undocumented", never an error.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorType:
    name: str
    statuses: tuple[int, ...]
    meaning: str


@dataclass(frozen=True)
class ErrorCode:
    code: str
    type: str
    status: int
    meaning: str
    action: str  # what the customer should do


TYPES: tuple[ErrorType, ...] = (
    ErrorType(
        "not_authorized_error",
        (401,),
        "The Authorization header is missing, or the API key is invalid or expired.",
    ),
    ErrorType(
        "invalid_request_error",
        (400, 404, 409),
        "The request is well-formed but breaks a business rule (a missing resource, a "
        "name already taken, a transition that is not allowed).",
    ),
    ErrorType(
        "validation_error",
        (422,),
        "The body or a path parameter failed schema validation (wrong type, missing "
        "field, value out of range). The code may be empty.",
    ),
    ErrorType("internal_error", (500,), "Something failed on the Scaling side."),
)

CODES: tuple[ErrorCode, ...] = (
    ErrorCode(
        "missing_authorization_header",
        "not_authorized_error",
        401,
        "No Authorization header was sent (or it did not start with 'Bearer ').",
        "Send 'Authorization: Bearer <API key>' on every request.",
    ),
    ErrorCode(
        "invalid_api_key",
        "not_authorized_error",
        401,
        "The API key is invalid or has expired; a revoked or rotated key gives this too.",
        "Check that the key is current (Settings > API Access), update it wherever it "
        "is configured, and retry.",
    ),
    ErrorCode(
        "not_found",
        "invalid_request_error",
        404,
        "The resource does not exist, or is not visible to the caller's organization.",
        "Check the id and that the API key belongs to the organization that owns it.",
    ),
    ErrorCode(
        "name_conflict",
        "invalid_request_error",
        409,
        "A resource with the same name already exists in the organization.",
        "Use another name, or update the existing resource instead of creating it.",
    ),
    ErrorCode(
        "invalid_status_transition",
        "invalid_request_error",
        400,
        "The incident cannot move to that status from its current one (statuses move "
        "one step forward: investigating, identified, monitoring, resolved).",
        "Move the incident one step at a time, and do not change a resolved incident.",
    ),
    ErrorCode(
        "policy_in_use",
        "invalid_request_error",
        400,
        "The escalation policy cannot be deleted while active incidents use it.",
        "Detach the policy from its incidents (and routing rules) first, then delete it.",
    ),
    ErrorCode(
        "invalid_participant",
        "invalid_request_error",
        400,
        "One or more participant ids are not members of the organization.",
        "Remove users who left the organization from the layer's participants.",
    ),
    ErrorCode(
        "invalid_target",
        "invalid_request_error",
        400,
        "The referenced schedule does not exist in the organization.",
        "Point the escalation layer at a schedule of the same organization.",
    ),
    ErrorCode(
        "invalid_timezone",
        "invalid_request_error",
        400,
        "The timezone is not a valid IANA identifier.",
        "Use an IANA name such as America/New_York, not EST or UTC+5.",
    ),
    ErrorCode(
        "cannot_remove_self",
        "invalid_request_error",
        400,
        "An admin tried to remove themselves from the organization.",
        "Ask another admin to remove you.",
    ),
    ErrorCode(
        "cannot_change_own_role",
        "invalid_request_error",
        400,
        "An admin tried to change their own role.",
        "Ask another admin to change your role.",
    ),
)

# What each HTTP status means in the Scaling API's documentation.
STATUSES: dict[int, str] = {
    200: "The request succeeded.",
    400: "Bad request: the request violated a business rule; the code says which.",
    401: "Unauthorized: the API key is missing or invalid.",
    404: "Not found: the resource does not exist or is not visible to the organization.",
    409: "Conflict: a resource with the same unique identifier (e.g. name) already exists.",
    422: "Unprocessable entity: the request body failed schema validation.",
    500: "Internal server error: something went wrong on the Scaling side.",
}

_BY_TYPE = {t.name: t for t in TYPES}
_BY_CODE = {c.code: c for c in CODES}


def error_type(name: str | None) -> ErrorType | None:
    return _BY_TYPE.get(name or "")


def error_code(code: str | None) -> ErrorCode | None:
    return _BY_CODE.get(code or "")


def is_documented(type_name: str | None, code: str | None) -> bool:
    """Is this error, as logged, in the documented catalogue? The one definition: a code must
    be documented under this very type; a missing or empty code is documented for
    validation_error only (the errors page: "the code field may be empty for validation
    errors")."""
    if code in (None, ""):
        return type_name == "validation_error"
    documented = error_code(code)
    return documented is not None and documented.type == type_name


def explain(type_name: str | None, code: str | None) -> str:
    """One sentence for a (type, code) as logged, saying plainly when it is undocumented."""
    documented = error_code(code)
    if documented:
        return documented.meaning
    known_type = error_type(type_name)
    if type_name in (None, "") and code in (None, ""):
        return "No error type or code was logged: only the HTTP status says it failed."
    if code in (None, "") and known_type:
        return known_type.meaning
    if known_type:
        return f"Undocumented code {code!r} (type {type_name}: {known_type.meaning})"
    return f"Undocumented error (type {type_name!r}, code {code!r})."


def explain_status(status: int | None) -> str | None:
    """What a status says on its own: its name, and the documented types that answer with
    it (a grouping by status knows no type or code)."""
    if status is None:
        return None
    from http import HTTPStatus

    try:
        name = f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        name = f"HTTP {status}"
    types = [t.name for t in TYPES if status in t.statuses]
    if types:
        return f"{name}: documented for {', '.join(types)}."
    return f"{name}: no documented error type answers with it."


def advice(type_name: str | None, code: str | None) -> str | None:
    documented = error_code(code)
    if documented:
        return documented.action
    if type_name == "validation_error":
        return "Check the request body and path parameters against the API reference."
    if type_name == "internal_error":
        return "Retry with backoff; if it persists, send us the request id."
    return None


def tables() -> dict[str, list[dict]]:
    """The catalogue as rows, for SQL that joins logged errors against it."""
    return {
        "catalog_types": [{"type": t.name, "status": s} for t in TYPES for s in t.statuses],
        "catalog_codes": [
            {"code": c.code, "type": c.type, "status": c.status, "meaning": c.meaning}
            for c in CODES
        ],
    }
