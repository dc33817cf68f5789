"""Creates the template's stateful resources (Kinesis streams, tables, buckets, queues,
parameters, secrets) on moto, in-process (tests) or over HTTP (local stack), and returns
what !Ref and !GetAtt resolve to.

Kinesis Data Streams for DynamoDB (a table's KinesisStreamSpecification): moto has no
EnableKinesisStreamingDestination and would never put a table's changes on the stream, so
the stream is made (its Arn resolves) and the table gets a DynamoDB stream with both images
instead, which the local stack and tests/helpers read and wrap as Kinesis records
(infra.events.kinesis_event). Nothing is ever put on the moto Kinesis stream itself."""

from __future__ import annotations

import json
from dataclasses import dataclass
from secrets import token_hex, token_urlsafe

import boto3

from infra.template import ACCOUNT, Resolver, kinesis_feeds, resources_of


@dataclass
class Provisioned:
    refs: dict[str, str]
    attributes: dict[tuple[str, str], str]
    resolver: Resolver


def physical_name(prefix: str, logical_id: str, lower: bool = False) -> str:
    name = f"{prefix}-{logical_id}"
    return name.lower() if lower else name


def provision(template: dict, prefix: str, region: str, parameters: dict[str, str] | None = None) -> Provisioned:
    refs: dict[str, str] = {}
    attributes: dict[tuple[str, str], str] = {}
    resolver = Resolver(template, refs, attributes, region, stack_name=prefix, parameters=parameters)

    kinesis = boto3.client("kinesis", region_name=region)
    for lid, resource in resources_of(template, "AWS::Kinesis::Stream").items():
        props = resolver.resolve(resource.get("Properties", {}))
        name = props.get("Name") or physical_name(prefix, lid)
        mode = (props.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
        if mode == "ON_DEMAND":
            kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        else:
            kinesis.create_stream(StreamName=name, ShardCount=int(props.get("ShardCount", 1)))
        if int(props.get("RetentionPeriodHours", 24)) > 24:
            kinesis.increase_stream_retention_period(StreamName=name,
                                                     RetentionPeriodHours=int(props["RetentionPeriodHours"]))
        if (props.get("StreamEncryption") or {}).get("EncryptionType") == "KMS":
            kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS",
                                            KeyId=props["StreamEncryption"]["KeyId"])
        refs[lid] = name
        attributes[(lid, "Arn")] = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
            "StreamARN"]

    fed = {table for table, _ in kinesis_feeds(template).values()}
    dynamodb = boto3.client("dynamodb", region_name=region)
    for lid, resource in resources_of(template, "AWS::DynamoDB::Table").items():
        props = resolver.resolve({k: v for k, v in resource["Properties"].items()
                                  if k not in ("DeletionProtectionEnabled",)})
        name = props.get("TableName") or physical_name(prefix, lid)
        args = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        if lid in fed:  # the emulation of KinesisStreamSpecification reads this stream (see above)
            declared = args.get("StreamSpecification", {}).get("StreamViewType", "NEW_AND_OLD_IMAGES")
            if declared != "NEW_AND_OLD_IMAGES":
                # Kinesis records carry both images; the table's own stream readers would then get
                # images that AWS does not give them
                raise ValueError(f"{lid}: a KinesisStreamSpecification beside a {declared} DynamoDB stream "
                                 "is not emulated locally (declare NEW_AND_OLD_IMAGES)")
            args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        if props.get("SSESpecification"):
            args["SSESpecification"] = {"Enabled": props["SSESpecification"]["SSEEnabled"]}
        table = dynamodb.create_table(**args)["TableDescription"]
        if props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        refs[lid] = name
        attributes[(lid, "Arn")] = table["TableArn"]
        if "LatestStreamArn" in table:
            attributes[(lid, "StreamArn")] = table["LatestStreamArn"]

    s3 = boto3.client("s3", region_name=region)
    for lid, resource in resources_of(template, "AWS::S3::Bucket").items():
        props = resource.get("Properties", {})
        name = physical_name(prefix, lid, lower=True)
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(Bucket=name,
                                       PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
        if "BucketEncryption" in props:
            rules = [{"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                     for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        refs[lid] = name
        attributes[(lid, "Arn")] = f"arn:aws:s3:::{name}"

    sqs = boto3.client("sqs", region_name=region)
    for lid, resource in resources_of(template, "AWS::SQS::Queue").items():
        props = resolver.resolve({k: v for k, v in resource.get("Properties", {}).items() if k != "RedrivePolicy"})
        name = physical_name(prefix, lid)
        attrs = {k: str(props[k]) for k in ("MessageRetentionPeriod", "VisibilityTimeout") if k in props}
        url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        refs[lid] = url
        attributes[(lid, "Arn")] = f"arn:aws:sqs:{region}:{ACCOUNT}:{name}"
        attributes[(lid, "QueueName")] = name
    for lid, resource in resources_of(template, "AWS::SQS::Queue").items():
        redrive = resource.get("Properties", {}).get("RedrivePolicy")
        if redrive:  # after every queue exists, since it names another queue
            policy = resolver.resolve(redrive)
            sqs.set_queue_attributes(QueueUrl=refs[lid], Attributes={"RedrivePolicy": json.dumps(policy)})

    ssm = boto3.client("ssm", region_name=region)
    for lid, resource in resources_of(template, "AWS::SSM::Parameter").items():
        props = resolver.resolve(resource["Properties"])
        name = props.get("Name") or f"/{prefix}/{lid}"
        ssm.put_parameter(Name=name, Value=str(props["Value"]), Type=props.get("Type", "String"), Overwrite=True)
        refs[lid] = name

    secrets = boto3.client("secretsmanager", region_name=region)
    for lid, resource in resources_of(template, "AWS::SecretsManager::Secret").items():
        props = resolver.resolve(resource.get("Properties", {}))
        name = props.get("Name") or f"{prefix}/{lid}"
        value: dict[str, str] = {}
        if "GenerateSecretString" in props:  # as CloudFormation does: a random value, never in a file
            spec = props["GenerateSecretString"]
            value["SecretString"] = (token_hex if spec.get("ExcludePunctuation") else token_urlsafe)(
                int(spec.get("PasswordLength", 32)))[:int(spec.get("PasswordLength", 32))]
        arn = secrets.create_secret(Name=name, Description=props.get("Description", ""), **value)["ARN"]
        refs[lid] = arn
        attributes[(lid, "Id")] = arn

    events = boto3.client("events", region_name=region)
    for lid in resources_of(template, "AWS::Events::EventBus"):
        name = physical_name(prefix, lid)
        arn = events.create_event_bus(Name=name)["EventBusArn"]
        refs[lid] = name
        attributes[(lid, "Arn")] = arn
        attributes[(lid, "Name")] = name

    cognito = boto3.client("cognito-idp", region_name=region)
    for lid, resource in resources_of(template, "AWS::Cognito::UserPool").items():
        props = resolver.resolve(resource.get("Properties", {}))
        args = {"PoolName": props.get("UserPoolName") or physical_name(prefix, lid)}
        for key in ("Policies", "AdminCreateUserConfig", "UsernameConfiguration", "AccountRecoverySetting"):
            if key in props:
                args[key] = props[key]
        if "Schema" in props:
            args["Schema"] = [{**attr, "Mutable": bool(attr.get("Mutable", True))} for attr in props["Schema"]]
        pool = cognito.create_user_pool(**args)["UserPool"]
        refs[lid] = pool["Id"]
        attributes[(lid, "Arn")] = pool["Arn"]
        attributes[(lid, "ProviderName")] = f"cognito-idp.{region}.amazonaws.com/{pool['Id']}"
        attributes[(lid, "ProviderURL")] = f"https://cognito-idp.{region}.amazonaws.com/{pool['Id']}"
    for lid, resource in resources_of(template, "AWS::Cognito::UserPoolClient").items():
        props = resolver.resolve(resource["Properties"])
        args = {"UserPoolId": props["UserPoolId"], "ClientName": props.get("ClientName") or lid,
                "GenerateSecret": bool(props.get("GenerateSecret", False))}
        for key in ("ExplicitAuthFlows", "ReadAttributes", "WriteAttributes", "IdTokenValidity",
                    "AccessTokenValidity", "RefreshTokenValidity", "TokenValidityUnits", "PreventUserExistenceErrors"):
            if key in props:
                args[key] = props[key]
        refs[lid] = cognito.create_user_pool_client(**args)["UserPoolClient"]["ClientId"]
    for lid, resource in resources_of(template, "AWS::Cognito::UserPoolGroup").items():
        props = resolver.resolve(resource["Properties"])
        cognito.create_group(GroupName=props["GroupName"], UserPoolId=props["UserPoolId"],
                             Description=props.get("Description", ""), Precedence=int(props.get("Precedence", 0)))
        refs[lid] = props["GroupName"]

    return Provisioned(refs, attributes, resolver)


def function_environment(function_props: dict, provisioned: Provisioned) -> dict[str, str]:
    variables = (function_props.get("Environment") or {}).get("Variables", {})
    return {name: str(provisioned.resolver.resolve(value)) for name, value in variables.items()}


EVENT_LOG = "LocalEventLog"  # not in template.yaml: the local stack's own plumbing


def provision_event_log(prefix: str, region: str, provisioned: Provisioned) -> str:
    """Local only, outside template.yaml: a catch-all rule on every event bus of the template,
    targeting one SQS queue, so that what the handlers put on a bus is kept (on AWS, consumers
    subscribe with rules of their own; with none, moto drops every event). Returns the queue's URL."""
    sqs = boto3.client("sqs", region_name=region)
    events = boto3.client("events", region_name=region)
    name = physical_name(prefix, EVENT_LOG)
    url = sqs.create_queue(QueueName=name, Attributes={"MessageRetentionPeriod": "3600"})["QueueUrl"]
    arn = f"arn:aws:sqs:{region}:{ACCOUNT}:{name}"
    for lid in resources_of(provisioned.resolver.template, "AWS::Events::EventBus"):
        bus = provisioned.attributes[(lid, "Name")]
        # every event has a source, and every source starts with ""
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": [{"prefix": ""}]}),
                        Description="local stack: every event, kept for GET /_local/events")
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "local-event-log", "Arn": arn}])
    return url
