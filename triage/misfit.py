"""Saying so when a file does not fit: after an ingest, a file with more than half of its
lines rejected gets one line naming the file, how many lines, the main reason, and the next
step, with what the mapping suggester sees in a small sample of it."""

from __future__ import annotations

import shlex
from collections import Counter

import duckdb

from triage.exceptions import TriageError
from triage.suggest import Suggestion, suggest_mapping

WARNING_SAMPLE = 300  # lines the suggester looks at: enough to place a field, and cheap
NOT_READABLE = ("invalid_json", "not_an_object", "unrecognised_text")
NO_TIME = ("no_timestamp", "bad_timestamp")


def misfit_warning(
    name: str, lines: int, rejected: Counter, spooled: str | None = None
) -> str | None:
    """The warning for a file whose lines were mostly rejected this run, else None."""
    total = sum(rejected.values())
    if not total or 2 * total <= lines:
        return None
    reason = max(sorted(rejected), key=lambda r: rejected[r])
    head = f"`{name}`: {total:,} of {lines:,} lines rejected ({reason})"
    command = (
        f"run `triage mapping suggest {shlex.quote(name)}`"
        if name != "-"
        else "save the input to a file and run `triage mapping suggest FILE`"
    )
    if reason in NOT_READABLE:
        return f"{head}: it is not JSON lines or a text format triage knows; {command}"
    if reason in NO_TIME:
        return f"{head}: {_where_the_time_is(name, spooled)}; {command}"
    return f"{head}: see `triage info` for the lines and why"


def _where_the_time_is(name: str, spooled: str | None) -> str:
    try:
        found = suggest_mapping(name, WARNING_SAMPLE, spooled=spooled)
    except (TriageError, duckdb.Error):
        return "no field of a sample of it looks like a time"
    rule = found.rules.get("timestamp")
    if rule is None:
        return f"no field looks like a time ({_what_was_found(found)})"
    how = " (a CLF time: the mapping gives its format)" if rule.format else ""
    return f"the time looks like it is in `{rule.source.name}`{how}"


def _what_was_found(found: Suggestion) -> str:
    placed = [f"{c} in `{r.source.name}`" for c, r in found.rules.items()]
    if placed:
        return "found " + ", ".join(placed)
    names = [f"`{f.name}`" for f in found.fields[:6]]
    more = ", ..." if len(found.fields) > 6 else ""
    return "its fields: " + ", ".join(names) + more if names else "no fields"
