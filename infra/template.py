"""template.yaml, read the way SAM and CloudFormation read it.

One source of truth: the local stack and the tests create tables, buckets, queues and
parameters, route HTTP requests, deliver streams and fire schedules from what this
module reads out of template.yaml, never from a second list kept by hand.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
ACCOUNT = "123456789012"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation short tags (!Ref, !GetAtt, !Sub, ...)
    into their long form ({"Ref": ...}, {"Fn::GetAtt": [...]}, ...)."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load(path: Path = TEMPLATE) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass
class ApiRoute:
    method: str  # upper case
    path: str  # as in the template, e.g. /orders/{order_id}
    event_name: str
    authorizer: str | None = None  # the Api's authorizer guarding the route; None for a public route


@dataclass
class CognitoAuthorizer:
    name: str
    user_pool: str  # logical id of the AWS::Cognito::UserPool
    header: str


def authorizers(template: dict) -> dict[str, CognitoAuthorizer]:
    """The Cognito authorizers the template's APIs declare, by name."""
    found = {}
    for resource in resources_of(template, "AWS::Serverless::Api").values():
        auth = resource.get("Properties", {}).get("Auth") or {}
        for name, spec in (auth.get("Authorizers") or {}).items():
            pool = spec["UserPoolArn"]
            if not (isinstance(pool, dict) and "Fn::GetAtt" in pool):
                raise ValueError(f"authorizer {name}: UserPoolArn must be !GetAtt <UserPool>.Arn")
            found[name] = CognitoAuthorizer(name, pool["Fn::GetAtt"][0],
                                            (spec.get("Identity") or {}).get("Header", "Authorization"))
    return found


def _route_authorizer(template: dict, event_props: dict) -> str | None:
    explicit = (event_props.get("Auth") or {}).get("Authorizer")
    if explicit is not None:
        return None if explicit == "NONE" else explicit
    api_ref = event_props.get("RestApiId")
    api = template["Resources"].get(api_ref["Ref"]) if isinstance(api_ref, dict) and "Ref" in api_ref else None
    return ((api or {}).get("Properties", {}).get("Auth") or {}).get("DefaultAuthorizer")


@dataclass
class StreamSource:
    """A stream event source: the table's DynamoDB stream (`kind` "dynamodb"), or a Kinesis
    stream fed by Kinesis Data Streams for DynamoDB (`kind` "kinesis": `table` is the table
    whose KinesisStreamSpecification names `kinesis_stream`, and `filters` apply to the
    record's decoded `data`)."""

    table: str  # logical id of the table whose changes trigger the function
    event_name: str
    batch_size: int
    max_retries: int  # -1: until the records expire
    filters: list[dict]
    on_failure_queue: str | None
    report_item_failures: bool
    bisect: bool = False  # BisectBatchOnFunctionError
    kind: str = "dynamodb"  # "dynamodb" | "kinesis"
    kinesis_stream: str | None = None  # logical id of the AWS::Kinesis::Stream (kind "kinesis")
    # ApproximateCreationDateTime in the Kinesis record's data: epoch milliseconds or microseconds
    creation_time_precision: str = "MILLISECOND"


@dataclass
class QueueSource:
    queue: str  # logical id of the queue
    event_name: str
    batch_size: int
    report_item_failures: bool


@dataclass
class ScheduleSource:
    expression: str
    event_name: str
    input: str | None = None  # the Schedule event's Input: the target gets exactly this JSON


