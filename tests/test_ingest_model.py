"""A model-based property test of ingest (README "Ingest"): random sequences of appends,
partial lines, lines left without a newline (as exports end), rename rotation, copytruncate,
gzip, delete, recreate, ingest, `ingest --final` and SIGKILLed ingests run against a real log
directory and a real DuckDB store; after every ingest the store must hold every complete line
written so far, each exactly once, and nothing rejected; and what it keeps beside its rows,
the failed requests (failed_requests) and the request-id index, must be exactly theirs. The
index takes runs of at least 5 rows here (not a million), so that its tail is merged often.

The model is the multiset of complete lines written (each with a unique request id and a valid
timestamp). Rules are constrained so that "written" equals "must be stored":
- a half-written line is finished by its writer: before copytruncate, and before or (in the
  renamed file, through the writer's open fd) after a rename rotation; nothing is written to
  the new app.log until it is, and a file is not gzipped or deleted while it is;
- a file may be deleted only if no change to it happened since the last successful ingest, so
  all of its complete lines are already in the store;
- a whole line left without a newline (an "unended" line) is complete once `--final` has taken
  it or its file is gzipped (an archive's end ends it); until then the next write to that file
  starts with the newline that ends it. Once taken, the file may grow either way: a newline
  first, or the next line straight after (each byte still lands in exactly one line). A final
  ingest is not run while a line is half written (it would take half a line, as asked).

Copytruncate with an identical first KiB is not generated: if a truncated file's new content
starts with the same bytes as the content triage fingerprinted, triage cannot tell it was
replaced (README). Every line carries a distinct request id near its start and a varied
payload, so new content never repeats an earlier head.

Runs fast by default (15 examples of 12 steps); TRIAGE_LONG_MODEL=1 runs 200 of 40.
Each run draws a seed and prints it; a failure names it too. TRIAGE_MODEL_SEED=<seed> replays
the same steps (the `crash` rule's SIGKILL lands by the clock, so a failure that depends on
exactly when it landed may need a few replays).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

import triage.ingest
from tests.conftest import (
    failed_requests_drift,
    request_index_drift,
    request_minutes_drift,
    source_lines_drift,
    source_shapes_drift,
)
from triage.ingest import ingest_paths
from triage.lake import MANIFEST, open_lake
from triage.lake_write import ingest_into_lake
from triage.store import open_store

LONG = os.environ.get("TRIAGE_LONG_MODEL") == "1"
MODEL_SETTINGS = settings(
    max_examples=200 if LONG else 15,
    stateful_step_count=40 if LONG else 12,
    deadline=None,
    database=None,  # failures print their steps; no .hypothesis/ example store in the repo
)

# Payload sizes straddle the 256-byte resume marker and the 1 KiB fingerprint.
payloads = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 -_", min_size=0, max_size=700)


def line_bytes(i: int, payload: str) -> bytes:
    line = {
        "timestamp": f"2026-11-16T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
        "requestId": f"r{i}",
        "msg": f"line {i} {payload}",
    }
    # one line in three a failed request and one a request that succeeded, so that the
    # failures copied apart (failed_requests) are checked against the rows after every ingest
    if i % 3 < 2:
        line.update(method="GET", path=f"/v1/things/{i}", statusCode=503 if i % 3 == 0 else 200)
    if i % 3 == 0:
        line["error"] = {"statusCode": 503, "type": "api_error", "code": "unavailable"}
    return json.dumps(line).encode()


@dataclass
class LogFile:
    ids: list[str] = field(default_factory=list)  # complete lines it holds
    dirty: bool = False  # changed since the last successful ingest


def stored(opened) -> tuple[Counter, int, int, int, list]:
    with opened as s:
        ids = Counter(r for (r,) in s.con.execute("SELECT request_id FROM events").fetchall())
        total, distinct = s.con.execute(
            "SELECT count(request_id), count(DISTINCT request_id) FROM events"
        ).fetchone()
        (rejects,) = s.con.execute("SELECT count(*) FROM rejects").fetchone()
        failures, drift = failed_requests_drift(s.con)
        indexed, index_drift = request_index_drift(s.con)
        requests, minutes_drift = request_minutes_drift(s.con)
        _, lines_drift = source_lines_drift(s.con)  # its count is records' own: no news
        _, shapes_drift = source_shapes_drift(s.con)
    assert failures == sum(1 for rid in ids if int(rid[1:]) % 3 == 0)
    assert requests == sum(1 for rid in ids if int(rid[1:]) % 3 < 2)
    assert indexed == total
    return (
        ids,
        total,
        distinct,
        rejects,
        drift + index_drift + minutes_drift + lines_drift + shapes_drift,
    )


class IngestModel(RuleBasedStateMachine):
    """Logs written, rotated, truncated and deleted, ingested into a store (or a lake:
    LakeModel), sometimes by a process killed mid-way: after every ingest that finishes, the
    store holds each complete line written exactly once, and its copies agree with it."""

    def __init__(self):
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="triage-model-"))
        self.logs = self.tmp / "logs"
        self.logs.mkdir()
        self.db = self.tmp / "store" / "triage.duckdb"
        self.live = self.logs / "app.log"
        self.live.write_bytes(b"")
        self.files: dict[str, LogFile] = {"app.log": LogFile()}
        self.written: Counter = Counter()  # the model: complete lines written
        self.next_id = 0
        self.next_rotation = 1
        # (request id, bytes still to write, file it is being written to)
        self.partial: tuple[str, bytes, str] | None = None
        # file name -> (request id of its unended last line, whether a final ingest took it)
        self.unended: dict[str, tuple[str, bool]] = {}
        self.ingests = 0

    def teardown(self):
        try:
            self.ingest()  # every sequence ends with a checked ingest
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # --- writing (append* write to app.log, never while a line is half written) -----------

    def _new_line(self, payload: str) -> tuple[str, bytes]:
        i = self.next_id
        self.next_id += 1
        return f"r{i}", line_bytes(i, payload) + b"\n"

    def _write_live(self, data: bytes) -> None:
        with self.live.open("ab") as f:
            f.write(data)
        self.files["app.log"].dirty = True

    def _count(self, name: str, rid: str) -> None:
        self.files[name].ids.append(rid)
        self.written[rid] += 1

    def _after_unended_line(self, newline_first: bool) -> bytes:
        """What app.log's next write starts with: the newline that ends an unended last line
        (always, unless a final ingest took that line already)."""
        if "app.log" not in self.unended:
            return b""
        rid, taken = self.unended.pop("app.log")
        if not taken:
            self._count("app.log", rid)  # its newline makes it a complete line
            return b"\n"
        return b"\n" if newline_first else b""

    @precondition(lambda self: self.partial is None)
    @rule(payloads=st.lists(payloads, min_size=1, max_size=4), newline_first=st.booleans())
    def append_lines(self, payloads, newline_first):
        self._write_live(self._after_unended_line(newline_first))
        for p in payloads:
            rid, data = self._new_line(p)
            self._write_live(data)
            self._count("app.log", rid)

    @precondition(lambda self: self.partial is None)
    @rule(payload=payloads, newline_first=st.booleans())
    def append_unended_line(self, payload, newline_first):
        """A whole line without its newline, as an export ends."""
        start = self._after_unended_line(newline_first)
        rid, data = self._new_line(payload)
        self._write_live(start + data[:-1])
        self.unended["app.log"] = (rid, False)

    @precondition(lambda self: self.partial is None and "app.log" not in self.unended)
    @rule(payload=payloads, cut=st.floats(min_value=0.0, max_value=1.0))
    def append_partial_line(self, payload, cut):
        rid, data = self._new_line(payload)
        body = data[:-1]
        k = 1 + int(cut * (len(body) - 2))  # 1 .. len(body)-1: never the whole line
        self._write_live(body[:k])
        self.partial = (rid, data[k:], "app.log")

    def _complete_partial(self) -> None:
        """The writer finishes its line, in whichever file it was started (its open fd)."""
        if self.partial is not None:
            rid, rest, name = self.partial
            with (self.logs / name).open("ab") as f:
                f.write(rest)
            self.files[name].ids.append(rid)
            self.files[name].dirty = True
            self.written[rid] += 1
            self.partial = None

    @precondition(lambda self: self.partial is not None)
    @rule()
    def complete_partial_line(self):
        self._complete_partial()

    # --- rotation ------------------------------------------------------------------------

    def _rotated_name(self) -> str:
        name = f"app.log.{self.next_rotation}"
        self.next_rotation += 1
        return name

    @rule(finish_first=st.booleans())
    def rotate_by_rename(self, finish_first):
        """With finish_first False and a line half written to app.log, the writer (holding its
        fd) finishes that line in the renamed file later (complete_partial_line), before it
        writes anything to the new app.log."""
        if finish_first or self.partial is None or self.partial[2] != "app.log":
            self._complete_partial()
        name = self._rotated_name()
        self.live.rename(self.logs / name)
        if self.partial is not None:
            self.partial = (*self.partial[:2], name)
        if "app.log" in self.unended:
            self.unended[name] = self.unended.pop("app.log")
        self.files[name] = self.files.pop("app.log")
        self.live.write_bytes(b"")
        self.files["app.log"] = LogFile()

    @rule()
    def copytruncate(self):
        self._complete_partial()
        name = self._rotated_name()
        shutil.copyfile(self.live, self.logs / name)
        old = self.files["app.log"]
        # The copy holds exactly what app.log held, so it is as ingested as app.log was.
        self.files[name] = LogFile(list(old.ids), old.dirty)
        if "app.log" in self.unended:
            self.unended[name] = self.unended.pop("app.log")
        with self.live.open("r+b") as f:
            f.truncate(0)
        self.files["app.log"] = LogFile(dirty=True)

    def _still_written(self) -> str | None:
        return self.partial[2] if self.partial else None

    def _plain_rotated(self) -> list[str]:
        return sorted(
            n
            for n in self.files
            if n != "app.log" and not n.endswith(".gz") and n != self._still_written()
        )

    @precondition(lambda self: self._plain_rotated())
    @rule(data=st.data())
    def gzip_rotated(self, data):
        name = data.draw(st.sampled_from(self._plain_rotated()))
        src = self.logs / name
        (self.logs / f"{name}.gz").write_bytes(gzip.compress(src.read_bytes()))
        src.unlink()
        # Same lines: if all were stored from the plain file, they are all stored.
        self.files[f"{name}.gz"] = self.files.pop(name)
        if name in self.unended:
            rid, taken = self.unended.pop(name)
            if not taken:  # the archive's end ends it: a line the store has yet to take
                self._count(f"{name}.gz", rid)
                self.files[f"{name}.gz"].dirty = True

    def _deletable_rotated(self) -> list[str]:
        return sorted(
            n
            for n, f in self.files.items()
            if n != "app.log" and not f.dirty and n != self._still_written()
        )

    @precondition(lambda self: self._deletable_rotated())
    @rule(data=st.data())
    def delete_rotated(self, data):
        name = data.draw(st.sampled_from(self._deletable_rotated()))
        (self.logs / name).unlink()
        del self.files[name]
        self.unended.pop(name, None)  # an unended line never taken is lost with its file

    @precondition(lambda self: self.partial is None and not self.files["app.log"].dirty)
    @rule(payloads=st.lists(payloads, min_size=0, max_size=3))
    def delete_and_recreate_live(self, payloads):
        self.live.unlink()
        self.live.write_bytes(b"")
        self.files["app.log"] = LogFile(dirty=True)
        self.unended.pop("app.log", None)
        for p in payloads:
            rid, data = self._new_line(p)
            self._write_live(data)
            self._count("app.log", rid)

    # --- ingesting -----------------------------------------------------------------------

    @rule()
    def ingest(self):
        self._checked_ingest(final=False)

    @precondition(lambda self: self.partial is None)
    @rule()
    def ingest_final(self):
        """`ingest --final`: every plain file is finished, its unended last line taken."""
        for name, (rid, taken) in list(self.unended.items()):
            if not taken:
                self._count(name, rid)
                self.unended[name] = (rid, True)
        self._checked_ingest(final=True)

    # where the lines go: a DuckDB store (LakeModel: a lake)
    def _ingest(self, final: bool):
        with open_store(self.db) as s:
            return ingest_paths(s, [str(self.logs)], final=final)

    def _reader(self):
        return open_store(self.db)

    def _target(self) -> list[str]:
        return ["--db", str(self.db)]

    def _checked_ingest(self, *, final: bool) -> None:
        summary = self._ingest(final).as_dict()
        self.ingests += 1
        assert summary["files_failed"] == 0, summary["errors"]
        assert summary["rejected"] == 0, summary
        ids, total, distinct, rejects, drift = stored(self._reader())
        assert total == distinct, "a line was stored twice"
        assert rejects == 0
        assert not drift, f"failed_requests or the index differs from the rows: {drift[:5]}"
        missing = self.written - ids
        extra = ids - self.written
        assert not missing and not extra, (
            f"missing {sorted(missing)} extra {sorted(extra)}; summary {summary}"
        )
        for f in self.files.values():
            f.dirty = False

    # the CLI needs ~0.3-0.7 s to start: delays up to 1.2 s reach kills in mid-ingest too
    @rule(delay=st.floats(min_value=0.0, max_value=1.2))
    def crash(self, delay):
        """`triage ingest` SIGKILLed after a short random delay; nothing is asserted here."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "triage", *self._target(), "ingest", str(self.logs)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        # A run that finished on its own does not count as an ingest of ours: files stay dirty.


