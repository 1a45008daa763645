"""The command line: parse arguments, call one library function, pick a formatter.

Expected failures (triage's own errors, DuckDB errors) meet the user here, at one boundary, as
a one-line `Error: ...` that says what to do next, with the exit codes documented in README.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from triage import __version__, interrupts
from triage.cli_support import (
    ROW_FORMATS,
    Parsed,
    emit,
    engine_options,
    output_file_option,
    output_options,
    print_sql,
    raw_option,
    show_sql_option,
    time_options,
    tz_option,
    write_text,
)
from triage.exceptions import EXIT_BUG, EXIT_INTERRUPTED, EXIT_PARTIAL, TriageError, first_line
from triage.failures import DEFAULT_BY, GROUP_KEYS, parse_by, parse_status
from triage.redact import mask
from triage.timespec import parse_duration, parse_week


class TriageGroup(click.Group):
    """Turns every exception into a one-line error instead of a traceback. Text that may
    quote a stored value (DuckDB's messages do, and so may a bug's) is masked like any other
    output; triage's own messages say only what the user gave."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            # one line, with where to look, instead of click's usage block
            command = exc.ctx.command_path if exc.ctx else "triage"
            fail(f"{exc.format_message()} (see '{command} --help')", exc.exit_code)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except TriageError as exc:
            fail(str(exc), exc.exit_code)
        except Exception as exc:  # a bug: still one line, the traceback on request
            if os.environ.get("TRIAGE_DEBUG"):
                raise
            fail(
                f"triage failed unexpectedly ({type(exc).__name__}: {mask(first_line(exc))}); "
                "this is a bug: run again with TRIAGE_DEBUG=1 to see where, and report it",
                EXIT_BUG,
            )
        sys.exit(0)

    def invoke(self, ctx: click.Context):
        # Loaded here, not at import, so that --help and --version stay fast. DuckDB's module
        # set-up swallows a Ctrl-C, or turns it into an ImportError: it is held back until
        # the import is done, and Ctrl-C keeps meaning exit 130.
        with interrupts.held():
            import duckdb
        try:
            return super().invoke(ctx)
        except duckdb.Error as exc:
            interrupts.check()  # DuckDB's own words for a Ctrl-C are not an error
            raise TriageError(f"DuckDB: {mask(first_line(exc))}") from None


