"""Lifecycle rules that move logs to an archive class, shared by every bucket we touch."""

from __future__ import annotations

import pulumi_aws as aws

from orgtrail.contract.config import Archive

Rule = aws.s3.BucketLifecycleConfigurationRuleArgs

# Objects under 128 KB stay where they are (S3's default since September 2024, stated so a
# provider or console default cannot change it). CloudTrail and server access log files are
# mostly a few KB of gzip: each transition costs a request ($0.02-0.05 per 1,000), GLACIER_IR
# bills every object as at least 128 KB, and GLACIER/DEEP_ARCHIVE add 40 KB of index per
# object. For a 20 KB file that is more than decades of STANDARD storage at $0.023/GB-month,
# so archiving only the larger files is the cheaper rule, not a gap.
SMALL_OBJECTS_STAY = "all_storage_classes_128K"


def archive_rule(rule_id: str, archive: Archive, prefix: str = "") -> Rule:
    """One lifecycle rule: archive current objects, expire them only when asked.

    Expiration is never added implicitly: on a locked bucket S3 refuses to
    delete before retention ends anyway, and on legacy buckets logs are kept
    unless the operator chose otherwise. When they do expire, the versions
    that expiry leaves behind go a day later and are not archived first:
    S3 rejects a noncurrent expiration not later than a noncurrent
    transition (InvalidArgument; S3 user guide, "Lifecycle configuration
    elements"), and archiving data about to be deleted only buys the archive
    class's minimum-duration charge.
    """
    rule = Rule(
        id=rule_id,
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=prefix),
        transitions=[
            aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                days=archive.archive_after_days, storage_class=archive.storage_class
            )
        ],
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=7
        ),
    )
    if archive.expire_after_days is None:
        rule.noncurrent_version_transitions = [
            aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionTransitionArgs(
                noncurrent_days=archive.archive_after_days, storage_class=archive.storage_class
            )
        ]
    else:
        rule.expiration = aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
            days=archive.expire_after_days
        )
        rule.noncurrent_version_expiration = (
            aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=1
            )
        )
    return rule


def expiry_rule(rule_id: str, days: int) -> Rule:
    """Delete current objects after `days`, and old versions a day after they are replaced."""
    return Rule(
        id=rule_id,
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=days),
        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
            noncurrent_days=1
        ),
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=1
        ),
    )
