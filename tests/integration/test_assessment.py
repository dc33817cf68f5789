"""Assessment counted as orders move (考核计数): a scripted month of orders, every change
delivered to the assess function through the orders table's Kinesis change stream, twice;
the rates of each department equal the ones computed by hand from docs/kpi.md; a rebuild
from the orders table (backfill) gives the very same counter items.

The scripted month, January 2026 (orders received Monday 01-05 09:00; the sample duty list
sends a street light to 区城管局; 签收 2 working hours, 先行联系 1 working day, 办结 5 working days
→ due 01-13 00:00):
  A  signed 09:30, contacted, replied 01-06, approved, rated 满意 and resolved: closed.
  B  signed at 14:00 (late: due 11:00), replied, approved, rated 不满意 (not resolved).
  C  signed in time, asked for 3 more days (approved), replied 01-14 (within the extended limit),
     approved, not rated: closed unevaluated when the window ran out (not counted satisfied).
  D  signed in time, never replied: ran over its limit (超期) on 01-13, returned 01-13 10:00 as not
     its duty, the centre re-dispatched it to 区住建局, which signed it in time and replied on 01-14.
  E  signed in time, replied, approved, rated 不满意; then reopened by the centre (重办) and replied
     again, approved again, rated 满意 again.
"""

from __future__ import annotations

import json
import os
from datetime import datetime

import boto3
import pytest

from minyi.dal import orders
from minyi.models.kpi import Counters
from minyi.reports import assemble, counting
from tests.conftest import REGION
from tests.helpers import CENTRE, CHENGGUAN, StreamReader, table_items
from tests.integration.test_clock import Story, at
from tests.integration.test_staff_api import staff

ZHUJIAN = ("zhujian01", "department", "区住建局")
REPLY = {"result": "resolved", "text": "已修复路灯。"}


class Month(Story):
    """A story whose every order change is delivered to the assess function, twice."""

    def __init__(self, aws, monkeypatch) -> None:
        super().__init__(aws, monkeypatch)
        self.aws = aws
        self.assess = StreamReader(aws, "AssessFunction")
        self.deliveries = 0

    def counted(self) -> None:
        """Deliver what changed since the last call, then the same batch again (AWS may)."""
        while True:
            failures = self.assess.deliver()
            assert failures == []
            if not self.assess.last_batch or self.assess.last_seen == getattr(self, "_seen", None):
                break
            self._seen = self.assess.last_seen
            self.deliveries += len(self.assess.last_batch)
            assert self.assess.redeliver() == []

    def ok(self, method: str, path: str, who, body=None, when: datetime | None = None) -> dict:
        status, answer = self.act(method, path, who, body, when)
        assert status == 200, (path, answer)
        self.counted()
        return answer


@pytest.fixture
def month(aws, monkeypatch):
    return Month(aws, monkeypatch)


