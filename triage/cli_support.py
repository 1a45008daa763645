"""What the CLI's commands share: option bundles, parameter types and row output.

Validation happens in the parameter (click.BadParameter, exit 2) so command bodies stay short.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

import click

from triage.exceptions import TriageError
from triage.timespec import TimeSpecError, parse_time, resolve_zone

ROW_FORMATS = ("table", "json", "csv", "md")


class TimeParam(click.ParamType):
    """An ISO date/time or a span ago (24h, 7d); read in --tz later, so kept as text here."""

    name = "TIME"

    def convert(self, value, param, ctx):
        try:
            parse_time(value, "UTC")
        except TimeSpecError as exc:
            self.fail(str(exc), param, ctx)
        return value


class ZoneParam(click.ParamType):
    name = "TZ"

    def convert(self, value, param, ctx):
        try:
            name, note = resolve_zone(value)
        except TimeSpecError as exc:
            self.fail(str(exc), param, ctx)
        if note:
            click.echo(f"note: {note}", err=True)
        return name


class Parsed(click.ParamType):
    """A parameter checked by a parse function that raises ValueError with a helpful message."""

    def __init__(self, name: str, parse: Callable[[str], object]):
        self.name = name
        self._parse = parse

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        try:
            return self._parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def time_options(func):
    """--since, --until and --tz, shared by every command that looks at a time range."""

    @click.option(
        "--since", type=TimeParam(), help="From this time: ISO date/time, or 24h, 7d ago."
    )
    @click.option("--until", type=TimeParam(), help="Up to (not including) this time.")
    @click.option(
        "--tz",
        type=ZoneParam(),
        default="UTC",
        show_default=True,
        help="IANA time zone for day/hour buckets, naive times and every time shown.",
    )
    @functools.wraps(func)
    def wrapper(*args, since, until, tz, **kwargs):
        kwargs["since"] = parse_time(since, tz) if since else None
        kwargs["until"] = parse_time(until, tz) if until else None
        if kwargs["since"] and kwargs["until"] and kwargs["until"] <= kwargs["since"]:
            # an empty or reversed range would answer "nothing", which reads as "all is well"
            raise click.BadParameter(
                f"--until {until} is not after --since {since}; give a range that runs forward",
                param_hint="--until",
            )
        return func(*args, tz=tz, **kwargs)

    return wrapper


def tz_option(help: str):
    """--tz: an IANA zone, checked when parsed."""
    return click.option("--tz", type=ZoneParam(), default="UTC", show_default=True, help=help)


output_file_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (atomically) instead of stdout.",
)
show_sql_option = click.option(
    "--show-sql", is_flag=True, help="Print each SQL query and its parameters to stderr."
)


def output_options(func):
    """--format, --output and --show-sql, shared by every command that prints rows."""
    func = show_sql_option(func)
    func = output_file_option(func)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(ROW_FORMATS),
        default="table",
        show_default=True,
        help="Output format.",
    )(func)


def print_sql(query, params: dict) -> None:
    used = {k: v for k, v in params.items() if f"${k}" in query.sql}
    click.echo(f"-- {query.name} ({query.file}:{query.line})", err=True)
    click.echo(query.sql, err=True)
    if used:
        shown = ", ".join(f"${k} = {v!r}" for k, v in sorted(used.items()))
        click.echo(f"-- parameters: {shown}", err=True)


raw_option = click.option(
    "--raw",
    is_flag=True,
    help="Show stored values unmasked (API keys, tokens, e-mail addresses): for your eyes "
    "only, never for a ticket.",
)


def emit(rows: Sequence[dict], fmt: str, output: Path | None, *, raw: bool = False) -> None:
    """Rows to stdout or a file, in a format, through the same redaction as every view
    (`sql` and `query` show stored values, which the store keeps as logged) unless --raw."""
    from triage.formats import FORMATTERS
    from triage.redact import redacted

    if raw:
        click.echo("warning: --raw output holds unmasked secrets and e-mail addresses", err=True)
    text = FORMATTERS[fmt](list(rows) if raw else redacted(list(rows)))
    write_text(text, output)


def write_text(text: str, output: Path | None) -> None:
    """To stdout, or atomically to a file (click writes a temporary file beside it and
    renames it into place, so a reader never sees half a report)."""
    if output is None or str(output) == "-":
        click.echo(text, nl=False)
        return
    try:
        with click.open_file(str(output), "w", encoding="utf-8", atomic=True) as fh:
            fh.write(text)
    except OSError as exc:
        raise TriageError(
            f"cannot write {output}: {exc.strerror or exc}; choose a folder that exists "
            "and that you can write to"
        ) from None
    click.echo(f"wrote {output}", err=True)
