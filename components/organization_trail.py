"""OrganizationTrail: the trail every account of the organisation logs to, and its CloudWatch delivery."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.policy_documents import cloudwatch_delivery_policy, cloudwatch_delivery_trust
from orgtrail.config import DataEvents, Organization

INSIGHT_TYPES = ("ApiCallRateInsight", "ApiErrorRateInsight")


def event_selectors(
    data_events: DataEvents, partition: str, excluded_buckets: Sequence[str]
) -> list[dict]:
    """Advanced event selectors: management events, then the data events asked for.

    S3 data events leave out the log buckets by default: otherwise every log
    delivery is itself a data event that is delivered again, a cost runaway.
    Reads of the log bucket are recorded by its server access logs instead.
    """
    selectors: list[dict] = [
        {
            "name": "Management events",
            "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}],
        }
    ]
    if data_events.s3:
        s3_fields: list[dict] = [
            {"field": "eventCategory", "equals": ["Data"]},
            {"field": "resources.type", "equals": ["AWS::S3::Object"]},
        ]
        if not data_events.s3_include_trail_bucket:
            s3_fields.append(
                {
                    "field": "resources.ARN",
                    "not_starts_withs": [
                        f"arn:{partition}:s3:::{bucket}/" for bucket in excluded_buckets
                    ],
                }
            )
        selectors.append({"name": "S3 object data events", "field_selectors": s3_fields})
    if data_events.lambda_functions:
        selectors.append(
            {
                "name": "Lambda data events",
                "field_selectors": [
                    {"field": "eventCategory", "equals": ["Data"]},
                    {"field": "resources.type", "equals": ["AWS::Lambda::Function"]},
                ],
            }
        )
    return selectors


@dataclass
class OrganizationTrailArgs:
    organization: Organization
    bucket_name: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    data_events: DataEvents
    # Buckets whose object events would log themselves (the log and access-log buckets).
    excluded_buckets: Sequence[str]
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

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-log-group",
            name=log_group_name,
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_group_kms_key_arn,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        role = aws.iam.Role(
            f"{name}-cloudwatch-delivery",
            description=f"CloudTrail delivery of {org.trail_name} to CloudWatch Logs",
            assume_role_policy=json.dumps(cloudwatch_delivery_trust()),
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
                args.data_events, org.partition, args.excluded_buckets
            ),
            insight_selectors=[{"insight_type": t} for t in INSIGHT_TYPES]
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
