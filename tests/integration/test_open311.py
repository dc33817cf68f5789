"""Open311 GeoReport v2: services -> POST -> GET by id, filters and the error format."""

import json
from urllib.parse import urlencode

import pytest

from minyi.core import clock
from tests.conftest import OPEN311_KEY
from tests.helpers import StreamReader, call_api, import_sample_duty_list, sample, table_items

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def get(path, query=None):
    return call_api("IntakeFunction", "GET", path, query={k: [v] for k, v in (query or {}).items()} or None)


def post(fields: dict, fmt: str = "json"):
    return call_api("IntakeFunction", "POST", f"/open311/v2/requests.{fmt}", raw=urlencode(fields).encode(),
                    headers=FORM)


def form(**overrides) -> dict:
    return {"api_key": OPEN311_KEY, **sample("open311"), **overrides}


def test_services_are_the_duty_lists_matters(aws):
    import_sample_duty_list()
    status, services, headers = get("/open311/v2/services.json")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    by_code = {s["service_code"]: s for s in services}
    assert by_code["CX-02-04"]["service_name"] == "城市公共设施" and by_code["CX-02-04"]["group"] == "城乡建设"
    assert all(set(s) >= {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
               for s in services)
    status, definition, _ = get("/open311/v2/services/CX-02-04.json")
    assert status == 200 and definition == {"service_code": "CX-02-04", "attributes": []}
    status, xml, headers = get("/open311/v2/services.xml")
    assert status == 200 and headers["Content-Type"].startswith("text/xml")
    assert xml.startswith("<?xml") and "<service_code>CX-02-04</service_code>" in xml


def test_post_then_get_by_id_as_the_spec_describes(aws):
    import_sample_duty_list()
    routes = StreamReader(aws, "RouteFunction")
    status, created, _ = post(form())
    assert status == 201
    [ack] = created
    assert set(ack) == {"service_request_id", "service_notice", "account_id"}
    routes.deliver()
    status, found, _ = get(f"/open311/v2/requests/{ack['service_request_id']}.json")
    assert status == 200
    [request] = found
    assert request["service_request_id"] == ack["service_request_id"]
    assert request["status"] == "open" and request["service_code"] == sample("open311")["service_code"]
    assert request["expected_datetime"] and request["agency_responsible"]
    assert request["lat"] == float(sample("open311")["lat"])
    assert sample("open311")["phone"] not in json.dumps(request, ensure_ascii=False)
    again, duplicate, _ = post(form())
    assert again == 200 and duplicate == created


def test_list_filters(aws):
    import_sample_duty_list()
    _, created, _ = post(form())
    request_id = created[0]["service_request_id"]
    _, listed, _ = get("/open311/v2/requests.json")
    assert [r["service_request_id"] for r in listed] == [request_id]
    _, by_code, _ = get("/open311/v2/requests.json", {"service_code": "HB-02-03"})
    assert by_code == []
    _, by_status, _ = get("/open311/v2/requests.json", {"status": "closed"})
    assert by_status == []
    _, by_id, _ = get("/open311/v2/requests.json", {"service_request_id": f"{request_id},MYNOSUCH"})
    assert [r["service_request_id"] for r in by_id] == [request_id]
    today = clock.now().strftime("%Y-%m-%dT00:00:00+08:00")
    _, by_date, _ = get("/open311/v2/requests.json", {"start_date": today})
    assert len(by_date) == 1


def test_requests_of_other_channels_are_not_published(aws):
    import_sample_duty_list()
    from tests.helpers import post_channel, request_body

    _, ack, _ = post_channel("12345", request_body())
    status, answer, _ = get(f"/open311/v2/requests/{ack['order_id']}.json")
    assert status == 404 and answer == [{"code": 404, "description": f"no service request {ack['order_id']}"}]
    _, listed, _ = get("/open311/v2/requests.json")
    assert listed == []


@pytest.mark.parametrize(("fields", "code"), [
    ({"api_key": "wrong"}, 403),
    ({"api_key": ""}, 403),
    ({"service_code": "NOPE"}, 400),
    ({"lat": "", "long": "", "address_string": ""}, 400),
    ({"lat": "91", "long": "114"}, 400),
    ({"lat": "abc"}, 400),
    ({"phone": "12"}, 400),
    ({"description": ""}, 400),
])
def test_post_errors_use_the_spec_format_and_write_nothing(aws, fields, code):
    import_sample_duty_list()
    before = table_items("minyi-test-OrdersTable")
    status, answer, _ = post(form(**fields))
    assert status == code
    assert isinstance(answer, list) and answer[0]["code"] == code and answer[0]["description"]
    assert table_items("minyi-test-OrdersTable") == before


def test_unknown_documents_and_formats(aws):
    import_sample_duty_list()
    assert get("/open311/v2/requests/MYNOSUCH.json")[0] == 404
    assert get("/open311/v2/services/NOPE.json")[0] == 404
    assert get("/open311/v2/services.csv")[0] == 400
    assert get("/open311/v2/nothing.json")[0] == 404
    status, answer, _ = get("/open311/v2/requests.json", {"status": "pending"})
    assert status == 400 and answer[0]["code"] == 400
    status, answer, _ = get("/open311/v2/requests.json", {"start_date": "2020-01-01T00:00:00Z"})
    assert status == 400  # more than 90 days
    status, xml, _ = get("/open311/v2/requests/MYNOSUCH.xml")
    assert status == 404 and "<errors><error><code>404</code>" in xml


class DynamoCalls:
    """Counts the DynamoDB calls the handler makes, by operation."""

    def __init__(self):
        from collections import Counter

        from minyi.dal.order_records import OrderRecord

        self.calls = Counter()
        self.client = OrderRecord._get_connection().connection.client

    def __enter__(self):
        self.client.meta.events.register("before-call.dynamodb.*", self.count)
        return self.calls

    def __exit__(self, *exc):
        self.client.meta.events.unregister("before-call.dynamodb.*", self.count)

    def count(self, model, **kwargs):
        self.calls[model.name] += 1


def test_a_list_of_request_ids_is_capped_and_read_in_one_batch(aws):
    """Defect: one public GET with 1,000 service_request_ids did 1,000 reads (~10 s of a worker)."""
    import_sample_duty_list()
    posted = [post(form(description=f"路灯坏了{n}号", phone=f"1380000{n:04d}"))[1][0]["service_request_id"]
              for n in range(3)]
    thousand = ",".join(f"MYX{n:08d}" for n in range(1000))
    status, body, _ = get("/open311/v2/requests.json", {"service_request_id": thousand})
    assert status == 400 and "100" in body[0]["description"]
    wanted = posted + [f"MYX{n:08d}" for n in range(97)]
    with DynamoCalls() as calls:
        status, body, _ = get("/open311/v2/requests.json", {"service_request_id": ",".join(wanted)})
    assert status == 200 and {item["service_request_id"] for item in body} == set(posted)
    assert calls["BatchGetItem"] == 1 and calls["GetItem"] == 0
