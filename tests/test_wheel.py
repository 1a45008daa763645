"""The wheel carries queries/ and templates/: build it, install it in a fresh venv, use it."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_installed_wheel_ships_queries_and_templates_and_ingests(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("triage-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True)

    # Run from a directory that is not the repo, so nothing can come from the checkout.
    probe = subprocess.run(
        [
            py,
            "-c",
            (
                "import json, triage\n"
                "from importlib import resources\n"
                "q = sorted(p.name for p in resources.files('triage.queries').iterdir())\n"
                "t = sorted(p.name for p in resources.files('triage.templates').iterdir())\n"
                "spark_log = resources.files('triage').joinpath('spark-log4j2.properties')\n"
                "from triage.sql import all_queries\n"
                "print(json.dumps({'file': triage.__file__, 'queries': q, 'templates': t,\n"
                "                  'named': len(all_queries()),\n"
                "                  'spark_log': spark_log.is_file()}))"
            ),
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    found = json.loads(probe.stdout)
    assert found["file"].startswith(str(env_dir)), found["file"]
    shipped_sql = sorted(p.name for p in (ROOT / "queries").glob("*.sql"))
    assert shipped_sql and set(shipped_sql) <= set(found["queries"])
    shipped_templates = sorted(p.name for p in (ROOT / "templates").glob("*.j2"))
    assert set(shipped_templates) <= set(found["templates"])
    assert found["named"] > 0
    assert found["spark_log"]  # (what keeps a Spark session quiet: triage.spark)

    triage = env_dir / "bin" / "triage"
    version = subprocess.run(
        [triage, "--version"], cwd=tmp_path, check=True, capture_output=True, text=True
    )
    assert "triage" in version.stdout
    db = tmp_path / "store.duckdb"
    ingested = subprocess.run(
        [
            triage,
            "--db",
            str(db),
            "ingest",
            "--format",
            "json",
            str(ROOT / "sample_logs" / "gateway-us.ndjson"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert ingested.returncode == 0, ingested.stderr
    manifest = json.loads((ROOT / "sample_logs" / "manifest.json").read_text())
    assert (
        json.loads(ingested.stdout)["requests"]
        == manifest["files"]["gateway-us.ndjson"]["requests"]
    )
