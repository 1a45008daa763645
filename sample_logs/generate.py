#!/usr/bin/env python3
"""Generate deterministic sample access logs of the Scaling API for triage.

Why this exists: triage needs input that exercises every log shape and every
failure that shared/reference/scaling-api.md (sections 2-6) describes, and its
tests need ground truth. So this script writes the logs *and* a manifest of
what it wrote (line counts, planted bad lines, scenarios, planted secrets),
computed by re-reading the bytes it wrote rather than estimated.

Everything derives from one seeded ``random.Random``: no global random state
and no wall clock, so ``python sample_logs/generate.py`` rewrites the committed
sample byte-identically. Standard library only.

    python sample_logs/generate.py                    # rewrite the committed sample
    python sample_logs/generate.py --out /tmp/s --seed 7
    python sample_logs/generate.py --bench 1000000 --out /tmp/bench.ndjson[.gz]
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import gzip
import hashlib
import json
import random
import re
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

# --------------------------------------------------------------------------
# Knobs (the defaults make the committed sample)
# --------------------------------------------------------------------------

DEFAULT_SEED = 46
DEFAULT_START = "2026-11-02"  # Monday of ISO week 2026-W45
DEFAULT_DAYS = 14
DEFAULT_REQUESTS_PER_DAY = 1050  # ~18k lines, ~6 MB; 1400 gives ~24k lines, ~8 MB

FAILURE_RATE = 0.04  # target before scenario excess; §6.2 wants 3-6 % in all
BACKGROUND_FLOOR = 0.25  # see failure_deck
TRACE_SHARE = 0.10  # ordinary requests that also leave backend trace events
ROUTE_KEY_OMITTED = 0.20  # shape-A lines without "route" (ingester derives it)
EPOCH_TS_SHARE = 0.15  # shape-B lines with numeric "ts" instead of "@timestamp"
MESSAGE_SHARE = 0.30  # error bodies carrying the optional "message" (§2, TF client)
REQ_ID_ALIAS_SHARE = 0.02  # shape-C inner logs that say "req_id", not "request_id"
PREFIXED_ID_SHARE = 0.20  # resource ids like inc_01jq… instead of UUIDs (§2)
LIST_QUERY_SHARE = 0.40  # GET /v1/incidents calls carrying a query string
AUTH_TRACE_SHARE = 0.50  # traced requests whose trace starts with an auth-svc event

REGION_SHARE = {"eu": 0.6, "us": 0.4}  # the US gateway carries ~40 % of requests
ORGS_PER_REGION = {"eu": 24, "us": 16}
ZIPF_EXPONENT = 1.1  # a few orgs make most of the traffic

# Weekday requests per UTC hour. EU offices (CET = UTC+1 in November) are busy
# 07-17 UTC; US offices (EST/PST) 14-02 UTC. Weekends use a flattened profile.
HOURLY_WEIGHTS = {
    "eu": (1, 1, 1, 1, 2, 3, 6, 10, 12, 12, 11, 11, 10, 11, 11, 10, 9, 7, 5, 4, 3, 2, 2, 1),
    "us": (6, 5, 4, 3, 2, 1, 1, 1, 1, 1, 2, 2, 3, 5, 9, 11, 12, 12, 11, 11, 10, 9, 8, 7),
}
WEEKEND_FACTOR = 0.35  # a weekend day sees about a third of a weekday's traffic

FILE_EU_ROTATED = "gateway-eu.1.ndjson.gz"
FILE_EU = "gateway-eu.ndjson"
FILE_US = "gateway-us.ndjson"
FILE_SERVICES = "services.ndjson"
MANIFEST = "manifest.json"

# --------------------------------------------------------------------------
# Clients (§6.1: realistic user agents)
# --------------------------------------------------------------------------

UA_TERRAFORM = "terraform-provider-scaling-cloud/0.1.0"
UA_CURL = "curl/8.5.0"
UA_PYTHON = "python-requests/2.32.3"
SCRIPT_USER_AGENTS = (UA_CURL, UA_PYTHON, "node-fetch/1.0", "Go-http-client/2.0")
BROWSER_USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.0 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
)

# Who calls what: weight of each client kind per route audience. Terraform
# manages configuration, CI scripts drive incidents, people use the dashboard.
CLIENT_AFFINITY = {
    "incidents": {"script": 6.0, "terraform": 0.3, "dashboard": 2.0},
    "config": {"script": 1.0, "terraform": 6.0, "dashboard": 1.0},
    "team": {"script": 1.0, "terraform": 0.2, "dashboard": 8.0},
}

# --------------------------------------------------------------------------
# Routes (§3 endpoint map, shares from §6.2)
# --------------------------------------------------------------------------

PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class RouteSpec:
    """One endpoint. ``template`` names its ids ({incident}, {schedule}, …)."""

    share: float  # % of all requests (§6.2); 0 = only used by scenarios
    method: str
    template: str
    service: str  # backend that serves it, for shape-C trace events
    ok_status: int  # 201 on create, 204 on delete (§2)
    ok_msg: str  # the backend's log message on success
    audience: str  # key of CLIENT_AFFINITY
    notify: str = ""  # notify-worker message on success, if the call notifies

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def route(self) -> str:
        return PLACEHOLDER_RE.sub("{id}", self.template)


_R = RouteSpec
# fmt: off
ROUTES = (
    _R(25.0, "GET", "/v1/incidents", "incidents-svc", 200, "listed incidents", "incidents"),
    _R(15.0, "GET", "/v1/incidents/{incident}", "incidents-svc", 200, "loaded incident",
       "incidents"),
    _R(5.0, "GET", "/v1/oncall/schedules", "oncall-svc", 200, "listed schedules", "config"),
    _R(5.0, "GET", "/v1/oncall/schedules/{schedule}", "oncall-svc", 200, "loaded schedule",
       "config"),
    _R(10.0, "PATCH", "/v1/incidents/{incident}/status", "incidents-svc", 200,
       "incident status changed", "incidents", "sent status notification"),
    _R(8.0, "POST", "/v1/incidents", "incidents-svc", 201, "incident created", "incidents",
       "paged on-call"),
    _R(6.0, "POST", "/v1/incidents/{incident}/updates", "incidents-svc", 201,
       "incident update posted", "incidents", "sent update notification"),
    _R(3.0, "GET", "/v1/escalation/policies", "oncall-svc", 200, "listed escalation policies",
       "config"),
    _R(3.0, "GET", "/v1/escalation/policies/{policy}", "oncall-svc", 200,
       "loaded escalation policy", "config"),
    # §6.2 gives acknowledge 5 %; a sliver of it is the (inferred) hand-off call.
    _R(4.5, "POST", "/v1/incidents/{incident}/acknowledge", "incidents-svc", 200,
       "incident acknowledged", "incidents", "cancelled pending pages"),
    _R(0.5, "POST", "/v1/incidents/{incident}/handoff", "incidents-svc", 200,
       "incident handed off", "incidents", "paged hand-off target"),
    # schedule writes: 4 %
    _R(2.0, "POST", "/v1/oncall/schedules", "oncall-svc", 201, "schedule created", "config"),
    _R(1.5, "PUT", "/v1/oncall/schedules/{schedule}", "oncall-svc", 200, "schedule replaced",
       "config"),
    _R(0.5, "DELETE", "/v1/oncall/schedules/{schedule}", "oncall-svc", 204,
       "schedule deleted", "config"),
    # on-call layer writes: 3 %
    _R(1.5, "POST", "/v1/oncall/schedules/{schedule}/layers", "oncall-svc", 201,
       "layer created", "config"),
    _R(1.2, "PUT", "/v1/oncall/schedules/{schedule}/layers/{layer}", "oncall-svc", 200,
       "layer replaced", "config"),
    _R(0.3, "DELETE", "/v1/oncall/schedules/{schedule}/layers/{layer}", "oncall-svc", 204,
       "layer deleted", "config"),
    # escalation policy + layer writes: 3 %
    _R(0.8, "POST", "/v1/escalation/policies", "oncall-svc", 201, "escalation policy created",
       "config"),
    _R(0.7, "PUT", "/v1/escalation/policies/{policy}", "oncall-svc", 200,
       "escalation policy replaced", "config"),
    _R(0.3, "DELETE", "/v1/escalation/policies/{policy}", "oncall-svc", 204,
       "escalation policy deleted", "config"),
    _R(0.8, "POST", "/v1/escalation/policies/{policy}/layers", "oncall-svc", 201,
       "escalation layer created", "config"),
    _R(0.4, "PATCH", "/v1/escalation/policies/{policy}/layers/{layer}", "oncall-svc", 200,
       "escalation layer updated", "config"),
    # team endpoints: 3 % (admin only, §3)
    _R(1.2, "GET", "/v1/team/members", "auth-svc", 200, "listed members", "team"),
    _R(0.6, "POST", "/v1/team/members/invite", "auth-svc", 201, "invitation created", "team",
       "sent invitation email"),
    _R(0.4, "PATCH", "/v1/team/members/{member}/role", "auth-svc", 200, "member role changed",
       "team"),
    _R(0.3, "DELETE", "/v1/team/members/{member}", "auth-svc", 204, "member removed", "team"),
    _R(0.1, "DELETE", "/v1/team/members/invitations/{invitation}", "auth-svc", 204,
       "invitation revoked", "team"),
    _R(0.4, "GET", "/v1/users", "auth-svc", 200, "listed users", "team"),
    _R(2.0, "GET", "/v1/oncall/schedules/{schedule}/resolve", "oncall-svc", 200,
       "resolved on-call", "config"),
    # Provider-only endpoints (§3 "Other resources"), used by scenarios only.
    _R(0.0, "GET", "/v1/routing/policies/{routing}", "incidents-svc", 200,
       "loaded routing policy", "config"),
    _R(0.0, "PUT", "/v1/routing/policies/{routing}", "incidents-svc", 200,
       "routing policy replaced", "config"),
)
# fmt: on
ROUTE_BY_KEY = {spec.key: spec for spec in ROUTES}
TRAFFIC_ROUTES = tuple(spec for spec in ROUTES if spec.share > 0)
TRAFFIC_WEIGHTS = tuple(spec.share for spec in TRAFFIC_ROUTES)
LIST_INCIDENTS = ROUTE_BY_KEY["GET /v1/incidents"]

# Path placeholder -> (id prefix used by the docs' examples, noun, trace field)
RESOURCES = {
    "incident": ("inc", "Incident", "incident_id"),
    "schedule": ("sched", "Schedule", "schedule_id"),
    "policy": ("pol", "Escalation policy", "policy_id"),
    "layer": (None, "Layer", "layer_id"),
    "member": (None, "Member", "user_id"),
    "invitation": (None, "Invitation", "invitation_id"),
    "routing": (None, "Routing policy", "routing_policy_id"),
}

# --------------------------------------------------------------------------
# Failures (error catalogue + §5 statuses, shares from §6.3)
# --------------------------------------------------------------------------

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
STATUS_FLOW = ("investigating", "identified", "monitoring", "resolved")  # §3 lifecycle
SERVER_ERROR_CODES = (("internal_error", 70), ("server_error", 25), ("", 5))  # §4 item 1
UPSTREAM_ERRORS = (
    "pq: remaining connection slots are reserved for non-replication superuser connections",
    "context deadline exceeded",
    "dial tcp 10.0.3.17:5432: connect: connection refused",
)
NOTIFY_CHANNELS = ("slack", "email", "sms", "push")

# --------------------------------------------------------------------------
# Time (epoch milliseconds everywhere; formatted only when rendering)
# --------------------------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS_SECOND = 1000
MS_MINUTE = 60 * MS_SECOND
MS_HOUR = 60 * MS_MINUTE
MS_DAY = 24 * MS_HOUR


def iso_seconds(ms: int) -> str:
    """``2026-11-09T10:00:00`` for an epoch-millisecond instant (UTC)."""
    return (EPOCH + timedelta(seconds=ms // MS_SECOND)).strftime("%Y-%m-%dT%H:%M:%S")


def iso_z(ms: int) -> str:
    """Shape A / inner shape C: ``2026-11-09T10:00:00.123Z``."""
    return f"{iso_seconds(ms)}.{ms % MS_SECOND:03d}Z"


def iso_offset(ms: int) -> str:
    """Shape B: ``2026-11-09T10:00:00.123+00:00``."""
    return f"{iso_seconds(ms)}.{ms % MS_SECOND:03d}+00:00"


def iso_nanos(ns: int) -> str:
    """Docker json-file wrapper: ``2026-11-09T10:00:00.130456789Z``."""
    return f"{iso_seconds(ns // 1_000_000)}.{ns % 1_000_000_000:09d}Z"


def iso_week(ms: int) -> str:
    year, week, _ = (EPOCH + timedelta(milliseconds=ms)).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Calendar:
    """The sampled period. The last 7 days are the "current" week (W46 by default)."""

    start: date
    days: int

    @property
    def start_ms(self) -> int:
        return (
            datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC) - EPOCH
        ) // timedelta(milliseconds=1)

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.days * MS_DAY

    @property
    def current_week_ms(self) -> int:
        return self.end_ms - 7 * MS_DAY

    def current_week(self, day: int, hms: str) -> int:
        """An instant in the current week: day 0 is its Monday."""
        return self.current_week_ms + day * MS_DAY + _hms_ms(hms)

    def previous_week(self, day: int, hms: str) -> int:
        return self.current_week(day - 7, hms)


def _hms_ms(hms: str) -> int:
    hours, minutes, seconds = hms.split(":")
    return int(hours) * MS_HOUR + int(minutes) * MS_MINUTE + round(float(seconds) * MS_SECOND)


def parse_start(value: str | date) -> date:
    start = value if isinstance(value, date) else date.fromisoformat(value)
    if start.weekday() != 0:
        raise ValueError(f"--start must be a Monday (ISO weeks), got {start} ({start:%A})")
    return start


# --------------------------------------------------------------------------
# Identifiers (§2 "Resource IDs", "Request IDs", "Key format")
# --------------------------------------------------------------------------

LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class Ids:
    """Random identifiers in the documented formats, all drawn from one rng."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choices(alphabet, k=n))

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def org_id(self) -> str:
        """Clerk-style ``org_2abc…`` or ULID-style ``org_01HX…`` (12-14 chars after ``org_``)."""
        if self.rng.random() < 0.25:
            return "org_01" + self.chars(CROCKFORD, self.rng.randint(10, 12))
        return "org_2" + self.chars(LOWER_ALNUM, self.rng.randint(11, 13))

    def user_id(self) -> str:
        return "user_2" + self.chars(LOWER_ALNUM, self.rng.randint(11, 13))

    def api_key_id(self) -> str:
        """The key's *id*, never the secret (§6.1)."""
        return "key_01" + self.chars(LOWER_ALNUM, 24)

    def secret_api_key(self) -> str:
        return "scl_live_" + self.chars(ALNUM, 32)

    def resource_id(self, kind: str) -> str:
        prefix = RESOURCES[kind][0]
        if kind == "member":
            return self.user_id()
        if kind == "invitation":
            return "orginv_2" + self.chars(LOWER_ALNUM, 12)
        if prefix and self.rng.random() < PREFIXED_ID_SHARE:
            return f"{prefix}_01jq" + self.chars(CROCKFORD.lower(), 22)
        return self.uuid4()

    def client_ip(self) -> str:
        """Documentation ranges only: RFC 5737 IPv4 and RFC 3849 IPv6."""
        if self.rng.random() < 0.15:
            return f"2001:db8:{self.rng.randrange(0x10000):x}::{self.rng.randrange(1, 0x10000):x}"
        net = self.rng.choice(("203.0.113", "198.51.100", "192.0.2"))
        return f"{net}.{self.rng.randint(1, 254)}"

    def cursor(self) -> str:
        """An opaque pagination cursor (§2 "base64-ish")."""
        return base64.urlsafe_b64encode(self.rng.randbytes(18)).decode("ascii")


