"""The closed loop's endpoints in the department-scoping matrix: for each action, with an
order in a status where the action is allowed, another department cannot see the order
(404; 403 for the centre's and the leaders' own actions, refused before the order is read),
every party the lifecycle table does not name for the step gets 403, and every table and
bucket is byte for byte what it was; then the party the table names succeeds. The new
queues and the new filters of a department's inbox are scoped the same way."""

from __future__ import annotations

import json
from dataclasses import dataclass

import boto3
import pytest

from minyi.dal import orders
from tests.conftest import REGION
from tests.helpers import (
    CENTRE,
    CHENGGUAN,
    LEADER,
    SHICHANG,
    StreamReader,
    audit_trail,
    import_sample_duty_list,
    post_channel,
    request_body,
    sample,
)
from tests.integration.test_staff_api import staff

ZHUJIAN = ("zhujian01", "department", "区住建局")  # co-handles the 12345 street-lamp order
WEIBAN = ("weiban01", "department", "区委办公室")  # reviews the replies of 人民网书记留言 (rmw-sec)
SHUIWU = ("shuiwu01", "department", "赣县区自来水公司")  # leads the rmw-sec water order
REPLY = {"result": "resolved", "text": "已安排维修班组更换路灯灯具，现已恢复照明。"}
DISSATISFIED = {"satisfaction": "dissatisfied", "resolved": False, "method": "phone"}


def store_state() -> dict:
    """Every DynamoDB table and every S3 object of the account, byte for byte, and the queues' depths."""
    dynamodb, s3, sqs = (boto3.client(name, region_name=REGION) for name in ("dynamodb", "s3", "sqs"))
    state: dict = {}
    for table in dynamodb.list_tables()["TableNames"]:
        items, kwargs = [], {"TableName": table, "ConsistentRead": True}
        while True:
            page = dynamodb.scan(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        state[table] = sorted(json.dumps(item, sort_keys=True, ensure_ascii=False) for item in items)
    for bucket in s3.list_buckets()["Buckets"]:
        listed = s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", [])
        state[bucket["Name"]] = sorted((o["Key"], o["ETag"], o["Size"]) for o in listed)
    for url in sqs.list_queues().get("QueueUrls", []):
        state[url] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"][
            "ApproximateNumberOfMessages"]
    return state


def ok(answer, expected=200):
    status, body, _ = answer
    assert status == expected, body
    return body


def routed(aws, channel: str, payload: dict) -> str:
    routes = StreamReader(aws, "RouteFunction")
    status, ack, _ = post_channel(channel, payload)
    assert status == 201, ack
    assert routes.deliver() == []
    return ack["order_id"]


def street_lamp(aws, external_id: str) -> str:
    """A 12345 request about a street lamp: dispatched to 区城管局, 区住建局 co-handling."""
    order_id = routed(aws, "12345", request_body(external_id))
    order = orders.get_order(order_id)
    assert (order.status.value, order.department) == ("dispatched", "区城管局")
    assert "区住建局" in order.co_departments and "区市场监管局" not in order.co_departments
    return order_id


def water_supply(aws) -> str:
    """A 人民网书记留言 (rmw-sec) message about tap water: 区委办公室 reviews its reply."""
    order_id = routed(aws, "rmw-sec", sample("rmw-sec"))
    order = orders.get_order(order_id)
    assert (order.status.value, order.department) == ("dispatched", "赣县区自来水公司")
    return order_id


# the walk from `dispatched` to each status, as the parties the table names take it
WALK = {
    "dispatched": [],
    "signed": [("sign", CHENGGUAN, None)],
    "reply_review": [("sign", CHENGGUAN, None), ("reply", CHENGGUAN, REPLY)],
    "awaiting_evaluation": [("sign", CHENGGUAN, None), ("reply", CHENGGUAN, REPLY),
                            ("reply-review", CENTRE, {"decision": "approve"})],
    "dissatisfied": [("sign", CHENGGUAN, None), ("reply", CHENGGUAN, REPLY),
                     ("reply-review", CENTRE, {"decision": "approve"}), ("evaluation", CENTRE, DISSATISFIED)],
    "joint_meeting": [("dispute", CENTRE, {"reason": "城管与住建对路灯权属有争议"})],
    "mayor_day": [("dispute", CENTRE, {"reason": "城管与住建对路灯权属有争议"}),
                  ("joint-meeting-decision", CENTRE, {"escalate": True, "note": "会议未能达成一致"})],
}


def walk_to(order_id: str, status: str, lead=CHENGGUAN) -> None:
    for action, who, body in WALK[status]:
        who = lead if who is CHENGGUAN else who
        ok(staff("POST", f"/orders/{order_id}/{action}", who, body))
    assert orders.get_order(order_id).status.value == status


