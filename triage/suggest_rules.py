"""Picking, per column, the field a mapping should read, from how the sampled values look.

`triage mapping suggest` (triage/suggest.py) has DuckDB classify every field of a sample;
these pickers choose among the classified fields: first by how many lines a field covers,
then by the names the common log shapes use, and a duration only where its unit is known.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

CLF_FORMAT = "%d/%b/%Y:%H:%M:%S %z"
# The first entry of a client address: an IPv4 or IPv6 address without its port or brackets,
# the first of an X-Forwarded-For list.
CLIENT_IP_REGEX = r"^\s*\[?((?:[0-9]{1,3}\.){3}[0-9]{1,3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f])"
URL_PATH_REGEX = r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*(.+)$"  # a full URL without scheme and host
UNIT_SCALES = {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1000.0}
SHOWN_COLUMNS = ("timestamp", "request_id", "method", "path", "route", "status", "duration_ms",
                 "client_ip", "user_agent")  # fmt: skip
NEEDED_COLUMNS = ("timestamp", "request_id", "method", "path", "status", "duration_ms")


@dataclass
class Field:
    """One field of the sampled objects: on how many lines it has a value, and on how many
    that value has each shape (the columns of the suggest_field_shapes query)."""

    path: str  # its JSONPath, as DuckDB's json_tree names it
    present: int
    texts: int
    numbers: int
    ids: int
    trace_paths: int
    iso_times: int
    clf_times: int
    epoch_times: int
    statuses: int
    common_statuses: int
    request_lines: int
    methods: int
    route_keys: int
    paths: int
    templates: int
    urls: int
    ips: int
    ip_ports: int
    ip_lists: int
    with_unit: int
    units: list[str]

    @property
    def keys(self) -> list[str | int]:
        return json_keys(self.path)

    @property
    def name(self) -> str:
        """Its keys joined by dots, array positions left out: `request.headers.X-Request-Id`."""
        return ".".join(k for k in self.keys if isinstance(k, str))

    @property
    def norm(self) -> str:
        """The name for comparing spellings: lower case, without '_' and '-'."""
        return re.sub(r"[-_]", "", self.name.lower())


@dataclass
class Rule:
    """A column read from a field, as a mapping writes it."""

    column: str
    source: Field
    reads: str  # what the values are, for the comment
    regex: str | None = None
    format: str | None = None
    scale: float | None = None
    lines: int = 0  # sampled JSON lines ingest reads a value from with this rule


@dataclass
class Suggestion:
    name: str
    sampled: int  # lines sampled (not blank)
    objects: int  # of them, JSON objects
    fields: list[Field]
    rules: dict[str, Rule] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


_KEY = re.compile(r'\.(?:"((?:[^"\\]|\\.)*)"|([^."\[\]]+))|\[(\d+)\]')


def json_keys(path: str) -> list[str | int]:
    """The keys of a JSONPath as json_tree writes it: $.a."b.c"[0] -> ['a', 'b.c', 0]."""
    keys: list[str | int] = []
    for quoted, plain, index in _KEY.findall(path[1:]):
        if index:
            keys.append(int(index))
        else:
            keys.append(json.loads(f'"{quoted}"') if quoted else plain)
    return keys


# ---- picking a field per column -----------------------------------------------------------

# The spellings the common shapes use, most wanted first, compared as Field.norm is.
TIME_NAMES = ["starttime", "startutc", "startedat", "requesttime", "timeiso8601",
              "timeunixnano", "@timestamp", "timestamp", "time", "ts", "timelocal", "msec",
              "requesttimeepoch", "startlocal", "observedtimeunixnano"]  # fmt: skip
STATUS_NAMES = ["status", "statuscode", "responsecode", "downstreamstatus", "response.status",
                "httprequest.status", "http.response.statuscode", "originstatus"]  # fmt: skip
METHOD_NAMES = ["method", "requestmethod", "httpmethod", "request.method",
                "http.request.method", "httprequest.requestmethod"]  # fmt: skip
PATH_NAMES = ["path", "requesturi", "requestpath", "request.uri", "url.path", "request.path",
              "uri", "url.original", "httprequest.requesturl", "url.full", "url",
              "request.url", "request", "resourcepath"]  # fmt: skip
ROUTE_NAMES = ["resourcepath", "routekey", "http.route", "route"]
DURATION_NAMES = ["durationms", "latencyms", "duration", "requesttime", "responselatency",
                  "latencies.request", "event.duration", "httprequest.latency", "latency",
                  "elapsed", "integrationlatency", "upstreamservicetime",
                  "upstreamresponsetime", "originduration"]  # fmt: skip
CLIENT_NAMES = ["xforwardedfor", "httpxforwardedfor", "clienthost", "clientip", "client.ip",
                "client.address", "request.clientip", "remoteaddr", "remoteip",
                "httprequest.remoteip", "ip", "request.remoteip", "remote", "clientaddr",
                "downstreamremoteaddress"]  # fmt: skip
NOT_A_CLIENT = ("upstream", "server", "destination", "local")
NOT_A_REQUEST_ID = ("user", "org", "account", "session", "span", "parent", "api", "tenant",
                    "customer", "insert", "extended", "key")  # fmt: skip


def _rank(f: Field, names: list[str]) -> int:
    """Higher for a name earlier in `names`; 0 for one not there."""
    return len(names) - names.index(f.norm) if f.norm in names else 0


def _best(candidates: list[tuple[Field, int, tuple]]) -> tuple[Field, int] | None:
    """(field, lines it fits, preference): among the fields that fit at least half as many
    lines as the best one, the most preferred; a field missing from some lines still wins
    over a worse-named one (ingest falls back to detection where a mapped field is empty)."""
    fitting = [c for c in candidates if c[1] > 0]
    if not fitting:
        return None
    most = max(c[1] for c in fitting)
    chosen = max((c for c in fitting if 2 * c[1] >= most), key=lambda c: (c[2], c[1]))
    return chosen[0], chosen[1]


def pick_timestamp(fields: list[Field]) -> Rule | None:
    def kind(f: Field) -> tuple[int, str]:
        return max((f.iso_times, "iso"), (f.clf_times, "clf"), (f.epoch_times, "epoch"))

    candidates = [
        (f, kind(f)[0], (_rank(f, TIME_NAMES), ("epoch", "clf", "iso").index(kind(f)[1])))
        for f in fields
        if not any(w in f.norm for w in ("duration", "latenc", "elapsed"))
    ]
    best = _best(candidates)
    if best is None:
        return None
    f, _ = best
    how = kind(f)[1]
    if how == "clf":
        return Rule("timestamp", f, "CLF time", format=CLF_FORMAT)
    return Rule("timestamp", f, "ISO-8601 time" if how == "iso" else "epoch time")


def pick_request_id(fields: list[Field]) -> Rule | None:
    def preference(f: Field) -> int:
        if f.norm in ("requestid", "request.id"):
            return 5
        if any(w in f.norm for w in ("requestid", "reqid", "request.id")):
            return 4
        if "trace" in f.norm or "correlation" in f.norm:
            return 3
        return 1

    # a field named for a request id is one whatever its values look like ("req-1f3a")
    candidates = [
        (f, f.ids + f.trace_paths or (f.texts if preference(f) == 5 else 0), (preference(f),))
        for f in fields
        if not any(w in f.norm for w in NOT_A_REQUEST_ID)
    ]
    best = _best(candidates)
    if best is None:
        return None
    f, _ = best
    if f.trace_paths > f.ids:
        return Rule("request_id", f, "trace id", regex=r"/traces/([^/]+)$")
    return Rule("request_id", f, "id")


def pick_status(fields: list[Field]) -> Rule | None:
    def named(f: Field) -> bool:
        return f.norm in STATUS_NAMES or "status" in f.norm.split(".")[-1]

    candidates = [
        (f, f.statuses, (_rank(f, STATUS_NAMES), named(f)))
        for f in fields
        if "error" not in f.norm and (named(f) or 10 * f.common_statuses >= 9 * f.present)
    ]
    best = _best(candidates)
    return Rule("status", best[0], "HTTP status") if best else None


def pick_method(fields: list[Field]) -> Rule | None:
    candidates = [
        (f, f.methods, (2 + ("method" in f.norm), _rank(f, METHOD_NAMES))) for f in fields
    ]
    candidates += [(f, f.request_lines, (2, 0)) for f in fields]
    best = _best(candidates)
    if best is None:
        return None
    f, _ = best
    if f.request_lines > f.methods:
        return Rule("method", f, "request line", regex=r"^(\S+) ")
    return Rule("method", f, "HTTP method")


def pick_path(fields: list[Field]) -> Rule | None:
    usable = [
        f for f in fields if not any(w in f.norm for w in ("route", "refer", "file", "origin"))
    ]
    candidates = [(f, f.paths - f.templates, (4, _rank(f, PATH_NAMES))) for f in usable]
    candidates += [(f, f.request_lines, (3, _rank(f, PATH_NAMES))) for f in usable]
    candidates += [(f, f.urls, (2, _rank(f, PATH_NAMES))) for f in usable]
    candidates += [(f, f.templates, (1, _rank(f, PATH_NAMES))) for f in usable]
    best = _best(candidates)
    if best is None:
        return None
    f, n = best
    if n == f.request_lines and f.request_lines >= f.paths:
        return Rule("path", f, "request line", regex=r"^\S+ (\S+)")
    if n == f.urls and f.urls > f.paths:
        return Rule("path", f, "full URL", regex=URL_PATH_REGEX)
    return Rule("path", f, "path")


def pick_route(fields: list[Field]) -> Rule | None:
    candidates = [(f, max(f.paths, f.route_keys), (_rank(f, ROUTE_NAMES),)) for f in fields]
    best = _best([c for c in candidates if c[2][0]])
    if best is None:
        return None
    f, _ = best
    if f.route_keys > f.paths:
        return Rule("route", f, "route key", regex=r"^\S+ (\S+)")
    return Rule("route", f, "route template")


def pick_client_ip(fields: list[Field]) -> Rule | None:
    def preference(f: Field) -> int:
        return 100 if "forwarded" in f.norm else _rank(f, CLIENT_NAMES)

    candidates = [
        (f, f.ips + f.ip_ports + f.ip_lists, (preference(f),))
        for f in fields
        if not any(w in f.norm for w in NOT_A_CLIENT)
    ]
    # X-Forwarded-For names the client wherever it holds an address; where it is "-", ingest
    # falls back to the address the log's shape gives (as automatic detection does)
    forwarded = [c for c in candidates if c[2][0] == 100 and c[1] > 0]
    best = _best(forwarded or candidates)
    if best is None:
        return None
    f, _ = best
    if f.ip_ports or f.ip_lists:
        return Rule("client_ip", f, "client address", regex=CLIENT_IP_REGEX)
    return Rule("client_ip", f, "IP address")


def pick_user_agent(fields: list[Field]) -> Rule | None:
    candidates = [(f, f.texts, (1,)) for f in fields if "useragent" in f.norm.replace(".", "")]
    best = _best(candidates)
    return Rule("user_agent", best[0], "user agent") if best else None


def _is_duration_name(f: Field) -> bool:
    words = ("duration", "latenc", "elapsed", "requesttime", "responsetime", "took")
    return any(w in f.norm for w in words)


_UNIT_IN_NAME = re.compile(
    r"(?:duration|latency|elapsed|took|requesttime|responsetime)"
    r"(ms|millis|us|micros|ns|nanos|s|sec|secs|seconds)$"
)
_UNIT_WORDS = {"ms": "ms", "millis": "ms", "us": "us", "micros": "us", "ns": "ns", "nanos": "ns",
               "s": "s", "sec": "s", "secs": "s", "seconds": "s"}  # fmt: skip


def _number_unit(f: Field, names: set[str]) -> str | None:
    """The unit of a field of bare numbers, from its name or its log's shape: never guessed."""
    named = _UNIT_IN_NAME.match(f.norm.split(".")[-1])
    if named:
        return _UNIT_WORDS[named.group(1)]
    if f.norm in ("requesttime", "upstreamresponsetime", "httprequest.latency"):
        return "s"  # nginx's $request_time
    if f.norm in ("responselatency", "integrationlatency") or f.norm.startswith("latencies."):
        return "ms"  # API Gateway, Kong
    if f.norm == "responsetime":
        return "ms"  # pino-http
    if f.name in ("Duration", "OriginDuration", "event.duration"):
        return "ns"  # Traefik, Elastic Common Schema
    if f.norm in ("duration", "upstreamservicetime") and {"responsecode", "starttime"} <= names:
        return "ms"  # Envoy / Istio
    if f.norm == "duration" and {"request.uri", "ts"} <= names:
        return "s"  # Caddy
    return None


