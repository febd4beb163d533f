"""PrivateBucket: a private, versioned, encrypted, TLS-only S3 bucket, locked unless it cannot be."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.archive_rules import SMALL_OBJECTS_STAY, archive_rule, expiry_rule
from orgtrail.contract.config import Archive, ObjectLock


@dataclass
class PrivateBucketArgs:
    bucket_name: str
    policy: dict
    # None means SSE-S3, which server access log delivery requires of its target.
    kms_key_arn: pulumi.Input[str] | None = None
    # Object Lock is enabled at creation (it cannot be added later without AWS support).
    # False only for a server access log target: "S3 buckets with Object Lock can't be used
    # as destination buckets for server access logs" (S3 user guide, Object Lock
    # considerations); PutBucketLogging is accepted and delivery then never happens.
    object_lock: bool = True
    # Default retention of every object (needs object_lock).
    retention: ObjectLock | None = None
    archive: Archive | None = None
    # Expire objects (e.g. query results) after this many days; never shorter than retention.
    expire_after_days: int | None = None
    access_log_bucket: pulumi.Input[str] | None = None


class PrivateBucket(pulumi.ComponentResource):
    """Every setting that keeps the data private or locked is `protect`ed.

    Deleting or replacing a BucketObjectLockConfiguration removes the default
    retention, a BucketPolicy the TLS-only deny, a public access block the
    block: a refactor that drops one must fail loudly, not unlock the bucket.
    """

    bucket: aws.s3.Bucket
    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: PrivateBucketArgs, opts: pulumi.ResourceOptions | None = None
    ):
        if args.retention is not None and not args.object_lock:
            raise ValueError(f"{args.bucket_name}: a default retention needs Object Lock")
        super().__init__(
            "org-trail:private_bucket:PrivateBucket",
            name,
            None,
            pulumi.ResourceOptions.merge(
                opts,
                pulumi.ResourceOptions(
                    aliases=[pulumi.Alias(type_="org-trail:locked_bucket:LockedBucket")]
                ),
            ),
        )
        kept = pulumi.ResourceOptions(parent=self, protect=True)

        self.bucket = aws.s3.Bucket(
            name,
            bucket=args.bucket_name,
            object_lock_enabled=args.object_lock,
            force_destroy=False,
            opts=kept,
        )
        bucket = self.bucket.bucket

        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=kept,
        )
        public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=kept,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=kept,
        )
        if args.retention is not None:
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=bucket,
                object_lock_enabled="Enabled",
                rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                    default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                        mode=args.retention.mode, days=args.retention.days
                    )
                ),
                opts=pulumi.ResourceOptions.merge(
                    kept, pulumi.ResourceOptions(depends_on=[versioning])
                ),
            )
        if args.kms_key_arn is None:
            default_encryption = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256"
            )
        else:
            default_encryption = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=args.kms_key_arn
            )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=default_encryption,
                    # Cuts KMS requests (and their cost) by up to 99 %.
                    bucket_key_enabled=args.kms_key_arn is not None,
                )
            ],
            opts=kept,
        )
        rules = [archive_rule("archive", args.archive)] if args.archive is not None else []
        if args.expire_after_days is not None:
            rules.append(expiry_rule("expire", args.expire_after_days))
        if rules:
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-lifecycle",
                bucket=bucket,
                rules=rules,
                transition_default_minimum_object_size=SMALL_OBJECTS_STAY,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
            )
        if args.access_log_bucket is not None:
            aws.s3.BucketLogging(
                f"{name}-access-logging",
                bucket=bucket,
                target_bucket=args.access_log_bucket,
                target_prefix=f"{args.bucket_name}/",
                opts=kept,
            )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket,
            policy=json.dumps(args.policy),
            # Block first: there is never a moment where a policy could make the bucket public.
            opts=pulumi.ResourceOptions.merge(
                kept, pulumi.ResourceOptions(depends_on=[public_access_block])
            ),
        )

        self.bucket_name = bucket
        self.arn = self.bucket.arn
        self.register_outputs({"bucketName": self.bucket_name, "arn": self.arn})
