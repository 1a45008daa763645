"""Compiled templates are cached in the user's cache directory; a cache that is missing,
unwritable or damaged changes nothing but the time."""

from __future__ import annotations

from tests.test_report import report_text


def test_a_warm_a_missing_and_a_damaged_cache_render_the_same_page(
    tmp_path, sample_ingest, monkeypatch
):
    db = sample_ingest[0]

    def page(cache) -> str:
        monkeypatch.setenv("XDG_CACHE_HOME", str(cache))  # the process inherits it
        return report_text(db, "--week", "2026-W46", fmt="md")

    cache = tmp_path / "cache"
    cold = page(cache)
    entries = list((cache / "triage" / "templates").iterdir())
    assert entries, "nothing was cached"
    assert all(e.stat().st_mode & 0o077 == 0 for e in entries)  # private, like the store
    assert page(cache) == cold  # warm
    for entry in entries:  # a crash mid-write, another Python's bytecode: garbage
        entry.write_bytes(b"\x00garbage")
    assert page(cache) == cold
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    assert page(not_a_dir) == cold  # no cache can be made there
