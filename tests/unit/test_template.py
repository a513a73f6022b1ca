"""template.yaml, samconfig.toml and events/ as the contract they are: routes, indexes, least
privilege, auth modes, and the reader (local.template) that every local tool builds on."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model, EventBridgeModel

from cryptosdk.runtime.config import Settings
from local.template import (
    NO_VALUE,
    REPO_ROOT,
    Template,
    TemplateError,
    load_template,
    parse_template,
)
from tests.fixtures.sam_transform import TOOLS_PYTHON, sam_transform

EVENTS_DIR = REPO_ROOT / "events"

# The API of issue 3 (+ the refresh route of issue 4): route key -> function.
EXPECTED_ROUTES = {
    "GET /instruments": "InstrumentsFunction",
    "GET /rates": "InstrumentsFunction",
    "POST /addresses/validate": "CreateOrderFunction",
    "POST /orders": "CreateOrderFunction",
    "GET /orders/{orderId}": "OrdersFunction",
    "GET /orders": "OrdersFunction",
    "POST /orders/{orderId}/refresh": "OrdersFunction",
}

# Least privilege: SAM policy template -> the logical id it is scoped to, per function.
EXPECTED_POLICIES = {
    "InstrumentsFunction": {
        ("AWSSecretsManagerGetSecretValuePolicy", "ExchangeSecret"),
        ("dynamodb:GetItem,dynamodb:PutItem", "OrdersTable"),
    },
    "CreateOrderFunction": {
        ("DynamoDBReadPolicy", "OrdersTable"),
        ("DynamoDBWritePolicy", "OrdersTable"),
        ("dynamodb:PartiQLUpdate", "OrdersTable"),  # poll schedule moves (BatchExecuteStatement)
        ("DynamoDBCrudPolicy", "IdempotencyTable"),
        ("AWSSecretsManagerGetSecretValuePolicy", "ExchangeSecret"),
    },
    "OrdersFunction": {
        ("DynamoDBReadPolicy", "OrdersTable"),
        ("DynamoDBWritePolicy", "OrdersTable"),
        ("dynamodb:PartiQLUpdate", "OrdersTable"),  # poll schedule moves (BatchExecuteStatement)
        ("AWSSecretsManagerGetSecretValuePolicy", "ExchangeSecret"),
    },
    # Writers never publish: OrderStatusChanged comes from the table's stream (OrderEventsRole).
    "StatusPollerFunction": {
        ("DynamoDBReadPolicy", "OrdersTable"),
        ("DynamoDBWritePolicy", "OrdersTable"),
        ("dynamodb:PartiQLUpdate", "OrdersTable"),  # poll schedule moves (BatchExecuteStatement)
        ("AWSSecretsManagerGetSecretValuePolicy", "ExchangeSecret"),
    },
}


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template()


def _ref_target(value: Any) -> str:
    assert isinstance(value, dict), f"expected a !Ref, got {value!r}"
    assert set(value) == {"Ref"}, f"expected a !Ref, got {value!r}"
    return str(value["Ref"])


# -- the YAML loader ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("!Ref Stage", {"Ref": "Stage"}),
        ("!Condition IsProd", {"Condition": "IsProd"}),
        ("!Sub 'a-${Stage}'", {"Fn::Sub": "a-${Stage}"}),
        ("!GetAtt Table.Arn", {"Fn::GetAtt": ["Table", "Arn"]}),
        ("!GetAtt [Table, StreamArn]", {"Fn::GetAtt": ["Table", "StreamArn"]}),
        ("!If [C, 1, 2]", {"Fn::If": ["C", 1, 2]}),
        ("!Equals [a, b]", {"Fn::Equals": ["a", "b"]}),
        ("!Not [!Equals [a, b]]", {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]}),
        ("!And [!Condition A, !Condition B]", {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]}),
        ("!Or [!Condition A, !Condition B]", {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]}),
        ("!Select [0, !Split [',', 'a,b']]", {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}),
        ("!Join ['-', [a, b]]", {"Fn::Join": ["-", ["a", "b"]]}),
        ("!FindInMap [M, k1, k2]", {"Fn::FindInMap": ["M", "k1", "k2"]}),
        ("!ImportValue other-stack-export", {"Fn::ImportValue": "other-stack-export"}),
        ("!Base64 hello", {"Fn::Base64": "hello"}),
        ("!GetAZs ''", {"Fn::GetAZs": ""}),
        ("!Sub ['${A}', {A: !Ref B}]", {"Fn::Sub": ["${A}", {"A": {"Ref": "B"}}]}),
    ],
)
def test_short_tags_become_long_forms(snippet: str, expected: Any) -> None:
    document = parse_template(f"Resources: {{}}\nValue: {snippet}\n")
    assert document["Value"] == expected


def test_template_version_stays_a_string() -> None:
    document = parse_template("AWSTemplateFormatVersion: 2010-09-09\nResources: {}\n")
    assert document["AWSTemplateFormatVersion"] == "2010-09-09"


def test_a_document_without_resources_is_refused() -> None:
    with pytest.raises(TemplateError, match="Resources"):
        parse_template("just: text\n")


# -- the resolver ------------------------------------------------------------------------------

RESOLVER_DOC = """
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Origins: {Type: CommaDelimitedList, Default: "a.example,b.example"}
  NoDefault: {Type: String}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: !Not [!Condition IsProd]
  Both: !And [!Condition IsDev, !Equals [x, x]]
