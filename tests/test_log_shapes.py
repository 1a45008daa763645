"""Issue #11: the log shapes of the wild are read with no configuration (the contract in
/work/shape-spec.md, the shapes and their quirks in log-shapes.md).

Each file in tests/shapes/ holds a few real-looking lines of one shape. The expected values
below are written from the fields' documented meanings, next to the line numbers they belong
to: ts as the instant the line states (offsets spelled out as time zones, the UTC instant in a
comment), durations converted by each shape's unit.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import all_rows, dict_rows, ingest, write_lines
from triage.ingest import ingest_paths
from triage.store import open_store

SHAPES = Path(__file__).resolve().parent / "shapes"
COLUMNS = ("kind", "ts", "request_id", "method", "path", "route", "status", "duration_ms",
           "client_ip")  # fmt: skip

CEST = timezone(timedelta(hours=2))
PDT = timezone(timedelta(hours=-7))
IRST = timezone(timedelta(hours=3, minutes=30))
IST = timezone(timedelta(hours=5, minutes=30))
MART = timezone(timedelta(hours=-9, minutes=-30))

# the > 1 KB percent-encoded request path on combined.log line 5
LONG_PATH = "/search?q=" + "caf%C3%A9+cr%C3%A8me+br%C3%BBl%C3%A9e+" * 30 + "&page=2"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def at(*args: int, tz: timezone) -> datetime:
    """A wall-clock time as the log wrote it with its offset (compared as an instant)."""
    return datetime(*args, tzinfo=tz)


def req(ts, method, path, route, status, *, ms=None, ip=None, rid=None) -> dict:
    """The normalised columns of a request line."""
    return {"kind": "request", "ts": ts, "request_id": rid, "method": method, "path": path,
            "route": route, "status": status, "duration_ms": ms, "client_ip": ip}  # fmt: skip


def log(ts, *, rid=None) -> dict:
    """A line without HTTP fields: a log event, or a trace event when it has a request id."""
    return {"kind": "trace" if rid else "log", "ts": ts, "request_id": rid, "method": None,
            "path": None, "route": None, "status": None, "duration_ms": None,
            "client_ip": None}  # fmt: skip


# fmt: off
EXPECTED: dict[str, dict[int, dict]] = {
    "envoy.ndjson": {
        # client: first x_forwarded_for entry; duration: ms; lines are not in time order
        1: req(utc(2024, 5, 28, 13, 47, 25, 233000), "GET",
               "/api/v1/orders/84213?expand=items&limit=20", "/api/v1/orders/{id}",
               200, ms=37, ip="203.0.113.42",
               rid="6f1c2a9e-3b7d-4e58-9a41-0c2d8e7f5b13"),
        # x_forwarded_for null: downstream_remote_address without its port
        2: req(utc(2024, 5, 28, 13, 47, 24, 980000), "POST", "/api/v1/payments", "/api/v1/payments",
               503, ms=0, ip="10.44.0.17", rid="0b9e4d27-81c5-4f6a-b3e2-7d4c19a05f88"),
        # response_code 0 (no response) is status 0; [v6]:port loses brackets and port
        3: req(utc(2024, 5, 28, 13, 47, 26, 4000), "GET", "/api/v1/reports/export?format=csv",
               "/api/v1/reports/export", 0, ms=15003, ip="2001:db8::7",
               rid="c47a1f03-5d2e-4b89-8e6f-2a9b0d3c7e41"),
        # 101 websocket upgrade
        4: req(utc(2024, 5, 28, 13, 46, 2, 117000), "GET", "/ws/notifications", "/ws/notifications",
               101, ms=83012, ip="198.51.100.23", rid="9d3b7c51-2e4f-4a0d-8b16-5f7e3c2a1d90"),
        # x_forwarded_for without a space after the comma
        5: req(utc(2024, 5, 28, 13, 47, 25, 1000), "GET", "/favicon.ico", "/favicon.ico", 404, ms=0,
               ip="192.0.2.10", rid="e2a58f6c-07b1-4d93-a6c4-3e8b1f29d075"),
    },
    "apigw_rest.ndjson": {
        # no `path`: path is the resourcePath; no latency field: no duration
        1: req(utc(2023, 6, 10, 15, 36, 28), "GET", "/pets/{petId}", "/pets/{petId}", 200,
               ip="203.0.113.5", rid="c6af9ac6-7b61-11e6-9a41-93e8deadbeef"),
        # responseLatency wins over integrationLatency; route stays the resourcePath
        2: req(utc(2023, 6, 10, 15, 36, 29), "POST", "/prod/pets/4411/vaccinations",
               "/pets/{petId}/vaccinations", 201, ms=131, ip="198.51.100.77",
               rid="5e1b2c4d-8f3a-4b6e-9c7d-1a2b3c4d5e6f"),
        # requestTimeEpoch (ms) only; integrationLatency only
        3: req(utc(2023, 6, 10, 15, 36, 31, 250000), "DELETE", "/pets/{petId}", "/pets/{petId}",
               204, ms=42, ip="192.0.2.44", rid="9f8e7d6c-5b4a-4321-8fed-cba987654321"),
        # THROTTLED, two spaces after ':'
        4: req(utc(2023, 6, 10, 15, 36, 31), "GET", "/pets", "/pets", 429, ms=2, ip="203.0.113.99",
               rid="1a2b3c4d-0000-4e5f-8a9b-abcdefabcdef"),
        5: req(utc(2023, 6, 10, 15, 37, 2), "PUT", "/prod/pets/ABC-123", "/pets/{petId}", 504,
               ms=29004, ip="2001:db8:85a3::8a2e:370:7334",
               rid="77aa88bb-99cc-4dd0-8ee1-ff0011223344"),
    },
    "apigw_http.ndjson": {
        # no `path`: path is the route (routeKey without its method)
        1: req(utc(2024, 5, 28, 13, 47, 25), "GET", "/pets/{id}", "/pets/{id}", 200,
               ip="203.0.113.17", rid="Lq4MojRmIAMEbZQ="),
        2: req(utc(2024, 5, 28, 13, 47, 26), "POST", "/pets/7731/photos", "/pets/{id}/photos", 500,
               ms=87, ip="198.51.100.4", rid="Lq4Mq1xvoAMEbYw="),
        # ANY: the method is httpMethod's, the route is the greedy template
        3: req(utc(2024, 5, 28, 13, 47, 26), "GET", "/files/2024/report.pdf", "/{proxy+}", 200,
               ms=230, ip="192.0.2.87", rid="Lq4MrDvXIAMEbKA="),
        # requestTimeEpoch as a string of ms
        4: req(utc(2024, 5, 28, 13, 47, 27, 125000), "DELETE", "/pets/{id}", "/pets/{id}", 204,
               ms=12, ip="192.0.2.200", rid="Lq4MsH9yIAMEbJQ="),
    },
    "nginx_json.ndjson": {
        # time_local 15:36:28 +0330 = 12:06:28 UTC; request_time 0.012 s; xff "-": remote_addr
        1: req(at(2023, 6, 10, 15, 36, 28, tz=IRST), "GET",
               "/api/v2/users/1187/orders?page=2&per_page=50", "/api/v2/users/{id}/orders", 200,
               ms=12, ip="10.0.0.12", rid="7f3a9c1e2b4d6f8a0c1e3b5d7f9a1c2e"),
        # status as text; request_time, not upstream_response_time "0.012, 0.004"
        2: req(at(2023, 6, 10, 15, 36, 29, tz=IRST), "POST", "/api/v2/checkout", "/api/v2/checkout",
               502, ms=16, ip="5.160.12.34", rid="0c1e3b5d7f9a1c2e7f3a9c1e2b4d6f8a"),
        # time_iso8601 +03:30 = 12:06:30 UTC; request_uri (with query) over uri; xff empty;
        # request id from http_x_request_id
        3: req(at(2023, 6, 10, 15, 36, 30, tz=IRST), "GET", "/static/js/app.4f2a91c3.js?v=2",
               "/static/js/app.4f2a91c3.js", 304, ms=0, ip="192.0.2.15",
               rid="a81b3f7e-2c44-4d0f-9f65-3b9e1c7d2a50"),
        # `uri` only
        4: req(utc(2023, 6, 10, 9, 6, 31), "PUT", "/api/v2/users/1187/avatar",
               "/api/v2/users/{id}/avatar", 413, ms=1204, ip="203.0.113.8",
               rid="4b6d8f0a2c4e6a8c0e2a4c6e8a0c2e4a"),
        # msec (epoch seconds, text) is the only time
        5: req(utc(2023, 6, 10, 12, 6, 33, 125000), "HEAD", "/healthz", "/healthz", 200, ms=1,
               ip="::1", rid="e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5"),
    },
    "traefik.ndjson": {
        # StartUTC's nanoseconds end in 049: truncated or rounded, the microsecond is 123456
        1: req(utc(2024, 5, 28, 13, 47, 25, 123456), "GET",
               "/v1/invoices/inv_8f2k3j9q?include=lines", "/v1/invoices/{id}",
               200, ms=1.234567, ip="203.0.113.9",
               rid="req_01HZ8K2V9Q3M4N5P6R7S8T9V0W"),
        # DownstreamStatus, not OriginStatus 0; no request_X-Request-Id
        2: req(utc(2024, 5, 28, 13, 47, 26, 500000), "POST", "/v1/exports", "/v1/exports", 502,
               ms=30001.234567, ip="2001:db8::1:2"),
        3: req(utc(2024, 5, 28, 13, 47, 27), "GET", "/v1/invoices?status=open", "/v1/invoices", 499,
               ms=0.000999, ip="198.51.100.44", rid="3c2b1a09-8f7e-4d6c-b5a4-39281706f5e4"),
        4: req(utc(2024, 5, 28, 13, 47, 27, 100000), "POST", "/v1/invoices/inv_8f2k3j9q/payments",
               "/v1/invoices/{id}/payments", 201, ms=48, ip="198.51.100.44",
               rid="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"),
    },
    "caddy.ndjson": {
        # ts and duration are seconds (fractions exact in binary, so no rounding question)
        1: req(utc(2024, 5, 28, 13, 47, 25, 437500), "GET", "/downloads/report-2024.pdf?dl=1",
               "/downloads/report-2024.pdf", 200, ms=42.1875, ip="203.0.113.50",
               rid="b1946ac9-2d4f-4c3a-9e5b-6f7a8b9c0d1e"),
        # no client_ip: remote_ip; no X-Request-Id header
        2: req(utc(2024, 5, 28, 13, 47, 26, 62500), "GET", "/", "/", 404, ms=0.318,
               ip="198.51.100.61"),
        3: req(utc(2024, 5, 28, 13, 47, 27, 250000), "POST", "/api/upload/77/chunks",
               "/api/upload/{id}/chunks", 502, ms=2500, ip="2001:db8::42",
               rid="5d41402a-bc4b-4a76-b971-9d911017c592"),
    },
    "kong.ndjson": {
        # started_at epoch ms; path is request.uri (not request.url); route.name is config
        1: req(utc(2024, 5, 28, 13, 47, 25, 328000), "GET", "/orders/1001?verbose=true",
               "/orders/{id}", 200, ms=26, ip="203.0.113.77",
               rid="3f9b1c2d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"),
        2: req(utc(2024, 5, 28, 13, 47, 26, 2000), "POST", "/orders", "/orders", 401, ms=1,
               ip="198.51.100.8"),
        3: req(utc(2024, 5, 28, 13, 47, 27, 125000), "DELETE", "/orders/1001/items/3",
               "/orders/{id}/items/{id}", 429, ms=2, ip="192.0.2.33",
               rid="b7c6d5e4-f3a2-4b1c-9d0e-8f7a6b5c4d3e"),
    },
    "gcp_lb.ndjson": {
        # path from the full requestUrl; latency "0.123456s"; request id from `trace`
        1: req(utc(2024, 5, 28, 13, 47, 25, 411223), "GET", "/api/products/55123?color=blue&size=m",
               "/api/products/{id}", 200, ms=123.456, ip="203.0.113.201",
               rid="4bf92f3577b34da6a3ce929d0e0e4736"),
        # no trace: no request id (insertId is not one)
        2: req(utc(2024, 5, 28, 13, 47, 26, 20000), "GET", "/", "/", 502, ms=2.107,
               ip="35.191.10.4"),
        # a URL with a port
        3: req(utc(2024, 5, 28, 13, 47, 27), "POST", "/cart/checkout?step=pay", "/cart/checkout",
               201, ms=1500, ip="2001:db8:4::a", rid="0af7651916cd43dd8448eb211c80319c"),
    },
    "ecs_nested.ndjson": {
        # url.path over url.original; event.duration ns; `log` is an object, not a wrapper
        1: req(utc(2024, 5, 28, 13, 47, 25, 233000), "GET", "/catalog/items/81234",
               "/catalog/items/{id}", 200, ms=8.456, ip="203.0.113.31",
               rid="f47ac10b-58cc-4372-a567-0e02b2c3d479"),
        # 15:47:26.5 +02:00 = 13:47:26.5 UTC; no http.request.id: trace.id
        2: req(at(2024, 5, 28, 15, 47, 26, 500000, tz=CEST), "PATCH",
               "/catalog/items/81234/price?currency=EUR", "/catalog/items/{id}/price", 500, ms=215,
               ip="198.51.100.71", rid="4bf92f3577b34da6a3ce929d0e0e4736"),
        3: log(utc(2024, 5, 28, 13, 47, 27)),
    },
    "ecs_dotted.ndjson": {
        1: req(utc(2024, 5, 28, 13, 48, 1, 2000), "POST", "/catalog/items?bulk=true",
               "/catalog/items", 201, ms=120, ip="198.51.100.9",
               rid="2c1d0e9f-8a7b-4c6d-9e5f-4a3b2c1d0e9f"),
        2: req(utc(2024, 5, 28, 13, 48, 2, 750000), "GET",
               "/catalog/items/01HZ8K2V9Q3M4N5P6R7S8T9V0W", "/catalog/items/{id}",
               404, ms=0.95, ip="192.0.2.140",
               rid="5b8efff798038103d269b633813fc60c"),
        # nested and dotted keys on one line
        3: req(utc(2024, 5, 28, 13, 48, 3, 125000), "DELETE", "/catalog/items/77/tags/sale",
               "/catalog/items/{id}/tags/sale", 409, ms=3.5, ip="192.0.2.61",
               rid="1f2e3d4c5b6a79881f2e3d4c5b6a7988"),
    },
    "otel.ndjson": {
        # flattened attributes; timeUnixNano as text (...233412300 ns: microsecond 233412)
        1: req(utc(2024, 5, 28, 13, 47, 25, 233412), "GET",
               "/api/v1/carts/5f0c7e6a-1b2d-4c3e-9f8a-7b6c5d4e3f21", "/api/v1/carts/{cartId}", 200,
               ip="203.0.113.64", rid="5b8efff798038103d269b633813fc60c"),
        # attributes object; path from url.full; traceId
        2: req(utc(2024, 5, 28, 13, 47, 26, 101000), "POST",
               "/api/v1/carts/5f0c7e6a-1b2d-4c3e-9f8a-7b6c5d4e3f21/items?source=web",
               "/api/v1/carts/{cartId}/items", 503, ip="198.51.100.140",
               rid="0af7651916cd43dd8448eb211c80319c"),
        # OTLP key/value attributes (intValue as text); timeUnixNano as a number
        3: req(utc(2024, 5, 28, 13, 47, 27), "DELETE", "/api/v1/carts/91", "/api/v1/carts/{cartId}",
               404, ip="192.0.2.19", rid="4bf92f3577b34da6a3ce929d0e0e4736"),
        # observedTimeUnixNano only
        4: log(utc(2024, 5, 28, 13, 47, 28, 500000)),
    },
    "logrus.ndjson": {
        # 15:47:25 +02:00 = 13:47:25 UTC
        1: req(at(2024, 5, 28, 15, 47, 25, tz=CEST), "GET", "/v1/accounts/42/balance",
               "/v1/accounts/{id}/balance", 200, ms=12.3, ip="203.0.113.12",
               rid="3b1f8e2a-6c4d-4f9b-a0e7-5d2c1b9a8f76"),
        # latency a bare number: unit unknown
        2: req(at(2024, 5, 28, 15, 47, 26, tz=CEST), "POST", "/v1/accounts/42/transfers?dry_run=1",
               "/v1/accounts/{id}/transfers", 422, ip="2001:db8::9"),
        3: log(at(2024, 5, 28, 15, 47, 20, tz=CEST)),
        4: log(at(2024, 5, 28, 15, 47, 25, tz=CEST), rid="3b1f8e2a-6c4d-4f9b-a0e7-5d2c1b9a8f76"),
    },
    "zap.ndjson": {
        # ts epoch seconds; "250µs"; path under `url`; requestId
        1: req(utc(2024, 5, 28, 13, 47, 25, 500000), "GET", "/v1/search?q=caf%C3%A9&lang=fr",
               "/v1/search", 200, ms=0.25, ip="203.0.113.40",
               rid="7d2c9e1b-3a4f-4e6d-8b5c-2f1e0d9c8b7a"),
        # ts ISO; latency a bare float: unit unknown
        2: req(utc(2024, 5, 28, 13, 47, 26, 125000), "DELETE", "/v1/saved-searches/9912",
               "/v1/saved-searches/{id}", 204, ip="198.51.100.12"),
        3: log(utc(2024, 5, 28, 13, 47, 27, 250000)),
        4: req(utc(2024, 5, 28, 13, 47, 28, 750000), "POST", "/v1/search/export",
               "/v1/search/export", 500, ms=1500, ip="198.51.100.12",
               rid="0e9d8c7b-6a5f-4e3d-9c2b-1a0f9e8d7c6b"),
    },
    "slog.ndjson": {
        # ...25.123456289+02:00 = 13:47:25.123456 UTC; duration int ns as slog writes it:
        # a bare number, unit unknown
        1: req(at(2024, 5, 28, 15, 47, 25, 123456, tz=CEST), "GET", "/v2/reports/2024-05",
               "/v2/reports/2024-05", 200, ip="203.0.113.90",
               rid="a3f1c9e7-5b2d-4e8f-9a6c-0d1e2f3a4b5c"),
        2: req(at(2024, 5, 28, 15, 47, 26, 500000, tz=CEST), "POST", "/v2/reports", "/v2/reports",
               503, ms=12.3, ip="198.51.100.91", rid="b4e2d0f8-6c3e-4f9a-8b7d-1e2f3a4b5c6d"),
        3: log(at(2024, 5, 28, 15, 47, 27, tz=CEST)),
    },
    "pino.ndjson": {
        # time epoch ms; level a number
        1: req(utc(2024, 5, 28, 13, 47, 25, 233000), "GET",
               "/api/items?limit=10&cursor=eyJpZCI6MTB9", "/api/items", 200,
               ms=14.2, ip="203.0.113.5", rid="req-1f3a"),
        # path under `request` (a path string); duration a bare number
        2: req(utc(2024, 5, 28, 13, 47, 26, 500000), "POST", "/api/orders/5521/refund",
               "/api/orders/{id}/refund", 500, ip="198.51.100.5", rid="req-1f3b"),
        3: log(utc(2024, 5, 28, 13, 47, 27)),
    },
    "combined.log": {
        # 13:55:36 -0700 = 20:55:36 UTC
        1: req(at(2023, 10, 10, 13, 55, 36, tz=PDT), "GET", "/products/1042?ref=email",
               "/products/{id}", 200, ip="203.0.113.7"),
        # size "-"
        2: req(at(2023, 10, 10, 13, 55, 37, tz=PDT), "POST", "/login", "/login", 302,
               ip="198.51.100.23"),
        # request line "-": still a request, method and path unknown
        3: req(at(2023, 10, 10, 13, 55, 38, tz=PDT), None, None, None, 408, ip="192.0.2.99"),
        # scanner junk written as \xHH
        4: req(at(2023, 10, 10, 13, 55, 39, tz=PDT), None, None, None, 400, ip="192.0.2.99"),
        # percent-encoded path past 1 KB, kept as written; IPv6 host
        5: req(at(2023, 10, 10, 13, 55, 40, tz=PDT), "GET", LONG_PATH, "/search", 200,
               ip="2001:db8::1"),
    },
    "common.log": {
        # 13:55:36 -0700 = 20:55:36 UTC
        1: req(at(2000, 10, 10, 13, 55, 36, tz=PDT), "GET", "/apache_pb.gif", "/apache_pb.gif", 200,
               ip="127.0.0.1"),
        # 14:02:11 +0530 = 08:32:11 UTC
        2: req(at(2000, 10, 10, 14, 2, 11, tz=IST), "DELETE", "/api/sessions/8812",
               "/api/sessions/{id}", 204, ip="10.1.1.5"),
        # 14:02:12 -0930 = 23:32:12 UTC
        3: req(at(2000, 10, 10, 14, 2, 12, tz=MART), "PUT", "/api/files/a1b2c3d4e5f60718",
               "/api/files/{id}", 201, ip="10.1.1.6"),
    },
    "vhost_combined.log": {
        1: req(utc(2024, 5, 28, 13, 47, 25), "GET", "/blog/2024/05/hello-world",
               "/blog/{id}/{id}/hello-world", 200, ip="203.0.113.14"),
        2: req(utc(2024, 5, 28, 13, 47, 26), "GET", "/health", "/health", 200, ip="198.51.100.3"),
        # trailing integer request time (Apache %D): unit unknown
        3: req(utc(2024, 5, 28, 13, 47, 27), "POST", "/v1/upload", "/v1/upload", 201,
               ip="192.0.2.33"),
    },
    "combined_xff_time.log": {
        # 15:36:28 +0330 = 12:06:28 UTC; client: first X-Forwarded-For entry; 0.012 s
        1: req(at(2023, 6, 10, 15, 36, 28, tz=IRST), "GET", "/api/v2/users/1187",
               "/api/v2/users/{id}", 200, ms=12, ip="5.160.12.34"),
        # X-Forwarded-For "-": the remote host
        2: req(at(2023, 6, 10, 15, 36, 29, tz=IRST), "POST", "/api/v2/checkout", "/api/v2/checkout",
               504, ms=60001, ip="10.0.0.5"),
        # \xHH in the user agent
        3: req(at(2023, 6, 10, 15, 36, 30, tz=IRST), "GET", "/static/logo.png", "/static/logo.png",
               200, ms=0, ip="198.51.100.2"),
    },
    "logfmt.log": {
        1: req(utc(2024, 5, 28, 13, 47, 25, 233000), "GET", "/v1/users/1234?fields=name,email",
               "/v1/users/{id}", 200, ms=12.3, rid="4e1c2b3a-9d8f-4a7b-8c6d-5e4f3a2b1c0d"),
        # ts= 15:47:26 +02:00 = 13:47:26 UTC; latency=1.5s; msg with \" escapes
        2: req(at(2024, 5, 28, 15, 47, 26, tz=CEST), "POST", "/v1/invoices", "/v1/invoices", 504,
               ms=1500),
        3: log(utc(2024, 5, 28, 13, 47, 27)),
        4: req(utc(2024, 5, 28, 13, 47, 28, 500000), "GET", "/metrics", "/metrics", 200, ms=0.25),
    },
    "heroku_router.log": {
        # time from the syslog prefix; service=23ms is the duration; client: first of fwd
        1: req(utc(2026, 11, 10, 9, 0, 0, 123456), "GET", "/api/widgets/88?expand=parts",
               "/api/widgets/{id}", 200, ms=23, ip="203.0.113.9",
               rid="2b6e5c1a-8f3d-4e2a-9b7c-1d0e3f4a5b6c"),
        2: req(utc(2026, 11, 10, 9, 0, 1, 321), "POST", "/api/orders", "/api/orders", 503, ms=30000,
               ip="198.51.100.50", rid="8c7d6e5f-4a3b-4c2d-9e1f-0a9b8c7d6e5f"),
        3: req(utc(2026, 11, 10, 9, 0, 2, 500000), "GET", "/", "/", 304, ms=4, ip="2001:db8::33",
               rid="1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"),
    },
    "mixed_text.log": {  # line 7 is blank, line 8 prose (rejected)
        1: req(utc(2024, 5, 28, 13, 47, 25), "GET", "/robots.txt", "/robots.txt", 404,
               ip="10.1.1.7"),
        2: req(utc(2024, 5, 28, 13, 47, 26), "GET", "/docs/getting-started",
               "/docs/getting-started", 200, ip="203.0.113.70"),
        3: req(utc(2024, 5, 28, 13, 47, 27), "HEAD", "/", "/", 200, ip="203.0.113.71"),
        # 17:17:28 +0330 = 13:47:28 UTC
        4: req(at(2024, 5, 28, 17, 17, 28, tz=IRST), "GET", "/api/v2/users/55",
               "/api/v2/users/{id}", 200, ms=34, ip="198.51.100.72"),
        5: req(utc(2024, 5, 28, 13, 47, 29), "PATCH", "/v1/users/55", "/v1/users/{id}", 200, ms=8),
        6: req(utc(2024, 5, 28, 13, 47, 30, 1), "GET", "/", "/", 200, ms=2, ip="203.0.113.73",
               rid="6f5e4d3c-2b1a-4f0e-9d8c-7b6a5f4e3d2c"),
    },
}
EXPECTED["combined.log.gz"] = EXPECTED["combined.log"]  # gzipped at test time

# ends without a newline: its last line waits for more unless the ingest is final
NO_NEWLINE = "apigw_rest_no_newline.ndjson"
EXPECTED_NO_NEWLINE = {
    1: req(utc(2023, 6, 10, 15, 40, 0), "GET", "/pets", "/pets", 200, ip="203.0.113.61",
           rid="d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6"),
    2: req(utc(2023, 6, 10, 15, 40, 1), "GET", "/pets/{petId}", "/pets/{petId}", 404, ms=9,
           ip="203.0.113.61", rid="e2f3a4b5-c6d7-4e8f-90a1-b2c3d4e5f6a7"),
    3: req(utc(2023, 6, 10, 15, 40, 2), "POST", "/pets", "/pets", 403, ip="203.0.113.61",
           rid="f3a4b5c6-d7e8-4f90-a1b2-c3d4e5f6a7b8"),
}

SHAPE = {
    "envoy.ndjson": "envoy", "apigw_rest.ndjson": "apigw", "apigw_http.ndjson": "apigw",
    "nginx_json.ndjson": "nginx", "traefik.ndjson": "traefik", "caddy.ndjson": "caddy",
    "kong.ndjson": "kong", "gcp_lb.ndjson": "gcp", "ecs_nested.ndjson": "ecs",
    "ecs_dotted.ndjson": "ecs", "otel.ndjson": "otel", "logrus.ndjson": "service",
    "zap.ndjson": "service", "slog.ndjson": "service", "pino.ndjson": "service",
    "combined.log": "combined", "combined.log.gz": "combined", "common.log": "common",
    "vhost_combined.log": "combined", "combined_xff_time.log": "combined",
    "logfmt.log": "logfmt", "heroku_router.log": "logfmt",
}
MIXED_SHAPES = {1: "common", 2: "combined", 3: "combined", 4: "combined", 5: "logfmt",
                6: "logfmt"}

REJECTED = {"mixed_text.log": {8: "unrecognised_text"}}

# A bare number where the unit is not known: no duration, the text as written kept.
RAW_DURATIONS = [
    ("logrus.ndjson", 2, "1534200"),
    ("zap.ndjson", 2, "0.0123"),
    ("slog.ndjson", 1, "4821337"),
    ("pino.ndjson", 2, "87"),
    ("vhost_combined.log", 3, "48213"),
]

# Each shape's duration unit, as (file, line, duration_ms): ids say what was written.
UNITS = [
    pytest.param("envoy.ndjson", 1, 37, id="envoy-duration-37ms"),
    pytest.param("apigw_rest.ndjson", 2, 131, id="apigw-responseLatency-131ms"),
    pytest.param("apigw_rest.ndjson", 3, 42, id="apigw-integrationLatency-42ms"),
    pytest.param("nginx_json.ndjson", 1, 12, id="nginx-request_time-0.012s"),
    pytest.param("nginx_json.ndjson", 3, 0, id="nginx-request_time-text-0.000s"),
    pytest.param("traefik.ndjson", 1, 1.234567, id="traefik-Duration-1234567ns"),
    pytest.param("traefik.ndjson", 2, 30001.234567, id="traefik-Duration-30001234567ns"),
    pytest.param("traefik.ndjson", 3, 0.000999, id="traefik-Duration-999ns"),
    pytest.param("caddy.ndjson", 1, 42.1875, id="caddy-duration-0.0421875s"),
    pytest.param("kong.ndjson", 1, 26, id="kong-latencies.request-26ms"),
    pytest.param("gcp_lb.ndjson", 1, 123.456, id="gcp-latency-0.123456s"),
    pytest.param("gcp_lb.ndjson", 3, 1500, id="gcp-latency-1.5s"),
    pytest.param("ecs_nested.ndjson", 1, 8.456, id="ecs-event.duration-8456000ns"),
    pytest.param("logrus.ndjson", 1, 12.3, id="logrus-duration-12.3ms"),
    pytest.param("zap.ndjson", 1, 0.25, id="zap-latency-250µs"),
    pytest.param("zap.ndjson", 4, 1500, id="zap-duration-1.5s"),
    pytest.param("logfmt.log", 4, 0.25, id="logfmt-duration-250us"),
    pytest.param("heroku_router.log", 1, 23, id="heroku-service-23ms"),
    pytest.param("combined_xff_time.log", 2, 60001, id="combined-request-time-60.001s"),
]

ROUTES = [
    pytest.param("apigw_rest.ndjson", 1, "/pets/{petId}", id="apigw-resourcePath-as-is"),
    pytest.param("apigw_rest.ndjson", 2, "/pets/{petId}/vaccinations",
                 id="apigw-resourcePath-not-path"),
    pytest.param("apigw_http.ndjson", 1, "/pets/{id}", id="apigw-routeKey-without-method"),
    pytest.param("apigw_http.ndjson", 3, "/{proxy+}", id="apigw-routeKey-ANY-greedy"),
    pytest.param("otel.ndjson", 1, "/api/v1/carts/{cartId}", id="otel-http.route-flat"),
    pytest.param("otel.ndjson", 2, "/api/v1/carts/{cartId}/items", id="otel-http.route-nested"),
    pytest.param("otel.ndjson", 3, "/api/v1/carts/{cartId}", id="otel-http.route-otlp-list"),
    pytest.param("envoy.ndjson", 1, "/api/v1/orders/{id}", id="envoy-route_name-is-not-route"),
    pytest.param("kong.ndjson", 1, "/orders/{id}", id="kong-route.name-is-not-route"),
]
# fmt: on


def input_path(name: str, tmp_path: Path) -> Path:
    """The file to ingest: a shapes/ file as it is, or `X.gz` gzipped from shapes/X now."""
    if name.endswith(".gz"):
        path = tmp_path / name
        path.write_bytes(gzip.compress((SHAPES / name.removesuffix(".gz")).read_bytes()))
        return path
    return SHAPES / name


def text_of(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")


def records_by_line(store) -> dict[int, dict]:
    return {r["line_no"]: r for r in dict_rows(store, "SELECT * FROM records ORDER BY line_no")}


def normalised(row: dict) -> dict:
    return {column: row[column] for column in COLUMNS}


def approx_duration(expected: dict) -> dict:
    ms = expected["duration_ms"]
    return {**expected, "duration_ms": None if ms is None else pytest.approx(ms)}


def assert_row(row: dict, expected: dict) -> None:
    why = f"kind={row['kind']} reject_reason={row['reject_reason']} raw={row['raw']!r}"
    assert normalised(row) == approx_duration(expected), why
    if row["ts"] is not None:
        assert row["ts"].utcoffset() == timedelta(0), "ts is stored as the UTC instant"


@pytest.fixture(scope="module")
def rows_of(tmp_path_factory):
    """Each shape file ingested once, into a store of its own: its records by line number
    (the per-line tests share them; a file is still read as a user would read it)."""
    cache: dict[str, dict[int, dict]] = {}

    def read(name: str) -> dict[int, dict]:
        if name not in cache:
            tmp = tmp_path_factory.mktemp("shape")
            with open_store(tmp / "s.duckdb") as store:
                ingest(store, input_path(name, tmp))
                cache[name] = records_by_line(store)
        return cache[name]

    return read


def ingested_row(rows_of, name: str, line_no: int) -> dict:
    rows = rows_of(name)
    assert line_no in rows, f"line {line_no} of {name} was not stored: {sorted(rows)}"
    return rows[line_no]


LINES = [
    pytest.param(name, line_no, expected, id=f"{name}:{line_no}")
    for name, lines in EXPECTED.items()
    for line_no, expected in lines.items()
]


@pytest.mark.parametrize("name, line_no, expected", LINES)
def test_line_is_read_into_the_normalised_columns(rows_of, name, line_no, expected):
    assert_row(ingested_row(rows_of, name, line_no), expected)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_line_is_accounted_for_and_none_of_a_known_shape_rejected(store, tmp_path, name):
    path = input_path(name, tmp_path)
    lines = text_of(path).splitlines()
    blank = [n for n, line in enumerate(lines, 1) if not line.strip()]
    s = ingest(store, path)
    assert (s["lines"], s["blank"], s["pending_bytes"]) == (len(lines), len(blank), 0), s
    assert s["events"] + s["rejected"] + s["blank"] == s["lines"], s
    rejected = REJECTED.get(name, {})
    assert s["rejected_by_reason"] == dict(Counter(rejected.values())), s
    assert dict(all_rows(store, "SELECT line_no, reason FROM rejects")) == rejected
    events = [n for (n,) in all_rows(store, "SELECT line_no FROM events ORDER BY line_no")]
    assert events == sorted(EXPECTED[name]), "every non-blank line of a known shape is an event"
    [(stored_blank,)] = all_rows(store, "SELECT blank_lines FROM sources")
    assert len(records_by_line(store)) + stored_blank == len(lines)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_records_name_the_shape_they_were_read_as(store, tmp_path, name):
    ingest(store, input_path(name, tmp_path))
    shapes = dict(all_rows(store, "SELECT line_no, shape FROM records WHERE kind <> 'reject'"))
    if name == "mixed_text.log":
        assert shapes == MIXED_SHAPES
    else:
        # a service log's lines without HTTP fields are plain log lines, read by the
        # general rule like our own
        expected = {
            n: SHAPE[name] if SHAPE[name] != "service" or e["kind"] == "request" else "triage"
            for n, e in EXPECTED[name].items()
        }
        assert shapes == expected


@pytest.mark.parametrize("name, line_no, raw", RAW_DURATIONS, ids=lambda v: str(v))
def test_duration_of_unknown_unit_is_null_and_kept_as_written(rows_of, name, line_no, raw):
    row = ingested_row(rows_of, name, line_no)
    assert (row["kind"], row["duration_ms"], row["duration_raw"]) == ("request", None, raw)


@pytest.mark.parametrize("name, line_no, ms", UNITS)
def test_duration_is_converted_by_the_unit_of_its_shape(rows_of, name, line_no, ms):
    row = ingested_row(rows_of, name, line_no)
    assert row["duration_ms"] == pytest.approx(ms), row["reject_reason"]


@pytest.mark.parametrize("name, line_no, route", ROUTES)
def test_route_is_the_logged_template_else_the_path_with_ids_replaced(
    rows_of, name, line_no, route
):
    row = ingested_row(rows_of, name, line_no)
    assert row["route"] == route, row["reject_reason"]


def variants(line: dict, absent: tuple[str, ...], seed: int) -> list[dict]:
    """The same line written differently: keys shuffled, its null keys left out, keys it does
    not have written as null, numbers written as text and numeric text as numbers."""
    rng = random.Random(seed)

    def shuffled(d: dict) -> dict:
        keys = list(d)
        rng.shuffle(keys)
        return {k: d[k] for k in keys}

    def flipped(v):  # a number as text, numeric text as a number
        if isinstance(v, int | float) and not isinstance(v, bool):
            return json.dumps(v)
        if isinstance(v, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", v):
            return json.loads(v)
        return v

    numbers_flipped = {k: flipped(v) for k, v in line.items()}
    without_nulls = {k: v for k, v in line.items() if v is not None}
    with_nulls = {**line, **dict.fromkeys(absent, None)}
    return [
        line,
        *(shuffled(line) for _ in range(5)),
        shuffled(without_nulls),
        shuffled(with_nulls),
        numbers_flipped,
        shuffled(numbers_flipped),
    ]


# (file, line, keys the line lacks, to be written as null): a null is as good as absent, also
# where the key is one a field is looked for first (nginx time_iso8601 before time_local,
# request_id before http_x_request_id)
SHUFFLED = [
    ("envoy.ndjson", 1, ("downstream_peer_uri_san", "downstream_peer_subject")),
    ("envoy.ndjson", 2, ("downstream_peer_uri_san",)),
    ("nginx_json.ndjson", 1, ("time_iso8601", "http_x_request_id", "upstream_addr")),
    ("nginx_json.ndjson", 3, ("time_local", "request_id", "request")),
]


@pytest.mark.parametrize("name, line_no, absent", SHUFFLED)
def test_key_order_null_keys_and_number_spelling_do_not_matter(
    store, tmp_path, name, line_no, absent
):
    line = json.loads((SHAPES / name).read_text().splitlines()[line_no - 1])
    assert not set(absent) & set(line)
    written = variants(line, absent, seed=11)
    assert len({json.dumps(v) for v in written}) == len(written), "every variant differs"
    s = ingest(store, write_lines(tmp_path / "variants.ndjson", written))
    assert (s["events"], s["rejected"]) == (len(written), 0), s
    rows = records_by_line(store)
    for n in range(1, len(written) + 1):
        assert_row(rows[n], EXPECTED[name][line_no])
    assert len({tuple(normalised(r).items()) for r in rows.values()}) == 1


def test_last_line_without_newline_is_read_when_the_ingest_is_final(store):
    s = ingest_paths(store, [str(SHAPES / NO_NEWLINE)], final=True).as_dict()
    assert (s["lines"], s["events"], s["rejected"], s["pending_bytes"]) == (3, 3, 0, 0), s
    rows = records_by_line(store)
    for line_no, expected in EXPECTED_NO_NEWLINE.items():
        assert_row(rows[line_no], expected)


def test_last_line_without_newline_waits_until_a_final_ingest(store, tmp_path):
    # a copy written now: the committed file, unchanged for minutes, counts as finished
    path = tmp_path / NO_NEWLINE
    path.write_bytes((SHAPES / NO_NEWLINE).read_bytes())
    last = path.read_bytes().rsplit(b"\n", 1)[1]
    s = ingest(store, path)
    assert (s["lines"], s["events"], s["pending_bytes"]) == (2, 2, len(last)), s
    s = ingest_paths(store, [str(path)], final=True).as_dict()
    assert (s["lines"], s["events"], s["pending_bytes"]) == (1, 1, 0), s
    assert_row(records_by_line(store)[3], EXPECTED_NO_NEWLINE[3])


def test_cli_ingest_final_reads_the_unterminated_last_line(cli):
    result = cli("ingest", "--final", "--format", "json", SHAPES / NO_NEWLINE)
    assert result.exit_code == 0, result.output
    s = json.loads(result.stdout)
    assert (s["lines"], s["events"], s["pending_bytes"]) == (3, 3, 0), s


def test_shape_files_are_well_formed():
    """The fixtures themselves: JSON lines parse as objects, text lines are not JSON, every
    file ends with a newline except the one kept without, and every line has expectations."""
    names = sorted(p.name for p in SHAPES.iterdir())
    assert names == sorted([*(n for n in EXPECTED if not n.endswith(".gz")), NO_NEWLINE])
    for name in names:
        data = (SHAPES / name).read_bytes()
        assert data.endswith(b"\n") == (name != NO_NEWLINE), name
        lines = data.decode("utf-8").splitlines()
        for n, line in enumerate(lines, 1):
            if name.endswith(".ndjson"):
                assert isinstance(json.loads(line), dict), (name, n)
            else:
                assert not line.lstrip().startswith(("{", "[")), (name, n)
        expected = EXPECTED_NO_NEWLINE if name == NO_NEWLINE else EXPECTED[name]
        accounted = {*expected, *REJECTED.get(name, {})}
        blank = {n for n, line in enumerate(lines, 1) if not line.strip()}
        assert accounted | blank == set(range(1, len(lines) + 1)), name
