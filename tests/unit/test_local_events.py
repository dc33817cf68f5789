from infra import events


def test_filter_patterns_as_lambda_event_filtering_applies_them():
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": {"item_type": {"S": "order"}}}}
    assert events.matches_filter({"eventName": ["INSERT"]}, record)
    assert events.matches_filter({"dynamodb": {"NewImage": {"item_type": {"S": ["order"]}}}}, record)
    assert not events.matches_filter({"dynamodb": {"NewImage": {"item_type": {"S": ["audit"]}}}}, record)
    assert not events.matches_filter({"eventName": ["MODIFY"]}, record)
    assert events.matches_filter({"eventName": [{"prefix": "INS"}]}, record)
    assert events.matches_filter({"missing": [{"exists": False}]}, record)
    assert events.matches_filter({"eventName": [{"anything-but": ["REMOVE"]}]}, record)


def test_api_event_carries_resource_path_and_path_parameters():
    event = events.api_event("GET", "/orders/{order_id}", "/orders/MY%20X", headers={"A": "b"})
    assert event["requestContext"]["resourcePath"] == "/orders/{order_id}"
    assert event["pathParameters"] == {"order_id": "MY X"}
    assert event["multiValueHeaders"] == {"A": ["b"]}


def test_binary_body_is_base64_encoded():
    event = events.api_event("POST", "/reports", "/reports", body=b"\xff\x00")
    assert event["isBase64Encoded"] is True
