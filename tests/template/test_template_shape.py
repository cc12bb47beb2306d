"""The SAM template keeps the promises of docs/architecture.md and DESIGN.md §5-6.

Checked on the raw template (what the local runtime reads) and on the SAM transform's output (what
CloudFormation deploys): dead-letter queues, table keys, environment names, least-privilege policies,
event sources, and the absence of dependency cycles.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

EXPECTED_FUNCTIONS = {
    "ApiFunction": "api",
    "DispatchFunction": "dispatch",
    "ClassifyFunction": "classify",
    "RetrieveFunction": "retrieve",
    "AnswerFunction": "answer",
    "EvaluateFunction": "evaluate",
    "PersistFunction": "persist",
    "FailFunction": "fail",
    "NotifyFunction": "notify",
    "WebSocketFunction": "websocket",
    "AuditFunction": "audit",
    "MetricsFunction": "metrics",
    "IngestFunction": "ingest",
}

# docs/architecture.md: "Environment variables (set by template.yaml)". LOCAL_* are the local runtime's.
SHARED_ENV = {
    "JOBS_TABLE",
    "SESSIONS_TABLE",
    "FEEDBACK_TABLE",
    "AUDIT_TABLE",
    "CONNECTIONS_TABLE",
    "IDEMPOTENCY_TABLE",
    "DOCUMENTS_TABLE",
    "INTAKE_QUEUE_URL",
    "FAILED_JOBS_QUEUE_URL",
    "EVENTS_TOPIC_ARN",
    "WEBSOCKET_URL",
    "WEBSOCKET_MANAGEMENT_URL",
    "DOCUMENTS_BUCKET",
    "VECTOR_STORE",
    "OPENSEARCH_ENDPOINT",
    "OPENSEARCH_INDEX",
    "EMBEDDER",
    "LLM_PROVIDER",
    "LOG_LEVEL",
    "POWERTOOLS_SERVICE_NAME",
    "ENDURANCE_FAULT_INJECTION",
}

# (hash key, range key, TTL attribute, {GSI name: hash key or (hash key, range key)})
EXPECTED_TABLES: dict[str, tuple[str, str | None, str | None, dict[str, str | tuple[str, str]]]] = {
    "JobsTable": ("job_id", None, None, {"by_status": ("status", "created_at")}),
    "SessionsTable": ("session_id", "turn_key", None, {}),
    "FeedbackTable": ("job_id", "feedback_id", None, {}),
    "AuditTable": ("log_id", "event_key", "expires_at", {}),
    "ConnectionsTable": ("connection_id", "sk", "expires_at", {"by_job": "job_id"}),
    "IdempotencyTable": ("idempotency_key", None, "expires_at", {}),
    "DocumentsTable": ("doc", None, None, {}),
}

PSEUDO_PARAMETERS = {
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
}


def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in template["Resources"].items() if res["Type"] == resource_type}


def logical_id_of(value: Any) -> str | None:
    """The resource a Ref/GetAtt points at."""
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return target[0] if isinstance(target, list) else target.split(".")[0]
    return None


def references(value: Any) -> Iterator[str]:
    """Every logical id or parameter a piece of template refers to (Ref, GetAtt, Sub variables)."""
    if isinstance(value, list):
        for item in value:
            yield from references(item)
        return
    if not isinstance(value, dict):
        return
    for key, inner in value.items():
        if key == "Ref" and isinstance(inner, str):
            yield inner
        elif key == "Fn::GetAtt":
            yield inner[0] if isinstance(inner, list) else inner.split(".")[0]
        elif key == "Fn::Sub":
            text, local_vars = (inner[0], inner[1]) if isinstance(inner, list) else (inner, {})
            for name in re.findall(r"\$\{([^!}][^}]*)\}", text):
                name = name.split(".")[0]
                if name not in local_vars:
                    yield name
            yield from references(local_vars)
        else:
            yield from references(inner)


def dependency_graph(template: dict[str, Any]) -> dict[str, set[str]]:
    resources = template["Resources"]
    graph: dict[str, set[str]] = {}
    for lid, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        depends_on = [depends_on] if isinstance(depends_on, str) else depends_on
        refs = set(references(resource.get("Properties", {}))) | set(depends_on)
        graph[lid] = {ref for ref in refs if ref in resources}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for target in sorted(graph[node]):
            cycle = visit(target)
            if cycle:
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        cycle = visit(node)
        if cycle:
            return cycle
    return None


def top_level_names(module: ast.Module) -> set[str]:
    names = {node.name for node in module.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    for node in module.body:
        if isinstance(node, ast.Assign):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def policy_template_targets(function: dict[str, Any], policy_name: str) -> set[str]:
    """Logical ids a function's SAM policy templates of one kind point at."""
    targets = set()
    for policy in function["Properties"].get("Policies", []):
        if isinstance(policy, dict) and policy_name in policy:
            for value in policy[policy_name].values():
                target = logical_id_of(value)
                if target:
                    targets.add(target)
    return targets


