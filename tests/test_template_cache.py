"""Compiled templates are cached in the user's cache directory; a cache that is missing,
unwritable or damaged changes nothing but the time."""

from __future__ import annotations

from tests.conftest import run_triage


def _report(db, cache) -> str:
    done = run_triage(
        "--db",
        db,
        "report",
        "weekly",
        "--week",
        "2026-W46",
        "--format",
        "md",
        env={"XDG_CACHE_HOME": str(cache)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def test_a_warm_a_missing_and_a_damaged_cache_render_the_same_page(tmp_path, sample_ingest):
    db = sample_ingest[0]
    cache = tmp_path / "cache"
    cold = _report(db, cache)
    entries = list((cache / "triage" / "templates").iterdir())
    assert entries, "nothing was cached"
    assert all(e.stat().st_mode & 0o077 == 0 for e in entries)  # private, like the store
    assert _report(db, cache) == cold  # warm
    for entry in entries:  # a crash mid-write, another Python's bytecode: garbage
        entry.write_bytes(b"\x00garbage")
    assert _report(db, cache) == cold
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    assert _report(db, not_a_dir) == cold  # no cache can be made there