# --------------------------------------------------------------------------
# The world: orgs, their people, keys and resources
# --------------------------------------------------------------------------

FOREVER = 1 << 62


@dataclass
class Client:
    """Something that sends requests: an API key or a dashboard (session) user."""

    kind: str  # "terraform" | "script" | "dashboard"
    api_key_id: str | None
    user_id: str | None  # key owner (an admin, §5 assumption) or session user
    user_agent: str
    ips: tuple[str, ...]
    active_from: int = 0
    active_until: int = FOREVER

    def active(self, ts: int) -> bool:
        return self.active_from <= ts < self.active_until


@dataclass
class Org:
    org_id: str
    region: str
    weight: float
    users: list[str]
    admins: list[str]
    clients: list[Client]
    stale_key: Client  # an expired key some forgotten job still uses
    incidents: list[str]
    schedules: dict[str, list[str]]  # schedule id -> on-call layer ids
    policies: dict[str, list[str]]  # escalation policy id -> layer ids
    routing_policies: list[str]
    invitations: list[str]

    def sessions(self, admins_only: bool = False) -> list[Client]:
        return [
            c
            for c in self.clients
            if c.kind == "dashboard" and (not admins_only or c.user_id in self.admins)
        ]

    def keys(self, kind: str) -> list[Client]:
        return [c for c in self.clients if c.kind == kind]


def build_world(rng: random.Random, ids: Ids) -> list[Org]:
    """~40 orgs with Zipf-distributed weight, split between the two regions."""
    regions = [r for r, n in ORGS_PER_REGION.items() for _ in range(n)]
    rng.shuffle(regions)
    return [
        build_org(rng, ids, region, 1.0 / (rank + 1) ** ZIPF_EXPONENT)
        for rank, region in enumerate(regions)
    ]


