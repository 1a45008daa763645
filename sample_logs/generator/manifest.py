"""The manifest: ground truth about the files just written, for the tests to assert against.

It is computed by re-reading the written bytes with a classifier of its own, not from what
the generator meant to write, and the two are asserted to agree line by line.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from .clock import MS_DAY, Calendar, iso_week, iso_z
from .files import file_periods, read_lines
from .scenarios import Scenario
from .shapes import Hit, Line
from .traffic import Request

MANIFEST = "manifest.json"


def is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def looks_like_record(text: str) -> bool:
    """Text in a container wrapper that is meant as a record (triage's rule, restated)."""
    return text.lstrip().startswith("{") or re.match(r"\s*\[\s*[\[{\"]", text) is not None


# A combined-format line, as much of it as the manifest needs: the status after the request.
COMBINED = re.compile(rb'^\S+ \S+ \S+ \[[^\]]+\] "(?:[^"\\]|\\.)*" ([0-9]{3}) (?:[0-9]+|-) "')


class Classified(NamedTuple):
    kind: str  # request | trace | other | blank | bad
    reason: str | None = None
    request_id: str | None = None
    failed: bool = False  # a request with an error status or an error body (triage's rule)


def classify(raw: bytes) -> Classified:
    """What one line is, judged from its bytes alone. Invalid UTF-8 bytes are replaced
    first, as triage repairs them."""
    if not raw.strip():
        return Classified("blank")
    if not raw.lstrip().startswith((b"{", b"[")):
        text = COMBINED.match(raw)
        if text is None:
            return Classified("bad", "unrecognised_text")
        return Classified("request", failed=int(text[1]) >= 400)
    text = raw.decode("utf-8", errors="replace")
    try:
        obj = json.loads(text)
    except ValueError:
        return Classified("bad", "invalid_json")
    if not isinstance(obj, dict):
        return Classified("bad", "not_an_object")
    if "log" in obj and "stream" in obj:
        try:
            inner = json.loads(obj["log"])
        except ValueError:
            if looks_like_record(obj["log"]):
                return Classified("bad", "invalid_json")
            return Classified("other")
        rid = inner.get("request_id") or inner.get("req_id")
        return Classified("trace", request_id=rid) if rid else Classified("other")
    if "start_time" in obj:  # Envoy
        return Classified("request", None, obj["request_id"], obj["response_code"] >= 400)
    stamp = next((obj[k] for k in ("timestamp", "@timestamp", "ts") if k in obj), None)
    if stamp is None:
        return Classified("bad", "no_timestamp")
    if isinstance(stamp, str):
        try:
            datetime.fromisoformat(stamp)
        except ValueError:
            return Classified("bad", "bad_timestamp")
    if "request" in obj:  # shape B
        status, body, rid = obj["response"]["status"], obj["response_body"], obj["request"]["id"]
    else:
        status, body, rid = obj["statusCode"], obj["error"], obj["requestId"]
    return Classified("request", None, rid, status >= 400 or body is not None)


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
        "repaired_lines": [],
        "requests": 0,
        "trace_events": 0,
        "other_lines": 0,
        "failed_requests": 0,
    }
    for number, (raw, plan) in enumerate(zip(raws, planned, strict=True), start=1):
        kind, reason, rid, failed = classify(raw)
        assert (kind, reason) == (plan.kind, plan.reason), (path.name, number, kind, plan)
        summary["failed_requests"] += failed
        if not is_utf8(raw) and kind != "bad":
            summary["repaired_lines"].append(number)
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


def aggregate(requests: list[Request], hits: list[Hit]) -> dict:
    """Routes of every request that has one, and the API's failures by error body."""
    routes = Counter(f"{r.spec.method} {r.spec.route}" for r in requests)
    routes.update(f"{h.method} {h.route}" for h in hits if h.method is not None)
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


def totals(files: dict, requests: list[Request], hits: list[Hit]) -> dict:
    summed = {
        key: sum(f[key] for f in files.values())
        for key in ("lines", "requests", "trace_events", "other_lines", "failed_requests")
    }
    # the bytes agree with what was generated: every failure of the API has an error body
    assert summed["requests"] == len(requests) + len(hits)
    assert summed["failed_requests"] == sum(1 for r in requests if r.error is not None) + sum(
        1 for h in hits if h.status >= 400
    )
    return {
        **summed,
        "blank_lines": sum(len(f["blank_lines"]) for f in files.values()),
        "bad_lines": sum(len(f["bad_lines"]) for f in files.values()),
        "repaired_lines": sum(len(f["repaired_lines"]) for f in files.values()),
        "failure_rate": round(summed["failed_requests"] / summed["requests"], 4),
        "requests_by_gateway": dict(sorted(Counter(r.gateway for r in requests).items())),
        # request lines with no method or path to read (junk a scanner sent the edge)
        "requests_without_method": sum(1 for h in hits if h.method is None),
    }


def build_manifest(
    out: Path,
    files: dict[str, tuple[str, list[Line]]],
    cal: Calendar,
    run: dict,
    requests: list[Request],
    hits: list[Hit],
    scenarios: list[Scenario],
    inconsistencies: list[tuple[str, Request]],
    planted: list[tuple[str, str, str]],
) -> dict:
    """The manifest of ``files`` as written to ``out``, counted from their bytes.

    ``run`` holds the generator's parameters; ``requests`` are the API's, ``hits`` those of
    the servers beside it. ``planted`` lists each planted secret as
    (kind, value, request id); the manifest adds the file and line it was written to.
    """
    counts: Counter = Counter()
    manifest_files = {
        name: file_summary(out / name, lines, shape, counts)
        for name, (shape, lines) in files.items()
    }
    for name, (begin, end) in file_periods(cal).items():
        manifest_files[name]["weeks"] = sorted({iso_week(ms) for ms in range(begin, end, MS_DAY)})

    names = list(files)
    return {
        "generator": run,
        "files": manifest_files,
        "totals": totals(manifest_files, requests, hits),
        **aggregate(requests, hits),
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


def write_manifest(out: Path, manifest: dict) -> None:
    (out / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
