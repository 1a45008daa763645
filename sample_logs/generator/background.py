"""Background traffic: diurnal slots, a failure deck aimed at the §6.3 mix, and the ordinary
request each slot becomes."""

from __future__ import annotations

import random
from datetime import timedelta

from .clock import MS_DAY, MS_HOUR, Calendar
from .failures import ANY_ROUTE, FAILURE_MIX, SELF_TARGETED_CODES, FailureSpec
from .routes import RouteSpec
from .traffic import Request, Traffic
from .world import REGION_SHARE, Client, Org

FAILURE_RATE = 0.04  # target before scenario excess; §6.2 wants 3-6 % in all
BACKGROUND_FLOOR = 0.25  # see failure_deck

# Weekday requests per UTC hour. EU offices (CET = UTC+1 in November) are busy
# 07-17 UTC; US offices (EST/PST) 14-02 UTC. Weekends use a flattened profile.
HOURLY_WEIGHTS = {
    "eu": (1, 1, 1, 1, 2, 3, 6, 10, 12, 12, 11, 11, 10, 11, 11, 10, 9, 7, 5, 4, 3, 2, 2, 1),
    "us": (6, 5, 4, 3, 2, 1, 1, 1, 1, 1, 2, 2, 3, 5, 9, 11, 12, 12, 11, 11, 10, 9, 8, 7),
}
WEEKEND_FACTOR = 0.35  # a weekend day sees about a third of a weekday's traffic


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


def ordinary_request(t: Traffic, ts: int, region: str, failure: FailureSpec | None) -> Request:
    """A background request: route by §6.2, or routed where ``failure`` happens."""
    org = t.pick_org(region)
    spec = t.pick_route(failure.routes if failure else ANY_ROUTE)
    client = (
        failure_client(t, org, spec, failure, ts)
        if failure
        else t.pick_client(org, spec.audience, ts)
    )
    params = None
    if failure is not None and failure.code in SELF_TARGETED_CODES:
        params = {"member": client.user_id}
    return t.request(
        ts, org, client, spec, failure=failure, params=params, query=t.list_query(spec, ts)
    )


def failure_client(t: Traffic, org: Org, spec: RouteSpec, failure: FailureSpec, ts: int) -> Client:
    """Who makes a call that fails with ``failure``: auth failures come from stale keys or
    unknown callers, self-targeted ones from an admin's dashboard, the others from whoever
    usually calls the route."""
    if failure.code == "missing_authorization_header":
        return t.anonymous_client()
    if failure.code == "invalid_api_key":
        return org.stale_key if t.rng.random() < 0.6 else t.anonymous_client()
    if failure.code in SELF_TARGETED_CODES:  # §6.4: from the dashboard
        return t.rng.choice(org.sessions(admins_only=True))
    return t.pick_client(org, spec.audience, ts)