@dataclass
class Function:
    logical_id: str
    code_uri: Path
    handler: str
    properties: dict
    api_routes: list[ApiRoute] = field(default_factory=list)
    streams: list[StreamSource] = field(default_factory=list)
    queues: list[QueueSource] = field(default_factory=list)
    schedules: list[ScheduleSource] = field(default_factory=list)

    @property
    def module_file(self) -> Path:
        return self.code_uri / (self.handler.rsplit(".", 1)[0].replace(".", "/") + ".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]


def _merge_globals(template: dict, properties: dict) -> dict:
    merged = json.loads(json.dumps(template.get("Globals", {}).get("Function", {})))
    for key, value in properties.items():
        if key == "Environment":
            variables = merged.setdefault("Environment", {}).setdefault("Variables", {})
            variables.update(value.get("Variables", {}))
        else:
            merged[key] = value
    return merged


def _table_of(stream_ref: Any) -> str:
    if isinstance(stream_ref, dict) and "Fn::GetAtt" in stream_ref:
        return stream_ref["Fn::GetAtt"][0]
    raise ValueError(f"stream source {stream_ref!r} is not !GetAtt <Table>.StreamArn")


def kinesis_feeds(template: dict) -> dict[str, tuple[str, str]]:
    """Kinesis Data Streams for DynamoDB as the template declares it: for each Kinesis stream a
    table's KinesisStreamSpecification names, (that table, its ApproximateCreationDateTimePrecision)."""
    feeds: dict[str, tuple[str, str]] = {}
    for table, resource in resources_of(template, "AWS::DynamoDB::Table").items():
        spec = resource.get("Properties", {}).get("KinesisStreamSpecification")
        if not spec:
            continue
        arn = spec.get("StreamArn")
        if not (isinstance(arn, dict) and "Fn::GetAtt" in arn and arn["Fn::GetAtt"][1] == "Arn"):
            raise ValueError(f"{table}: KinesisStreamSpecification.StreamArn must be !GetAtt <Stream>.Arn "
                             "to be emulated locally")
        stream = arn["Fn::GetAtt"][0]
        if stream in feeds:  # allowed on AWS; the local stack would have to interleave two tables' changes
            raise ValueError(f"Kinesis stream {stream} is fed by {feeds[stream][0]} and {table}: "
                             "more than one table per stream is not emulated locally")
        feeds[stream] = (table, spec.get("ApproximateCreationDateTimePrecision", "MILLISECOND"))
    return feeds


def _kinesis_source(template: dict, where: str, name: str, ev: dict) -> StreamSource:
    ref = ev.get("Stream")
    if not (isinstance(ref, dict) and "Fn::GetAtt" in ref and ref["Fn::GetAtt"][1] == "Arn"):
        raise ValueError(f"{where}: Kinesis event Stream {ref!r} is not !GetAtt <Stream>.Arn")
    stream = ref["Fn::GetAtt"][0]
    if template["Resources"].get(stream, {}).get("Type") != "AWS::Kinesis::Stream":
        raise ValueError(f"{where}: {stream} is not an AWS::Kinesis::Stream of the template")
    feeds = kinesis_feeds(template)
    if stream not in feeds:
        raise ValueError(f"{where}: no table's KinesisStreamSpecification feeds {stream}; only Kinesis Data "
                         "Streams for DynamoDB is emulated locally (nothing else would put records on it)")
    filters = [json.loads(f["Pattern"]) for f in (ev.get("FilterCriteria") or {}).get("Filters", [])]
    for pattern in filters:
        if set(pattern) - {"data"}:  # Lambda refuses such a mapping
            raise ValueError(f"{where}: a Kinesis event source filters on the data key only, not {sorted(pattern)}")
    table, precision = feeds[stream]
    return StreamSource(table=table, kinesis_stream=stream, kind="kinesis", creation_time_precision=precision,
                        filters=filters, **_stream_options(name, ev))


def _stream_options(name: str, ev: dict) -> dict[str, Any]:
    failure = (ev.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
    return {
        "event_name": name,
        "batch_size": int(ev.get("BatchSize", 100)),
        "max_retries": int(ev.get("MaximumRetryAttempts", -1)),
        "on_failure_queue": failure["Fn::GetAtt"][0] if failure else None,
        "report_item_failures": "ReportBatchItemFailures" in ev.get("FunctionResponseTypes", []),
        "bisect": bool(ev.get("BisectBatchOnFunctionError", False)),
    }


def functions(template: dict | None = None) -> list[Function]:
    template = template or load()
    found = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = _merge_globals(template, resource["Properties"])
        fn = Function(logical_id, ROOT / props["CodeUri"], props["Handler"], props)
        for name, event in (props.get("Events") or {}).items():
            ev = event.get("Properties", {})
            if event["Type"] == "Api":
                fn.api_routes.append(ApiRoute(ev["Method"].upper(), ev["Path"], name,
                                              _route_authorizer(template, ev)))
            elif event["Type"] == "DynamoDB":
                fn.streams.append(StreamSource(
                    table=_table_of(ev["Stream"]),
                    filters=[json.loads(f["Pattern"]) for f in (ev.get("FilterCriteria") or {}).get("Filters", [])],
                    **_stream_options(name, ev)))
            elif event["Type"] == "Kinesis":
                fn.streams.append(_kinesis_source(template, f"{logical_id}.{name}", name, ev))
            elif event["Type"] == "SQS":
                fn.queues.append(QueueSource(
                    queue=ev["Queue"]["Fn::GetAtt"][0], event_name=name, batch_size=int(ev.get("BatchSize", 10)),
                    report_item_failures="ReportBatchItemFailures" in ev.get("FunctionResponseTypes", [])))
            elif event["Type"] == "Schedule":
                fn.schedules.append(ScheduleSource(ev["Schedule"], name, ev.get("Input")))
            else:
                raise ValueError(f"{logical_id}.{name}: event type {event['Type']} is not emulated locally")
        found.append(fn)
    return found


def resources_of(template: dict, resource_type: str) -> dict[str, dict]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == resource_type}


def parameter_defaults(template: dict) -> dict[str, str]:
    return {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()}


# ----------------------------------------------------------------- intrinsic functions

class Resolver:
    """Evaluates the intrinsic functions a function's environment uses, against the
    physical resources the local stack made."""

    def __init__(self, template: dict, refs: dict[str, str], attributes: dict[tuple[str, str], str],
                 region: str, stack_name: str, parameters: dict[str, str] | None = None) -> None:
        self.template = template
        self.refs = refs
        self.attributes = attributes
        self.pseudo = {"AWS::Region": region, "AWS::AccountId": ACCOUNT, "AWS::StackName": stack_name,
                       "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
        self.parameters = {**parameter_defaults(template), **(parameters or {})}

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        (key, arg), = value.items()
        if key == "Ref":
            return self._ref(arg)
        if key == "Fn::GetAtt":
            return self.attributes[(arg[0], arg[1])]
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::Equals":
            left, right = self.resolve(arg)
            return left == right
        if key == "Fn::If":
            name, yes, no = arg
            return self.resolve(yes if self.condition(name) else no)
        if key == "Fn::Join":
            sep, parts = arg
            return sep.join(str(p) for p in self.resolve(parts))
        if key.startswith("Fn::"):
            raise ValueError(f"{key} is not emulated locally")
        return {key: self.resolve(arg)}

    def _ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.refs[name]

    def _sub(self, arg: Any) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name in extra:
                return str(extra[name])
            if "." in name and not name.startswith("AWS::"):
                lid, attr = name.split(".", 1)
                return self.attributes[(lid, attr)]
            return self._ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, text)
