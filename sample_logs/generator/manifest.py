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

from .clock import MS_DAY, Calendar, iso_week, iso_z
from .files import file_periods, read_lines
from .scenarios import Scenario
from .shapes import Line
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


def classify(raw: bytes) -> tuple[str, str | None, str | None]:
    """(kind, bad reason, request id) of one line, judged from its bytes alone. Invalid UTF-8
    bytes are replaced first, as triage repairs them."""
    if not raw.strip():
        return "blank", None, None
    text = raw.decode("utf-8", errors="replace")
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
            if looks_like_record(obj["log"]):
                return "bad", "invalid_json", None
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
    }
    for number, (raw, plan) in enumerate(zip(raws, planned, strict=True), start=1):
        kind, reason, rid = classify(raw)
        assert (kind, reason) == (plan.kind, plan.reason), (path.name, number, kind, plan)
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
        "repaired_lines": sum(len(f["repaired_lines"]) for f in files.values()),
        "failed_requests": failed,
        "failure_rate": round(failed / len(requests), 4),
        "requests_by_gateway": dict(sorted(Counter(r.gateway for r in requests).items())),
    }


def build_manifest(
    out: Path,
    files: dict[str, tuple[str, list[Line]]],
    cal: Calendar,
    run: dict,
    requests: list[Request],
    scenarios: list[Scenario],
    inconsistencies: list[tuple[str, Request]],
    planted: list[tuple[str, str, str]],
) -> dict:
    """The manifest of ``files`` as written to ``out``, counted from their bytes.

    ``run`` holds the generator's parameters. ``planted`` lists each planted secret as
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


def write_manifest(out: Path, manifest: dict) -> None:
    (out / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
