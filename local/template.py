"""template.yaml as data: the one description of the stack that tests and the local stack read.

Nothing else in the repository lists tables, routes, schedules, buses or secrets by hand: the moto
fixtures, `make run` and the local invoke all derive them from here, so they cannot drift from
what `sam deploy` creates.

    template = load_template(parameters={"Stage": "dev"})
    template.tables()      # boto3 create_table kwargs + TTL attribute per AWS::DynamoDB::Table
    template.functions()   # code dir, handler, environment (Globals merged, intrinsics resolved)
    template.routes()      # (method, path, function logical id) per HttpApi event
    template.schedules()   # (function, expression) per Schedule event

Intrinsics are resolved by one small evaluator (`Resolver`) against parameter values (defaults,
then overrides), pseudo parameters and local physical names. Locally `Ref` to any resource yields
its physical name (Secrets Manager and EventBridge accept names where AWS would hand out an ARN).
It evaluates only the intrinsics that template.yaml uses where the local stack reads it; any
other raises TemplateError naming it (the VPC's !Cidr, !GetAZs and !Select are parsed, never
evaluated: no subnet exists locally). samtranslator would not replace this: it is not in the
project venv the local stack runs from (only in .venv-tools, with aws-sam-cli), and its resolver
substitutes Ref/Sub/GetAtt values but evaluates no conditions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
DEFAULT_STACK_NAME = "cryptosdk-local"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"

# The property that carries a resource's explicit physical name, per type.
_NAME_PROPERTIES = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Events::EventBus": "Name",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Serverless::LayerVersion": "LayerName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Serverless::HttpApi": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
}

# ARN shapes for Fn::GetAtt X.Arn, per type: (service, resource part with {name}).
_ARN_FORMATS = {
    "AWS::DynamoDB::Table": ("dynamodb", "table/{name}"),
    "AWS::SecretsManager::Secret": ("secretsmanager", "secret:{name}"),
    "AWS::Events::EventBus": ("events", "event-bus/{name}"),
    "AWS::Serverless::Function": ("lambda", "function:{name}"),
    "AWS::SQS::Queue": ("sqs", "{name}"),
    "AWS::Logs::LogGroup": ("logs", "log-group:{name}:*"),
}

_RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_RATE_RE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_SUB_RE = re.compile(r"\$\{([^}]+)\}")


class TemplateError(ValueError):
    """The template uses something this reader cannot resolve locally; the message says what."""


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short tags (!Ref, !Sub, ...) into their long forms."""


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    """`!Ref x` -> {"Ref": x}, `!Condition c` -> {"Condition": c}, `!Name v` -> {"Fn::Name": v};
    !GetAtt's scalar form "A.B" becomes ["A", "B"]."""
    long_name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if long_name == "Fn::GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {long_name: value}


CfnLoader.add_multi_constructor("!", _construct_intrinsic)

