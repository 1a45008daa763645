"""Triage's named queries in Spark SQL, transpiled from queries/*.sql by sqlglot.

There is one text of every query: DuckDB's, in queries/. For the Spark engine a query is
parsed as DuckDB SQL, its macros (queries/schema.sql: local_time, failure_groups...) are
written out in place, as DuckDB expands them, and the few DuckDB functions sqlglot does not
carry over are said in Spark's words (top-n aggregates, epoch arithmetic, intervals). Nothing
here imports pyspark: the transpiled text is checked by the tests without a Spark.

Only the queries that read the lake's big tables run on Spark (reads_lake): the failures,
the requests, every line. Whatever reads only what those queries staged (a few thousand
rows) is finished by DuckDB on this machine, with the same text as the DuckDB engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import sqlglot
from sqlglot import exp

from triage import sql
from triage.exceptions import QueryFileError

# The tables whose rows grow with the logs; a query that reads one runs on Spark.
BIG_TABLES = frozenset({"records", "events", "failed_requests", "request_minutes"})

_MACRO = re.compile(
    r"CREATE\s+OR\s+REPLACE\s+TEMP\s+MACRO\s+(\w+)\s*\(([^)]*)\)\s+AS\s+(TABLE\s+)?(.*)",
    re.IGNORECASE | re.DOTALL,
)
_STAGE = re.compile(
    r"^\s*CREATE\s+OR\s+REPLACE\s+TEMP\s+TABLE\s+(\w+)\s+AS\s+(.*)$", re.IGNORECASE | re.DOTALL
)
# DuckDB functions Spark knows by another name, with the same arguments.
_RENAMED = {"EPOCH_US": "UNIX_MICROS", "EPOCH": "UNIX_SECONDS"}


@dataclass(frozen=True)
class Macro:
    params: tuple[str, ...]
    body: exp.Expr
    table: bool


@dataclass(frozen=True)
class SparkQuery:
    """A named query as Spark runs it: its SELECT in Spark SQL, and the temporary table the
    DuckDB engine stages its rows in (None: a query whose rows are the answer)."""

    name: str
    spark_sql: str
    stage: str | None
    reads: frozenset[str]


@cache
def macros() -> dict[str, Macro]:
    """Every macro the queries define, by lower-case name, parsed as DuckDB SQL."""
    found: dict[str, Macro] = {}
    for q in sql.all_queries().values():
        for statement in _strip_comments(q.sql).split(";"):
            m = _MACRO.match(statement.strip())
            if not m:
                continue
            name, params, table, body = m.groups()
            try:
                parsed = sqlglot.parse_one(body, read="duckdb")
            except sqlglot.errors.ParseError:
                continue  # (a macro no query Spark runs uses: event_fields' JSON)
            found[name.lower()] = Macro(
                tuple(p.strip() for p in params.split(",") if p.strip()), parsed, bool(table)
            )
    return found


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in text.splitlines())


def _substitute(macro: Macro, args: list[exp.Expr]) -> exp.Expr:
    """The macro's body with its parameters replaced by the arguments of one call."""
    given = dict(zip(macro.params, args, strict=True))

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name in given:
            return exp.Paren(this=given[node.name].copy())
        return node

    return macro.body.copy().transform(replace)


def expand_macros(tree: exp.Expr) -> exp.Expr:
    """Write every macro call out, as DuckDB does, until none is left (macros call macros)."""
    known = macros()

    def expand(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous):
            macro = known.get(node.this.name.lower())
            if macro and macro.table:
                body = _substitute(macro, list(node.this.expressions))
                alias = node.alias or node.this.name.lower()
                return exp.Subquery(this=body, alias=exp.TableAlias(this=exp.to_identifier(alias)))
        if isinstance(node, exp.Anonymous):
            macro = known.get(node.name.lower())
            if macro and not macro.table:
                return exp.Paren(this=_substitute(macro, list(node.expressions)))
        return node

    return _fixed_point(tree, expand)