def pick_duration(fields: list[Field], warnings: list[str]) -> Rule | None:
    names = {f.norm for f in fields}
    candidates = [
        (f, max(f.numbers, f.with_unit), (_rank(f, DURATION_NAMES),))
        for f in fields
        if _is_duration_name(f)
    ]
    while (best := _best(candidates)) is not None:
        f, _ = best
        candidates = [c for c in candidates if c[0] is not f]
        if f.with_unit and (f.with_unit > f.numbers or len(f.units) == 1):
            # bare numbers beside them have no unit to know: the regex leaves them unread
            if len(f.units) == 1:
                suffix = f.units[0]
                return Rule("duration_ms", f, f"durations in {suffix}",
                            regex=rf"^([0-9.]+){suffix}$", scale=UNIT_SCALES[suffix])  # fmt: skip
            warnings.append(
                f"duration_ms: `{f.name}` mixes units ({', '.join(f.units)}); a mapping has one "
                "scale, so it is left out"
            )
            continue
        unit = _number_unit(f, names)
        if unit:
            return Rule("duration_ms", f, f"durations in {unit}", scale=UNIT_SCALES[unit])
        warnings.append(
            f"duration_ms: `{f.name}` holds bare numbers and neither its name nor the log's "
            f'shape says their unit; add duration_ms = {{ field = "{f.name}", scale = ... }} '
            "(1000 for seconds, 1 for ms, 1e-6 for ns) once you know it"
        )
    return None


