"""Replay a CSV of real messages through the hotspot detector, offline: each row is routed by the
duty list's matcher (its matter) and the places module (its township and place), as intake would,
then `hotspots.detect` runs over the whole timeline. No AWS, no network.

Columns are found by name (first of each list present): time (time, 时间, 来电时间, created_at), title
(subject, title, 标题, 诉求标题), content (detail, content, 内容, 诉求内容), address (address, 地址),
and who asked (phone, 电话, 来电号码, user_id): that value is hashed at once and never kept."""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from minyi.core import clock
from minyi.reports.hotspots import Hotspot, HotspotRules, Message, detect
from minyi.routing.matcher import Matcher
from minyi.routing.places import places

COLUMNS = {
    "time": ("time", "时间", "来电时间", "created_at"),
    "title": ("subject", "title", "标题", "诉求标题"),
    "content": ("detail", "content", "内容", "诉求内容"),
    "address": ("address", "地址"),
    "who": ("phone", "电话", "来电号码", "user_id"),
}
TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                "%Y/%m/%d", "%Y-%m-%d")


@dataclass
class Replay:
    rows: int = 0
    routed: int = 0
    unmatched: int = 0  # the matcher found no matter
    undated: int = 0  # no readable time
    hotspots: list[Hotspot] = field(default_factory=list)
    messages_per_year: Counter[int] = field(default_factory=Counter)  # dated messages, by year

    def per_year(self) -> dict[int, dict[str, int]]:
        """Hotspots by the year they began, for every year the file has messages of (0s included)."""
        counts: Counter[tuple[int, str]] = Counter((h.first.year, h.kind) for h in self.hotspots)
        years = sorted({year for year, _ in counts} | set(self.messages_per_year))
        return {year: {"messages": self.messages_per_year[year], "rising": counts[(year, "rising")],
                       "repeated": counts[(year, "repeated")]} for year in years}


def parse_time(text: str) -> datetime | None:
    text = (text or "").strip()
    for pattern in TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=clock.SHANGHAI)
        except ValueError:
            continue
    return None


def who(value: str) -> str | None:
    value = (value or "").strip()
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16] if value else None


def _column(header: list[str], name: str) -> str | None:
    return next((c for c in COLUMNS[name] if c in header), None)


def message_of(matcher: Matcher, level: Literal[1, 3], at: datetime, title: str, content: str,
               address: str = "", asker: str | None = None) -> Message | None:
    """The message as the detector sees it, or None when no matter of the duty list fits."""
    matter = matcher.match(title, content, address or None).matter
    if matter is None:
        return None
    named = places(f"{title}\n{content}\n{address}")
    place = next((p for p in named if p.locality), None)
    return Message(at=at, matter=matter.path[0] if level == 1 else f"{matter.code} {matter.path[2]}",
                   township=named[0].township if named else None, phone=asker,
                   place=str(place) if place else None)


def replay(text: str, matcher: Matcher, rules: HotspotRules | None = None, level: Literal[1, 3] = 1) -> Replay:
    """Route every row of the CSV text and detect the hotspots of the whole timeline."""
    reader = csv.DictReader(io.StringIO(text))
    header = list(reader.fieldnames or [])
    time_col = _column(header, "time")
    if time_col is None or not (_column(header, "title") or _column(header, "content")):
        raise ValueError(f"the CSV needs a time column ({', '.join(COLUMNS['time'])}) and a title or content "
                         f"column; it has {', '.join(header)}")
    title_col, content_col = _column(header, "title"), _column(header, "content")
    address_col, who_col = _column(header, "address"), _column(header, "who")
    result, messages = Replay(), []
    for row in reader:
        result.rows += 1
        at = parse_time(row.get(time_col) or "")
        if at is None:
            result.undated += 1
            continue
        result.messages_per_year[at.year] += 1
        message = message_of(matcher, level, at, row.get(title_col or "") or "", row.get(content_col or "") or "",
                             row.get(address_col or "") or "", who(row.get(who_col or "") or ""))
        if message is None:
            result.unmatched += 1
            continue
        result.routed += 1
        messages.append(message)
    result.hotspots = detect(messages, rules)
    return result