def build_org(rng: random.Random, ids: Ids, region: str, weight: float) -> Org:
    size = 1.0 + 6.0 * weight**0.5  # big orgs have more of everything
    users = [ids.user_id() for _ in range(round(3 + 3 * size))]
    admins = users[: rng.randint(1, 3)]
    ips = tuple(ids.client_ip() for _ in range(rng.randint(2, 5)))
    # 1-2 live keys, plus the stale one below: 2-3 key ids per org
    clients = [
        _api_key(rng, ids, rng.choice(admins), ips, first=(i == 0))
        for i in range(rng.randint(1, 2))
    ]
    clients += [
        Client(
            "dashboard",
            None,
            user,
            rng.choice(BROWSER_USER_AGENTS),
            (rng.choice(ips), ids.client_ip()),
        )
        for user in users
    ]
    stale = dataclasses.replace(clients[0], api_key_id=ids.api_key_id())
    return Org(
        org_id=ids.org_id(),
        region=region,
        weight=weight,
        users=users,
        admins=admins,
        clients=clients,
        stale_key=stale,
        incidents=[ids.resource_id("incident") for _ in range(round(20 * size))],
        schedules={
            ids.resource_id("schedule"): [ids.uuid4() for _ in range(rng.randint(1, 3))]
            for _ in range(round(1 + size))
        },
        policies={
            ids.resource_id("policy"): [ids.uuid4() for _ in range(rng.randint(1, 3))]
            for _ in range(round(1 + size / 2))
        },
        routing_policies=[ids.uuid4() for _ in range(rng.randint(1, 2))],
        invitations=[ids.resource_id("invitation") for _ in range(rng.randint(1, 3))],
    )


def _api_key(rng: random.Random, ids: Ids, owner: str, ips: tuple[str, ...], first: bool) -> Client:
    """Most orgs' first key belongs to Terraform; the others to CI scripts."""
    if first and rng.random() < 0.7:
        return Client("terraform", ids.api_key_id(), owner, UA_TERRAFORM, ips[:2])
    return Client("script", ids.api_key_id(), owner, rng.choice(SCRIPT_USER_AGENTS), ips)


# --------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------


@dataclass
class Request:
    """One gateway request, rendered later as shape A (EU) or shape B (US)."""

    ts: int
    gateway: str  # "eu" | "us"
    request_id: str
    org_id: str | None
    api_key_id: str | None
    actor_user_id: str | None
    spec: RouteSpec
    path: str
    params: dict[str, str]
    status: int  # what the gateway logged; the body's statusCode may disagree
    duration_ms: float
    user_agent: str
    client_ip: str
    failure: FailureSpec | None
    error: dict | None
    omit_route: bool
    epoch_ts: bool
    traced: bool
    trace_extra: dict = field(default_factory=dict)
    scenario: str | None = None

    @property
    def code(self) -> str | None:
        return None if self.error is None else self.error["code"]


def fail(type_: str, code: str, status: int, trace_msg: str, message: str = "") -> FailureSpec:
    """An ad-hoc failure outside the §6.3 mix (doc inconsistencies, 500 variants)."""
    return FailureSpec(0.0, type_, code, status, ANY_ROUTE, trace_msg, message)


class Traffic:
    """Builds requests for the orgs of the world, always through ``request``."""

    def __init__(self, rng: random.Random, ids: Ids, orgs: list[Org]):
        self.rng = rng
        self.ids = ids
        self.orgs = orgs
        self.by_region = {r: [o for o in orgs if o.region == r] for r in REGION_SHARE}
        self.claimed: set[str] = set()

    # -- choosing who and what ------------------------------------------------

    def pick_region(self) -> str:
        return self.rng.choices(tuple(REGION_SHARE), tuple(REGION_SHARE.values()))[0]

    def pick_org(self, region: str) -> Org:
        orgs = self.by_region[region]
        return self.rng.choices(orgs, [o.weight for o in orgs])[0]

    def claim_org(self, region: str, wanted=lambda org: True) -> Org:
        """A mid-sized org of the region for a scenario, each scenario its own."""
        ranked = sorted(self.by_region[region], key=lambda o: -o.weight)
        for org in ranked[2:] + ranked[:2]:
            if org.org_id not in self.claimed and wanted(org):
                self.claimed.add(org.org_id)
                return org
        raise RuntimeError(f"no {region} org left for a scenario")

    def pick_route(self, routes: str | tuple[str, ...] = ANY_ROUTE) -> RouteSpec:
        if routes == ANY_ROUTE:
            return self.rng.choices(TRAFFIC_ROUTES, TRAFFIC_WEIGHTS)[0]
        if routes == ID_ROUTE:
            specs = [s for s in TRAFFIC_ROUTES if "{" in s.template]
            return self.rng.choices(specs, [s.share for s in specs])[0]
        return ROUTE_BY_KEY[self.rng.choice(routes)]

    def pick_client(self, org: Org, audience: str, ts: int) -> Client:
        """Weighted by CLIENT_AFFINITY; team calls need an admin (§3)."""
        candidates = [
            c
            for c in org.clients
            if c.active(ts) and (audience != "team" or c.user_id in org.admins)
        ]
        per_kind = Counter(c.kind for c in candidates)
        weights = [CLIENT_AFFINITY[audience][c.kind] / per_kind[c.kind] for c in candidates]
        return self.rng.choices(candidates, weights)[0]

    def anonymous_client(self) -> Client:
        """A caller the gateway cannot identify (no or unknown credentials)."""
        ua = self.rng.choice((UA_CURL, UA_CURL, UA_PYTHON, UA_TERRAFORM, "node-fetch/1.0"))
        return Client("script", None, None, ua, (self.ids.client_ip(),))

    def session_of(self, org: Org, user_id: str) -> Client:
        return next(c for c in org.sessions() if c.user_id == user_id)

    # -- filling paths ----------------------------------------------------------

    def fill_params(
        self, org: Org, spec: RouteSpec, given: dict[str, str], stale: bool
    ) -> dict[str, str]:
        """Ids for the path; with ``stale`` the last one names nothing (404)."""
        names = PLACEHOLDER_RE.findall(spec.template)
        params: dict[str, str] = {}
        for i, name in enumerate(names):
            if name in given:
                params[name] = given[name]
            elif stale and i == len(names) - 1:
                params[name] = self.unknown_resource(org, name, params)
            else:
                params[name] = self.known_resource(org, spec, name, params)
        return params

    def known_resource(self, org: Org, spec: RouteSpec, name: str, params: dict[str, str]) -> str:
        choice = self.rng.choice
        if name == "incident":
            return choice(org.incidents)
        if name == "schedule":
            return choice(list(org.schedules))
        if name == "policy":
            return choice(list(org.policies))
        if name == "layer":
            parent = (
                org.schedules[params["schedule"]]
                if "schedule" in params
                else org.policies[params["policy"]]
            )
            return choice(parent)
        if name == "member":
            # a removed member is gone afterwards, so deletes name a former member
            return self.ids.user_id() if spec.method == "DELETE" else choice(org.users)
        if name == "invitation":
            return choice(org.invitations)
        return choice(org.routing_policies)

    def unknown_resource(self, org: Org, name: str, params: dict[str, str]) -> str:
        """Stale Terraform state, deleted rows, or another org's id (§6.3 not_found)."""
        if name in ("incident", "schedule", "policy") and self.rng.random() < 0.3:
            other = self.pick_org(self.pick_region())
            if other is not org:
                return self.known_resource(other, LIST_INCIDENTS, name, params)
        return self.ids.resource_id(name)

    def list_query(self, spec: RouteSpec, ts: int) -> str:
        """GET /v1/incidents filters and cursor pages (§3)."""
        if spec is not LIST_INCIDENTS or self.rng.random() >= LIST_QUERY_SHARE:
            return ""
        day = (EPOCH + timedelta(milliseconds=ts)).date()
        return self.rng.choice(
            (
                "?status=investigating&limit=50",
                "?status=identified",
                "?severity=critical&limit=100",
                f"?from={day - timedelta(days=7)}&to={day}",
                f"?cursor={self.ids.cursor()}",
                f"?limit=50&cursor={self.ids.cursor()}",
            )
        )

    # -- the one request factory ------------------------------------------------

    def request(
        self,
        ts: int,
        org: Org,
        client: Client,
        spec: RouteSpec,
        *,
        failure: FailureSpec | None = None,
        params: dict[str, str] | None = None,
        query: str = "",
        message: str | None = None,
        status: int | None = None,
        body: dict | None = None,
        scenario: str | None = None,
        trace_extra: dict | None = None,
    ) -> Request:
        """Build one request. ``message`` None = random (§6.1), "" = none.

        ``status`` overrides the logged status and ``body`` patches the error
        body, which is how the documented inconsistencies are made.
        """
        rid = self.ids.uuid4()
        stale = failure is not None and failure.code == "not_found"
        params = self.fill_params(org, spec, params or {}, stale)
        logged_status = status or (failure.status if failure else spec.ok_status)
        error = self.error_body(rid, spec, failure, params, message, body)
        org_id, key_id, actor = self.identity(org, client, failure)
        extra = self.default_trace_extra(spec, failure, client)
        extra.update(trace_extra or {})
        return Request(
            ts=ts,
            gateway=org.region,
            request_id=rid,
            org_id=org_id,
            api_key_id=key_id,
            actor_user_id=actor,
            spec=spec,
            path=spec.template.format(**params) + query,
            params=params,
            status=logged_status,
            duration_ms=self.duration(spec.method, logged_status),
            user_agent=client.user_agent,
            client_ip=self.rng.choice(client.ips),
            failure=failure,
            error=error,
            omit_route=self.rng.random() < ROUTE_KEY_OMITTED,
            epoch_ts=self.rng.random() < EPOCH_TS_SHARE,
            traced=scenario is not None or self.rng.random() < TRACE_SHARE,
            trace_extra=extra,
            scenario=scenario,
        )

    def error_body(
        self,
        rid: str,
        spec: RouteSpec,
        failure: FailureSpec | None,
        params: dict[str, str],
        message: str | None,
        body: dict | None,
    ) -> dict | None:
        """The documented four fields, plus ``message`` on ~30 % (§2 Request IDs)."""
        if failure is None:
            return None
        error = {
            "statusCode": failure.status,
            "type": failure.type,
            "code": failure.code,
            "requestId": rid,
        }
        if message is None:
            message = (
                self.error_message(spec, failure, params)
                if self.rng.random() < MESSAGE_SHARE
                else ""
            )
        if message:
            error["message"] = message
        error.update(body or {})
        return error

    def error_message(self, spec: RouteSpec, failure: FailureSpec, params: dict[str, str]) -> str:
        if failure.code == "not_found":
            last = list(params)[-1] if params else "schedule"  # POST ownerScheduleId
            return f"{RESOURCES[last][1]} not found"
        if failure.type == "validation_error":
            return self.rng.choice(VALIDATION_MESSAGES.get(spec.key, ("Invalid request body",)))
        return failure.message

    @staticmethod
    def identity(
        org: Org, client: Client, failure: FailureSpec | None
    ) -> tuple[str | None, str | None, str | None]:
        """Who the gateway could attribute the call to (orgId, apiKeyId, actorUserId).

        Without a header nobody is known; with a key the gateway cannot verify it
        still knows the key id (and org) if the key once existed, but no actor.
        """
        if failure is not None and failure.code == "missing_authorization_header":
            return None, None, None
        if failure is not None and failure.code == "invalid_api_key":
            known = client.api_key_id is not None
            return (org.org_id if known else None), client.api_key_id, None
        return org.org_id, client.api_key_id, client.user_id

    def default_trace_extra(
        self, spec: RouteSpec, failure: FailureSpec | None, client: Client
    ) -> dict:
        """Small fields the backend would log for this call."""
        if failure is not None and failure.code == "invalid_api_key":
            return {
                "reason": self.rng.choice(("revoked", "expired"))
                if client.api_key_id
                else "unknown_key"
            }
        if failure is not None and failure.code == "missing_authorization_header":
            return {"reason": self.rng.choice(("absent", "absent", "scheme_not_bearer"))}
        if spec.key == "PATCH /v1/incidents/{incident}/status":
            return dict(zip(("from", "to"), self.status_move(failure is None), strict=True))
        if spec is LIST_INCIDENTS and failure is None:
            return {"count": self.rng.randint(0, 50)}
        return {}

    def status_move(self, legal: bool) -> tuple[str, str]:
        i = self.rng.randrange(3)
        if legal:
            return STATUS_FLOW[i], STATUS_FLOW[i + 1]
        return self.rng.choice(
            (
                (STATUS_FLOW[0], STATUS_FLOW[3]),
                (STATUS_FLOW[0], STATUS_FLOW[2]),
                (STATUS_FLOW[3], STATUS_FLOW[1]),
                (STATUS_FLOW[1], STATUS_FLOW[1]),
            )
        )

    def duration(self, method: str, status: int) -> float:
        """Log-normal latencies: auth rejects are fast, 500s slow, writes slower than reads."""
        if status == 401:
            median = 3.0
        elif status >= 500:
            median = 900.0
        elif status >= 400:
            median = 14.0
        else:
            median = 32.0 if method == "GET" else 65.0
        return max(2.0, round(median * self.rng.lognormvariate(0.0, 0.55), 1))

    # -- ordinary traffic ---------------------------------------------------------

    def ordinary(self, ts: int, region: str, failure: FailureSpec | None) -> Request:
        """A background request: route by §6.2, or routed where ``failure`` happens."""
        org = self.pick_org(region)
        spec = self.pick_route(failure.routes if failure else ANY_ROUTE)
        client = (
            self.failure_client(org, spec, failure, ts)
            if failure
            else self.pick_client(org, spec.audience, ts)
        )
        params = None
        if failure is not None and failure.code in SELF_TARGETED_CODES:
            params = {"member": client.user_id}
        return self.request(
            ts, org, client, spec, failure=failure, params=params, query=self.list_query(spec, ts)
        )

    def failure_client(self, org: Org, spec: RouteSpec, failure: FailureSpec, ts: int) -> Client:
        if failure.code == "missing_authorization_header":
            return self.anonymous_client()
        if failure.code == "invalid_api_key":
            return org.stale_key if self.rng.random() < 0.6 else self.anonymous_client()
        if failure.code in SELF_TARGETED_CODES:  # §6.4: from the dashboard
            return self.rng.choice(org.sessions(admins_only=True))
        return self.pick_client(org, spec.audience, ts)