def _fixed_point(tree: exp.Expr, rule) -> exp.Expr:
    """The tree with `rule` applied until it changes nothing (a replaced node's own children
    are not visited by the pass that replaced it; macros call macros)."""
    for _ in range(10):
        before = tree.sql(dialect="duckdb")
        tree = tree.transform(rule)
        if tree.sql(dialect="duckdb") == before:
            return tree
    raise QueryFileError("macros in queries/ call each other without end")


def _to_spark(node: exp.Expr) -> exp.Expr:
    """One DuckDB construct that sqlglot does not carry over, in Spark's words."""
    if isinstance(node, exp.Max | exp.Min) and node.args.get("count") is not None:
        # DuckDB's top-n max(x, n): Spark's max_by(x, x, n), a bounded heap as DuckDB's
        by = "MAX_BY" if isinstance(node, exp.Max) else "MIN_BY"
        return exp.Anonymous(this=by, expressions=[node.this, node.this.copy(), node.args["count"]])
    if isinstance(node, exp.ArgMax | exp.ArgMin) and node.args.get("count") is not None:
        by = "MAX_BY" if isinstance(node, exp.ArgMax) else "MIN_BY"
        return exp.Anonymous(this=by, expressions=[node.this, node.expression, node.args["count"]])
    if isinstance(node, exp.UnixToTime) and not node.args.get("format"):
        return exp.Anonymous(this="TIMESTAMP_SECONDS", expressions=[node.this])
    if isinstance(node, exp.Anonymous):
        name = node.name.upper()
        if name in _RENAMED:
            return exp.Anonymous(this=_RENAMED[name], expressions=node.expressions)
        if name in ("TO_SECONDS", "TO_MINUTES"):
            # an interval of whole seconds or minutes: Spark's day-time interval
            zeros = [exp.Literal.number(0)] * (3 if name == "TO_SECONDS" else 2)
            return exp.Anonymous(this="MAKE_DT_INTERVAL", expressions=[*zeros, *node.expressions])
    if isinstance(node, exp.Column) and node.name.lower() == "rowid":
        # a lake's failed_requests keeps each row's id as row_id (DuckDB's view renames it)
        return exp.column("row_id", table=node.table or None)
    return node


def tables_read(tree: exp.Expr) -> frozenset[str]:
    """The tables (and views) a statement reads, less the ones its own WITH names."""
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    return frozenset(
        t.name.lower()
        for t in tree.find_all(exp.Table)
        if t.name and not isinstance(t.this, exp.Anonymous) and t.name.lower() not in ctes
    )


def parse(name: str) -> tuple[str | None, exp.Expr] | None:
    """A named query's SELECT with its macros written out (DuckDB SQL still), and the
    temporary table it stages its rows in; None for a statement that is not a query."""
    stage, text = split_stage(sql.get(name).sql)
    if stage is None and not re.match(r"^\s*(SELECT|WITH)\b", text, re.IGNORECASE):
        return None
    return stage, expand_macros(sqlglot.parse_one(text, read="duckdb"))


def split_stage(text: str) -> tuple[str | None, str]:
    """A statement that stages a temporary table, as the table's name and its SELECT; any
    other statement as None and itself (comments dropped)."""
    text = _strip_comments(text).strip().rstrip(";")
    m = _STAGE.match(text)
    return (m.group(1), m.group(2)) if m else (None, text)


def to_spark(tree: exp.Expr) -> str:
    """A DuckDB query tree (macros written out) as Spark SQL."""
    return _fixed_point(tree.copy(), _to_spark).sql(dialect="spark", pretty=True)


@cache
def spark_query(name: str) -> SparkQuery | None:
    """The named query as the Spark engine runs it, or None when it reads none of the big
    tables (DuckDB runs it, on the lake's small tables or on what was staged)."""
    parsed = parse(name)
    if parsed is None:
        return None
    stage, tree = parsed
    reads = tables_read(tree)
    if not reads & BIG_TABLES:
        return None
    return SparkQuery(name, to_spark(tree), stage, reads)
