"""Golden files for the summary, reply and incident Markdown, on the sample logs.

A template change shows up as a reviewable diff of tests/golden/. To accept one, rewrite the
files with:  TRIAGE_UPDATE_GOLDEN=1 python -m pytest tests/test_summaries.py
That run fails for every file it rewrites (it is never green by accident): review the diff,
then run again without the variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_LOGS, run_triage

GOLDEN = Path(__file__).parent / "golden"
PINNED_NOW = {"TRIAGE_NOW": "2026-11-16T09:00:00Z"}


def scenario_id(manifest, name, index=0):
    return next(s for s in manifest["scenarios"] if s["name"] == name)["request_ids"][index]


def check_golden(name: str, text: str, golden_dir: Path = GOLDEN) -> None:
    """text must equal the golden file. With TRIAGE_UPDATE_GOLDEN=1 a differing (or missing)
    file is rewritten and the test still fails, so a run that rewrites goldens is never green:
    review the diff, then run again without the variable."""
    path = golden_dir / name
    old = path.read_text() if path.exists() else None
    if text == old:
        return
    if os.environ.get("TRIAGE_UPDATE_GOLDEN"):
        path.write_text(text)
        pytest.fail(f"golden file rewritten: review the diff of {path} (git diff), then rerun")
    assert old is not None, f"no golden file {path}; run with TRIAGE_UPDATE_GOLDEN=1"
    assert text == old, f"{name} changed; see the diff, then update the golden file"


def cases(manifest):
    transition = scenario_id(manifest, "ci_skips_states")
    burst = scenario_id(manifest, "internal_error_burst", 5)
    timezone_fixed = scenario_id(manifest, "timezone_typo", -1)
    return {
        "summary.md": ["summary", transition, burst, "--tz", "America/New_York"],
        "reply-failed.txt": ["reply", transition, "--tz", "Europe/Berlin"],
        "reply-burst.md": ["reply", burst, "--format", "md"],
        "reply-succeeded.txt": ["reply", timezone_fixed],
        "incident-auto.md": [
            "incident",
            "--auto",
            "--since",
            "2026-11-12T12:00Z",
            "--until",
            "2026-11-12T18:00Z",
        ],
        "incident-window.md": [
            "incident",
            "--since",
            "2026-11-10T09:00Z",
            "--until",
            "2026-11-10T10:00Z",
            "--tz",
            "America/New_York",
        ],
    }


@pytest.mark.parametrize(
    "name",
    [
        "summary.md",
        "reply-failed.txt",
        "reply-burst.md",
        "reply-succeeded.txt",
        "incident-auto.md",
        "incident-window.md",
    ],
)
def test_markdown_matches_its_golden_file(sample_ingest, manifest, name):
    args = cases(manifest)[name]
    result = run_triage("--db", sample_ingest[0], *args, env=PINNED_NOW)
    assert result.returncode == 0, result.stderr
    # sources are named by where the checkout is: golden files name them from its root
    check_golden(name, result.stdout.decode().replace(f"{SAMPLE_LOGS.parent}/", ""))


def test_incident_auto_finds_the_500_burst_and_counts_it(sample_ingest, manifest):
    burst = next(s for s in manifest["scenarios"] if s["name"] == "internal_error_burst")
    result = run_triage(
        "--db",
        sample_ingest[0],
        "incident",
        "--auto",
        "--format",
        "json",
        "--since",
        "2026-11-12T12:00Z",
        "--until",
        "2026-11-12T18:00Z",
    )
    import json

    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    start, end = burst["window"]["start"], burst["window"]["end"]
    assert found["start"] <= end and found["end"] >= start
    assert found["impact"]["server_errors"] >= 0.8 * burst["failed_count"]


def test_html_versions_are_escaped_pages(sample_ingest, manifest):
    rid = scenario_id(manifest, "ci_skips_states")
    for args in (["summary", rid], ["reply", rid], ["incident", "--auto"]):
        result = run_triage("--db", sample_ingest[0], *args, "--format", "html")
        assert result.returncode == 0, result.stderr
        html = result.stdout.decode()
        assert html.startswith("<!doctype html>") and "Content-Security-Policy" in html
        assert "<script" not in html


def test_summaries_never_show_planted_secrets(sample_ingest, manifest):
    ids = sorted({s["request_id"] for s in manifest["secrets"] if s.get("request_id")})
    assert len(ids) == len(manifest["secrets"])
    summary = run_triage("--db", sample_ingest[0], "summary", *ids)
    assert summary.returncode == 0, summary.stderr
    text = summary.stdout.decode()
    # every id has its summary, so the absence below is masking, not missing output
    headers = [line for line in text.splitlines() if line.startswith("### Support summary")]
    assert headers == [f"### Support summary: request `{i}`" for i in ids], headers
    # the lines that held a key or an e-mail address are shown, masked
    assert "The API said: `Invalid API key scl_live_[REDACTED]`" in text
    assert "[REDACTED-EMAIL]" in text
    outputs = [text]
    for i in ids:
        reply = run_triage("--db", sample_ingest[0], "reply", i)
        assert reply.returncode == 0, reply.stderr
        assert f"({i})" in reply.stdout.decode()  # the draft quotes the request id back
        outputs.append(reply.stdout.decode())
    for out in outputs:
        for secret in manifest["secrets"]:
            assert secret["value"] not in out, secret["kind"]
            assert secret["value"].split()[-1] not in out, secret["kind"]  # "Bearer <key>"


@pytest.mark.parametrize("update", ["", "1"], ids=["check", "update"])
def test_check_golden_never_passes_on_a_changed_file(tmp_path, monkeypatch, update):
    """The golden helper itself: a match passes in either mode; a difference fails in either
    mode, and in update mode the file is rewritten first (then matches on the next run)."""
    monkeypatch.setenv("TRIAGE_UPDATE_GOLDEN", update)
    (tmp_path / "g.md").write_text("old\n")
    check_golden("g.md", "old\n", tmp_path)
    with pytest.raises((AssertionError, pytest.fail.Exception)) as failed:
        check_golden("g.md", "new\n", tmp_path)
    if update:
        assert "golden file rewritten" in str(failed.value)
        assert (tmp_path / "g.md").read_text() == "new\n"
        check_golden("g.md", "new\n", tmp_path)  # accepted: the next run is green
    else:
        assert (tmp_path / "g.md").read_text() == "old\n"
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        check_golden("missing.md", "x\n", tmp_path)
    assert (tmp_path / "missing.md").exists() == bool(update)