@dataclass(frozen=True)
class Case:
    """One action: the status it is allowed in, its body, who is refused and how, who may."""

    action: str
    status: str
    body: dict | None
    refused: list[tuple[tuple, int]]
    allowed: tuple
    answer: int = 200
    after: str | None = None  # the status the allowed party's step leads to
    forwarded: bool = False  # on the rmw-sec order (reviewed by 区委办公室) instead of the 12345 one


OTHER = (SHICHANG, 404)  # another department: it cannot see the order
CASES = [
    Case("sign", "dispatched", None,
         [OTHER, (LEADER, 403), (CENTRE, 403), (ZHUJIAN, 403), (WEIBAN, 404)], CHENGGUAN, after="signed"),
    Case("contact", "signed", {"method": "phone", "note": "已电话联系，约定明日上门"},
         [OTHER, (LEADER, 403), (CENTRE, 403), (ZHUJIAN, 403)], CHENGGUAN, after="signed"),
    Case("opinions", "signed", {"text": "该路段路灯产权属城管，住建无异议"},
         [OTHER, (LEADER, 403), (CENTRE, 403), (CHENGGUAN, 403)], ZHUJIAN, 201, after="signed"),
    Case("attachments", "signed", {"filename": "现场照片.jpg", "content_type": "image/jpeg", "size": 2048},
         [OTHER, (LEADER, 403), (CENTRE, 403), (WEIBAN, 404)], CHENGGUAN, 201, after="signed"),
    Case("reply", "signed", REPLY,
         [OTHER, (LEADER, 403), (CENTRE, 403), (ZHUJIAN, 403)], CHENGGUAN, after="reply_review"),
    # 12345's replies are the centre's to review: not the lead's, nor a forwarded channel's reviewer
    Case("reply-review", "reply_review", {"decision": "approve"},
         [OTHER, (LEADER, 403), (CHENGGUAN, 403), (ZHUJIAN, 403), (WEIBAN, 404)], CENTRE,
         after="awaiting_evaluation"),
    Case("reply-review", "reply_review", {"decision": "reject", "reason": "答复未说明修复时间"},
         [OTHER, (LEADER, 403), (CHENGGUAN, 403), (ZHUJIAN, 403)], CENTRE, after="signed"),
    # a forwarded channel's replies are its managing department's: the centre may not review them
    Case("reply-review", "reply_review", {"decision": "approve"},
         [OTHER, (CENTRE, 403), (LEADER, 403), (SHUIWU, 403), (CHENGGUAN, 403)], WEIBAN,
         after="awaiting_evaluation", forwarded=True),
    Case("evaluation", "awaiting_evaluation", {"satisfaction": "satisfied", "resolved": True, "method": "phone"},
         [(SHICHANG, 403), (LEADER, 403), (CHENGGUAN, 403), (ZHUJIAN, 403)], CENTRE, after="closed"),
    Case("reopen", "dissatisfied", {"reason": "诉求人反映路灯再次损坏", "days": 3},
         [(SHICHANG, 403), (LEADER, 403), (CHENGGUAN, 403), (ZHUJIAN, 403)], CENTRE, after="signed"),
    Case("close", "dissatisfied", {"reason": "unreasonable_demand", "text": "诉求人要求拆除合法设施，不予支持"},
         [(SHICHANG, 403), (LEADER, 403), (CHENGGUAN, 403)], CENTRE, after="closed"),
    # the joint meeting's decision is the centre's; a leader decides only 区长热线日 orders
    Case("joint-meeting-decision", "joint_meeting", {"department": "区住建局", "note": "联席会议决定由住建局牵头"},
         [(SHICHANG, 403), (LEADER, 403), (CHENGGUAN, 403), (ZHUJIAN, 403)], CENTRE, after="dispatched"),
    Case("joint-meeting-decision", "joint_meeting", {"escalate": True, "note": "会议未能达成一致"},
         [(SHICHANG, 403), (LEADER, 403), (CHENGGUAN, 403)], CENTRE, after="mayor_day"),
    Case("joint-meeting-decision", "mayor_day", {"department": "区城管局", "note": "区长热线日：城管局牵头"},
         [(SHICHANG, 403), (CENTRE, 403), (CHENGGUAN, 403), (ZHUJIAN, 403)], LEADER, after="dispatched"),
]


