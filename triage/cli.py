"""The command line: parse arguments, call one library function, pick a formatter.

Expected failures (triage's own errors, DuckDB errors) meet the user here, at one boundary, as
a one-line `Error: ...` that says what to do next, with the exit codes documented in README.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import duckdb

from triage import __version__
from triage.errors import EXIT_INTERRUPTED, EXIT_PARTIAL, TriageError


class CliError(click.ClickException):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class TriageGroup(click.Group):
    """Turns expected exceptions into one-line errors instead of tracebacks."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except TriageError as exc:
            raise CliError(str(exc), exc.exit_code) from None
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CliError(f"DuckDB: {first}", 2) from None


class Context:
    def __init__(self, db: Path | None):
        self.db = db

    def open(self, *, read_only: bool):
        from triage.store import open_store

        return open_store(self.db, read_only=read_only)


pass_context = click.make_pass_decorator(Context)


@click.group(cls=TriageGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="triage")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TRIAGE_DB",
    help="The DuckDB store. Default: $TRIAGE_DB, else ~/.local/share/triage/triage.duckdb.",
)
@click.pass_context
def cli(ctx: click.Context, db: Path | None) -> None:
    """Answer support questions from Scaling API access logs.

    Ingest JSON log files into a DuckDB store, then ask it what happened.
    """
    ctx.obj = Context(db)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file saying which fields hold which column (see README).",
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
@pass_context
def ingest(
    obj: Context, paths: tuple[str, ...], mapping: Path | None, fmt: str, progress: bool | None
) -> None:
    """Ingest log files, directories (recursive), globs or '-' (stdin) into the store.

    Every line becomes an event or a rejected line with its reason; files already ingested
    add nothing, grown files add only their new lines.

    Example: triage ingest sample_logs/
    """
    from triage.ingest import ingest_paths, input_sizes
    from triage.mapping import load_mapping

    params = load_mapping(mapping) if mapping else None
    show = sys.stderr.isatty() if progress is None else progress
    with obj.open(read_only=False) as store:
        bar = None

        def start(inputs: list[str]) -> None:
            nonlocal bar
            if show:
                bar = click.progressbar(
                    length=input_sizes(inputs), label="ingesting", file=sys.stderr, show_eta=True
                )
                bar.__enter__()

        try:
            summary = ingest_paths(
                store,
                list(paths),
                mapping=params,
                on_inputs=start,
                progress=(lambda n: bar.update(n)) if show else None,
            )
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
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
    from triage.formats import format_table
    from triage.store import describe

    with obj.open(read_only=True) as store:
        facts = describe(store)
    if fmt == "json":
        click.echo(json.dumps(facts, indent=2, default=str))
        return
    sources = facts.pop("source_files")
    rejects = facts.pop("rejected_by_reason")
    width = max(len(k) for k in facts)
    for key, value in facts.items():
        click.echo(f"{key.ljust(width)}  {value if value is not None else '-'}")
    if rejects:
        click.echo("rejected by reason: " + ", ".join(f"{k} {v}" for k, v in rejects.items()))
    if sources:
        click.echo()
        click.echo(format_table(sources), nl=False)


def main() -> None:
    cli(prog_name="triage")
