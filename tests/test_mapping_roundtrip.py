"""`triage mapping suggest` then `ingest --mapping` reads every shape test file as the
automatic detection does: the suggester writes the mapping a user would otherwise need."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import dict_rows, ingest
from triage.mapping import load_mapping
from triage.store import open_store
from triage.suggest import render_toml, suggest_mapping

SHAPES = Path(__file__).parent / "shapes"
COLUMNS = "ts, request_id, method, path, route, status, duration_ms, client_ip"
# what a support engineer looks a request up by and groups it by: the mapping must name each
# one the automatic reading found, not leave it to the automatic reading behind it
ESSENTIAL = {"ts": "timestamp", "method": "method", "path": "path", "status": "status",
             "request_id": "request_id", "duration_ms": "duration_ms"}  # fmt: skip
# durations written as bare numbers with no unit are never guessed: neither the automatic
# reading nor a mapping suggested for them has one
JSON_FILES = sorted(p.name for p in SHAPES.glob("*.ndjson") if "no_newline" not in p.name)


def rows(db: Path, log: Path, mapping: dict | None) -> list[dict]:
    with open_store(db) as store:
        summary = ingest(store, log, mapping=mapping)
        assert summary["files_failed"] == 0, summary["errors"]
        return dict_rows(store, f"SELECT line_no, kind, {COLUMNS} FROM events ORDER BY line_no")


@pytest.mark.parametrize("name", JSON_FILES)
def test_a_suggested_mapping_reproduces_the_automatic_reading(tmp_path, name):
    log = SHAPES / name
    automatic = rows(tmp_path / "auto.duckdb", log, None)
    toml = tmp_path / "suggested.toml"
    toml.write_text(render_toml(suggest_mapping(str(log))))
    params = load_mapping(toml)
    mapped = rows(tmp_path / "mapped.duckdb", log, params)
    assert mapped == automatic
    found = {
        c for c in ESSENTIAL if any(r[c] is not None for r in automatic if r["kind"] == "request")
    }
    named = {c for c, m in ESSENTIAL.items() if params[f"m_{m}"] is not None}
    assert found <= named, f"the mapping leaves {sorted(found - named)} to automatic detection"
