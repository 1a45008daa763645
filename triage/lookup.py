"""Request lookup: the whole story of one request, and what happened around it.

Ids come as arguments or are dug out of free text (a ticket, an e-mail). For each id: the
request line, its error explained by the catalogue, the trace of every event with that id
across services and files, and the context a support engineer asks for next: other failures
of the same org and key, likely retries, and whether a burst of 5xx was going on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

from triage import catalog, labels
from triage.redact import masked_fields
from triage.store import Store

UUID = re.compile(
    r"(?<![0-9A-Za-z])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"(?![0-9A-Za-z])"
)
# "requestId: req-abc", "X-Request-ID = 'abc123'", "request id abc-123": ids that are not UUIDs
LABELLED = re.compile(
    r"(?i)\b(?:x-)?request[\s_-]?id\b[\"'`]?\s*[:=]?\s*[\"'`]?([A-Za-z0-9][A-Za-z0-9._:-]{2,127})"
)
MIN_PREFIX = 8


def looks_like_an_id(token: str) -> bool:
    """After a label ("request id was ..."), only a token shaped like an id is one: it holds
    a digit, or joins letters with '-' or '_' (req-abc). Words (was, is, missing) are not."""
    return bool(re.search(r"\d", token) or re.fullmatch(r"[A-Za-z0-9]+([-_][A-Za-z0-9]+)+", token))


HEX32 = re.compile(r"[0-9a-fA-F]{32}")
# what people wrap an id in when they paste it: quotes, brackets, guillemets, trailing commas
WRAPPING = " \t\r\n\"'`‘’“”‹›«»<>()[]{},.;:!?"


def normalise_id(value: str) -> str:
    """An id as stored: a UUID in lower case, with its hyphens put back if they were lost
    (46f5...32 hex digits); anything else as it is."""
    if HEX32.fullmatch(value):
        value = f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return value.lower() if UUID.fullmatch(value) else value


def ids_in_text(text: str) -> list[str]:
    """Every request id in free text, in order of appearance, each once (UUIDs lower-cased;
    a labelled id of 32 hex digits gets its hyphens back)."""
    found: dict[str, int] = {}
    for m in UUID.finditer(text):
        found.setdefault(m.group(0).lower(), m.start())
    for m in LABELLED.finditer(text):
        value = normalise_id(m.group(1).rstrip(".,;:"))
        if HEX32.fullmatch(m.group(1)) or (not UUID.fullmatch(value) and looks_like_an_id(value)):
            found.setdefault(value, m.start(1))
    return sorted(found, key=lambda value: found[value])


def ids_in_argument(arg: str) -> list[str]:
    """The ids one argument names, read as a ticket would be ("requestId: 46f5...",
    "(46f5...)," and "‹46f5...›" all name 46f5...); an argument with no id in that sense
    (req_abc) is taken whole, stripped of what wraps it."""
    found = ids_in_text(arg)
    if found:
        return found
    bare = arg.strip(WRAPPING)
    return [normalise_id(bare)] if bare else []


def looks_malformed(request_id: str) -> str | None:
    """Why an id cannot be a Scaling request id as quoted, or None."""
    if UUID.fullmatch(request_id):
        return None
    hexish = re.fullmatch(r"[0-9a-fA-F-]+", request_id)
    if hexish and len(request_id) < 36:
        return f"it has {len(request_id)} characters where a request id (a UUID) has 36"
    if hexish:
        return "it is longer than a UUID: perhaps two ids ran together"
    return None  # not a UUID, but the API has used other ids (req-abc): just not stored


@dataclass
class Found:
    request_id: str
    found: bool
    request: dict | None = None
    error: dict | None = None
    trace: list[dict] = field(default_factory=list)
    context: dict = field(default_factory=dict)
    not_found: dict | None = None

    def as_dict(self) -> dict:
        return {
            "request_id": self.request_id,
            "found": self.found,
            "request": self.request,
            "error": self.error,
            "trace": self.trace,
            "context": self.context,
            "not_found": self.not_found,
        }


def lookup_ids(
    store: Store,
    ids: list[str],
    *,
    window: dt.timedelta = dt.timedelta(hours=1),
    retry_window: dt.timedelta = dt.timedelta(minutes=10),
    prefix: bool = False,
) -> list[Found]:
    """Look every id up; the ones not found explain themselves."""
    resolved: list[tuple[str, list[str]]] = []  # (as asked, ids to fetch)
    ambiguous: dict[str, list[dict]] = {}
    for asked in ids:
        if prefix and len(asked) >= MIN_PREFIX and not UUID.fullmatch(asked):
            matches = store.rows("lookup_prefix", {"prefix": asked, "limit": 11})
            if len(matches) == 1:
                resolved.append((asked, [matches[0]["request_id"]]))
                continue
            if len(matches) > 1:
                ambiguous[asked] = matches
        resolved.append((asked, [asked]))
    wanted = sorted({v for _, fetch in resolved for i in fetch for v in (i, i.lower())})
    by_id: dict[str, list[dict]] = {}
    query = "lookup_records" if store.rid_hash_ok else "lookup_records_by_text"
    for row in store.rows(query, {"ids": wanted}):
        by_id.setdefault(row["request_id"], []).append(row)
    # an id nowhere else may sit in a line rejected before its id could be read
    unread = sorted({i.lower() for i in wanted if i not in by_id and i.lower() not in by_id})
    if unread:
        for row in store.rows("lookup_rejected_lines", {"ids": unread}):
            by_id.setdefault(row["request_id"], []).append(row)

    results = []
    for asked, fetch in resolved:
        rid = fetch[0]
        rows = by_id.get(rid) or by_id.get(rid.lower()) or []
        if not rows:
            results.append(
                Found(asked, False, not_found=_not_found(store, asked, ambiguous, prefix))
            )
            continue
        results.append(_story(store, rows[0]["request_id"], rows, window, retry_window))
    return results


def _story(store: Store, rid: str, rows: list[dict], window, retry_window) -> Found:
    requests = [r for r in rows if r["kind"] == "request"]
    main = requests[0] if requests else None
    first_ts = min((r["ts"] for r in rows if r["ts"]), default=None)
    trace = []
    for r in rows:
        trace.append(
            {
                "ts": r["ts"],
                "offset_ms": _offset_ms(r["ts"], first_ts),
                "kind": r["kind"],
                "service": r["service"],
                "level": r["level"],
                "what": _what(r),
                "fields": masked_fields(r["fields"] or {}),  # said beyond its message
                "source": f"{r['source_path']}:{r['line_no']}",
            }
        )
    found = Found(rid, True, trace=trace)
    if main:
        found.request = {
            k: main[k]
            for k in (
                "ts",
                "method",
                "route",
                "path",
                "status",
                "duration_ms",
                "org_id",
                "api_key_id",
                "user_agent",
                "client_ip",
                "service",
            )
        }
        found.request["source"] = f"{main['source_path']}:{main['line_no']}"
        if main["failed"]:
            found.error = _error(main)
        found.context = _context(store, main, window, retry_window, trace)
    return found


def _offset_ms(ts, first) -> float | None:
    return round((ts - first).total_seconds() * 1000, 1) if ts and first else None


def _what(r: dict) -> str:
    if r["kind"] == "request":
        code = f" {r['error_type']}/{r['error_code']}" if r["error_type"] else ""
        return f"{r['method'] or ''} {r['path'] or r['route'] or ''} → {r['status']}{code}".strip()
    if r["kind"] == "reject":
        return f"rejected line ({r['reject_reason']})"
    # the service's own fields beside its message, as "name: value" (secret ones hidden)
    said = ", ".join(f"{k}: {v}" for k, v in masked_fields(r.get("fields") or {}).items())
    return f"{r['message'] or ''} ({said})".strip() if said else r["message"] or ""


def _error(main: dict) -> dict:
    documented = catalog.error_code(main["error_code"])
    bare = main["error_source"] == "none"  # nothing logged but the status
    return {
        "type": labels.no_body_type() if bare else main["error_type"],
        "code": labels.no_body_code({main["status"]: 1}) if bare else main["error_code"],
        "message": main["error_message"],
        "status": main["status"],
        "documented": catalog.is_documented(main["error_type"], main["error_code"]),
        "source": main["error_source"],  # body | fields | none
        "meaning": catalog.explain(main["error_type"], main["error_code"]),
        # for the customer: what the documented code or type means, never our jargon
        "plain_meaning": (
            documented.meaning
            if documented
            else getattr(catalog.error_type(main["error_type"]), "meaning", None)
            or "The request could not be completed."
        ),
        "customer_action": catalog.advice(main["error_type"], main["error_code"]),
    }


# how far a key's history is read for when it last worked and when it started failing:
# the hour around the request first (cheap, and enough for most), then a day before and six
# hours after when the key had no success in that hour
KEY_HISTORY = ((dt.timedelta(hours=1), dt.timedelta(hours=1)),
               (dt.timedelta(hours=24), dt.timedelta(hours=6)))  # fmt: skip


def _context(
    store: Store, main: dict, window: dt.timedelta, retry_window: dt.timedelta, trace: list[dict]
) -> dict:
    at = main["ts"]
    related = store.rows(
        "lookup_related_failures",
        {
            "org": main["org_id"],
            "key": main["api_key_id"],
            "request_id": _rid(main),
            "since": at - window,
            "until": at + window,
            "at": at,
        },
    )
    retries = store.rows(
        "lookup_retries",
        {
            "method": main["method"],
            "route": main["route"],
            "org": main["org_id"],
            "key": main["api_key_id"],
            "since": at - retry_window,
            "until": at + retry_window,
            "request_id": _rid(main),
        },
    )
    # A burst of server errors matters only to a request that got one itself.
    bursts = []
    if (main["status"] or 0) >= 500:
        bursts = store.rows(
            "server_error_bursts",
            {
                "since": at - dt.timedelta(minutes=30),
                "until": at + dt.timedelta(minutes=30),
                "min_errors": 3,
                "gap_minutes": 2,
            },
        )
    inside = [b for b in bursts if b["start"] <= at < b["end"]]
    key = None
    # when the key stopped working answers a client error (a revoked key, a lost scope); a
    # server error is not the key's doing
    if main["failed"] and main["api_key_id"] and 400 <= (main["status"] or 0) < 500:
        for before, after in KEY_HISTORY:
            key = store.rows(
                "lookup_key_changes",
                {
                    "key": main["api_key_id"],
                    "org": main["org_id"],
                    "at": at,
                    "since": at - before,
                    "until": at + after,
                },
            )[0]
            key["hours_before"] = int(before.total_seconds() // 3600)
            key["hours_after"] = int(after.total_seconds() // 3600)
            if key["last_success"] is not None:
                break
    # what the services said about a failed request is evidence; about a success, noise
    said = (
        [t for t in trace if t["fields"] and t["kind"] in ("trace", "log")]
        if main["failed"]
        else []
    )
    return {
        "window_minutes": int(window.total_seconds() // 60),
        "same_org": [_related(r) for r in related if r["scope"] == "org"],
        "same_key": [_related(r) for r in related if r["scope"] == "key"],
        "retries": retries,
        "server_error_burst": inside[0] if inside else None,
        "key_changes": key,
        "hints": _hints(main, related, retries, inside, key, said),
    }


def _rid(main: dict) -> str:
    return main.get("request_id") or ""


def _related(r: dict) -> dict:
    return {
        k: r[k]
        for k in (
            "error_type",
            "error_code",
            "status",
            "count",
            "before",
            "after",
            "first_seen",
            "last_seen",
            "examples",
        )
    }


def _hints(
    main: dict,
    related: list[dict],
    retries: list[dict],
    bursts: list[dict],
    key: dict | None = None,
    said: list[dict] | None = None,
) -> list[str]:
    """The next question, answered: plain sentences from the context numbers, facts the
    services logged before guesses."""
    hints = []
    for t in said or []:
        hints.append(f"{t['service'] or 'a service'} said: {t['what']}.")
    if key and key["failing_since"]:
        hints.append(_key_changes(main["api_key_id"], key))
    known = any("reason" in t["fields"] for t in said or [])
    same_key = [r for r in related if r["scope"] == "key" and r["error_code"] == main["error_code"]]
    for r in same_key:
        if main["error_code"] == "invalid_api_key" and r["count"] >= 5:
            why = "" if known else ": the key was probably revoked or rotated"
            hints.append(
                f"{r['count']} other invalid_api_key from this key around it ({r['before']} "
                f"before, {r['after']} after){why}."
            )
        elif r["count"] >= 3:
            hints.append(
                f"{r['count']} other {r['error_code'] or r['error_type']} from the same "
                "API key around it: a repeating client problem, not a one-off."
            )
    failed = (main["status"] or 0) >= 400 or any((r["status"] or 0) >= 400 for r in retries)
    if retries and failed:
        statuses = Counter(str(r["status"]) for r in retries)
        shown = ", ".join(f"{s} ×{n}" if n > 1 else s for s, n in statuses.most_common())
        hints.append(
            f"{len(retries)} similar request(s) (same org, method and route) within "
            f"minutes ({shown}): likely retries."
        )
    if bursts:
        b = bursts[0]
        hints.append(
            f"It fell inside a burst of {b['server_errors']} server errors "
            f"({b['start']:%H:%M}-{b['end']:%H:%M} UTC): a Scaling-side incident."
        )
    return hints


def _key_changes(key_id: str, k: dict) -> str:
    """ "key_x last succeeded 07:41:33 UTC, fails since 09:12:04 UTC (213 failures, no
    success after); the org's other keys kept working (1 key, 25 requests)": when it
    changed, in one line."""
    when = "%Y-%m-%d %H:%M:%S UTC"

    def hours(n: int) -> str:
        return "an hour" if n == 1 else f"{n} hours"

    if k["last_success"]:
        text = f"{key_id} last succeeded {k['last_success']:{when}}, "
    else:
        text = f"{key_id} had no success in the {hours(k['hours_before'])} before; it "
    text += f"fails since {k['failing_since']:{when}} ({k['failures']} failures"
    if k["next_success"]:
        text += f", then succeeded again at {k['next_success']:{when}})"
    else:
        text += f", and no success up to {hours(k['hours_after'])} after this request)"
    if k["other_keys_working"]:
        n = k["other_keys_working"]
        text += (
            f"; the org's other keys kept working ({n} key{'s' if n != 1 else ''}, "
            f"{k['other_keys_successes']} successful requests since)"
        )
    return text + "."


def _not_found(
    store: Store, asked: str, ambiguous: dict[str, list[dict]], prefix: bool = False
) -> dict:
    from triage.store import describe_range

    coverage = describe_range(store)
    suggestions = []
    if asked in ambiguous:
        suggestions = [m["request_id"] for m in ambiguous[asked][:10]]
    elif len(asked) >= MIN_PREFIX:
        suggestions = [
            m["request_id"]
            for m in store.rows("lookup_prefix", {"prefix": asked[:MIN_PREFIX], "limit": 5})
        ]
    return {
        "store": str(store.path),
        **coverage,
        # a prefix asked for is short on purpose: not malformed
        "malformed": None if prefix else looks_malformed(asked),
        "ambiguous_prefix": asked in ambiguous,
        "similar_ids": suggestions,
    }
