"""Create a Deployment's AWS resources in moto (server mode) with boto3.

Resources are created in dependency order (a dead-letter queue before the queue whose RedrivePolicy
names it, a queue before the subscription that targets it, ...). S3 notifications and Lambda event
source mappings are deliberately NOT configured in moto: the runtime dispatches those events itself and
moto must not deliver them a second time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from endurance_local.model import ACCOUNT_ID, REGION, Deployment, Resource, TemplateError

DUMMY_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/endurance-local-state-machine"

# Within one dependency level, create in this order (topics before subscriptions, queues before rules).
_TYPE_RANK = {
    "AWS::SQS::Queue": 0,
    "AWS::SNS::Topic": 1,
    "AWS::DynamoDB::Table": 2,
    "AWS::Serverless::SimpleTable": 2,
    "AWS::S3::Bucket": 3,
    "AWS::Events::EventBus": 4,
    "AWS::SNS::Subscription": 5,
    "AWS::Events::Rule": 6,
    "AWS::Serverless::StateMachine": 7,
    "AWS::StepFunctions::StateMachine": 7,
}


class _Clients:
    """boto3 clients on the moto endpoint, made on first use."""

    def __init__(self, endpoint_url: str) -> None:
        self._session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        self._endpoint_url = endpoint_url
        self._clients: dict[str, Any] = {}

    def __getitem__(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(
                service, endpoint_url=self._endpoint_url, config=Config(retries={"max_attempts": 2})
            )
        return self._clients[service]


def provision(deployment: Deployment, endpoint_url: str) -> None:
    """Create every emulated resource of `deployment` in the moto server at `endpoint_url`."""
    clients = _Clients(endpoint_url)
    for resource in creation_order(deployment):
        create = _CREATORS.get(resource.type)
        if create is None or not resource.supported:
            continue
        try:
            create(clients, resource, deployment)
        except (ClientError, BotoCoreError) as exc:
            raise TemplateError(
                f"creating {resource.type} {resource.physical_name} failed: {exc}", resource.logical_id
            ) from exc


def creation_order(deployment: Deployment) -> list[Resource]:
    """Resources in dependency order (Ref/GetAtt/Sub/DependsOn), ties broken by type, then logical id."""
    resources = deployment.resources
    depends = {lid: set(getattr(r, "depends_on", set())) & set(resources) for lid, r in resources.items()}
    ordered: list[Resource] = []
    placed: set[str] = set()
    remaining = set(resources)
    while remaining:
        ready = [lid for lid in remaining if depends[lid] <= placed]
        if not ready:
            # A cycle through resources with nothing to create (roles, policies): break it deterministically.
            ready = [min(remaining, key=lambda lid: (_TYPE_RANK.get(resources[lid].type, 99), lid))]
        ready.sort(key=lambda lid: (_TYPE_RANK.get(resources[lid].type, 99), lid))
        for lid in ready:
            ordered.append(resources[lid])
            placed.add(lid)
            remaining.discard(lid)
    return ordered


# -- SQS ------------------------------------------------------------------------------------------------

_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "MaximumMessageSize",
    "KmsDataKeyReusePeriodSeconds",
)


def _create_queue(clients: _Clients, resource: Resource, deployment: Deployment) -> None:
    props = resource.properties
    attributes = {name: str(props[name]) for name in _QUEUE_ATTRIBUTES if name in props}
    if _truthy(props.get("FifoQueue")):
        attributes["FifoQueue"] = "true"
        if "ContentBasedDeduplication" in props:
            attributes["ContentBasedDeduplication"] = _bool_text(props["ContentBasedDeduplication"])
    for name in ("RedrivePolicy", "RedriveAllowPolicy"):
        if name in props:
            attributes[name] = _json_text(props[name])
    kwargs: dict[str, Any] = {"QueueName": resource.physical_name, "Attributes": attributes}
    tags = _tags(props.get("Tags"))
    if tags:
        kwargs["tags"] = tags
    # moto answers with a URL on the Host it was reached at; it finds queues by name, so the URL
    # build_deployment computed from aws_endpoint stays valid even if provisioning used another host.
    clients["sqs"].create_queue(**kwargs)


# -- SNS ------------------------------------------------------------------------------------------------


def _create_topic(clients: _Clients, resource: Resource, deployment: Deployment) -> None:
    props = resource.properties
    attributes = {}
    if _truthy(props.get("FifoTopic")):
        attributes["FifoTopic"] = "true"
        if "ContentBasedDeduplication" in props:
            attributes["ContentBasedDeduplication"] = _bool_text(props["ContentBasedDeduplication"])
    if "DisplayName" in props:
        attributes["DisplayName"] = str(props["DisplayName"])
    kwargs: dict[str, Any] = {"Name": resource.physical_name, "Attributes": attributes}
    tags = _tags(props.get("Tags"))
    if tags:
        kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    arn = clients["sns"].create_topic(**kwargs)["TopicArn"]
    for subscription in props.get("Subscription") or []:
        _subscribe(clients, arn, subscription)


def _create_subscription(clients: _Clients, resource: Resource, deployment: Deployment) -> None:
    _subscribe(clients, str(resource.properties.get("TopicArn")), resource.properties)


def _subscribe(clients: _Clients, topic_arn: str, props: dict[str, Any]) -> None:
    if str(props.get("Protocol", "")).lower() != "sqs":
        return  # build_deployment already warned: only SQS subscriptions are emulated
    attributes = {}
    if "RawMessageDelivery" in props:
        attributes["RawMessageDelivery"] = _bool_text(props["RawMessageDelivery"])
    for name in ("FilterPolicy", "RedrivePolicy"):
        if name in props:
            attributes[name] = _json_text(props[name])
    if "FilterPolicyScope" in props:
        attributes["FilterPolicyScope"] = str(props["FilterPolicyScope"])
    clients["sns"].subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=str(props["Endpoint"]),
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )


# -- DynamoDB -------------------------------------------------------------------------------------------


def _create_table(clients: _Clients, resource: Resource, deployment: Deployment) -> None:
    props = resource.properties
    if resource.type == "AWS::Serverless::SimpleTable":
        kwargs = _simple_table_request(props)
    else:
        kwargs = _table_request(props)
    kwargs["TableName"] = resource.physical_name
    dynamodb = clients["dynamodb"]
    description = dynamodb.create_table(**kwargs)["TableDescription"]
    if description.get("LatestStreamArn"):
        resource.attributes["StreamArn"] = description["LatestStreamArn"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and _truthy(ttl.get("Enabled")):
        dynamodb.update_time_to_live(
            TableName=resource.physical_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": str(ttl["AttributeName"])},
        )


def _table_request(props: dict[str, Any]) -> dict[str, Any]:
    on_demand = props.get("BillingMode") == "PAY_PER_REQUEST" or "ProvisionedThroughput" not in props
    kwargs: dict[str, Any] = {
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": "PAY_PER_REQUEST" if on_demand else "PROVISIONED",
    }
    if not on_demand:
        kwargs["ProvisionedThroughput"] = _throughput(props["ProvisionedThroughput"])
    for name in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        indexes = []
        for index in props.get(name) or []:
            index = {
                k: v
                for k, v in index.items()
                if k in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
            }
            if on_demand or name == "LocalSecondaryIndexes":
                index.pop("ProvisionedThroughput", None)
            elif "ProvisionedThroughput" in index:
                index["ProvisionedThroughput"] = _throughput(index["ProvisionedThroughput"])
            indexes.append(index)
        if indexes:
            kwargs[name] = indexes
    stream = props.get("StreamSpecification")
    if stream and stream.get("StreamViewType"):
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    tags = _tags(props.get("Tags"))
    if tags:
        kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return kwargs


def _simple_table_request(props: dict[str, Any]) -> dict[str, Any]:
    key = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
    attribute_type = {"String": "S", "Number": "N", "Binary": "B"}[str(key.get("Type", "String"))]
    kwargs: dict[str, Any] = {
        "AttributeDefinitions": [{"AttributeName": str(key["Name"]), "AttributeType": attribute_type}],
        "KeySchema": [{"AttributeName": str(key["Name"]), "KeyType": "HASH"}],
    }
    if props.get("ProvisionedThroughput"):
        kwargs["BillingMode"] = "PROVISIONED"
        kwargs["ProvisionedThroughput"] = _throughput(props["ProvisionedThroughput"])
    else:
        kwargs["BillingMode"] = "PAY_PER_REQUEST"
    return kwargs


def _throughput(value: dict[str, Any]) -> dict[str, int]:
    return {
        "ReadCapacityUnits": int(value["ReadCapacityUnits"]),
        "WriteCapacityUnits": int(value["WriteCapacityUnits"]),
    }


# -- S3, EventBridge, Step Functions ---------------------------------------------------------------------


def _create_bucket(clients: _Clients, resource: Resource, deployment: Deployment) -> None:
    s3 = clients["s3"]
    s3.create_bucket(Bucket=resource.physical_name)
    versioning = resource.properties.get("VersioningConfiguration") or {}
    if versioning.get("Status"):
        s3.put_bucket_versioning(
            Bucket=resource.physical_name, VersioningConfiguration={"Status": str(versioning["Status"])}
        )


def _create_event_bus(clients: _Clients, resource: Resource, deployment: Deployment) -> None:
    if resource.physical_name != "default":
        clients["events"].create_event_bus(Name=resource.physical_name)


def _create_rule(clients: _Clients, resource: Resource, deployment: Deployment) -> None:
    props = resource.properties
    events = clients["events"]
    bus = str(props.get("EventBusName", "default")).rsplit("/", 1)[-1]
    kwargs: dict[str, Any] = {
        "Name": resource.physical_name,
        "EventBusName": bus,
        "State": str(props.get("State", "ENABLED")),
    }
    if "EventPattern" in props:
        kwargs["EventPattern"] = _json_text(props["EventPattern"])
    if "ScheduleExpression" in props:
        kwargs["ScheduleExpression"] = str(props["ScheduleExpression"])
    if "Description" in props:
        kwargs["Description"] = str(props["Description"])
    events.put_rule(**kwargs)
    targets = []
    for target in props.get("Targets") or []:
        arn = str(target.get("Arn", ""))
        # Lambda targets are the runtime's (schedules) or were reported as not emulated when building.
        if not (arn.startswith("arn:aws:sqs:") or arn.startswith("arn:aws:sns:")):
            continue
        entry = {
            k: target[k]
            for k in ("Id", "Arn", "Input", "InputPath", "InputTransformer", "SqsParameters")
            if k in target
        }
        if isinstance(entry.get("Input"), dict):
            entry["Input"] = json.dumps(entry["Input"])
        targets.append(entry)
    if targets:
        response = events.put_targets(Rule=resource.physical_name, EventBusName=bus, Targets=targets)
        if response.get("FailedEntryCount"):
            raise TemplateError(f"put_targets failed: {response.get('FailedEntries')}", resource.logical_id)


def _create_state_machine(clients: _Clients, resource: Resource, deployment: Deployment) -> None:
    clients["stepfunctions"].create_state_machine(
        name=resource.physical_name,
        definition=resource.attributes["Definition"],
        roleArn=DUMMY_ROLE_ARN,
        type=str(resource.attributes.get("Type", "STANDARD")),
    )


_CREATORS: dict[str, Callable[[_Clients, Resource, Deployment], None]] = {
    "AWS::SQS::Queue": _create_queue,
    "AWS::SNS::Topic": _create_topic,
    "AWS::SNS::Subscription": _create_subscription,
    "AWS::DynamoDB::Table": _create_table,
    "AWS::Serverless::SimpleTable": _create_table,
    "AWS::S3::Bucket": _create_bucket,
    "AWS::Events::EventBus": _create_event_bus,
    "AWS::Events::Rule": _create_rule,
    "AWS::Serverless::StateMachine": _create_state_machine,
    "AWS::StepFunctions::StateMachine": _create_state_machine,
}


# -- value helpers -----------------------------------------------------------------------------------------


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _bool_text(value: Any) -> str:
    return "true" if _truthy(value) else "false"


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _tags(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(t["Key"]): str(t["Value"]) for t in value if isinstance(t, dict) and "Key" in t}
    return {}
