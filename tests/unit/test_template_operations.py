"""template.yaml as an operator reads it: logs with retention, access logs without header values,
alarms that notify someone and have a runbook, reserved concurrency, the event archive, tracing,
checkov skips with reasons, and the deploy guard on the placeholder exchange URL."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from cryptosdk.orders.events import SOURCE
from cryptosdk.runtime.observability import EXCHANGE_CALLS_METRIC, EXCHANGE_RATE_LIMITED_METRIC
from local.template import NO_VALUE, REPO_ROOT, Template, load_template

URL = {"ExchangeApiUrl": "https://exchange.partner.test"}
PLACEHOLDER = "https://exchange.example.com"


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(parameters=URL)


def _properties(template: Template, logical_id: str) -> dict[str, Any]:
    resource = template.document["Resources"][logical_id]
    return dict(resource.get("Properties") or {})


def _ref(value: Any) -> str:
    assert isinstance(value, dict), f"expected a !Ref, got {value!r}"
    assert set(value) == {"Ref"}, f"expected a !Ref, got {value!r}"
    return str(value["Ref"])


# -- logs ----------------------------------------------------------------------------------------


def test_every_function_logs_to_its_own_group_with_the_retention_parameter(template: Template) -> None:
    groups = template.resources("AWS::Logs::LogGroup")
    used = []
    for logical_id in template.resources("AWS::Serverless::Function"):
        logging_config = _properties(template, logical_id).get("LoggingConfig")
        assert logging_config, f"{logical_id} has no LoggingConfig"
        group = _ref(logging_config["LogGroup"])
        assert group in groups, f"{logical_id} logs to {group}, which the template does not create"
        assert groups[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        used.append(group)
    assert len(used) == len(set(used)), "two functions share a log group"


def test_log_retention_defaults_to_30_days_and_follows_the_parameter(template: Template) -> None:
    assert template.parameters()["LogRetentionDays"].default == "30"
    longer = load_template(parameters={**URL, "LogRetentionDays": "365"})
    for group in longer.resources("AWS::Logs::LogGroup").values():
        assert longer.resolver.resolve(group["Properties"]["RetentionInDays"]) == "365"


def test_log_retention_accepts_only_values_cloudwatch_accepts(template: Template) -> None:
    allowed = template.parameters()["LogRetentionDays"].allowed_values
    assert "30" in allowed
    assert "31" not in allowed


def _access_log_settings(template: Template) -> dict[str, Any]:
    settings = _properties(template, "HttpApi")["AccessLogSettings"]
    assert isinstance(settings, dict)
    return settings


def test_api_access_logs_go_to_their_own_group(template: Template) -> None:
    settings = _access_log_settings(template)
    assert settings["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    function_groups = {
        _ref(_properties(template, f)["LoggingConfig"]["LogGroup"])
        for f in template.resources("AWS::Serverless::Function")
    }
    assert "ApiAccessLogGroup" not in function_groups


def test_access_log_format_is_json_with_what_an_operator_needs(template: Template) -> None:
    line = json.loads(_access_log_settings(template)["Format"])
    assert line["requestId"] == "$context.requestId"
    assert line["routeKey"] == "$context.routeKey"
    assert line["status"] == "$context.status"
    assert line["latencyMs"] == "$context.responseLatency"
    assert line["integrationError"] == "$context.integrationErrorMessage"


def test_access_log_format_carries_no_header_query_or_body_values(template: Template) -> None:
    line = json.loads(_access_log_settings(template)["Format"])
    for name, value in line.items():
        # Only $context variables: $request.header.*, $request.querystring.* and $input are refused.
        assert re.fullmatch(r"\$context\.[A-Za-z.]+", value), f"{name}: {value}"
        lowered = value.lower()
        for forbidden in ("header", "authorization", "querystring", "query", "body", "claims", "jwt"):
            assert forbidden not in lowered, f"{name}: {value}"


# -- alarms --------------------------------------------------------------------------------------

# The alarms issue 11 asks for, the outbox's publisher included.
EXPECTED_ALARMS = {
    "PollerErrorsAlarm",
    "PollerNearTimeoutAlarm",
    "PollerNotRunningAlarm",
    "OrdersFailedAlarm",
    "OldestDueLagAlarm",
    "OldestUnsettledCreateAlarm",
    "Api5xxRateAlarm",
    "LambdaThrottlesAlarm",
    "Exchange429RateAlarm",
    "OrderEventsErrorsAlarm",
    "OrderEventsIteratorAgeAlarm",
    "OrderEventsFailuresAlarm",
}


def _alarms(template: Template) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in template.resources("AWS::CloudWatch::Alarm").items()
    }


def test_the_alarms_of_the_issue_exist(template: Template) -> None:
    assert set(_alarms(template)) == EXPECTED_ALARMS


def test_every_alarm_notifies_the_alarm_topic_on_alarm_and_recovery(template: Template) -> None:
    assert template.resources("AWS::SNS::Topic").keys() == {"AlarmTopic"}
    for name, props in _alarms(template).items():
        assert props.get("AlarmActions") == [{"Ref": "AlarmTopic"}], name
        assert props.get("OKActions") == [{"Ref": "AlarmTopic"}], name


def _runbook_anchors() -> set[str]:
    readme = (REPO_ROOT / "README.md").read_text()
    # GitHub anchors of the runbook headings ("#### poller-errors" -> poller-errors).
    return {m.group(1) for m in re.finditer(r"^#### `?([a-z0-9-]+)`?", readme, flags=re.M)}


def test_every_alarm_names_a_runbook_entry_that_exists(template: Template) -> None:
    anchors = _runbook_anchors()
    for name, props in _alarms(template).items():
        match = re.search(r"README#([a-z0-9-]+)", props["AlarmDescription"])
        assert match, f"{name} names no runbook"
        assert match.group(1) in anchors, f"{name}: no README runbook heading {match.group(1)}"


def test_every_alarm_has_a_threshold_and_a_missing_data_rule(template: Template) -> None:
    for name, props in _alarms(template).items():
        assert "Threshold" in props, name
        assert props.get("TreatMissingData") in {"breaching", "notBreaching", "ignore"}, name


def test_the_poller_not_running_alarm_fires_on_silence(template: Template) -> None:
    props = _alarms(template)["PollerNotRunningAlarm"]
    assert props["TreatMissingData"] == "breaching"
    assert props["ComparisonOperator"] == "LessThanThreshold"


def _dimension_targets(props: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(metric name, dimension name, dimension value) of every metric the alarm reads."""
    stats = (
        [props]
        if "MetricName" in props
        else [m["MetricStat"]["Metric"] for m in props["Metrics"] if "MetricStat" in m]
    )
    return [(s["MetricName"], d["Name"], d["Value"]) for s in stats for d in s.get("Dimensions", [])]


