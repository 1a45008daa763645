"""Signals sent to a real triage process at a moment chosen by what it has observably done
(a line on stderr, a read position, the CPU it has used), never by how long it has run.

The process is stopped (SIGSTOP) before its state is checked and stays stopped until the
signal is sent, so it cannot move on in between; SIGCONT then lets it handle the signal.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

# How long a Ctrl-C may take to end a command on a busy 2-core machine. It takes well under
# a second there; it used to be forever.
BOUND = 10.0


def start(*args, **popen) -> subprocess.Popen:
    """`python -m triage ARGS` with Ctrl-C at its default, as at a terminal: a shell's
    background job (a CI step) starts with SIGINT ignored, and its children inherit that."""
    return subprocess.Popen(
        [sys.executable, "-m", "triage", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        **popen,
    )


def stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name: state first, utime and stime at 11 and 12."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_seconds(pid: int) -> float:
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def threads(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return int(next(line for line in status.splitlines() if line.startswith("Threads:")).split()[1])


def children_of(pid: int) -> list[int]:
    """The processes pid started (from its main thread, as triage does) that still exist."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def stop(proc: subprocess.Popen) -> bool:
    """Stop the process; True once it is stopped, False if it had ended first."""
    proc.send_signal(signal.SIGSTOP)
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        fields = stat_fields(proc.pid)
        if fields is None or fields[0] in ("Z", "X"):
            return False
        if fields[0] == "T":
            return True
        time.sleep(0.0005)
    raise AssertionError(f"process {proc.pid} did not stop")


def send_stopped(proc: subprocess.Popen, sig: int = signal.SIGINT) -> bool:
    """Stop the process, send it sig, let it go on; False (nothing sent) if it had ended."""
    if not stop(proc):
        return False
    proc.send_signal(sig)
    proc.send_signal(signal.SIGCONT)
    return True


def started(proc: subprocess.Popen) -> bool:
    """Wait until triage's own code runs: its Ctrl-C thread is its first act, so a second
    thread means Python's start-up (which triage cannot speak for) is over."""
    return wait_until(proc, lambda: threads(proc.pid) >= 2)


def wait_until(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 60) -> bool:
    """Poll until ready(); False if the process ended first."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if ready():
            return True
        if time.monotonic() > deadline:
            raise AssertionError("the process never reached the state waited for")
        time.sleep(0.001)
    return False


class Output:
    """The process's stdout and stderr as read so far, read while waiting for a state (so a
    full pipe never blocks it); finish() reads the rest."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.out = b""
        self.err = b""
        self._sel = selectors.DefaultSelector()
        for stream in (proc.stdout, proc.stderr):
            os.set_blocking(stream.fileno(), False)
            self._sel.register(stream.fileno(), selectors.EVENT_READ)

    def _read(self, timeout: float) -> bool:
        """Read what is there (waiting up to timeout); False once both pipes are closed."""
        if not self._sel.get_map():
            return False
        for key, _ in self._sel.select(timeout):
            chunk = os.read(key.fd, 65536)
            if not chunk:
                self._sel.unregister(key.fd)
            elif key.fd == self.proc.stdout.fileno():
                self.out += chunk
            else:
                self.err += chunk
        return True

    def wait_for(self, ready: Callable[[Output], bool], timeout: float = 60) -> bool:
        """Read until ready(self); False if the process closed its output first."""
        deadline = time.monotonic() + timeout
        while not ready(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"never got there; stderr so far: {self.err[-2000:]!r}")
            if not self._read(0.001):
                return ready(self)
        return True

    def finish(self, timeout: float = BOUND) -> tuple[bytes, bytes]:
        """Everything, once the process has ended (within timeout, else it is killed)."""
        deadline = time.monotonic() + timeout
        while self._read(max(0.0, min(0.05, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"still running {timeout:g}s after the signal: {self.err!r}")
        self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        self._sel.close()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.out, self.err


def assert_interrupted(proc: subprocess.Popen, out: bytes, err: bytes) -> None:
    """Ended by the Ctrl-C: exit status 130 (or killed by SIGINT, which a shell shows as 130,
    if it came while Python was shutting down), one line on stderr at most, no traceback."""
    text = err.decode(errors="replace")
    assert proc.returncode in (130, -signal.SIGINT), (proc.returncode, text)
    assert "Traceback" not in text, text
    assert len([line for line in text.splitlines() if line.strip()]) <= 1, text