# --------------------------------------------------------------------------
# Background traffic: diurnal slots and a failure deck aimed at the §6.3 mix
# --------------------------------------------------------------------------


def traffic_slots(
    rng: random.Random, cal: Calendar, requests_per_day: int, blackouts: list[tuple[int, int]]
) -> list[tuple[int, str]]:
    """(timestamp, region) for every background request, in time order.

    Weekdays and weekends are scaled so the mean day has ``requests_per_day``.
    Slots inside an outage window are dropped: the outage scenario owns them.
    """
    scale = 7 / (5 + 2 * WEEKEND_FACTOR)
    slots = []
    for day in range(cal.days):
        day_ms = cal.start_ms + day * MS_DAY
        weekend = (cal.start + timedelta(days=day)).weekday() >= 5
        factor = scale * (WEEKEND_FACTOR if weekend else 1.0)
        for region, share in REGION_SHARE.items():
            hourly = HOURLY_WEIGHTS[region]
            if weekend:
                hourly = tuple(w**0.5 for w in hourly)
            hours = rng.choices(range(24), hourly, k=round(requests_per_day * share * factor))
            slots += [(day_ms + h * MS_HOUR + rng.randrange(MS_HOUR), region) for h in hours]
    slots.sort()
    return [s for s in slots if not any(a <= s[0] <= b for a, b in blackouts)]


def failure_deck(
    rng: random.Random, n_slots: int, specials: list[Request]
) -> list[FailureSpec | None]:
    """One outcome per background slot, shuffled.

    The total failure count is FAILURE_RATE of all requests; each code gets its
    §6.3 share of that total minus what the scenarios already produced, so the
    overall mix stays close to §6.3 even though the scenarios are bursty. A code
    a scenario already over-fills still keeps BACKGROUND_FLOOR of its share as
    scattered background noise, except clustered ones (500s come in bursts).
    """
    total = round(FAILURE_RATE * (n_slots + len(specials)))
    deck: list[FailureSpec | None] = []
    for spec in FAILURE_MIX:
        want = round(total * spec.share / 100)
        already = sum(1 for r in specials if r.failure is not None and _same_kind(r.failure, spec))
        floor = 0 if spec.clustered else round(want * BACKGROUND_FLOOR)
        deck += [spec] * max(floor, want - already)
    deck += [None] * (n_slots - len(deck))
    rng.shuffle(deck)
    return deck


def _same_kind(a: FailureSpec, b: FailureSpec) -> bool:
    return a.type == b.type and (a.code == b.code or a.type == "internal_error")


# --------------------------------------------------------------------------
# Scenarios (§6.4)
# --------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    description: str
    requests: list[Request]
    api_key_id: str | None = None

    @property
    def org_ids(self) -> list[str]:
        return sorted({r.org_id for r in self.requests if r.org_id})


TERRAFORM_REFRESH = (
    "GET /v1/oncall/schedules/{schedule}",
    "GET /v1/escalation/policies/{policy}",
    "GET /v1/routing/policies/{routing}",
    "GET /v1/oncall/schedules",
)


def key_rotation_fallout(t: Traffic, cal: Calendar, secret: str) -> Scenario:
    """§6.4-1: a rotated key still in CI; 12 Terraform runs fail within 30 min, then silence."""
    name = "key_rotation_fallout"
    org = t.claim_org("eu", lambda o: bool(o.keys("terraform")))
    old = org.keys("terraform")[0]
    begin = cal.current_week(1, "09:12:04.211")
    requests, run_start = [], begin
    for _ in range(12):  # the pipeline is re-run every couple of minutes
        ts = run_start
        for _ in range(t.rng.randint(17, 18)):  # parallel refreshes until Terraform gives up
            ts += t.rng.randint(15, 400)
            spec = ROUTE_BY_KEY[t.rng.choice(TERRAFORM_REFRESH)]
            requests.append(
                t.request(
                    ts,
                    org,
                    old,
                    spec,
                    failure=INVALID_API_KEY,
                    scenario=name,
                    trace_extra={"key_id": old.api_key_id, "reason": "revoked"},
                )
            )
        run_start += t.rng.randint(120_000, 150_000)
    # auth-svc dumps the rejected header once: a secret the tool must mask
    requests[0].trace_extra["authorization"] = f"Bearer {secret}"
    old.active_until = begin
    org.clients.append(
        dataclasses.replace(
            old, api_key_id=t.ids.api_key_id(), active_from=requests[-1].ts + 25 * MS_MINUTE
        )
    )
    return Scenario(
        name,
        "Terraform keeps using a rotated (revoked) API key: 200+ "
        "invalid_api_key in under 30 minutes, then the key is never seen again.",
        requests,
        old.api_key_id,
    )


