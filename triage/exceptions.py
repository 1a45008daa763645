"""triage's own exceptions. The CLI turns each into a one-line message and its exit code."""

# Exit codes, documented in README. Few on purpose.
EXIT_OK = 0
EXIT_PARTIAL = 1  # some inputs failed (ingest) or some ids were not found (lookup)
EXIT_USAGE = 2  # bad arguments or bad input the user must fix (click uses 2 as well)
EXIT_BUSY = 3  # another process holds the store
EXIT_BUG = 4  # triage itself failed: an exception nobody expected (TRIAGE_DEBUG=1 shows it)
EXIT_INTERRUPTED = 130


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name if it has none): what a
    one-line error quotes of DuckDB's or the system's words."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class TriageError(Exception):
    """An expected failure: shown to the user as one line, with what to do next."""

    exit_code = EXIT_USAGE


class StoreError(TriageError):
    """The store cannot be opened or is not a triage store."""


class StoreBusy(TriageError):
    exit_code = EXIT_BUSY
    holder = "another process"


class QueryFileError(TriageError):
    """A .sql file in queries/ is malformed (reported with file:line)."""


class MappingError(TriageError):
    """A --mapping file is malformed."""
