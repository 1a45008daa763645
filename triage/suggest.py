"""Proposing a mapping file for a log triage does not read on its own (`triage mapping suggest`).

DuckDB does the looking: a sample of the file's lines goes into a table in memory, every field
of every JSON object is flattened and its values classified by shape (queries/suggest.sql).
Python only picks, per column, the best field from those counts, by how many lines it covers
first and then by the names the common log shapes use (README: Log shapes; shape-spec), and
writes the TOML. The proposal is checked before it is shown: it is parsed by the same code as
`--mapping`, and each column's comment says on how many sampled lines ingest reads a value.
"""

from __future__ import annotations

import json

import duckdb

from triage import sql
from triage.exceptions import TriageError
from triage.mapping import parse_mapping
from triage.reader import ReadError, needs_spooling, open_input, spool, unspool
from triage.suggest_rules import (
    CLF_FORMAT,
    CLIENT_IP_REGEX,
    SHOWN_COLUMNS,
    URL_PATH_REGEX,
    Field,
    Rule,
    Suggestion,
    place_columns,
)

__all__ = ["CLF_FORMAT", "CLIENT_IP_REGEX", "URL_PATH_REGEX", "SampleError", "Suggestion",
           "render_toml", "suggest_mapping"]  # fmt: skip

DEFAULT_SAMPLE = 500
MAX_SAMPLE_LINE = 1 << 20  # a longer line is too long to ingest too: it is not sampled
SPREAD_PARTS = 4  # places further into a plain file the second half of a sample comes from


class SampleError(TriageError):
    """The file cannot be read, or holds nothing a mapping could read."""


# ---- reading the sample -------------------------------------------------------------------


