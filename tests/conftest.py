"""Shared fixtures. AWS is moto (patched by infra.moto_patches to keep DynamoDB's
promises): in-process `mock_aws` here, the local stack's moto server over HTTP in
tests/e2e. Resources come from template.yaml through the same provisioning code the
local stack uses, and handlers are loaded from their files as Lambda loads them."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

REGION = "us-east-1"
PREFIX = "minyi-test"

# Before anything imports minyi: pynamodb models read table names at import.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "MinyiTest",
    "POWERTOOLS_DEV": "false",
    "DUTY_LIST_CACHE_SECONDS": "0",
    "ORDERS_TABLE": f"{PREFIX}-OrdersTable",
    "DUTY_LIST_TABLE": f"{PREFIX}-DutyListTable",
    "REPORTS_TABLE": f"{PREFIX}-ReportsTable",
    "KPI_TABLE": f"{PREFIX}-KpiTable",
    "REPORTS_BUCKET": f"{PREFIX}-reportsbucket",
    "REPORT_URL_SECONDS": "900",
    "ATTACHMENTS_BUCKET": f"{PREFIX}-attachmentsbucket",
    "CHANNEL_CONFIG_PATH": "/minyi/dev/channels",
    "CHANNEL_CONFIG_CACHE_SECONDS": "0",
    "REPLY_RETRY_DELAYS": "0,0,0,0",
    # resources whose names moto makes up: replaced by the real ones once an account is provisioned
    "EVENT_BUS_NAME": f"{PREFIX}-EventBus",
    "ORDER_ID_KEY_SECRET": f"{PREFIX}/OrderIdKey",
    "REPLY_RETRY_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/123456789012/{PREFIX}-ReplyRetryQueue",
    "REPLY_DEAD_LETTER_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/123456789012/{PREFIX}-ReplyDeadLetterQueue",
})
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

from moto import mock_aws  # noqa: E402

from infra import moto_patches  # noqa: E402
from infra import template as cfn  # noqa: E402
from infra.provision import Provisioned, function_environment, provision  # noqa: E402
from minyi.core import settings  # noqa: E402

# in-process moto with the local stack's semantics: one DynamoDB request at a time,
# transactions that cancel without touching the table
moto_patches.apply()

TEMPLATE = cfn.load()
FUNCTIONS = {fn.logical_id: fn for fn in cfn.functions(TEMPLATE)}


_account: dict[str, Provisioned] = {}


def current_account() -> Provisioned:
    return _account["provisioned"]


def channel_secret(channel_id: str) -> str:
    return f"test-secret-{channel_id}"


OPEN311_KEY = "test-open311-key"


@contextlib.contextmanager
def provisioned_account() -> Iterator[Provisioned]:
    """Fresh moto account with every stateful resource of template.yaml, and each
    registry channel's secret in SSM as operators provision it."""
    with mock_aws():
        _fresh_containers()
        provisioned = provision(TEMPLATE, PREFIX, REGION)
        for fn in FUNCTIONS.values():
            for name, value in function_environment(fn.properties, provisioned).items():
                if name in os.environ and name.endswith(("_TABLE", "_BUCKET", "_PATH")):
                    assert os.environ[name] == value, f"{fn.logical_id}: {name} drifted from the template"
                elif name.endswith(("_URL", "_BUS_NAME", "_SECRET")):
                    os.environ[name] = value
        os.environ["STAFF_USER_POOL_ID"] = provisioned.refs["StaffUserPool"]
        os.environ["STAFF_USER_POOL_CLIENT_ID"] = provisioned.refs["StaffUserPoolClient"]
        _account["provisioned"] = provisioned
        settings.reset()  # the environment changed: validate it again
        from minyi.channels.registry import registry
        from minyi.dal import channel_config

        for channel_id in registry():
            channel_config.put_config(channel_id, channel_config.ChannelConfig(
                secret=channel_secret(channel_id), api_keys=(OPEN311_KEY,) if channel_id == "open311" else ()))
        try:
            yield provisioned
        finally:
            _account.pop("provisioned", None)


@pytest.fixture(autouse=True)
def _calendar_supplement() -> Iterator[None]:
    """Outside an AWS account (a unit test) the county calendar has no supplement: no test
    reaches for a real table. An account (`aws`, `provisioned_account`) reads its own."""
    from minyi.timelimits import calendar

    if "provisioned" not in _account:  # a module's account (set up before this) keeps its own
        calendar.reset(load=lambda: calendar.EMPTY)
    yield
    if "provisioned" not in _account:
        calendar.reset(load=lambda: calendar.EMPTY)


@pytest.fixture
def aws() -> Iterator[Provisioned]:
    with provisioned_account() as provisioned:
        yield provisioned


_loaded: dict[str, ModuleType] = {}


def _fresh_containers() -> None:
    """A fresh account is a fresh deployment: no warm container keeps what it cached
    (duty-list versions restart at 1 in every test's account), and the calendar supplement
    is read from this account."""
    _loaded.clear()
    from minyi.casework import timing
    from minyi.timelimits import calendar

    calendar.reset()
    timing.reset()


def load_handler_module(logical_id: str) -> ModuleType:
    """The function's handler module, imported from its CodeUri as the Lambda
    runtime imports it (each function under its own module name)."""
    if logical_id not in _loaded:
        fn = FUNCTIONS[logical_id]
        spec = importlib.util.spec_from_file_location(f"lambda_{logical_id}", fn.module_file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        _loaded[logical_id] = module
    return _loaded[logical_id]


def handler(logical_id: str):
    fn = FUNCTIONS[logical_id]
    return getattr(load_handler_module(logical_id), fn.handler_name)


@pytest.fixture
def context():
    from infra.events import LambdaContext

    return LambdaContext("test-function")
