"""EgressMode: Default leaves the stack as it was; StaticIp puts the exchange callers in private
subnets whose only way out is a NAT gateway with an Elastic IP, and outputs those IPs."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from local.template import REPO_ROOT, Template, TemplateError, load_template
from local.variant import with_defaults

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


def _exchange_callers(template: Template) -> set[str]:
    """Functions that hold the exchange key pair: every one of them signs exchange calls."""
    callers = set()
    for logical_id, resource in template.resources("AWS::Serverless::Function").items():
        for policy in resource["Properties"].get("Policies", []):
            if isinstance(policy, dict) and "AWSSecretsManagerGetSecretValuePolicy" in policy:
                callers.add(logical_id)
    return callers


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

_TRANSFORM = r"""
import json, sys
from samcli.lib.cfn_language_extensions.api import process_template
from samcli.lib.cfn_language_extensions.models import PseudoParameterValues
from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

class NoManagedPolicies:
    def load(self):
        return {}

template_text, cases = sys.argv[1], json.loads(sys.argv[2])
pseudo = PseudoParameterValues(region="us-east-1", account_id="123456789012")
answer = {}
for mode, params in cases.items():
    expanded = process_template(yaml_parse(template_text), parameter_values=params, pseudo_parameters=pseudo)
    expanded["Transform"] = "AWS::Serverless-2016-10-31"
    for resource in expanded["Resources"].values():
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = "s3://bucket/key.zip"
    output = transform(expanded, params, NoManagedPolicies())
    functions = {k: r for k, r in output["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    answer[mode] = {
        name: {
            "vpc": "VpcConfig" in r["Properties"],
            "vpc_policy": any(
                "AWSLambdaVPCAccessExecutionRole" in str(arn)
                for arn in output["Resources"][name + "Role"]["Properties"].get("ManagedPolicyArns", [])
            ),
        }
        for name, r in functions.items()
    }
print(json.dumps(answer))
"""

TOOLS_PYTHON = REPO_ROOT / ".venv-tools" / "bin" / "python"


@pytest.mark.skipif(not TOOLS_PYTHON.exists(), reason="needs .venv-tools (make install) for aws-sam-cli")
def test_the_sam_transform_puts_exactly_the_exchange_callers_in_the_vpc_with_its_policy() -> None:
    cases = {"Default": {**URL}, "StaticIp": {**URL, "EgressMode": "StaticIp", "NatGatewayCount": "2"}}
    completed = subprocess.run(
        [str(TOOLS_PYTHON), "-c", _TRANSFORM, (REPO_ROOT / "template.yaml").read_text(), json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = json.loads(completed.stdout)
    callers = _exchange_callers(load_template(parameters=URL))
    assert not any(f["vpc"] or f["vpc_policy"] for f in result["Default"].values())
    assert {name for name, f in result["StaticIp"].items() if f["vpc"]} == callers
    assert all(f["vpc_policy"] for name, f in result["StaticIp"].items() if name in callers)