# CloudFormation keeps "2010-09-09" a string; YAML 1.1 would make it a date.
CfnLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_template(text: str) -> dict[str, Any]:
    document = yaml.load(text, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError("not a CloudFormation template: no Resources section")
    return document


@lru_cache(maxsize=8)
def _parse_cached(path: str, mtime_ns: int) -> dict[str, Any]:
    del mtime_ns  # part of the cache key only: an edited file is parsed again
    return parse_template(Path(path).read_text(encoding="utf-8"))


class _NoValue:
    """AWS::NoValue: the property or list item disappears."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


# ---------------------------------------------------------------------------------------------
# Typed views
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParameterDef:
    name: str
    type: str
    default: str | list[str] | None
    allowed_values: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class TableDef:
    logical_id: str
    name: str
    key_schema: list[dict[str, str]]
    attribute_definitions: list[dict[str, str]]
    global_secondary_indexes: list[dict[str, Any]]
    billing_mode: str
    ttl_attribute: str | None
    stream_view_type: str | None = None

    @property
    def create_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for boto3 `dynamodb.create_table` (CloudFormation uses the API's shapes)."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeySchema": self.key_schema,
            "AttributeDefinitions": self.attribute_definitions,
            "BillingMode": self.billing_mode,
        }
        if self.global_secondary_indexes:
            kwargs["GlobalSecondaryIndexes"] = self.global_secondary_indexes
        if self.stream_view_type:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": self.stream_view_type}
        return kwargs

    def index(self, name: str) -> dict[str, Any]:
        for gsi in self.global_secondary_indexes:
            if gsi["IndexName"] == name:
                return gsi
        raise KeyError(f"table {self.logical_id} has no index {name}")

    @property
    def hash_key(self) -> str:
        return next(k["AttributeName"] for k in self.key_schema if k["KeyType"] == "HASH")


@dataclass(frozen=True)
class FunctionDef:
    logical_id: str
    code_uri: str
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    layers: list[str]  # logical ids of the layers declared in this template
    architectures: list[str] = field(default_factory=list)
    reserved_concurrency: int | None = None  # ReservedConcurrentExecutions; None: unreserved

    @property
    def code_dir(self) -> Path:
        return (REPO_ROOT / self.code_uri).resolve()

    @property
    def module(self) -> str:
        return self.handler.rpartition(".")[0]

    @property
    def function_name(self) -> str:
        return self.handler.rpartition(".")[2]


@dataclass(frozen=True)
class LayerDef:
    logical_id: str
    content_uri: str
    build_method: str | None

    @property
    def content_dir(self) -> Path:
        return (REPO_ROOT / self.content_uri).resolve()


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str  # logical id
    event: str = ""

    @property
    def route_key(self) -> str:
        """API Gateway's routeKey, as in payload 2.0 events: "GET /orders/{orderId}"."""
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Schedule:
    function: str  # logical id
    expression: str
    enabled: bool = True
    event: str = ""

    @property
    def rate_seconds(self) -> int | None:
        return rate_seconds(self.expression)


@dataclass(frozen=True)
class StreamSource:
    """A function's DynamoDB stream event (Lambda's event source mapping), as the local stack
    runs it: which table's stream, batching, retries, filters and the on-failure destination."""

    function: str  # logical id
    event: str
    table: str  # logical id of the table whose stream is read
    starting_position: str = "TRIM_HORIZON"
    batch_size: int = 100
    # -1: retry until the record expires (Lambda's default for streams).
    maximum_retry_attempts: int = -1
    bisect_batch_on_function_error: bool = False
    report_batch_item_failures: bool = False
    filters: tuple[dict[str, Any], ...] = ()
    on_failure: str | None = None  # logical id of the SQS queue
    enabled: bool = True


def rate_seconds(expression: str) -> int | None:
    """Seconds between runs for a rate(...) expression; None for cron(...)."""
    match = _RATE_RE.match(expression.strip())
    if match is None:
        return None
    return int(match.group(1)) * _RATE_UNITS[match.group(2)]


@dataclass(frozen=True)
class SecretDef:
    logical_id: str
    name: str
    description: str = ""


# ---------------------------------------------------------------------------------------------
# Intrinsics
# ---------------------------------------------------------------------------------------------


class Resolver:
    """Evaluates CloudFormation intrinsics for one set of parameter values and physical names."""

    def __init__(
        self,
        document: Mapping[str, Any],
        parameter_values: Mapping[str, Any],
        physical_name: Callable[[str], str],
        pseudo: Mapping[str, Any],
    ) -> None:
        self._document = document
        self._parameters = parameter_values
        self._physical_name = physical_name
        self._pseudo = pseudo
        self._conditions: dict[str, bool] = {}
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Condition": self.condition,
            "Fn::Sub": self._sub,
            "Fn::GetAtt": self._get_att,
            "Fn::If": self._if,
            "Fn::Equals": self._equals,
            "Fn::Not": self._not,
            "Fn::And": self._and,
            "Fn::Join": self._join,
            "Fn::Contains": self._contains,
        }

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                handler = self._functions.get(key)
                # "Condition" is also a plain resource attribute; only a string argument is the function.
                if handler is not None and (key != "Condition" or isinstance(argument, str)):
                    return handler(argument)
                if key.startswith("Fn::"):
                    raise TemplateError(f"{key} has no local value (the local stack never needs one)")
            resolved = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        return value

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self._document.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"unknown condition {name!r}")
            self._conditions[name] = bool(self.resolve(conditions[name]))
        return self._conditions[name]

    def text(self, value: Any) -> str:
        """A resolved scalar as CloudFormation passes it to a property: a string."""
        resolved = self.resolve(value)
        if isinstance(resolved, bool):
            return "true" if resolved else "false"
        if isinstance(resolved, list | dict):
            raise TemplateError(f"expected a scalar, got {resolved!r}")
        return str(resolved)

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._parameters:
            return self._parameters[name]
        if name in (self._document.get("Parameters") or {}):
            raise TemplateError(f"parameter {name} has no default; pass it in parameters=")
        if name in self._document["Resources"]:
            return self._physical_name(name)
        raise TemplateError(f"Ref to unknown name {name!r}")

    def _get_att(self, argument: Any) -> str:
        logical_id, attribute = self.resolve(argument)
        resource = self._document["Resources"].get(logical_id)
        if resource is None:
            raise TemplateError(f"Fn::GetAtt on unknown resource {logical_id!r}")
        name = self._physical_name(logical_id)
        if attribute == "QueueName":  # the one name attribute template.yaml reads
            return name
        if attribute == "Arn" and resource["Type"] in _ARN_FORMATS:
            service, shape = _ARN_FORMATS[resource["Type"]]
            region, account = self._pseudo["AWS::Region"], self._pseudo["AWS::AccountId"]
            return f"arn:aws:{service}:{region}:{account}:{shape.format(name=name)}"
        raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute} has no local value")

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, raw_variables = argument
            variables = {k: self.resolve(v) for k, v in raw_variables.items()}

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in variables:
                return self.text(variables[expression])
            if "." in expression and expression.split(".", 1)[0] in self._document["Resources"]:
                return self._get_att(expression.split(".", 1))
            return self.text({"Ref": expression})

        return _SUB_RE.sub(replace, text)

    def _if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _equals(self, argument: Any) -> bool:
        left, right = (self.resolve(v) for v in argument)
        return bool(_scalar_text(left) == _scalar_text(right))

    def _not(self, argument: Any) -> bool:
        (inner,) = argument
        return not self.resolve(inner)

    def _and(self, argument: Any) -> bool:
        return all(self.resolve(v) for v in argument)

    def _join(self, argument: Any) -> str:
        delimiter, items = self.resolve(argument)
        return str(delimiter).join(_scalar_text(i) for i in items)

    def _contains(self, argument: Any) -> bool:
        items, value = self.resolve(argument)
        return _scalar_text(value) in [_scalar_text(i) for i in items]


