#!/usr/bin/env python3
"""Write the sample logs of the Scaling API (or benchmark data): the generator's entry point.

The code lives in the generator/ package beside this file (see its __init__); this script
only makes that package importable, for running it and for loading it by path (bench/_data.py
and the tests call write_bench).

    python sample_logs/generate.py                    # rewrite the committed sample
    python sample_logs/generate.py --out /tmp/s --seed 7
    python sample_logs/generate.py --bench 1000000 --out /tmp/bench.ndjson[.gz]
"""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:  # loaded by path (bench, tests), the package's folder is not
    sys.path.insert(0, HERE)
from generator.bench import write_bench  # noqa: E402
from generator.cli import main  # noqa: E402
from generator.sample import generate_sample  # noqa: E402

__all__ = ["generate_sample", "main", "write_bench"]

if __name__ == "__main__":
    sys.exit(main())
