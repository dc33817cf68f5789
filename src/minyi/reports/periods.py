"""Report periods (统计周期) in Asia/Shanghai: a day, an ISO week, a month, a quarter, a year or a
custom range of at most 366 days (the grammar: `minyi.models.period`). Their bounds, days,
Chinese labels, and the period a schedule reports on (the one just ended)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from minyi.core import clock
from minyi.models.period import PeriodKind, Span, parse

_QUARTERS = {1: "一", 2: "二", 3: "三", 4: "四"}


def period_kind(period: str) -> str:
    """day, week, month, quarter, year or range (ValueError if `period` is not one)."""
    return parse(period).kind.value


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """[start, end): midnight Asia/Shanghai of the first day and of the day after the last."""
    span = parse(period)
    return _midnight(span.first), _midnight(span.last + timedelta(days=1))


def period_days(period: str) -> list[date]:
    """Every day of the period, in order."""
    span = parse(period)
    return [span.first + timedelta(days=n) for n in range((span.last - span.first).days + 1)]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=clock.SHANGHAI)


def _day(day: date, year: int | None = None) -> str:
    """11月5日, with the year in front unless it is `year` (the label's own)."""
    text = f"{day.month}月{day.day}日"
    return text if day.year == year else f"{day.year}年{text}"


def period_label(period: str) -> str:
    """As a report prints it: 2026年11月5日, 2026年第45周（11月2日—11月8日）, 2026年11月, 2026年第四季度,
    2026年, 2026年1月5日至3月1日 (a day of another year than the label's names its year)."""
    span = parse(period)
    return _label(span)


def _label(span: Span) -> str:
    match span.kind:
        case PeriodKind.DAY:
            return _day(span.first)
        case PeriodKind.WEEK:
            return f"{span.year}年第{span.number}周（{_day(span.first, span.year)}—{_day(span.last, span.year)}）"
        case PeriodKind.MONTH:
            return f"{span.year}年{span.number}月"
        case PeriodKind.QUARTER:
            return f"{span.year}年第{_QUARTERS[span.number]}季度"
        case PeriodKind.YEAR:
            return f"{span.year}年"
        case _:
            if span.first == span.last:
                return _day(span.first)
            return f"{_day(span.first)}至{_day(span.last, span.first.year)}"


def previous_period(kind: str, now: datetime) -> str:
    """The period of `kind` that had just ended at `now` (Asia/Shanghai): yesterday, last ISO week,
    last month, last quarter or last year. What the 01:00 schedules report on."""
    today = clock.to_shanghai(now).date()
    match PeriodKind(kind):
        case PeriodKind.DAY:
            return (today - timedelta(days=1)).isoformat()
        case PeriodKind.WEEK:
            year, week, _ = (today - timedelta(days=7)).isocalendar()
            return f"{year:04d}-W{week:02d}"
        case PeriodKind.MONTH:
            last = today.replace(day=1) - timedelta(days=1)
            return f"{last.year:04d}-{last.month:02d}"
        case PeriodKind.QUARTER:
            last = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1) - timedelta(days=1)
            return f"{last.year:04d}-Q{(last.month - 1) // 3 + 1}"
        case PeriodKind.YEAR:
            return f"{today.year - 1:04d}"
    raise ValueError(f"no period just ended for {kind}: a custom range has no schedule")