Resources:
  Bus: {Type: AWS::Events::EventBus, Properties: {Name: !Sub "bus-${Stage}"}}
  Table: {Type: AWS::DynamoDB::Table, Properties: {}}
  OnlyInProd: {Type: AWS::SQS::Queue, Condition: IsProd, Properties: {}}
"""


@pytest.fixture
def resolver_template() -> Template:
    return Template(parse_template(RESOLVER_DOC), stack_name="st")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"Ref": "Stage"}, "dev"),
        ({"Ref": "Origins"}, ["a.example", "b.example"]),
        ({"Ref": "AWS::Region"}, "us-east-1"),
        ({"Ref": "Bus"}, "bus-dev"),
        ({"Ref": "Table"}, "st-Table"),
        ({"Fn::Sub": "${AWS::StackName}-${Stage}-${!Literal}"}, "st-dev-${Literal}"),
        ({"Fn::Sub": ["${X}/${Table}", {"X": {"Ref": "Stage"}}]}, "dev/st-Table"),
        ({"Fn::GetAtt": ["Table", "Arn"]}, "arn:aws:dynamodb:us-east-1:123456789012:table/st-Table"),
        ({"Fn::Sub": "${Bus.Arn}"}, "arn:aws:events:us-east-1:123456789012:event-bus/bus-dev"),
        ({"Fn::Join": [";", {"Ref": "Origins"}]}, "a.example;b.example"),
        ({"Fn::Contains": [{"Ref": "Origins"}, "b.example"]}, True),
        ({"Fn::Contains": [{"Ref": "Origins"}, ""]}, False),
        ({"Fn::If": ["IsProd", "big", "small"]}, "small"),
        ({"Fn::If": ["Both", "yes", "no"]}, "yes"),
        ({"Fn::Not": [{"Fn::Equals": [1, "1"]}]}, False),
        ({"a": {"Ref": "AWS::NoValue"}, "b": [1, {"Ref": "AWS::NoValue"}]}, {"b": [1]}),
    ],
)
def test_resolver_evaluates_intrinsics(resolver_template: Template, expression: Any, expected: Any) -> None:
    assert resolver_template.resolver.resolve(expression) == expected


def test_parameter_overrides_change_resolution() -> None:
    prod = Template(parse_template(RESOLVER_DOC), parameters={"Stage": "prod"})
    assert prod.resolver.resolve({"Fn::If": ["IsProd", "big", "small"]}) == "big"
    assert "OnlyInProd" in prod.resources()
    assert prod.physical_name("Bus") == "bus-prod"


def test_resources_with_a_false_condition_are_left_out(resolver_template: Template) -> None:
    assert "OnlyInProd" not in resolver_template.resources()


def test_physical_name_overrides_win() -> None:
    template = Template(parse_template(RESOLVER_DOC), physical_names={"Table": "my-table"})
    assert template.resolver.resolve({"Fn::Sub": "${Table}"}) == "my-table"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ({"Ref": "NoDefault"}, "no default"),
        ({"Ref": "Nope"}, "unknown name"),
        ({"Fn::ImportValue": "x"}, "Fn::ImportValue has no local value"),
        # The VPC's subnets use these; nothing local reads a subnet, so none is evaluated.
        ({"Fn::Select": [0, {"Fn::GetAZs": ""}]}, "Fn::Select has no local value"),
        ({"Fn::Cidr": [{"Ref": "Stage"}, 4, 6]}, "Fn::Cidr has no local value"),
        ({"Fn::GetAtt": ["Table", "StreamArn"]}, "StreamArn"),
        ({"Fn::If": ["Missing", 1, 2]}, "unknown condition"),
    ],
)
def test_unresolvable_intrinsics_fail_loudly(
    resolver_template: Template, expression: Any, message: str
) -> None:
    with pytest.raises(TemplateError, match=message):
        resolver_template.resolver.resolve(expression)


def test_parameters_are_checked_against_the_template() -> None:
    document = parse_template(RESOLVER_DOC)
    with pytest.raises(TemplateError, match="not in"):
        Template(document, parameters={"Stage": "qa"})
    with pytest.raises(TemplateError, match="unknown parameters"):
        Template(document, parameters={"Stag": "dev"})


def test_no_value_is_a_sentinel_not_a_string() -> None:
    assert NO_VALUE != "AWS::NoValue"


# -- the stack: routes, schedule, functions ----------------------------------------------------


def test_routes_are_the_api_contract(template: Template) -> None:
    routes = {route.route_key: route.function for route in template.routes()}
    assert routes == EXPECTED_ROUTES


def test_every_route_uses_the_one_http_api(template: Template) -> None:
    (api_id,) = template.resources("AWS::Serverless::HttpApi")
    for logical_id, resource in template.resources("AWS::Serverless::Function").items():
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                assert _ref_target(event["Properties"]["ApiId"]) == api_id, logical_id


def test_poller_runs_on_the_poll_schedule_parameter(template: Template) -> None:
    (schedule,) = template.schedules()
    assert schedule.function == "StatusPollerFunction"
    assert schedule.enabled
    assert schedule.expression == template.parameters()["PollSchedule"].default
    assert schedule.rate_seconds == 60


def test_schedule_follows_a_parameter_override() -> None:
    (schedule,) = load_template(parameters={"PollSchedule": "rate(5 minutes)"}).schedules()
    assert schedule.rate_seconds == 300


def test_cron_schedules_have_no_rate() -> None:
    (schedule,) = load_template(parameters={"PollSchedule": "cron(0/2 * * * ? *)"}).schedules()
    assert schedule.rate_seconds is None


def test_functions_share_runtime_layer_and_architecture(template: Template) -> None:
    (layer,) = template.layers()
    functions = load_template(parameters={"ExchangeApiUrl": "https://exchange.example.com"}).functions()
    assert {f.logical_id for f in functions} == {
        *EXPECTED_ROUTES.values(),
        "StatusPollerFunction",
        "OrderEventsFunction",
    }
    for function in functions:
        assert function.runtime == f"python{_makefile_python_version()}"
        assert function.architectures == ["x86_64"]
        assert function.layers == [layer.logical_id]
        assert function.handler == "app.lambda_handler"
        assert function.code_dir.parent == REPO_ROOT / "functions"
        # The layer is the only copy of cryptosdk: no function vendors its own.
        assert not (function.code_dir / "cryptosdk").exists()
    # The layer's own Makefile builds it: wheels, cryptosdk and bytecode for the runtime's Python.
    assert layer.build_method == "makefile"
    assert (layer.content_dir / "Makefile").is_file()
    assert (layer.content_dir / "requirements.txt").is_file()
    assert (layer.content_dir / "cryptosdk" / "__init__.py").is_file()


RESERVED_DOC = """
Parameters:
  Reserved: {Type: Number, Default: 3}
