"""deploy/aws/cardwise.yaml: cfn-lint clean, and the security properties the seed asks for (P2, P3, L2).

Structural checks read the template as cfn-lint decodes it (short tags become `{"Ref": …}`, `{"Fn::If": …}`).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import decode

from tests.deploy.support import (
    DOCKERFILE,
    TEMPLATE,
    Dockerfile,
    cli_command,
    health_port_and_path,
    option,
    settings_env_names,
)

# Seoul, where a Korean issuer runs, and the primary region cfn-lint knows best.
REGIONS = ["ap-northeast-2", "us-east-1"]
MANAGED_RULE_GROUPS = {
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    tpl, matches = decode(str(TEMPLATE))
    assert not matches, [str(m) for m in matches]
    assert tpl is not None
    return tpl


def resources(tpl: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in tpl["Resources"].items() if r["Type"] == type_}


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def resolve(value: Any, tpl: dict[str, Any]) -> Any:
    """A parameter reference resolved to the parameter's default (for command lines)."""
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in tpl["Parameters"]:
        return str(tpl["Parameters"][value["Ref"]]["Default"])
    return value


def branches(value: Any) -> list[Any]:
    """Both sides of an Fn::If (AWS::NoValue dropped), else the value itself."""
    if isinstance(value, dict) and "Fn::If" in value:
        return [v for v in value["Fn::If"][1:] if v != ref("AWS::NoValue")]
    return [value]


def containers(tpl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for td in resources(tpl, "AWS::ECS::TaskDefinition").values():
        for c in td["Properties"]["ContainerDefinitions"]:
            out[c["Name"]] = c
    return out


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["Name"]: e["Value"] for item in container.get("Environment", []) for e in branches(item)}


def test_cfn_lint_reports_nothing() -> None:
    matches = lint_file(TEMPLATE, config=ManualArgs(regions=REGIONS, include_checks=["I"]))
    assert not matches, "\n".join(f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches)


def test_vpc_two_public_two_private_subnets_over_two_azs_with_nat(template: dict[str, Any]) -> None:
    subnets = resources(template, "AWS::EC2::Subnet")
    public = {n for n in subnets if n.startswith("Public")}
    private = {n for n in subnets if n.startswith("Private")}
    assert len(public) == len(private) == 2
    for group in (public, private):
        azs = {json.dumps(subnets[n]["Properties"]["AvailabilityZone"]) for n in group}
        assert len(azs) == 2, "one subnet per AZ"
    assert all(subnets[n]["Properties"]["MapPublicIpOnLaunch"] is False for n in subnets)
    routes = resources(template, "AWS::EC2::Route")
    for route in routes.values():
        table = route["Properties"]["RouteTableId"]["Ref"]
        if table.startswith("Private"):
            assert "NatGatewayId" in route["Properties"] and "GatewayId" not in route["Properties"]
        else:
            assert route["Properties"]["GatewayId"] == ref("InternetGateway")
    nats = resources(template, "AWS::EC2::NatGateway")
    assert {json.dumps(n["Properties"]["SubnetId"]) for n in nats.values()} <= {json.dumps(ref(p)) for p in public}
    assert template["Resources"]["NatGatewayB"]["Condition"] == "TwoNatGateways"