def ci_skips_states(t: Traffic, cal: Calendar) -> Scenario:
    """§6.4-2: a CI script creates an incident and PATCHes it straight to resolved."""
    name = "ci_skips_states"
    org = t.claim_org("us", lambda o: bool(o.keys("script")))
    client = org.keys("script")[0]
    client.user_agent = UA_PYTHON
    create = ROUTE_BY_KEY["POST /v1/incidents"]
    patch = ROUTE_BY_KEY["PATCH /v1/incidents/{incident}/status"]
    skip = FAILURE_BY_CODE["invalid_status_transition"]
    requests = []
    for day, hms in (
        (0, "15:20:11.402"),
        (1, "19:05:40.087"),
        (2, "16:41:02.915"),
        (3, "21:10:27.630"),
    ):
        ts = cal.current_week(day, hms)
        incident = t.ids.resource_id("incident")
        requests.append(
            t.request(
                ts,
                org,
                client,
                create,
                scenario=name,
                trace_extra={"incident_id": incident, "severity": "high"},
            )
        )
        for attempt in range(1 + t.rng.randint(2, 4)):  # first attempt + 2-4 retries
            ts += t.rng.randint(2000, 6000) if attempt else t.rng.randint(400, 1200)
            requests.append(
                t.request(
                    ts,
                    org,
                    client,
                    patch,
                    failure=skip,
                    scenario=name,
                    params={"incident": incident},
                    trace_extra={"from": "investigating", "to": "resolved"},
                )
            )
    return Scenario(
        name,
        "A CI script sets new incidents straight to resolved; each "
        "invalid_status_transition is retried 2-4 times a few seconds apart.",
        requests,
        client.api_key_id,
    )


def destroy_ordering(t: Traffic, cal: Calendar) -> Scenario:
    """§6.4-3: terraform destroy deletes a policy a routing policy still references."""
    name = "terraform_destroy_ordering"
    org = t.claim_org("eu", lambda o: bool(o.keys("terraform")))
    tf = org.keys("terraform")[0]
    admin = t.session_of(org, org.admins[0])
    policy, schedule, layer = (
        t.ids.resource_id("policy"),
        t.ids.resource_id("schedule"),
        t.ids.uuid4(),
    )
    routing = org.routing_policies[0]
    t0 = cal.current_week(4, "15:02:13.517")
    steps = (
        (0, tf, "DELETE /v1/oncall/schedules/{schedule}/layers/{layer}", None),
        (1_480, tf, "DELETE /v1/escalation/policies/{policy}", "policy_in_use"),
        (3 * MS_MINUTE + 9_100, admin, "GET /v1/routing/policies/{routing}", None),
        (5 * MS_MINUTE + 42_300, tf, "PUT /v1/routing/policies/{routing}", None),
        (6 * MS_MINUTE + 1_900, tf, "DELETE /v1/escalation/policies/{policy}", None),
        (6 * MS_MINUTE + 3_350, tf, "DELETE /v1/oncall/schedules/{schedule}", None),
    )
    params = {"policy": policy, "schedule": schedule, "layer": layer, "routing": routing}
    requests = []
    for offset, client, key, code in steps:
        spec = ROUTE_BY_KEY[key]
        failure = FAILURE_BY_CODE[code] if code else None
        message = "Escalation policy is referenced by a routing policy" if code else None
        requests.append(
            t.request(
                t0 + offset,
                org,
                client,
                spec,
                failure=failure,
                params=params,
                message=message,
                scenario=name,
                trace_extra={"routing_policy_id": routing} if code else {},
            )
        )
    return Scenario(
        name,
        "DELETE escalation policy -> policy_in_use (409) while a routing "
        "policy references it; the routing policy is updated and the delete "
        "succeeds six minutes later.",
        requests,
        tf.api_key_id,
    )


def timezone_typo(t: Traffic, cal: Calendar) -> Scenario:
    """§6.4-4: POST schedule with "EST", then "UTC-5", then America/New_York."""
    name = "timezone_typo"
    org = t.claim_org("us", lambda o: bool(o.keys("script")))
    client = dataclasses.replace(org.keys("script")[0], user_agent=UA_CURL)
    create = ROUTE_BY_KEY["POST /v1/oncall/schedules"]
    bad_tz = FAILURE_BY_CODE["invalid_timezone"]
    schedule = t.ids.resource_id("schedule")
    t0 = cal.current_week(1, "15:07:31.044")
    requests = [
        t.request(
            t0,
            org,
            client,
            create,
            failure=bad_tz,
            message='Invalid timezone "EST"',
            scenario=name,
            trace_extra={"timezone": "EST"},
        ),
        t.request(
            t0 + 51_230,
            org,
            client,
            create,
            failure=bad_tz,
            scenario=name,
            trace_extra={"timezone": "UTC-5"},
        ),
        t.request(
            t0 + 3 * MS_MINUTE + 1_008,
            org,
            client,
            create,
            scenario=name,
            trace_extra={"timezone": "America/New_York", "schedule_id": schedule},
        ),
        t.request(
            t0 + 3 * MS_MINUTE + 22_871,
            org,
            client,
            ROUTE_BY_KEY["POST /v1/oncall/schedules/{schedule}/layers"],
            params={"schedule": schedule},
            scenario=name,
        ),
    ]
    return Scenario(
        name,
        "Schedule creation fails twice with invalid_timezone (EST, UTC-5) "
        "and succeeds with America/New_York.",
        requests,
        client.api_key_id,
    )


def offboarded_engineer(t: Traffic, cal: Calendar) -> Scenario:
    """§6.4-5: a removed member is still a participant/target in Terraform config."""
    name = "offboarded_engineer"
    org = t.claim_org(
        "eu", lambda o: bool(o.keys("terraform")) and len(o.users) > len(o.admins) + 1
    )
    tf = org.keys("terraform")[0]
    admin = t.session_of(org, org.admins[0])
    leaver = org.users[-1]
    schedule, layer, policy = (
        t.ids.resource_id("schedule"),
        t.ids.uuid4(),
        t.ids.resource_id("policy"),
    )
    params = {"schedule": schedule, "layer": layer, "policy": policy, "member": leaver}
    removed_at = cal.current_week(2, "10:02:44.390")
    t.session_of(org, leaver).active_until = removed_at
    put_layer = ROUTE_BY_KEY["PUT /v1/oncall/schedules/{schedule}/layers/{layer}"]
    post_target = ROUTE_BY_KEY["POST /v1/escalation/policies/{policy}/layers"]
    participant = FAILURE_BY_CODE["invalid_participant"]
    target = FAILURE_BY_CODE["invalid_target"]
    requests = [
        t.request(
            removed_at,
            org,
            admin,
            ROUTE_BY_KEY["DELETE /v1/team/members/{member}"],
            params=params,
            scenario=name,
        )
    ]
    for start in (cal.current_week(3, "09:31:05.120"), cal.current_week(3, "09:42:17.803")):
        requests += [
            t.request(
                start,
                org,
                tf,
                put_layer,
                failure=participant,
                params=params,
                message=f"Participant {leaver} is not a member of this organization",
                scenario=name,
                trace_extra={"user_id": leaver},
            ),
            t.request(
                start + 640,
                org,
                tf,
                post_target,
                failure=target,
                params=params,
                scenario=name,
                trace_extra={"target_type": "users", "user_ids": [leaver]},
            ),
        ]
    fixed = cal.current_week(3, "10:23:50.266")
    requests += [
        t.request(fixed, org, tf, put_layer, params=params, scenario=name),
        t.request(fixed + 702, org, tf, post_target, params=params, scenario=name),
    ]
    return Scenario(
        name,
        f"{leaver} is removed on Wednesday; Thursday's terraform apply fails "
        "twice with invalid_participant and invalid_target until the config is "
        "fixed.",
        requests,
        tf.api_key_id,
    )


def admin_self_service(t: Traffic, cal: Calendar) -> Scenario:
    """§6.4-6: an admin tries to demote and then remove themselves in the dashboard."""
    name = "admin_self_service"
    org = t.claim_org("us", lambda o: len(o.users) > len(o.admins))
    admin = org.admins[0]
    colleague = org.users[len(org.admins)]
    session = t.session_of(org, admin)
    t0 = cal.current_week(0, "17:45:12.733")
    members = ROUTE_BY_KEY["GET /v1/team/members"]
    role = ROUTE_BY_KEY["PATCH /v1/team/members/{member}/role"]
    steps = (
        (0, members, {}, None),
        (25_412, role, {"member": admin}, "cannot_change_own_role"),
        (
            94_077,
            ROUTE_BY_KEY["DELETE /v1/team/members/{member}"],
            {"member": admin},
            "cannot_remove_self",
        ),
        (3 * MS_MINUTE + 2_230, members, {}, None),
        (3 * MS_MINUTE + 21_904, role, {"member": colleague}, None),
    )
    requests = [
        t.request(
            t0 + offset,
            org,
            session,
            spec,
            params=params,
            scenario=name,
            failure=FAILURE_BY_CODE[code] if code else None,
        )
        for offset, spec, params, code in steps
    ]
    return Scenario(
        name,
        "From the dashboard, an admin hits cannot_change_own_role and "
        "cannot_remove_self, then promotes a colleague instead.",
        requests,
    )