class LakeModel(IngestModel):
    """The same logs and steps, ingested into a lake (triage.lake_write): a killed batch
    leaves files no manifest names, which the next one removes."""

    def _ingest(self, final: bool):
        return ingest_into_lake(self.tmp / "lake", [str(self.logs)], final=final)

    def _reader(self):
        return open_lake(self.tmp / "lake")

    def _target(self) -> list[str]:
        return ["--lake", str(self.tmp / "lake")]

    def _checked_ingest(self, *, final: bool) -> None:
        super()._checked_ingest(final=final)
        # what Spark or Trino reads (every file, no manifest) is what the manifest names
        lake = self.tmp / "lake"
        named = {f["path"] for f in json.loads((lake / MANIFEST).read_text())["files"]}
        on_disk = {p.relative_to(lake).as_posix() for p in lake.glob("*/**/*.parquet")}
        assert on_disk == named


def model_seed() -> int:
    """$TRIAGE_MODEL_SEED to replay a run, else a fresh one."""
    given = os.environ.get("TRIAGE_MODEL_SEED", "").strip()
    return int(given) if given else random.SystemRandom().getrandbits(32)


def run_model(machine: type[RuleBasedStateMachine], run_seed: int) -> None:
    """Run the state machine from run_seed; a failure says how to replay it."""
    print(f"ingest model: TRIAGE_MODEL_SEED={run_seed}")

    class Seeded(machine):  # the seed on a subclass: the shared class stays unseeded
        pass

    try:
        run_state_machine_as_test(seed(run_seed)(Seeded), settings=MODEL_SETTINGS)
    except BaseException as exc:
        exc.add_note(f"replay this run with TRIAGE_MODEL_SEED={run_seed}")
        raise


