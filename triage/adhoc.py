"""Running what a user asks for by hand: a named query (`triage query`) or their own SQL
(`triage sql`), on a read-only store. The only place SQL text comes in from outside."""

from __future__ import annotations

import duckdb

from triage.exceptions import QueryFileError, first_line
from triage.redact import mask
from triage.sql import get, rows_of, runnable
from triage.store import Store, interruptible


def run_named(store: Store, name: str, params: dict) -> list[dict]:
    """Run a named query: unset parameters are NULL; ones that cannot run alone refused."""
    q = get(name)
    if not runnable(q):
        raise QueryFileError(
            f"query {name!r} is a step of ingest, the schema or another query and does not "
            "run on its own; 'triage queries' lists the ones that do"
        )
    unknown = sorted(set(params) - set(q.params))
    if unknown:
        raise QueryFileError(
            f"query {name!r} has no parameter {', '.join(unknown)}; "
            f"it takes: {', '.join(q.params) or 'none'}"
        )
    if "catalog_" in q.sql:
        store.register_catalog()
    return rows_of(store.run(name, {p: params.get(p) for p in q.params}))


# What `triage sql` runs: statements that read. A store's connection is read-only besides;
# a lake's is a connection in memory that may write in the lake's directory (COPY ... TO).
READING = {"SELECT", "EXPLAIN"}


def run_adhoc(store: Store, statement: str) -> list[dict]:
    """Run the user's own SQL, statements that read only, on a read-only connection."""
    store.register_catalog()
    try:
        kinds = {s.type.name for s in store.con.extract_statements(statement)}
        if kinds - READING:
            raise QueryFileError(
                "triage sql is read-only: it cannot change the store "
                "(use triage ingest to add data)"
            )
        with interruptible():
            cur = store.con.execute(statement)
    except duckdb.Error as exc:
        text = first_line(exc)
        if "read-only" in text or "read only" in text:
            raise QueryFileError(
                "triage sql is read-only: it cannot change the store "
                "(use triage ingest to add data)"
            ) from None
        # DuckDB's message may quote a stored value (a failed cast shows it)
        raise QueryFileError(f"the SQL failed: {mask(text)}") from None
    if cur.description is None:
        return []
    with interruptible():
        return rows_of(cur)
