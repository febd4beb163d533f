"""TrailKey: the customer-managed KMS key that encrypts the organization's logs."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from orgtrail.contract.config import Organization
from orgtrail.contract.policy_documents import trail_key_policy

# The longest window AWS allows: a scheduled deletion can be cancelled for 30 days.
DELETION_WINDOW_DAYS = 30


@dataclass
class TrailKeyArgs:
    organization: Organization
    alias: str = "alias/org-trail"


class TrailKey(pulumi.ComponentResource):
    key: aws.kms.Key
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: TrailKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("org-trail:trail_key:TrailKey", name, None, opts)
        self.key = aws.kms.Key(
            name,
            description=f"CloudTrail logs of organization {args.organization.organization_id}",
            enable_key_rotation=True,
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            policy=json.dumps(trail_key_policy(args.organization)),
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        aws.kms.Alias(
            f"{name}-alias",
            name=args.alias,
            target_key_id=self.key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.key.arn
        self.register_outputs({"arn": self.arn})