def server_errors(
    t: Traffic, name: str, begin: int, seconds: int, arrivals: int, description: str
) -> Scenario:
    """§6.4-7: every route fails with 500 for a while; clients retry.

    Scripts retry with exponential backoff and jitter (1 s, 2 s, 4 s …), people
    click again once, and Terraform does not retry at all: the provider only
    retries 429/502/503/504 (§2). A retry after the window succeeds.
    """
    end = begin + seconds * MS_SECOND
    requests = []
    for _ in range(arrivals):
        ts = begin + t.rng.randrange(seconds * MS_SECOND)
        org = t.pick_org(t.pick_region())
        spec = t.pick_route()
        client = t.pick_client(org, spec.audience, ts)
        retries = {"script": 3, "dashboard": t.rng.randint(0, 1), "terraform": 0}[client.kind]
        params, query = None, t.list_query(spec, ts)
        for attempt in range(retries + 1):
            failure = _server_error(t.rng) if ts <= end else None
            req = t.request(
                ts,
                org,
                client,
                spec,
                failure=failure,
                params=params,
                query=query,
                scenario=name,
                trace_extra={"error": t.rng.choice(UPSTREAM_ERRORS)} if failure else {},
            )
            requests.append(req)
            params = req.params
            if failure is None:
                break
            backoff = MS_SECOND * 2**attempt
            ts += (
                backoff + t.rng.randrange(backoff)
                if client.kind == "script"
                else t.rng.randint(3_000, 8_000)
            )
    requests.sort(key=lambda r: r.ts)
    return Scenario(name, description, requests)


def _server_error(rng: random.Random) -> FailureSpec:
    """§4 item 1: the live 500 ``code`` is unknown, so vary it; the type is stable."""
    code = rng.choices([c for c, _ in SERVER_ERROR_CODES], [w for _, w in SERVER_ERROR_CODES])[0]
    return fail("internal_error", code, 500, "unhandled error", "An unexpected error occurred")


def build_scenarios(t: Traffic, cal: Calendar, bearer_secret: str) -> list[Scenario]:
    return [
        key_rotation_fallout(t, cal, bearer_secret),
        ci_skips_states(t, cal),
        destroy_ordering(t, cal),
        timezone_typo(t, cal),
        offboarded_engineer(t, cal),
        admin_self_service(t, cal),
        server_errors(
            t,
            "internal_error_burst",
            cal.current_week(3, "14:31:10.000"),
            150,
            16,
            "Two and a half minutes of 500s across routes and orgs on a weekday "
            "afternoon, with client retries.",
        ),
        server_errors(
            t,
            "internal_error_blip",
            cal.previous_week(2, "16:05:20.000"),
            40,
            5,
            "A 40-second 500 blip in the previous week (partly in the rotated .gz).",
        ),
    ]


# --------------------------------------------------------------------------
# Documented inconsistencies (§4) and planted secrets
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Backend trace events (shape C)
# --------------------------------------------------------------------------


@dataclass
class TraceEvent:
    ns: int  # Docker's capture time, a little after the app's own "time"
    inner: dict | None  # the app's JSON log line, or None for plain text
    text: str = ""
    stream: str = "stdout"


def trace_steps(rng: random.Random, req: Request) -> list[tuple[str, str, str, dict]]:
    """(service, level, msg, extra fields) for one request: auth, the handler, notify."""
    failure = req.failure
    if failure is not None and failure.type == "not_authorized_error":
        return [("auth-svc", "warn", failure.trace_msg, dict(req.trace_extra))]
    steps = []
    if rng.random() < AUTH_TRACE_SHARE:
        steps.append(
            ("auth-svc", "info", "api key verified", {"key_id": req.api_key_id})
            if req.api_key_id
            else ("auth-svc", "info", "session verified", {"user_id": req.actor_user_id})
        )
    fields = {RESOURCES[name][2]: value for name, value in req.params.items()}
    if failure is None:
        steps.append((req.spec.service, "info", req.spec.ok_msg, {**fields, **req.trace_extra}))
        if req.spec.notify:
            steps.append(
                ("notify-worker", "info", req.spec.notify, {"channel": rng.choice(NOTIFY_CHANNELS)})
            )
    else:
        level = "error" if req.status >= 500 else "warn"
        fields["error_code"] = failure.code or failure.type
        steps.append((req.spec.service, level, failure.trace_msg, {**fields, **req.trace_extra}))
    return steps


def trace_events(rng: random.Random, req: Request) -> list[TraceEvent]:
    """Events a few ms after the request start, inside its duration."""
    steps = trace_steps(rng, req)
    span = max(2, int(req.duration_ms))
    offsets = sorted(rng.sample(range(1, span), k=min(len(steps), span - 1)))
    events = []
    for offset, (service, level, msg, extra) in zip(offsets, steps, strict=False):
        ms = req.ts + offset
        id_key = "req_id" if rng.random() < REQ_ID_ALIAS_SHARE else "request_id"
        inner = {
            "time": iso_z(ms),
            "level": level,
            "service": service,
            id_key: req.request_id,
            "msg": msg,
            **extra,
        }
        if "authorization" in extra:
            inner["level"] = "debug"
        events.append(
            TraceEvent(
                ms * 1_000_000 + rng.randrange(20_000, 900_000),
                inner,
                stream="stderr" if level == "error" else "stdout",
            )
        )
    return events


BOOT_LINES = (
    "incidents-svc listening on :8080",
    "oncall-svc listening on :8080",
    "auth-svc listening on :8080",
    "worker started",
    "connected to postgres (pool=20)",
    "connected to redis",
)


def lifecycle_events(
    rng: random.Random, cal: Calendar, outages: dict[str, tuple[int, int]]
) -> list[TraceEvent]:
    """Plain-text (non-JSON) container lines: boots, the deploy, the outage restarts."""
    burst_begin, burst_end = outages["internal_error_burst"]
    _, blip_end = outages["internal_error_blip"]
    lines = []
    for week_start in (cal.start_ms, cal.current_week_ms):
        boot = week_start + 6 * MS_HOUR + 2 * MS_MINUTE
        lines += [(boot + i * 1_700, text, "stdout") for i, text in enumerate(BOOT_LINES)]
    lines += [
        (blip_end + 2_100, "pg: connection reset by peer, reconnecting", "stderr"),
        (blip_end + 5_600, "pg: reconnected", "stdout"),
        (burst_begin - 4_000, "pg pool exhausted (size=20, waiting=143)", "stderr"),
        (burst_end + 4_200, "received SIGTERM, draining connections", "stdout"),
        (burst_end + 6_900, "shutdown complete", "stdout"),
        (burst_end + 12_300, "incidents-svc listening on :8080", "stdout"),
        (burst_end + 12_800, "connected to postgres (pool=40)", "stdout"),
        (burst_end + 14_000, "worker started", "stdout"),
    ]
    return [
        TraceEvent(ms * 1_000_000 + rng.randrange(1_000_000), None, text + "\n", stream)
        for ms, text, stream in lines
    ]


# --------------------------------------------------------------------------
# Rendering the three shapes
# --------------------------------------------------------------------------


def dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def shape_a(req: Request, timestamp: str | None = None) -> dict:
    """Flat camelCase (EU gateway). ``route`` is left out on ~20 % of lines."""
    record = {
        "timestamp": timestamp or iso_z(req.ts),
        "service": "api-gateway",
        "requestId": req.request_id,
        "orgId": req.org_id,
        "apiKeyId": req.api_key_id,
        "actorUserId": req.actor_user_id,
        "method": req.spec.method,
        "path": req.path,
        "route": req.spec.route,
        "statusCode": req.status,
        "durationMs": max(1, round(req.duration_ms)),
        "userAgent": req.user_agent,
        "clientIp": req.client_ip,
        "error": req.error,
    }
    if req.omit_route:
        del record["route"]
    return record


def shape_b(req: Request) -> dict:
    """Nested snake_case (US gateway); the error body travels as a JSON *string*."""
    level = "error" if req.status >= 500 else "warn" if req.status >= 400 else "info"
    time_field = {"ts": req.ts} if req.epoch_ts else {"@timestamp": iso_offset(req.ts)}
    return {
        **time_field,
        "level": level,
        "service": "api-gateway-us",
        "request": {
            "id": req.request_id,
            "method": req.spec.method,
            "path": req.path,
            "user_agent": req.user_agent,
            "client_ip": req.client_ip,
        },
        "response": {"status": req.status, "duration_ms": req.duration_ms},
        "org": {"id": req.org_id},
        "api_key_id": req.api_key_id,
        "response_body": None if req.error is None else dumps(req.error),
    }


def shape_c(event: TraceEvent) -> dict:
    """Docker json-file record wrapping one app log line (JSON or plain text)."""
    log = event.text if event.inner is None else dumps(event.inner) + "\n"
    return {"log": log, "stream": event.stream, "time": iso_nanos(event.ns)}


