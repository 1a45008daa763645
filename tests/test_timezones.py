"""One time-zone database: local days and hours in SQL come from the same database as the
week's bounds (triage's, never DuckDB's ICU data), so daily totals add up to the headline
and no gap is invented around a clock change, in zones with odd offsets and rules alike."""

from __future__ import annotations

import datetime as dt
import struct
from collections import Counter

import pytest

from tests.conftest import ingest, write_lines
from triage import timespec
from triage.failures import Filters, group_failures
from triage.report import week_bounds, weekly
from triage.store import open_store
from triage.timespec import zone as ZoneInfo  # triage's one zone database

ZONES = [
    "America/Vancouver",
    "America/Winnipeg",
    "Africa/Casablanca",  # clocks go back for Ramadan, forward after it
    "Europe/Berlin",
    "America/New_York",
    "America/St_Johns",  # -03:30 / -02:30
    "Asia/Kathmandu",  # +05:45
    "Asia/Tehran",
    "Australia/Lord_Howe",  # a half-hour clock change
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/Santiago",
    "Pacific/Apia",
]
# Two stretches of traffic, one request every quarter hour, covering spring and autumn clock
# changes in both hemispheres (and Ramadan 2026 in Casablanca).
STRETCHES = [
    (dt.datetime(2026, 2, 2, tzinfo=dt.UTC), dt.datetime(2026, 4, 20, tzinfo=dt.UTC)),
    (dt.datetime(2026, 9, 14, tzinfo=dt.UTC), dt.datetime(2026, 11, 23, tzinfo=dt.UTC)),
]


def instants() -> list[dt.datetime]:
    out = []
    for begin, end in STRETCHES:
        at = begin
        while at < end:
            out.append(at)
            at += dt.timedelta(minutes=15)
    return out


def is_failure(i: int) -> bool:
    return i % 3 == 0


@pytest.fixture(scope="module")
def tz_store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tz")
    lines = [
        {
            "timestamp": at.isoformat().replace("+00:00", "Z"),
            "requestId": f"tz-{i}",
            "method": "GET",
            "path": "/v1/incidents",
            "statusCode": 500 if is_failure(i) else 200,
        }
        for i, at in enumerate(instants())
    ]
    db = tmp / "tz.duckdb"
    with open_store(db) as store:
        ingest(store, write_lines(tmp / "tz.log", lines))
    with open_store(db, read_only=True) as store:
        yield store


