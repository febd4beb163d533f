"""LogBucket: the organization trail's central bucket and the bucket for server access logs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

from components.private_bucket import PrivateBucket, PrivateBucketArgs
from orgtrail.contract.config import Archive, ObjectLock, Organization
from orgtrail.contract.policy_documents import access_log_bucket_policy, log_bucket_policy


@dataclass
class LogBucketArgs:
    organization: Organization
    bucket_name: str
    access_log_bucket_name: str
    kms_key_arn: pulumi.Input[str]
    object_lock: ObjectLock
    archive: Archive
    # Other buckets of the stack whose server access logs land in the access-log bucket.
    other_logged_buckets: Sequence[str] = field(default_factory=tuple)


class LogBucket(pulumi.ComponentResource):
    """Logs locked with a default retention; every request to them in server access logs."""

    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]
    access_log_bucket_name: pulumi.Output[str]

    def __init__(self, name: str, args: LogBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("org-trail:log_bucket:LogBucket", name, None, opts)
        org = args.organization
        access_logs = PrivateBucket(
            # A new logical name: the first releases created this bucket locked, and a locked
            # bucket never receives access logs, so it is a different bucket, not an update.
            f"{name}-server-access-logs",
            PrivateBucketArgs(
                bucket_name=args.access_log_bucket_name,
                policy=access_log_bucket_policy(
                    org,
                    args.access_log_bucket_name,
                    [args.bucket_name, *args.other_logged_buckets],
                ),
                # Server access log delivery supports SSE-S3 only, and no Object Lock.
                kms_key_arn=None,
                object_lock=False,
                archive=args.archive,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        logs = PrivateBucket(
            name,
            PrivateBucketArgs(
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
