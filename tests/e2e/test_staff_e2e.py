"""Staff work over HTTP on the local stack with real Cognito ID tokens (moto's user
pool, verified against its JWKS by the emulated authorizer): the manual queue and a
manual dispatch, a department's return and the centre's redispatch, and another
department refused without anything changing."""

import pytest

pytestmark = pytest.mark.e2e


def _post(stack, external_id, title, content, phone):
    created = stack.post_signed("12345", {"external_id": external_id, "title": title, "content": content,
                                          "citizen": {"name": "赵六", "phone": phone}})
    assert created.status == 201, created.raw
    order_id = created.body["order_id"]

    def routed():
        answer = stack.request("GET", f"/orders/{order_id}")
        return answer.body if answer.body["status"] != "received" else None

    return stack.wait_for(routed)


def test_staff_endpoints_refuse_requests_without_a_valid_token(stack):
    for headers in ({}, {"Authorization": "Bearer nonsense"}):
        answer = stack.request("GET", "/staff/queues/manual", headers=headers)
        assert answer.status == 401 and answer.body == {"message": "Unauthorized"}


def test_manual_queue_dispatch_return_redispatch_with_real_tokens(stack):
    centre, chengguan, shichang = stack.token("zhongxin01"), stack.token("chengguan01"), stack.token("shichang01")
    manual = _post(stack, "staff-e2e-1", "咨询", "请问办事大厅周六开门吗，想问问", "13700001111")
    assert manual["status"] == "manual"
    queue = stack.request("GET", "/staff/queues/manual", headers=centre)
    assert queue.status == 200 and manual["order_id"] in [o["order_id"] for o in queue.body["orders"]]
    assert stack.request("GET", "/staff/queues/manual", headers=chengguan).status == 403

    dispatched = stack.request("POST", f"/orders/{manual['order_id']}/dispatch", {"matter_code": "CX-02-04"},
                               headers=centre)
    assert dispatched.status == 200 and dispatched.body["department"] == "区城管局", dispatched.raw
    order_id = manual["order_id"]

    own = stack.request("GET", "/staff/orders", headers=chengguan)
    assert order_id in [o["order_id"] for o in own.body["orders"]]
    before = stack.request("GET", f"/staff/orders/{order_id}", headers=centre).body
    refused = stack.request("POST", f"/orders/{order_id}/return",
                            {"category": "not_our_duty", "text": "不是我们的"}, headers=shichang)
    assert refused.status == 404 and refused.body["error"]["code"] == "not_found"
    assert stack.request("GET", f"/staff/orders/{order_id}", headers=shichang).status == 404
    assert stack.request("GET", f"/staff/orders/{order_id}", headers=centre).body == before

    returned = stack.request("POST", f"/orders/{order_id}/return",
                             {"category": "not_our_duty", "text": "属不动产登记咨询，非城管职责"}, headers=chengguan)
    assert returned.status == 200 and returned.body["status"] == "returned"
    review = stack.request("POST", f"/orders/{order_id}/review",
                           {"decision": "redispatch", "matter_code": "CX-10-03"}, headers=centre)
    assert review.status == 200 and review.body["department"] == "区住建局"
    trail = stack.request("GET", f"/staff/orders/{order_id}", headers=centre).body["audit"]
    assert [a["actor"] for a in trail[-3:]] == ["zhongxin01", "区城管局/chengguan01", "zhongxin01"]


def test_duty_list_versions_over_http(stack):
    versions = stack.request("GET", "/duty-list/versions", headers=stack.token("lingdao01"))
    assert versions.status == 200 and versions.body["current"] >= 1
    assert stack.request("GET", "/duty-list/versions", headers=stack.token("tiancun01")).status == 403
