"""LockedBucket: a private, versioned, Object-Lock-enabled, encrypted S3 bucket."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.archive_rules import archive_rule, expiry_rule
from orgtrail.config import Archive, ObjectLock


@dataclass
class LockedBucketArgs:
    bucket_name: str
    policy: dict
    # None means SSE-S3, which server access log delivery requires of its target.
    kms_key_arn: pulumi.Input[str] | None = None
    # None enables Object Lock without a default retention (access-log targets must not have one).
    retention: ObjectLock | None = None
    archive: Archive | None = None
    # Expire objects (e.g. query results) after this many days; never shorter than retention.
    expire_after_days: int | None = None
    access_log_bucket: pulumi.Input[str] | None = None


class LockedBucket(pulumi.ComponentResource):
    """Object Lock is enabled at creation (it cannot be added later without AWS support)."""

    bucket: aws.s3.Bucket
    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: LockedBucketArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("org-trail:locked_bucket:LockedBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.bucket = aws.s3.Bucket(
            name,
            bucket=args.bucket_name,
            object_lock_enabled=True,
            force_destroy=False,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        bucket = self.bucket.bucket

        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        if args.retention is not None:
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=bucket,
                object_lock_enabled="Enabled",
                rule={
                    "default_retention": {
                        "mode": args.retention.mode,
                        "days": args.retention.days,
                    }
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
            )
        if args.kms_key_arn is None:
            default_encryption = {"sse_algorithm": "AES256"}
        else:
            default_encryption = {"sse_algorithm": "aws:kms", "kms_master_key_id": args.kms_key_arn}
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket,
            rules=[
                {
                    "apply_server_side_encryption_by_default": default_encryption,
                    # Cuts KMS requests (and their cost) by up to 99 %.
                    "bucket_key_enabled": args.kms_key_arn is not None,
                }
            ],
            opts=child,
        )
        rules = [archive_rule("archive", args.archive)] if args.archive is not None else []
        if args.expire_after_days is not None:
            rules.append(expiry_rule("expire", args.expire_after_days))
        if rules:
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-lifecycle",
                bucket=bucket,
                rules=rules,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
            )
        if args.access_log_bucket is not None:
            aws.s3.BucketLogging(
                f"{name}-access-logging",
                bucket=bucket,
                target_bucket=args.access_log_bucket,
                target_prefix=f"{args.bucket_name}/",
                opts=child,
            )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket,
            policy=json.dumps(args.policy),
            # Block first: there is never a moment where a policy could make the bucket public.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access_block]),
        )

        self.bucket_name = bucket
        self.arn = self.bucket.arn
        self.register_outputs({"bucketName": self.bucket_name, "arn": self.arn})
