"""`triage serve` under a support desk's load, on the bundled sample logs, in one run.

    python bench/bench_serve.py [--clients 20] [--seconds 30] [--lookups 30]

1. A lookup page against the same lookup in-process: for each of --lookups failed request
   ids, `lookup_ids` + the page's rendering in this process (opening the store each time, as
   the server does when no other request holds it) against GET /requests/<id> from a running
   `triage serve` (one request at a time). Medians, and the difference.
2. --clients clients, each on its own keep-alive connection, fetching for --seconds without
   pause a mix of what the desk opens (home, lookups of pasted tickets, single requests,
   errors with filters, weekly reports, JSON): requests answered, errors (anything but 200),
   and latency percentiles.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def triage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True, check=True)


def start_server(db: Path) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "triage", "--db", str(db), "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stderr.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not m:
        proc.kill()
        raise SystemExit(f"triage serve did not start: {line}")
    return proc, int(m.group(1))


def get(con: http.client.HTTPConnection, path: str) -> int:
    con.request("GET", path)
    response = con.getresponse()
    response.read()
    return response.status


def fetch(port: int, path: str) -> bytes:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    con.request("GET", path)
    body = con.getresponse().read()
    con.close()
    return body


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def lookup_overhead(db: Path, port: int, ids: list[str]) -> dict:
    from triage.lookup import lookup_ids
    from triage.render import render
    from triage.store import open_store

    def in_process(rid: str) -> float:
        started = time.perf_counter()
        with open_store(db, read_only=True) as store:
            results = lookup_ids(store, [rid])
        render(
            "serve_lookup.html.j2",
            served=True,
            tz="UTC",
            q=rid,
            dropped=0,
            results=[r.as_dict() for r in results],
            summary="",
            reply="",
        )
        return time.perf_counter() - started

    con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    local, served = [], []
    for rid in ids:  # each page asked once: never an answer kept from before
        local.append(in_process(rid))
        started = time.perf_counter()
        assert get(con, f"/requests/{rid}") == 200
        served.append(time.perf_counter() - started)
    con.close()
    return {
        "in_process_ms": statistics.median(local) * 1000,
        "page_ms": statistics.median(served) * 1000,
    }


def load(port: int, paths: list[str], clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(k: int) -> None:
        rng = random.Random(k)
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, bad = [], []
        while time.monotonic() < deadline:
            path = rng.choice(paths)
            started = time.perf_counter()
            try:
                status = get(con, path)
            except (OSError, http.client.HTTPException) as exc:
                bad.append(f"{path}: {exc}")
                con.close()
                con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            mine.append(time.perf_counter() - started)
            if status != 200:
                bad.append(f"{path}: {status}")
        con.close()
        with lock:
            latencies.extend(mine)
            failures.extend(bad)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "requests": len(latencies),
        "per_second": len(latencies) / seconds,
        "errors": len(failures),
        "error_examples": failures[:5],
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--lookups", type=int, default=30)
    args = parser.parse_args()

    db = Path(tempfile.mkdtemp(prefix="bench-serve-")) / "sample.duckdb"
    triage("--db", str(db), "ingest", str(ROOT / "sample_logs"))
    rows = json.loads(
        triage(
            "--db", str(db), "errors", "--format", "json", "--by", "route,code,org",
            "--examples", "20", "--limit", "1000",
        ).stdout
    )  # fmt: skip
    every = list(dict.fromkeys(x for r in rows for x in r["examples"] if isinstance(x, str)))
    random.Random(1).shuffle(every)
    ids, rest = every[: args.lookups], every[args.lookups :]
    proc, port = start_server(db)
    try:
        lookup = lookup_overhead(db, port, ids)
        # what a desk opens: mostly lookups, each of a different request (a third of them
        # tickets naming two), and the shared pages now and then
        tickets = [
            f"Hi, request {a} and then ({b}) failed" for a, b in zip(rest, rest[1:], strict=False)
        ]
        lookups = (
            [f"/requests/{i}" for i in rest[0::3]]
            + ["/lookup?q=" + t.replace(" ", "+") for t in tickets[1::3]]
            + [f"/api/lookup/{i}" for i in rest[2::3]]
        )
        shared = [
            "/",
            "/errors",
            "/errors?by=route,code&status=5xx",
            "/errors?by=org&since=2026-11-09",
        ]
        shared += ["/reports/weekly/2026-W46", "/reports/weekly/2026-W45", "/api/errors?by=code"]
        shared += ["/contract", "/sources", "/incidents"]
        paths = lookups * 1 + shared
        loaded = load(port, paths, args.clients, args.seconds)
        health = json.loads(fetch(port, "/healthz"))
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    print(f"sample store: {db}  ({len(ids)} ids, {len(paths)} distinct pages)")
    print(
        f"lookup page: {lookup['page_ms']:.1f} ms served against {lookup['in_process_ms']:.1f} ms "
        f"in-process (median): +{lookup['page_ms'] - lookup['in_process_ms']:.1f} ms"
    )
    print(
        f"{args.clients} clients for {args.seconds:g} s: {loaded['requests']} requests "
        f"({loaded['per_second']:.0f}/s), {loaded['errors']} errors, "
        f"p50 {loaded['p50_ms']:.0f} ms, p95 {loaded['p95_ms']:.0f} ms, "
        f"p99 {loaded['p99_ms']:.0f} ms"
    )
    kept = health["answers_kept"]
    print(
        f"  {len(lookups)} distinct lookups and {len(shared)} shared pages; answers kept "
        f"until the store changes: {kept['hits']} served again, {kept['misses']} computed"
    )
    for example in loaded["error_examples"]:
        print(f"  error: {example}")


if __name__ == "__main__":
    main()