def read_sample(name: str, lines: int, spooled: str | None = None) -> list[str]:
    """Up to `lines` non-blank lines: the first ones, and for a plain file larger than that,
    half of them from places spread through the rest of it."""
    try:
        opened = open_input(name, spooled)
    except ReadError as exc:
        raise SampleError(f"{exc}; check the path") from None
    try:
        spread = opened.size is not None and opened.compression == "none"
        head = _read_lines(opened.stream, max(1, lines // 2) if spread else lines)
        if spread and opened.size is not None:
            start = opened.stream.tell()
            if start < opened.size:
                head += _spread_lines(opened.stream, start, opened.size, lines - len(head))
            else:
                head += _read_lines(opened.stream, lines - len(head))
        return head
    except (OSError, ReadError) as exc:
        raise SampleError(f"{name}: cannot read it ({exc})") from None
    finally:
        opened.close()


def _read_lines(stream, wanted: int) -> list[str]:
    found: list[str] = []
    while len(found) < wanted:
        raw = stream.readline(MAX_SAMPLE_LINE + 1)
        if not raw:
            break
        if len(raw) > MAX_SAMPLE_LINE:
            _skip_rest_of_line(stream)
            continue
        text = raw.decode("utf-8", "replace").strip("\r\n")
        if text.strip():
            found.append(text)
    return found


def _spread_lines(stream, start: int, size: int, wanted: int) -> list[str]:
    found: list[str] = []
    step = (size - start) // SPREAD_PARTS
    for part in range(SPREAD_PARTS):
        stream.seek(start + part * step)
        if part:
            _skip_rest_of_line(stream)  # a line cut at the seek is no line
        found += _read_lines(stream, (wanted - len(found)) // (SPREAD_PARTS - part))
    return found


def _skip_rest_of_line(stream) -> None:
    while (chunk := stream.readline(1 << 16)) and not chunk.endswith(b"\n"):
        pass


# ---- classifying it in DuckDB -------------------------------------------------------------


def _connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with ingest's settings and macros, so times parse as ingest parses."""
    con = duckdb.connect()
    for name in ("configure_connection", *sql.INGEST_MACROS):
        con.execute(sql.get(name).sql)
    return con


def _rows(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> list[dict]:
    """A named query's rows; of `params`, the ones it takes (a mapping's are all given)."""
    query = sql.get(name)
    used = {k: v for k, v in (params or {}).items() if k in query.params}
    return sql.rows_of(con.execute(query.sql, used))


def classify(con: duckdb.DuckDBPyConnection, name: str, lines: list[str]) -> Suggestion:
    """Load the sample and count the shapes of its fields."""
    con.execute(sql.get("suggest_sample").sql, {"lines": lines})
    kinds = _rows(con, "suggest_sample_kinds")[0]
    fields = [
        Field(path=row.pop("field"), **row)
        for row in _rows(con, "suggest_field_shapes", {"clf_format": CLF_FORMAT})
    ]
    return Suggestion(name, kinds["lines"], kinds["objects"], fields)


def suggest_mapping(
    name: str, lines: int = DEFAULT_SAMPLE, *, spooled: str | None = None
) -> Suggestion:
    """Sample `name`, classify its fields and propose a rule for each column it can place."""
    owned = spool(name) if spooled is None and needs_spooling(name) else None
    try:
        sample = read_sample(name, lines, spooled or owned)
    finally:
        unspool(owned)
    if not sample:
        raise SampleError(f"{name}: has no lines to look at")
    con = _connect()
    try:
        found = classify(con, name, sample)
        if not found.objects:
            raise SampleError(
                f"{name}: none of the {found.sampled:,} lines sampled is a JSON object "
                f"(the first starts {sample[0][:30]!r}); a mapping reads JSON lines only"
            )
        place_columns(found)
        _count_lines_read(con, found)
    finally:
        con.close()
    return found


# ---- checking and writing it --------------------------------------------------------------


def _count_lines_read(con: duckdb.DuckDBPyConnection, found: Suggestion) -> None:
    """Each rule's line count, as ingest reads it, through the same parser as --mapping."""
    if not found.rules:
        return
    params = parse_mapping(fields_toml(found), f"the mapping proposed for {found.name}")
    counts = _rows(con, "suggest_mapped_counts", params)[0]
    for column, rule in found.rules.items():
        rule.lines = counts[column]


def toml_value(value: object) -> str:
    """A TOML value: literal strings where they can be (regexes stay readable)."""
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    if "'" not in text and text.isprintable():
        return f"'{text}'"
    return json.dumps(text)


def field_spec(f: Field) -> str | list[str]:
    """How a mapping names a field: a dotted path, a list of keys holding dots, or, inside an
    array, the JSONPath."""
    keys = f.keys
    if any(isinstance(k, int) for k in keys):
        return f.path
    names = [str(k) for k in keys]
    if all(k and "." not in k and not k.startswith("$") for k in names):
        return ".".join(names)
    return names


def rule_toml(rule: Rule) -> str:
    spec = field_spec(rule.source)
    extras = {"regex": rule.regex, "format": rule.format, "scale": rule.scale}
    shown = {k: v for k, v in extras.items() if v is not None}
    if not shown:
        return f"{rule.column} = {toml_value(spec)}"
    parts = [f"field = {toml_value(spec)}"] + [f"{k} = {toml_value(v)}" for k, v in shown.items()]
    return f"{rule.column} = {{ {', '.join(parts)} }}"


def fields_toml(found: Suggestion) -> str:
    return "[fields]\n" + "".join(rule_toml(r) + "\n" for r in _ordered(found))


def _ordered(found: Suggestion) -> list[Rule]:
    return [found.rules[c] for c in SHOWN_COLUMNS if c in found.rules]


def render_toml(found: Suggestion) -> str:
    """The mapping file: a rule per placed column, each under a comment saying what it reads
    and on how many sampled lines, and the warnings as comments at the end."""
    objects = found.objects
    out = [
        f"# triage mapping proposed for {found.name} from {found.sampled:,} sampled lines "
        f"({objects:,} JSON objects)",
        f"# check it, then: triage ingest --mapping THIS_FILE {found.name}",
        "[fields]",
    ]
    for rule in _ordered(found):
        out.append(f"# {rule.lines:,}/{objects:,} lines: {rule.source.name} ({rule.reads})")
        out.append(rule_toml(rule))
    out += [f"# warning: {w}" for w in found.warnings]
    return "\n".join(out) + "\n"
