"""Builders for the stories tests tell: staff members, and work orders in any status."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from minyi.casework import timing
from minyi.core.clock import SHANGHAI
from minyi.models.clock import ClockRules, Pause, PauseReason
from minyi.models.identity import Role, StaffIdentity
from minyi.models.lifecycle import OrderStatus
from minyi.models.order import (
    Citizen,
    Closure,
    ClosureKind,
    Evaluation,
    OrderReturn,
    Reply,
    ReplyResult,
    ReplyStatus,
    ReturnReason,
    Satisfaction,
    WorkOrder,
)
from minyi.models.roster import WorkingHours
from minyi.timelimits import limits

WHEN = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
LEAD, CO = "区城管局", "区住建局"

CENTRE = StaffIdentity(username="zhongxin01", roles=frozenset({Role.CENTRE}))
LEADER = StaffIdentity(username="lingdao01", roles=frozenset({Role.LEADER}))


def department(name: str = LEAD) -> StaffIdentity:
    return StaffIdentity(username=f"staff-{name}", roles=frozenset({Role.DEPARTMENT}), department=name)


def an_order(status: OrderStatus | str = OrderStatus.RECEIVED, **overrides: Any) -> WorkOrder:
    """A work order as it is in `status`, with what that status implies filled in: a
    dispatched one has its lead, co-handler, matter and deadline; a signed one who signed;
    a returned one its return; one past its reply has the reply (approved, once the
    reviewer passed it), the evaluation and the closure its status says."""
    status = OrderStatus(status)
    S = OrderStatus
    fields: dict[str, Any] = {
        "order_id": "MYTESTORDER00001", "channel": "12345", "external_id": "t-1", "title": "小区路灯坏了",
        "content": "梅林镇华丰社区路灯坏了一周", "citizen": Citizen(name="张三", phone="13800000000"),
        "received_at": WHEN, "status": status,
    }
    if status is not OrderStatus.RECEIVED:
        fields.update(duty_list_version=1, match_score=0.8)
    if status not in (S.RECEIVED, S.MANUAL):
        fields.update(department=LEAD, co_departments=[CO], matter=["城乡建设", "市政设施", "路灯"],
                      matter_code="CX-02-04", dispatched_at=WHEN, due_at=WHEN + timedelta(days=5),
                      time_limit_days=5)
    replied = (S.REPLY_REVIEW, S.AWAITING_EVALUATION, S.DISSATISFIED, S.CLOSED)
    if status in (S.SIGNED, *replied):
        fields.update(signed_at=WHEN + timedelta(hours=1), signed_by="staff-区城管局")
    if status in replied:
        approved = status is not S.REPLY_REVIEW
        fields["reply"] = Reply(
            text="路灯已修复。", author=LEAD, written_by="staff-区城管局", written_at=WHEN + timedelta(days=1),
            result=ReplyResult.RESOLVED, reviewer="区12345热线管理中心",
            status=ReplyStatus.DELIVERED if approved else ReplyStatus.PENDING_REVIEW,
            approved_by="zhongxin01" if approved else None, approved_at=WHEN + timedelta(days=1) if approved else None)
    if status in (S.DISSATISFIED, S.CLOSED):
        fields["evaluation"] = Evaluation(
            satisfaction=Satisfaction.DISSATISFIED if status is S.DISSATISFIED else Satisfaction.SATISFIED,
            resolved=status is S.CLOSED, method="phone", source="centre", by="zhongxin01", at=WHEN + timedelta(days=2))
    if status is S.CLOSED:
        fields["closure"] = Closure(kind=ClosureKind.EVALUATED, at=WHEN + timedelta(days=2), by="zhongxin01")
    if status in (OrderStatus.RETURNED, OrderStatus.JOINT_MEETING, OrderStatus.MAYOR_DAY):
        fields["returns"] = [OrderReturn(department=LEAD, category=ReturnReason.NOT_OUR_DUTY, text="不归我们管",
                                         at=WHEN + timedelta(hours=1))]
    if status is OrderStatus.MERGED:
        fields["parent_order_id"] = "MYTESTPARENT0001"
    if status is S.PAUSED:
        fields.update(signed_at=WHEN + timedelta(hours=1), signed_by="staff-区城管局", pauses=[Pause(
            reason=PauseReason.WAITING_FOR_CITIZEN, requested_by="staff-区城管局",
            requested_at=WHEN + timedelta(hours=2),
            approved=True, decided_by="zhongxin01", decided_at=WHEN + timedelta(hours=3))])
    fields.update(overrides)
    order = WorkOrder(**fields)
    if order.dispatched_at is not None and order.due_at is not None and "deadlines" not in overrides:
        order = with_limits(order)
    return order


def with_limits(order: WorkOrder) -> WorkOrder:
    """The order with the limits its dispatch started and its status implies (met, begun)."""
    rules, hours = ClockRules(), WorkingHours()
    planned = limits.plan_dispatch(order.dispatched_at, order.due_at, order.urgent, order.time_limit_days,
                                   order.department, [d for d in order.co_departments if d != order.department],
                                   rules, hours)
    dispatched = order.model_copy(update={"status": OrderStatus.DISPATCHED, "deadlines": planned, "reply": None,
                                          "signed_at": None, "first_contact_at": None})
    if order.status in (OrderStatus.AWAITING_EVALUATION, OrderStatus.DISSATISFIED, OrderStatus.CLOSED):
        reviewing = timing._refresh(dispatched, order.model_copy(update={"status": OrderStatus.REPLY_REVIEW,
                                                                         "deadlines": planned}),
                                    order.reply.written_at, rules, hours)
        return timing._refresh(reviewing, order.model_copy(update={"deadlines": reviewing.deadlines}),
                               order.reply.approved_at or order.reply.written_at, rules, hours)
    moment = order.reply.written_at if order.reply else order.signed_at or order.dispatched_at
    return timing._refresh(dispatched, order.model_copy(update={"deadlines": planned}), moment, rules, hours)


# ------------------------------------------------------------------ the assessment report's numbers
REPORT_DEPARTMENTS = ("区城管局", "区住建局", "区市场监管局", "区人社局", "区教育局", "区生态环境分局",
                      "城关镇人民政府", "新华镇人民政府", "河口乡人民政府", "经济开发区")
REPORT_CHANNELS = (("hotline", "12345热线"), ("wechat", "微信公众号"), ("web", "政府网站"))
REPORT_MATTERS = ("城乡建设", "市场监管", "劳动保障", "教育", "生态环境")
REPORT_TOWNSHIPS = ("城关镇", "新华镇", "河口乡", "经济开发区")


def some_counters(rng: Any, volume: int) -> Any:
    """Counters a unit with `volume` orders could have: every part no larger than its whole."""
    from minyi.models.kpi import Counters

    def part(whole: int, low: float, high: float) -> int:
        return round(whole * rng.uniform(low, high))

    dispatched = part(volume, 0.85, 1.0)
    sign_due = part(dispatched, 0.9, 1.0)
    complete_due = part(dispatched, 0.7, 0.95)
    completed = part(complete_due, 0.8, 1.0)
    evaluated = part(completed, 0.6, 0.9)
    satisfied = part(evaluated, 0.75, 0.98)
    returned = part(dispatched, 0.0, 0.08)
    upheld = part(returned, 0.3, 0.7)
    overdue = complete_due - part(complete_due, 0.9, 1.0)
    return Counters(received=volume, dispatched=dispatched, sign_due=sign_due,
                    signed_in_time=part(sign_due, 0.85, 1.0), contact_due=part(dispatched, 0.5, 0.9),
                    contacted_in_time=0, complete_due=complete_due, completed=completed,
                    completed_in_time=part(completed, 0.85, 1.0), evaluated=evaluated, satisfied=satisfied,
                    dissatisfied=evaluated - satisfied, resolved=part(evaluated, 0.7, 0.95),
                    returned=returned, returns_upheld=upheld, returns_redispatched=returned - upheld,
                    reopened=part(completed, 0.0, 0.05), extensions=part(dispatched, 0.0, 0.05),
                    reminders=part(dispatched, 0.0, 0.1), supervisions=rng.randint(0, 2), overdue=overdue,
                    overdue_working_days=overdue * rng.randint(1, 4))


def a_report_document(scope: str | None = None, seed: int = 11) -> Any:
    """A month's county report (or `scope`'s own) made as the assembler makes it: counters per
    department, township, channel, matter and day, their rates (`kpi.rates`), scores (`kpi.score`)
    and places (`kpi.rank`, departments and township governments apart); 2 hotspots, 20 orders.
    One department (区教育局) had nothing due (no rates, no score, unranked); no unit was due a
    先行联系 it met in time except 区城管局 (the others' 先行联系率 is 0, not None)."""
    import random
    from datetime import date

    from minyi.models.kpi import Counters, ScoreWeights
    from minyi.models.report import DetailRow, HotspotRow, ReportDocument, ViewRow
    from minyi.reports import kpi

    rng = random.Random(seed)
    weights = ScoreWeights()

    def row(name: str, counters: Counters, label: str | None = None, group: str = "") -> ViewRow:
        rates = kpi.rates(counters)
        return ViewRow(name=name, label=label or name, group=group, counters=counters, rates=rates,
                       score=kpi.score(rates, counters, weights))

    counters = {name: some_counters(rng, rng.randint(40, 400)) for name in REPORT_DEPARTMENTS}
    counters["区教育局"] = Counters(received=3)  # taken in, nothing due yet
    counters["区城管局"] = counters["区城管局"].model_copy(update={"contacted_in_time": 30})
    rows = [row(name, c, group="乡镇" if name.endswith(("人民政府", "开发区")) else "部门")
            for name, c in counters.items()]
    places = {(p.name, p.group): p for p in kpi.rank([(r.name, r.group, r.score) for r in rows])}
    ranked = sorted((r.model_copy(update={"rank": places[(r.name, r.group)].rank,
                                          "red": places[(r.name, r.group)].red,
                                          "black": places[(r.name, r.group)].black}) for r in rows),
                    key=lambda r: (r.group, r.rank is None, r.rank or 0, r.name))
    if scope is not None:
        ranked = [r for r in ranked if r.name == scope]
    total = sum((r.counters for r in ranked), Counters())
    start = date(2026, 11, 1)
    days = [start + timedelta(days=n) for n in range(30)]
    volume = total.received

    def split(names: list[str] | tuple[str, ...]) -> list[ViewRow]:
        cuts = sorted(rng.sample(range(1, volume), len(names) - 1)) if volume > len(names) else []
        sizes = [b - a for a, b in zip([0, *cuts], [*cuts, volume], strict=True)] if cuts else [0] * len(names)
        return [row(name, some_counters(rng, size)) for name, size in zip(names, sizes, strict=True)]

    channels = [r.model_copy(update={"label": label})
                for r, (_, label) in zip(split([cid for cid, _ in REPORT_CHANNELS]), REPORT_CHANNELS, strict=True)]
    by_volume = lambda views: sorted(views, key=lambda r: (-r.counters.received, r.name))  # noqa: E731
    details = [DetailRow(order_id=f"2026110{n % 9 + 1}{n:04d}",
                         received_at=datetime(2026, 11, 1 + n, 9 + n % 8, 5 * n % 60, tzinfo=SHANGHAI),
                         channel=REPORT_CHANNELS[n % 3][1], matter=REPORT_MATTERS[n % 5],
                         township=REPORT_TOWNSHIPS[n % 4], department=REPORT_DEPARTMENTS[n % 6],
                         status=("已办结", "办理中", "待评价", "已退单")[n % 4],
                         due_at=datetime(2026, 11, 6 + n, 18, 0, tzinfo=SHANGHAI),
                         replied_at=datetime(2026, 11, 5 + n, 16, 30, tzinfo=SHANGHAI) if n % 4 != 1 else None,
                         overdue=n % 7 == 3, satisfaction=("满意", "基本满意", "不满意", None)[n % 4])
               for n in range(20)]
    hotspots = [HotspotRow(kind="rising", matter="城乡建设", place="城关镇", first_day=date(2026, 11, 17),
                           last_day=date(2026, 11, 18), count=23, baseline=4.6, note="供暖不热集中反映"),
                HotspotRow(kind="repeated", matter="市场监管", place="同一来电人", first_day=date(2026, 11, 3),
                           last_day=date(2026, 11, 24), count=6)]
    return ReportDocument(
        report_id="rpt-2026-11-a1", period="2026-11", period_label="2026年11月", start=days[0], end=days[-1],
        scope=scope, built_at=datetime(2026, 12, 1, 1, 30, tzinfo=SHANGHAI), formula=weights.formula(),
        weights=weights, total=row("合计" if scope is None else scope, total), departments=ranked,
        townships=by_volume(split(REPORT_TOWNSHIPS)), channels=by_volume(channels),
        matters=by_volume(split(REPORT_MATTERS)), daily=[row(day.isoformat(), c) for day, c in
                                                         zip(days, [some_counters(rng, rng.randint(5, 60))
                                                                    for _ in days], strict=True)],
        hotspots=hotspots, details=details, details_truncated=False)