def _id(case: Case) -> str:
    detail = (case.body or {}).get("decision") or ("escalate" if (case.body or {}).get("escalate") else "")
    return "-".join(part for part in (case.action, case.status, detail, "forwarded" if case.forwarded else "") if part)


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_each_closed_loop_action_refuses_every_party_but_its_own_and_changes_nothing(aws, case):
    # Given an order in a status where the action is allowed
    import_sample_duty_list()
    if case.forwarded:
        order_id = water_supply(aws)
        walk_to(order_id, case.status, lead=SHUIWU)
    else:
        order_id = street_lamp(aws, f"scope-{case.action}")
        walk_to(order_id, case.status)
    path = f"/orders/{order_id}/{case.action}"
    before = store_state()
    # When each party the table does not name for this step tries it
    for who, expected in case.refused:
        status, body, _ = staff("POST", path, who, case.body)
        # Then it is refused the way its part says: unseen (404) or not its step (403)
        assert status == expected, (who, status, body)
        assert body["error"]["code"] == {403: "forbidden", 404: "not_found"}[expected], body
        assert set(body["error"]) >= {"code", "message"}
    # and nothing anywhere changed, not even an audit record
    assert store_state() == before
    # Then the party the table names succeeds, with exactly one audit record
    trail = len(audit_trail(order_id))
    answer = ok(staff("POST", path, case.allowed, case.body), case.answer)
    assert answer["order_id"] == order_id and answer["status"] == case.after
    assert orders.get_order(order_id).status.value == case.after
    assert len(audit_trail(order_id)) == trail + 1


def test_a_refused_party_is_refused_even_with_a_broken_body_and_before_the_order_is_read(aws):
    """403 for a role that can never take the step comes before the body is read: a
    department's reopen or a leader's sign with garbage is 403, not 400."""
    import_sample_duty_list()
    order_id = street_lamp(aws, "scope-garbage")
    before = store_state()
    for action, who in (("reopen", CHENGGUAN), ("close", SHICHANG), ("evaluation", ZHUJIAN), ("sign", LEADER),
                        ("contact", CENTRE), ("opinions", LEADER), ("attachments", CENTRE), ("reply", LEADER),
                        ("joint-meeting-decision", CHENGGUAN), ("reply-review", LEADER)):
        status, body, _ = staff("POST", f"/orders/{order_id}/{action}", who, raw="{not json")
        assert status == 403 and body["error"]["code"] == "forbidden", (action, who, body)
    # another department that may take such steps in general does not learn the order exists
    valid = {case.action: case.body for case in CASES}
    for action in ("sign", "contact", "opinions", "attachments", "reply", "reply-review"):
        status, body, _ = staff("POST", f"/orders/{order_id}/{action}", SHICHANG, valid[action])
        unknown = staff("POST", f"/orders/MYNOSUCHORDER0001/{action}", SHICHANG, valid[action])
        assert status == unknown[0] == 404, (action, body)
        assert body["error"]["code"] == unknown[1]["error"]["code"] == "not_found", action
        assert body["error"]["message"].replace(order_id, "?") == \
            unknown[1]["error"]["message"].replace("MYNOSUCHORDER0001", "?"), action
        assert order_id not in json.dumps(body["error"].get("details") or ""), body
    assert store_state() == before


