"""How a failure with no error information reads, the same in every command.

An access log of a proxy or web server (Envoy, nginx, ...) logs a status but never the
response body, so its failures have no error type or code: only the HTTP status says what
went wrong. People read such a failure as type `(no error body)` and code `HTTP 503`; where
one row holds several statuses, the code lists them, most common first
(`HTTP 503 ×8, 404 ×4, 400`). A failure without a request id is named by where it was
logged (`file:line`).

Data keeps what the log said: in JSON a missing type, code or request id stays null. The
values below carry both faces (`Shown`): JSON writes `value`, everything people read (the
terminal table, CSV, Markdown, HTML, templates) writes `text`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from triage.redact import mask

NO_ERROR_BODY = "(no error body)"
NOT_APPLICABLE = "n/a"  # "documented" for what the catalogue cannot judge


@dataclass(frozen=True)
class Shown:
    """A value as data (`value`, what JSON writes) and as people read it (`text`)."""

    value: object
    text: str

    def __str__(self) -> str:
        return self.text


def json_value(value: object) -> object:
    """What JSON writes for a value: a Shown's data face (json.dumps `default=`)."""
    return value.value if isinstance(value, Shown) else str(value)


def statuses(counts: Mapping[int, int]) -> str:
    """'HTTP 503', or 'HTTP 503 ×8, 404 ×4, 400' when several: most common first."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(ranked) == 1:
        return f"HTTP {ranked[0][0]}"
    return "HTTP " + ", ".join(f"{s} ×{n}" if n > 1 else str(s) for s, n in ranked)


def no_body_type() -> Shown:
    """The type of a failure logged with no error information."""
    return Shown(None, NO_ERROR_BODY)


def no_body_code(counts: Mapping[int, int]) -> Shown:
    """The code of failures logged with no error information: their HTTP statuses."""
    return Shown(None, statuses(counts))


def failure_key(type_name: str | None, code: str | None, status: int | None, bare: bool) -> str:
    """`type / code` as one label ('(no error body) / HTTP 503' for a bare failure)."""
    if bare:
        return f"{NO_ERROR_BODY} / {statuses({status: 1})}" if status else NO_ERROR_BODY
    return f"{type_name or '?'} / {code or '(no code)'}"


def example(request_id: str | None, place: str | None) -> str | Shown:
    """An example failure: its request id, or, when it has none, where it was logged."""
    if request_id is not None:
        return request_id
    return Shown(None, mask(place) or "?")
