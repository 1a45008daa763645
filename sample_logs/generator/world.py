"""The world the traffic comes from: orgs in two regions, their people, API keys and resources.

Clients are what sends requests: an org's API keys (Terraform or CI scripts) and its
dashboard users, each with a realistic user agent (§6.1).
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass

from .ids import Ids

REGION_SHARE = {"eu": 0.6, "us": 0.4}  # the US gateway carries ~40 % of requests
ORGS_PER_REGION = {"eu": 24, "us": 16}
ZIPF_EXPONENT = 1.1  # a few orgs make most of the traffic

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

FOREVER = 1 << 62  # active_until of a client nobody retires


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
