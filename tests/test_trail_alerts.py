"""TrailAlerts under the SDK's mocks: the Insights notifier wired to the trail's log group with
least privilege (its real calls evaluated against its role's policy), and the silent-trail
alarm."""

import hashlib
import json

import pytest

from components.trail_alerts import HANDLER, INSIGHTS_PATTERN
from orgtrail.policy_eval import ALLOW, Request, evaluate
from tests.support.stacks import (
    MANAGEMENT_ACCOUNT,
    MEMBER_ACCOUNT,
    ORGANIZATION_ID,
    management_config,
    policy_of,
    run_management,
)

FUNCTION = "aws:lambda/function:Function"
SUBSCRIPTION = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def trail_group(simulation):
    return simulation.one("aws:cloudwatch/logGroup:LogGroup", "organization-trail-log-group")


def alarm_topic(simulation):
    return simulation.one("aws:sns/topic:Topic").outputs["arn"]


def test_every_insights_event_of_the_trails_log_group_goes_to_the_notifier(management):
    subscription = management.one(SUBSCRIPTION)
    function = management.one(FUNCTION)
    group = trail_group(management)
    assert subscription.inputs["logGroup"] == group.inputs["name"]
    assert subscription.inputs["filterPattern"] == INSIGHTS_PATTERN
    assert subscription.inputs["destinationArn"] == function.outputs["arn"]
    permission = management.one("aws:lambda/permission:Permission")
    assert (permission.inputs["principal"], permission.inputs["sourceArn"]) == (
        "logs.amazonaws.com",
        f"{group.outputs['arn']}:*",
    )
    assert permission.inputs["sourceAccount"] == MANAGEMENT_ACCOUNT
    # CloudWatch Logs refuses a subscription it may not invoke: the permission comes first.
    assert permission.urn in subscription.dependencies


def test_the_function_is_the_notifiers_code_publishing_to_the_alarm_topic(management):
    function = management.one(FUNCTION)
    assert function.inputs["code"] == {
        "archive": {
            "handler.py": {
                "file": "handler.py",
                "sha256": hashlib.sha256(HANDLER.read_bytes()).hexdigest(),
            }
        }
    }
    assert function.inputs["handler"] == "handler.handle"
    assert function.inputs["environment"]["variables"] == {"TOPIC_ARN": alarm_topic(management)}
    failures = management.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert failures.inputs["destinationConfig"]["onFailure"]["destination"] == alarm_topic(
        management
    )
    logs = management.one("aws:cloudwatch/logGroup:LogGroup", "trail-alerts-notifier-logs")
    assert function.inputs["loggingConfig"]["logGroup"] == logs.inputs["name"]


def notifier_policy(simulation) -> dict:
    return policy_of(
        simulation.one("aws:iam/rolePolicy:RolePolicy", "trail-alerts-notifier-policy")
    )


def test_only_lambda_of_this_account_may_take_the_notifiers_role(management):
    trust = policy_of(
        management.one("aws:iam/role:Role", "trail-alerts-notifier-role"), "assumeRolePolicy"
    )

    def assume(service: str, account: str) -> str:
        context = {"aws:SourceAccount": account}
        return evaluate(trust, Request("sts:AssumeRole", "*", service=service, context=context))

    assert assume("lambda.amazonaws.com", MANAGEMENT_ACCOUNT) == ALLOW
    assert assume("lambda.amazonaws.com", MEMBER_ACCOUNT) != ALLOW
    assert assume("ec2.amazonaws.com", MANAGEMENT_ACCOUNT) != ALLOW


def test_the_notifier_may_do_what_it_does_and_nothing_else(management):
    policy = notifier_policy(management)
    topic = alarm_topic(management)
    key = management.one("aws:kms/key:Key", "cis-alarms-key").outputs["arn"]
    own_logs = (
        f"arn:aws:logs:us-east-1:{MANAGEMENT_ACCOUNT}:log-group:"
        "/aws/lambda/org-trail-insights-notifier:log-stream:2026/12/02/abc"
    )
    through_sns = {"kms:ViaService": "sns.us-east-1.amazonaws.com"}
    account = (
        f"arn:aws:organizations::{MANAGEMENT_ACCOUNT}:account/{ORGANIZATION_ID}/{MEMBER_ACCOUNT}"
    )
    allowed = [
        Request("sns:Publish", topic),
        Request("organizations:DescribeAccount", account),
        Request("logs:PutLogEvents", own_logs),
        Request("kms:GenerateDataKey", key, context=through_sns),
        Request("kms:Decrypt", key, context=through_sns),
    ]
    assert [evaluate(policy, request) for request in allowed] == [ALLOW] * len(allowed)
    refused = [
        Request("sns:Publish", topic.replace("org-trail-cis-alarms", "other-topic")),
        Request("sns:Subscribe", topic),
        Request("kms:Decrypt", key),  # not through SNS
        Request("organizations:DescribeAccount", account.replace(ORGANIZATION_ID, "o-other00000")),
        Request("organizations:ListAccounts", "*"),
        Request("logs:PutLogEvents", f"{trail_group(management).outputs['arn']}:log-stream:x"),
        Request("s3:GetObject", "arn:aws:s3:::acme-trail-logs/AWSLogs/x"),
    ]
    assert [evaluate(policy, request) for request in refused] == ["ImplicitDeny"] * len(refused)


