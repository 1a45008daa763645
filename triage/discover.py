"""Turning the PATH arguments of `triage ingest` into a list of inputs.

Globs are expanded here, in Python, and never handed to DuckDB as patterns, so a file whose
name holds '[', '*' or '?' is read as itself. A path that exists is always taken literally.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path

_GLOB_CHARS = set("*?[")

# What a directory contributes: JSON-lines logs and their rotations, plain or compressed
# (app.log, app.log.1, app.ndjson.gz, api.jsonl.2.zst). Other files are taken when named.
_LOG_NAME = re.compile(
    r"\.(log|ndjson|jsonl)(\.\d+)?(\.(gz|zst|zstd))?$|\.log\.\d+(\.(gz|zst|zstd))?$"
)


@dataclass(frozen=True)
class Problem:
    path: str  # as given (a path may hold ':' itself)
    why: str

    def __str__(self) -> str:
        return f"{self.path}: {self.why}"


@dataclass(frozen=True)
class Found:
    inputs: list[str]  # paths to read, in order, each once ('-' is stdin)
    problems: list[Problem]  # what could not be found or listed, and why


def discover(args: list[str]) -> Found:
    inputs: list[str] = []
    problems: list[Problem] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        key = path if path == "-" else os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            inputs.append(path)

    for arg in args:
        if arg == "-":
            add("-")
        elif os.path.isdir(arg):
            files = _walk(arg, problems)
            if not files:
                problems.append(
                    Problem(
                        arg,
                        "directory holds no *.log, *.ndjson or *.jsonl files; "
                        "name the files or use a glob",
                    )
                )
            for f in files:
                add(f)
        elif os.path.exists(arg):
            add(arg)
        elif _GLOB_CHARS & set(arg):
            matches = sorted(m for m in glob.glob(arg, recursive=True) if os.path.isfile(m))
            if not matches:
                problems.append(Problem(arg, "no file matches this pattern"))
            for m in matches:
                add(m)
        else:
            problems.append(Problem(arg, "no such file or directory"))
    return Found(inputs, problems)


def _walk(root: str, problems: list[Problem]) -> list[str]:
    """Log files below root, in a stable order; hidden files and folders are skipped."""
    out: list[str] = []

    def onerror(exc: OSError) -> None:
        problems.append(Problem(str(exc.filename), exc.strerror or str(exc)))

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and _LOG_NAME.search(name):
                path = os.path.join(dirpath, name)
                if os.path.isfile(path):
                    out.append(str(Path(path)))
    return out
