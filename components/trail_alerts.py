"""TrailAlerts: a person is told when Insights sees unusual activity and when the trail goes silent.

Insights: a subscription filter on the organization trail's log group hands every Insights
event (`{ $.eventType = "AwsCloudTrailInsight" }`) to a function that writes one message
per event to the alarm topic (functions/insights_notifier/handler.py says why this path).
Events the function fails on after Lambda's retries go to the same topic (its on-failure
destination), so a broken notifier is noticed too.

Silence: CloudWatch's `IncomingLogEvents` of the log group (namespace AWS/Logs, dimension
LogGroupName) below a floor over a period, with missing data treated as breaching: a
trail that stops delivering, for any reason (logging stopped, a key or role broken, the
CloudWatch Logs delivery failing), pages within the period.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.python_function import python_function
from orgtrail.contract.config import Alarms, Organization
from orgtrail.contract.policy_documents import (
    INSIGHTS_PATTERN,
    NOTIFIER,
    notifier_policy,
    notifier_trust_policy,
)

HANDLER = Path(__file__).resolve().parent.parent / "functions" / "insights_notifier" / "handler.py"


@dataclass
class TrailAlertsArgs:
    organization: Organization
    alarms: Alarms
    insights: bool
    log_group_name: pulumi.Input[str]
    log_group_arn: pulumi.Input[str]
    topic: str
    topic_arn: pulumi.Input[str]
    topic_key_arn: pulumi.Input[str]
    log_retention_days: int = 365


class TrailAlerts(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: TrailAlertsArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("org-trail:trail_alerts:TrailAlerts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        alarms = args.alarms
        aws.cloudwatch.MetricAlarm(
            f"{name}-silent-trail",
            name="org-trail-silent-trail",
            alarm_description=(
                f"The organization trail's log group received fewer than "
                f"{alarms.silent_trail_minimum_events} events in {alarms.silent_trail_minutes} "
                "minutes: the trail may have stopped delivering. Run `orgtrail verify`."
            ),
            namespace="AWS/Logs",
            metric_name="IncomingLogEvents",
            dimensions={"LogGroupName": args.log_group_name},
            statistic="Sum",
            period=alarms.silent_trail_minutes * 60,
            evaluation_periods=1,
            threshold=alarms.silent_trail_minimum_events,
            comparison_operator="LessThanThreshold",
            treat_missing_data="breaching",
            alarm_actions=[args.topic_arn],
            ok_actions=[args.topic_arn],
            opts=child,
        )
        self.function_arn: pulumi.Output[str] | None = None
        if args.insights and alarms.insights_notifications:
            self.function_arn = self._notifier(name, args, child)
        self.register_outputs({"notifierArn": self.function_arn})

    def _notifier(
        self, name: str, args: TrailAlertsArgs, child: pulumi.ResourceOptions
    ) -> pulumi.Output[str]:
        org = args.organization
        function = python_function(
            f"{name}-notifier",
            parent=self,
            function_name=NOTIFIER,
            description="Tells the alarm topic about each CloudTrail Insights event of the organisation",
            handler=HANDLER,
            trust_policy=json.dumps(notifier_trust_policy(org)),
            policy=pulumi.Output.from_input(args.topic_key_arn).apply(
                lambda key: json.dumps(notifier_policy(org, args.topic, key))
            ),
            environment={"TOPIC_ARN": args.topic_arn},
            timeout=60,
            log_retention_days=args.log_retention_days,
        )
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-notifier-failures",
            function_name=function.name,
            maximum_retry_attempts=2,
            destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                    destination=args.topic_arn
                )
            ),
            opts=child,
        )
        permission = aws.lambda_.Permission(
            f"{name}-notifier-invoke",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="logs.amazonaws.com",
            source_account=org.management_account_id,
            source_arn=pulumi.Output.concat(args.log_group_arn, ":*"),
            opts=child,
        )
        aws.cloudwatch.LogSubscriptionFilter(
            f"{name}-insights",
            name="org-trail-insights",
            log_group=args.log_group_name,
            filter_pattern=INSIGHTS_PATTERN,
            destination_arn=function.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )
        return function.arn
