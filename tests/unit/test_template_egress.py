"""EgressMode: Default leaves the stack as it was; StaticIp puts the exchange callers in private
subnets whose only way out is a NAT gateway with an Elastic IP, and outputs those IPs."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from local.template import REPO_ROOT, Template, TemplateError, load_template
from local.variant import with_defaults
from tests.fixtures.sam_transform import TOOLS_PYTHON, sam_transform

URL = {"ExchangeApiUrl": "https://exchange.partner.test"}
STATIC_CONDITIONS = {"IsStaticIp", "HasSecondNat"}
EGRESS_OUTPUTS = {"EgressIps", "EgressIpA", "EgressIpB"}


def stack(mode: str = "Default", nats: str = "1") -> Template:
    return load_template(parameters={**URL, "EgressMode": mode, "NatGatewayCount": nats})


def _vpc_config(template: Template, function: str) -> dict[str, Any] | None:
    """The function's VpcConfig in this mode (the Fn::If taken by hand: the true branch holds
    GetAtts that only CloudFormation can resolve)."""
    raw = template.document["Resources"][function]["Properties"].get("VpcConfig")
    if raw is None:
        return None
    condition, when_true, when_false = raw["Fn::If"]
    chosen = when_true if template.resolver.condition(condition) else when_false
    return None if chosen == {"Ref": "AWS::NoValue"} else dict(chosen)


def _ref(value: Any) -> str:
    assert isinstance(value, dict), value
    assert set(value) == {"Ref"}, value
    return str(value["Ref"])


def _reads_the_secret(resources: dict[str, Any], properties: dict[str, Any]) -> bool:
    """SAM policy templates, inline statements, or the statements of a role of its own
    (`Role: !GetAtt X.Arn`, as the outbox's publisher has) that reach secretsmanager."""
    text = json.dumps(properties.get("Policies", []))
    role = properties.get("Role")
    if isinstance(role, dict) and "Fn::GetAtt" in role:
        text += json.dumps(resources[role["Fn::GetAtt"][0]]["Properties"])
    return "AWSSecretsManagerGetSecretValuePolicy" in text or "secretsmanager:" in text.lower()


def _exchange_callers(template: Template) -> set[str]:
    """Functions that may read the exchange key pair: every one of them signs exchange calls."""
    resources = template.document["Resources"]
    return {
        logical_id
        for logical_id, resource in template.resources("AWS::Serverless::Function").items()
        if _reads_the_secret(resources, resource["Properties"])
    }


def test_the_secret_reader_check_sees_a_role_of_its_own() -> None:
    # Guards the rule below: a grant on the publisher's own role must count as reading the secret.
    resources = copy.deepcopy(stack("StaticIp").document["Resources"])
    publisher = resources["OrderEventsFunction"]["Properties"]
    assert not _reads_the_secret(resources, publisher)
    (policy,) = resources["OrderEventsRole"]["Properties"]["Policies"]
    policy["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": {"Ref": "ExchangeSecret"}}
    )
    assert _reads_the_secret(resources, publisher)


# -- Default ------------------------------------------------------------------------------------


def test_default_is_the_default_mode() -> None:
    parameters = load_template(parameters=URL).parameters()
    assert parameters["EgressMode"].default == "Default"
    assert parameters["NatGatewayCount"].default == "1"


def test_default_creates_nothing_of_the_egress_setup() -> None:
    template = stack()
    document_resources = template.document["Resources"]
    static_only = {k for k, r in document_resources.items() if r.get("Condition") in STATIC_CONDITIONS}
    assert static_only, "the egress resources should be conditional"
    assert not static_only & set(template.resources())
    assert not [r for r in template.resources().values() if r["Type"].startswith("AWS::EC2::")]


def test_default_puts_no_function_in_a_vpc_and_outputs_no_ip() -> None:
    template = stack()
    for function in template.resources("AWS::Serverless::Function"):
        assert _vpc_config(template, function) is None, function
    assert not EGRESS_OUTPUTS & set(template.outputs())


# -- StaticIp -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("nats", "expected"), [("1", 1), ("2", 2)])
def test_static_ip_makes_one_nat_and_one_elastic_ip_per_gateway(nats: str, expected: int) -> None:
    template = stack("StaticIp", nats)
    assert len(template.resources("AWS::EC2::NatGateway")) == expected
    assert len(template.resources("AWS::EC2::EIP")) == expected
    assert len(template.resources("AWS::EC2::VPC")) == 1
    assert len(template.resources("AWS::EC2::InternetGateway")) == 1
    # Functions always get two AZs; public subnets only where a NAT gateway lives.
    subnets = template.resources("AWS::EC2::Subnet")
    assert {"PrivateSubnetA", "PrivateSubnetB"} <= set(subnets)
    assert len([s for s in subnets if s.startswith("Public")]) == expected


def test_only_the_functions_that_call_the_exchange_go_into_the_vpc() -> None:
    template = stack("StaticIp")
    in_vpc = {f for f in template.resources("AWS::Serverless::Function") if _vpc_config(template, f)}
    assert in_vpc == _exchange_callers(template)
    assert in_vpc  # the four API and poller functions today
    # The outbox's publisher talks to the stream, EventBridge and SQS only: outside the VPC.
    assert "OrderEventsFunction" in template.resources("AWS::Serverless::Function")
    assert "OrderEventsFunction" not in in_vpc


def _route_table_of(template: Template, subnet: str) -> str:
    (table,) = [
        _ref(r["Properties"]["RouteTableId"])
        for r in template.resources("AWS::EC2::SubnetRouteTableAssociation").values()
        if _ref(r["Properties"]["SubnetId"]) == subnet
    ]
    return table


