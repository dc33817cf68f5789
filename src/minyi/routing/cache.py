"""The duty list in force per warm container, and its matcher."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from minyi.dal import duty_list as store
from minyi.models.duty import DutyList

if TYPE_CHECKING:
    from minyi.routing.matcher import Matcher


class CachedDutyList:
    """The duty list in force and its matcher per warm container. Every `ttl` seconds
    only the version pointer is read (one small item), so a new version reaches
    dispatch within a minute, with the terms operators' corrections taught since (a
    handful of items); the matters are re-read only when the version changed, and the
    matcher rebuilt only when the version or the learned terms changed."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._value: DutyList | None = None
        self._matcher: Matcher | None = None
        self._learned: dict[str, dict[str, float]] = {}
        self._checked_at = 0.0

    def get(self) -> DutyList | None:
        if self._checked_at == 0.0 or time.monotonic() - self._checked_at > self.ttl:
            version = store.current_version()
            if version is None:
                self._value = None
            else:
                if self._value is None or self._value.version != version:
                    self._value = store.load(version)
                self._learned = store.learned(version)
            self._checked_at = time.monotonic()
        return self._value

    def matcher(self) -> Matcher | None:
        current = self.get()
        if current is None:
            return None
        if self._matcher is None or self._matcher.duty_list is not current or \
                self._matcher.learned != self._learned:
            # imported here: Open311's reads need the list, not the matcher
            from minyi.routing.matcher import Matcher

            self._matcher = Matcher(current, self._learned)
        return self._matcher
