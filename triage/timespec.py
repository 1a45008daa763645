"""Times as support engineers type them: ISO dates and times, or '24h' / '7d' ago.

"Now" is the wall clock, or $TRIAGE_NOW (an ISO time) so that reports and tests can pin it.
A naive time is read in the --tz time zone; everything is compared in UTC.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_RELATIVE = re.compile(r"^(\d+)\s*(m|min|h|d|w)$")
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class TimeSpecError(ValueError):
    """A time or zone the user typed that cannot be read; the message says what would work."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeSpecError(
            f"unknown time zone {name!r}; use an IANA name such as UTC, Europe/Paris or "
            "America/New_York"
        ) from None


def now() -> dt.datetime:
    pinned = os.environ.get("TRIAGE_NOW")
    if pinned:
        return parse_time(pinned, "UTC", now_=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    return dt.datetime.now(dt.UTC)


def parse_time(text: str, tz: str = "UTC", now_: dt.datetime | None = None) -> dt.datetime:
    """An aware UTC datetime from '2026-11-09', '2026-11-09T14:00', '...Z', '24h', '7d'."""
    text = text.strip()
    m = _RELATIVE.match(text)
    if m:
        return (now_ or now()) - dt.timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TimeSpecError(
            f"cannot read {text!r} as a time; use an ISO date or time (2026-11-09, "
            "2026-11-09T14:00, 2026-11-09T14:00Z) or a span ago (30m, 24h, 7d, 2w)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(tz))
    return value.astimezone(dt.UTC)


def local(value: dt.datetime | None, tz: str) -> str | None:
    """An ISO time in zone tz, with its offset ('Z' for UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    text = value.astimezone(zone(tz)).isoformat(timespec="seconds")
    return text.replace("+00:00", "Z") if tz in ("UTC", "Etc/UTC") else text
