"""Turn a SAM template into a `Deployment` the local runtime can run.

`build_deployment` is pure: it reads the template (and the state machine definitions and function
folders it points to) but touches no network. Every resource gets a deterministic local identity
(`{stack}-{LogicalId}` unless the template names it), Refs and GetAtts resolve to those identities, and
URLs of the template's own API Gateway APIs are rewritten to the local API server, so handlers get
an environment that points at the local runtime without knowing it is local.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from endurance_local.asl_check import check_asl
from endurance_local.intrinsics import NO_VALUE, Resolver, map_strings
from endurance_local.model import (
    ACCOUNT_ID,
    REGION,
    CorsConfig,
    Deployment,
    FunctionSpec,
    HttpRoute,
    Resource,
    S3EventSource,
    ScheduleSource,
    SqsEventSource,
    TemplateError,
    WebSocketApi,
)
from endurance_local.template_yaml import load_template, loads_template

IMPLICIT_HTTP_API = "ServerlessHttpApi"
IMPLICIT_REST_API = "ServerlessRestApi"

FUNCTION_TYPES = {"AWS::Serverless::Function", "AWS::Lambda::Function"}
STATE_MACHINE_TYPES = {"AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"}
LAYER_TYPES = {"AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"}
HTTP_API_TYPES = {"AWS::Serverless::HttpApi"}
V2_API_TYPE = "AWS::ApiGatewayV2::Api"
REST_API_TYPES = {"AWS::Serverless::Api"}
TABLE_TYPES = {"AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"}

# Types provision() creates in moto, or the runtime emulates itself.
EMULATED_TYPES = {
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::S3::Bucket",
    "AWS::Events::EventBus",
    "AWS::Events::Rule",
    "AWS::Lambda::EventSourceMapping",
    *FUNCTION_TYPES,
    *STATE_MACHINE_TYPES,
    *LAYER_TYPES,
    *HTTP_API_TYPES,
    V2_API_TYPE,
    *REST_API_TYPES,
    *TABLE_TYPES,
}
# Types that matter on AWS but have nothing to create locally (or are read while building others).
NOTHING_TO_CREATE_TYPES = {
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::InstanceProfile",
    "AWS::Lambda::Permission",
    "AWS::ApiGatewayV2::Deployment",
    "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::RouteResponse",
    "AWS::ApiGatewayV2::IntegrationResponse",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::Logs::LogGroup",
}

# Properties that carry a resource's explicit physical name, by type.
_NAME_PROPERTIES = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Serverless::SimpleTable": "TableName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::Serverless::StateMachine": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Serverless::LayerVersion": "LayerName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Policy": "PolicyName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::ApiGatewayV2::Api": "Name",
    "AWS::Serverless::HttpApi": "Name",
    "AWS::Serverless::Api": "Name",
}

_INTRINSIC_KEYS = {"Ref", "Condition"}


@dataclass
class TemplateResource(Resource):
    """A `Resource` plus what provisioning needs from the template: the resources it refers to."""

    depends_on: set[str] = field(default_factory=set)


def build_deployment(
    template_path: Path,
    *,
    aws_endpoint: str,
    api_host: str = "127.0.0.1",
    api_port: int = 3000,
    stack_name: str = "local",
    parameter_overrides: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> Deployment:
    """Read a SAM template and resolve it into a `Deployment` (no network)."""
    template_path = Path(template_path).resolve()
    builder = _DeploymentBuilder(
        load_template(template_path),
        template_path=template_path,
        aws_endpoint=aws_endpoint.rstrip("/"),
        api_host=api_host,
        api_port=api_port,
        stack_name=stack_name,
        parameter_overrides=parameter_overrides or {},
        extra_env=extra_env or {},
    )
    return builder.build()


def deterministic_id(*parts: str, length: int = 10) -> str:
    """A stable lowercase alphanumeric id (API Gateway style) derived from `parts`."""
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return base64.b32encode(digest).decode().lower()[:length]


class _DeploymentBuilder:
    """Builds one Deployment; implements `ResourceLookup` for the resolver."""

    def __init__(
        self,
        template: dict[str, Any],
        *,
        template_path: Path,
        aws_endpoint: str,
        api_host: str,
        api_port: int,
        stack_name: str,
        parameter_overrides: dict[str, str],
        extra_env: dict[str, str],
    ) -> None:
        self.template = template
        self.template_path = template_path
        self.template_dir = template_path.parent
        self.aws_endpoint = aws_endpoint
        self.api_host = api_host
        self.api_port = api_port
        self.stack_name = stack_name
        self.extra_env = extra_env
        self.warnings: list[str] = []
        self.raw = self._raw_resources(template)
        self.resolver = Resolver(
            stack_name=stack_name,
            parameters=self._parameters(template.get("Parameters") or {}, parameter_overrides),
            mappings=template.get("Mappings") or {},
            conditions=template.get("Conditions") or {},
            resources=self,
        )
        self.identities: dict[str, TemplateResource] = {}
        self._identity_in_progress: set[str] = set()

    # -- ResourceLookup ------------------------------------------------------------------------------

    def has_resource(self, logical_id: str) -> bool:
        return logical_id in self.raw

    def ref(self, logical_id: str) -> Any:
        identity = self.identity(logical_id)
        return identity.ref if identity.ref is not None else identity.physical_name

    def get_att(self, logical_id: str, attribute: str, owner: str) -> Any:
        identity = self.identity(logical_id)
        if attribute in identity.attributes:
            return identity.attributes[attribute]
        # Decided by type, not by `supported`: Refs/GetAtts are resolved before _classify marks anything.
        emulated = identity.supported and identity.type in EMULATED_TYPES
        if not emulated or identity.type in NOTHING_TO_CREATE_TYPES:
            # Nothing local reads these values; a stable placeholder keeps the rest of the template usable.
            return f"{identity.physical_name}.{attribute}"
        raise TemplateError(
            f"Fn::GetAtt {logical_id}.{attribute}: {identity.type} has no attribute {attribute!r} locally "
            f"(known: {', '.join(sorted(identity.attributes)) or 'none'})",
            owner,
        )

    # -- top level -----------------------------------------------------------------------------------

    def build(self) -> Deployment:
        self._drop_resources_with_false_conditions()
        self._add_implicit_resources()
        self._apply_globals()
        for logical_id in self.raw:
            self.identity(logical_id)
        for logical_id, raw in self.raw.items():
            resource = self.identities[logical_id]
            properties = self.resolver.resolve(raw.get("Properties") or {}, logical_id)
            resource.properties = map_strings(properties, self._rewrite_api_urls)
            resource.depends_on = _referenced_resources(raw, set(self.raw)) - {logical_id}

        deployment = Deployment(template_path=self.template_path, resources=dict(self.identities))
        for resource in self.identities.values():
            self._classify(resource)
            if resource.type in STATE_MACHINE_TYPES:
                self._build_state_machine(resource)
            elif resource.type in FUNCTION_TYPES and resource.supported:
                self._build_function(resource, deployment)
            elif resource.type == "AWS::S3::Bucket":
                deployment.s3_sources.extend(self._bucket_notifications(resource))
            elif resource.type == "AWS::Events::Rule":
                self._rule_sources(resource, deployment)
            elif resource.type == "AWS::Lambda::EventSourceMapping":
                self._event_source_mapping(resource, deployment)
            elif resource.type == "AWS::SNS::Subscription" or resource.type == "AWS::SNS::Topic":
                self._check_subscriptions(resource)
        for resource in self.identities.values():
            if resource.type in FUNCTION_TYPES and resource.logical_id in deployment.functions:
                self._function_events(resource, deployment)
        self._build_cors(deployment)
        self._build_v2_routes(deployment)
        deployment.outputs = self._outputs()
        deployment.warnings = self.warnings
        return deployment

    # -- parameters, conditions, globals -------------------------------------------------------------

    @staticmethod
    def _raw_resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
        resources = template.get("Resources")
        if not isinstance(resources, dict) or not resources:
            raise TemplateError("the template's Resources section must be a non-empty mapping")
        for logical_id, raw in resources.items():
            if not isinstance(raw, dict) or not isinstance(raw.get("Type"), str):
                raise TemplateError("resource has no Type", logical_id)
        return {lid: dict(raw) for lid, raw in resources.items()}

    @staticmethod
    def _parameters(declared: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
        unknown = set(overrides) - set(declared)
        if unknown:
            raise TemplateError(
                f"parameter overrides for undeclared parameters: {', '.join(sorted(unknown))}"
            )
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            spec = spec or {}
            if name in overrides:
                value: Any = overrides[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise TemplateError("parameter has no Default and no override was given", f"Parameter {name}")
            value = _as_parameter_text(value)
            allowed = spec.get("AllowedValues")
            if allowed and value not in [_as_parameter_text(a) for a in allowed]:
                raise TemplateError(f"value {value!r} is not one of {allowed}", f"Parameter {name}")
            param_type = str(spec.get("Type", "String"))
            if param_type == "CommaDelimitedList" or param_type.startswith("List<"):
                values[name] = [item.strip() for item in value.split(",")] if value else []
            else:
                values[name] = value
        return values

    def _drop_resources_with_false_conditions(self) -> None:
        for logical_id in list(self.raw):
            condition = self.raw[logical_id].get("Condition")
            if condition is not None and not self.resolver.condition(condition, logical_id):
                del self.raw[logical_id]

    def _add_implicit_resources(self) -> None:
        """Add what SAM creates implicitly (execution roles, ServerlessHttpApi / ServerlessRestApi)."""
        serverless_with_roles = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")
        for logical_id, raw in list(self.raw.items()):
            if raw["Type"] in serverless_with_roles and "Role" not in (raw.get("Properties") or {}):
                self.raw.setdefault(f"{logical_id}Role", {"Type": "AWS::IAM::Role", "Properties": {}})
            if raw["Type"] != "AWS::Serverless::Function":
                continue
            for event in ((raw.get("Properties") or {}).get("Events") or {}).values():
                props = (event or {}).get("Properties") or {}
                if event.get("Type") == "HttpApi" and "ApiId" not in props:
                    self.raw.setdefault(
                        IMPLICIT_HTTP_API, {"Type": "AWS::Serverless::HttpApi", "Properties": {}}
                    )
                if event.get("Type") == "Api" and "RestApiId" not in props:
                    self.raw.setdefault(
                        IMPLICIT_REST_API,
                        {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "Prod"}},
                    )

    def _apply_globals(self) -> None:
        globals_section = self.template.get("Globals") or {}
        by_type = {
            "Function": "AWS::Serverless::Function",
            "HttpApi": "AWS::Serverless::HttpApi",
            "Api": "AWS::Serverless::Api",
            "SimpleTable": "AWS::Serverless::SimpleTable",
            "StateMachine": "AWS::Serverless::StateMachine",
            "LayerVersion": "AWS::Serverless::LayerVersion",
        }
        for section, values in globals_section.items():
            resource_type = by_type.get(section)
            if resource_type is None:
                self.warnings.append(f"Globals.{section}: not emulated locally")
                continue
            for raw in self.raw.values():
                if raw["Type"] == resource_type:
                    raw["Properties"] = _sam_merge(values or {}, raw.get("Properties") or {})

    # -- identities ----------------------------------------------------------------------------------

    def identity(self, logical_id: str) -> TemplateResource:
        if logical_id in self.identities:
            return self.identities[logical_id]
        if logical_id in self._identity_in_progress:
            raise TemplateError("its name depends on itself", logical_id)
        self._identity_in_progress.add(logical_id)
        try:
            raw = self.raw[logical_id]
            resource = TemplateResource(logical_id=logical_id, type=raw["Type"], properties={})
            resource.physical_name = self._physical_name(resource, raw.get("Properties") or {})
            _IDENTITY_MAKERS.get(resource.type, _generic_identity)(
                self, resource, raw.get("Properties") or {}
            )
        finally:
            self._identity_in_progress.discard(logical_id)
        self.identities[logical_id] = resource
        return resource

    def _physical_name(self, resource: TemplateResource, properties: dict[str, Any]) -> str:
        name_property = _NAME_PROPERTIES.get(resource.type)
        explicit = None
        if name_property and name_property in properties:
            explicit = self.resolver.resolve(properties[name_property], resource.logical_id)
        if explicit is not None and explicit is not NO_VALUE:
            return str(explicit)
        name = f"{self.stack_name}-{resource.logical_id}"
        if resource.type == "AWS::S3::Bucket":
            name = re.sub(r"[^a-z0-9.-]", "-", name.lower())[:63]
        return name

    def resolve_bool(self, value: Any, owner: str, default: bool) -> bool:
        resolved = self.resolver.resolve(value, owner) if value is not None else default
        if isinstance(resolved, str):
            return resolved.lower() == "true"
        return bool(resolved)

    # -- classification and warnings ---------------------------------------------------------------

    def _classify(self, resource: TemplateResource) -> None:
        if resource.type in EMULATED_TYPES or resource.type in NOTHING_TO_CREATE_TYPES:
            return
        resource.supported = False
        self.warnings.append(f"{resource.logical_id} ({resource.type}): not emulated locally")

    def _check_subscriptions(self, resource: TemplateResource) -> None:
        if resource.type == "AWS::SNS::Subscription":
            subscriptions = [resource.properties]
        else:
            subscriptions = resource.properties.get("Subscription") or []
        for subscription in subscriptions:
            protocol = str(subscription.get("Protocol", "")).lower()
            if protocol != "sqs":
                self.warnings.append(
                    f"{resource.logical_id}: SNS subscription with protocol {protocol!r} is not emulated"
                )

    # -- API URL rewriting ----------------------------------------------------------------------------

    def _api_url_rewrites(self) -> list[tuple[str, str]]:
        rewrites = []
        for resource in self.identities.values():
            api_id = resource.attributes.get("ApiId")
            if not api_id:
                continue
            aws_host = f"{api_id}.execute-api.{REGION}.amazonaws.com"
            local_host = f"{self.api_host}:{self.api_port}"
            rewrites += [
                (f"https://{aws_host}", f"http://{local_host}"),
                (f"wss://{aws_host}", f"ws://{local_host}"),
            ]
            rewrites.append((aws_host, local_host))
        return rewrites

    def _rewrite_api_urls(self, text: str) -> str:
        if ".execute-api." not in text:
            return text
        for aws_form, local_form in self._api_url_rewrites():
            text = text.replace(aws_form, local_form)
        return text

    def _resolve_final(self, value: Any, owner: str) -> Any:
        return map_strings(self.resolver.resolve(value, owner), self._rewrite_api_urls)

    # -- functions -------------------------------------------------------------------------------------

    def _build_function(self, resource: TemplateResource, deployment: Deployment) -> None:
        props = resource.properties
        lid = resource.logical_id
        runtime = str(props.get("Runtime", "python3.11"))
        if props.get("PackageType") == "Image" or not runtime.startswith("python"):
            resource.supported = False
            self.warnings.append(f"{lid} ({resource.type}): runtime {runtime!r} is not emulated locally")
            return
        code_uri = props.get("CodeUri") if resource.type == "AWS::Serverless::Function" else props.get("Code")
        if code_uri is None and "InlineCode" in props:
            resource.supported = False
            self.warnings.append(f"{lid} ({resource.type}): InlineCode is not emulated locally")
            return
        if not isinstance(code_uri, str):
            if resource.type == "AWS::Lambda::Function":
                resource.supported = False
                self.warnings.append(
                    f"{lid} ({resource.type}): code that is not a local folder is not emulated"
                )
                return
            code_uri = code_uri if code_uri is not None else "."
            if not isinstance(code_uri, str):
                raise TemplateError(f"CodeUri must be a local folder, got {code_uri!r}", lid)
        code_dir = (self.template_dir / code_uri).resolve()
        if not code_dir.is_dir():
            raise TemplateError(f"CodeUri folder {code_uri} does not exist", lid)
        handler = props.get("Handler")
        if not isinstance(handler, str) or "." not in handler:
            raise TemplateError(f"Handler must be 'module.function', got {handler!r}", lid)
        layer_dirs = self._layer_dirs(lid, props.get("Layers") or [])
        module = handler.rsplit(".", 1)[0]
        if not _module_exists(module, [code_dir, *layer_dirs]):
            raise TemplateError(
                f"handler module {module!r} not found in {_relative(code_dir, self.template_dir)}", lid
            )
        deployment.functions[lid] = FunctionSpec(
            logical_id=lid,
            name=str(resource.physical_name),
            arn=str(resource.arn),
            code_dir=code_dir,
            handler=handler,
            runtime=runtime,
            timeout=float(props.get("Timeout", 3)),
            memory_size=int(props.get("MemorySize", 128)),
            environment={**self._environment(lid, props), **self.extra_env},
            layer_dirs=layer_dirs,
            dead_letter_queue_arn=_async_failure_queue(props),
        )

    @staticmethod
    def _environment(logical_id: str, props: dict[str, Any]) -> dict[str, str]:
        variables = (props.get("Environment") or {}).get("Variables") or {}
        environment = {}
        for name, value in variables.items():
            if isinstance(value, bool):
                environment[name] = str(value).lower()
            elif isinstance(value, str | int | float):
                environment[name] = str(value)
            else:
                raise TemplateError(f"environment variable {name} is not a string: {value!r}", logical_id)
        return environment

    def _layer_dirs(self, logical_id: str, layers: list[Any]) -> list[Path]:
        by_arn = {r.arn: r for r in self.identities.values() if r.type in LAYER_TYPES}
        dirs = []
        for layer in layers:
            layer_resource = by_arn.get(layer)
            if layer_resource is None:
                self.warnings.append(
                    f"{logical_id}: layer {layer} is not part of the template; not available locally"
                )
                continue
            props = layer_resource.properties
            serverless = layer_resource.type == "AWS::Serverless::LayerVersion"
            content = props.get("ContentUri") if serverless else props.get("Content")
            if not isinstance(content, str):
                self.warnings.append(
                    f"{logical_id}: layer {layer_resource.logical_id} has no local content folder"
                )
                continue
            layer_dir = (self.template_dir / content).resolve()
            if not layer_dir.is_dir():
                raise TemplateError(
                    f"layer {layer_resource.logical_id} content folder {content} does not exist", logical_id
                )
            dirs.append(layer_dir / "python" if (layer_dir / "python").is_dir() else layer_dir)
        return dirs

    def _function_events(self, resource: TemplateResource, deployment: Deployment) -> None:
        if resource.type != "AWS::Serverless::Function":
            return
        lid = resource.logical_id
        for event_name, event in (resource.properties.get("Events") or {}).items():
            event_type = event.get("Type")
            props = event.get("Properties") or {}
            handler = _EVENT_HANDLERS.get(event_type)
            if handler is None:
                self.warnings.append(f"{lid}: event {event_name} of type {event_type} is not emulated")
                continue
            handler(self, deployment, lid, event_name, props)

    def _sqs_event(self, deployment: Deployment, lid: str, event_name: str, props: dict[str, Any]) -> None:
        queue = self._resource_by("arn", props.get("Queue"), "AWS::SQS::Queue")
        if queue is None:
            raise TemplateError(
                f"event {event_name}: queue {props.get('Queue')!r} is not a queue of the template", lid
            )
        deployment.sqs_sources.append(
            SqsEventSource(
                function=lid,
                queue_arn=str(queue.arn),
                queue_url=str(queue.url),
                batch_size=int(props.get("BatchSize", 10)),
                batching_window_s=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                report_batch_item_failures="ReportBatchItemFailures"
                in (props.get("FunctionResponseTypes") or []),
                enabled=self.resolve_bool(props.get("Enabled"), lid, True),
            )
        )

    def _s3_event(self, deployment: Deployment, lid: str, event_name: str, props: dict[str, Any]) -> None:
        bucket = self._resource_by("physical_name", props.get("Bucket"), "AWS::S3::Bucket")
        if bucket is None:
            raise TemplateError(
                f"event {event_name}: bucket {props.get('Bucket')!r} is not a bucket of the template", lid
            )
        events = props.get("Events") or []
        prefix, suffix = _s3_key_filter(props.get("Filter"))
        deployment.s3_sources.append(
            S3EventSource(
                function=lid,
                queue_arn=None,
                bucket=str(bucket.physical_name),
                events=[events] if isinstance(events, str) else list(events),
                prefix=prefix,
                suffix=suffix,
            )
        )

    def _schedule_event(
        self, deployment: Deployment, lid: str, event_name: str, props: dict[str, Any]
    ) -> None:
        expression = props.get("Schedule") or props.get("ScheduleExpression")
        if not isinstance(expression, str):
            raise TemplateError(f"event {event_name}: a schedule needs an expression", lid)
        enabled = self.resolve_bool(props.get("Enabled"), lid, True)
        if "State" in props:
            enabled = str(props["State"]).upper() == "ENABLED"
        input_value = props.get("Input")
        deployment.schedules.append(
            ScheduleSource(
                function=lid,
                expression=expression,
                input=input_value
                if isinstance(input_value, str) or input_value is None
                else json.dumps(input_value),
                enabled=enabled,
            )
        )

    def _http_api_event(
        self, deployment: Deployment, lid: str, event_name: str, props: dict[str, Any]
    ) -> None:
        api = self._api_for_event(props.get("ApiId"), IMPLICIT_HTTP_API, lid, event_name)
        path = props.get("Path")
        method = str(props.get("Method", "ANY")).upper() if path else "ANY"
        deployment.http_routes.append(
            HttpRoute(
                api=api.logical_id,
                method="ANY" if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method,
                path=str(path) if path else "$default",
                function=lid,
                payload_format="1.0" if str(props.get("PayloadFormatVersion", "2.0")) == "1.0" else "2.0",
                stage=str(api.attributes.get("Stage", "$default")),
            )
        )

    def _rest_api_event(
        self, deployment: Deployment, lid: str, event_name: str, props: dict[str, Any]
    ) -> None:
        api = self._api_for_event(props.get("RestApiId"), IMPLICIT_REST_API, lid, event_name)
        deployment.http_routes.append(
            HttpRoute(
                api=api.logical_id,
                method=str(props.get("Method", "ANY")).upper(),
                path=str(props.get("Path", "/")),
                function=lid,
                payload_format="1.0",
                stage=str(api.attributes.get("Stage", "Prod")),
            )
        )

    def _api_for_event(self, api_ref: Any, implicit: str, lid: str, event_name: str) -> TemplateResource:
        if api_ref is None:
            return self.identities[implicit]
        api = self._resource_by("ref", api_ref, None)
        if api is None or "ApiId" not in api.attributes:
            raise TemplateError(f"event {event_name}: API {api_ref!r} is not an API of the template", lid)
        return api

    def _resource_by(self, attribute: str, value: Any, resource_type: str | None) -> TemplateResource | None:
        if value is None:
            return None
        for resource in self.identities.values():
            if resource_type is not None and resource.type != resource_type:
                continue
            current = self.ref(resource.logical_id) if attribute == "ref" else getattr(resource, attribute)
            if current == value:
                return resource
        return None

    def _function_by_arn(self, arn_or_name: Any) -> TemplateResource | None:
        for resource in self.identities.values():
            if resource.type in FUNCTION_TYPES and arn_or_name in (resource.arn, resource.physical_name):
                return resource
        return None

    # -- other event sources ---------------------------------------------------------------------------

    def _bucket_notifications(self, bucket: TemplateResource) -> list[S3EventSource]:
        config = bucket.properties.get("NotificationConfiguration") or {}
        sources = []
        for entry in config.get("QueueConfigurations") or []:
            prefix, suffix = _s3_key_filter(entry.get("Filter"))
            sources.append(
                S3EventSource(
                    function=None,
                    queue_arn=str(entry.get("Queue")),
                    bucket=str(bucket.physical_name),
                    events=[str(entry.get("Event"))],
                    prefix=prefix,
                    suffix=suffix,
                )
            )
        for entry in config.get("LambdaConfigurations") or []:
            function = self._function_by_arn(entry.get("Function"))
            if function is None:
                raise TemplateError(
                    f"notification target {entry.get('Function')!r} is not a function of the template",
                    bucket.logical_id,
                )
            prefix, suffix = _s3_key_filter(entry.get("Filter"))
            sources.append(
                S3EventSource(
                    function=function.logical_id,
                    queue_arn=None,
                    bucket=str(bucket.physical_name),
                    events=[str(entry.get("Event"))],
                    prefix=prefix,
                    suffix=suffix,
                )
            )
        if config.get("TopicConfigurations"):
            self.warnings.append(f"{bucket.logical_id}: S3 notifications to SNS topics are not emulated")
        return sources

    def _rule_sources(self, rule: TemplateResource, deployment: Deployment) -> None:
        props = rule.properties
        for target in props.get("Targets") or []:
            arn = str(target.get("Arn", ""))
            if arn.startswith("arn:aws:sqs:") or arn.startswith("arn:aws:sns:"):
                continue
            function = self._function_by_arn(arn)
            if function is not None and "ScheduleExpression" in props and "EventPattern" not in props:
                # A scheduled rule invoking a Lambda is the runtime's schedule, not moto's.
                input_value = target.get("Input")
                deployment.schedules.append(
                    ScheduleSource(
                        function=function.logical_id,
                        expression=str(props["ScheduleExpression"]),
                        input=input_value
                        if isinstance(input_value, str) or input_value is None
                        else json.dumps(input_value),
                        enabled=str(props.get("State", "ENABLED")).upper() == "ENABLED",
                    )
                )
                continue
            self.warnings.append(f"{rule.logical_id}: target {target.get('Id', arn)} ({arn}) is not emulated")

    def _event_source_mapping(self, resource: TemplateResource, deployment: Deployment) -> None:
        props = resource.properties
        queue = self._resource_by("arn", props.get("EventSourceArn"), "AWS::SQS::Queue")
        function = self._function_by_arn(props.get("FunctionName"))
        if queue is None or function is None:
            self.warnings.append(
                f"{resource.logical_id}: only SQS mappings to template functions are emulated"
            )
            return
        deployment.sqs_sources.append(
            SqsEventSource(
                function=function.logical_id,
                queue_arn=str(queue.arn),
                queue_url=str(queue.url),
                batch_size=int(props.get("BatchSize", 10)),
                batching_window_s=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                report_batch_item_failures="ReportBatchItemFailures"
                in (props.get("FunctionResponseTypes") or []),
                enabled=self.resolve_bool(props.get("Enabled"), resource.logical_id, True),
            )
        )

    # -- APIs ------------------------------------------------------------------------------------------

    def _build_cors(self, deployment: Deployment) -> None:
        for resource in self.identities.values():
            cors: Any = None
            if resource.type in HTTP_API_TYPES or (
                resource.type == V2_API_TYPE and resource.attributes.get("ProtocolType") == "HTTP"
            ):
                cors = resource.properties.get("CorsConfiguration")
            if cors is None or cors is False:
                continue
            if cors is True or cors == "true":
                cors = {"AllowOrigins": ["*"], "AllowMethods": ["*"], "AllowHeaders": ["*"]}
            deployment.cors[resource.logical_id] = CorsConfig(
                allow_origins=[str(v) for v in cors.get("AllowOrigins") or []],
                allow_methods=[str(v) for v in cors.get("AllowMethods") or []],
                allow_headers=[str(v) for v in cors.get("AllowHeaders") or []],
                expose_headers=[str(v) for v in cors.get("ExposeHeaders") or []],
                allow_credentials=self.resolve_bool(cors.get("AllowCredentials"), resource.logical_id, False),
                max_age=int(cors["MaxAge"]) if cors.get("MaxAge") is not None else None,
            )

    def _build_v2_routes(self, deployment: Deployment) -> None:
        websocket_apis: dict[str, WebSocketApi] = {}
        for resource in self.identities.values():
            if resource.type == V2_API_TYPE and resource.attributes.get("ProtocolType") == "WEBSOCKET":
                websocket_apis[resource.logical_id] = WebSocketApi(
                    logical_id=resource.logical_id,
                    api_id=str(resource.attributes["ApiId"]),
                    stage=str(resource.attributes["Stage"]),
                    route_selection_expression=str(
                        resource.properties.get("RouteSelectionExpression", "$request.body.action")
                    ),
                    routes={},
                )
        for route in self.identities.values():
            if route.type != "AWS::ApiGatewayV2::Route":
                continue
            api = self._resource_by("ref", route.properties.get("ApiId"), V2_API_TYPE)
            if api is None:
                raise TemplateError(
                    f"ApiId {route.properties.get('ApiId')!r} is not an API of the template", route.logical_id
                )
            route_key = str(route.properties.get("RouteKey", ""))
            integration = self._route_integration(route)
            if integration is None:
                self.warnings.append(
                    f"{route.logical_id}: route {route_key} has no Lambda integration; not emulated"
                )
                continue
            function = self._integration_function(integration)
            if api.logical_id in websocket_apis:
                websocket_apis[api.logical_id].routes[route_key] = function
                continue
            method, _, path = route_key.partition(" ")
            payload = str(integration.properties.get("PayloadFormatVersion", "2.0"))
            deployment.http_routes.append(
                HttpRoute(
                    api=api.logical_id,
                    method="ANY" if route_key == "$default" else method.upper(),
                    path="$default" if route_key == "$default" else path,
                    function=function,
                    payload_format="1.0" if payload == "1.0" else "2.0",
                    stage=str(api.attributes["Stage"]),
                )
            )
        deployment.websocket_apis.extend(websocket_apis.values())

    def _route_integration(self, route: TemplateResource) -> TemplateResource | None:
        target = route.properties.get("Target")
        if not isinstance(target, str) or not target.startswith("integrations/"):
            return None
        integration = self._resource_by(
            "ref", target.removeprefix("integrations/"), "AWS::ApiGatewayV2::Integration"
        )
        if integration is None:
            raise TemplateError(f"Target {target!r} is not an integration of the template", route.logical_id)
        return integration

    def _integration_function(self, integration: TemplateResource) -> str:
        uri = str(integration.properties.get("IntegrationUri", ""))
        functions = sorted(
            (r for r in self.identities.values() if r.type in FUNCTION_TYPES),
            key=lambda r: len(str(r.arn)),
            reverse=True,
        )
        for function in functions:
            if str(function.arn) in uri:
                return function.logical_id
        raise TemplateError(
            f"IntegrationUri {uri!r} does not name a function of the template", integration.logical_id
        )

    # -- state machines --------------------------------------------------------------------------------

    def _build_state_machine(self, resource: TemplateResource) -> None:
        props = resource.properties
        lid = resource.logical_id
        if "DefinitionS3Location" in props or isinstance(props.get("DefinitionUri"), dict):
            raise TemplateError("definitions in S3 are not supported locally; use a local DefinitionUri", lid)
        if isinstance(props.get("DefinitionUri"), str):
            path = (self.template_dir / props["DefinitionUri"]).resolve()
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise TemplateError(
                    f"cannot read DefinitionUri {props['DefinitionUri']}: {exc}", lid
                ) from exc
            definition_text = text if path.suffix == ".json" else json.dumps(loads_template(text, str(path)))
        elif isinstance(props.get("DefinitionString"), str):
            definition_text = props["DefinitionString"]
        elif isinstance(props.get("Definition"), dict):
            definition_text = json.dumps(props["Definition"])
        else:
            raise TemplateError("a state machine needs DefinitionUri, Definition or DefinitionString", lid)
        for name, value in (props.get("DefinitionSubstitutions") or {}).items():
            replacement = value if isinstance(value, str) else json.dumps(value)
            # The placeholder sits inside a JSON string: escape the value the way JSON would.
            definition_text = definition_text.replace("${" + name + "}", json.dumps(replacement)[1:-1])
        try:
            definition = json.loads(definition_text)
        except json.JSONDecodeError as exc:
            raise TemplateError(f"the state machine definition is not valid JSON: {exc}", lid) from exc
        if not isinstance(definition, dict):
            raise TemplateError("the state machine definition must be a JSON object", lid)
        check_asl(definition, lid)
        resource.attributes["Definition"] = json.dumps(definition)
        resource.attributes["Type"] = str(
            props.get("Type") or props.get("StateMachineType") or "STANDARD"
        ).upper()
        if props.get("Events"):
            self.warnings.append(f"{lid}: state machine Events are not emulated")

    # -- outputs ---------------------------------------------------------------------------------------

    def _outputs(self) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for name, output in (self.template.get("Outputs") or {}).items():
            owner = f"Output {name}"
            if not isinstance(output, dict) or "Value" not in output:
                raise TemplateError("an output needs a Value", owner)
            condition = output.get("Condition")
            if condition is not None and not self.resolver.condition(condition, owner):
                continue
            outputs[name] = self._resolve_final(output["Value"], owner)
        return outputs


# -- identity makers (name, ARN, URL, Ref, GetAtt values per type) ---------------------------------------

IdentityMaker = Callable[[_DeploymentBuilder, TemplateResource, dict[str, Any]], None]


def _arn(service: str, resource: str, *, region: str = REGION, account: str = ACCOUNT_ID) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def _queue_identity(builder: _DeploymentBuilder, resource: TemplateResource, props: dict[str, Any]) -> None:
    name = str(resource.physical_name)
    if builder.resolve_bool(props.get("FifoQueue"), resource.logical_id, False) and not name.endswith(
        ".fifo"
    ):
        name += ".fifo"
    resource.physical_name = name
    resource.arn = _arn("sqs", name)
    # moto builds queue URLs from the Host the request came to: endpoint + /account/name.
    resource.url = resource.ref = f"{builder.aws_endpoint}/{ACCOUNT_ID}/{name}"
    resource.attributes = {"Arn": resource.arn, "QueueName": name, "QueueUrl": resource.url}


def _topic_identity(builder: _DeploymentBuilder, resource: TemplateResource, props: dict[str, Any]) -> None:
    name = str(resource.physical_name)
    if builder.resolve_bool(props.get("FifoTopic"), resource.logical_id, False) and not name.endswith(
        ".fifo"
    ):
        name += ".fifo"
    resource.physical_name = name
    resource.arn = resource.ref = _arn("sns", name)
    resource.attributes = {"TopicArn": resource.arn, "TopicName": name}


def _table_identity(builder: _DeploymentBuilder, resource: TemplateResource, props: dict[str, Any]) -> None:
    resource.arn = _arn("dynamodb", f"table/{resource.physical_name}")
    # provision() replaces StreamArn with the label moto generates.
    resource.attributes = {"Arn": resource.arn, "StreamArn": f"{resource.arn}/stream/1970-01-01T00:00:00.000"}


def _bucket_identity(builder: _DeploymentBuilder, resource: TemplateResource, props: dict[str, Any]) -> None:
    name = str(resource.physical_name)
    resource.arn = f"arn:aws:s3:::{name}"
    resource.attributes = {
        "Arn": resource.arn,
        "DomainName": f"{name}.s3.amazonaws.com",
        "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
        "DualStackDomainName": f"{name}.s3.dualstack.{REGION}.amazonaws.com",
        "WebsiteURL": f"http://{name}.s3-website-{REGION}.amazonaws.com",
    }


def _function_identity(
    builder: _DeploymentBuilder, resource: TemplateResource, props: dict[str, Any]
) -> None:
    resource.arn = _arn("lambda", f"function:{resource.physical_name}")
    resource.attributes = {"Arn": resource.arn}


def _state_machine_identity(
    builder: _DeploymentBuilder, resource: TemplateResource, props: dict[str, Any]
) -> None:
    resource.arn = resource.ref = _arn("states", f"stateMachine:{resource.physical_name}")
    resource.attributes = {"Arn": resource.arn, "Name": resource.physical_name}


def _layer_identity(builder: _DeploymentBuilder, resource: TemplateResource, props: dict[str, Any]) -> None:
    resource.arn = resource.ref = _arn("lambda", f"layer:{resource.physical_name}:1")
    resource.attributes = {"LayerVersionArn": resource.arn}


def _api_identity(builder: _DeploymentBuilder, resource: TemplateResource, props: dict[str, Any]) -> None:
    api_id = deterministic_id(builder.stack_name, resource.logical_id)
    local_host = f"{builder.api_host}:{builder.api_port}"
    protocol = str(builder.resolver.resolve(props.get("ProtocolType", "HTTP"), resource.logical_id)).upper()
    if resource.type in REST_API_TYPES:
        protocol = "REST"
    resource.ref = api_id
    if protocol == "WEBSOCKET":
        stage = _websocket_stage(builder, resource.logical_id)
        resource.url = f"ws://{local_host}/{stage}"
        endpoint = f"ws://{local_host}"
    else:
        default_stage = "Prod" if protocol == "REST" else "$default"
        stage = str(builder.resolver.resolve(props.get("StageName", default_stage), resource.logical_id))
        resource.url = endpoint = f"http://{local_host}"
    resource.arn = f"arn:aws:apigateway:{REGION}::/apis/{api_id}"
    resource.attributes = {
        "ApiId": api_id,
        "ApiEndpoint": endpoint,
        "DomainName": local_host,
        "ProtocolType": protocol,
        "Stage": stage,
        "RootResourceId": deterministic_id(api_id),
    }


def _websocket_stage(builder: _DeploymentBuilder, api_logical_id: str) -> str:
    for raw in builder.raw.values():
        props = raw.get("Properties") or {}
        if raw["Type"] == "AWS::ApiGatewayV2::Stage" and props.get("ApiId") == {"Ref": api_logical_id}:
            return str(builder.resolver.resolve(props.get("StageName", "prod"), api_logical_id))
    return "prod"


def _event_bus_identity(
    builder: _DeploymentBuilder, resource: TemplateResource, props: dict[str, Any]
) -> None:
    resource.arn = _arn("events", f"event-bus/{resource.physical_name}")
    resource.attributes = {"Arn": resource.arn, "Name": resource.physical_name}


def _rule_identity(builder: _DeploymentBuilder, resource: TemplateResource, props: dict[str, Any]) -> None:
    bus = builder.resolver.resolve(props.get("EventBusName", "default"), resource.logical_id)
    bus_name = str(bus).rsplit("/", 1)[-1]
    path = (
        f"rule/{resource.physical_name}"
        if bus_name == "default"
        else f"rule/{bus_name}/{resource.physical_name}"
    )
    resource.arn = _arn("events", path)
    resource.attributes = {"Arn": resource.arn}


def _role_identity(builder: _DeploymentBuilder, resource: TemplateResource, props: dict[str, Any]) -> None:
    resource.arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{resource.physical_name}"
    resource.attributes = {
        "Arn": resource.arn,
        "RoleId": deterministic_id(str(resource.physical_name), length=21),
    }


def _short_id_identity(
    builder: _DeploymentBuilder, resource: TemplateResource, props: dict[str, Any]
) -> None:
    resource.ref = deterministic_id(builder.stack_name, resource.logical_id, length=7)


def _stage_identity(builder: _DeploymentBuilder, resource: TemplateResource, props: dict[str, Any]) -> None:
    resource.ref = str(builder.resolver.resolve(props.get("StageName", "prod"), resource.logical_id))


def _log_group_identity(
    builder: _DeploymentBuilder, resource: TemplateResource, props: dict[str, Any]
) -> None:
    resource.arn = _arn("logs", f"log-group:{resource.physical_name}:*")
    resource.attributes = {"Arn": resource.arn}


def _generic_identity(builder: _DeploymentBuilder, resource: TemplateResource, props: dict[str, Any]) -> None:
    """Unknown types keep a stable name so references to them still resolve."""
    resource.attributes = {}


_IDENTITY_MAKERS: dict[str, IdentityMaker] = {
    "AWS::SQS::Queue": _queue_identity,
    "AWS::SNS::Topic": _topic_identity,
    "AWS::DynamoDB::Table": _table_identity,
    "AWS::Serverless::SimpleTable": _table_identity,
    "AWS::S3::Bucket": _bucket_identity,
    "AWS::Serverless::Function": _function_identity,
    "AWS::Lambda::Function": _function_identity,
    "AWS::Serverless::StateMachine": _state_machine_identity,
    "AWS::StepFunctions::StateMachine": _state_machine_identity,
    "AWS::Serverless::LayerVersion": _layer_identity,
    "AWS::Lambda::LayerVersion": _layer_identity,
    "AWS::Serverless::HttpApi": _api_identity,
    "AWS::Serverless::Api": _api_identity,
    "AWS::ApiGatewayV2::Api": _api_identity,
    "AWS::Events::EventBus": _event_bus_identity,
    "AWS::Events::Rule": _rule_identity,
    "AWS::IAM::Role": _role_identity,
    "AWS::ApiGatewayV2::Integration": _short_id_identity,
    "AWS::ApiGatewayV2::Route": _short_id_identity,
    "AWS::ApiGatewayV2::Deployment": _short_id_identity,
    "AWS::ApiGatewayV2::Stage": _stage_identity,
    "AWS::Logs::LogGroup": _log_group_identity,
}

_EVENT_HANDLERS: dict[str, Callable[[_DeploymentBuilder, Deployment, str, str, dict[str, Any]], None]] = {
    "SQS": _DeploymentBuilder._sqs_event,
    "S3": _DeploymentBuilder._s3_event,
    "Schedule": _DeploymentBuilder._schedule_event,
    "ScheduleV2": _DeploymentBuilder._schedule_event,
    "HttpApi": _DeploymentBuilder._http_api_event,
    "Api": _DeploymentBuilder._rest_api_event,
}


# -- helpers --------------------------------------------------------------------------------------------


def _is_intrinsic(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(value) == 1
        and (next(iter(value)) in _INTRINSIC_KEYS or next(iter(value)).startswith("Fn::"))
    )


def _sam_merge(global_value: Any, local_value: Any) -> Any:
    """SAM's Globals rule: maps merge, lists concatenate (globals first), anything else the local wins."""
    if (
        isinstance(global_value, dict)
        and isinstance(local_value, dict)
        and not (_is_intrinsic(global_value) or _is_intrinsic(local_value))
    ):
        merged = dict(global_value)
        for key, value in local_value.items():
            merged[key] = _sam_merge(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return global_value + local_value
    return local_value


def _referenced_resources(value: Any, resource_ids: set[str]) -> set[str]:
    """Logical ids a raw template value refers to (Ref, GetAtt, Sub placeholders, DependsOn)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str) and item in resource_ids:
                found.add(item)
            elif key == "Fn::GetAtt":
                target = item.split(".", 1)[0] if isinstance(item, str) else item[0] if item else None
                if target in resource_ids:
                    found.add(str(target))
            elif key == "Fn::Sub":
                text = item[0] if isinstance(item, list) and item else item
                if isinstance(text, str):
                    for name in re.findall(r"\$\{([^}!][^}]*)\}", text):
                        if name.split(".", 1)[0] in resource_ids:
                            found.add(name.split(".", 1)[0])
            elif key == "DependsOn":
                found.update(
                    d for d in ([item] if isinstance(item, str) else item or []) if d in resource_ids
                )
            if key != "Ref":
                found |= _referenced_resources(item, resource_ids)
    elif isinstance(value, list):
        for item in value:
            found |= _referenced_resources(item, resource_ids)
    return found


def _s3_key_filter(filter_config: Any) -> tuple[str, str]:
    prefix = suffix = ""
    rules = ((filter_config or {}).get("S3Key") or {}).get("Rules") or []
    for rule in rules:
        name = str(rule.get("Name", "")).lower()
        if name == "prefix":
            prefix = str(rule.get("Value", ""))
        elif name == "suffix":
            suffix = str(rule.get("Value", ""))
    return prefix, suffix


def _async_failure_queue(props: dict[str, Any]) -> str | None:
    """The SQS ARN failed asynchronous invocations go to: DeadLetterQueue, else an OnFailure destination."""
    dead_letter = props.get("DeadLetterQueue") or {}
    if str(dead_letter.get("Type", "")).upper() == "SQS" and isinstance(dead_letter.get("TargetArn"), str):
        return str(dead_letter["TargetArn"])
    invoke_config = props.get("EventInvokeConfig") or {}
    on_failure = (invoke_config.get("DestinationConfig") or {}).get("OnFailure") or {}
    destination = on_failure.get("Destination")
    is_queue = isinstance(destination, str) and ":sqs:" in destination
    if str(on_failure.get("Type", "SQS")).upper() == "SQS" and is_queue:
        return str(destination)
    return None


def _module_exists(module: str, search_dirs: list[Path]) -> bool:
    relative = Path(*module.split("."))
    return any(
        (directory / relative).with_suffix(".py").is_file()
        or (directory / relative / "__init__.py").is_file()
        for directory in search_dirs
    )


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _as_parameter_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
