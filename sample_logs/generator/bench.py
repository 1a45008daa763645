"""Benchmark data: many plain shape-A lines, fast (for bench/ and the big-input tests)."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

from .background import ordinary_request
from .clock import MS_DAY, MS_HOUR, MS_MINUTE, MS_SECOND, Calendar, iso_seconds, parse_start
from .defaults import DEFAULT_DAYS, DEFAULT_SEED, DEFAULT_START
from .failures import FAILURE_MIX
from .ids import Ids
from .shapes import dumps, shape_a
from .traffic import Traffic
from .world import build_world

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
        req = ordinary_request(t, cal.start_ms + 10 * MS_HOUR, "eu", failure)
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
    # 0-31 ms apart by default (15.5 on average); with days, a multiple of that that ends
    # the spread near 22:00 on the last day: after its burst, before the next day
    span = None if days is None else (days - 1) * MS_DAY + 22 * MS_HOUR
    scale = 1 if span is None else span / n_lines / 15.5
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