# ------------------------------------------------------------------ the new queues
def test_the_new_queues_are_the_centres_and_leaders_and_a_forwarded_channels_reviewer_sees_only_its_own(aws):
    # Given a 12345 order in each of the new queues' statuses, and an rmw-sec one in reply review
    import_sample_duty_list()
    waiting = {}
    for n, status in enumerate(("reply_review", "awaiting_evaluation", "dissatisfied", "mayor_day")):
        order_id = routed(aws, "12345", request_body(f"queue-{n}", citizen={"name": "李四", "phone": f"1390000000{n}"},
                                                     address=f"梅林镇华丰社区{n}栋"))
        assert orders.get_order(order_id).status.value == "dispatched"
        walk_to(order_id, status)
        waiting[status] = order_id
    forwarded = water_supply(aws)
    walk_to(forwarded, "reply_review", lead=SHUIWU)
    queues = {"reply_review": {waiting["reply_review"], forwarded}, "follow_up": {waiting["awaiting_evaluation"]},
              "dissatisfied": {waiting["dissatisfied"]}, "mayor_day": {waiting["mayor_day"]}}
    before = store_state()
    for name, expected in queues.items():
        # the centre and the leaders read every queue
        for who in (CENTRE, LEADER):
            body = ok(staff("GET", f"/staff/queues/{name}", who))
            assert {o["order_id"] for o in body["orders"]} == expected, (who, name)
            assert "13900000" not in json.dumps(body) and "citizen" not in json.dumps(body)
        # a department reads none of them, not even one holding its own orders
        for who in (SHICHANG, CHENGGUAN, ZHUJIAN, SHUIWU):
            status, body, _ = staff("GET", f"/staff/queues/{name}", who)
            assert status == 403 and body["error"]["code"] == "forbidden", (who, name)
    # a forwarded channel's managing department reads the reply review queue, its channels only
    body = ok(staff("GET", "/staff/queues/reply_review", WEIBAN))
    assert [o["order_id"] for o in body["orders"]] == [forwarded]
    for name in ("follow_up", "dissatisfied", "mayor_day", "manual", "review", "joint_meeting"):
        status, body, _ = staff("GET", f"/staff/queues/{name}", WEIBAN)
        assert status == 403 and body["error"]["code"] == "forbidden", name
    # paging the reviewer's queue never leaves its channels
    seen, cursor = [], None
    for _ in range(10):
        query = {"limit": ["1"], **({"cursor": [cursor]} if cursor else {})}
        body = ok(staff("GET", "/staff/queues/reply_review", WEIBAN, query=query))
        seen += [o["order_id"] for o in body["orders"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [forwarded]
    # a cursor of another queue is refused, for the centre too
    page = ok(staff("GET", "/staff/queues/reply_review", CENTRE, query={"limit": ["1"]}))
    assert page["next_cursor"]
    for name in ("follow_up", "dissatisfied", "mayor_day"):
        status, body, _ = staff("GET", f"/staff/queues/{name}", CENTRE, query={"cursor": [page["next_cursor"]]})
        assert status == 400 and body["error"]["details"][0]["field"] == "cursor", name
    assert store_state() == before


# ------------------------------------------------------------------ the inbox filters
def test_the_inbox_filters_never_show_another_departments_orders(aws):
    # Given orders of 区城管局 (one signed, one urgent) and none of 区市场监管局
    import_sample_duty_list()
    signed = street_lamp(aws, "inbox-1")
    walk_to(signed, "signed")
    urgent = routed(aws, "12345", request_body("inbox-2", title="路灯杆倒了有人触电",
                                               content="梅林镇华丰社区路灯杆倒地，电线裸露，有人触电",
                                               citizen={"name": "李四", "phone": "13900000009"}))
    assert orders.get_order(urgent).department == "区城管局"
    before = store_state()
    filters = [{"status": ["signed"]}, {"status": ["dispatched,signed"]}, {"role": ["lead"]}, {"role": ["co"]},
               {"due_before": ["2100-01-01"]}, {"overdue": ["false"]}, {"overdue": ["true"]}, {"urgent": ["true"]},
               {"urgent": ["false"]}, {"status": ["signed"], "role": ["lead"], "urgent": ["false"]}]
    for query in filters:
        # another department's own inbox, however filtered, holds none of them
        assert ok(staff("GET", "/staff/orders", SHICHANG, query=query))["orders"] == [], query
        # and naming 区城管局 is the same 404 as always
        status, body, _ = staff("GET", "/staff/orders", SHICHANG, query={**query, "department": ["区城管局"]})
        assert status == 404 and body["error"]["code"] == "not_found", query
        # the co-handler sees only its co-handled orders, never as lead
        for order in ok(staff("GET", "/staff/orders", ZHUJIAN, query=query))["orders"]:
            assert order["role"] == "co" and "citizen" not in order, query
        # the centre and the leaders read any department's, filtered alike
        assert ok(staff("GET", "/staff/orders", CENTRE, query={**query, "department": ["区城管局"]})) == \
            ok(staff("GET", "/staff/orders", LEADER, query={**query, "department": ["区城管局"]}))
    def inbox(who, **query):
        return {o["order_id"] for o in ok(staff("GET", "/staff/orders", who,
                                                query={k: [v] for k, v in query.items()}))["orders"]}

    assert inbox(CHENGGUAN, role="lead") == {signed, urgent}  # the filters work for the department itself
    assert inbox(CHENGGUAN, urgent="true") == {urgent} and inbox(CHENGGUAN, status="signed") == {signed}
    assert inbox(ZHUJIAN, role="co") >= {signed} and inbox(ZHUJIAN, role="lead") == set()
    # a cursor from 区城管局's list does not open it to 区市场监管局, filtered or not
    page = ok(staff("GET", "/staff/orders", CENTRE, query={"department": ["区城管局"], "limit": ["1"]}))
    assert page["next_cursor"]
    for query in ({}, {"status": ["signed"]}, {"urgent": ["true"]}):
        status, body, _ = staff("GET", "/staff/orders", SHICHANG, query={**query, "cursor": [page["next_cursor"]]})
        assert status == 400 and body["error"]["details"][0]["field"] == "cursor", query
    assert store_state() == before


def test_a_department_account_carrying_the_centres_name_is_not_the_centre():
    """Defect found by review: a department account whose department is 区12345热线管理中心
    counted as the reviewer of every 12345 order and saw them all."""
    from minyi.casework import access
    from tests.builders import an_order, department

    impostor = department("区12345热线管理中心")
    order = an_order("reply_review")
    assert not access.can_see(impostor, order)
    assert access.parties(impostor, order) == frozenset()
