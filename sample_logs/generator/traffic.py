"""Requests and the one factory every request goes through, background or scenario alike.

The factory picks who calls what, fills the ids of a path, and decides what the gateway logs:
status, error body, latency, and whether the backend leaves trace events for it.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from .clock import EPOCH
from .failures import ANY_ROUTE, ID_ROUTE, VALIDATION_MESSAGES, FailureSpec
from .ids import Ids
from .routes import (
    LIST_INCIDENTS,
    PLACEHOLDER_RE,
    RESOURCES,
    ROUTE_BY_KEY,
    TRAFFIC_ROUTES,
    TRAFFIC_WEIGHTS,
    RouteSpec,
)
from .world import CLIENT_AFFINITY, REGION_SHARE, UA_CURL, UA_PYTHON, UA_TERRAFORM, Client, Org

TRACE_SHARE = 0.10  # ordinary requests that also leave backend trace events
ROUTE_KEY_OMITTED = 0.20  # shape-A lines without "route" (ingester derives it)
EPOCH_TS_SHARE = 0.15  # shape-B lines with numeric "ts" instead of "@timestamp"
MESSAGE_SHARE = 0.30  # error bodies carrying the optional "message" (§2, TF client)
LIST_QUERY_SHARE = 0.40  # GET /v1/incidents calls carrying a query string

STATUS_FLOW = ("investigating", "identified", "monitoring", "resolved")  # §3 lifecycle


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
