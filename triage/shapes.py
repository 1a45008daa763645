"""Which third-party log shapes a block of lines holds, judged from a sample of its lines.

The ingest query reads every shape in queries/shapes.sql. Asking every line for every field
name of every shape would multiply the parse cost, so the reader marks each block with the
shapes seen in a few dozen of its lines (one bit each, in SHAPES order); a block of triage's
own lines is marked with none and pays nothing. Within a marked block each line is told
apart by one substring test; a line of a shape the sample missed is still recognised when
the general rule cannot read it (the query tries every shape on those).
"""

from __future__ import annotations

import json

import pyarrow as pa

# The bit order of shape_names() in queries/shapes.sql (a test checks that they agree).
SHAPES = ("envoy", "apigw", "gcp", "kong", "caddy", "traefik", "nginx", "semconv", "service")
SAMPLE = 48  # lines looked at per block: the first ones and a spread over the rest
SAMPLE_LINE_CHARS = 64 << 10  # a longer line is no record to learn a shape from

_NGINX = {"time_local", "time_iso8601", "remote_addr", "request_time", "msec"}
_SEMCONV_PREFIXES = (
    "http.", "url.", "client.", "event.", "user_agent.", "trace.", "service.", "ecs"
)  # fmt: skip
_SERVICE = {"latency", "duration", "elapsed", "remote", "uri", "user-agent", "responseTime", "req"}


def shapes_of(doc: dict) -> set[str]:
    """The shapes one parsed line has the marks of (usually one; none for triage's own)."""
    keys = doc.keys()
    found = set()
    if "start_time" in keys and ("response_code" in keys or "response_flags" in keys):
        found.add("envoy")
    if "httpMethod" in keys:
        found.add("apigw")
    if isinstance(doc.get("httpRequest"), dict):
        found.add("gcp")
    if "latencies" in keys or "started_at" in keys:
        found.add("kong")
    if str(doc.get("logger", "")).startswith("http.log.access"):
        found.add("caddy")
    if "DownstreamStatus" in keys or "RequestMethod" in keys:
        found.add("traefik")
    if keys & _NGINX:
        found.add("nginx")
    if (
        any(k.startswith(_SEMCONV_PREFIXES) for k in keys)
        or "timeUnixNano" in keys
        or isinstance(doc.get("attributes"), dict | list)
        or isinstance(doc.get("http"), dict)
    ):
        found.add("semconv")
    request = doc.get("request")
    if not found and (keys & _SERVICE or (isinstance(request, str) and request.startswith("/"))):
        found.add("service")
    return found


def _loads(text: str) -> object:
    """A line's JSON, or None: broken JSON, or nesting deep enough to exhaust the parser's
    recursion, is the ingest query's to reject, not the sampler's to fail on."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _doc(text: str) -> dict | None:
    """A sampled line as a JSON object: the record itself, or the one a container wrapper
    (Docker's and Fluent Bit's `log`, CloudWatch's `message`) holds as text."""
    doc = _loads(text)
    if not isinstance(doc, dict):
        return None
    for key in ("log", "message"):
        inner = doc.get(key)
        if isinstance(inner, str) and inner.lstrip().startswith("{"):
            wrapped = _loads(inner)
            if isinstance(wrapped, dict):
                return wrapped
    return doc


def block_flags(lines: pa.Array | pa.ChunkedArray) -> int:
    """The shapes seen in a sample of a block's lines, as a bit mask in SHAPES order."""
    n = len(lines)
    if n == 0:
        return 0
    head = min(n, SAMPLE // 2)
    step = max(1, (n - head) // (SAMPLE - head)) if n > head else 1
    picks = list(range(head)) + list(range(head, n, step))[: SAMPLE - head]
    found: set[str] = set()
    for i in picks:
        value = lines[i].as_py()
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if len(value) > SAMPLE_LINE_CHARS or not value.lstrip().startswith("{"):
            continue
        doc = _doc(value)
        if doc is not None:
            found |= shapes_of(doc)
    return sum(1 << bit for bit, name in enumerate(SHAPES) if name in found)
