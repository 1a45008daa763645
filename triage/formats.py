"""One formatter per output format for rows of data: table, json, csv, md.

Every formatter takes a list of dicts (one per row, same keys) and returns text. Values from
logs are neutralised for their destination: control characters for the terminal, formula
prefixes for spreadsheets (CWE-1236), table-breaking characters for Markdown.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Sequence

from triage.labels import json_value

Row = dict[str, object]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]|\x1b\[[0-9;?]*[ -/]*[@-~]")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " ".join(_text(v) for v in value)
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.0f}"
    return str(value)


def terminal_safe(value: str) -> str:
    """ANSI escapes and control characters from logs must not drive the terminal."""
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", value).replace("\n", "\\n").replace("\t", " ")


def _cell(column: str, value: object) -> str:
    """A value as a terminal table shows it: shares as percentages, lists by their first item."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and (column.startswith("share") or column.endswith("_rate")):
        return f"{value:.1%}"
    if isinstance(value, list | tuple):
        more = f" (+{len(value) - 1})" if len(value) > 1 else ""
        return (_text(value[0]) + more) if value else ""
    return _text(value)


def readable(column: str, value: object) -> str:
    """A value as a page shows it: as in a terminal table, but lists whole."""
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return _cell(column, value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


MIN_CUT_WIDTH = 12  # a column cut to fit is never narrower than this (or its header)


def format_table(rows: Sequence[Row], width: int | None = None) -> str:
    """Rows as an aligned text table. Given the terminal's width, the widest text columns are
    cut (ending in '…') until the table fits, and a last line says so."""
    if not rows:
        return "(no rows)\n"
    cols = list(rows[0])
    cells = [[terminal_safe(_cell(c, r.get(c))) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    numeric = [all(_is_number(r.get(c)) or r.get(c) is None for r in rows) for c in cols]
    cut = _fit(widths, cols, numeric, width) if width else widths

    def line(values: Sequence[str]) -> str:
        clipped = [v if len(v) <= w else v[: w - 1] + "…" for v, w in zip(values, cut, strict=True)]
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(clipped, cut, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(cols), line(["-" * w for w in cut])]
    out += [line(row) for row in cells]
    if cut != widths:
        out.append(
            f"(long values cut to fit {width} columns; --format csv or json, or -o FILE, "
            "shows them whole)"
        )
    return "\n".join(out) + "\n"


def _fit(widths: list[int], cols: list[str], numeric: list[bool], width: int) -> list[int]:
    """Column widths that fit `width`: the widest text column loses a character at a time,
    down to MIN_CUT_WIDTH (or its header); numbers are never cut. It may still not fit."""
    fitted = list(widths)
    floor = [w if num else max(min(len(c), 20), MIN_CUT_WIDTH) for w, c, num in
             zip(widths, cols, numeric, strict=True)]  # fmt: skip
    total = sum(fitted) + 2 * (len(fitted) - 1)
    while total > width:
        i = max(range(len(fitted)), key=lambda j: fitted[j] - floor[j])
        if fitted[i] <= floor[i]:
            break
        fitted[i] -= 1
        total -= 1
    return fitted


def _json_value(value: object) -> object:
    if isinstance(value, dt.datetime):
        return _text(value)
    if isinstance(value, dt.date | dt.timedelta):
        return str(value)
    return value


def format_json(rows: Sequence[Row]) -> str:
    return (
        json.dumps(
            [{k: _json_value(v) for k, v in r.items()} for r in rows],
            indent=2,
            ensure_ascii=False,
            default=json_value,
        )
        + "\n"
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """Neutralise spreadsheet formulas in text cells; numbers stay numbers."""
    if isinstance(value, int | float) or value is None:
        return "" if value is None else value
    text = _text(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def format_csv(rows: Sequence[Row]) -> str:
    if not rows:
        return ""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(list(rows[0]))
    for r in rows:
        writer.writerow([csv_cell(v) for v in r.values()])
    return buf.getvalue()


# Characters that would break a table cell or turn a value into markup (underscores inside
# words are left alone: GFM does not emphasise them).
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|~])")


def md_cell(value: object) -> str:
    """Escape a value for a Markdown table cell: no '|', newline, backtick or link breaks it."""
    text = terminal_safe(_text(value)).replace("\\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", text)


def format_md(rows: Sequence[Row]) -> str:
    if not rows:
        return "_No rows._\n"
    cols = list(rows[0])
    out = [
        "| " + " | ".join(md_cell(c) for c in cols) + " |",
        "|"
        + "|".join(" ---: " if isinstance(rows[0].get(c), int | float) else " --- " for c in cols)
        + "|",
    ]
    out += ["| " + " | ".join(md_cell(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(out) + "\n"


FORMATTERS: dict[str, Callable[[Sequence[Row]], str]] = {
    "table": format_table,
    "json": format_json,
    "csv": format_csv,
    "md": format_md,
}


def format_info(facts: dict) -> str:
    """The human view of `triage info`: which store, what it holds, what it covers."""

    def when(value: object) -> str:
        return _text(value).replace("T", " ")[:19] + "Z" if value else "-"

    rejects = facts["rejected_by_reason"]
    events = facts["requests"] + facts["trace_events"] + facts["log_events"]
    lines = [
        f"{facts['kind'] + ':':9} {facts['store']} (schema version {facts['schema_version']})",
        f"covers:   {when(facts['first_event'])} to {when(facts['last_event'])}"
        f" (last ingest {when(facts['last_ingested_at'])})",
        f"events:   {events:,} = {facts['requests']:,} requests + {facts['trace_events']:,} trace"
        f" + {facts['log_events']:,} log"
        + (
            f" ({facts['repaired']:,} repaired: invalid UTF-8 bytes replaced)"
            if facts["repaired"]
            else ""
        ),
        f"rejected: {facts['rejected']:,}"
        + (" (" + ", ".join(f"{k} {v:,}" for k, v in rejects.items()) + ")" if rejects else "")
        + f"; blank lines: {facts['blank_lines']:,}",
    ]
    sources = [
        {
            "source": s["path"],
            "compression": s["compression"],
            "lines": s["lines_consumed"],
            "events": s["events"],
            "rejected": s["rejected"],
            "first_event": when(s["first_event"]),
            "last_event": when(s["last_event"]),
            "read as": s["shapes"] or "-",
            "mapping": s["mapping"],
        }
        for s in facts["source_files"]
    ]
    if sources:
        lines += ["", format_table(sources).rstrip("\n")]
    unknown = [s for s in facts["source_files"] if s["unknown_unit_durations"]]
    if unknown:
        lines += [
            "",
            "durations with no unit that can be known (left empty, never guessed; a mapping "
            "names the unit: duration_ms = { field = ..., scale = 1000 for s, 1 for ms }):",
            *(
                f"  {terminal_safe(s['path'])}: {s['unknown_unit_durations']:,} lines "
                f"(e.g. {terminal_safe(s['unknown_unit_example'])})"
                for s in unknown
            ),
        ]
    older = facts["read_with_older_rules"]
    if older:
        lines += [
            "",
            f"read with older parsing rules (current: version {facts['parsing_rules']}); "
            f"{facts['reread_hint']} to read them again:",
            *(f"  {terminal_safe(s['path'])} (version {s['rules_version']})" for s in older),
        ]
    if facts["rejects_sample"]:
        lines += ["", f"first rejected lines (of {facts['rejected']:,}):"]
        for r in facts["rejects_sample"]:
            why = f"{r['reason']} ({r['detail']})" if r["detail"] else r["reason"]
            lines.append(
                f"  {r['source']}:{r['line']}  {why}  {terminal_safe(r['raw'] or '')[:100]}"
            )
    return "\n".join(lines) + "\n"
