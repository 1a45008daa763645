"""The named-query loader: `-- name:` blocks in .sql files, errors that name file:line."""

from __future__ import annotations

import types

import pytest

from triage import sql
from triage.exceptions import QueryFileError

TWO_QUERIES = """\
-- A file comment before the first query is allowed.

-- name: failures_by_code
-- Failed requests counted by error code,
-- most common first.
SELECT error_code, count(*) AS n
FROM events
WHERE status >= $min_status AND ts >= $since  -- $not_a_param in a comment
GROUP BY error_code;

-- name: one_request
-- Every event of one request.
SELECT * FROM events WHERE request_id = $request_id AND ts >= $since;
"""


def test_two_named_queries_keep_descriptions_sql_and_params():
    first, second = sql.parse_queries(TWO_QUERIES, "q.sql")
    assert (first.name, first.file, first.line) == ("failures_by_code", "q.sql", 3)
    assert first.description == "Failed requests counted by error code,\nmost common first."
    assert first.sql.startswith("SELECT error_code") and first.sql.endswith("GROUP BY error_code;")
    assert first.params == ["min_status", "since"]
    assert (second.name, second.line, second.params) == ("one_request", 11, ["request_id", "since"])
    assert second.description == "Every event of one request."


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("-- name: ok\nSELECT 1;\n-- name:\nSELECT 2;\n", "q.sql:3", "empty"),
        ("-- name: Bad-Name\nSELECT 1;\n", "q.sql:1", "Bad-Name"),
        ("SELECT 1;\n-- name: late\nSELECT 2;\n", "q.sql:1", "before the first"),
        (
            "-- name: nothing\n-- only a description\n\n-- name: next\nSELECT 1;\n",
            "q.sql:1",
            "no SQL",
        ),
    ],
    ids=["empty-name", "bad-name", "sql-before-first-name", "no-sql"],
)
def test_malformed_file_is_reported_at_file_and_line(text, where, fragment):
    with pytest.raises(QueryFileError) as exc:
        sql.parse_queries(text, "q.sql")
    assert str(exc.value).startswith(where + ":"), str(exc.value)
    assert fragment in str(exc.value)


def test_name_line_with_a_space_in_the_name_is_an_error():
    with pytest.raises(QueryFileError) as exc:
        sql.parse_queries("-- name: first\nSELECT 1;\n-- name: two words\nSELECT 2;\n", "q.sql")
    assert str(exc.value).startswith("q.sql:3:")


def test_duplicate_name_across_files_names_both_places(tmp_path, monkeypatch):
    (tmp_path / "a.sql").write_text("-- name: same\nSELECT 1;\n")
    (tmp_path / "b.sql").write_text("-- name: other\nSELECT 2;\n\n-- name: same\nSELECT 3;\n")
    (tmp_path / "notes.txt").write_text("-- name: same\nSELECT 4;\n")  # not a .sql file
    monkeypatch.setattr(sql, "resources", types.SimpleNamespace(files=lambda _pkg: tmp_path))
    with pytest.raises(QueryFileError) as exc:
        sql.all_queries.__wrapped__()
    assert str(exc.value).startswith("b.sql:4:")
    assert "'same'" in str(exc.value) and "a.sql:1" in str(exc.value)


def test_every_shipped_query_parses_and_has_a_description():
    queries = sql.all_queries()
    assert {"ingest_lines", "create_schema_v1", "store_overview"} <= set(queries)
    missing = [name for name, q in queries.items() if not q.description.strip()]
    assert missing == []
    assert all(q.sql.strip() for q in queries.values())


def test_unknown_query_name_is_a_clear_error():
    with pytest.raises(QueryFileError, match="no_such_query"):
        sql.get("no_such_query")
