"""Ctrl-C ends the triage command at any moment: exit status 130, no traceback.

run() is the command's first step (a library user keeps Python's own Ctrl-C handling). From
then on, after a SIGINT:
- every DuckDB statement running on a watched connection is interrupted. DuckDB's Python
  client notices a Ctrl-C only between units of work in the main thread, and then waits for
  its worker threads to finish theirs: a long statement running on one of them goes on to
  its end unless the connection is interrupted. The handler interrupts the connections, and
  so does a thread of ours at once, as the main thread may be waiting inside DuckDB, where
  no handler runs;
- the main thread gets one KeyboardInterrupt, as with Python's own handler, or at the end of
  a held() block; a second Ctrl-C adds none, so clean-up runs;
- check() raises it around every statement too: DuckDB drops an interrupt that reaches it
  before its statement starts, and turns one inside a statement into its own error;
- run() ends the command with exit status 130, whatever it was doing. Only Python's own
  start-up, before run(), is out of reach (a Ctrl-C there gets Python's traceback); in its
  shutdown, after run(), a Ctrl-C kills the process by SIGINT, which a shell shows as 130.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import weakref
from collections.abc import Callable

from triage.exceptions import EXIT_INTERRUPTED

_received = threading.Event()
_raised = False  # the main thread has had its KeyboardInterrupt (or may have none now)
_holding = 0  # held() blocks open in the main thread
# DuckDB connections whose statements a Ctrl-C interrupts; weakly, so that one dropped
# unclosed is closed (and lets go of its file) as before.
_watched: weakref.WeakSet = weakref.WeakSet()
# Reentrant: the handler runs in the main thread, perhaps while it is in watch() or forget().
_lock = threading.RLock()


def run(main: Callable[[], object]) -> None:
    """Run the command's main function; a Ctrl-C, wherever it lands, ends it with 130."""
    global _raised
    code: str | int | None = None  # stays None if it ended in an exception after a Ctrl-C
    try:
        try:
            _install()
            main()
            code = 0
        except SystemExit as done:
            code = 0 if done.code is None else done.code
        finally:
            _raised = True  # from here on a Ctrl-C is only recorded
    except KeyboardInterrupt:  # perhaps from Python's own handler, before ours was in place
        _received.set()
    except BaseException:
        if not _received.is_set():
            raise
    if signal.getsignal(signal.SIGINT) is _on_sigint:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Python's shutdown: die by SIGINT
    if _received.is_set() and code != EXIT_INTERRUPTED:
        print("\nAborted.", file=sys.stderr)
        code = EXIT_INTERRUPTED
    sys.exit(code)


def _install() -> None:
    """Our handler, where Ctrl-C raises KeyboardInterrupt to begin with: not when SIGINT is
    ignored (nohup) or handled by someone else."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return
    read, write = os.pipe()
    os.set_blocking(write, False)
    threading.Thread(target=_wake_up, args=(read,), name="triage-ctrl-c", daemon=True).start()
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    signal.signal(signal.SIGINT, _on_sigint)


def _wake_up(fd: int) -> None:
    """Python's C-level handler writes each signal's number to the wake-up fd at once, from
    whichever thread the signal lands in, while the main thread may be inside DuckDB."""
    while True:
        if signal.SIGINT in os.read(fd, 64):
            _interrupt_statements()


def _on_sigint(signum, frame) -> None:
    global _raised
    _interrupt_statements()
    if _holding or _raised:
        return
    _raised = True
    raise KeyboardInterrupt


def _interrupt_statements() -> None:
    _received.set()
    with _lock:
        for con in list(_watched):
            with contextlib.suppress(Exception):
                con.interrupt()


def watch(con) -> None:
    """Interrupt this connection's statements on Ctrl-C (until forget(con), before closing it)."""
    with _lock:
        _watched.add(con)


def forget(con) -> None:
    with _lock:
        _watched.discard(con)


def check() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed: before and after every DuckDB statement."""
    global _raised
    if _received.is_set():
        _raised = True
        raise KeyboardInterrupt


@contextlib.contextmanager
def held():
    """Hold a Ctrl-C back until the block is done, then raise it: for code that would
    swallow one (DuckDB's import) or lose track of what it started (a child process)."""
    global _holding, _raised
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _holding += 1
    try:
        yield
    finally:
        _holding -= 1
    if _received.is_set() and not _raised and not _holding:
        _raised = True
        raise KeyboardInterrupt
