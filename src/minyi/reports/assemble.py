"""The report's numbers (`ReportDocument`), from the KPI counters alone: one Query per view and
month, O(departments × days), never the orders (the 明细 sheet's orders excepted, capped).

A county report ranks every department within its group (部门, 乡镇) with its 红榜 and 黑榜;
a department's own report carries its own row (with its place in the ranking) and its own
channels, matters, townships and days, and nothing of any other department's."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from minyi.channels.registry import registry
from minyi.core import settings
from minyi.core.observability import logger, metrics
from minyi.dal import counters as store
from minyi.models.kpi import Counters, ScoreWeights
from minyi.models.report import DetailRow, HotspotRow, ReportDocument, ViewRow
from minyi.reports import kpi
from minyi.reports.counting import ALL, GAUGE, GAUGE_DAY, OPEN, SEP, UNASSIGNED
from minyi.reports.periods import period_days, period_label

DEPARTMENTS, TOWNSHIPS = "部门", "乡镇"


def weights() -> ScoreWeights:
    """The county's score weights (SCORE_WEIGHTS), or the defaults."""
    configured = settings.current().score_weights
    return ScoreWeights.model_validate_json(configured) if configured.strip() else ScoreWeights()


def group_of(department: str) -> str:
    """Township governments (and the development zone) rank apart from the district's departments."""
    return TOWNSHIPS if department.endswith(("人民政府", "开发区")) else DEPARTMENTS


def _summed(items: Iterable[tuple[date, str, dict[str, int]]], by_day: bool = False) -> dict:
    sums: dict = defaultdict(lambda: defaultdict(int))
    for day, value, counts in items:
        key = day if by_day else value
        for name, amount in counts.items():
            if name in Counters.model_fields:
                sums[key][name] += amount
    found = {}
    for key, values in sums.items():
        below = {name: amount for name, amount in values.items() if amount < 0}
        if below:  # only a backfill whose lookback missed an order can do this: say so, show 0
            logger.warning("negative counters read as 0", extra={"key": str(key), "counters": below})
            metrics.add_metric(name="NegativeCounters", unit="Count", value=len(below))
        found[key] = Counters(**{name: max(0, amount) for name, amount in values.items()})
    return found


def _row(name: str, counters: Counters, w: ScoreWeights, label: str | None = None, group: str = "") -> ViewRow:
    rates = kpi.rates(counters)
    return ViewRow(name=name, label=label or name, group=group, counters=counters, rates=rates,
                   score=kpi.score(rates, counters, w))


def _ranked(rows: list[ViewRow]) -> list[ViewRow]:
    places = {(r.name, r.group): r for r in kpi.rank([(row.name, row.group, row.score) for row in rows])}
    out = []
    for row in rows:
        place = places[(row.name, row.group)]
        out.append(row.model_copy(update={"rank": place.rank, "red": place.red, "black": place.black}))
    return sorted(out, key=lambda r: (r.group, r.rank is None, r.rank or 0, r.name))


def _by_volume(rows: dict[str, Counters], w: ScoreWeights, labels: dict[str, str] | None = None) -> list[ViewRow]:
    made = [_row(name, c, w, (labels or {}).get(name)) for name, c in rows.items()]
    return sorted(made, key=lambda r: (-r.counters.received, r.name))


def assemble(report_id: str, period: str, scope: str | None, built_at: datetime,
             details: list[DetailRow] | None = None, details_truncated: bool = False,
             hotspots: list[HotspotRow] | None = None) -> ReportDocument:
    days = period_days(period)
    start, end = days[0], days[-1]
    w = weights()
    channel_names = {cid: c.name for cid, c in registry().items()}
    department_items = list(store.read("dept", ALL, start, end))  # read once: by department and by day
    departments = _summed(department_items)
    ranked = _ranked([_row(name, c, w, group=group_of(name)) for name, c in departments.items()
                      if name != UNASSIGNED])
    if scope is None:
        total = sum(departments.values(), Counters())
        rows = ranked
        view_scope = ALL
        daily = _summed(department_items, by_day=True)
    else:
        rows = [row for row in ranked if row.name == scope] or [_row(scope, Counters(), w, group=group_of(scope))]
        view_scope = scope
        daily = _summed(store.read("day", scope, start, end), by_day=True)
        total = sum(daily.values(), Counters())
    channels = _by_volume(_summed(store.read("channel", view_scope, start, end)), w, channel_names)
    matters = _by_volume(_summed(store.read("matter", view_scope, start, end)), w)
    townships = _by_volume(_summed(store.read("township", view_scope, start, end)), w)
    return ReportDocument(
        report_id=report_id, period=period, period_label=period_label(period), start=start, end=end, scope=scope,
        built_at=built_at, formula=w.formula(), weights=w,
        total=_row("合计" if scope is None else scope, total, w, group=""),
        departments=rows, townships=townships, channels=channels, matters=matters,
        daily=[_row(day.isoformat(), daily.get(day, Counters()), w) for day in days],
        hotspots=hotspots or [], details=details or [], details_truncated=details_truncated)


def gauges(scope: str | None) -> tuple[dict[str, int], dict[str, int], dict[str, dict[str, int]]]:
    """(queues, statuses, per department {queue: n}) of the orders open now, from the gauges:
    one Query of one partition, whatever the number of orders."""
    queues: dict[str, int] = defaultdict(int)
    statuses: dict[str, int] = defaultdict(int)
    by_department: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for _, value, counts in store.read(GAUGE, ALL, GAUGE_DAY, GAUGE_DAY):
        department, what = value.split(SEP, 1)
        amount = counts.get(OPEN, 0)
        if not amount or (scope is not None and department != scope):
            continue
        kind, name = what.split(":", 1)
        if kind == "queue":
            queues[name] += amount
            by_department[department][name] += amount
        else:
            statuses[name] += amount
    return dict(queues), dict(statuses), {d: dict(q) for d, q in by_department.items()}


def dashboard(period: str, scope: str | None) -> dict:
    """The current rates per department of a period (the caller's scope's), from the counters."""
    days = period_days(period)
    start, end = days[0], days[-1]
    w = weights()
    departments = _summed(store.read("dept", ALL, start, end))
    ranked = _ranked([_row(name, c, w, group=group_of(name)) for name, c in departments.items()
                      if name != UNASSIGNED])
    if scope is not None:
        ranked = [row for row in ranked if row.name == scope] or [_row(scope, Counters(), w, group=group_of(scope))]
        total = departments.get(scope, Counters())
    else:
        total = sum(departments.values(), Counters())

    def rates_of(row: ViewRow) -> dict:
        return {"response_rate": row.rates.response, "completion_rate": row.rates.completion,
                "satisfaction_rate": row.rates.satisfaction, "score": row.score,
                "on_time_rate": row.rates.on_time, "contact_rate": row.rates.contact}

    county = _row("合计", total, w)
    queues, statuses, queues_by_department = gauges(scope)
    return {
        "period": period, "period_label": period_label(period), "scope": scope, "formula": w.formula(),
        "totals": {**rates_of(county), "counts": county.counters.model_dump()},
        "queues": queues, "open_by_status": statuses,
        "departments": [{"department": row.name, "group": row.group, "rank": row.rank, "red": row.red,
                         "black": row.black, **rates_of(row), "counts": row.counters.model_dump(),
                         "queues": queues_by_department.get(row.name, {})}
                        for row in ranked],
    }