# ---------------------------------------------------------------- functions


def test_every_function_of_the_design_is_declared_with_its_code_folder(template: dict[str, Any]) -> None:
    functions = resources_of(template, "AWS::Serverless::Function")
    assert {lid: Path(f["Properties"]["CodeUri"]).name for lid, f in functions.items()} == EXPECTED_FUNCTIONS
    handlers = {
        f["Properties"].get("Handler", template["Globals"]["Function"]["Handler"]) for f in functions.values()
    }
    assert handlers == {"app.handler"}


def test_every_code_folder_holds_a_handler_module_with_handler(template: dict[str, Any]) -> None:
    for lid, function in resources_of(template, "AWS::Serverless::Function").items():
        app = ROOT / function["Properties"]["CodeUri"] / "app.py"
        assert app.is_file(), f"{lid}: {app.relative_to(ROOT)} does not exist"
        module = ast.parse(app.read_text(encoding="utf-8"))
        assert "handler" in top_level_names(module), f"{lid}: {app.relative_to(ROOT)} defines no handler"


def test_globals_pin_runtime_architecture_layer_and_tracing(template: dict[str, Any]) -> None:
    function_globals = template["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.12"
    assert function_globals["Architectures"] == ["arm64"]
    assert function_globals["Tracing"] == "Active"
    assert function_globals["Layers"] == [{"Ref": "CoreLayer"}]
    layer = template["Resources"]["CoreLayer"]
    assert layer["Properties"]["ContentUri"] == "layers/core"
    assert layer["Metadata"]["BuildMethod"] == "python3.12"
    assert (ROOT / "layers/core/endurance/__init__.py").is_file()
    requirements = (ROOT / "layers/core/requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^aws-lambda-powertools", requirements, re.M)
    assert re.search(r"^pydantic", requirements, re.M)
    assert not re.search(r"^boto3", requirements, re.M), "boto3 comes with the Lambda runtime"


def test_globals_environment_has_every_shared_variable(template: dict[str, Any]) -> None:
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert set(env) == SHARED_ENV
    assert env["POWERTOOLS_SERVICE_NAME"] == "endurance"
    assert env["ENDURANCE_FAULT_INJECTION"] == {"Ref": "FaultInjection"}
    for variable, table in [
        ("JOBS_TABLE", "JobsTable"),
        ("CONNECTIONS_TABLE", "ConnectionsTable"),
        ("INTAKE_QUEUE_URL", "IntakeQueue"),
        ("FAILED_JOBS_QUEUE_URL", "FailedJobsQueue"),
        ("EVENTS_TOPIC_ARN", "JobEventsTopic"),
    ]:
        assert env[variable] == {"Ref": table}
    bucket_name = template["Resources"]["DocumentsBucket"]["Properties"]["BucketName"]
    assert env["DOCUMENTS_BUCKET"] == bucket_name


def test_only_the_dispatcher_knows_the_state_machine(template: dict[str, Any]) -> None:
    holders = {
        lid
        for lid, f in resources_of(template, "AWS::Serverless::Function").items()
        if "STATE_MACHINE_ARN" in f["Properties"].get("Environment", {}).get("Variables", {})
    }
    assert holders == {"DispatchFunction"}
    dispatch = template["Resources"]["DispatchFunction"]["Properties"]
    assert dispatch["Environment"]["Variables"]["STATE_MACHINE_ARN"] == {"Ref": "ChatStateMachine"}
    assert policy_template_targets(
        template["Resources"]["DispatchFunction"], "StepFunctionsExecutionPolicy"
    ) == {"ChatStateMachine"}


def test_api_routes_are_the_documented_ones(template: dict[str, Any]) -> None:
    api = template["Resources"]["ApiFunction"]["Properties"]
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in api["Events"].values()}
    assert routes == {
        ("POST", "/v1/chat"),
        ("GET", "/v1/jobs/{job_id}"),
        ("GET", "/v1/sessions/{session_id}"),
        ("POST", "/v1/feedback"),
        ("POST", "/v1/evaluate"),
        ("GET", "/health"),
        ("GET", "/config.json"),
        ("GET", "/v1/admin/dlqs"),
        ("GET", "/v1/admin/dlqs/{queue}/messages"),
        ("POST", "/v1/admin/dlqs/{queue}/replay"),
        ("GET", "/v1/admin/jobs"),
        ("GET", "/v1/documents"),
        ("POST", "/v1/documents"),
    }
    assert all(
        e["Type"] == "HttpApi" and e["Properties"]["ApiId"] == {"Ref": "HttpApi"}
        for e in api["Events"].values()
    )
    assert api["Timeout"] == 10
    cors = template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == ["*"]
    assert set(cors["AllowHeaders"]) == {"content-type", "idempotency-key", "authorization"}
    assert set(cors["AllowMethods"]) == {"GET", "POST", "OPTIONS"}


