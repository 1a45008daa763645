"""What the CLI's commands share: option bundles, parameter types and row output.

Validation happens in the parameter (click.BadParameter, exit 2) so command bodies stay short.
"""

from __future__ import annotations

import functools
import os
import sys
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


# what an --output file's name says its format is, when --format is not given
SUFFIX_FORMATS = {
    ".csv": "csv",
    ".json": "json",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
}


def output_file_option(func):
    """-o/--output and --force, the same for every command that writes a file: the file is
    written atomically, an existing one is kept unless --force, and its extension chooses
    the format when --format is not given (report.html is HTML, errors.csv is CSV)."""

    @click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write to this file (atomically) instead of stdout; .csv, .json, .md or .html "
        "chooses the format unless --format is given.",
    )
    @click.option("--force", is_flag=True, help="Overwrite --output if it exists.")
    @functools.wraps(func)
    def wrapper(*args, output, force, **kwargs):
        if output is not None and str(output) != "-":
            if output.exists() and not force:
                raise click.BadParameter(
                    f"{output} exists; pass --force to overwrite it", param_hint="--output"
                )
            if "fmt" in kwargs:
                kwargs["fmt"] = _format_of(output, kwargs["fmt"])
        return func(*args, output=output, **kwargs)

    return wrapper


def _format_of(output: Path, fmt: str) -> str:
    """The format an --output file's extension names, if --format was left at its default
    and the command writes that format."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    if ctx.get_parameter_source("fmt") is not ParameterSource.DEFAULT:
        return fmt
    choices = next(
        (getattr(p.type, "choices", ()) for p in ctx.command.params if p.name == "fmt"), ()
    )
    named = SUFFIX_FORMATS.get(output.suffix.lower())
    if named == "text" and "text" not in choices:
        named = "table"
    return named if named is not None and named in choices else fmt


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


ENGINES = ("duckdb", "spark")


def engine_options(spark_does: str):
    """--engine and --spark-master, for the commands Spark can run on a lake; `spark_does`
    says what Spark does in that command."""

    def decorate(func):
        func = click.option(
            "--spark-master",
            default="local[*]",
            envvar="TRIAGE_SPARK_MASTER",
            show_default=True,
            help="Where Spark runs, for --engine spark: local[N], spark://HOST:PORT, yarn...",
        )(func)
        return click.option(
            "--engine",
            type=click.Choice(ENGINES),
            default="duckdb",
            show_default=True,
            help=f"spark: {spark_does} (needs --lake and pip install 'triage[spark]').",
        )(func)

    return decorate


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
    shown = list(rows) if raw else redacted(list(rows))
    if fmt == "table" and output is None and sys.stdout.isatty():
        import shutil

        from triage.formats import format_table

        text = format_table(shown, width=shutil.get_terminal_size().columns)
    else:
        text = FORMATTERS[fmt](shown)
    write_text(text, output)


def write_text(text: str, output: Path | None) -> None:
    """To stdout, or atomically to a file (written beside it and renamed into place, so a
    reader never sees half a report)."""
    if output is None or str(output) == "-":
        click.echo(text, nl=False)
        return
    # Made with mode 0666 less the umask, as any file one shares (0644 typically): unlike
    # the store (0600), a report or an export is written to be passed on.
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, output)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise TriageError(
            f"cannot write {output}: {exc.strerror or exc}; choose a folder that exists "
            "and that you can write to"
        ) from None
    click.echo(f"wrote {output}", err=True)
