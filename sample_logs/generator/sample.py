"""The committed sample: the world, its traffic and scenarios, rendered into the API's four log
files, the logs of two servers beside it, and a manifest of what they all hold."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from .background import failure_deck, ordinary_request, traffic_slots
from .clock import Calendar, parse_start
from .defaults import DEFAULT_DAYS, DEFAULT_REQUESTS_PER_DAY, DEFAULT_SEED, DEFAULT_START
from .edge import edge_log
from .files import FILE_EDGE, FILE_MESH, render_files, write_file
from .ids import Ids
from .manifest import build_manifest, write_manifest
from .mesh import mesh_log
from .planted import doc_inconsistencies, plant_invite_email, plant_keys_in_messages
from .scenarios import build_scenarios
from .traces import lifecycle_events, trace_events
from .traffic import Traffic
from .world import build_world

SCRIPT = "sample_logs/generate.py"  # the entry point, as the manifest names it


def generate_sample(
    out_dir: str | Path,
    seed: int = DEFAULT_SEED,
    start: str | date = DEFAULT_START,
    days: int = DEFAULT_DAYS,
    requests_per_day: int = DEFAULT_REQUESTS_PER_DAY,
) -> dict:
    """Write the six log files and manifest.json into ``out_dir``; return the manifest."""
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
        ordinary_request(traffic, ts, region, outcome)
        for (ts, region), outcome in zip(slots, deck, strict=True)
    ]
    key_messages = plant_keys_in_messages(background, cal, ids)

    requests = sorted(background + specials, key=lambda r: r.ts)
    events = [e for r in requests if r.traced for e in trace_events(rng, r)]
    events += lifecycle_events(rng, cal, outages)
    events.sort(key=lambda e: e.ns)

    files = render_files(traffic, cal, requests, events)
    # drawn after the API's files, so adding these left those byte for byte as they were
    edge_lines, edge_hits = edge_log(rng, ids, cal)
    mesh_lines, mesh_hits = mesh_log(rng, ids, cal, list(outages.values()))
    files[FILE_EDGE] = ("E", edge_lines)
    files[FILE_MESH] = ("D", mesh_lines)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, (_, lines) in files.items():
        write_file(out / name, lines)

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

    run = {
        "script": SCRIPT,
        "seed": seed,
        "start": cal.start.isoformat(),
        "days": days,
        "requests_per_day": requests_per_day,
    }
    manifest = build_manifest(
        out,
        files,
        cal,
        run,
        requests,
        edge_hits + mesh_hits,
        scenarios,
        inconsistencies,
        planted,
    )
    write_manifest(out, manifest)
    return manifest
