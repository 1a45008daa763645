"""Named SQL queries, loaded from the .sql files in queries/ (aiosql's convention).

A file holds one or more queries. Each starts with a ``-- name: some_name`` line; the comment
lines right after it are the query's description; everything up to the next ``-- name:`` is
the SQL. Parameters are DuckDB's ``$name`` placeholders, bound from a dict, never pasted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from triage.exceptions import QueryFileError

_NAME = re.compile(r"^--\s*name:(?P<name>.*)$")
_VALID_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    sql: str
    file: str
    line: int

    @property
    def params(self) -> list[str]:
        """The $parameters the query takes, in order of first use."""
        seen: dict[str, None] = {}
        for m in re.finditer(r"\$([a-z_][a-z0-9_]*)", _strip_comments(self.sql)):
            seen.setdefault(m.group(1))
        return list(seen)

    def bind(self, params: dict | None) -> dict:
        """The parameters this query takes, from `params` (which may hold more: the stages
        of one command share theirs). One it takes and `params` lacks is DuckDB's error."""
        given = params or {}
        return {p: given[p] for p in self.params if p in given}


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def parse_queries(text: str, file: str) -> list[Query]:
    """Parse one .sql file's text. Errors name file:line."""
    queries: list[Query] = []
    current: dict | None = None

    def finish() -> None:
        if current is None:
            return
        sql = "\n".join(current["body"]).strip()
        if not sql:
            raise QueryFileError(f"{file}:{current['line']}: query {current['name']!r} has no SQL")
        queries.append(
            Query(current["name"], "\n".join(current["doc"]).strip(), sql, file, current["line"])
        )

    for lineno, line in enumerate(text.splitlines(), start=1):
        m = _NAME.match(line)
        if m:
            finish()
            name = m.group("name").strip()
            if not _VALID_NAME.match(name):
                raise QueryFileError(f"{file}:{lineno}: bad or empty query name {name!r}")
            current = {"name": name, "line": lineno, "doc": [], "body": [], "in_doc": True}
            continue
        if current is None:
            if line.strip() and not line.lstrip().startswith("--"):
                raise QueryFileError(f"{file}:{lineno}: SQL before the first '-- name:' line")
            continue
        if current["in_doc"] and line.lstrip().startswith("--"):
            current["doc"].append(line.lstrip()[2:].strip())
        else:
            current["in_doc"] = False
            current["body"].append(line)
    finish()
    return queries


@cache
def all_queries() -> dict[str, Query]:
    """Every named query shipped in triage.queries, by name. Duplicate names are an error."""
    found: dict[str, Query] = {}
    for entry in sorted(resources.files("triage.queries").iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        for q in parse_queries(entry.read_text(encoding="utf-8"), entry.name):
            if q.name in found:
                first = found[q.name]
                raise QueryFileError(
                    f"{q.file}:{q.line}: duplicate query name {q.name!r} "
                    f"(first defined at {first.file}:{first.line})"
                )
            found[q.name] = q
    return found


def get(name: str) -> Query:
    try:
        return all_queries()[name]
    except KeyError:
        raise QueryFileError(
            f"no query named {name!r}; run 'triage queries' to list them"
        ) from None


# The macros the ingest query is built from, in the order they build on each other (DuckDB
# checks a macro's functions when it is created).
INGEST_MACROS = ("define_shape_macros", "define_text_macros", "define_ingest_macros")

# Files whose queries only make sense inside ingest, a migration or the catalogue's set-up.
INTERNAL_FILES = {
    "schema.sql",
    "ingest.sql",
    "lake.sql",
    "shapes.sql",
    "text_formats.sql",
    "catalog.sql",
}
_STAGES = re.compile(r"CREATE\s+OR\s+REPLACE\s+TEMP\s+(?:TABLE|VIEW)\s+(\w+)", re.IGNORECASE)


@cache
def staged_tables() -> frozenset[str]:
    """Temporary tables and views some query stages for others to read (the catalogue's are
    made by whoever runs a query that reads them)."""
    return frozenset(
        name
        for q in all_queries().values()
        for name in _STAGES.findall(q.sql)
        if not name.startswith("catalog_")
    )


def runnable(q: Query) -> bool:
    """Can a user run this query on its own, read-only (`triage query`)? It reads the store,
    and no table another query has to stage first; statements that write are not."""
    body = _strip_comments(q.sql).lstrip().upper()
    if q.file in INTERNAL_FILES or not body.startswith(("SELECT", "WITH")):
        return False
    words = set(re.findall(r"\w+", _strip_comments(q.sql)))
    return not (words & staged_tables())


def rows_of(cur) -> list[dict]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, values, strict=True)) for values in cur.fetchall()]
