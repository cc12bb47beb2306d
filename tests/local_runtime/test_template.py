"""build_deployment: intrinsics, Globals, identities, events, APIs, state machines and errors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from endurance_local.asl_check import check_asl, lint_asl_file
from endurance_local.model import Deployment, TemplateError
from endurance_local.template import build_deployment
from endurance_local.template_yaml import loads_template

FIXTURES = Path(__file__).parent / "fixtures" / "templates"
SAM_APP = FIXTURES / "sam_app.yaml"
ENDPOINT = "http://127.0.0.1:4566"
REPO_TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@pytest.fixture(scope="module")
def deployment() -> Deployment:
    return build_deployment(SAM_APP, aws_endpoint=ENDPOINT)


@pytest.fixture(scope="module")
def api_env(deployment: Deployment) -> dict[str, str]:
    return deployment.functions["ApiFunction"].environment


def write_template(directory: Path, body: str, *, functions: dict[str, str] | None = None) -> Path:
    """A template in `directory`, with function folders {relative dir: module file name}."""
    for folder, module_file in (functions or {}).items():
        (directory / folder).mkdir(parents=True, exist_ok=True)
        (directory / folder / module_file).write_text("def handler(event, context):\n    return event\n")
    path = directory / "template.yaml"
    path.write_text(textwrap.dedent(body))
    return path


# -- YAML short forms -------------------------------------------------------------------------------------


def test_short_form_tags_become_long_form_intrinsics() -> None:
    template = loads_template(
        textwrap.dedent("""
        AWSTemplateFormatVersion: 2010-09-09
        A: !Ref X
        B: !GetAtt Res.Attr.Nested
        C: !Sub ["${a}", {a: !Ref Y}]
        D: !If [Cond, !Base64 x, !Ref AWS::NoValue]
        E: !Condition IsProd
    """)
    )
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert template["A"] == {"Ref": "X"}
    assert template["B"] == {"Fn::GetAtt": ["Res", "Attr.Nested"]}
    assert template["C"] == {"Fn::Sub": ["${a}", {"a": {"Ref": "Y"}}]}
    assert template["D"] == {"Fn::If": ["Cond", {"Fn::Base64": "x"}, {"Ref": "AWS::NoValue"}]}
    assert template["E"] == {"Condition": "IsProd"}


# -- intrinsics and pseudo parameters ----------------------------------------------------------------------


def test_ref_and_getatt_follow_cloudformation_semantics(api_env: dict[str, str]) -> None:
    assert api_env["INTAKE_QUEUE_URL"] == f"{ENDPOINT}/123456789012/local-JobsQueue"
    assert api_env["INTAKE_QUEUE_ARN"] == "arn:aws:sqs:us-east-1:123456789012:local-JobsQueue"
    assert api_env["EVENTS_TOPIC_ARN"] == "arn:aws:sns:us-east-1:123456789012:local-EventsTopic"
    assert api_env["TOPIC_NAME"] == "local-EventsTopic"
    assert api_env["JOBS_TABLE"] == "local-JobsTable"
    assert api_env["TABLE_ARN"] == "arn:aws:dynamodb:us-east-1:123456789012:table/local-JobsTable"
    assert api_env["BUCKET"] == "local-docsbucket"
    assert api_env["BUCKET_ARN"] == "arn:aws:s3:::local-docsbucket"
    assert api_env["BUCKET_DOMAIN"] == "local-docsbucket.s3.us-east-1.amazonaws.com"
    assert (
        api_env["STATE_MACHINE_ARN"]
        == "arn:aws:states:us-east-1:123456789012:stateMachine:local-ChatStateMachine"
    )
    assert api_env["STATE_MACHINE_NAME"] == "local-ChatStateMachine"
    assert api_env["BUS_NAME"] == "local-jobs"
    assert api_env["BUS_ARN"] == "arn:aws:events:us-east-1:123456789012:event-bus/local-jobs"
    assert api_env["RULE_ARN"] == "arn:aws:events:us-east-1:123456789012:rule/local-jobs/local-ForwardRule"
    assert api_env["KEY"] == "not-a-secret"


def test_string_functions_and_pseudo_parameters(api_env: dict[str, str]) -> None:
    assert api_env["ACCOUNT"] == "123456789012:aws:local"
    assert api_env["JOINED"] == "a|dev|b"  # Join + Select over a CommaDelimitedList parameter
    assert api_env["SPLIT_LAST"] == "z"
    assert api_env["ENCODED"] == "aGVsbG8="
    assert api_env["FIRST_AZ"] == "us-east-1a"
    assert api_env["LITERAL"] == "${NotResolved}-us-east-1"
    assert api_env["SUB_VARS"] == "dev@local-docsbucket.s3.amazonaws.com"
    assert api_env["BATCH"] == "5"
    assert api_env["DEBUG"] == "true"


def test_conditions_and_novalue(api_env: dict[str, str], deployment: Deployment) -> None:
    assert api_env["MODE"] == "development"
    assert api_env["DEV_ONLY"] == "yes"
    assert api_env["PROD_OR_EXTRAS"] == "no"
    assert "OPTIONAL" not in api_env
    assert "ExtrasBucket" not in deployment.resources
    assert "ProdOnly" not in deployment.outputs


def test_parameter_overrides_flip_conditions() -> None:
    prod = build_deployment(
        SAM_APP,
        aws_endpoint=ENDPOINT,
        stack_name="stk",
        parameter_overrides={"Stage": "prod", "EnableExtras": "true"},
    )
    env = prod.functions["ApiFunction"].environment
    assert (env["MODE"], env["DEV_ONLY"], env["PROD_OR_EXTRAS"], env["OPTIONAL"]) == (
        "production",
        "no",
        "yes",
        "present",
    )
    assert env["LOG_LEVEL"] == "INFO"
    assert env["ACCOUNT"] == "123456789012:aws:stk"
    assert prod.resources["ExtrasBucket"].physical_name == "stk-extrasbucket"
    assert prod.outputs["ProdOnly"] == "prod"
    assert prod.functions["WorkerFunction"].name == "stk-worker-prod"


def test_parameter_override_outside_allowed_values_names_the_parameter() -> None:
    with pytest.raises(TemplateError, match=r"Parameter Stage: value 'qa' is not one of"):
        build_deployment(SAM_APP, aws_endpoint=ENDPOINT, parameter_overrides={"Stage": "qa"})


# -- Globals, identities, functions -----------------------------------------------------------------------


def test_globals_merge_into_functions(deployment: Deployment, api_env: dict[str, str]) -> None:
    api = deployment.functions["ApiFunction"]
    worker = deployment.functions["WorkerFunction"]
    assert (api.timeout, api.memory_size, api.runtime, api.handler) == (
        29.0,
        256,
        "python3.11",
        "app.handler",
    )
    assert (worker.timeout, worker.memory_size) == (10.0, 256)
    assert api_env["STAGE"] == "override"  # the function's own variable wins over Globals
    assert worker.environment == {"LOG_LEVEL": "DEBUG", "JOBS_TABLE": "local-JobsTable", "STAGE": "dev"}
    assert deployment.functions["NotifyFunction"].handler == "handler.main"
    assert api.code_dir == (FIXTURES / "functions" / "api").resolve()
    assert api.layer_dirs == [(FIXTURES / "layers" / "core" / "python").resolve()]


def test_extra_env_is_added_to_every_function() -> None:
    built = build_deployment(SAM_APP, aws_endpoint=ENDPOINT, extra_env={"LOCAL_RUNTIME_STATE_DIR": "/tmp/x"})
    assert all(f.environment["LOCAL_RUNTIME_STATE_DIR"] == "/tmp/x" for f in built.functions.values())


def test_physical_names_contain_logical_ids(deployment: Deployment) -> None:
    explicit = {"NamedQueue", "CountersTable", "WorkerFunction", "WebSocketApi", "JobBus"}
    for logical_id, resource in deployment.resources.items():
        assert resource.physical_name is not None
        if logical_id not in explicit:
            assert logical_id.lower() in resource.physical_name.lower(), logical_id
    assert deployment.resources["OrderedQueue"].physical_name == "local-OrderedQueue.fifo"
    assert deployment.resources["DocsBucket"].physical_name == "local-docsbucket"
    assert deployment.resources["NamedQueue"].physical_name == "local-named-dev"
    assert deployment.resources["CountersTable"].physical_name == "local-counters"
    queue = deployment.resources["OrderedQueue"]
    assert queue.url == f"{ENDPOINT}/123456789012/local-OrderedQueue.fifo"
    assert queue.arn == "arn:aws:sqs:us-east-1:123456789012:local-OrderedQueue.fifo"


def test_api_urls_are_local_and_execute_api_urls_are_rewritten(
    deployment: Deployment, api_env: dict[str, str]
) -> None:
    websocket = deployment.resources["WebSocketApi"]
    assert websocket.url == "ws://127.0.0.1:3000/prod"
    assert len(websocket.ref or "") == 10 and (websocket.ref or "").islower()
    assert deployment.resources["ChatApi"].url == "http://127.0.0.1:3000"
    assert api_env["WEBSOCKET_URL"] == "ws://127.0.0.1:3000/prod"
    assert api_env["WEBSOCKET_MANAGEMENT_URL"] == "http://127.0.0.1:3000/prod"
    assert api_env["HTTP_API_URL"] == "http://127.0.0.1:3000"
    assert deployment.outputs == {
        "ApiUrl": "http://127.0.0.1:3000",
        "WebSocketUrl": "ws://127.0.0.1:3000/prod",
        "QueueUrl": f"{ENDPOINT}/123456789012/local-JobsQueue",
    }
    moved = build_deployment(SAM_APP, aws_endpoint=ENDPOINT, api_host="localhost", api_port=8123)
    assert moved.functions["ApiFunction"].environment["WEBSOCKET_URL"] == "ws://localhost:8123/prod"


def test_identities_are_deterministic() -> None:
    first = build_deployment(SAM_APP, aws_endpoint=ENDPOINT)
    second = build_deployment(SAM_APP, aws_endpoint=ENDPOINT)
    assert first.websocket_apis[0].api_id == second.websocket_apis[0].api_id
    assert {k: r.ref for k, r in first.resources.items()} == {k: r.ref for k, r in second.resources.items()}


# -- events and APIs ----------------------------------------------------------------------------------------


def test_sqs_s3_and_schedule_events(deployment: Deployment) -> None:
    [sqs] = deployment.sqs_sources
    assert (sqs.function, sqs.queue_url, sqs.batch_size, sqs.batching_window_s) == (
        "WorkerFunction",
        f"{ENDPOINT}/123456789012/local-JobsQueue",
        5,
        1.0,
    )
    assert sqs.report_batch_item_failures and sqs.enabled
    by_target = {(s.function, s.queue_arn): s for s in deployment.s3_sources}
    worker = by_target[("WorkerFunction", None)]
    assert (worker.bucket, worker.events, worker.prefix, worker.suffix) == (
        "local-docsbucket",
        ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
        "docs/",
        ".md",
    )
    queue = by_target[(None, "arn:aws:sqs:us-east-1:123456789012:local-JobsQueue")]
    assert (queue.events, queue.prefix) == (["s3:ObjectCreated:*"], "incoming/")
    schedules = {s.expression: s for s in deployment.schedules}
    assert schedules["rate(1 day)"].input == '{"job": "nightly"}'
    assert not schedules["rate(1 day)"].enabled
    assert schedules["cron(0 * * * ? *)"].enabled
    assert "WorkerFunction: event OnEvent of type EventBridgeRule is not emulated" in deployment.warnings


def test_http_routes_and_cors(deployment: Deployment) -> None:
    routes = {(r.api, r.method, r.path): r for r in deployment.http_routes}
    assert set(routes) == {
        ("ChatApi", "POST", "/v1/chat"),
        ("ChatApi", "GET", "/v1/jobs/{job_id}"),
        ("ServerlessHttpApi", "ANY", "/health"),
        ("ServerlessRestApi", "GET", "/legacy"),
    }
    assert routes[("ChatApi", "POST", "/v1/chat")].payload_format == "2.0"
    assert routes[("ServerlessHttpApi", "ANY", "/health")].payload_format == "1.0"
    assert routes[("ServerlessRestApi", "GET", "/legacy")].payload_format == "1.0"
    cors = deployment.cors["ChatApi"]
    assert cors.allow_origins == ["http://localhost:5173"]
    assert cors.allow_methods == ["GET", "POST"]
    assert cors.max_age == 600


def test_websocket_routes_map_to_functions(deployment: Deployment) -> None:
    [api] = deployment.websocket_apis
    assert api.logical_id == "WebSocketApi"
    assert api.stage == "prod"
    assert api.route_selection_expression == "$request.body.action"
    assert api.routes == {"$connect": "NotifyFunction", "subscribe": "NotifyFunction"}
    assert api.api_id == deployment.resources["WebSocketApi"].ref


def test_unknown_types_warn_and_supporting_types_do_not(deployment: Deployment) -> None:
    assert "QueueAlarm (AWS::CloudWatch::Alarm): not emulated locally" in deployment.warnings
    assert not deployment.resources["QueueAlarm"].supported
    for quiet in (
        "NotifyPermission",
        "ConnectRoute",
        "WebSocketStage",
        "NotifyIntegration",
        "ApiFunctionRole",
    ):
        assert deployment.resources[quiet].supported
        assert not any(w.startswith(quiet) for w in deployment.warnings)


def test_state_machine_definition_has_substitutions_applied(deployment: Deployment) -> None:
    machine = deployment.resources["ChatStateMachine"]
    definition = json.loads(machine.attributes["Definition"])
    assert definition["States"]["Classify"]["Parameters"]["FunctionName"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:local-worker-dev"
    )
    assert definition["States"]["SendFailed"]["Parameters"]["QueueUrl"] == (
        f"{ENDPOINT}/123456789012/local-DeadLetterQueue"
    )
    assert machine.attributes["Type"] == "EXPRESS"


def test_inline_step_functions_definition_with_substitutions(tmp_path: Path) -> None:
    path = write_template(
        tmp_path,
        """
        Resources:
          Queue:
            Type: AWS::SQS::Queue
          Machine:
            Type: AWS::StepFunctions::StateMachine
            Properties:
              StateMachineName: !Sub "${AWS::StackName}-machine"
              DefinitionString: !Sub |
                {"StartAt": "Send", "States": {"Send": {"Type": "Task",
                 "Resource": "arn:aws:states:::sqs:sendMessage",
                 "Parameters": {"QueueUrl": "${Queue}", "MessageBody": "${Greeting}"}, "End": true}}}
              DefinitionSubstitutions:
                Greeting: say "hi"
    """,
    )
    with pytest.raises(TemplateError, match=r"Machine: Ref to 'Greeting'"):
        build_deployment(path, aws_endpoint=ENDPOINT)
    path.write_text(path.read_text().replace("${Greeting}", "${!Greeting}"))
    machine = build_deployment(path, aws_endpoint=ENDPOINT).resources["Machine"]
    send = json.loads(machine.attributes["Definition"])["States"]["Send"]["Parameters"]
    assert send == {"QueueUrl": f"{ENDPOINT}/123456789012/local-Queue", "MessageBody": 'say "hi"'}
    assert machine.physical_name == "local-machine"


# -- errors name the resource -------------------------------------------------------------------------------


def test_missing_handler_module_names_function(tmp_path: Path) -> None:
    path = write_template(
        tmp_path,
        """
        Resources:
          ApiFunction:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: functions/api
              Handler: app.handler
              Runtime: python3.11
    """,
        functions={"functions/api": "other.py"},
    )
    with pytest.raises(
        TemplateError, match=r"^ApiFunction: handler module 'app' not found in functions/api$"
    ):
        build_deployment(path, aws_endpoint=ENDPOINT)


def test_bad_ref_names_the_resource_that_contains_it(tmp_path: Path) -> None:
    path = write_template(
        tmp_path,
        """
        Resources:
          Topic:
            Type: AWS::SNS::Topic
          Subscription:
            Type: AWS::SNS::Subscription
            Properties:
              TopicArn: !Ref Topic
              Protocol: sqs
              Endpoint: !GetAtt MissingQueue.Arn
    """,
    )
    with pytest.raises(TemplateError, match=r"^Subscription: Fn::GetAtt of 'MissingQueue'") as error:
        build_deployment(path, aws_endpoint=ENDPOINT)
    assert error.value.logical_id == "Subscription"


def test_unknown_attribute_and_intrinsic_are_errors(tmp_path: Path) -> None:
    path = write_template(
        tmp_path,
        """
        Resources:
          Queue:
            Type: AWS::SQS::Queue
            Properties:
              QueueName: !GetAtt Other.Nope
          Other:
            Type: AWS::SQS::Queue
    """,
    )
    with pytest.raises(TemplateError, match=r"^Queue: Fn::GetAtt Other.Nope"):
        build_deployment(path, aws_endpoint=ENDPOINT)
    path.write_text(path.read_text().replace("!GetAtt Other.Nope", "!ImportValue shared-name"))
    with pytest.raises(TemplateError, match=r"^Queue: intrinsic function Fn::ImportValue is not supported"):
        build_deployment(path, aws_endpoint=ENDPOINT)


def test_structural_errors(tmp_path: Path) -> None:
    path = write_template(tmp_path, "Resources:\n  Thing:\n    Properties: {}\n")
    with pytest.raises(TemplateError, match=r"^Thing: resource has no Type"):
        build_deployment(path, aws_endpoint=ENDPOINT)
    path.write_text("Resources: [a, b]\n")
    with pytest.raises(TemplateError, match=r"Resources section must be a non-empty mapping"):
        build_deployment(path, aws_endpoint=ENDPOINT)


def _machine_template(tmp_path: Path, definition: str) -> Path:
    (tmp_path / "machine.asl.json").write_text(definition)
    return write_template(
        tmp_path,
        """
        Resources:
          Machine:
            Type: AWS::Serverless::StateMachine
            Properties:
              DefinitionUri: machine.asl.json
    """,
    )


def test_bad_asl_is_an_error_naming_machine_and_state(tmp_path: Path) -> None:
    path = _machine_template(tmp_path, '{"StartAt": "A", "States": {')
    with pytest.raises(TemplateError, match=r"^Machine: the state machine definition is not valid JSON"):
        build_deployment(path, aws_endpoint=ENDPOINT)
    _machine_template(
        tmp_path, json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}})
    )
    with pytest.raises(
        TemplateError, match=r"^Machine: state 'A': Next names state 'Nowhere', which does not exist"
    ):
        build_deployment(path, aws_endpoint=ENDPOINT)
    _machine_template(
        tmp_path,
        json.dumps(
            {
                "QueryLanguage": "JSONata",
                "StartAt": "A",
                "States": {"A": {"Type": "Pass", "Output": "{% $states.input %}", "End": True}},
            }
        ),
    )
    with pytest.raises(
        TemplateError, match=r"^Machine: QueryLanguage JSONata .*state 'A': JSONata expressions"
    ):
        build_deployment(path, aws_endpoint=ENDPOINT)


def test_asl_checks() -> None:
    with pytest.raises(TemplateError, match=r"^M: StartAt is missing; state 'A': needs Next or End$"):
        check_asl({"States": {"A": {"Type": "Pass"}}}, "M")
    with pytest.raises(TemplateError, match=r"^M: States is missing or empty$"):
        check_asl({"StartAt": "A"}, "M")
    with pytest.raises(TemplateError, match=r"state 'Route': JSONPath filters with && or \|\|"):
        check_asl(
            {
                "StartAt": "Route",
                "States": {
                    "Route": {
                        "Type": "Choice",
                        "Default": "Done",
                        "Choices": [
                            {
                                "Variable": "$.items[?(@.a == 1 && @.b == 2)]",
                                "IsPresent": True,
                                "Next": "Done",
                            }
                        ],
                    },
                    "Done": {"Type": "Succeed"},
                },
            },
            "M",
        )
    with pytest.raises(TemplateError, match=r"state 'Try': Catch Next names state 'Gone'"):
        check_asl(
            {
                "StartAt": "Try",
                "States": {
                    "Try": {
                        "Type": "Task",
                        "Resource": "x",
                        "End": True,
                        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}],
                    }
                },
            },
            "M",
        )
    with pytest.raises(TemplateError, match=r"state 'Fan' branch 0: StartAt names state 'B'"):
        check_asl(
            {
                "StartAt": "Fan",
                "States": {
                    "Fan": {
                        "Type": "Parallel",
                        "End": True,
                        "Branches": [{"StartAt": "B", "States": {"C": {"Type": "Succeed"}}}],
                    }
                },
            },
            "M",
        )
    with pytest.raises(TemplateError, match=r"state 'A': variables"):
        check_asl({"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"x": 1}, "End": True}}}, "M")


def test_lint_asl_file(tmp_path: Path) -> None:
    assert lint_asl_file(FIXTURES / "statemachines" / "chat.asl.json") == []
    broken = tmp_path / "broken.asl.json"
    broken.write_text("{not json")
    assert lint_asl_file(broken)[0].startswith(f"{broken}: not valid JSON")


def test_foreign_layer_arn_warns_and_unknown_event_type_warns(tmp_path: Path) -> None:
    path = write_template(
        tmp_path,
        """
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src
              Handler: app.handler
              Runtime: python3.12
              Layers: ["arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3:1"]
              Events:
                Topic:
                  Type: SNS
                  Properties: {Topic: "arn:aws:sns:us-east-1:123456789012:elsewhere"}
    """,
        functions={"src": "app.py"},
    )
    built = build_deployment(path, aws_endpoint=ENDPOINT)
    assert built.functions["Fn"].layer_dirs == []
    assert any(w.startswith("Fn: layer arn:aws:lambda:us-east-1:017000801446") for w in built.warnings)
    assert "Fn: event Topic of type SNS is not emulated" in built.warnings
    assert built.functions["Fn"].runtime == "python3.12"


def test_handler_module_found_in_layer(tmp_path: Path) -> None:
    path = write_template(
        tmp_path,
        """
        Resources:
          Layer:
            Type: AWS::Lambda::LayerVersion
            Properties:
              Content: shared
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src
              Handler: shared_handlers.entry.handler
              Runtime: python3.11
              Layers: [!Ref Layer]
    """,
        functions={"src": "unrelated.py", "shared/python/shared_handlers": "entry.py"},
    )
    built = build_deployment(path, aws_endpoint=ENDPOINT)
    assert built.functions["Fn"].layer_dirs == [(tmp_path / "shared" / "python").resolve()]


def test_repository_template_builds_if_present() -> None:
    if not REPO_TEMPLATE.is_file():
        pytest.fail(f"{REPO_TEMPLATE} is missing")
    built = build_deployment(REPO_TEMPLATE, aws_endpoint=ENDPOINT)
    assert built.functions
    for spec in built.functions.values():
        assert spec.code_dir.is_dir()
        assert all(isinstance(v, str) for v in spec.environment.values())
    for resource in built.resources.values():
        if resource.type in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
            assert json.loads(resource.attributes["Definition"])["States"]


def test_plain_cloudformation_sources_and_http_v2_routes(tmp_path: Path) -> None:
    path = write_template(
        tmp_path,
        """
        Resources:
          Queue:
            Type: AWS::SQS::Queue
          Fn:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: src, Handler: app.handler, Runtime: python3.11}
          Mapping:
            Type: AWS::Lambda::EventSourceMapping
            Properties:
              EventSourceArn: !GetAtt Queue.Arn
              FunctionName: !Ref Fn
              BatchSize: 2
          Nightly:
            Type: AWS::Events::Rule
            Properties:
              ScheduleExpression: rate(5 minutes)
              Targets: [{Id: fn, Arn: !GetAtt Fn.Arn, Input: {"kind": "nightly"}}]
          OnPattern:
            Type: AWS::Events::Rule
            Properties:
              EventPattern: {source: [x]}
              Targets: [{Id: fn, Arn: !GetAtt Fn.Arn}]
          Api:
            Type: AWS::ApiGatewayV2::Api
            Properties: {Name: http, ProtocolType: HTTP, CorsConfiguration: {AllowOrigins: ["*"]}}
          Integration:
            Type: AWS::ApiGatewayV2::Integration
            Properties:
              ApiId: !Ref Api
              IntegrationType: AWS_PROXY
              IntegrationUri: !GetAtt Fn.Arn
              PayloadFormatVersion: "1.0"
          Route:
            Type: AWS::ApiGatewayV2::Route
            Properties:
              ApiId: !Ref Api
              RouteKey: GET /items/{id}
              Target: !Sub integrations/${Integration}
        """,
        functions={"src": "app.py"},
    )
    built = build_deployment(path, aws_endpoint=ENDPOINT)
    [mapping] = built.sqs_sources
    assert (mapping.function, mapping.batch_size, mapping.queue_url) == (
        "Fn",
        2,
        f"{ENDPOINT}/123456789012/local-Queue",
    )
    [schedule] = built.schedules
    assert (schedule.function, schedule.expression, schedule.input) == (
        "Fn",
        "rate(5 minutes)",
        '{"kind": "nightly"}',
    )
    assert any(w.startswith("OnPattern: target fn") for w in built.warnings)
    [route] = built.http_routes
    assert (route.api, route.method, route.path, route.function, route.payload_format) == (
        "Api",
        "GET",
        "/items/{id}",
        "Fn",
        "1.0",
    )
    assert built.cors["Api"].allow_origins == ["*"]
    assert not built.websocket_apis


def test_state_machine_in_s3_is_an_error(tmp_path: Path) -> None:
    path = write_template(
        tmp_path,
        """
        Resources:
          Machine:
            Type: AWS::StepFunctions::StateMachine
            Properties:
              DefinitionS3Location: {Bucket: b, Key: k}
        """,
    )
    with pytest.raises(TemplateError, match=r"^Machine: definitions in S3 are not supported locally"):
        build_deployment(path, aws_endpoint=ENDPOINT)


def test_getatt_on_a_type_the_runtime_does_not_emulate_is_a_placeholder_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            Resources:
              Distribution:
                Type: AWS::CloudFront::Distribution
                Properties: {}
              Queue:
                Type: AWS::SQS::Queue
                Properties:
                  Tags: [{Key: cdn, Value: !GetAtt Distribution.DomainName}]
            """
        )
    )
    built = build_deployment(path, aws_endpoint="http://127.0.0.1:4566")
    assert built.resources["Distribution"].supported is False
    assert "Distribution" in built.resources["Queue"].properties["Tags"][0]["Value"]
    assert any("Distribution (AWS::CloudFront::Distribution)" in w for w in built.warnings)
