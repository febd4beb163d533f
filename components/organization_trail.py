"""OrganizationTrail: the trail every account of the organisation logs to, and its CloudWatch delivery."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from orgtrail.contract.config import DataEvents, Organization
from orgtrail.contract.policy_documents import (
    cloudwatch_delivery_policy,
    cloudwatch_delivery_trust,
    log_group_key_policy,
)

INSIGHT_TYPES = ("ApiCallRateInsight", "ApiErrorRateInsight")


Selector = aws.cloudtrail.TrailAdvancedEventSelectorArgs
Field = aws.cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs
# Prowler (cloudtrail_multi_region_enabled_logging_management_events) recognises management
# events in advanced selectors only under this name.
MANAGEMENT_SELECTOR = "Management events selector"


def event_selectors(
    data_events: DataEvents, partition: str, log_buckets: Sequence[str]
) -> list[Selector]:
    """Advanced event selectors: management events, then the data events asked for.

    S3 data events leave out the log buckets by default: otherwise every log
    delivery is itself a data event that is delivered again, a cost runaway.
    Reads of the log buckets do not loop, so a read-only selector records who
    read the logs, in the locked bucket itself.
    """
    log_objects = [f"arn:{partition}:s3:::{bucket}/" for bucket in log_buckets]
    s3_objects = [
        Field(field="eventCategory", equals=["Data"]),
        Field(field="resources.type", equals=["AWS::S3::Object"]),
    ]
    selectors = [
        Selector(
            name=MANAGEMENT_SELECTOR,
            field_selectors=[Field(field="eventCategory", equals=["Management"])],
        )
    ]
    if data_events.s3 and data_events.s3_include_trail_bucket:
        selectors.append(Selector(name="S3 object data events", field_selectors=s3_objects))
    else:
        if data_events.s3:
            selectors.append(
                Selector(
                    name="S3 object data events",
                    field_selectors=[
                        *s3_objects,
                        Field(field="resources.ARN", not_starts_withs=log_objects),
                    ],
                )
            )
        selectors.append(
            Selector(
                name="Log bucket reads",
                field_selectors=[
                    *s3_objects,
                    Field(field="readOnly", equals=["true"]),
                    Field(field="resources.ARN", starts_withs=log_objects),
                ],
            )
        )
    if data_events.lambda_functions:
        selectors.append(
            Selector(
                name="Lambda data events",
                field_selectors=[
                    Field(field="eventCategory", equals=["Data"]),
                    Field(field="resources.type", equals=["AWS::Lambda::Function"]),
                ],
            )
        )
    # One selector per source: a network activity selector's eventSource takes one Equals value
    # (user guide, "Logging network activity events").
    selectors += [
        Selector(
            name=f"Network activity events of {source}",
            field_selectors=[
                Field(field="eventCategory", equals=["NetworkActivity"]),
                Field(field="eventSource", equals=[source]),
            ],
        )
        for source in data_events.network_activity
    ]
    return selectors


@dataclass
class OrganizationTrailArgs:
    organization: Organization
    bucket_name: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    data_events: DataEvents
    # The log and access-log buckets: their writes would log themselves, their reads are kept.
    log_buckets: Sequence[str]
    insights: bool = True
    log_retention_days: int = 365
    log_group_kms_key_arn: str | None = None


class OrganizationTrail(pulumi.ComponentResource):
    trail: aws.cloudtrail.Trail
    arn: pulumi.Output[str]
    log_group_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: OrganizationTrailArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("org-trail:organization_trail:OrganizationTrail", name, None, opts)
        org = args.organization
        log_group_name = f"/aws/cloudtrail/{org.trail_name}"

        log_group_key = args.log_group_kms_key_arn
        if log_group_key is None:
            # CIS 3.x / Prowler cloudwatch_log_group_kms_encryption_enabled: the group's key.
            log_group_key = aws.kms.Key(
                f"{name}-log-group-key",
                description=f"CloudWatch Logs group {log_group_name} of the organization trail",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                policy=json.dumps(log_group_key_policy(org, log_group_name)),
                opts=pulumi.ResourceOptions(parent=self, protect=True),
            ).arn
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-log-group",
            name=log_group_name,
            retention_in_days=args.log_retention_days,
            kms_key_id=log_group_key,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        role = aws.iam.Role(
            f"{name}-cloudwatch-delivery",
            description=f"CloudTrail delivery of {org.trail_name} to CloudWatch Logs",
            assume_role_policy=json.dumps(cloudwatch_delivery_trust(org)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-cloudwatch-delivery",
            role=role.name,
            policy=json.dumps(cloudwatch_delivery_policy(org, log_group_name)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.trail = aws.cloudtrail.Trail(
            name,
            name=org.trail_name,
            s3_bucket_name=args.bucket_name,
            kms_key_id=args.kms_key_arn,
            is_organization_trail=True,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            cloud_watch_logs_group_arn=log_group.arn.apply(lambda arn: f"{arn}:*"),
            cloud_watch_logs_role_arn=role.arn,
            advanced_event_selectors=event_selectors(
                args.data_events, org.partition, args.log_buckets
            ),
            insight_selectors=[
                aws.cloudtrail.TrailInsightSelectorArgs(insight_type=insight)
                for insight in INSIGHT_TYPES
            ]
            if args.insights
            else None,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=True,
                # CreateTrail checks the role can write to the group; the policy must exist first.
                depends_on=[role_policy],
            ),
        )
        self.arn = self.trail.arn
        self.log_group_arn = log_group.arn
        self.log_group_name = log_group.name
        self.register_outputs({"arn": self.arn, "logGroupArn": self.log_group_arn})
