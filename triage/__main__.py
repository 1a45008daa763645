"""The triage command: `triage ...` and `python -m triage ...`.

Kept light: Ctrl-C handling is in place before click, DuckDB and the rest are imported.
"""

import sys


def main() -> None:
    try:
        from triage import interrupts
    except KeyboardInterrupt:  # before triage could take Ctrl-C over
        print("\nAborted.", file=sys.stderr)
        sys.exit(130)
    interrupts.run(_cli)


def _cli() -> None:
    from triage.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
