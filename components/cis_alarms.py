"""CisAlarms: a CloudWatch Logs metric filter and alarm per CIS monitoring item, to an encrypted topic.

The filter patterns select exactly what the detections in queries/ select
(tests/test_detections.py runs both over the same events), so an alarm and
the query an analyst runs next agree on what happened.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from orgtrail.analysis.detections import SELECTIONS, Selection
from orgtrail.contract.config import Alarms, Organization
from orgtrail.contract.policy_documents import (
    ALARM_TOPIC,
    alarm_topic_key_policy,
    alarm_topic_policy,
)

TOPIC = ALARM_TOPIC


def any_event(selection: Selection) -> str:
    """A filter pattern for any of the selection's names, from its service when it pins one."""
    names = "(" + " || ".join(f"($.eventName = {name})" for name in selection.names) + ")"
    if selection.pins_source:
        names = f"($.eventSource = {selection.service}) && {names}"
    return "{ " + names + " }"


# CIS AWS Foundations Benchmark v3.0, 4.1-4.15, as CloudWatch Logs JSON filter patterns.
METRIC_FILTERS: dict[str, str] = {
    "unauthorized-api-calls": '{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) '
    '&& ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }',
    "console-signin-without-mfa": '{ ($.eventName = "ConsoleLogin") && ($.userIdentity.type = "IAMUser") '
    '&& ($.additionalEventData.MFAUsed != "Yes") && ($.responseElements.ConsoleLogin = "Success") }',
    "root-account-usage": '{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) '
    '&& ($.eventType != "AwsServiceEvent") }',
    "console-auth-failures": '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
    # The name-list detections: built from their one definition.
    **{detection: any_event(selection) for detection, selection in SELECTIONS.items()},
}


def metric_name(detection: str) -> str:
    return "".join(part.capitalize() for part in detection.split("-"))


@dataclass
class CisAlarmsArgs:
    organization: Organization
    log_group_name: pulumi.Input[str]
    alarms: Alarms


class CisAlarms(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]  # the topic's key: a publisher other than CloudWatch needs it

    def __init__(self, name: str, args: CisAlarmsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("org-trail:cis_alarms:CisAlarms", name, None, opts)
        org = args.organization
        key = aws.kms.Key(
            f"{name}-key",
            description="Encrypts the org-trail CIS alarm topic",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps(alarm_topic_key_policy(org)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        topic = aws.sns.Topic(
            f"{name}-topic",
            name=TOPIC,
            kms_master_key_id=key.arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=topic.arn,
            policy=json.dumps(alarm_topic_policy(org, TOPIC)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for index, subscription in enumerate(args.alarms.subscriptions):
            aws.sns.TopicSubscription(
                f"{name}-subscription-{index}",
                topic=topic.arn,
                protocol=subscription.protocol,
                endpoint=subscription.endpoint,
                opts=pulumi.ResourceOptions(parent=self),
            )
        for detection, pattern in METRIC_FILTERS.items():
            metric = metric_name(detection)
            metric_filter = aws.cloudwatch.LogMetricFilter(
                f"{name}-{detection}",
                name=f"org-trail-{detection}",
                log_group_name=args.log_group_name,
                pattern=pattern,
                metric_transformation={
                    "name": metric,
                    "namespace": args.alarms.namespace,
                    "value": "1",
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.cloudwatch.MetricAlarm(
                f"{name}-{detection}",
                name=f"org-trail-{detection}",
                alarm_description=f"CIS monitoring: {detection} (see queries/{detection}.sql to investigate)",
                namespace=args.alarms.namespace,
                metric_name=metric,
                statistic="Sum",
                period=300,
                evaluation_periods=1,
                threshold=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[topic.arn],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[metric_filter]),
            )
        self.topic_arn = topic.arn
        self.key_arn = key.arn
        self.register_outputs({"topicArn": self.topic_arn, "keyArn": self.key_arn})
