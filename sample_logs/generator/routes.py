"""The API's endpoints (§3 endpoint map, shares of traffic from §6.2) and the ids in their paths."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
