"""LogReader: the security account's read-only role the operator commands read the log
bucket, its key and the Athena tables through (`--log-bucket-role-arn`).

The bucket policy lets the management account list only its own prefix, and the key lives
in the security account, so `verify`, `cutover` and `cost` read through this role; only
the management account's roles named in `logReaderPrincipalArns` may assume it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from orgtrail.analysis.cloudtrail_schema import DATABASE
from orgtrail.contract.config import Organization
from orgtrail.contract.policy_documents import (
    LOG_READER,
    log_reader_policy,
    named_roles_trust_policy,
)


@dataclass
class LogReaderArgs:
    organization: Organization
    principals: Sequence[str]
    buckets: Sequence[str]  # the log bucket and its access-log bucket
    key_arn: pulumi.Input[str]


class LogReader(pulumi.ComponentResource):
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: LogReaderArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("org-trail:log_reader:LogReader", name, None, opts)
        org = args.organization
        role = aws.iam.Role(
            name,
            name=LOG_READER,
            description="Read-only: the org-trail log buckets, their key and the Athena tables",
            assume_role_policy=json.dumps(named_roles_trust_policy(org, args.principals)),
            max_session_duration=3600,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.from_input(args.key_arn).apply(
                lambda key: json.dumps(log_reader_policy(org, args.buckets, key, DATABASE))
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = role.arn
        self.register_outputs({"arn": self.arn})