@pytest.mark.parametrize(
    ("function", "queue", "batch_failures"),
    [
        ("DispatchFunction", "IntakeQueue", True),
        ("NotifyFunction", "NotifyQueue", True),
        ("AuditFunction", "AuditQueue", True),
        ("MetricsFunction", "MetricsQueue", False),
    ],
)
def test_sqs_consumers(template: dict[str, Any], function: str, queue: str, batch_failures: bool) -> None:
    (event,) = template["Resources"][function]["Properties"]["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::GetAtt": [queue, "Arn"]}
    assert (
        "ReportBatchItemFailures" in event["Properties"].get("FunctionResponseTypes", [])
    ) is batch_failures


def test_ingest_listens_to_the_documents_bucket_with_a_dlq(template: dict[str, Any]) -> None:
    ingest = template["Resources"]["IngestFunction"]["Properties"]
    events = {e["Properties"]["Events"] for e in ingest["Events"].values() if e["Type"] == "S3"}
    assert events == {"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}
    assert all(e["Properties"]["Bucket"] == {"Ref": "DocumentsBucket"} for e in ingest["Events"].values())
    assert ingest["Timeout"] == 120
    assert ingest["DeadLetterQueue"] == {"Type": "SQS", "TargetArn": {"Fn::GetAtt": ["IngestDLQ", "Arn"]}}


def test_websocket_functions_may_manage_connections_and_nothing_else_may(template: dict[str, Any]) -> None:
    def manages_connections(function: dict[str, Any]) -> bool:
        return any(
            statement.get("Action") == "execute-api:ManageConnections"
            for policy in function["Properties"].get("Policies", [])
            if isinstance(policy, dict)
            for statement in policy.get("Statement", [])
        )

    functions = resources_of(template, "AWS::Serverless::Function")
    assert {lid for lid, f in functions.items() if manages_connections(f)} == {
        "NotifyFunction",
        "WebSocketFunction",
    }


def test_table_access_is_least_privilege(template: dict[str, Any]) -> None:
    """Who may touch which table: a new grant here should be a deliberate decision."""
    functions = resources_of(template, "AWS::Serverless::Function")
    grants = {
        lid: {
            (kind, table)
            for kind in ("DynamoDBCrudPolicy", "DynamoDBReadPolicy", "DynamoDBWritePolicy")
            for table in policy_template_targets(f, kind)
        }
        for lid, f in functions.items()
    }
    assert ("DynamoDBWritePolicy", "AuditTable") in grants["AuditFunction"]
    assert all("AuditTable" not in {t for _, t in g} for lid, g in grants.items() if lid != "AuditFunction")
    assert {t for _, t in grants["MetricsFunction"]} == set()
    assert {t for _, t in grants["NotifyFunction"]} == {"ConnectionsTable", "JobsTable"}
    assert ("DynamoDBReadPolicy", "JobsTable") in grants["NotifyFunction"]
    sessions_writers = {lid for lid, g in grants.items() if ("DynamoDBCrudPolicy", "SessionsTable") in g}
    assert sessions_writers == {"PersistFunction"}


# ---------------------------------------------------------------- queues and topic


def test_every_consumed_queue_has_a_dlq_with_three_receives(template: dict[str, Any]) -> None:
    queues = resources_of(template, "AWS::SQS::Queue")
    dead_letter_targets = {
        logical_id_of(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    }
    # Queues that are DLQs for something other than SQS redrive: Lambda async failures and the
    # state machine's Catch.
    other_dlqs = {"IngestDLQ", "FailedJobsQueue"}
    for lid, queue in queues.items():
        if lid in dead_letter_targets or lid in other_dlqs:
            assert "RedrivePolicy" not in queue["Properties"], f"{lid}: a DLQ must not redrive further"
            assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600, (
                f"{lid}: keep DLQ messages 14 days"
            )
            continue
        redrive = queue["Properties"].get("RedrivePolicy")
        assert redrive, f"{lid} has no RedrivePolicy"
        assert redrive["maxReceiveCount"] == 3
        assert logical_id_of(redrive["deadLetterTargetArn"]) in queues
    assert {"IntakeQueue", "AuditQueue", "NotifyQueue", "MetricsQueue"} <= set(queues) - dead_letter_targets
    assert dead_letter_targets == {"IntakeDLQ", "AuditDLQ", "NotifyDLQ", "MetricsDLQ"}


def test_consumed_queues_give_consumers_six_times_their_timeout(template: dict[str, Any]) -> None:
    visibility = template["Parameters"]["QueueVisibilityTimeout"]
    assert visibility["Default"] >= 6 * template["Globals"]["Function"]["Timeout"]
    for queue in ("IntakeQueue", "AuditQueue", "NotifyQueue", "MetricsQueue"):
        assert template["Resources"][queue]["Properties"]["VisibilityTimeout"] == {
            "Ref": "QueueVisibilityTimeout"
        }
    for lid, function in resources_of(template, "AWS::Serverless::Function").items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                assert function["Properties"].get("Timeout", 30) * 6 <= visibility["Default"], lid


def test_failed_jobs_queue_is_tagged_with_its_replay_target(template: dict[str, Any]) -> None:
    tags = template["Resources"]["FailedJobsQueue"]["Properties"]["Tags"]
    assert {"Key": "endurance:replay-to", "Value": {"Fn::GetAtt": ["IntakeQueue", "QueueName"]}} in tags


def test_job_events_fan_out_to_three_queues_with_raw_delivery(template: dict[str, Any]) -> None:
    subscriptions = resources_of(template, "AWS::SNS::Subscription")
    by_queue = {logical_id_of(s["Properties"]["Endpoint"]): s["Properties"] for s in subscriptions.values()}
    assert set(by_queue) == {"AuditQueue", "NotifyQueue", "MetricsQueue"}
    for properties in by_queue.values():
        assert properties["TopicArn"] == {"Ref": "JobEventsTopic"}
        assert properties["Protocol"] == "sqs"
        assert properties["RawMessageDelivery"] is True
    assert by_queue["MetricsQueue"]["FilterPolicy"] == {
        "type": ["JobCompleted", "JobFailed", "StepCompleted"]
    }
    assert "FilterPolicy" not in by_queue["AuditQueue"], "the audit log keeps every event"

    (policy,) = resources_of(template, "AWS::SQS::QueuePolicy").values()
    assert {logical_id_of(q) for q in policy["Properties"]["Queues"]} == set(by_queue)
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Ref": "JobEventsTopic"}


# ---------------------------------------------------------------- tables and bucket


@pytest.mark.parametrize("table", sorted(EXPECTED_TABLES))
def test_table_keys_ttl_and_indexes(template: dict[str, Any], table: str) -> None:
    hash_key, range_key, ttl, indexes = EXPECTED_TABLES[table]
    properties = template["Resources"][table]["Properties"]
    expected_schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        expected_schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    assert properties["KeySchema"] == expected_schema
    defined = {a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]}
    index_keys = {name: (keys,) if isinstance(keys, str) else keys for name, keys in indexes.items()}
    key_attributes = {hash_key, range_key, *(key for keys in index_keys.values() for key in keys)} - {None}
    assert defined == dict.fromkeys(key_attributes, "S"), "define exactly the key attributes"
    if ttl:
        assert properties["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in properties
    actual_indexes = {gsi["IndexName"]: gsi for gsi in properties.get("GlobalSecondaryIndexes", [])}
    assert {name: gsi["KeySchema"] for name, gsi in actual_indexes.items()} == {
        name: [
            {"AttributeName": key, "KeyType": kind}
            for key, kind in zip(keys, ("HASH", "RANGE"), strict=False)
        ]
        for name, keys in index_keys.items()
    }
    for name, gsi in actual_indexes.items():
        if name == "by_status":
            # What the dashboard's job lists and quality charts read; the answer text stays out.
            assert gsi["Projection"]["ProjectionType"] == "INCLUDE"
            assert {"question", "route", "steps", "evaluation", "error"} <= set(
                gsi["Projection"]["NonKeyAttributes"]
            )
            assert "answer" not in gsi["Projection"]["NonKeyAttributes"]
        else:
            assert gsi["Projection"] == {"ProjectionType": "ALL"}
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}


def test_documents_bucket_is_private_versioned_and_encrypted(template: dict[str, Any]) -> None:
    properties = template["Resources"]["DocumentsBucket"]["Properties"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(properties["PublicAccessBlockConfiguration"].values())
    assert len(properties["PublicAccessBlockConfiguration"]) == 4
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]


# ---------------------------------------------------------------- WebSocket API and outputs


def test_websocket_routes_share_one_lambda_integration(template: dict[str, Any]) -> None:
    routes = resources_of(template, "AWS::ApiGatewayV2::Route")
    assert {r["Properties"]["RouteKey"] for r in routes.values()} == {
        "$connect",
        "$disconnect",
        "$default",
        "subscribe",
    }
    assert {r["Properties"]["Target"]["Fn::Sub"] for r in routes.values()} == {
        "integrations/${WebSocketIntegration}"
    }
    api = template["Resources"]["WebSocketApi"]["Properties"]
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["RouteSelectionExpression"] == "$request.body.action"
    integration = template["Resources"]["WebSocketIntegration"]["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert "${WebSocketFunction.Arn}" in integration["IntegrationUri"]["Fn::Sub"]
    assert set(template["Resources"]["WebSocketDeployment"]["DependsOn"]) == set(routes)
    stage = template["Resources"]["WebSocketStage"]["Properties"]
    assert stage["StageName"] == {"Ref": "StageName"}
    assert stage["DeploymentId"] == {"Ref": "WebSocketDeployment"}
    permission = template["Resources"]["WebSocketInvokePermission"]["Properties"]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["FunctionName"] == {"Ref": "WebSocketFunction"}


def test_outputs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert set(outputs) == {
        "ApiUrl",
        "WebSocketUrl",
        "DocumentsBucketName",
        "StateMachineArn",
        "DashboardUrl",
        "DashboardBucketName",
        "DashboardDistributionId",
    }
    assert outputs["DashboardUrl"]["Value"] == {"Fn::Sub": "https://${DashboardDistribution.DomainName}"}
    assert outputs["ApiUrl"]["Value"] == {
        "Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    }
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert outputs["WebSocketUrl"]["Value"] == env["WEBSOCKET_URL"]


def test_parameters_and_their_defaults(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    defaults = {name: p.get("Default") for name, p in parameters.items()}
    assert defaults == {
        "StageName": "prod",
        "VectorStore": "opensearch",
        "OpenSearchEndpoint": "",
        "Embedder": "hashing",
        "LlmProvider": "offline",
        "LogLevel": "INFO",
        "FaultInjection": "0",
        "QueueVisibilityTimeout": 180,
        "AdminToken": "",
        "LlmFallbacks": "offline",
        "Classifier": "rules",
        "GroqModel": "llama-3.3-70b-versatile",
        "GroqApiKeyParameter": "",
        "OpenAiModel": "gpt-4o-mini",
        "OpenAiBaseUrl": "",
        "OpenAiApiKeyParameter": "",
    }
    assert parameters["AdminToken"]["NoEcho"] is True
    assert parameters["VectorStore"]["AllowedValues"] == ["local", "opensearch"]
    assert parameters["LlmProvider"]["AllowedValues"] == ["offline", "groq", "openai"]


# ---------------------------------------------------------------- the transformed template


def test_every_reference_resolves(template: dict[str, Any], transformed: dict[str, Any]) -> None:
    for document in (template, transformed):
        known = set(document["Resources"]) | set(document.get("Parameters", {})) | PSEUDO_PARAMETERS
        # SAM generates resources (roles, permissions, the layer version) the raw template refers to by
        # the SAM resource's logical id; the raw template is checked against its own names.
        for section in ("Resources", "Outputs", "Globals"):
            unknown = set(references(document.get(section, {}))) - known
            assert not unknown, f"{section} refers to undefined names: {sorted(unknown)}"


def test_transformed_template_has_no_dependency_cycle(transformed: dict[str, Any]) -> None:
    assert find_cycle(dependency_graph(transformed)) is None


def test_cycle_finder_finds_the_classic_state_machine_cycle(transformed: dict[str, Any]) -> None:
    """The check above can fail: giving a step function the state machine's ARN is a cycle."""
    graph = dependency_graph(transformed)
    graph["ClassifyFunction"].add("ChatStateMachine")
    cycle = find_cycle(graph)
    assert cycle is not None
    assert {"ClassifyFunction", "ChatStateMachine"} <= set(cycle)


def test_transformed_template_wires_event_sources(transformed: dict[str, Any]) -> None:
    mappings = resources_of(transformed, "AWS::Lambda::EventSourceMapping")
    wired = {
        (logical_id_of(m["Properties"]["FunctionName"]), logical_id_of(m["Properties"]["EventSourceArn"]))
        for m in mappings.values()
    }
    assert wired == {
        ("DispatchFunction", "IntakeQueue"),
        ("NotifyFunction", "NotifyQueue"),
        ("AuditFunction", "AuditQueue"),
        ("MetricsFunction", "MetricsQueue"),
    }
    bucket = transformed["Resources"]["DocumentsBucket"]["Properties"]
    notified = {
        (c["Event"], logical_id_of(c["Function"]))
        for c in bucket["NotificationConfiguration"]["LambdaConfigurations"]
    }
    assert notified == {("s3:ObjectCreated:*", "IngestFunction"), ("s3:ObjectRemoved:*", "IngestFunction")}
    routes = {
        r["Properties"]["RouteKey"] for r in resources_of(transformed, "AWS::ApiGatewayV2::Route").values()
    }
    assert "POST /v1/chat" not in routes, "HTTP API routes live in the generated OpenAPI body"
    http_api = transformed["Resources"]["HttpApi"]["Properties"]["Body"]
    assert set(http_api["paths"]) == {
        "/v1/chat",
        "/v1/jobs/{job_id}",
        "/v1/sessions/{session_id}",
        "/v1/feedback",
        "/v1/evaluate",
        "/health",
        "/config.json",
        "/v1/admin/dlqs",
        "/v1/admin/dlqs/{queue}/messages",
        "/v1/admin/dlqs/{queue}/replay",
        "/v1/admin/jobs",
        "/v1/documents",
    }


def test_transformed_state_machine_is_express_logged_and_traced(transformed: dict[str, Any]) -> None:
    machine = transformed["Resources"]["ChatStateMachine"]["Properties"]
    assert machine["StateMachineType"] == "EXPRESS"
    assert machine["TracingConfiguration"] == {"Enabled": True}
    (destination,) = machine["LoggingConfiguration"]["Destinations"]
    assert logical_id_of(destination["CloudWatchLogsLogGroup"]["LogGroupArn"]) == "ChatStateMachineLogGroup"
    role = transformed["Resources"]["ChatStateMachineRole"]["Properties"]
    invokable = {
        logical_id_of(statement["Resource"]["Fn::Sub"][1]["functionName"])
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if statement["Action"] == ["lambda:InvokeFunction"]
    }
    assert invokable == {
        "ClassifyFunction",
        "RetrieveFunction",
        "AnswerFunction",
        "EvaluateFunction",
        "PersistFunction",
        "FailFunction",
    }
