"""Time in the sample: epoch milliseconds everywhere, formatted only when a line is rendered.

The calendar is the sampled period; its last seven days are the "current" week, where the
scenarios happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS_SECOND = 1000
MS_MINUTE = 60 * MS_SECOND
MS_HOUR = 60 * MS_MINUTE
MS_DAY = 24 * MS_HOUR


def iso_seconds(ms: int) -> str:
    """``2026-11-09T10:00:00`` for an epoch-millisecond instant (UTC)."""
    return (EPOCH + timedelta(seconds=ms // MS_SECOND)).strftime("%Y-%m-%dT%H:%M:%S")


def iso_z(ms: int) -> str:
    """Shape A / inner shape C: ``2026-11-09T10:00:00.123Z``."""
    return f"{iso_seconds(ms)}.{ms % MS_SECOND:03d}Z"


def iso_offset(ms: int) -> str:
    """Shape B: ``2026-11-09T10:00:00.123+00:00``."""
    return f"{iso_seconds(ms)}.{ms % MS_SECOND:03d}+00:00"


def iso_nanos(ns: int) -> str:
    """Docker json-file wrapper: ``2026-11-09T10:00:00.130456789Z``."""
    return f"{iso_seconds(ns // 1_000_000)}.{ns % 1_000_000_000:09d}Z"


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def clf_local(ms: int, offset_minutes: int) -> str:
    """nginx's $time_local, ``10/Nov/2026:15:36:28 +0530``: the instant on a clock that is
    ``offset_minutes`` east of UTC. Month names are spelled out here, not by the locale."""
    local = EPOCH + timedelta(milliseconds=ms + offset_minutes * MS_MINUTE)
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return (
        f"{local.day:02d}/{MONTHS[local.month - 1]}/{local.year}:{local:%H:%M:%S} "
        f"{sign}{hours:02d}{minutes:02d}"
    )


def iso_week(ms: int) -> str:
    year, week, _ = (EPOCH + timedelta(milliseconds=ms)).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Calendar:
    """The sampled period. The last 7 days are the "current" week (W46 by default)."""

    start: date
    days: int

    @property
    def start_ms(self) -> int:
        return (
            datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC) - EPOCH
        ) // timedelta(milliseconds=1)

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.days * MS_DAY

    @property
    def current_week_ms(self) -> int:
        return self.end_ms - 7 * MS_DAY

    def current_week(self, day: int, hms: str) -> int:
        """An instant in the current week: day 0 is its Monday."""
        return self.current_week_ms + day * MS_DAY + _hms_ms(hms)

    def previous_week(self, day: int, hms: str) -> int:
        return self.current_week(day - 7, hms)


def _hms_ms(hms: str) -> int:
    hours, minutes, seconds = hms.split(":")
    return int(hours) * MS_HOUR + int(minutes) * MS_MINUTE + round(float(seconds) * MS_SECOND)


def parse_start(value: str | date) -> date:
    start = value if isinstance(value, date) else date.fromisoformat(value)
    if start.weekday() != 0:
        raise ValueError(f"--start must be a Monday (ISO weeks), got {start} ({start:%A})")
    return start
