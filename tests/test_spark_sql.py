"""The named queries as the Spark engine runs them (triage.spark_sql), without a Spark: which
queries go to Spark, their macros written out as DuckDB expands them (checked by DuckDB
itself, on the sample store, with the parameters the commands give), and the DuckDB words
said in Spark's. Spark running them is tests/test_spark.py."""

from __future__ import annotations

import pytest

from tests.conftest import assert_one_error_line, run_triage

sqlglot = pytest.importorskip("sqlglot")

from triage import spark_sql  # noqa: E402 (after the skip: sqlglot comes with the spark extra)
from triage.contract import check_contract  # noqa: E402
from triage.failures import Filters, group_failures  # noqa: E402
from triage.incident import summarize  # noqa: E402
from triage.report import weekly  # noqa: E402
from triage.spark_store import ON_DUCKDB  # noqa: E402


def test_the_big_reads_go_to_spark_and_the_finishing_stays_on_duckdb():
    staged = {
        "stage_failure_parts": "failure_parts",
        "stage_route_requests": "route_requests",
        "contract_failures": "contract_staged",
        "report_stage_failures": "report_failures",
        "stage_burst_minutes": "burst_minutes",
        "stage_window_customers": "window_customers",
    }
    for name, table in staged.items():
        plan = spark_sql.spark_query(name)
        assert plan is not None and plan.stage == table, name
    # the answers' own queries read what was staged (a few thousand rows): DuckDB's
    for name in ("failures_grouped", "contract_violations", "report_codes", "detect_bursts"):
        assert spark_sql.spark_query(name) is None, name
    # a query that reads the failures whole, without staging, is Spark's too
    plan = spark_sql.spark_query("incident_breakdown")
    assert plan is not None and plan.stage is None and "failed_requests" in plan.reads
    # statements that are not queries are never sent
    assert spark_sql.spark_query("report_unordered_staging") is None
    # examples read by row id (a few rows, as lookup reads) stay on DuckDB, though they read
    # the failures
    assert spark_sql.spark_query("examples_at") is not None and "examples_at" in ON_DUCKDB


def test_duckdb_words_are_said_in_sparks():
    def spark(text: str) -> str:
        return spark_sql.to_spark(
            spark_sql.expand_macros(sqlglot.parse_one(text, read="duckdb"))
        ).replace("\n", " ")

    # top-n aggregates: Spark's max_by / min_by with k, ranked by the value itself
    assert "MAX_BY(x, x, 3)" in spark("SELECT max(x, 3) FROM t")
    assert "MIN_BY(x, x, 2)" in spark("SELECT min(x, 2) FROM t")
    assert "MAX_BY(a, b, 2)" in spark("SELECT arg_max(a, b, 2) FROM t")
    # epoch arithmetic and intervals
    assert "UNIX_MICROS(ts)" in spark("SELECT epoch_us(ts) FROM t")
    assert "TIMESTAMP_SECONDS(m * 60)" in spark("SELECT to_timestamp(m * 60) FROM t")
    assert "MAKE_DT_INTERVAL(0, 0, 0, s)" in spark("SELECT ts + to_seconds(s) FROM t")
    # a lake keeps each failure's row id as row_id (DuckDB's view calls it rowid)
    assert "row_id" in spark("SELECT rowid FROM failed_requests") and "rowid" not in spark(
        "SELECT rowid FROM failed_requests"
    )
    # macros are written out, table macros as subqueries, parameters as Spark's :name
    text = spark("SELECT route_family(route) FROM failure_groups($since, NULL, 2) g")
    assert "ROUTE_FAMILY" not in text.upper() and "FAILURE_GROUPS" not in text.upper()
    assert "REGEXP_REPLACE" in text and "FROM failed_requests" in text and ":since" in text


# Queries the Spark engine sends, with the parameters each command gives them, are read by
# DuckDB twice: as written, and with their macros written out as Spark is given them.
COMMANDS = {
    "errors by day, route, code": lambda s: group_failures(
        s, ("day", "route", "code"), Filters(tz="Europe/Paris")
    ),
    "errors filtered": lambda s: group_failures(
        s, ("type", "code"), Filters(org="ORG_1", status=(400, 499))
    ),
    "contract": lambda s: check_contract(s, since=None, until=None, tz="UTC", examples=3),
    "report weekly": lambda s: weekly(s, None, "America/New_York"),
    "incident --auto": lambda s: summarize(s, None, None, auto=True),
}


def canonical(value) -> str:
    """A row as text, its maps' entries in key order: a map built from an aggregated list
    keeps the order rows arrived in, which a parallel scan does not fix (the report sorts
    them before showing)."""
    if isinstance(value, dict):
        return repr(sorted((repr(k), canonical(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return repr([canonical(v) for v in value])
    return repr(value)


@pytest.mark.parametrize("command", COMMANDS)
def test_written_out_macros_give_duckdbs_own_answers(sample_store, command):
    sent = []

    def capture(query, params):
        if spark_sql.spark_query(query.name) and query.name not in ON_DUCKDB:
            sent.append((query, dict(params)))

    sample_store.on_sql = capture
    try:
        COMMANDS[command](sample_store)
    finally:
        sample_store.on_sql = None
    assert sent, command
    con = sample_store.con
    for query, params in sent:
        stage, tree = spark_sql.parse(query.name)
        written_out = tree.sql(dialect="duckdb")
        _, as_written = spark_sql.split_stage(query.sql)  # (a stage: the SELECT it stages)
        mine = sorted(map(canonical, con.execute(written_out, query.bind(params)).fetchall()))
        theirs = sorted(map(canonical, con.execute(as_written, query.bind(params)).fetchall()))
        assert mine == theirs, query.name
        calls = written_out.lower().replace(" ", "")
        assert not any(f"{m}(" in calls for m in spark_sql.macros()), query.name


def test_engine_spark_reads_a_lake(tmp_path):
    done = run_triage("--db", tmp_path / "s.duckdb", "errors", "--engine", "spark")
    assert done.returncode == 2
    assert_one_error_line(done.stderr.decode(), "--engine spark reads a lake", "--lake DIR")
