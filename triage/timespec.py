"""Times as support engineers type them: ISO dates and times, or '24h' / '7d' ago.

"Now" is the wall clock, or $TRIAGE_NOW (an ISO time) so that reports and tests can pin it.
A naive time is read in the --tz time zone; everything is compared in UTC.

Local time has one source of truth: the IANA time zone database of the `tzdata` package
triage depends on, the same vintage on every machine (an operating system's copy may be
years old), or the directory of TZif files that $TRIAGE_TZPATH names. Week bounds are
computed from it in Python; where DuckDB buckets by local day or hour, it is handed that
database's UTC offsets (utc_offsets) and never asked its own ICU data.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

_DURATION = re.compile(r"^\s*(\d+)\s*(s|sec|m|min|h|d|w)\s*$")
_UNITS = {
    "s": "seconds",
    "sec": "seconds",
    "m": "minutes",
    "min": "minutes",
    "h": "hours",
    "d": "days",
    "w": "weeks",
}
LONGEST = dt.timedelta(days=36_600)  # a century: longer spans are typing mistakes
_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$")
# A date and a time whose hour lost its leading zero (2026-11-10T9:00): ISO wants two digits.
_SHORT_HOUR = re.compile(r"^(\d{4}-\d{2}-\d{2})([T ])(\d):")
# The abbreviations people type for a zone. Each names a zone that changes its clocks (PST
# is Pacific time, PDT in summer), never a fixed offset: IANA's own EST and MST are fixed
# -05:00 and -07:00, wrong for New York or Denver half the year.
ABBREVIATIONS = {
    **dict.fromkeys(("PST", "PDT", "PT"), "America/Los_Angeles"),
    **dict.fromkeys(("MST", "MDT", "MT"), "America/Denver"),
    **dict.fromkeys(("CST", "CDT", "CT"), "America/Chicago"),
    **dict.fromkeys(("EST", "EDT", "ET"), "America/New_York"),
    **dict.fromkeys(("AKST", "AKDT"), "America/Anchorage"),
    "HST": "Pacific/Honolulu",
    **dict.fromkeys(("BST",), "Europe/London"),
    **dict.fromkeys(("CET", "CEST"), "Europe/Paris"),
    **dict.fromkeys(("EET", "EEST"), "Europe/Athens"),
    "IST": "Asia/Kolkata",
    "JST": "Asia/Tokyo",
    **dict.fromkeys(("AEST", "AEDT"), "Australia/Sydney"),
}


class TimeSpecError(ValueError):
    """A time or zone the user typed that cannot be read; the message says what would work."""


def parse_duration(text: str) -> dt.timedelta:
    """'90s', '30m', '2h', '1d', '2w' as a timedelta: the one grammar of spans, for spans
    ago (--since 7d) and widths (--window 2h) alike."""
    m = _DURATION.match(text)
    if not m:
        raise TimeSpecError(f"cannot read {text!r} as a span; use 90s, 30m, 2h, 7d or 2w")
    span = dt.timedelta(**{_UNITS[m.group(2)]: int(m.group(1))}) if len(m.group(1)) < 12 else None
    if span is None or span > LONGEST:
        raise TimeSpecError(f"{text.strip()!r} is longer than a century; use a shorter span")
    return span


def zone(name: str) -> ZoneInfo:
    """The named IANA zone from triage's time zone database (see the module's docstring)."""
    found = _zone(name) if _ZONE_NAME.match(name) else None
    if found is None:
        right_case = _in_another_case(name)
        hint = f"did you mean {right_case}? " if right_case else ""
        raise TimeSpecError(
            f"unknown time zone {name!r}; {hint}use an IANA name such as UTC, Europe/Paris "
            "or America/New_York"
        )
    return found


def resolve_zone(name: str) -> tuple[str, str | None]:
    """The IANA name a --tz value stands for, and a note when it was an abbreviation (PST is
    read as America/Los_Angeles: PST in winter, PDT in summer)."""
    name = name.strip()
    city = ABBREVIATIONS.get(name.upper())
    if city:
        return city, f"--tz {name} read as {city}, which changes its clocks as people there do"
    zone(name)
    return name, None


def _in_another_case(name: str) -> str | None:
    """The zone name that differs from `name` only in case (europe/berlin), if one does."""
    from zoneinfo import available_timezones  # (only on the error path: it reads every name)

    return {z.lower(): z for z in available_timezones()}.get(name.lower())


@cache
def _zone(name: str) -> ZoneInfo | None:
    custom = os.environ.get("TRIAGE_TZPATH")
    if custom:
        entry: Path | Traversable = Path(custom).joinpath(*name.split("/"))
    else:
        from importlib import resources  # (imported here: most commands never name a zone)

        entry = resources.files("tzdata").joinpath("zoneinfo", *name.split("/"))
    if not entry.is_file():
        return None
    with entry.open("rb") as fh:
        try:
            return ZoneInfo.from_file(fh, key=name)
        except ValueError:  # not a TZif file (a directory's stray README, say)
            return None


@cache
def zone_names() -> tuple[str, ...]:
    """The IANA zones people pick from (Region/City), sorted; what a zone picker offers."""
    from zoneinfo import available_timezones

    return tuple(sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/")))


def now() -> dt.datetime:
    pinned = os.environ.get("TRIAGE_NOW")
    if pinned:
        return parse_time(pinned, "UTC", now_=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    return dt.datetime.now(dt.UTC)


def parse_time(text: str, tz: str = "UTC", now_: dt.datetime | None = None) -> dt.datetime:
    """An aware UTC datetime from '2026-11-09', '2026-11-09T14:00' (or T9:00), '...Z',
    'today' and 'yesterday' (local midnight), 'now', '24h', '7d'."""
    text = text.strip()
    day = {"today": 0, "yesterday": 1}.get(text.lower())
    if day is not None:  # local midnight, in tz
        here = (now_ or now()).astimezone(zone(tz))
        midnight = dt.datetime.combine(here.date() - dt.timedelta(days=day), dt.time())
        return midnight.replace(tzinfo=zone(tz)).astimezone(dt.UTC)
    if text.lower() == "now":
        return now_ or now()
    text = _SHORT_HOUR.sub(r"\1\g<2>0\3:", text)
    if _DURATION.match(text):
        try:
            return (now_ or now()) - parse_duration(text)
        except OverflowError:
            raise TimeSpecError(f"{text!r} ago is before the year 1; use a shorter span") from None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TimeSpecError(
            f"cannot read {text!r} as a time; use an ISO date or time (2026-11-09, "
            "2026-11-09T14:00, 2026-11-09T14:00Z), today, yesterday, or a span ago (30m, "
            "24h, 7d, 2w)"
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


# The first instant of the offsets' first run: earlier than any time a log can hold.
_BEGINNING = dt.datetime(1, 1, 2, tzinfo=dt.UTC)


def utc_offsets(
    tz: str, start: dt.datetime | None, end: dt.datetime | None
) -> tuple[list[dt.datetime], list[int]]:
    """The zone's UTC offsets from start to end as runs: the instants each run starts at and
    its offset in seconds. The first run reaches back to the beginning of time and the last
    one on forever, so every instant falls in one; SQL picks the last run that starts at or
    before a time (queries/schema.sql, local_time). The clocks are looked at once a day and
    a change is narrowed down to the second (zones change their clocks months apart)."""
    z = zone(tz)
    if start is None or end is None or tz in ("UTC", "Etc/UTC"):
        return [_BEGINNING], [_offset(z, start or _BEGINNING)]
    at = start - dt.timedelta(days=1)
    stop = end + dt.timedelta(days=1)
    starts, offsets = [_BEGINNING], [_offset(z, at)]
    while at < stop:
        step = min(at + dt.timedelta(days=1), stop)
        if _offset(z, step) != offsets[-1]:
            lo, hi = at, step  # the change happens after lo, by hi
            while hi - lo > dt.timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if _offset(z, mid) == offsets[-1] else (lo, mid)
            starts.append(hi.replace(microsecond=0))
            offsets.append(_offset(z, hi))
        at = step
    return starts, offsets


def _offset(z: ZoneInfo, at: dt.datetime) -> int:
    offset = at.astimezone(z).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$")


def parse_week(text: str) -> tuple[int, int]:
    """An ISO week as people write it (2026-W46, 2026w46), as (year, week)."""
    m = _WEEK.match(text.strip().upper())
    if not m:
        raise ValueError(f"cannot read {text!r} as an ISO week; use the form 2026-W46")
    year, week = int(m.group(1)), int(m.group(2))
    try:
        dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{text!r}: {year} has no week {week}") from None
    return year, week
