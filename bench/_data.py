"""Benchmark data: made by the sample generator's bench writer, cached by size."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def bench_file(lines: int, gz: bool = False, days: int | None = None) -> Path:
    """A file of `lines` shape-A log lines (made once, then reused): packed 0-31 ms apart, or
    spread over `days` days with a burst of failures on the last (see write_bench)."""
    OUT.mkdir(parents=True, exist_ok=True)
    spread = f"-{days}d" if days else ""
    path = OUT / f"bench-{lines}{spread}.ndjson{'.gz' if gz else ''}"
    if not path.exists():
        generate = load_generator()
        tmp = path.with_name(path.name + ".tmp")
        generate.write_bench(tmp, lines, days=days)
        tmp.rename(path)
    return path


def load_generator():
    """sample_logs/generate.py as a module: it is a script beside the generator package, not
    part of triage, and loading it makes that package importable."""
    name = "triage_sample_generate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "sample_logs" / "generate.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


def store_for(data: Path) -> Path:
    """A triage store holding `data` (ingested once, then reused)."""
    import subprocess

    db = OUT / (data.name.split(".")[0] + ".duckdb")
    if not db.exists():
        subprocess.run(
            [sys.executable, "-m", "triage", "--db", str(db), "ingest", str(data)], check=True
        )
    return db


def broken_file(lines: int, every: int = 1000, days: int | None = None) -> Path:
    """bench_file(lines, days=days) with one line in `every` cut in half, as a writer killed
    mid-line leaves it (made once, then reused): real logs always hold a few such lines."""
    source = bench_file(lines, days=days)
    path = source.with_name(source.name.replace(".ndjson", f"-broken{every}.ndjson"))
    if not path.exists():
        tmp = path.with_name(path.name + ".tmp")
        with source.open("rb") as src, tmp.open("wb") as out:
            for i, line in enumerate(src, start=1):
                if i % every == every // 2:
                    line = line[: len(line) // 2] + b"\n"
                out.write(line)
        tmp.rename(path)
    return path


def in_fresh_process(script: str, job: str, data: Path, tmp: Path) -> dict:
    """Run `script --worker job data db` in a fresh process, on a new store under tmp, and
    return the JSON line it prints last (a job's figures are its own process's alone)."""
    db = tmp / f"{job.replace(' ', '-')}.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    out = subprocess.run(
        [sys.executable, script, "--worker", job, str(data), str(db)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
