"""The support scenarios of §6.4: planted incidents a support engineer should find.

Each claims its own org and plays a short story at fixed instants of the current week (a
rotated key still in CI, a destroy in the wrong order, an outage with retries, …); the
manifest lists their requests so the tests know what triage must find.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .clock import MS_MINUTE, Calendar
from .failures import FAILURE_BY_CODE, INVALID_API_KEY
from .outages import outage_requests
from .routes import ROUTE_BY_KEY
from .traffic import Request, Traffic
from .world import UA_CURL, UA_PYTHON


@dataclass
class Scenario:
    """One planted story: its requests, and the API key it is about if there is one."""

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


def build_scenarios(t: Traffic, cal: Calendar, bearer_secret: str) -> list[Scenario]:
    return [
        key_rotation_fallout(t, cal, bearer_secret),
        ci_skips_states(t, cal),
        destroy_ordering(t, cal),
        timezone_typo(t, cal),
        offboarded_engineer(t, cal),
        admin_self_service(t, cal),
        outage(
            t,
            "internal_error_burst",
            cal.current_week(3, "14:31:10.000"),
            150,
            16,
            "Two and a half minutes of 500s across routes and orgs on a weekday "
            "afternoon, with client retries.",
        ),
        outage(
            t,
            "internal_error_blip",
            cal.previous_week(2, "16:05:20.000"),
            40,
            5,
            "A 40-second 500 blip in the previous week (partly in the rotated .gz).",
        ),
    ]


def outage(
    t: Traffic, name: str, begin: int, seconds: int, arrivals: int, description: str
) -> Scenario:
    """§6.4-7: 500s on every route for ``seconds``; see outage_requests."""
    return Scenario(name, description, outage_requests(t, name, begin, seconds, arrivals))
