"""Time in Asia/Shanghai (北京时间).

China has used UTC+08:00 without daylight saving since 1991, so a fixed offset is
exact and avoids depending on tzdata being present in the Lambda image. Working days
and deadlines are `minyi.timelimits`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
# No citizen request of this system is older than this; a time before it is a typo or a probe,
# and times near year 1 overflow on the way to UTC.
EARLIEST = datetime(2000, 1, 1, tzinfo=SHANGHAI)
# How far ahead of our clock a channel's own timestamp may be (clock skew, time zones mixed up)
AHEAD = timedelta(days=1)


def now() -> datetime:
    return datetime.now(SHANGHAI)


def to_shanghai(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in minyi carries its zone")
    return moment.astimezone(SHANGHAI)


def iso(moment: datetime) -> str:
    return to_shanghai(moment).isoformat(timespec="seconds")


def epoch(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())


def parse_iso(text: str) -> datetime:
    return to_shanghai(datetime.fromisoformat(text))


def month_of(moment: datetime) -> str:
    return to_shanghai(moment).strftime("%Y-%m")


def plausible(moment: datetime, reference: datetime) -> bool:
    """A time an incoming request may carry: not before 2000, not more than a day
    ahead of `reference` (our clock). Compared in UTC-safe terms, so year 1 and
    year 9999 are simply out of range, never an overflow."""
    try:
        return EARLIEST <= moment <= reference + AHEAD
    except (OverflowError, TypeError):
        return False