def fail(message: str, exit_code: int) -> NoReturn:
    """Every error ends here: one line on stderr, and its exit code."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(exit_code)


def to_stderr(message: str) -> None:
    click.echo(message, err=True)


class Context:
    def __init__(self, db: Path | None, wait: float = 0, lake: Path | None = None):
        self.db = db
        self.wait = wait
        self.lake = lake  # a lake of Parquet files (triage.lake) instead of the store

    def open(
        self,
        *,
        read_only: bool,
        show_sql: bool = False,
        engine: str = "duckdb",
        spark_master: str = "local[*]",
    ):
        from triage.store import Store, open_store_waiting

        store: Store
        if engine == "spark":
            if self.lake is None:
                raise click.UsageError("--engine spark reads a lake: pass --lake DIR")
            from triage.spark_store import open_spark_store

            store = open_spark_store(self.lake, spark_master)
        elif self.lake is not None:
            from triage.lake import open_lake

            store = open_lake(self.lake)  # (read only: ingest writes a lake its own way)
        else:
            store = open_store_waiting(
                self.db, read_only=read_only, wait=self.wait, on_wait=to_stderr
            )
        if show_sql:
            store.on_sql = print_sql
        return store


pass_context = click.make_pass_decorator(Context)


@click.group(cls=TriageGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="triage")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TRIAGE_DB",
    help="The DuckDB store. Default: $TRIAGE_DB, else ~/.local/share/triage/triage.duckdb.",
)
@click.option(
    "--lake",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="TRIAGE_LAKE",
    help="A lake: a directory of Parquet files, by day, instead of the DuckDB store (see "
    "README, 'Past one machine'). Default: $TRIAGE_LAKE.",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0,
    envvar="TRIAGE_WAIT",
    show_default=True,
    help="Seconds to wait while another triage process holds the store (then exit 3).",
)
@click.pass_context
def cli(ctx: click.Context, db: Path | None, lake: Path | None, wait: float) -> None:
    """Answer support questions from Scaling API access logs.

    Ingest JSON log files into a DuckDB store, then ask it what happened.
    """
    explicit = click.core.ParameterSource.COMMANDLINE
    if db is not None and lake is not None:
        if ctx.get_parameter_source("db") == ctx.get_parameter_source("lake") == explicit:
            raise click.UsageError("pass --db or --lake, not both")
        if ctx.get_parameter_source("db") == explicit:
            lake = None  # --db given wins over $TRIAGE_LAKE, as --lake over $TRIAGE_DB
        else:
            db = None
    ctx.obj = Context(db, wait, lake)


@cli.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file saying which fields hold which column (see README). A file read before "
    "with another mapping is read again with this one. Default: the mapping each file was "
    "last read with.",
)
@click.option(
    "--final",
    is_flag=True,
    help="The files are finished: take a last line that has no newline (else it waits for "
    "its newline, or for its file to be unchanged for 5 minutes).",
)
@click.option(
    "--reread",
    is_flag=True,
    help="Read the PATHS again from their first line, replacing their rows; with no PATHS, "
    "every file read with older parsing rules (see 'triage info').",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: print the summary as one JSON object on stdout.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: when stderr is a terminal).",
)
@engine_options("a lake's files are read by Spark's executors, each with triage's DuckDB ingest")
@pass_context
def ingest(
    obj: Context,
    paths: tuple[str, ...],
    mapping: Path | None,
    final: bool,
    reread: bool,
    fmt: str,
    progress: bool | None,
    engine: str,
    spark_master: str,
) -> None:
    """Ingest log files, directories (recursive), globs or '-' (stdin) into the store.

    Every line becomes an event or a rejected line with its reason; files already ingested
    add nothing, grown files add only their new lines.

    Example: triage ingest sample_logs/
    """
    from triage.ingest import ingest_paths, input_sizes
    from triage.mapping import load_mapping

    if not paths and not reread:
        raise click.UsageError("Missing argument 'PATHS...' (or pass --reread)")
    lake = obj.lake
    if engine == "spark" and lake is None:
        raise click.UsageError("--engine spark writes a lake: pass --lake DIR")
    params = load_mapping(mapping) if mapping else None
    show = sys.stderr.isatty() if progress is None and engine == "duckdb" else bool(progress)
    with contextlib.ExitStack() as stack:
        bars: list = []  # the progress bar, made once the inputs (and their sizes) are known

        def start(inputs: list[str]) -> None:
            if show:
                bar = click.progressbar(
                    length=input_sizes(inputs), label="ingesting", file=sys.stderr, show_eta=True
                )
                bars.append(stack.enter_context(bar))

        how: dict[str, Any] = {
            "mapping": params,
            "final": final,
            "reread": reread,
            "on_inputs": start,
            "progress": (lambda n: bars[0].update(n)) if show else None,
        }
        if lake is not None and engine == "spark":
            from triage.spark import ingest_with_spark, needs_pyspark

            needs_pyspark()
            summary = ingest_with_spark(
                lake, list(paths), master=spark_master, wait=obj.wait, on_wait=to_stderr, **how
            )
        elif lake is not None:
            from triage.lake_write import ingest_into_lake

            summary = ingest_into_lake(lake, list(paths), wait=obj.wait, on_wait=to_stderr, **how)
        else:
            store = stack.enter_context(obj.open(read_only=False))
            summary = ingest_paths(store, list(paths), **how)
    if fmt == "json":
        click.echo(json.dumps(summary.as_dict(), indent=2))
    click.echo(summary.as_text(), err=True, nl=False)
    for failed in summary.errors:
        click.echo(f"Error: {failed.detail}", err=True)
    if summary.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if summary.errors:
        click.echo(
            "Fix or remove the files above and run the same command again: "
            "what was read is kept, nothing is read twice.",
            err=True,
        )
        sys.exit(EXIT_PARTIAL)


@cli.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@pass_context
def info(obj: Context, fmt: str) -> None:
    """Show which store is in use, its schema version, sources, counts and time range.

    Example: triage info
    """
    from triage.formats import format_info
    from triage.ingest import PARSING_RULES
    from triage.store import describe

    with obj.open(read_only=True) as store:
        facts = describe(store, parsing_rules=PARSING_RULES)
    if fmt == "json":
        click.echo(json.dumps(facts, indent=2, default=str))
    else:
        click.echo(format_info(facts), nl=False)


@cli.command()
@click.option(
    "--by",
    "by",
    type=Parsed("KEYS", parse_by),
    default=",".join(DEFAULT_BY),
    show_default=True,
    help=f"Group by these, comma-separated: {', '.join(GROUP_KEYS)}.",
)
@time_options
@click.option("--org", help="Only this org id (any case).")
@click.option("--key", help="Only this API key id (any case).")
@click.option(
    "--route",
    help="Only this route: /v1/incidents/{id}, 'GET /v1/incidents' or a raw path with ids.",
)
@click.option("--method", help="Only this HTTP method (GET, POST...).")
@click.option("--status", type=Parsed("STATUS", parse_status), help="4xx, 5xx or a code (404).")
@click.option("--type", "type_", help="Only this error type (any case).")
@click.option("--code", help="Only this error code (any case).")
@click.option("--explain", is_flag=True, help="Add the documented meaning of each code.")
@click.option(
    "--examples",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Example request ids per row.",
)
@click.option("--limit", default=50, show_default=True, help="At most this many rows.")
@output_options
@engine_options("the queries that read the lake's lines and failures run on Spark SQL")
@pass_context
def errors(
    obj: Context,
    by,
    since,
    until,
    tz,
    org,
    key,
    route,
    method,
    status,
    type_,
    code,
    explain,
    examples,
    limit,
    fmt,
    output,
    show_sql,
    engine,
    spark_master,
) -> None:
    """Group failures by type and code (or route, org, key, time, ...).

    A failure is a request with HTTP status 400 or more, or one that carries an error (an
    error body, or flattened errorType / errorCode fields).

    Example: triage errors --by route,code --since 7d
    """
    from triage.failures import Filters, group_failures

    filters = Filters(since, until, org, route, status, type_, code, tz=tz, method=method, key=key)
    with obj.open(
        read_only=True, show_sql=show_sql, engine=engine, spark_master=spark_master
    ) as store:
        result = group_failures(store, by, filters, examples=examples, limit=limit, explain=explain)
    for note in result.notes:
        click.echo(note, err=True)
    emit(result.rows, fmt, output)


@cli.command()
@time_options
@click.option(
    "--examples",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Example request ids per row.",
)
@output_options
@engine_options("the queries that read the lake's lines and failures run on Spark SQL")
@pass_context
def contract(
    obj: Context, since, until, tz, examples, fmt, output, show_sql, engine, spark_master
) -> None:
    """Check every logged error against the documented error contract.

    Lists, grouped and counted, where the API breaks its own documentation: statuses or
    codes not allowed for a type, undocumented codes, body statusCode or requestId that
    disagree with the request, error bodies on successes, failures without one.

    Example: triage contract --since 2026-11-09 --until 2026-11-16
    """
    from triage.contract import check_contract

    with obj.open(
        read_only=True, show_sql=show_sql, engine=engine, spark_master=spark_master
    ) as store:
        rows = check_contract(store, since=since, until=until, tz=tz, examples=examples)
    if not rows:
        click.echo("no contract violations in the chosen range", err=True)
    emit(rows, fmt, output)


@cli.command("catalog")
@click.option("--format", "fmt", type=click.Choice(ROW_FORMATS), default="table", show_default=True)
def catalog_command(fmt: str) -> None:
    """Print the documented error catalogue: codes, types, statuses, meaning, advice.

    Example: triage catalog --format md
    """
    from triage.catalog import CODES, TYPES

    rows = [
        {
            "code": c.code,
            "type": c.type,
            "status": c.status,
            "meaning": c.meaning,
            "customer_action": c.action,
        }
        for c in CODES
    ]
    rows += [
        {
            "code": "",
            "type": t.name,
            "status": "/".join(map(str, t.statuses)),
            "meaning": t.meaning,
            "customer_action": "",
        }
        for t in TYPES
        if t.name in ("validation_error", "internal_error")
    ]
    emit(rows, fmt, None)


@cli.command("queries")
@click.option("--format", "fmt", type=click.Choice(ROW_FORMATS), default="table", show_default=True)
@click.option(
    "--all", "show_all", is_flag=True, help="Include the steps of ingest, the schema and reports."
)
def queries_command(fmt: str, show_all: bool) -> None:
    """List the named SQL queries, with their parameters and descriptions.

    Run one with 'triage query NAME'.

    Example: triage queries
    """
    from triage.sql import all_queries, runnable

    rows = [
        {
            "name": q.name,
            "file": f"{q.file}:{q.line}",
            "params": " ".join(q.params),
            "description": q.description.split("\n")[0],
        }
        for q in all_queries().values()
        if show_all or runnable(q)
    ]
    emit(rows, fmt, None)


@cli.command("query")
@click.argument("name")
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A $parameter's value (repeatable); unset parameters are NULL.",
)
@output_options
@raw_option
@pass_context
def query_command(obj: Context, name, params, fmt, output, show_sql, raw) -> None:
    """Run one named query (see 'triage queries') against the store, read-only.

    Example: triage query rejects_by_reason --format json
    """
    from triage.adhoc import run_named

    with obj.open(read_only=True, show_sql=show_sql) as store:
        rows = run_named(store, name, parse_params(params))
    emit(rows, fmt, output, raw=raw)


@cli.command("sql")
@click.argument("statement")
@output_options
@raw_option
@pass_context
def sql_command(obj: Context, statement, fmt, output, show_sql, raw) -> None:
    """Run ad-hoc SQL against the store, read-only.

    Tables and views: events, rejects, records, sources, meta.

    Example: triage sql "SELECT route, count(*) FROM events GROUP BY ALL ORDER BY 2 DESC"
    """
    from triage.adhoc import run_adhoc

    if show_sql:
        click.echo(statement, err=True)
    with obj.open(read_only=True) as store:
        rows = run_adhoc(store, statement)
    emit(rows, fmt, output, raw=raw)


@cli.command()
@click.argument("ids", nargs=-1)
@click.option(
    "--ticket",
    type=click.File("r", encoding="utf-8", errors="replace"),
    help="Free text (an e-mail, a ticket; '-' for stdin): look up every id in it.",
)
@click.option("--prefix", is_flag=True, help="Accept id prefixes of 8 characters or more.")
@click.option(
    "--window",
    type=Parsed("SPAN", parse_duration),
    default="1h",
    show_default=True,
    help="How far around the request to look for related failures (30m, 2h).",
)
@tz_option("The customer's time zone, shown next to UTC.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "md", "json", "html"]),
    default="text",
    show_default=True,
)
@output_file_option
@show_sql_option
@pass_context
def lookup(obj: Context, ids, ticket, prefix, window, tz, fmt, output, show_sql) -> None:
    """What happened to these requests: the request, its error, its trace, its context.

    IDS are request ids; '-' reads them from stdin, one per line. --ticket digs every id
    out of free text. Exit status: 0 all found, 1 some not found, 2 usage error.

    Example: triage lookup --ticket customer-email.txt --format md
    """
    from triage.lookup import lookup_ids
    from triage.render import render_lookup

    wanted = gather_ids(ids, ticket)
    with obj.open(read_only=True, show_sql=show_sql) as store:
        results = lookup_ids(store, wanted, window=window, prefix=prefix)
    write_text(render_lookup(results, fmt, tz), output)
    missing = [r.request_id for r in results if not r.found]
    if missing:
        click.echo(f"not found: {', '.join(missing)}", err=True)
        sys.exit(EXIT_PARTIAL)


@cli.command()
@time_options
@click.option("--auto", is_flag=True, help="Pick the worst burst of failures in the range.")
@click.option(
    "--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True
)
@output_file_option
@show_sql_option
@engine_options("the queries that read the lake's lines and failures run on Spark SQL")
@pass_context
def incident(
    obj: Context, since, until, tz, auto, fmt, output, show_sql, engine, spark_master
) -> None:
    """Summarise an incident: window, impact against a baseline, codes, routes, timeline.

    Give the window with --since/--until, or let --auto find the worst burst of failures
    in the range (the whole store by default). Ends with a status-page paragraph.

    Example: triage incident --auto --since 2026-11-09 --until 2026-11-16
    """
    from triage.incident import summarize
    from triage.render import render_incident

    with obj.open(
        read_only=True, show_sql=show_sql, engine=engine, spark_master=spark_master
    ) as store:
        found = summarize(store, since, until, auto=auto)
    write_text(render_incident(found, fmt, tz), output)


@cli.command()
@click.argument("ids", nargs=-1)
@click.option(
    "--ticket",
    type=click.File("r", encoding="utf-8", errors="replace"),
    help="Free text holding the request ids ('-' for stdin).",
)
@tz_option("The customer's time zone: every time is shown in it.")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@output_file_option
@pass_context
def summary(obj: Context, ids, ticket, tz, fmt, output) -> None:
    """A support-ready summary of requests, to paste into the ticket.

    What happened, when (in the customer's --tz), the error explained, the evidence, and
    what the customer should do. Secrets and e-mail addresses are masked.

    Example: triage summary 55fbf2be-94b1-43c7-9665-ba6ae898d53b --tz Europe/Berlin
    """
    _lookup_view(obj, "summary", gather_ids(ids, ticket), tz, fmt, output)


@cli.command()
@click.argument("ids", nargs=-1)
@click.option(
    "--ticket",
    type=click.File("r", encoding="utf-8", errors="replace"),
    help="Free text holding the request ids ('-' for stdin).",
)
@tz_option("The customer's time zone.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "md", "html"]),
    default="text",
    show_default=True,
    help="Plain text to paste into an e-mail, or Markdown, or an HTML page.",
)
@output_file_option
@pass_context
def reply(obj: Context, ids, ticket, tz, fmt, output) -> None:
    """Draft a friendly reply to the customer about their requests, ready for an e-mail.

    What we saw, why it failed, how to fix it, with the request ids quoted back; an id we
    cannot find is said plainly, with what to send instead. IDS as for lookup, or --ticket.

    Example: triage reply 21555e8c-bbea-4dbf-ae18-e5fe078a9635 --tz America/New_York
    """
    _lookup_view(obj, "reply", gather_ids(ids, ticket), tz, fmt, output)


def _lookup_view(obj: Context, view: str, ids: list[str], tz: str, fmt: str, output) -> None:
    from triage.lookup import lookup_ids
    from triage.render import render_lookup

    with obj.open(read_only=True) as store:
        results = lookup_ids(store, ids)
    write_text(render_lookup(results, fmt, tz, view), output)
    if not all(r.found for r in results):
        sys.exit(EXIT_PARTIAL)


@cli.group("mapping")
def mapping_group() -> None:
    """Mapping files: which fields of a log hold which column (see README)."""


@mapping_group.command("suggest")
@click.argument("file")
@output_file_option
@click.option(
    "--lines",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="How many lines to sample: the first ones, and some spread through a plain file.",
)
def mapping_suggest(file: str, output: Path | None, lines: int) -> None:
    """Propose a mapping file for FILE from the names and values of its fields.

    Each column's rule comes with how many sampled lines it reads; columns it cannot
    place are warned about on stderr (and as comments). Check it, then ingest with it.

    Example: triage mapping suggest access.log -o access.toml
    """
    from triage.suggest import render_toml, suggest_mapping

    found = suggest_mapping(file, lines)
    for warning in found.warnings:
        click.echo(f"warning: {warning}", err=True)
    write_text(render_toml(found), output)


@cli.group()
def report() -> None:
    """Reports made from the store."""


@report.command("weekly")
@click.option(
    "--week",
    type=Parsed("WEEK", lambda t: parse_week(t)),
    help="ISO week, e.g. 2026-W46. Default: the last complete week in the store.",
)
@tz_option("Where the week starts and ends, and every time shown.")
@click.option(
    "--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True
)
@output_file_option
@click.option(
    "--stamp",
    is_flag=True,
    help="Say when the report was generated (it is otherwise the same bytes for the same store).",
)
@show_sql_option
@engine_options("the queries that read the lake's lines and failures run on Spark SQL")
@pass_context
def weekly(obj: Context, week, tz, fmt, output, stamp, show_sql, engine, spark_master) -> None:
    """The weekly error report: headline with week-over-week change, codes (new, gone, up
    sharply), routes, orgs and keys, detected incidents, contract violations, data quality.

    Example: triage report weekly --week 2026-W46 --format html -o week46.html
    """
    from triage.render import render_report
    from triage.report import weekly as build
    from triage.timespec import local, now

    with obj.open(
        read_only=True, show_sql=show_sql, engine=engine, spark_master=spark_master
    ) as store:
        data = build(store, week, tz)
    text = render_report(data, fmt, stamp=local(now(), tz) if stamp else None)
    write_text(text, output)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--token",
    envvar="TRIAGE_TOKEN",
    help="Required off localhost: every request must carry it ($TRIAGE_TOKEN).",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    help="Another name the desk reaches this server by (the Host header is checked).",
)
@pass_context
def serve(obj: Context, host: str, port: int, token: str | None, allow_hosts) -> None:
    """The support desk in a browser: paste a ticket, see what happened, copy the answer.

    Read-only pages on the store (lookup, errors, contract, weekly reports, incidents,
    sources) and JSON for scripts. It holds the store only while answering, so
    'triage ingest' runs beside it. Ctrl-C stops it.

    Example: triage serve --port 8765
    """
    from triage.serve import run_server

    run_server(
        obj.lake or obj.db,
        host=host,
        port=port,
        token=token,
        allowed_hosts=set(allow_hosts),
        say=lambda line: click.echo(line, err=True),
    )


def gather_ids(ids: tuple[str, ...], ticket) -> list[str]:
    """The ids to look up, from arguments, '-' (stdin, one per line) and --ticket text."""
    from triage.lookup import ids_in_argument, ids_in_text

    wanted: list[str] = []
    for arg in ids:
        if arg == "-":
            piped = sys.stdin.read().splitlines()
            wanted += [i for line in piped for i in ids_in_argument(line)]
        elif found := ids_in_argument(arg):
            wanted += found
        else:
            raise click.BadParameter(
                "an empty request id matches nothing; give the id as the customer quoted it",
                param_hint="IDS",
            )
    if ticket is not None:
        found = ids_in_text(ticket.read())
        if not found:
            raise click.BadParameter("no request id found in this text", param_hint="--ticket")
        wanted += found
    if not wanted:
        raise click.UsageError("give request ids, '-' to read them from stdin, or --ticket FILE")
    return list(dict.fromkeys(wanted))


def parse_params(pairs: tuple[str, ...]) -> dict:
    params: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--param")
        params[key.lstrip("$")] = int(value) if value.lstrip("-").isdigit() else value
    return params


def main() -> None:
    cli(prog_name="triage")