def script(m: Month) -> dict[str, str]:
    t0 = at("2026-01-05T09:00:00")
    ids = {name: m.dispatched(t0, content=f"梅林镇华丰社区路灯坏了一周（{name}）") for name in "ABCDE"}
    m.counted()
    for name in "ACDE":
        m.ok("POST", f"/orders/{ids[name]}/sign", CHENGGUAN, when=at("2026-01-05T09:30:00"))
    m.ok("POST", f"/orders/{ids['B']}/sign", CHENGGUAN, when=at("2026-01-05T14:00:00"))
    for name in "ABE":
        m.ok("POST", f"/orders/{ids[name]}/contact", CHENGGUAN, {"method": "phone", "note": "已电话联系"},
             when=at("2026-01-05T15:00:00"))
        m.ok("POST", f"/orders/{ids[name]}/reply", CHENGGUAN, REPLY, when=at("2026-01-06T10:00:00"))
        m.ok("POST", f"/orders/{ids[name]}/reply-review", CENTRE, {"decision": "approve"},
             when=at("2026-01-06T11:00:00"))
    m.ok("POST", f"/orders/{ids['A']}/evaluation", CENTRE, {"satisfaction": "satisfied", "resolved": True,
                                                            "method": "phone"}, when=at("2026-01-07T10:00:00"))
    m.ok("POST", f"/orders/{ids['B']}/evaluation", CENTRE, {"satisfaction": "dissatisfied", "resolved": False,
                                                            "method": "phone"}, when=at("2026-01-07T10:00:00"))
    m.ok("POST", f"/orders/{ids['E']}/evaluation", CENTRE, {"satisfaction": "dissatisfied", "resolved": False,
                                                            "method": "phone"}, when=at("2026-01-07T10:00:00"))
    m.ok("POST", f"/orders/{ids['E']}/reopen", CENTRE, {"reason": "路灯又坏了"}, when=at("2026-01-07T11:00:00"))
    m.ok("POST", f"/orders/{ids['E']}/reply", CHENGGUAN, REPLY, when=at("2026-01-08T10:00:00"))
    m.ok("POST", f"/orders/{ids['E']}/reply-review", CENTRE, {"decision": "approve"}, when=at("2026-01-08T11:00:00"))
    m.ok("POST", f"/orders/{ids['E']}/evaluation", CENTRE, {"satisfaction": "satisfied", "resolved": True,
                                                            "method": "phone"}, when=at("2026-01-09T10:00:00"))
    m.ok("POST", f"/orders/{ids['C']}/extension", CHENGGUAN, {"days": 3, "reason": "需第三方检测"},
         when=at("2026-01-07T10:00:00"))
    m.ok("POST", f"/orders/{ids['C']}/extension-review", CENTRE, {"decision": "approve"},
         when=at("2026-01-07T11:00:00"))
    m.sweep(at("2026-01-13T00:05:00"))  # D runs over: a lapse held against 区城管局
    m.counted()
    m.ok("POST", f"/orders/{ids['D']}/return", CHENGGUAN, {"category": "not_our_duty", "text": "应由住建负责"},
         when=at("2026-01-13T10:00:00"))
    m.ok("POST", f"/orders/{ids['D']}/review", CENTRE, {"decision": "redispatch", "matter_code": "CX-10-03"},
         when=at("2026-01-13T11:00:00"))
    m.ok("POST", f"/orders/{ids['D']}/sign", ZHUJIAN, when=at("2026-01-13T11:30:00"))
    m.ok("POST", f"/orders/{ids['D']}/contact", ZHUJIAN, {"method": "phone", "note": "已联系"},
         when=at("2026-01-13T14:00:00"))
    m.ok("POST", f"/orders/{ids['D']}/reply", ZHUJIAN, REPLY, when=at("2026-01-14T10:00:00"))
    m.ok("POST", f"/orders/{ids['C']}/reply", CHENGGUAN, REPLY, when=at("2026-01-14T10:00:00"))
    m.ok("POST", f"/orders/{ids['C']}/reply-review", CENTRE, {"decision": "approve"},
         when=at("2026-01-14T11:00:00"))
    m.ok("POST", f"/orders/{ids['D']}/reply-review", CENTRE, {"decision": "approve"},
         when=at("2026-01-14T11:00:00"))
    for day in ("2026-01-20T00:10:00", "2026-01-31T23:00:00"):
        m.sweep(at(day))  # the evaluation windows run out: C closes unevaluated; D too
        m.counted()
    return ids


def kpi_items() -> dict[tuple[str, str], dict]:
    """Every item of the KPI table (counters, gauges, ledgers), as stored, by key."""
    return {(item["pk"]["S"], item["sk"]["S"]): item for item in table_items(os.environ["KPI_TABLE"])}


def counter_items() -> dict:
    return {key: item for key, item in kpi_items().items() if not key[0].startswith("ledger#")}


def meaning(items: dict) -> dict:
    """What the items say: each counter's non-zero counts (an item whose counts all went back
    to 0 says nothing), each ledger's cells (its sequence is bookkeeping, and a rebuilt ledger
    keeps the version it had: 0 when there was none)."""
    said = {}
    for key, item in items.items():
        if key[0].startswith("ledger#"):
            said[key] = json.loads(item["cells"]["S"])
            continue
        counts = {name: value["N"] for name, value in item.items() if "N" in value and value["N"] != "0"}
        if counts:
            said[key] = counts
    return said


