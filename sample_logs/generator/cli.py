"""The command line: write the sample (by default over the committed one) or benchmark data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .bench import write_bench
from .defaults import DEFAULT_DAYS, DEFAULT_REQUESTS_PER_DAY, DEFAULT_SEED, DEFAULT_START
from .sample import generate_sample

SAMPLE_DIR = Path(__file__).resolve().parent.parent  # sample_logs/, the committed sample


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write deterministic sample logs of the Scaling API (or benchmark data)."
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="output directory (default: this script's directory); "
        "with --bench, the output FILE (.gz to compress)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--start", default=DEFAULT_START, help="first day, a Monday (UTC)")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS)
    parser.add_argument("--requests-per-day", type=int, default=DEFAULT_REQUESTS_PER_DAY)
    parser.add_argument(
        "--bench", type=int, metavar="N", help="write N plain shape-A lines to --out FILE instead"
    )
    args = parser.parse_args(argv)

    if args.bench is not None:
        if args.out is None:
            parser.error("--bench needs --out FILE")
        write_bench(args.out, args.bench, seed=args.seed)
        print(f"wrote {args.bench} lines to {args.out}", file=sys.stderr)
        return 0
    out = args.out or SAMPLE_DIR
    try:
        manifest = generate_sample(
            out,
            seed=args.seed,
            start=args.start,
            days=args.days,
            requests_per_day=args.requests_per_day,
        )
    except ValueError as exc:
        parser.error(str(exc))
    for name, info in manifest["files"].items():
        print(f"{name}: {info['lines']} lines", file=sys.stderr)
    t = manifest["totals"]
    print(
        f"{t['requests']} requests ({t['failure_rate']:.1%} failed), {t['trace_events']} "
        f"trace events, {t['bad_lines']} bad lines -> {out}",
        file=sys.stderr,
    )