def test_the_publisher_alarms_watch_the_stream_function_and_its_failure_destination(
    template: Template,
) -> None:
    alarms = _alarms(template)
    function = {"Ref": "OrderEventsFunction"}
    assert _dimension_targets(alarms["OrderEventsErrorsAlarm"]) == [("Errors", "FunctionName", function)]
    assert _dimension_targets(alarms["OrderEventsIteratorAgeAlarm"]) == [
        ("IteratorAge", "FunctionName", function)
    ]
    # The queue the stream mapping parks failed batches in, not some other queue.
    (source,) = template.stream_sources()
    assert _dimension_targets(alarms["OrderEventsFailuresAlarm"]) == [
        ("ApproximateNumberOfMessagesVisible", "QueueName", {"Fn::GetAtt": [source.on_failure, "QueueName"]})
    ]


def test_one_parked_batch_raises_the_failure_queue_alarm_and_only_an_empty_queue_clears_it(
    template: Template,
) -> None:
    props = _alarms(template)["OrderEventsFailuresAlarm"]
    assert (props["Statistic"], props["Threshold"], props["ComparisonOperator"]) == (
        "Maximum",
        0,
        "GreaterThanThreshold",
    )
    assert props["EvaluationPeriods"] == 1
    # SQS stops reporting an idle queue; a gap must not read as "recovered".
    assert props["TreatMissingData"] == "ignore"