def _scalar_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _merge_globals(global_value: Any, own_value: Any) -> Any:
    """SAM's Globals rule: maps merge (the resource wins), lists add up, scalars are replaced."""
    if isinstance(global_value, dict) and isinstance(own_value, dict):
        merged = dict(global_value)
        for key, value in own_value.items():
            merged[key] = _merge_globals(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(own_value, list):
        return global_value + own_value
    return own_value


# ---------------------------------------------------------------------------------------------
# The template
# ---------------------------------------------------------------------------------------------


class Template:
    """One template read with one set of parameter values and local physical names."""

    def __init__(
        self,
        document: Mapping[str, Any],
        *,
        parameters: Mapping[str, Any] | None = None,
        physical_names: Mapping[str, str] | None = None,
        stack_name: str = DEFAULT_STACK_NAME,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT_ID,
    ) -> None:
        self.document = document
        self.stack_name = stack_name
        self._overrides = dict(physical_names or {})
        self.parameter_values = self._parameter_values(parameters or {})
        # The pseudo parameters template.yaml uses.
        pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::StackName": stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.resolver = Resolver(document, self.parameter_values, self.physical_name, pseudo)

    # -- parameters ----------------------------------------------------------------------------

    def parameters(self) -> dict[str, ParameterDef]:
        """Every parameter with its declared default (lists for CommaDelimitedList)."""
        result = {}
        for name, spec in (self.document.get("Parameters") or {}).items():
            default = spec.get("Default")
            result[name] = ParameterDef(
                name=name,
                type=spec.get("Type", "String"),
                default=None if default is None else self._coerce_parameter(spec, default),
                allowed_values=tuple(str(v) for v in spec.get("AllowedValues", ())),
                description=str(spec.get("Description", "")).strip(),
            )
        return result

    def _parameter_values(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        declared = self.document.get("Parameters") or {}
        unknown = set(overrides) - set(declared)
        if unknown:
            raise TemplateError(f"unknown parameters: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            raw = overrides.get(name, spec.get("Default"))
            if raw is None:
                continue
            value = self._coerce_parameter(spec, raw)
            allowed = [str(v) for v in spec.get("AllowedValues", ())]
            if allowed and value not in allowed:
                raise TemplateError(f"parameter {name}={value!r} not in {allowed}")
            values[name] = value
        return values

    @staticmethod
    def _coerce_parameter(spec: Mapping[str, Any], raw: Any) -> str | list[str]:
        kind = str(spec.get("Type", "String"))
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            items = raw if isinstance(raw, list) else str(raw).split(",")
            return [str(i).strip() for i in items]
        return _scalar_text(raw) if not isinstance(raw, str) else raw

    # -- resources -----------------------------------------------------------------------------

    def resources(self, resource_type: str | None = None) -> dict[str, dict[str, Any]]:
        """Resources whose Condition holds, optionally of one type, by logical id."""
        result = {}
        for logical_id, resource in self.document["Resources"].items():
            if resource_type is not None and resource["Type"] != resource_type:
                continue
            condition = resource.get("Condition")
            if condition is not None and not self.resolver.condition(condition):
                continue
            result[logical_id] = resource
        return result

    def physical_name(self, logical_id: str) -> str:
        """The local name of a resource: override, else its explicit name property, else stack-id."""
        if logical_id in self._overrides:
            return self._overrides[logical_id]
        resource = self.document["Resources"].get(logical_id)
        if resource is None:
            raise TemplateError(f"unknown resource {logical_id!r}")
        name_property = _NAME_PROPERTIES.get(resource["Type"])
        explicit = (resource.get("Properties") or {}).get(name_property) if name_property else None
        if explicit is not None:
            return self.resolver.text(explicit)
        return f"{self.stack_name}-{logical_id}"

    def _properties(self, resource: Mapping[str, Any]) -> dict[str, Any]:
        resolved = self.resolver.resolve(resource.get("Properties") or {})
        assert isinstance(resolved, dict)
        return resolved

    def tables(self) -> list[TableDef]:
        tables = []
        for logical_id, resource in self.resources("AWS::DynamoDB::Table").items():
            props = self._properties(resource)
            ttl = props.get("TimeToLiveSpecification") or {}
            stream = props.get("StreamSpecification") or {}
            tables.append(
                TableDef(
                    logical_id=logical_id,
                    name=self.physical_name(logical_id),
                    key_schema=props["KeySchema"],
                    attribute_definitions=props["AttributeDefinitions"],
                    global_secondary_indexes=[
                        {
                            k: v
                            for k, v in gsi.items()
                            if k != "ProvisionedThroughput" or not _on_demand(props)
                        }
                        for gsi in props.get("GlobalSecondaryIndexes", [])
                    ],
                    billing_mode=props.get("BillingMode", "PROVISIONED"),
                    ttl_attribute=ttl.get("AttributeName") if _truthy(ttl.get("Enabled")) else None,
                    stream_view_type=stream.get("StreamViewType"),
                )
            )
        return tables

    def table(self, logical_id: str) -> TableDef:
        for table in self.tables():
            if table.logical_id == logical_id:
                return table
        raise KeyError(f"no table {logical_id}")

    def _function_properties(self, resource: Mapping[str, Any]) -> dict[str, Any]:
        own = resource.get("Properties") or {}
        if resource["Type"] != "AWS::Serverless::Function":
            return dict(own)
        defaults = (self.document.get("Globals") or {}).get("Function") or {}
        merged = _merge_globals(defaults, own)
        assert isinstance(merged, dict)
        return merged

    def functions(self) -> list[FunctionDef]:
        functions = []
        for logical_id, resource in self.resources("AWS::Serverless::Function").items():
            raw = self._function_properties(resource)
            variables = (raw.get("Environment") or {}).get("Variables") or {}
            environment = {}
            for key, value in variables.items():
                resolved = self.resolver.resolve(value)
                if resolved is not NO_VALUE:
                    environment[key] = self.resolver.text(resolved)
            functions.append(
                FunctionDef(
                    logical_id=logical_id,
                    code_uri=self.resolver.text(raw["CodeUri"]),
                    handler=self.resolver.text(raw["Handler"]),
                    runtime=self.resolver.text(raw["Runtime"]),
                    timeout=int(self.resolver.text(raw.get("Timeout", 3))),
                    memory_size=int(self.resolver.text(raw.get("MemorySize", 128))),
                    environment=environment,
                    layers=self._layer_ids(raw.get("Layers", [])),
                    architectures=[str(a) for a in self.resolver.resolve(raw.get("Architectures", []))],
                    reserved_concurrency=self._optional_int(raw.get("ReservedConcurrentExecutions")),
                )
            )
        return functions

    def _layer_ids(self, layers: Iterable[Any]) -> list[str]:
        """Logical ids of a function's layers; a conditional entry (`!If [C, !Ref L, NoValue]`)
        counts only when its condition holds."""
        ids = []
        for layer in layers:
            if isinstance(layer, dict) and "Fn::If" in layer:
                name, when_true, when_false = layer["Fn::If"]
                layer = when_true if self.resolver.condition(name) else when_false
            if layer == {"Ref": "AWS::NoValue"}:
                continue
            ids.append(_ref_target(layer))
        return ids

    def _optional_int(self, value: Any) -> int | None:
        if value is None:
            return None
        resolved = self.resolver.resolve(value)
        return None if resolved is NO_VALUE else int(self.resolver.text(resolved))

    def function(self, logical_id: str) -> FunctionDef:
        for function in self.functions():
            if function.logical_id == logical_id:
                return function
        raise KeyError(f"no function {logical_id}")

    def layers(self) -> list[LayerDef]:
        return [
            LayerDef(
                logical_id=logical_id,
                content_uri=self.resolver.text(resource["Properties"]["ContentUri"]),
                build_method=(resource.get("Metadata") or {}).get("BuildMethod"),
            )
            for logical_id, resource in self.resources("AWS::Serverless::LayerVersion").items()
        ]

    def _events(self, *types: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for logical_id, resource in self.resources("AWS::Serverless::Function").items():
            for event_name, event in ((resource.get("Properties") or {}).get("Events") or {}).items():
                if event.get("Type") in types:
                    yield logical_id, event_name, self.resolver.resolve(event.get("Properties") or {})

    def routes(self) -> list[Route]:
        return [
            Route(
                method=str(props.get("Method", "ANY")).upper(),
                path=str(props["Path"]),
                function=logical_id,
                event=event_name,
            )
            for logical_id, event_name, props in self._events("HttpApi")
        ]

    def schedules(self) -> list[Schedule]:
        schedules = []
        for logical_id, event_name, props in self._events("Schedule", "ScheduleV2"):
            expression = props.get("Schedule", props.get("ScheduleExpression"))
            state = props.get("State")
            enabled = _truthy(props.get("Enabled", True)) and state in (None, "ENABLED")
            schedules.append(
                Schedule(function=logical_id, expression=str(expression), enabled=enabled, event=event_name)
            )
        return schedules

    def stream_sources(self) -> list[StreamSource]:
        """Every DynamoDB event of a function: `Stream: !GetAtt Table.StreamArn` names the table."""
        sources = []
        for logical_id, resource in self.resources("AWS::Serverless::Function").items():
            for event_name, event in ((resource.get("Properties") or {}).get("Events") or {}).items():
                if event.get("Type") != "DynamoDB":
                    continue
                raw = event.get("Properties") or {}
                sources.append(self._stream_source(logical_id, event_name, raw))
        return sources

    def _stream_source(self, function: str, event_name: str, raw: Mapping[str, Any]) -> StreamSource:
        table = _get_att_target(raw.get("Stream"), "StreamArn")
        destination = ((raw.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        # Everything but the two ARNs resolves here (they have no local value: the stream's label
        # and the queue's URL are looked up on the running services).
        props = self.resolver.resolve(
            {k: v for k, v in raw.items() if k not in ("Stream", "DestinationConfig")}
        )
        patterns = ((props.get("FilterCriteria") or {}).get("Filters")) or []
        return StreamSource(
            function=function,
            event=event_name,
            table=table,
            starting_position=str(props.get("StartingPosition", "TRIM_HORIZON")),
            batch_size=int(props.get("BatchSize", 100)),
            maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
            bisect_batch_on_function_error=_truthy(props.get("BisectBatchOnFunctionError", False)),
            report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
            filters=tuple(json.loads(f["Pattern"]) for f in patterns),
            on_failure=None if destination is None else _get_att_target(destination, "Arn"),
            enabled=_truthy(props.get("Enabled", True)),
        )

    def queue_names(self) -> list[str]:
        return [self.physical_name(i) for i in self.resources("AWS::SQS::Queue")]

    def event_bus_names(self) -> list[str]:
        return [self.physical_name(i) for i in self.resources("AWS::Events::EventBus")]

    def secrets(self) -> list[SecretDef]:
        return [
            SecretDef(
                logical_id=logical_id,
                name=self.physical_name(logical_id),
                description=str(self._properties(resource).get("Description", "")),
            )
            for logical_id, resource in self.resources("AWS::SecretsManager::Secret").items()
        ]

    def shared_environment(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """Globals.Function environment variables (all, or only `names`), resolved.

        Lets a caller take the table, secret and bus variables without supplying parameters that
        only other variables need (ExchangeApiUrl has no default on purpose).
        """
        globals_function = (self.document.get("Globals") or {}).get("Function") or {}
        variables = (globals_function.get("Environment") or {}).get("Variables") or {}
        wanted = set(variables) if names is None else set(names)
        missing = wanted - set(variables)
        if missing:
            raise TemplateError(f"Globals.Function.Environment lacks {', '.join(sorted(missing))}")
        return {key: self.resolver.text(variables[key]) for key in variables if key in wanted}

    def rule_violations(self) -> list[str]:
        """AssertDescriptions of the Rules that these parameter values break (as CloudFormation
        would refuse the stack), e.g. AuthMode NONE outside dev."""
        violations = []
        for name, rule in (self.document.get("Rules") or {}).items():
            applies = rule.get("RuleCondition")
            if applies is not None and not self.resolver.resolve(applies):
                continue
            for assertion in rule.get("Assertions", []):
                if not self.resolver.resolve(assertion["Assert"]):
                    violations.append(str(assertion.get("AssertDescription", name)))
        return violations

    def outputs(self) -> dict[str, Any]:
        """Output values resolved locally (API URLs come out with the local API's physical name)."""
        outputs = self.document.get("Outputs") or {}
        return {
            name: self.resolver.resolve(spec["Value"])
            for name, spec in outputs.items()
            if spec.get("Condition") is None or self.resolver.condition(spec["Condition"])
        }


def _on_demand(props: Mapping[str, Any]) -> bool:
    return props.get("BillingMode") == "PAY_PER_REQUEST"


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _get_att_target(value: Any, attribute: str) -> str:
    """The logical id in `!GetAtt X.<attribute>` (the only form a local stream source accepts)."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        if isinstance(target, list) and len(target) == 2 and target[1] == attribute:
            return str(target[0])
    raise TemplateError(f"expected !GetAtt <resource>.{attribute}, got {value!r}")


def _ref_target(value: Any) -> str:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return str(value)


def load_template(
    path: str | Path | None = None,
    *,
    parameters: Mapping[str, Any] | None = None,
    physical_names: Mapping[str, str] | None = None,
    stack_name: str = DEFAULT_STACK_NAME,
    region: str = DEFAULT_REGION,
) -> Template:
    """Read template.yaml (or `path`) with parameter overrides and local physical names."""
    source = Path(path) if path is not None else TEMPLATE_PATH
    document = _parse_cached(str(source.resolve()), source.stat().st_mtime_ns)
    return Template(
        document,
        parameters=parameters,
        physical_names=physical_names,
        stack_name=stack_name,
        region=region,
    )