def ingress_rules(tpl: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(security group, rule) for every inbound rule, inline or standalone."""
    rules = []
    for name, sg in resources(tpl, "AWS::EC2::SecurityGroup").items():
        rules += [(name, r) for r in sg["Properties"].get("SecurityGroupIngress", [])]
    for r in resources(tpl, "AWS::EC2::SecurityGroupIngress").values():
        rules.append((r["Properties"]["GroupId"]["Ref"], r["Properties"]))
    return rules


def test_security_groups_open_only_what_is_needed(template: dict[str, Any]) -> None:
    seen = set()
    for group, rule in ingress_rules(template):
        source = rule.get("CidrIp") or rule.get("CidrIpv6") or rule["SourceSecurityGroupId"]["Ref"]
        assert rule["IpProtocol"] == "tcp" and rule["FromPort"] == rule["ToPort"], (group, rule)
        if source in ("0.0.0.0/0", "::/0"):
            assert group == "AlbSecurityGroup" and rule["FromPort"] in (80, 443), f"{group} open to the internet"
        seen.add((group, rule["FromPort"], source))
    assert seen == {
        ("AlbSecurityGroup", 443, "0.0.0.0/0"),
        ("AlbSecurityGroup", 80, "0.0.0.0/0"),
        ("ApiSecurityGroup", 8000, "AlbSecurityGroup"),
        ("DatabaseSecurityGroup", 5432, "ApiSecurityGroup"),
        ("DatabaseSecurityGroup", 5432, "BackgroundSecurityGroup"),
        ("FileSystemSecurityGroup", 2049, "ApiSecurityGroup"),
        ("FileSystemSecurityGroup", 2049, "BackgroundSecurityGroup"),
    }
    # Outbound to anywhere: HTTPS (through NAT) and SMTP only; the data stores send nothing.
    for name, sg in resources(template, "AWS::EC2::SecurityGroup").items():
        egress = sg["Properties"].get("SecurityGroupEgress")
        assert egress, f"{name} must not keep the default allow-all egress"
        for rule in egress:
            if rule.get("CidrIp") == "0.0.0.0/0":
                assert rule["FromPort"] in (443, ref("SmtpPort")), (name, rule)
        if name in ("DatabaseSecurityGroup", "FileSystemSecurityGroup"):
            assert egress == [{"IpProtocol": "-1", "CidrIp": "127.0.0.1/32", "Description": "no outbound traffic"}]


def test_services_run_in_private_subnets_behind_the_alb(template: dict[str, Any]) -> None:
    private = [ref("PrivateSubnetA"), ref("PrivateSubnetB")]
    services = resources(template, "AWS::ECS::Service")
    assert set(services) == {"ApiService", "WorkerService", "SchedulerService"}
    for svc in services.values():
        net = svc["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert net["Subnets"] == private and net["AssignPublicIp"] == "DISABLED"
        assert svc["Properties"]["LaunchType"] == "FARGATE"
    alb = template["Resources"]["LoadBalancer"]["Properties"]
    assert alb["Scheme"] == "internet-facing"
    assert alb["Subnets"] == [ref("PublicSubnetA"), ref("PublicSubnetB")]
    listeners = {
        r["Properties"]["Port"]: r["Properties"]
        for r in resources(template, "AWS::ElasticLoadBalancingV2::Listener").values()
    }
    assert listeners[443]["Protocol"] == "HTTPS"
    assert listeners[443]["Certificates"] == [{"CertificateArn": ref("CertificateArn")}]
    assert listeners[80]["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"
    rds = template["Resources"]["DatabaseSubnetGroup"]["Properties"]
    assert rds["SubnetIds"] == private


def test_database_is_private_encrypted_and_protected(template: dict[str, Any]) -> None:
    (db,) = resources(template, "AWS::RDS::DBInstance").values()
    p = db["Properties"]
    assert p["Engine"] == "postgres" and template["Parameters"]["DbEngineVersion"]["Default"].startswith("16")
    assert p["PubliclyAccessible"] is False
    assert p["StorageEncrypted"] is True
    assert p["DeletionProtection"] is True
    assert p["MultiAZ"] == ref("DbMultiAZ")
    assert db["DeletionPolicy"] == "Snapshot"
    assert "resolve:secretsmanager" in json.dumps(p["MasterUserPassword"]), "no password in the template"
    params = template["Resources"]["DatabaseParameterGroup"]["Properties"]["Parameters"]
    assert params["rds.force_ssl"] == "1"
    assert template["Resources"]["FileSystem"]["Properties"]["Encrypted"] is True


def test_web_acl_has_managed_groups_and_a_per_ip_rate_rule_and_guards_the_alb(template: dict[str, Any]) -> None:
    ((name, acl),) = resources(template, "AWS::WAFv2::WebACL").items()
    p = acl["Properties"]
    assert p["Scope"] == "REGIONAL"
    rules = {r["Name"]: r for r in p["Rules"]}
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in rules.values()
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert managed == MANAGED_RULE_GROUPS
    rate = [r for r in rules.values() if "RateBasedStatement" in r["Statement"]]
    assert len(rate) == 1
    stmt = rate[0]["Statement"]["RateBasedStatement"]
    assert stmt["AggregateKeyType"] == "IP" and stmt["Limit"] == ref("WafRateLimit")
    assert "Block" in rate[0]["Action"]
    assert len({r["Priority"] for r in p["Rules"]}) == len(p["Rules"])
    (assoc,) = resources(template, "AWS::WAFv2::WebACLAssociation").values()
    assert assoc["Properties"] == {"ResourceArn": ref("LoadBalancer"), "WebACLArn": {"Fn::GetAtt": [name, "Arn"]}}
    (logging,) = resources(template, "AWS::WAFv2::LoggingConfiguration").values()
    assert logging["Properties"]["ResourceArn"] == {"Fn::GetAtt": [name, "Arn"]}
    assert all(r["VisibilityConfig"]["CloudWatchMetricsEnabled"] for r in p["Rules"])
    # The old gateway identity headers are ignored by the app (JWT and session cookies); still blocked at the edge.
    asserted = json.dumps(rules["BlockClientAssertedIdentity"]["Statement"]).lower()
    assert all(h in asserted for h in ("x-customer-id", "x-roles", "x-actor-id"))


def test_shield_advanced_is_optional_and_protects_the_alb(template: dict[str, Any]) -> None:
    (shield,) = resources(template, "AWS::Shield::Protection").values()
    assert shield["Condition"] == "ShieldAdvanced"
    assert template["Conditions"]["ShieldAdvanced"] == {"Fn::Equals": [ref("EnableShieldAdvanced"), "true"]}
    assert template["Parameters"]["EnableShieldAdvanced"]["Default"] == "false"
    assert shield["Properties"]["ResourceArn"] == ref("LoadBalancer")


def test_every_alarm_notifies_the_topic_and_abnormal_access_is_covered(template: dict[str, Any]) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    for name, alarm in alarms.items():
        assert ref("AlarmTopic") in alarm["Properties"]["AlarmActions"], name
    metrics = {(a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms.values()}
    assert {
        ("AWS/WAFV2", "BlockedRequests"),
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
        ("AWS/ApplicationELB", "TargetResponseTime"),
        ("AWS/RDS", "CPUUtilization"),
    } <= metrics
    # The WAF alarms name the web ACL and the rate rule exactly as WAF publishes them.
    acl = template["Resources"]["WebAcl"]["Properties"]
    rate_metric = next(r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"])["VisibilityConfig"][
        "MetricName"
    ]
    waf_rules = set()
    for alarm in alarms.values():
        dims = {d["Name"]: d["Value"] for d in alarm["Properties"]["Dimensions"]}
        if alarm["Properties"]["Namespace"] == "AWS/WAFV2":
            assert dims["WebACL"] == acl["Name"]
            waf_rules.add(dims["Rule"])
    assert waf_rules == {"ALL", rate_metric}


def test_lambda_notifier_is_subscribed_with_a_least_privilege_role(template: dict[str, Any]) -> None:
    subs = resources(template, "AWS::SNS::Subscription")
    lam = [s for s in subs.values() if s["Properties"]["Protocol"] == "lambda"]
    assert lam == [
        {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": ref("AlarmTopic"),
                "Protocol": "lambda",
                "Endpoint": {"Fn::GetAtt": ["AlarmNotifier", "Arn"]},
            },
        }
    ]
    perm = template["Resources"]["AlarmNotifierInvokePermission"]["Properties"]
    assert perm["Principal"] == "sns.amazonaws.com" and perm["SourceArn"] == ref("AlarmTopic")
    role = template["Resources"]["AlarmNotifierRole"]["Properties"]
    assert "ManagedPolicyArns" not in role
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents", "secretsmanager:GetSecretValue"}
    assert [s["Resource"] for s in statements] == [
        {"Fn::GetAtt": ["AlarmNotifierLogGroup", "Arn"]},
        ref("AlarmWebhookSecret"),
    ]
    assert template["Parameters"]["AlarmWebhookUrl"]["NoEcho"] is True


def test_no_iam_wildcards(template: dict[str, Any]) -> None:
    for name, role in resources(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for stmt in policy["PolicyDocument"]["Statement"]:
                actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
                res = stmt["Resource"] if isinstance(stmt["Resource"], list) else [stmt["Resource"]]
                assert not [a for a in actions if a == "*" or a.endswith(":*")], name
                assert "*" not in res, name


def test_task_definitions_agree_with_the_code_and_the_image(template: dict[str, Any]) -> None:
    docker = Dockerfile.parse(DOCKERFILE)
    (exposed,) = {int(p) for rest in docker.all("EXPOSE") for p in rest.split()}
    names = settings_env_names()
    cs = containers(template)
    assert set(cs) == {"api", "worker", "scheduler", "migrate"}
    expected = {"api": ["serve"], "scheduler": ["serve"], "worker": ["worker"], "migrate": ["db", "upgrade"]}
    schedulers = []
    for name, c in cs.items():
        argv = [resolve(a, template) for a in c["Command"]]
        path, _ = cli_command(argv)
        assert path == expected[name], (name, argv)
        env = env_of(c)
        assert set(env) <= names, f"{name}: {set(env) - names} are no settings"
        secrets = {s["Name"]: s["ValueFrom"] for s in c["Secrets"]}
        assert set(secrets) == {
            "CARDWISE_DATABASE_URL",
            "CARDWISE_PAN_HMAC_KEY",
            "CARDWISE_JWT_SECRET",
            "CARDWISE_PII_KEYS",
            "CARDWISE_PII_INDEX_KEY",
        }
        assert set(secrets) <= names and not set(secrets) & set(env), "secrets only from Secrets Manager"
        assert env["CARDWISE_ENVIRONMENT"] == "production"
        if path == ["serve"]:
            assert env["CARDWISE_SCHEDULER_ENABLED"] in ("true", "false"), f"{name}: say whether it schedules"
            assert int(option(argv, "--port") or exposed) == exposed
            assert health_port_and_path(c["HealthCheck"]["Command"]) == (exposed, "/healthz")
            if env["CARDWISE_SCHEDULER_ENABLED"] == "true":
                schedulers.append(name)
                assert option(argv, "--workers") in (None, "1")
    assert schedulers == ["scheduler"]
    sched = template["Resources"]["SchedulerService"]["Properties"]
    assert sched["DesiredCount"] == 1 and sched["DeploymentConfiguration"]["MaximumPercent"] == 100
    assert cs["api"]["PortMappings"] == [{"ContainerPort": exposed, "Protocol": "tcp"}]
    tg = template["Resources"]["ApiTargetGroup"]["Properties"]
    assert tg["Port"] == exposed and tg["HealthCheckPath"] == "/healthz"
    (lb,) = template["Resources"]["ApiService"]["Properties"]["LoadBalancers"]
    assert lb["ContainerPort"] == exposed and lb["ContainerName"] == "api"


def test_outputs(template: dict[str, Any]) -> None:
    assert {"LoadBalancerDnsName", "WebAclArn", "AlarmTopicArn"} <= set(template["Outputs"])


class _Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Webhook.received.append({"type": self.headers["Content-Type"], "body": json.loads(body)})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_lambda_notifier_code_forwards_an_alarm(template: dict[str, Any]) -> None:
    code = template["Resources"]["AlarmNotifier"]["Properties"]["Code"]["ZipFile"]
    assert len(code) <= 4096, "inline Lambda code is limited to 4 KB"
    server = HTTPServer(("127.0.0.1", 0), _Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        module: dict[str, Any] = {}
        exec(compile(code, "index.py", "exec"), module)
        module["_webhook_url"] = f"http://127.0.0.1:{server.server_port}/hook"  # skips the Secrets Manager read
        alarm = {
            "AlarmName": "cardwise-WafRateLimitAlarm",
            "NewStateValue": "ALARM",
            "OldStateValue": "OK",
            "NewStateReason": "Threshold Crossed: 1 datapoint [42.0] was greater than the threshold (0.0).",
            "Region": "Asia Pacific (Seoul)",
        }
        event = {
            "Records": [{"Sns": {"Subject": "ALARM", "Message": json.dumps(alarm)}}, {"Sns": {"Message": "plain"}}]
        }
        assert module["handler"](event, None) == {"sent": 2}
    finally:
        server.shutdown()
        server.server_close()
    first, second = _Webhook.received[-2:]
    assert first["type"] == "application/json"
    assert first["body"]["text"].startswith("[ALARM] cardwise-WafRateLimitAlarm: Threshold Crossed")
    assert first["body"]["alarm"]["OldStateValue"] == "OK"
    assert second["body"]["text"] == "plain"