def test_the_iterator_age_alarm_fires_long_before_the_stream_drops_records(template: Template) -> None:
    props = _alarms(template)["OrderEventsIteratorAgeAlarm"]
    retention_ms = 24 * 3600 * 1000  # DynamoDB Streams keep records 24 h
    assert props["Statistic"] == "Maximum"
    assert 0 < props["Threshold"] <= retention_ms / 24


def test_the_throttles_alarm_covers_every_function(template: Template) -> None:
    targets = _dimension_targets(_alarms(template)["LambdaThrottlesAlarm"])
    assert {name for name, _, _ in targets} == {"Throttles"}
    watched = [_ref(value) for _, _, value in targets]
    assert sorted(watched) == sorted(template.resources("AWS::Serverless::Function"))


def _metric_names(props: dict[str, Any]) -> set[str]:
    if "MetricName" in props:
        return {props["MetricName"]}
    return {m["MetricStat"]["Metric"]["MetricName"] for m in props["Metrics"] if "MetricStat" in m}


def test_the_429_alarm_reads_the_metrics_the_client_emits(template: Template) -> None:
    names = _metric_names(_alarms(template)["Exchange429RateAlarm"])
    assert names == {EXCHANGE_CALLS_METRIC, EXCHANGE_RATE_LIMITED_METRIC}


def test_custom_metric_alarms_use_the_namespace_and_service_the_code_emits(template: Template) -> None:
    variables = template.shared_environment(["POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME"])
    for name, props in _alarms(template).items():
        stats = (
            [props]
            if "MetricName" in props
            else [m["MetricStat"]["Metric"] for m in props["Metrics"] if "MetricStat" in m]
        )
        for stat in stats:
            if stat["Namespace"] != variables["POWERTOOLS_METRICS_NAMESPACE"]:
                continue
            assert stat["Dimensions"] == [
                {"Name": "service", "Value": variables["POWERTOOLS_SERVICE_NAME"]}
            ], name


def test_alarm_email_subscription_only_with_an_address() -> None:
    assert "AlarmEmailSubscription" not in load_template(parameters=URL).resources()
    with_mail = load_template(parameters={**URL, "AlarmEmail": "oncall@example.org"})
    subscription = with_mail.resources()["AlarmEmailSubscription"]["Properties"]
    assert with_mail.resolver.resolve(subscription["Endpoint"]) == "oncall@example.org"
    assert subscription["Protocol"] == "email"


def test_the_dashboard_body_is_json_and_shows_every_alarm(template: Template) -> None:
    body = _properties(template, "Dashboard")["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body)["widgets"]
    (alarm_widget,) = [w for w in widgets if w["type"] == "alarm"]
    shown = {re.fullmatch(r"\$\{(\w+)\.Arn\}", arn).group(1) for arn in alarm_widget["properties"]["alarms"]}  # type: ignore[union-attr]
    assert shown == set(_alarms(template))
    # Every ${Name} the body substitutes is a resource or pseudo parameter of the template.
    for name in re.findall(r"\$\{([\w:]+)(?:\.\w+)?\}", body):
        assert name.startswith("AWS::") or name in template.document["Resources"], name


# -- concurrency, archive, tracing -------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "parameter", "default"),
    [
        ("CreateOrderFunction", "CreateOrderReservedConcurrency", "10"),
        ("StatusPollerFunction", "PollerReservedConcurrency", "2"),
    ],
)
def test_reserved_concurrency_follows_its_parameter(function: str, parameter: str, default: str) -> None:
    reserved = _properties(load_template(parameters=URL), function)["ReservedConcurrentExecutions"]
    assert load_template(parameters=URL).resolver.resolve(reserved) == default
    assert load_template(parameters={**URL, parameter: "5"}).resolver.resolve(reserved) == "5"
    assert load_template(parameters={**URL, parameter: "-1"}).resolver.resolve(reserved) is NO_VALUE


@pytest.mark.parametrize("parameter", ["CreateOrderReservedConcurrency", "PollerReservedConcurrency"])
def test_a_zero_reservation_is_refused(parameter: str) -> None:
    # Lambda reads 0 as "never run"; -1 is how a deployer asks for no reservation.
    assert load_template(parameters={**URL, parameter: "0"}).rule_violations()
    assert load_template(parameters={**URL, parameter: "-1"}).rule_violations() == []


