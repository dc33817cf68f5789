"""Properties of template.yaml that the standards require."""

import json

from infra import template as cfn

TEMPLATE = cfn.load()
RESOURCES = TEMPLATE["Resources"]


def statements():
    for lid, resource in RESOURCES.items():
        if resource["Type"] == "AWS::Serverless::Function":
            for policy in resource["Properties"].get("Policies", []):
                for statement in policy.get("Statement", []):
                    yield lid, statement


def test_every_function_has_its_own_least_privilege_policy():
    functions = [lid for lid, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"]
    assert {lid for lid, _ in statements()} == set(functions)
    for lid, statement in statements():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), (lid, actions)
        assert statement["Resource"] != "*", lid


def test_tables_have_point_in_time_recovery_and_encryption():
    tables = cfn.resources_of(TEMPLATE, "AWS::DynamoDB::Table")
    assert set(tables) == {"OrdersTable", "DutyListTable", "ReportsTable", "KpiTable"}
    for table in tables.values():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True


def test_bucket_is_private_and_encrypted():
    bucket = RESOURCES["ReportsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert bucket["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"


def test_all_functions_share_one_layer_and_no_proxy_routes():
    functions = cfn.functions(TEMPLATE)
    assert TEMPLATE["Globals"]["Function"]["Layers"] == [{"Ref": "SharedLayer"}]
    assert TEMPLATE["Globals"]["Function"]["Runtime"] == "python3.12"
    for fn in functions:
        assert fn.module_file.exists(), fn.logical_id
        assert all("{proxy+}" not in route.path for route in fn.api_routes)


def test_schedules_and_triggers():
    by_id = {fn.logical_id: fn for fn in cfn.functions(TEMPLATE)}
    assert [s.expression for s in by_id["SlaCheckFunction"].schedules] == ["rate(5 minutes)"]
    # 01:00 +08:00: daily, Monday (Sunday 17:00 UTC), the 1st (17:00 UTC on the month's last day)
    assert [(s.event_name, s.expression, json.loads(s.input)) for s in by_id["ReportBuildFunction"].schedules] == [
        ("Daily", "cron(0 17 * * ? *)", {"period_kind": "day"}),
        ("Weekly", "cron(0 17 ? * SUN *)", {"period_kind": "week"}),
        ("Monthly", "cron(0 17 L * ? *)", {"period_kind": "month"}),
    ]
    route = by_id["RouteFunction"].streams[0]
    assert route.table == "OrdersTable" and route.on_failure_queue == "RouteDeadLetterQueue"
    assert route.report_item_failures and route.max_retries >= 1
    assert json.dumps(route.filters[0]).count("order") == 1


def test_no_secret_literals_in_template():
    # a key that names a secret may be a flag (GenerateSecret: false) or a reference, never a value
    def walk(node, path=""):
        if isinstance(node, dict):
            for key, value in node.items():
                if any(w in key.lower() for w in ("password", "secret", "apikey", "api_key")) \
                        and isinstance(value, str) and key not in ("Description",):
                    raise AssertionError(f"{path}/{key} is a literal: {value!r}")
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, path)

    walk(cfn.load())
    text = cfn.TEMPLATE.read_text(encoding="utf-8").lower()
    assert "password:" not in text and "api_key:" not in text


def test_report_files_expire_after_the_retention_parameter():
    parameter = TEMPLATE["Parameters"]["ReportRetentionDays"]
    assert parameter["Type"] == "Number" and parameter["Default"] == 730 and parameter["MinValue"] >= 1
    rules = {rule["Id"]: rule for rule in RESOURCES["ReportsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    expire = rules["expire-reports"]
    assert expire["Status"] == "Enabled" and expire["Prefix"] == "reports/"
    assert expire["ExpirationInDays"] == {"Ref": "ReportRetentionDays"}
    # a versioned bucket: the expired version goes too, and the delete marker left behind
    assert rules["expire-old-report-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert rules["expire-old-report-versions"]["ExpiredObjectDeleteMarker"] is True


def test_reports_are_listed_from_one_index_the_api_may_only_query():
    table = RESOURCES["ReportsTable"]["Properties"]
    [index] = table["GlobalSecondaryIndexes"]  # CloudFormation adds one index per table update
    assert index["IndexName"] == "listing"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["listing", "listed_at"]
    queries = [statement for lid, statement in statements()
               if lid == "ReportApiFunction" and "dynamodb:Query" in statement["Action"]]
    assert [q["Resource"] for q in queries] == [{"Fn::Sub": "${ReportsTable.Arn}/index/listing"}]
    assert all(q["Action"] == ["dynamodb:Query"] for q in queries)
    assert not any("dynamodb:Scan" in statement["Action"] for _, statement in statements())
