"""What an ingest did, file by file: the counts that make up its accounting, and the summary
printed after it (text for people, JSON for scripts)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class FileResult:
    name: str
    status: str  # ingested | skipped | error
    detail: str = ""  # why skipped, or the error
    source_id: int | None = None
    resumed_at: int = 0  # byte offset the read started from
    lines: int = 0  # lines read this run (complete lines only)
    blank: int = 0
    requests: int = 0
    other_events: int = 0  # trace and log events
    repaired: int = 0  # events kept after replacing invalid UTF-8 bytes (counted in events)
    rejected: Counter = field(default_factory=Counter)
    pending_bytes: int = 0  # an incomplete last line left for a later run
    warning: str | None = None  # most lines rejected: why, and the next step (triage.misfit)
    noted: bool = False  # the text summary gives it a line of its own (name: detail)

    @property
    def events(self) -> int:
        return self.requests + self.other_events


@dataclass
class Summary:
    files: list[FileResult]
    seconds: float
    interrupted: bool = False  # Ctrl-C: the file being read was rolled back, the rest kept
    notes: list[str] = field(default_factory=list)  # about the run as a whole

    def _sum(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    @property
    def errors(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "error"]

    def rejected_by_reason(self) -> dict[str, int]:
        total: Counter = Counter()
        for f in self.files:
            total.update(f.rejected)
        return dict(sorted(total.items(), key=lambda kv: (-kv[1], kv[0])))

    def as_dict(self) -> dict:
        """The summary scripts read (`ingest --format json`); keys are stable."""
        lines = self._sum("lines")
        return {
            "files": sum(1 for f in self.files if f.status == "ingested"),
            "files_skipped": sum(1 for f in self.files if f.status == "skipped"),
            "files_failed": len(self.errors),
            "lines": lines,
            "blank": self._sum("blank"),
            "events": self._sum("events"),
            "requests": self._sum("requests"),
            "repaired": self._sum("repaired"),
            "rejected": sum(sum(f.rejected.values()) for f in self.files),
            "rejected_by_reason": self.rejected_by_reason(),
            "pending_bytes": self._sum("pending_bytes"),
            "interrupted": self.interrupted,
            "seconds": round(self.seconds, 3),
            "lines_per_second": round(lines / self.seconds) if self.seconds > 0 else None,
            "errors": [f"{f.detail}" for f in self.errors],
            "notes": self.notes,
            "per_file": [
                {
                    "path": f.name,
                    "status": f.status,
                    "detail": f.detail,
                    "source_id": f.source_id,
                    "resumed_at": f.resumed_at,
                    "lines": f.lines,
                    "blank": f.blank,
                    "events": f.events,
                    "requests": f.requests,
                    "repaired": f.repaired,
                    "rejected": sum(f.rejected.values()),
                    "pending_bytes": f.pending_bytes,
                    "warning": f.warning,
                }
                for f in self.files
            ],
        }

    def as_text(self) -> str:
        """The human summary, for stderr."""
        d = self.as_dict()
        rate = f", {d['lines_per_second']:,} lines/s" if d["lines_per_second"] else ""
        events = f"{d['events']:,} events ({d['requests']:,} requests)"
        if d["repaired"]:
            clean = d["events"] - d["repaired"]
            events = (
                f"{d['events']:,} events ({d['requests']:,} requests; {clean:,} clean + "
                f"{d['repaired']:,} repaired)"
            )
        out = [
            f"files: {d['files']} read, {d['files_skipped']} skipped (already ingested or empty), "
            f"{d['files_failed']} failed",
            f"lines: {d['lines']:,} read = {events} "
            f"+ {d['rejected']:,} rejected + {d['blank']:,} blank, in {d['seconds']:.2f}s{rate}",
        ]
        if d["repaired"]:
            out.append(
                f"repaired: {d['repaired']:,} line{'s' if d['repaired'] != 1 else ''} with invalid "
                "UTF-8 bytes, replaced by U+FFFD (the raw bytes are kept)"
            )
        if d["rejected_by_reason"]:
            out.append(
                "rejected: "
                + ", ".join(f"{k} {v:,}" for k, v in d["rejected_by_reason"].items())
                + "  (details: triage info)"
            )
        out += [_file_note(f) for f in self.files if f.noted]
        out += self.notes
        if d["pending_bytes"]:
            out.append(
                f"waiting: {d['pending_bytes']:,} bytes of an incomplete last line "
                "(ingested once its newline arrives, or once its file is finished: "
                "--final, or 5 minutes unchanged)"
            )
        out += [f"warning: {f.warning}" for f in self.files if f.warning]
        if self.interrupted:
            out.append(
                "interrupted: the file being read was rolled back; "
                "run the same command again to finish"
            )
        return "\n".join(out) + "\n"


def _file_note(f: FileResult) -> str:
    if f.status == "ingested":  # read again: its rows replaced
        lines = f"{f.lines:,} line{'s' if f.lines != 1 else ''}"
        return f"{f.name}: {f.detail} ({lines}; the rows read before are replaced)"
    return f"{f.name}: {f.detail}"
