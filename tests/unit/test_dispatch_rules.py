from datetime import datetime

from minyi.core.clock import SHANGHAI
from minyi.models.duty import DutyList
from minyi.models.order import Citizen, OrderStatus, WorkOrder
from minyi.routing import duty_list
from minyi.routing.dispatch import decide
from minyi.routing.matcher import Matcher

SAMPLE = Matcher(DutyList(version=7, matters=duty_list.parse_csv(duty_list.sample_csv())))
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)


def order(title: str, content: str) -> WorkOrder:
    return WorkOrder(order_id="MYTEST", channel="12345", external_id="x", title=title, content=content,
                     citizen=Citizen(name="张三", phone="13800000000"), received_at=NOW)


def test_street_light_goes_to_urban_management_with_deadline():
    decided = decide(order("小区路灯坏了", "梅林镇某小区路灯坏了一周"), SAMPLE, NOW)
    assert decided.status is OrderStatus.DISPATCHED
    assert decided.department == "区城管局"
    assert decided.matter == ["城乡建设", "城市建设和市政管理", "城市公共设施"]
    assert decided.duty_list_version == 7
    assert decided.due_at == datetime(2026, 12, 4, 0, 0, tzinfo=SHANGHAI)  # 5 working days after Thu 11-26


def test_unmatched_text_goes_to_manual_queue():
    decided = decide(order("咨询", "请问今天天气怎么样"), SAMPLE, NOW)
    assert decided.status is OrderStatus.MANUAL
    assert decided.department is None and decided.due_at is None


def test_ambiguous_text_goes_to_manual_queue():
    result = SAMPLE.match("噪音 垃圾")  # two matters of two categories, equal weight
    assert result.confidence == 0.0
    decided = decide(order("噪音和垃圾", "噪音 垃圾"), SAMPLE, NOW)
    assert decided.status is OrderStatus.MANUAL
    assert SAMPLE.match("楼下烧烤店夜里噪音扰民").matter.lead == "区生态环境局"


def test_a_named_township_becomes_a_co_handler():
    decided = decide(order("小区路灯坏了", "梅林镇某小区路灯坏了一周"), SAMPLE, NOW)
    assert decided.department == "区城管局" and "梅林镇人民政府" in decided.co_departments


def test_no_duty_list_means_manual():
    assert decide(order("路灯", "路灯坏了"), None, NOW).status is OrderStatus.MANUAL


def test_a_townships_own_matter_stays_with_the_first_township_named():
    """属地: a district matter takes every township named as a co-handler; a township's own
    matter is led by the first named, and the others named see nothing of it."""
    from minyi.routing.jurisdiction import assign

    county = duty_list.parse_csv(duty_list.county_csv())
    local = next(m for m in county if m.local)
    district = next(m for m in county if not m.local and not m.co)
    assert assign(local, ("长洛乡", "梅林镇")) == ("长洛乡人民政府", tuple(
        c for c in local.co if c != "属地乡镇"))
    assert assign(local, ())[0] is None  # which township? a person decides
    assert assign(district, ("长洛乡", "梅林镇")) == (district.lead, ("长洛乡人民政府", "梅林镇人民政府"))


def test_with_no_duty_list_an_emergency_is_still_urgent_for_whoever_dispatches_it():
    decided = decide(order("燃气泄漏", "楼道里闻到煤气，燃气泄漏了"), None, NOW)
    assert decided.status is OrderStatus.MANUAL and decided.urgent