@pytest.mark.slow
def test_ingest_model(monkeypatch):
    # only --final finishes a file here: none is left unchanged for minutes, however slow
    monkeypatch.setenv("TRIAGE_FINISHED_AFTER", "1e9")
    monkeypatch.setattr(triage.ingest, "INDEX_RUN_ROWS", 5)
    run_model(IngestModel, model_seed())


@pytest.mark.slow
def test_lake_ingest_model(monkeypatch):
    monkeypatch.setenv("TRIAGE_FINISHED_AFTER", "1e9")
    monkeypatch.setattr(triage.ingest, "INDEX_RUN_ROWS", 5)
    run_model(LakeModel, model_seed())


class _Draws(RuleBasedStateMachine):
    """A machine that records what it drew, to check that a seed replays a run."""

    drawn: list[int] = []

    @rule(x=st.integers(0, 10**9))
    def draw(self, x):
        type(self).drawn.append(x)


def test_a_model_seed_replays_the_same_steps_and_is_named_on_failure(monkeypatch):
    runs = []
    for _ in range(2):
        _Draws.drawn = []
        run_model(_Draws, 1234)
        runs.append(list(_Draws.drawn))
    assert runs[0] and runs[0] == runs[1]
    _Draws.drawn = []
    run_model(_Draws, 4321)
    assert _Draws.drawn != runs[0]
    monkeypatch.setenv("TRIAGE_MODEL_SEED", "987")
    assert model_seed() == 987

    class Failing(RuleBasedStateMachine):
        @rule()
        def fail(self):
            raise AssertionError("model broken")

    with pytest.raises(AssertionError) as failed:
        run_model(Failing, 555)
    assert "replay this run with TRIAGE_MODEL_SEED=555" in failed.value.__notes__