PICKERS: dict[str, Callable[[list[Field]], Rule | None]] = {
    "timestamp": pick_timestamp,
    "request_id": pick_request_id,
    "method": pick_method,
    "path": pick_path,
    "route": pick_route,
    "status": pick_status,
    "client_ip": pick_client_ip,
    "user_agent": pick_user_agent,
}


def place_columns(found: Suggestion) -> None:
    """Fill in found.rules, and a warning for each column needed that no field fills."""
    for column, pick in PICKERS.items():
        rule = pick(found.fields)
        if rule:
            found.rules[column] = rule
    duration = pick_duration(found.fields, found.warnings)
    if duration:
        found.rules["duration_ms"] = duration
    for column in NEEDED_COLUMNS:
        if column not in found.rules and not any(w.startswith(column) for w in found.warnings):
            found.warnings.append(f"{column}: {NOT_FOUND[column]}")


NOT_FOUND = {
    "timestamp": "no field looks like a time (ISO-8601, CLF or epoch); lines without one are "
    "rejected",
    "request_id": "no field looks like a request id (a UUID, 32 hex digits or a ULID)",
    "method": "no field holds an HTTP method or a request line",
    "path": "no field holds a path, a full URL or a request line",
    "status": "no field holds HTTP statuses (100-599)",
    "duration_ms": "no field named like a duration (duration, latency, elapsed...)",
}
