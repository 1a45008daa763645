"""The parameters of a run; these defaults make the committed sample."""

from __future__ import annotations

DEFAULT_SEED = 46
DEFAULT_START = "2026-11-02"  # Monday of ISO week 2026-W45
DEFAULT_DAYS = 14
DEFAULT_REQUESTS_PER_DAY = 1050  # ~18k lines, ~6 MB; 1400 gives ~24k lines, ~8 MB