Globals:
  Function: {Runtime: python3.11, Handler: app.handler, CodeUri: functions/x/}
Resources:
  Capped:
    Type: AWS::Serverless::Function
    Properties: {ReservedConcurrentExecutions: !Ref Reserved}
  Unreserved:
    Type: AWS::Serverless::Function
"""


def test_a_functions_reserved_concurrency_is_read_with_parameters() -> None:
    functions = {f.logical_id: f for f in Template(parse_template(RESERVED_DOC)).functions()}
    assert functions["Capped"].reserved_concurrency == 3
    assert functions["Unreserved"].reserved_concurrency is None
    lowered = Template(parse_template(RESERVED_DOC), parameters={"Reserved": "0"}).function("Capped")
    assert lowered.reserved_concurrency == 0


def _makefile_python_version() -> str:
    """LAMBDA_PYTHON_VERSION from layers/exchange/python.mk: what make builds the layer and the venv with."""
    text = (REPO_ROOT / "layers" / "exchange" / "python.mk").read_text()
    (version,) = re.findall(r"^LAMBDA_PYTHON_VERSION \?= (3\.\d+)$", text, flags=re.MULTILINE)
    return str(version)


def test_the_runtime_the_layer_and_the_makefile_name_one_python_version() -> None:
    raw = parse_template((REPO_ROOT / "template.yaml").read_text())
    runtime = f"python{_makefile_python_version()}"
    assert raw["Globals"]["Function"]["Runtime"] == runtime
    assert raw["Resources"]["ExchangeLayer"]["Properties"]["CompatibleRuntimes"] == [runtime]


def test_function_environment_satisfies_the_layer_settings(template: Template) -> None:
    required = {f.alias for f in Settings.model_fields.values() if f.is_required() and f.alias}
    resolved = load_template(parameters={"ExchangeApiUrl": "https://exchange.example.com"})
    for function in resolved.functions():
        assert required <= set(function.environment), function.logical_id
        Settings.model_validate(function.environment)
        assert function.environment["POWERTOOLS_METRICS_NAMESPACE"] == "CryptoSDK"


def test_environment_resolves_resources_to_local_names(template: Template) -> None:
    env = template.shared_environment(["ORDERS_TABLE", "IDEMPOTENCY_TABLE", "EVENT_BUS_NAME"])
    assert env == {
        "ORDERS_TABLE": template.physical_name("OrdersTable"),
        "IDEMPOTENCY_TABLE": template.physical_name("IdempotencyTable"),
        "EVENT_BUS_NAME": template.physical_name("EventBus"),
    }


def test_poller_has_its_own_concurrency_and_a_longer_timeout(template: Template) -> None:
    resolved = load_template(parameters={"ExchangeApiUrl": "https://x.example", "PollerConcurrency": "8"})
    poller = resolved.function("StatusPollerFunction")
    api_function = resolved.function("OrdersFunction")
    assert poller.environment["POLLER_CONCURRENCY"] == "8"
    assert "POLLER_CONCURRENCY" not in api_function.environment
    assert 60 <= poller.timeout <= 120
    assert api_function.timeout < 30  # the HTTP API gives up at 30 s


def test_exchange_url_has_no_default(template: Template) -> None:
    with pytest.raises(TemplateError, match="ExchangeApiUrl"):
        template.functions()


@pytest.mark.parametrize(("function", "expected"), sorted(EXPECTED_POLICIES.items()))
def test_each_function_gets_only_the_access_it_uses(
    template: Template, function: str, expected: set[tuple[str, str]]
) -> None:
    granted = set()
    for policy in template.resources()[function]["Properties"]["Policies"]:
        ((name, arguments),) = policy.items()
        if name == "Statement":
            for statement in arguments:
                (target,) = statement["Resource"]["Fn::GetAtt"][:1]
                granted.add((",".join(sorted(statement["Action"])), target))
            continue
        ((_, target),) = arguments.items()
        granted.add((name, _ref_target(target)))
    assert granted == expected


# -- the outbox: the orders stream -> OrderEventsFunction -> the bus ------------------------------


def _stream_record(event_name: str, order_id: str, new_status: str | None = "confirming") -> dict[str, Any]:
    new_image = {"id": {"S": order_id}} | ({"status": {"S": new_status}} if new_status else {})
    return {
        "eventName": event_name,
        "dynamodb": {"Keys": {"id": {"S": order_id}}, "NewImage": new_image, "OldImage": {}},
    }


def test_the_orders_table_streams_old_and_new_images(template: Template) -> None:
    assert template.table("OrdersTable").stream_view_type == "NEW_AND_OLD_IMAGES"
    assert template.table("IdempotencyTable").stream_view_type is None


def test_order_events_read_the_stream_with_partial_failures_bisect_retries_and_a_failure_queue(
    template: Template,
) -> None:
    (source,) = template.stream_sources()
    assert (source.function, source.table) == ("OrderEventsFunction", "OrdersTable")
    assert source.report_batch_item_failures
    assert source.bisect_batch_on_function_error
    assert source.maximum_retry_attempts == 5  # OrderEventsMaxRetries' default
    assert source.on_failure == "OrderEventsFailureQueue"
    assert source.starting_position == "TRIM_HORIZON"
    assert (
        load_template(parameters={"OrderEventsMaxRetries": "2"}).stream_sources()[0].maximum_retry_attempts
        == 2
    )


@pytest.mark.parametrize(
    ("record", "passes"),
    [
        (_stream_record("MODIFY", "ord_0123abcd"), True),
        (_stream_record("INSERT", "ord_0123abcd"), False),  # a new intent: no status before it
        (_stream_record("REMOVE", "ord_0123abcd"), False),
        (_stream_record("MODIFY", "cache#instruments"), False),
        (_stream_record("MODIFY", "sched#2026-12-02"), False),
        (_stream_record("MODIFY", "ord_0123abcd", new_status=None), False),
    ],
)
def test_the_stream_filter_lets_only_order_updates_through(
    template: Template, record: dict[str, Any], passes: bool
) -> None:
    from local.streams import passes_filters

    (source,) = template.stream_sources()
    assert passes_filters(source.filters, record) is passes


def test_the_order_events_role_reaches_only_its_stream_bus_queue_and_log_group(template: Template) -> None:
    function = template.resources()["OrderEventsFunction"]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": ["OrderEventsRole", "Arn"]}
    assert "Policies" not in function  # SAM would add a managed role reading every stream
    (policy,) = template.resources()["OrderEventsRole"]["Properties"]["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert all(s["Effect"] == "Allow" for s in statements.values())
    targets = {sid: s["Resource"] for sid, s in statements.items()}
    assert targets == {
        "ReadOrdersStream": {"Fn::GetAtt": ["OrdersTable", "StreamArn"]},
        "ListOrdersStreams": {"Fn::Sub": "${OrdersTable.Arn}/stream/*"},
        "PublishOrderEvents": {"Fn::GetAtt": ["EventBus", "Arn"]},
        "ParkFailedBatches": {"Fn::GetAtt": ["OrderEventsFailureQueue", "Arn"]},
        "OwnLogGroup": {"Fn::GetAtt": ["OrderEventsLogGroup", "Arn"]},
        "Tracing": "*",  # X-Ray's write actions support no resource
    }
    assert statements["PublishOrderEvents"]["Action"] == "events:PutEvents"
    assert statements["ParkFailedBatches"]["Action"] == "sqs:SendMessage"
    assert set(statements["ReadOrdersStream"]["Action"]) == {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
    }
    assert not any("*" in str(s["Action"]) for s in statements.values())


def test_only_the_stream_function_puts_events(template: Template) -> None:
    for logical_id, resource in template.resources("AWS::Serverless::Function").items():
        policies = json.dumps(resource["Properties"].get("Policies", []))
        assert "EventBridgePutEventsPolicy" not in policies, logical_id
        assert "events:" not in policies, logical_id


def test_instruments_function_reaches_only_the_cache_item(template: Template) -> None:
    from cryptosdk.orders.instruments import SHARED_CACHE_KEY

    policies = template.resources()["InstrumentsFunction"]["Properties"]["Policies"]
    (statement,) = next(p["Statement"] for p in policies if "Statement" in p)
    condition = statement["Condition"]["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"]
    assert condition == [SHARED_CACHE_KEY]


# -- the stack: storage, secret, bus, outputs ---------------------------------------------------


def test_orders_table_keys_and_indexes(template: Template) -> None:
    orders = template.table("OrdersTable")
    attribute_types = {a["AttributeName"]: a["AttributeType"] for a in orders.attribute_definitions}
    assert orders.hash_key == "id"
    assert orders.billing_mode == "PAY_PER_REQUEST"
    assert orders.ttl_attribute == "ttl"
    by_user = orders.index("ByUserKeys")
    assert by_user["KeySchema"] == [
        {"AttributeName": "userId", "KeyType": "HASH"},
        {"AttributeName": "createdAt", "KeyType": "RANGE"},
    ]
    # Keys only: an order's entry is written at the create and never again.
    assert by_user["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    due = orders.index("DueForPoll")
    assert due["KeySchema"] == [
        {"AttributeName": "pollShard", "KeyType": "HASH"},
        {"AttributeName": "nextPollAt", "KeyType": "RANGE"},
    ]
    # Unchanged, so orders the old code wrote stay in it and a stack upgrades without touching it.
    assert due["Projection"] == {"ProjectionType": "ALL"}
    assert attribute_types == dict.fromkeys(("id", "userId", "createdAt", "pollShard", "nextPollAt"), "S")
    assert {i["IndexName"] for i in orders.create_kwargs["GlobalSecondaryIndexes"]} == {
        "ByUserKeys",
        "DueForPoll",
    }


def test_an_upgrading_stack_keeps_the_old_user_index_for_one_deploy() -> None:
    # CloudFormation creates or deletes one GSI per table update: the upgrade's first deploy adds
    # ByUserKeys beside ByUser (KeepLegacyByUserIndex=true), the second drops ByUser.
    upgrading = load_template(parameters={"KeepLegacyByUserIndex": "true"}).table("OrdersTable")
    names = [i["IndexName"] for i in upgrading.create_kwargs["GlobalSecondaryIndexes"]]
    assert sorted(names) == ["ByUser", "ByUserKeys", "DueForPoll"]
    assert upgrading.index("ByUser")["Projection"] == {"ProjectionType": "ALL"}


def test_idempotency_table_matches_powertools_defaults(template: Template) -> None:
    idempotency = template.table("IdempotencyTable")
    assert idempotency.hash_key == "id"
    assert idempotency.ttl_attribute == "expiration"
    assert idempotency.billing_mode == "PAY_PER_REQUEST"
    assert "GlobalSecondaryIndexes" not in idempotency.create_kwargs


def test_tables_are_encrypted_and_orders_are_recoverable(template: Template) -> None:
    tables = template.resources("AWS::DynamoDB::Table")
    for resource in tables.values():
        assert resource["Properties"]["SSESpecification"] == {"SSEEnabled": True}
    pitr = tables["OrdersTable"]["Properties"]["PointInTimeRecoverySpecification"]
    assert pitr == {"PointInTimeRecoveryEnabled": True}


@pytest.mark.parametrize(
    ("flag", "protected", "policy"), [("true", True, "Retain"), ("false", False, "Delete")]
)
def test_deletion_protection_follows_the_parameter(flag: str, protected: bool, policy: str) -> None:
    template = load_template(parameters={"DeletionProtection": flag})
    orders = template.resources()["OrdersTable"]
    assert template.resolver.resolve(orders["Properties"]["DeletionProtectionEnabled"]) is protected
    assert template.resolver.resolve(orders["DeletionPolicy"]) == policy


@pytest.mark.parametrize("stage", ["dev", "stage", "prod"])
def test_secret_and_bus_are_named_per_stage(stage: str) -> None:
    template = load_template(parameters={"Stage": stage})
    (secret,) = template.secrets()
    assert secret.name == f"cryptosdk/{stage}/exchange-keys"
    assert template.event_bus_names() == [f"cryptosdk-{stage}"]


def test_secret_value_never_lives_in_the_template(template: Template) -> None:
    (secret,) = template.resources("AWS::SecretsManager::Secret").values()
    assert not {"SecretString", "GenerateSecretString"} & set(secret["Properties"])
    assert "put-secret-value" in template.secrets()[0].description


def test_outputs(template: Template) -> None:
    outputs = template.outputs()
    assert set(outputs) == {
        "ApiUrl",
        "OrdersTableName",
        "IdempotencyTableName",
        "EventBusName",
        "ExchangeSecretArn",
        "AlarmTopicArn",
        "DashboardName",
        "ApiAccessLogGroupName",
        "EventArchiveName",
        "OrderEventsFailureQueueUrl",
    }
    assert outputs["ApiUrl"].startswith("https://")
    assert outputs["OrdersTableName"] == template.table("OrdersTable").name


# -- auth, CORS, throttling ---------------------------------------------------------------------


def _http_api(template: Template) -> dict[str, Any]:
    (resource,) = template.resources("AWS::Serverless::HttpApi").values()
    resolved = template.resolver.resolve(resource["Properties"])
    assert isinstance(resolved, dict)
    return resolved


def test_iam_is_the_default_auth(template: Template) -> None:
    assert template.parameters()["AuthMode"].default == "IAM"
    assert _http_api(template)["Auth"] == {"EnableIamAuthorizer": True, "DefaultAuthorizer": "AWS_IAM"}


def test_jwt_auth_uses_issuer_and_audience() -> None:
    template = load_template(
        parameters={"AuthMode": "JWT", "JwtIssuer": "https://id.example.com", "JwtAudience": "web,mobile"}
    )
    auth = _http_api(template)["Auth"]
    authorizer = auth["Authorizers"][auth["DefaultAuthorizer"]]
    assert authorizer["JwtConfiguration"] == {
        "issuer": "https://id.example.com",
        "audience": ["web", "mobile"],
    }
    assert authorizer["IdentitySource"] == "$request.header.Authorization"
    assert template.rule_violations() == []


def test_jwt_without_issuer_is_refused() -> None:
    assert load_template(parameters={"AuthMode": "JWT"}).rule_violations()


@pytest.mark.parametrize(("stage", "refused"), [("dev", False), ("stage", True), ("prod", True)])
def test_open_api_only_in_dev(stage: str, refused: bool) -> None:
    template = load_template(
        parameters={"AuthMode": "NONE", "Stage": stage, "ExchangeApiUrl": "https://exchange.partner.test"}
    )
    assert "Auth" not in _http_api(template)
    assert bool(template.rule_violations()) is refused


def test_cors_only_when_origins_are_given(template: Template) -> None:
    assert "CorsConfiguration" not in _http_api(template)
    cors = _http_api(load_template(parameters={"CorsAllowOrigins": "https://app.example.com"}))[
        "CorsConfiguration"
    ]
    assert cors["AllowOrigins"] == ["https://app.example.com"]
    assert "idempotency-key" in cors["AllowHeaders"]


def test_stage_throttling_comes_from_parameters() -> None:
    api = _http_api(load_template(parameters={"ThrottleRateLimit": "7", "ThrottleBurstLimit": "9"}))
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] == "7"
    assert api["DefaultRouteSettings"]["ThrottlingBurstLimit"] == "9"


def _route_facts(output: dict[str, Any]) -> dict[str, Any]:
    """Each route's security, the schemes, CORS, SnapStart and aliases of one transformed template."""
    (api,) = [r for r in output["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    body = api["Properties"]["Body"]
    return {
        "security": {
            f"{method.upper()} {path}": operation.get("security")
            for path, operations in body["paths"].items()
            for method, operation in operations.items()
        },
        "schemes": body.get("components", {}).get("securitySchemes", {}),
        "cors": body.get("x-amazon-apigateway-cors"),
        "snapstart": {
            name: r["Properties"].get("SnapStart")
            for name, r in output["Resources"].items()
            if r["Type"] == "AWS::Lambda::Function"
        },
        "aliases": sorted(
            r["Properties"]["Name"] for r in output["Resources"].values() if r["Type"] == "AWS::Lambda::Alias"
        ),
    }


@pytest.mark.skipif(not TOOLS_PYTHON.exists(), reason="needs .venv-tools (make install) for aws-sam-cli")
def test_sam_transform_applies_the_auth_mode_to_every_route() -> None:
    url = {"ExchangeApiUrl": "https://exchange.example.com"}
    cases = {
        "IAM": {**url, "AuthMode": "IAM"},
        "JWT": {
            **url,
            "AuthMode": "JWT",
            "JwtIssuer": "https://id.example.com",
            "JwtAudience": "web",
            "CorsAllowOrigins": "https://app.example.com",
        },
        "NONE": {**url, "AuthMode": "NONE"},
        "SNAPSTART": {**url, "AuthMode": "IAM", "SnapStart": "true"},
    }
    result = {mode: _route_facts(output) for mode, output in sam_transform(cases).items()}
    for mode in cases:
        assert set(result[mode]["security"]) == set(EXPECTED_ROUTES), mode
    assert set(map(json.dumps, result["IAM"]["security"].values())) == {json.dumps([{"AWS_IAM": []}])}
    assert result["IAM"]["schemes"]["AWS_IAM"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert set(map(json.dumps, result["JWT"]["security"].values())) == {json.dumps([{"JwtAuthorizer": []}])}
    jwt = result["JWT"]["schemes"]["JwtAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert jwt["jwtConfiguration"] == {"issuer": "https://id.example.com", "audience": ["web"]}
    assert result["JWT"]["cors"]["allowOrigins"] == ["https://app.example.com"]
    assert all(security is None for security in result["NONE"]["security"].values())
    assert result["NONE"]["schemes"] == {}
    assert result["IAM"]["cors"] is None
    # SnapStart=true: every function snapshots its published versions, each behind the alias `live`.
    assert set(map(json.dumps, result["SNAPSTART"]["snapstart"].values())) == {
        json.dumps({"ApplyOn": "PublishedVersions"})
    }
    assert result["SNAPSTART"]["aliases"] == ["live"] * 5
    assert set(result["IAM"]["snapstart"].values()) == {None}
    assert result["IAM"]["aliases"] == []


# -- samconfig.toml ----------------------------------------------------------------------------


def _overrides(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split())


@pytest.mark.parametrize("env", ["dev", "stage", "prod"])
def test_samconfig_environment_deploys_its_own_stage(template: Template, env: str) -> None:
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
    assert config["version"] == 0.1
    deploy = config[env]["deploy"]["parameters"]
    overrides = _overrides(deploy["parameter_overrides"])
    assert overrides["Stage"] == env
    assert set(overrides) <= set(template.parameters())
    assert "ExchangeApiUrl" in overrides
    assert "AuthMode" in overrides
    violations = load_template(parameters=overrides).rule_violations()
    if env == "dev":
        assert violations == []
    else:
        # Until someone sets the exchange's real URL, deploying stage or prod is refused.
        assert len(violations) == 1
        assert "placeholder" in violations[0]
    assert "CAPABILITY_IAM" in deploy["capabilities"]
    assert deploy["resolve_s3"] is True
    assert isinstance(deploy["confirm_changeset"], bool)
    assert config[env]["global"]["parameters"]["region"]


def test_samconfig_stacks_are_separate() -> None:
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
    stacks = [config[env]["deploy"]["parameters"]["stack_name"] for env in ("dev", "stage", "prod")]
    assert len(set(stacks)) == 3
    assert config["default"]["deploy"]["parameters"]["stack_name"]


# -- events/ -----------------------------------------------------------------------------------


def _event(name: str) -> dict[str, Any]:
    loaded = json.loads((EVENTS_DIR / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def _api_event_files() -> list[Path]:
    return sorted(p for p in EVENTS_DIR.glob("*.json") if _event(p.name).get("version") == "2.0")


def test_every_route_has_an_event_and_every_event_a_route(template: Template) -> None:
    route_keys = {route.route_key for route in template.routes()}
    event_keys = [_event(p.name)["routeKey"] for p in _api_event_files()]
    assert sorted(event_keys) == sorted(route_keys)


@pytest.mark.parametrize("path", _api_event_files(), ids=lambda p: p.name)
def test_api_events_are_payload_v2(path: Path) -> None:
    event = APIGatewayProxyEventV2Model.model_validate(_event(path.name))
    method, route_path = event.routeKey.split(" ", 1)
    assert event.requestContext.http.method == method
    assert event.rawPath == event.requestContext.http.path
    for name, value in (event.pathParameters or {}).items():
        route_path = route_path.replace("{" + name + "}", value)
    assert route_path == event.rawPath
    if event.body is not None:
        json.loads(event.body)
        assert event.headers["content-type"] == "application/json"


def test_create_order_event_is_a_valid_request() -> None:
    from cryptosdk.addresses import check_address

    event = _event("orders-create.json")
    body = json.loads(event["body"])
    assert event["headers"]["idempotency-key"]
    assert body["from"] == {"currency": "BTC", "network": "BTC"}
    assert body["to"] == {"currency": "ETH", "network": "ERC20"}
    assert body["userId"]
    assert check_address("ERC20", body["destination"]["address"]).valid
    assert check_address("BTC", body["refund"]["address"]).valid


def test_poller_event_is_a_scheduled_event() -> None:
    event = EventBridgeModel.model_validate(_event("poller-scheduled.json"))
    assert event.detail_type == "Scheduled Event"
    assert event.source == "aws.events"


@pytest.mark.parametrize(("value", "expected"), [("true", {"ApplyOn": "PublishedVersions"}), ("false", None)])
def test_snapstart_is_a_parameter_that_publishes_an_alias(value: str, expected: Any) -> None:
    template = load_template(
        parameters={"ExchangeApiUrl": "https://exchange.example.com", "SnapStart": value}
    )
    for resource in template.resources("AWS::Serverless::Function").values():
        properties = resource["Properties"]
        snap = template.resolver.resolve(properties["SnapStart"])
        alias = template.resolver.resolve(properties["AutoPublishAlias"])
        if expected is None:
            assert snap is NO_VALUE
            assert alias is NO_VALUE
        else:
            assert snap == expected
            # SnapStart applies to published versions only: without an alias it would snapshot nothing.
            assert alias == "live"
    # Only Python 3.12+ runtimes support SnapStart.
    minor = int(_makefile_python_version().split(".")[1])
    assert minor >= 12


def test_every_handler_registers_its_snapstart_hooks() -> None:
    for function in load_template(parameters={"ExchangeApiUrl": "https://exchange.example.com"}).functions():
        source = (function.code_dir / "app.py").read_text()
        assert "snapstart.register(" in source, function.logical_id