def _default_route(template: Template, table: str) -> dict[str, Any]:
    (route,) = [
        r["Properties"]
        for r in template.resources("AWS::EC2::Route").values()
        if _ref(r["Properties"]["RouteTableId"]) == table
        and r["Properties"]["DestinationCidrBlock"] == "0.0.0.0/0"
    ]
    return route


@pytest.mark.parametrize("nats", ["1", "2"])
def test_every_function_in_the_vpc_has_a_route_out_through_a_nat_with_an_elastic_ip(nats: str) -> None:
    template = stack("StaticIp", nats)
    resources = template.resources()
    nats_used = set()
    for function in template.resources("AWS::Serverless::Function"):
        config = _vpc_config(template, function)
        if config is None:
            continue
        assert len(config["SubnetIds"]) == 2, function
        for subnet in map(_ref, config["SubnetIds"]):
            assert subnet in resources, f"{function}: subnet {subnet} does not exist"
            route = _default_route(template, _route_table_of(template, subnet))
            nat = template.resolver.resolve(route["NatGatewayId"])
            nat_id = next(
                k for k in template.resources("AWS::EC2::NatGateway") if template.physical_name(k) == nat
            )
            nats_used.add(nat_id)
            nat_props = resources[nat_id]["Properties"]
            assert nat_props["AllocationId"]["Fn::GetAtt"][0] in template.resources("AWS::EC2::EIP")
            public = _route_table_of(template, _ref(nat_props["SubnetId"]))
            assert _ref(_default_route(template, public)["GatewayId"]) == "InternetGateway"
    assert len(nats_used) == int(nats)


def test_dynamodb_is_reached_through_the_gateway_endpoint_from_every_private_subnet() -> None:
    template = stack("StaticIp")
    (endpoint,) = template.resources("AWS::EC2::VPCEndpoint").values()
    props = endpoint["Properties"]
    assert props["VpcEndpointType"] == "Gateway"
    assert template.resolver.resolve(props["ServiceName"]) == "com.amazonaws.us-east-1.dynamodb"
    tables = {_ref(t) for t in props["RouteTableIds"]}
    assert tables == {_route_table_of(template, s) for s in ("PrivateSubnetA", "PrivateSubnetB")}


def test_the_functions_security_group_allows_https_out_and_nothing_in() -> None:
    template = stack("StaticIp")
    group = template.resources()["ExchangeEgressSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in group["SecurityGroupEgress"]] == [
        ("tcp", 443, 443)
    ]


def test_elastic_ips_survive_the_stack_so_a_released_address_is_never_still_trusted() -> None:
    for eip in stack("StaticIp", "2").resources("AWS::EC2::EIP").values():
        assert eip["DeletionPolicy"] == "Retain"
        assert eip["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize(("nats", "outputs"), [("1", {"EgressIps", "EgressIpA"}), ("2", EGRESS_OUTPUTS)])
def test_static_ip_outputs_the_addresses_to_whitelist(nats: str, outputs: set[str]) -> None:
    template = stack("StaticIp", nats)
    values = template.outputs()
    assert EGRESS_OUTPUTS & set(values) == outputs
    listed = values["EgressIps"].split(",")
    assert listed == [values[name] for name in sorted(outputs - {"EgressIps"})]


# -- the StaticIp variant the scanners read -----------------------------------------------------


def test_the_variant_changes_only_the_named_defaults() -> None:
    original = (REPO_ROOT / "template.yaml").read_text()
    variant = with_defaults(original, {"EgressMode": "StaticIp", "NatGatewayCount": "2"})
    changed = [(a, b) for a, b in zip(original.splitlines(), variant.splitlines(), strict=True) if a != b]
    assert changed == [
        ("    Default: Default", "    Default: StaticIp"),
        ("    Default: 1", "    Default: 2"),
    ]


def test_the_variant_refuses_what_the_template_would_refuse() -> None:
    text = (REPO_ROOT / "template.yaml").read_text()
    with pytest.raises(TemplateError, match="not in"):
        with_defaults(text, {"EgressMode": "Static"})
    with pytest.raises(TemplateError, match="no Default"):
        with_defaults(text, {"ExchangeApiUrl": "https://x.test"})


# -- what CloudFormation runs: LanguageExtensions + the SAM transform ---------------------------


def _vpc_facts(output: dict[str, Any]) -> dict[str, dict[str, bool]]:
    """Per function of one transformed template: in a VPC, and with the VPC access policy."""
    functions = {k: r for k, r in output["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    return {
        name: {
            "vpc": "VpcConfig" in r["Properties"],
            # A function with a role of its own (Role: !GetAtt) has no SAM-made <name>Role.
            "vpc_policy": any(
                "AWSLambdaVPCAccessExecutionRole" in str(arn)
                for arn in output["Resources"]
                .get(name + "Role", {})
                .get("Properties", {})
                .get("ManagedPolicyArns", [])
            ),
        }
        for name, r in functions.items()
    }


@pytest.mark.skipif(not TOOLS_PYTHON.exists(), reason="needs .venv-tools (make install) for aws-sam-cli")
def test_the_sam_transform_puts_exactly_the_exchange_callers_in_the_vpc_with_its_policy() -> None:
    cases = {"Default": {**URL}, "StaticIp": {**URL, "EgressMode": "StaticIp", "NatGatewayCount": "2"}}
    result = {mode: _vpc_facts(output) for mode, output in sam_transform(cases).items()}
    callers = _exchange_callers(load_template(parameters=URL))
    assert not any(f["vpc"] or f["vpc_policy"] for f in result["Default"].values())
    assert {name for name, f in result["StaticIp"].items() if f["vpc"]} == callers
    assert all(f["vpc_policy"] for name, f in result["StaticIp"].items() if name in callers)
