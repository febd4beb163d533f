"""Guardrails: AWS Organizations policies that keep every account inside the logging pipeline."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from orgtrail.contract.config import Guardrails as GuardrailSettings
from orgtrail.contract.config import Organization
from orgtrail.contract.policy_documents import (
    deny_leave_organization_scp,
    log_data_perimeter_rcp,
    protect_pipeline_scp,
    s3_block_public_access_policy,
)
from orgtrail.contract.prerequisites import GUARDRAIL_POLICY_TYPES
from orgtrail.policy_eval import DENY, Request, evaluate


@dataclass
class GuardrailsArgs:
    organization: Organization
    settings: GuardrailSettings
    # The log and access-log buckets, and the trail key, from the security stack.
    log_buckets: Sequence[str]
    key_arn: str
    # Where organisation-wide guardrails attach when settings.targets is empty.
    root_id: str


class Guardrails(pulumi.ComponentResource):
    """Each policy is attached where it applies; detaching never happens by accident.

    Policy types must be enabled on the root first: the program checks it before anything
    (orgtrail/contract/prerequisites.py).
    """

    def __init__(self, name: str, args: GuardrailsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("org-trail:guardrails:Guardrails", name, None, opts)
        org, settings = args.organization, args.settings
        targets = list(settings.targets) or [args.root_id]
        security = [org.security_account_id]
        scp, rcp = refuse_lockouts(args)
        wanted = [
            (
                settings.block_public_access,
                "block-public-access",
                GUARDRAIL_POLICY_TYPES["block_public_access"],
                s3_block_public_access_policy(),
                targets,
            ),
            (
                settings.deny_leave_organization,
                "deny-leave-organization",
                GUARDRAIL_POLICY_TYPES["deny_leave_organization"],
                deny_leave_organization_scp(),
                targets,
            ),
            (
                settings.protect_log_pipeline,
                "protect-log-pipeline",
                GUARDRAIL_POLICY_TYPES["protect_log_pipeline"],
                scp,
                security,
            ),
            (
                settings.data_perimeter,
                "log-data-perimeter",
                GUARDRAIL_POLICY_TYPES["data_perimeter"],
                rcp,
                security,
            ),
        ]
        self.policy_names: list[str] = []
        for enabled, purpose, policy_type, content, attach_to in wanted:
            if not enabled:
                continue
            policy = aws.organizations.Policy(
                f"{name}-{purpose}",
                name=f"org-trail-{purpose}",
                description=f"org-trail guardrail: {purpose.replace('-', ' ')}",
                type=policy_type,
                content=json.dumps(content),
                opts=pulumi.ResourceOptions(parent=self, protect=True),
            )
            self.policy_names.append(f"org-trail-{purpose}")
            for target in attach_to:
                aws.organizations.PolicyAttachment(
                    f"{name}-{purpose}-{target}",
                    policy_id=policy.id,
                    target_id=target,
                    opts=pulumi.ResourceOptions(parent=self, protect=True),
                )
        self.register_outputs({"policies": self.policy_names})


def refuse_lockouts(args: GuardrailsArgs) -> tuple[dict, dict]:
    """The pipeline SCP and RCP, or RunError naming what they would lock out (evaluated);
    the program calls it before registering anything, the component again before its own."""
    org, settings = args.organization, args.settings
    scp = protect_pipeline_scp(org, args.log_buckets, args.key_arn, settings.exempt_role_arns)
    rcp = log_data_perimeter_rcp(org, args.log_buckets, args.key_arn)
    locked_out = lockouts(
        org,
        settings,
        scp if settings.protect_log_pipeline else None,
        rcp if settings.data_perimeter else None,
        args.log_buckets,
    )
    if locked_out:
        raise pulumi.RunError("guardrails refused: " + "; ".join(locked_out))
    return scp, rcp


def lockouts(
    organization: Organization,
    settings: GuardrailSettings,
    scp: dict | None,
    rcp: dict | None,
    log_buckets: Sequence[str],
) -> list[str]:
    """What the guardrails would lock out that must keep working; empty when nothing.

    Evaluated, not assumed: the exempt roles must still manage the log buckets under the SCP,
    and CloudTrail, S3 log delivery and organisation members must still reach them under the RCP.
    """
    partition = organization.partition
    log_bucket, *others = log_buckets
    problems = []
    for role in settings.exempt_role_arns if scp else ():
        manage = Request(
            "s3:PutBucketPolicy",
            f"arn:{partition}:s3:::{log_bucket}",
            context={"aws:PrincipalArn": role},
        )
        if evaluate(scp, manage) == DENY:
            problems.append(f"the SCP would stop {role} from managing {log_bucket}")
    if rcp:
        reach = [
            (
                "CloudTrail's delivery",
                Request(
                    "s3:PutObject",
                    f"arn:{partition}:s3:::{log_bucket}/AWSLogs/x",
                    service="cloudtrail.amazonaws.com",
                    context={"aws:PrincipalIsAWSService": "true"},
                ),
            ),
            (
                "a member account's read of its logs",
                Request(
                    "s3:GetObject",
                    f"arn:{partition}:s3:::{log_bucket}/AWSLogs/x",
                    principal_arn=f"arn:{partition}:iam::{organization.management_account_id}:role/r",
                    context={
                        "aws:PrincipalOrgID": organization.organization_id,
                        "aws:PrincipalIsAWSService": "false",
                    },
                ),
            ),
        ]
        reach += [
            (
                "S3 server access log delivery",
                Request(
                    "s3:PutObject",
                    f"arn:{partition}:s3:::{bucket}/{log_bucket}/x",
                    service="logging.s3.amazonaws.com",
                    context={"aws:PrincipalIsAWSService": "true"},
                ),
            )
            for bucket in others
        ]
        problems += [
            f"the RCP would deny {what}"
            for what, request in reach
            if evaluate(rcp, request) == DENY
        ]
    return problems