def test_the_scripted_month_counts_to_the_rates_computed_by_hand(month):
    # Given the scripted month, every change delivered twice
    script(month)
    # When the month's report is assembled from the counters
    report = assemble.assemble("RTEST", "2026-01", None, at("2026-02-01T09:00:00"))
    rows = {row.name: row for row in report.departments}
    chengguan, zhujian = rows["区城管局"], rows["区住建局"]
    # Then 区城管局 is judged on A, B, C and E (D's limits went to 区住建局 with the order), and
    # keeps D's first dispatch, its return (re-dispatched) and the lapse it let happen
    assert chengguan.counters == Counters(
        received=4, dispatched=5,  # A B C E now, and D's first dispatch that ended in 改派
        sign_due=4, signed_in_time=3, signed_late=1,  # B signed at 14:00, due 11:00
        contact_due=4, contacted_in_time=3,  # C never called the citizen
        complete_due=4, completed=4, completed_in_time=4,  # C within its extended limit; E's redo in time
        evaluated=3, satisfied=2, dissatisfied=1, resolved=2,  # A, E (latest: 满意), B 不满意
        unevaluated_closed=1,  # C
        returned=1, returns_redispatched=1, reopened=1,  # D; E
        extensions_requested=1, extensions=1, extension_days=3,  # C
        reminders=1, notices=1,  # C's contact limit: 催办 when missed, 催办通知书 a working day later
        overdue=1)  # D ran over on 01-13 and was returned that morning: 0 working days overdue
    assert chengguan.rates.response == pytest.approx(3 / 4)
    assert chengguan.rates.completion == 1.0 and chengguan.rates.on_time == 1.0
    assert chengguan.rates.satisfaction == pytest.approx(2 / 3) and chengguan.rates.resolution == pytest.approx(2 / 3)
    assert chengguan.rates.follow_up == pytest.approx(3 / 4)
    assert chengguan.rates.return_rate == pytest.approx(1 / 5) and chengguan.rates.reopen == pytest.approx(1 / 4)
    assert chengguan.score == pytest.approx(round(100 * (3 / 4 + 1 + 2 / 3) / 3, 2))  # no 督办: nothing off
    # And 区住建局 answers for D since the re-dispatch: all in time, closed unevaluated (no 满意率)
    assert zhujian.counters.sign_due == zhujian.counters.signed_in_time == 1
    assert zhujian.counters.completed_in_time == 1 and zhujian.counters.unevaluated_closed == 1
    assert zhujian.rates.satisfaction is None and zhujian.score == 100.0
    # And C's co-handlers were reminded for the opinion they never gave
    assert rows["梅林镇人民政府"].counters == Counters(reminders=1, notices=1)
    assert rows["梅林镇人民政府"].group == "乡镇" and rows["梅林镇人民政府"].score is None
    # And the county's daily volume has the five orders on the day they came
    assert [d.counters.received for d in report.daily if d.counters.received] == [5]
    assert report.total.counters.received == 5
    assert month.deliveries > 0


def test_every_change_delivered_again_or_late_counts_nothing_more(month):
    # Given the scripted month counted (each batch already delivered twice)
    ids = script(month)
    before = counter_items()
    # When the whole stream is delivered once more from its start, in one go
    again = StreamReader(month.aws, "AssessFunction")
    assert again.deliver() == []
    # Then not one counter moved
    assert counter_items() == before
    # And an order's first image arriving after its last (Kinesis may reorder) is ignored
    first = next(r for r in again.last_batch if r["dynamodb"]["NewImage"]["order_id"]["S"] == ids["A"])
    assert again._invoke([first]) == []
    assert counter_items() == before


def test_a_backfill_from_the_orders_table_rebuilds_exactly_what_live_counting_counted(month):
    # Given the scripted month counted live
    script(month)
    live = kpi_items()
    # When the counters are lost and rebuilt from the orders table (ledgers included)
    wipe_kpi_table()
    done = counting.rebuild("2026-01", "2026-02", lookback_days=31, gauges=True)
    # Then every counter item, gauge and ledger's cells are as live counting left them
    rebuilt = kpi_items()
    assert done["orders"] == 5
    assert meaning(rebuilt) == meaning(live)
    # And a backfill over live counters changes nothing either
    counting.rebuild("2026-01", "2026-01", lookback_days=31)
    assert meaning(kpi_items()) == meaning(live)


