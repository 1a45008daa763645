"""Mapping files: how to read a log whose shape triage does not recognise on its own.

A mapping is TOML. Each key of [fields] names a normalised column; its value is the JSON field
that holds it, or a table with `field` plus optional `regex` (the first group is kept),
`format` (strptime format, timestamp only) or `scale` (multiplier, duration_ms only):

    [fields]
    timestamp = { field = "time_local", format = "%d/%b/%Y:%H:%M:%S %z" }
    request_id = "http_x_request_id"
    method = { field = "request", regex = '^(\\S+) ' }
    path = { field = "request", regex = '^\\S+ (\\S+)' }
    status = "status"
    duration_ms = { field = "request_time", scale = 1000 }

A field is a dotted path ("request.id"), a list of keys for names holding dots
(["labels", "app.kubernetes.io/name"]), or a JSONPath starting with '$'. Mapped columns take
precedence; the ones a mapping leaves out are still detected automatically.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from triage.exceptions import MappingError, first_line

COLUMNS = (
    "timestamp",
    "request_id",
    "service",
    "method",
    "path",
    "route",
    "status",
    "duration_ms",
    "org_id",
    "api_key_id",
    "user_agent",
    "client_ip",
    "message",
    "error_type",
    "error_code",
    "error_message",
)


def empty_params() -> dict:
    """The ingest query's mapping parameters when there is no mapping: all NULL."""
    params: dict = {f"m_{c}": None for c in COLUMNS}
    params.update({f"rx_{c}": None for c in COLUMNS})
    params.update({"ts_format": None, "duration_scale": None})
    return params


_RULE_KEYS = frozenset(empty_params())


def mapping_text(params: dict | None) -> str | None:
    """A mapping's rules as the canonical JSON text a source remembers (None: no mapping)."""
    rules = {k: v for k, v in (params or {}).items() if k in _RULE_KEYS and v is not None}
    return json.dumps(rules, sort_keys=True) if rules else None


def mapping_params(text: str | None) -> dict:
    """The ingest query's mapping parameters from a source's remembered mapping text."""
    return {**empty_params(), **(json.loads(text) if text else {})}


def mapping_columns(text: str | None) -> str:
    """What a source was read with, in short: the columns its mapping names, or "auto"."""
    rules = json.loads(text) if text else {}
    named = [c for c in COLUMNS if rules.get(f"m_{c}") is not None]
    return ",".join(named) if named else "auto"


def load_mapping(path: Path) -> dict:
    """Read a mapping file into the ingest query's parameters; errors say what to fix."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"cannot read mapping {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML ({exc})") from None
    return parse_mapping(text, str(path))


def parse_mapping(text: str, path: str) -> dict:
    """A mapping's text into the ingest query's parameters; errors name `path`."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML ({exc})") from None
    fields = doc.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise MappingError(f"{path}: needs a [fields] table naming at least one column")
    unknown = sorted(set(doc) - {"fields"})
    if unknown:
        raise MappingError(
            f"{path}: unknown section(s) {', '.join(unknown)}; only [fields] is read"
        )
    params = empty_params()
    for column, spec in fields.items():
        if column not in COLUMNS:
            raise MappingError(
                f"{path}: unknown column {column!r}; choose from {', '.join(COLUMNS)}"
            )
        rule = {"field": spec} if isinstance(spec, str | list) else spec
        if not isinstance(rule, dict) or "field" not in rule:
            raise MappingError(f"{path}: fields.{column} needs a field name")
        extra = set(rule) - {"field", "regex", "format", "scale"}
        if extra:
            raise MappingError(
                f"{path}: fields.{column}: unknown key(s) {', '.join(sorted(extra))}"
            )
        params[f"m_{column}"] = json_path(rule["field"], f"{path}: fields.{column}")
        if "regex" in rule:
            params[f"rx_{column}"] = _regex(rule["regex"], f"{path}: fields.{column}.regex")
        if "format" in rule:
            if column != "timestamp":
                raise MappingError(f"{path}: fields.{column}: 'format' applies to timestamp only")
            params["ts_format"] = _strptime_format(rule["format"], f"{path}: fields.{column}")
        if "scale" in rule:
            if column != "duration_ms" or not isinstance(rule["scale"], int | float):
                raise MappingError(
                    f"{path}: fields.{column}: 'scale' is a number, for duration_ms only"
                )
            params["duration_scale"] = float(rule["scale"])
    return params


def json_path(field: object, where: str) -> str:
    """A DuckDB JSONPath for a dotted name, a list of keys, or a JSONPath as given (checked
    by DuckDB itself, so a bad one is a mapping error now, not a failed ingest later)."""
    if isinstance(field, str) and field.startswith("$"):
        kind = _check_in_duckdb(
            "SELECT typeof(json_extract_string('{}', $x))",
            field,
            f'{where}: {field!r} is not a JSONPath DuckDB can read (write $.a.b or $."a.b")',
        )
        if kind != "VARCHAR":  # a wildcard ($..x, $.a[*]) finds many values, not one
            raise MappingError(f"{where}: {field!r} must name one value, not a wildcard")
        return field
    keys = field.split(".") if isinstance(field, str) else field
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
        raise MappingError(
            f'{where}: field must be a name ("request_time"), a dotted path '
            f'("request.id"), a list of keys or a JSONPath, not {field!r}'
        )
    return "$" + "".join("." + json.dumps(k) for k in keys)


def _regex(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise MappingError(f"{where}: must be a string")
    try:
        compiled = re.compile(value)
    except re.error as exc:
        raise MappingError(f"{where}: not a valid regular expression ({exc})") from None
    if compiled.groups < 1:
        raise MappingError(f"{where}: needs a (group) around the part to keep")
    # DuckDB applies it with RE2, which has no lookaround or backreferences: ask RE2 itself.
    _check_in_duckdb(
        "SELECT regexp_extract('', $x, 1)",
        value,
        f"{where}: DuckDB's RE2 cannot use this regex (no lookaround or backreferences)",
    )
    return value


def _strptime_format(value: object, where: str) -> str:
    if not isinstance(value, str) or "%" not in value:
        raise MappingError(
            f"{where}.format: must be a strptime format such as %d/%b/%Y:%H:%M:%S %z"
        )
    _check_in_duckdb(
        "SELECT try_strptime('', $x)",
        value,
        f"{where}.format: DuckDB's strptime does not accept {value!r}",
    )
    return value


def _check_in_duckdb(statement: str, value: str, message: str) -> object:
    """Run a probe with the value in a throwaway in-memory DuckDB; any error is the user's.
    Returns the probe's one value."""
    import duckdb

    con = duckdb.connect()
    try:
        return con.execute(statement, {"x": value}).fetchall()[0][0]
    except duckdb.Error as exc:
        reason = first_line(exc)
        raise MappingError(f"{message} ({reason})") from None
    finally:
        con.close()
