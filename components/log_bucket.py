"""LogBucket: the organization trail's central bucket and the bucket for its access logs."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.locked_bucket import LockedBucket, LockedBucketArgs
from components.policy_documents import access_log_bucket_policy, log_bucket_policy
from orgtrail.config import Archive, ObjectLock, Organization


@dataclass
class LogBucketArgs:
    organization: Organization
    bucket_name: str
    access_log_bucket_name: str
    kms_key_arn: pulumi.Input[str]
    object_lock: ObjectLock
    archive: Archive


class LogBucket(pulumi.ComponentResource):
    """Logs locked with a default retention; reads of them recorded by server access logs."""

    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]
    access_log_bucket_name: pulumi.Output[str]

    def __init__(self, name: str, args: LogBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("org-trail:log_bucket:LogBucket", name, None, opts)
        org = args.organization
        access_logs = LockedBucket(
            f"{name}-access-logs",
            LockedBucketArgs(
                bucket_name=args.access_log_bucket_name,
                policy=access_log_bucket_policy(org, args.access_log_bucket_name, args.bucket_name),
                # Server access log delivery supports SSE-S3 only and no default retention.
                kms_key_arn=None,
                retention=None,
                archive=args.archive,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        logs = LockedBucket(
            name,
            LockedBucketArgs(
                bucket_name=args.bucket_name,
                policy=log_bucket_policy(org, args.bucket_name),
                kms_key_arn=args.kms_key_arn,
                retention=args.object_lock,
                archive=args.archive,
                access_log_bucket=access_logs.bucket_name,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.bucket_name = logs.bucket_name
        self.arn = logs.arn
        self.access_log_bucket_name = access_logs.bucket_name
        self.register_outputs(
            {
                "bucketName": self.bucket_name,
                "arn": self.arn,
                "accessLogBucketName": self.access_log_bucket_name,
            }
        )