def weeks_with_a_clock_change(zone: str) -> list[tuple[int, int]]:
    """ISO weeks inside the stretches whose local week holds an offset change."""
    z = ZoneInfo(zone)
    weeks = []
    for begin, end in STRETCHES:
        day = begin.date() + dt.timedelta(days=7)
        while day + dt.timedelta(days=14) <= end.date():
            year, week, _ = day.isocalendar()
            start, stop = week_bounds(year, week, zone)
            offsets = {
                (start + dt.timedelta(hours=h)).astimezone(z).utcoffset()
                for h in range(int((stop - start).total_seconds() // 3600) + 1)
            }
            if len(offsets) > 1:
                weeks.append((year, week))
            day += dt.timedelta(days=7)
    return weeks


@pytest.mark.parametrize("zone", ZONES)
def test_daily_totals_add_up_to_the_headline_with_no_gap_invented(tz_store, zone):
    weeks = weeks_with_a_clock_change(zone) or [(2026, 46)]
    for year, week in weeks:
        report = weekly(tz_store, (year, week), zone)
        start, end = week_bounds(year, week, zone)
        expected = Counter(
            at.astimezone(ZoneInfo(zone)).date().isoformat()
            for at in instants()
            if start <= at < end
        )
        days = {d["day"]: d["requests"] for d in report["daily"]}
        assert {d: n for d, n in days.items() if n} == dict(expected), (zone, week)
        assert sum(days.values()) == report["headline"]["requests"]["value"], (zone, week)
        quality = report["data_quality"]
        assert quality["hours_without_data"] == 0 and quality["gaps"] == [], (zone, week)
        assert len(report["hourly"]) == quality["hours_in_week"], (zone, week)


@pytest.mark.parametrize("zone", ZONES)
def test_errors_by_day_and_hour_put_each_failure_in_its_local_bucket(tz_store, zone):
    z = ZoneInfo(zone)
    since, until = STRETCHES[1]
    failures = [at for i, at in enumerate(instants()) if is_failure(i) and since <= at < until]
    filters = Filters(since=since, until=until, tz=zone)
    by_day = group_failures(tz_store, ("day",), filters, limit=1000)
    got = {r["day"]: r["count"] for r in by_day.rows}
    assert got == dict(Counter(at.astimezone(z).strftime("%Y-%m-%d") for at in failures))
    by_hour = group_failures(tz_store, ("hour",), filters, limit=10_000)
    got = {r["hour"]: r["count"] for r in by_hour.rows}
    assert got == dict(Counter(at.astimezone(z).strftime("%Y-%m-%d %H:00") for at in failures))


def fixed_offset_tzif(offset_seconds: int, abbreviation: str, posix: str) -> bytes:
    """A TZif file (RFC 8536, version 2) for a zone that keeps one offset forever."""
    designation = abbreviation.encode() + b"\0"
    counts = struct.pack(">6l", 0, 0, 0, 0, 1, len(designation))
    header = b"TZif2" + b"\0" * 15 + counts
    data = struct.pack(">lBB", offset_seconds, 0, 0) + designation
    return header + data + header + data + b"\n" + posix.encode() + b"\n"


@pytest.fixture
def berlin_on_permanent_summer_time(tmp_path, monkeypatch):
    """A time zone database ($TRIAGE_TZPATH) where Berlin keeps +02:00 all year, as no
    version of DuckDB's bundled ICU data says: if DuckDB were asked, they would disagree."""
    zone_dir = tmp_path / "zoneinfo" / "Europe"
    zone_dir.mkdir(parents=True)
    (zone_dir / "Berlin").write_bytes(fixed_offset_tzif(2 * 3600, "CEST", "<+02>-2"))
    monkeypatch.setenv("TRIAGE_TZPATH", str(tmp_path / "zoneinfo"))
    timespec._zone.cache_clear()
    summer = dt.timedelta(hours=2)
    assert dt.datetime(2026, 11, 10, tzinfo=ZoneInfo("Europe/Berlin")).utcoffset() == summer
    yield "Europe/Berlin"
    monkeypatch.delenv("TRIAGE_TZPATH")
    timespec._zone.cache_clear()


def test_local_time_comes_from_triages_zone_database_never_duckdbs(
    tz_store, berlin_on_permanent_summer_time
):
    zone = berlin_on_permanent_summer_time
    report = weekly(tz_store, (2026, 46), zone)
    start, end = week_bounds(2026, 46, zone)
    assert start == dt.datetime(2026, 11, 8, 22, tzinfo=dt.UTC)
    expected = Counter(
        (at + dt.timedelta(hours=2)).date().isoformat() for at in instants() if start <= at < end
    )
    days = {d["day"]: d["requests"] for d in report["daily"]}
    assert days == dict(expected)
    assert sum(days.values()) == report["headline"]["requests"]["value"]
    assert report["data_quality"]["hours_without_data"] == 0
    filters = Filters(since=start, until=end, tz=zone)
    by_hour = group_failures(tz_store, ("hour",), filters, limit=500)
    assert min(r["hour"] for r in by_hour.rows) == "2026-11-09 00:00"
    assert max(r["hour"] for r in by_hour.rows) == "2026-11-15 23:00"


def test_the_zone_database_is_the_tzdata_package():
    """Not the operating system's copy, which may be years old (Debian 12's 2025b does not
    know that British Columbia keeps daylight time all year from 2026)."""
    import zoneinfo

    import tzdata

    z = ZoneInfo("America/Vancouver")
    with open(f"{tzdata.__path__[0]}/zoneinfo/America/Vancouver", "rb") as fh:
        packaged = zoneinfo.ZoneInfo.from_file(fh)
    for month in range(1, 13):
        at = dt.datetime(2026, month, 15, 12, tzinfo=dt.UTC)
        assert at.astimezone(z).utcoffset() == at.astimezone(packaged).utcoffset()