def test_poller_reservation_allows_one_overlapping_run(template: Template) -> None:
    # Timeout 90 s on a 1-minute schedule: a late run may overlap the next tick, never two.
    poller = template.function("StatusPollerFunction")
    assert 60 < poller.timeout <= 120
    assert template.parameters()["PollerReservedConcurrency"].default == "2"


def test_the_bus_archive_keeps_order_events_for_the_retention_parameter(template: Template) -> None:
    (archive,) = template.resources("AWS::Events::Archive").values()
    props = archive["Properties"]
    assert props["SourceArn"] == {"Fn::GetAtt": ["EventBus", "Arn"]}
    assert props["EventPattern"] == {"source": [SOURCE]}
    assert template.resolver.resolve(props["RetentionDays"]) == "90"
    shorter = load_template(parameters={**URL, "EventArchiveRetentionDays": "7"})
    assert shorter.resolver.resolve(props["RetentionDays"]) == "7"


@pytest.mark.parametrize(
    ("mode", "lambda_mode", "disabled"), [("Disabled", "PassThrough", "true"), ("Active", "Active", "false")]
)
def test_tracing_is_off_unless_asked_for(mode: str, lambda_mode: str, disabled: str) -> None:
    template = load_template(parameters={**URL, "Tracing": mode})
    globals_function = template.document["Globals"]["Function"]
    assert template.resolver.resolve(globals_function["Tracing"]) == lambda_mode
    for function in template.functions():
        assert function.environment["POWERTOOLS_TRACE_DISABLED"] == disabled
    assert load_template(parameters=URL).parameters()["Tracing"].default == "Disabled"


# -- checkov skips, the placeholder URL --------------------------------------------------------


def test_every_checkov_skip_has_a_reason(template: Template) -> None:
    skips = 0
    for logical_id, resource in template.document["Resources"].items():
        for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", []):
            assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), logical_id
            assert len(str(skip.get("comment", "")).strip()) > 20, f"{logical_id} {skip['id']} has no reason"
            skips += 1
    assert skips > 0


@pytest.mark.parametrize(("stage", "refused"), [("dev", False), ("stage", True), ("prod", True)])
@pytest.mark.parametrize("url", [PLACEHOLDER, PLACEHOLDER + "/"])
def test_stage_and_prod_refuse_the_placeholder_exchange_url(stage: str, refused: bool, url: str) -> None:
    violations = load_template(parameters={"Stage": stage, "ExchangeApiUrl": url}).rule_violations()
    assert bool(violations) is refused
    if refused:
        assert any("placeholder" in v for v in violations)


@pytest.mark.parametrize("stage", ["stage", "prod"])
def test_stage_and_prod_accept_a_real_exchange_url(stage: str) -> None:
    assert load_template(parameters={"Stage": stage, **URL}).rule_violations() == []


@pytest.mark.parametrize(
    ("mode", "layers"), [("Disabled", ["ExchangeLayer"]), ("Active", ["ExchangeLayer", "TracingLayer"])]
)
def test_the_xray_sdk_layer_is_attached_only_with_tracing(mode: str, layers: list[str]) -> None:
    template = load_template(parameters={**URL, "Tracing": mode})
    for function in template.functions():
        assert function.layers == layers, function.logical_id
    assert ("TracingLayer" in template.resources()) is (mode == "Active")


def test_no_layer_ships_a_botocore_of_its_own() -> None:
    # aws-xray-sdk requires botocore; installed with it, 30 MB of botocore would sit in front of
    # the runtime's and pair with the runtime's boto3.
    exchange = (REPO_ROOT / "layers" / "exchange" / "requirements.txt").read_text().lower()
    assert "xray" not in exchange
    tracing = load_template(parameters={**URL, "Tracing": "Active"}).resources()["TracingLayer"]
    assert tracing["Metadata"]["BuildMethod"] == "makefile"
    makefile = (REPO_ROOT / "layers" / "tracing" / "Makefile").read_text()
    assert "build-TracingLayer:" in makefile
    assert "--no-deps" in makefile
    pins = (REPO_ROOT / "layers" / "tracing" / "requirements.txt").read_text().split()
    assert "aws-xray-sdk==2.15.0" in pins