@dataclass
class Line:
    """One output line and what it is meant to be (checked against the bytes later)."""

    raw: bytes
    kind: str  # request | trace | other | blank | bad
    reason: str | None = None
    note: str = ""


def record_line(obj: dict, kind: str) -> Line:
    return Line(dumps(obj).encode("utf-8"), kind)


# --------------------------------------------------------------------------
# Deliberately bad lines
# --------------------------------------------------------------------------


def insert_at(lines: list[Line], fraction: float, line: Line) -> None:
    lines.insert(int(len(lines) * fraction), line)


def plant_gateway_bad_lines(lines: list[Line], t: Traffic, cal: Calendar) -> None:
    """Bad and blank lines in the live EU file; their request ids appear nowhere else."""
    cut = dumps(shape_a(t.ordinary(cal.current_week(1, "10:00:00"), "eu", None)))
    unparsable = shape_a(t.ordinary(cal.current_week(3, "12:00:00"), "eu", None), "yesterday")
    insert_at(
        lines,
        0.12,
        Line(
            cut[: len(cut) * 3 // 5].encode(), "bad", "invalid_json", "shape-A record cut mid-way"
        ),
    )
    insert_at(lines, 0.31, Line(b'["oops"]', "bad", "not_an_object", "JSON array"))
    insert_at(
        lines,
        0.47,
        Line(
            dumps({"requestId": t.ids.uuid4(), "msg": "no time"}).encode(),
            "bad",
            "no_timestamp",
            "object without any timestamp key",
        ),
    )
    insert_at(lines, 0.58, Line(b"", "blank"))
    insert_at(
        lines,
        0.66,
        Line(
            dumps(unparsable).encode(),
            "bad",
            "bad_timestamp",
            'shape-A record with "timestamp":"yesterday"',
        ),
    )
    insert_at(lines, 0.83, Line(b" \t  ", "blank", note="whitespace only"))


def plant_service_bad_lines(lines: list[Line], t: Traffic, cal: Calendar) -> None:
    req = t.ordinary(cal.current_week(2, "15:00:00"), "eu", None)
    cut = dumps(shape_c(trace_events(t.rng, req)[0]))
    ns = cal.current_week(4, "09:00:00") * 1_000_000 + 123_456
    latin1 = (
        b'{"log":"notify-worker: rendered template caf\xe9 cr\xe8me\\n","stream":"stderr",'
        b'"time":"' + iso_nanos(ns).encode() + b'"}'
    )
    insert_at(
        lines,
        0.22,
        Line(cut[: len(cut) // 2].encode(), "bad", "invalid_json", "Docker wrapper cut mid-way"),
    )
    insert_at(lines, 0.51, Line(b"", "blank"))
    insert_at(lines, 0.74, Line(latin1, "bad", "invalid_utf8", "Latin-1 bytes in the log text"))


# --------------------------------------------------------------------------
# Reading back: an independent classifier over the written bytes
# --------------------------------------------------------------------------


def classify(raw: bytes) -> tuple[str, str | None, str | None]:
    """(kind, bad reason, request id) of one line, judged from its bytes alone."""
    if not raw.strip():
        return "blank", None, None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "bad", "invalid_utf8", None
    try:
        obj = json.loads(text)
    except ValueError:
        return "bad", "invalid_json", None
    if not isinstance(obj, dict):
        return "bad", "not_an_object", None
    if "log" in obj and "stream" in obj:
        try:
            inner = json.loads(obj["log"])
        except ValueError:
            return "other", None, None
        rid = inner.get("request_id") or inner.get("req_id")
        return ("trace", None, rid) if rid else ("other", None, None)
    stamp = next((obj[k] for k in ("timestamp", "@timestamp", "ts") if k in obj), None)
    if stamp is None:
        return "bad", "no_timestamp", None
    if isinstance(stamp, str):
        try:
            datetime.fromisoformat(stamp)
        except ValueError:
            return "bad", "bad_timestamp", None
    return "request", None, obj.get("requestId") or obj["request"]["id"]


def read_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    assert data.endswith(b"\n"), f"{path.name} must end with a newline"
    return data[:-1].split(b"\n")


# --------------------------------------------------------------------------
# Writing and the manifest
# --------------------------------------------------------------------------


def write_file(path: Path, lines: list[Line]) -> None:
    data = b"".join(line.raw + b"\n" for line in lines)
    if path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=9, mtime=0)  # mtime=0: reproducible
    path.write_bytes(data)


COUNTED_AS = {"request": "requests", "trace": "trace_events", "other": "other_lines"}


def file_summary(path: Path, planned: list[Line], shape: str, counts: Counter) -> dict:
    """Counts for one file, from its bytes; asserts they match what was planned."""
    raws = read_lines(path)
    assert len(raws) == len(planned), path
    summary = {
        "shape": shape,
        "compressed": path.suffix == ".gz",
        "lines": len(raws),
        "blank_lines": [],
        "bad_lines": [],
        "requests": 0,
        "trace_events": 0,
        "other_lines": 0,
    }
    for number, (raw, plan) in enumerate(zip(raws, planned, strict=True), start=1):
        kind, reason, rid = classify(raw)
        assert (kind, reason) == (plan.kind, plan.reason), (path.name, number, kind, plan)
        if kind == "blank":
            summary["blank_lines"].append(number)
        elif kind == "bad":
            summary["bad_lines"].append({"line": number, "reason": reason, "what": plan.note})
        else:
            summary[COUNTED_AS[kind]] += 1
            if rid:
                counts[rid] += 1
    summary["content_sha256"] = hashlib.sha256(b"".join(r + b"\n" for r in raws)).hexdigest()
    return summary


def scenario_entry(scenario: Scenario, counts: Counter) -> dict:
    reqs = scenario.requests
    ids = [r.request_id for r in reqs]
    chosen = sorted({ids[0], ids[len(ids) // 2], ids[-1]}, key=ids.index)
    return {
        "name": scenario.name,
        "description": scenario.description,
        "org_id": scenario.org_ids[0] if len(scenario.org_ids) == 1 else None,
        "org_ids": scenario.org_ids,
        "api_key_id": scenario.api_key_id,
        "gateways": sorted({r.gateway for r in reqs}),
        "codes": sorted({r.code for r in reqs if r.code is not None}),
        "window": {"start": iso_z(reqs[0].ts), "end": iso_z(reqs[-1].ts)},
        "request_count": len(reqs),
        "failed_count": sum(1 for r in reqs if r.error is not None),
        "request_ids": ids,
        "expected_events": {rid: counts[rid] for rid in chosen},
    }


def locate(value: str, out_dir: Path, names: list[str]) -> tuple[str, int]:
    """The first file and 1-based line holding ``value`` (for JSON-escaped text too)."""
    needle = value.encode()
    for name in names:
        for number, raw in enumerate(read_lines(out_dir / name), start=1):
            if needle in raw:
                return name, number
    raise AssertionError(f"planted value {value!r} was not written")


def aggregate(requests: list[Request]) -> dict:
    routes = Counter(f"{r.spec.method} {r.spec.route}" for r in requests)
    failures = Counter(
        (r.error["type"], r.error["code"], r.status, r.error["statusCode"])
        for r in requests
        if r.error is not None
    )
    return {
        "requests_by_route": dict(sorted(routes.items())),
        "failures": [
            {"type": t, "code": c, "status": s, "body_status": b, "count": n}
            for (t, c, s, b), n in sorted(failures.items())
        ],
    }


# --------------------------------------------------------------------------
# The committed sample
# --------------------------------------------------------------------------


def generate_sample(
    out_dir: str | Path,
    seed: int = DEFAULT_SEED,
    start: str | date = DEFAULT_START,
    days: int = DEFAULT_DAYS,
    requests_per_day: int = DEFAULT_REQUESTS_PER_DAY,
) -> dict:
    """Write the four log files and manifest.json into ``out_dir``; return the manifest."""
    if days < 14:
        raise ValueError("--days must be at least 14 (scenarios need two weeks)")
    cal = Calendar(parse_start(start), days)
    rng = random.Random(seed)
    ids = Ids(rng)
    traffic = Traffic(rng, ids, build_world(rng, ids))
    secrets = {
        "bearer": ids.secret_api_key(),
        "path_email": "jane.doe@example.com",
        "message_email": "ops-lead@example.org",
    }

    scenarios = build_scenarios(traffic, cal, secrets["bearer"])
    inconsistencies = doc_inconsistencies(traffic, cal, secrets["message_email"])
    invite = plant_invite_email(traffic, cal, secrets["path_email"])
    specials = (
        [r for s in scenarios for r in s.requests] + [r for _, r in inconsistencies] + [invite]
    )
    outages = {
        s.name: (s.requests[0].ts, s.requests[-1].ts)
        for s in scenarios
        if s.name.startswith("internal_error")
    }
    slots = traffic_slots(rng, cal, requests_per_day, list(outages.values()))
    deck = failure_deck(rng, len(slots), specials)
    background = [
        traffic.ordinary(ts, region, outcome)
        for (ts, region), outcome in zip(slots, deck, strict=True)
    ]
    key_messages = plant_keys_in_messages(background, cal, ids)

    requests = sorted(background + specials, key=lambda r: r.ts)
    events = [e for r in requests if r.traced for e in trace_events(rng, r)]
    events += lifecycle_events(rng, cal, outages)
    events.sort(key=lambda e: e.ns)

    files = render_files(traffic, cal, requests, events)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, (_, lines) in files.items():
        write_file(out / name, lines)

    counts: Counter = Counter()
    manifest_files = {
        name: file_summary(out / name, lines, shape, counts)
        for name, (shape, lines) in files.items()
    }
    for name, (begin, end) in {
        FILE_EU_ROTATED: (cal.start_ms, cal.current_week_ms),
        FILE_EU: (cal.current_week_ms, cal.end_ms),
        FILE_US: (cal.start_ms, cal.end_ms),
        FILE_SERVICES: (cal.start_ms, cal.end_ms),
    }.items():
        manifest_files[name]["weeks"] = sorted({iso_week(ms) for ms in range(begin, end, MS_DAY)})
    names = list(files)
    planted = [
        ("api_key_in_error_message", r.error["message"].split()[-1], r.request_id)
        for r in key_messages
    ]
    planted += [
        (
            "bearer_token_in_trace",
            f"Bearer {secrets['bearer']}",
            scenarios[0].requests[0].request_id,
        ),
        ("email_in_path", secrets["path_email"], invite.request_id),
        (
            "email_in_error_message",
            secrets["message_email"],
            next(r.request_id for k, r in inconsistencies if k == "invalid_request_error_as_code"),
        ),
    ]
    manifest = {
        "generator": {
            "script": "sample_logs/generate.py",
            "seed": seed,
            "start": cal.start.isoformat(),
            "days": days,
            "requests_per_day": requests_per_day,
        },
        "files": manifest_files,
        "totals": totals(manifest_files, requests),
        **aggregate(requests),
        "orgs": len({r.org_id for r in requests if r.org_id}),
        "scenarios": [scenario_entry(s, counts) for s in scenarios],
        "doc_inconsistencies": [
            {
                "kind": kind,
                "request_id": r.request_id,
                "gateway": r.gateway,
                "timestamp": iso_z(r.ts),
                "status": r.status,
                "body": r.error,
            }
            for kind, r in inconsistencies
        ],
        "secrets": [
            dict(
                zip(
                    ("kind", "value", "request_id", "file", "line"),
                    (kind, value, rid, *locate(value, out, names)),
                    strict=True,
                )
            )
            for kind, value, rid in planted
        ],
    }
    (out / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return manifest


def render_files(
    t: Traffic, cal: Calendar, requests: list[Request], events: list[TraceEvent]
) -> dict[str, tuple[str, list[Line]]]:
    """Split by gateway and week, render each shape, plant the bad lines."""
    rotated = [
        record_line(shape_a(r), "request")
        for r in requests
        if r.gateway == "eu" and r.ts < cal.current_week_ms
    ]
    current = [
        record_line(shape_a(r), "request")
        for r in requests
        if r.gateway == "eu" and r.ts >= cal.current_week_ms
    ]
    us = [record_line(shape_b(r), "request") for r in requests if r.gateway == "us"]
    services = [record_line(shape_c(e), "other" if e.inner is None else "trace") for e in events]
    plant_gateway_bad_lines(current, t, cal)
    plant_service_bad_lines(services, t, cal)
    return {
        FILE_EU_ROTATED: ("A", rotated),
        FILE_EU: ("A", current),
        FILE_US: ("B", us),
        FILE_SERVICES: ("C", services),
    }


def totals(files: dict, requests: list[Request]) -> dict:
    failed = sum(1 for r in requests if r.error is not None)
    summed = {
        key: sum(f[key] for f in files.values())
        for key in ("lines", "requests", "trace_events", "other_lines")
    }
    assert summed["requests"] == len(requests)
    return {
        **summed,
        "blank_lines": sum(len(f["blank_lines"]) for f in files.values()),
        "bad_lines": sum(len(f["bad_lines"]) for f in files.values()),
        "failed_requests": failed,
        "failure_rate": round(failed / len(requests), 4),
        "requests_by_gateway": dict(sorted(Counter(r.gateway for r in requests).items())),
    }


# --------------------------------------------------------------------------
# Benchmark data: many plain shape-A lines, fast
# --------------------------------------------------------------------------

BENCH_POOL = 1 << 14  # distinct line templates; lines differ by time and request id
BENCH_BATCH = 50_000
BENCH_FAILURE_SHARE = 0.05
_UUID_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def bench_templates(t: Traffic, cal: Calendar) -> list[tuple[str, int]]:
    """Pre-rendered shape-A lines as %-formats taking (timestamp, requestId[, requestId])."""
    n_failed = round(BENCH_POOL * BENCH_FAILURE_SHARE)
    regular = [spec for spec in FAILURE_MIX if spec.type != "internal_error"]
    outcomes = t.rng.choices(regular, [s.share for s in regular], k=n_failed)
    outcomes += [None] * (BENCH_POOL - n_failed)
    t.rng.shuffle(outcomes)
    templates = []
    for failure in outcomes:
        req = t.ordinary(cal.start_ms + 10 * MS_HOUR, "eu", failure)
        line = dumps(shape_a(req, "@@TS@@")).replace("%", "%%")
        n_ids = line.count(req.request_id)
        templates.append((line.replace("@@TS@@", "%s").replace(req.request_id, "%s"), n_ids))
    return templates


def write_bench(
    path: str | Path, n_lines: int, seed: int = DEFAULT_SEED, days: int | None = None
) -> None:
    """Write ``n_lines`` shape-A lines (~5 % failures, nothing bad) to ``path`` (.gz ok).

    By default the lines are 0-31 ms apart from 06:00 on the first day (5M lines fill ~21
    hours). With ``days``, they are spread evenly over that many days from the first day's
    midnight, like a real store a weekly report reads, and every line of the last such
    day's 10:00-10:20 fails: a burst for incident detection to find.
    """
    rng = random.Random(seed)
    ids = Ids(rng)
    cal = Calendar(parse_start(DEFAULT_START), DEFAULT_DAYS)
    traffic = Traffic(rng, ids, build_world(rng, ids))
    templates = bench_templates(traffic, cal)
    mask = len(templates) - 1
    failing = [t for t in templates if '"error":null' not in t[0]]
    # 0-31 ms apart by default; with days, a multiple of that averaging the even spread
    scale = 1 if days is None else days * MS_DAY / n_lines / 16  # ends a little early
    burst_start = cal.start_ms + ((days or 1) - 1) * MS_DAY + 10 * MS_HOUR
    burst = (burst_start, burst_start + 20 * MS_MINUTE) if days else (-1, -1)
    path = Path(path)
    with path.open("wb") as raw:
        out = (
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0)
            if path.suffix == ".gz"
            else raw
        )
        at = float(cal.start_ms + (6 * MS_HOUR if days is None else 0))
        second, prefix = -1, ""
        written = 0
        while written < n_lines:
            batch = min(BENCH_BATCH, n_lines - written)
            hexes = rng.randbytes(16 * batch).hex()
            noise = rng.randbytes(3 * batch)
            lines = []
            for i in range(batch):
                at += (noise[3 * i + 2] >> 3) * scale
                ms = int(at)
                if ms // MS_SECOND != second:
                    second = ms // MS_SECOND
                    prefix = iso_seconds(ms) + "."
                h = hexes[32 * i : 32 * i + 32]
                rid = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_UUID_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"
                pick = noise[3 * i] << 8 | noise[3 * i + 1]
                if burst[0] <= ms < burst[1]:
                    fmt, n_ids = failing[pick % len(failing)]
                else:
                    fmt, n_ids = templates[pick & mask]
                ts = f"{prefix}{ms % MS_SECOND:03d}Z"
                lines.append(fmt % ((ts, rid) if n_ids == 1 else (ts, rid, rid)))
            out.write(("\n".join(lines) + "\n").encode("utf-8"))
            written += batch
        if out is not raw:
            out.close()


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write deterministic sample logs of the Scaling API (or benchmark data)."
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="output directory (default: this script's directory); "
        "with --bench, the output FILE (.gz to compress)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--start", default=DEFAULT_START, help="first day, a Monday (UTC)")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS)
    parser.add_argument("--requests-per-day", type=int, default=DEFAULT_REQUESTS_PER_DAY)
    parser.add_argument(
        "--bench", type=int, metavar="N", help="write N plain shape-A lines to --out FILE instead"
    )
    args = parser.parse_args(argv)

    if args.bench is not None:
        if args.out is None:
            parser.error("--bench needs --out FILE")
        write_bench(args.out, args.bench, seed=args.seed)
        print(f"wrote {args.bench} lines to {args.out}", file=sys.stderr)
        return 0
    out = args.out or Path(__file__).resolve().parent
    try:
        manifest = generate_sample(
            out,
            seed=args.seed,
            start=args.start,
            days=args.days,
            requests_per_day=args.requests_per_day,
        )
    except ValueError as exc:
        parser.error(str(exc))
    for name, info in manifest["files"].items():
        print(f"{name}: {info['lines']} lines", file=sys.stderr)
    t = manifest["totals"]
    print(
        f"{t['requests']} requests ({t['failure_rate']:.1%} failed), {t['trace_events']} "
        f"trace events, {t['bad_lines']} bad lines -> {out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