def test_the_dashboard_answers_each_scope_from_the_counters(month):
    # Given the scripted month counted, and one order still waiting for its department
    script(month)
    waiting = month.dispatched(at("2026-01-30T09:00:00"), content="梅林镇华丰社区又一处路灯坏了")
    month.counted()
    # When the centre opens the dashboard for January
    month.now = at("2026-01-30T10:00:00")
    status, board, _ = staff("GET", "/staff/dashboard", CENTRE, query={"period": ["2026-01"]})
    # Then every department is there with the three core rates and the score, ranked in its group
    assert status == 200 and board["period_label"] == "2026年1月"
    rows = {row["department"]: row for row in board["departments"]}
    assert rows["区城管局"]["response_rate"] == pytest.approx(3 / 4)
    assert rows["区城管局"]["completion_rate"] == 1.0
    assert rows["区城管局"]["satisfaction_rate"] == pytest.approx(2 / 3)
    assert rows["区城管局"]["score"] == pytest.approx(80.56)
    assert rows["区住建局"]["rank"] == 1 and rows["区城管局"]["rank"] == 2
    assert "得分" in board["formula"]
    # And what is open now comes from the gauges: the new order waits to be signed, B (不满意)
    # waits in the centre's queue for a decision (the closed ones are not open)
    assert board["open_by_status"] == {"dispatched": 1, "dissatisfied": 1}
    assert board["queues"] == {"dissatisfied": 1}
    assert board["totals"]["counts"]["received"] == 6 and orders.get_order(waiting).status.value == "dispatched"
    # When 区城管局 opens it, Then it sees its own row only
    status, own, _ = staff("GET", "/staff/dashboard", CHENGGUAN, query={"period": ["2026-01"]})
    assert status == 200 and [row["department"] for row in own["departments"]] == ["区城管局"]
    assert own["totals"]["response_rate"] == pytest.approx(3 / 4)
    # And a period that is not a month is refused, changing nothing
    for bad in ("2026-13", "0001-01", "2026-1", "2026-01-05"):
        status, error, _ = staff("GET", "/staff/dashboard", CENTRE, query={"period": [bad]})
        assert status == 400 and error["error"]["code"] == "validation_error", bad


def wipe_kpi_table() -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    table = os.environ["KPI_TABLE"]
    for pk, sk in kpi_items():
        client.delete_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}})


def test_changes_waiting_in_the_stream_during_a_backfill_are_counted_when_counting_resumes(month):
    # Given the scripted month counted, then counting paused while F is taken in on Friday 01-30,
    # signed that morning and the citizen called on Monday 02-02 (the contact limit falls in February)
    script(month)
    f = month.dispatched(at("2026-01-30T09:00:00"), content="沙地镇圩镇主街路灯坏了一周")
    # (the matcher learned from D's re-dispatch: a street light now goes to 区住建局)
    assert orders.get_order(f).department == "区住建局"
    assert month.act("POST", f"/orders/{f}/sign", ZHUJIAN, when=at("2026-01-30T09:30:00"))[0] == 200
    assert month.act("POST", f"/orders/{f}/contact", ZHUJIAN, {"method": "phone", "note": "已联系"},
                     when=at("2026-02-02T10:00:00"))[0] == 200
    # When January is rebuilt from the orders table while those changes wait, and counting resumes
    counting.rebuild("2026-01", "2026-01", lookback_days=31)
    month.counted()
    caught_up = meaning(kpi_items())
    # Then the counters are what a rebuild of everything from the orders table gives:
    # F's February contact and its gauges were counted, its January facts not twice
    wipe_kpi_table()
    counting.rebuild("2026-01", "2026-02", lookback_days=31, gauges=True)
    assert meaning(kpi_items()) == caught_up
    february = [key for key in caught_up if key[0] == "dept#*#2026-02" and key[1].endswith("区住建局")]
    assert february and caught_up[february[0]] == {"contact_due": "1", "contacted_in_time": "1"}


def test_a_malformed_change_record_is_skipped_and_the_rest_of_the_batch_counted(month):
    # Given a batch whose first record is not a table change and whose second is an order taken in
    from infra import events as shapes
    from tests.conftest import REGION as region

    oid = month.dispatched(at("2026-01-05T09:00:00"))
    records = month.assess.pending()
    event = shapes.kinesis_event(records, month.assess.kinesis_arn, region, month.assess.table_name)
    broken = json.loads(json.dumps(event["Records"][0]))
    broken["kinesis"]["data"] = "bm90IGpzb24="  # base64 of "not json"
    broken["kinesis"]["sequenceNumber"] = "1"
    # When it is delivered
    from infra.events import LambdaContext
    from tests.helpers import FUNCTIONS, handler

    result = handler("AssessFunction")({"Records": [broken, *event["Records"]]}, LambdaContext("AssessFunction"))
    # Then nothing failed (a record that never can be counted is skipped, not retried) and the order counted
    assert result == {"batchItemFailures": []} and FUNCTIONS
    report = assemble.assemble("RTEST", "2026-01", None, at("2026-02-01T09:00:00"))
    assert report.total.counters.received == 1 and oid