def test_the_calls_the_notifier_really_makes_are_allowed(org, management, monkeypatch):
    """Run the handler against moto, record each AWS call it makes through botocore's event
    hooks, and evaluate each against the role policy the stack gives it."""
    import boto3

    from functions.insights_notifier import handler
    from tests.support.cloudtrail_events import START, Generator, insight_record
    from tests.test_insights_notifier import delivery

    sns = org.admin.client("sns")
    topic = sns.create_topic(Name="org-trail-cis-alarms")["TopicArn"]
    monkeypatch.setenv("TOPIC_ARN", topic)
    handler._account_names.clear()
    calls = []
    original = boto3.session.Session.client

    def recording_client(self, service, *args, **kwargs):
        client = original(self, service, *args, **kwargs)
        prefix = client.meta.service_model.signing_name
        client.meta.events.register(
            "provide-client-params.*.*",
            lambda params, model, **_: calls.append((f"{prefix}:{model.name}", params)),
        )
        return client

    monkeypatch.setattr(boto3.session.Session, "client", recording_client)
    record = insight_record(
        Generator(5), "Start", "i-1", START, account=org.accounts["payments"],
        region="eu-west-1", source="ec2.amazonaws.com", name="RunInstances",
    )  # fmt: skip
    handler.handle(delivery(json.dumps(record), "{broken"))
    assert [action for action, _ in calls] == [
        "organizations:DescribeAccount",
        "sns:Publish",
        "sns:Publish",
    ]
    # The resources the stack's policy names, with the ARNs the calls address.
    policy = notifier_policy(management)
    stack_topic = alarm_topic(management)
    account_arn = (
        f"arn:aws:organizations::{MANAGEMENT_ACCOUNT}:account/{ORGANIZATION_ID}/"
        f"{calls[0][1]['AccountId']}"
    )
    resources = {"organizations:DescribeAccount": account_arn, "sns:Publish": stack_topic}
    for action, params in calls:
        if action == "sns:Publish":
            assert params["TopicArn"].rsplit(":", 1)[-1] == stack_topic.rsplit(":", 1)[-1]
        assert evaluate(policy, Request(action, resources[action])) == ALLOW, action


def test_a_silent_trail_pages(management):
    (alarm,) = [
        a for a in management.of_type(ALARM) if a.inputs["name"] == "org-trail-silent-trail"
    ]
    inputs = alarm.inputs
    assert (inputs["namespace"], inputs["metricName"]) == ("AWS/Logs", "IncomingLogEvents")
    assert inputs["dimensions"] == {"LogGroupName": trail_group(management).inputs["name"]}
    assert (inputs["statistic"], inputs["period"], inputs["evaluationPeriods"]) == ("Sum", 3600, 1)
    assert (inputs["comparisonOperator"], inputs["threshold"]) == ("LessThanThreshold", 1)
    assert inputs["treatMissingData"] == "breaching"  # no data at all is the loudest silence
    assert inputs["alarmActions"] == inputs["okActions"] == [alarm_topic(management)]


def test_the_silence_floor_and_period_come_from_the_config():
    alarms = {"silentTrailMinutes": 30, "silentTrailMinimumEvents": 50}
    simulation = run_management(management_config(alarms=json.dumps(alarms)))
    alarm = next(
        a for a in simulation.of_type(ALARM) if a.inputs["name"] == "org-trail-silent-trail"
    )
    assert (alarm.inputs["period"], alarm.inputs["threshold"]) == (1800, 50)


@pytest.mark.parametrize(
    ("overrides", "notifier"),
    [
        ({"insights": "false"}, False),
        ({"alarms": json.dumps({"insightsNotifications": False})}, False),
        ({}, True),
    ],
)
def test_the_notifier_exists_only_where_insights_are_told(overrides, notifier):
    simulation = run_management(management_config(**overrides))
    assert bool(simulation.of_type(FUNCTION)) is notifier
    assert bool(simulation.of_type(SUBSCRIPTION)) is notifier
    names = [a.inputs["name"] for a in simulation.of_type(ALARM)]
    assert "org-trail-silent-trail" in names  # whatever Insights does
